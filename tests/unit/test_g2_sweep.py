"""G2 rectification deadline sweep of the detector, folded with no I/O: facts go through the
sweep's own projection in batches, each batch loading only the rows its facts name (``Need``) from
an in-memory copy of the tables, as the projector does. Each test names its clause (G2)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from jianfu.compliance.detection import ViolationRecorder, decision_id, detection
from jianfu.compliance.domain.folding import Fact, Projection
from jianfu.compliance.domain.g2_detection import g2_detection
from jianfu.compliance.domain.g2_rules import deadline_id
from jianfu.compliance.read_model import DETECTOR
from jianfu.events.schemas.days import DAYS_AGGREGATE_ID, DayEnded
from jianfu.events.schemas.escalation import (
    CirculationConfirmed,
    RectificationDeadlineMissed,
    RectificationVerified,
    ReminderIssued,
    WarningIssued,
    WarningTrigger,
)
from jianfu.events.settings import BUSINESS_ZONE, Settings

from tests.factories import POLICY
from tests.memory_folds import InMemoryTables

UNIT = "dept-publicity"
ESCALATION, OTHER = "esc-" + "a" * 32, "esc-" + "b" * 32
ISSUED = date(2026, 9, 1)
DUE = date(2026, 9, 15)


class Sweep(InMemoryTables):
    """The sweep's tables in memory, folded batch by batch through the rows each batch needs."""

    def __init__(self, projection: Projection | None = None) -> None:
        super().__init__(projection or g2_detection(POLICY))

    def fold(self, *facts: tuple[str, object], batch: int = 1000) -> list:
        """Fold ``(escalation_id, event)`` pairs in batches of ``batch``; the decisions, in order."""
        return self.fold_facts([self.fact(aggregate, data) for aggregate, data in facts], batch)

    def fact(self, aggregate: str, data) -> Fact:
        sequence = next(self.sequence)
        moment = datetime.combine(date(2026, 9, 1), time(9), tzinfo=BUSINESS_ZONE).astimezone(UTC)
        return Fact(sequence, f"event-{sequence}", type(data).__name__, aggregate, moment, "correlation", data)


def reminder(rectify_by: date | None = DUE, issued_on: date | None = ISSUED) -> tuple[str, ReminderIssued]:
    return ESCALATION, ReminderIssued(violation_id="v-1", issue_key=f"{UNIT}:X", responsible_org_id=UNIT,
                                      issued_by_org_id="supervision-office", recipient="unit_head", summary="提醒",
                                      rectify_by=rectify_by, issued_on=issued_on)


def warning(rectify_by: date, escalation: str = ESCALATION) -> tuple[str, WarningIssued]:
    return escalation, WarningIssued(escalation_id=escalation, responsible_org_id=UNIT, issue_key=f"{UNIT}:X",
                                     rule="X", trigger=WarningTrigger.REPEAT, violation_id="v-2", warnings_in_window=1,
                                     issued_by_org_id="supervision-office", recipient="principal_leader",
                                     issued_on=rectify_by - timedelta(days=14), rectify_by=rectify_by, summary="警告")


def confirmed(rectify_by: date) -> tuple[str, CirculationConfirmed]:
    return ESCALATION, CirculationConfirmed(proposal_id="p-1", escalation_id=ESCALATION, responsible_org_id=UNIT,
                                            stage=3, document_number="大教减负通〔2026〕1号", year=2026,
                                            confirmed_by_org_id="leading-group-office", confirmed_on=ISSUED,
                                            rectify_by=rectify_by)


def verified() -> tuple[str, RectificationVerified]:
    return ESCALATION, RectificationVerified(report_id="r-1", escalation_id=ESCALATION,
                                             verified_by_org_id="supervision-office", verified_on=DUE, closed_deadline=DUE)


def days(first: date, last: date) -> list[tuple[str, DayEnded]]:
    return [(DAYS_AGGREGATE_ID, DayEnded(day=first + timedelta(days=n))) for n in range((last - first).days + 1)]


def missed(emitted) -> list[RectificationDeadlineMissed]:
    return [e.decision for e in emitted]


def test_g2_the_deadline_is_missed_on_exactly_its_day_once():
    """G2: the sweep decides RectificationDeadlineMissed on the DayEnded of rectify_by, not before, not again."""
    sweep = Sweep()
    sweep.fold(reminder())
    assert sweep.fold(*days(ISSUED, DUE - timedelta(days=1)), batch=5) == []
    [decided] = sweep.fold(*days(DUE, DUE + timedelta(days=20)), batch=3)
    assert decided.cause.data == DayEnded(day=DUE)
    step_event_id = "event-1"
    assert decided.decision == RectificationDeadlineMissed(
        deadline_id=deadline_id(ESCALATION, step_event_id), escalation_id=ESCALATION, responsible_org_id=UNIT,
        step_event_id=step_event_id, rectify_by=DUE)


def test_g2_a_later_step_supersedes_the_deadline_and_sets_its_own():
    """G2: a warning replaces the reminder's deadline: only the warning's is missed, on its day."""
    later = DUE + timedelta(days=10)
    sweep = Sweep()
    decided = sweep.fold(reminder(), *days(ISSUED, DUE - timedelta(days=3)), warning(later),
                         *days(DUE - timedelta(days=2), later + timedelta(days=5)), batch=4)
    [only] = missed(decided)
    assert (only.rectify_by, only.step_event_id) == (later, f"event-{2 + (DUE - ISSUED).days - 2}")


def test_g2_a_confirmed_circulation_sets_a_new_deadline():
    """G2: CirculationConfirmed's rectify_by is the case's deadline from then on."""
    later = DUE + timedelta(days=30)
    sweep = Sweep()
    decided = sweep.fold(reminder(), confirmed(later), *days(ISSUED, later))
    assert [m.rectify_by for m in missed(decided)] == [later]


def test_g2_a_verified_rectification_closes_the_deadline():
    """G2: RectificationVerified closes the case: its deadline no longer falls due."""
    sweep = Sweep()
    assert sweep.fold(reminder(), *days(ISSUED, DUE - timedelta(days=1)), verified(),
                      *days(DUE, DUE + timedelta(days=30))) == []


def test_g2_a_new_case_after_a_verification_has_its_deadline_again():
    """G2: a verified case's escalation opens a new case on a later violation: its step has a deadline again."""
    later = DUE + timedelta(days=40)
    sweep = Sweep()
    decided = sweep.fold(reminder(), verified(), reminder(rectify_by=later), *days(ISSUED, later))
    assert [m.rectify_by for m in missed(decided)] == [later]


def test_g2_a_step_already_past_its_deadline_when_folded_is_decided_at_once():
    """G2: a step whose rectify_by is at or before the last DayEnded is missed at once, caused by the step."""
    sweep = Sweep()
    sweep.fold(*days(ISSUED, DUE))
    [decided] = sweep.fold(reminder())
    assert decided.cause.event_type == "ReminderIssued" and decided.decision.rectify_by == DUE
    assert sweep.fold(*days(DUE + timedelta(days=1), DUE + timedelta(days=9))) == []


def test_g2_old_reminders_without_rectify_by_have_no_deadline():
    """G2: reminders from before issue 11 carry no rectify_by: nothing falls due for them."""
    sweep = Sweep()
    assert sweep.fold(reminder(rectify_by=None, issued_on=None), *days(ISSUED, ISSUED + timedelta(days=60))) == []


def test_g2_escalations_are_swept_each_on_its_own():
    """G2: two escalations due the same day are each missed once; a verification of one leaves the other."""
    sweep = Sweep()
    decided = sweep.fold(reminder(), warning(DUE, OTHER), verified(), *days(ISSUED, DUE))
    assert [m.escalation_id for m in missed(decided)] == [OTHER]


def history() -> list:
    later, last = DUE + timedelta(days=12), DUE + timedelta(days=50)
    return [reminder(), warning(DUE, OTHER), *days(ISSUED, DUE - timedelta(days=1)), warning(later),
            *days(DUE, later + timedelta(days=1)), confirmed(DUE), warning(last, OTHER), verified(),
            *days(later + timedelta(days=2), last + timedelta(days=3))]


@pytest.mark.parametrize("size", [1, 2, 7, 1000])
def test_g2_any_batching_gives_the_same_decisions(size):
    """G2: one event per batch or all in one, or a fresh sweep over the same log: the same decisions, same causes."""
    def run(batch: int) -> list:
        return [(e.decision, e.cause.event_id) for e in Sweep().fold(*history(), batch=batch)]

    expected = run(1000)
    assert len(expected) == 4  # OTHER's two, the warning's, the confirmed circulation's at once
    assert run(size) == expected


def test_g2_a_missed_deadline_is_recorded_as_the_first_event_of_its_own_aggregate():
    """G2: RectificationDeadlineMissed is appended like a violation: aggregate rectification_deadline.<deadline_id>."""
    sweep = Sweep()
    [decided] = sweep.fold(reminder(), *days(ISSUED, DUE))
    recorder = ViolationRecorder(store=None, clock=type("Clock", (), {"now": staticmethod(lambda: datetime.now(UTC))}))
    envelope, again = recorder.envelope(decided), recorder.envelope(decided)
    assert (envelope.aggregate_type, envelope.aggregate_id) == ("rectification_deadline", decided.decision.deadline_id)
    assert envelope.event_id == again.event_id and decision_id(decided.decision) == decided.decision.deadline_id
    assert envelope.causation_id == decided.cause.event_id


def test_g2_the_services_detector_sweeps_with_tables_declared():
    """G2: detection(settings) includes the sweep, and DETECTOR declares its tables."""
    combined = detection(Settings())
    assert {"ReminderIssued", "WarningIssued", "CirculationConfirmed", "RectificationVerified"} <= set(combined.on)
    assert set(combined.keys) == set(DETECTOR.keys)


def test_g2_a_step_whose_unit_holds_a_nul_is_refused_so_the_projector_quarantines_it():
    """G2: a NUL in a stored id is not carried into the log."""
    aggregate, data = reminder()
    with pytest.raises(ValueError, match="NUL"):
        Sweep().fold((aggregate, data.model_copy(update={"responsible_org_id": "dept-\x00x"})))
