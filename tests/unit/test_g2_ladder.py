"""G2 ladder stages 1–4 (提醒 → 约谈/警告 → 通报批评 → 公开通报) on one escalation, no I/O: given the
escalation's events, when a violation, a missed deadline or a person's command arrives, then the
step decided. Days cross the 12-month window, so an old warning no longer counts."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.schemas.compliance import Rule, ViolationDetected
from jianfu.events.schemas.escalation import (
    CirculationProposed,
    RectificationDeadlineMissed,
    ReminderIssued,
    WarningIssued,
    WarningTrigger,
)
from jianfu.events.working_days import WorkingCalendar
from jianfu.notifications.domain import ladder
from jianfu.notifications.domain.escalation import SCHEMA_VERSION, Escalation, escalation_id
from jianfu.notifications.handlers import InOrder

from tests.factories import DIRECTORY, POLICY

FIRE, OFFICE, BUREAU, LEADERS = "dept-fire", "supervision-office", "edu-bureau", "leading-group-office"
ISSUE = "dept-fire:UnauthorizedCampusEntry"
WORKING = WorkingCalendar.of(POLICY.working_days)
G2 = POLICY.escalation


def found(number: int) -> ViolationDetected:
    return ViolationDetected(
        violation_id=f"v-{number}", rule=Rule.UNAUTHORIZED_CAMPUS_ENTRY, clause="S3", responsible_org_id=FIRE,
        school_id="school-changsheng-primary", semester="2026-autumn", issue_key=ISSUE,
        summary="区消防大队未经认定进校园。", evidence={"report": f"r-{number}"})


class Log:
    """One escalation as the handler keeps it: each decided event applied with the next id."""

    def __init__(self) -> None:
        self.escalation = Escalation(escalation_id(FIRE, ISSUE))
        self.events: list[tuple[str, object]] = []

    def _next_id(self) -> str:
        return f"ev-{len(self.events) + 1}"

    def take(self, *events) -> list:
        for event in events:
            event_id = self._next_id()
            self.escalation.apply(event, event_id)
            self.events.append((event_id, event))
        return list(events)

    def _with_proposal(self, step) -> list:
        if step is None:
            return []
        decided = [step]
        if isinstance(step, WarningIssued):
            proposal = ladder.decide_internal_proposal(self.escalation, step, self._next_id(), G2)
            decided += [proposal] if proposal else []
        return self.take(*decided)

    def violation(self, number: int, day: date) -> list:
        return self._with_proposal(ladder.decide_step(self.escalation, found(number), day, DIRECTORY, G2, WORKING))

    def missed(self, step_event_id: str, rectify_by: date, day: date | None = None) -> list:
        missed = RectificationDeadlineMissed(deadline_id=f"d-{step_event_id}", escalation_id=self.escalation.escalation_id,
                                             responsible_org_id=FIRE, step_event_id=step_event_id, rectify_by=rectify_by)
        return self._with_proposal(ladder.decide_on_missed_deadline(
            self.escalation, missed, day or rectify_by + timedelta(days=1), DIRECTORY, G2, WORKING))

    def id_of(self, event) -> str:
        return next(event_id for event_id, stored in self.events if stored is event)

    def report_and_verify(self, day: date) -> None:
        reported = ladder.report(self.escalation, FIRE, f"rep-{len(self.events)}", "已停止未经认定的进校园活动并整改。", day)
        self.take(reported)
        self.take(ladder.verify(self.escalation, self.escalation.case.issuer_org_id, reported.report_id, day, ""))


def kinds(events) -> list[str]:
    return [type(event).__name__ for event in events]


def test_g2_the_first_violation_is_reminded_with_a_deadline_of_ten_working_days():
    log = Log()
    [reminder] = log.violation(1, date(2026, 3, 2))
    assert isinstance(reminder, ReminderIssued)
    assert (reminder.stage, reminder.issued_by_org_id, reminder.issued_on) == (1, OFFICE, date(2026, 3, 2))
    assert reminder.rectify_by == date(2026, 3, 16)  # two weeks of working days
    assert log.escalation.open_case.deadline == date(2026, 3, 16)


def test_g2_a_violation_already_handled_gets_nothing_new():
    log = Log()
    log.violation(1, date(2026, 3, 2))
    assert ladder.decide_step(log.escalation, found(1), date(2026, 3, 2), DIRECTORY, G2, WORKING) is None


def test_g2_a_repeat_within_twelve_months_is_warned_by_the_supervision_office():
    log = Log()
    log.violation(1, date(2025, 5, 6))
    [warning] = log.violation(2, date(2026, 5, 5))
    assert isinstance(warning, WarningIssued)
    assert (warning.trigger, warning.violation_id, warning.warnings_in_window) == (WarningTrigger.REPEAT, "v-2", 1)
    assert (warning.issued_by_org_id, warning.recipient, warning.rule) == (OFFICE, "principal_leader",
                                                                             "UnauthorizedCampusEntry")
    assert warning.rectify_by == WORKING.add_working_days(date(2026, 5, 5), 10)


def test_g2_a_repeat_after_twelve_months_is_only_reminded_again():
    log = Log()
    log.violation(1, date(2025, 5, 6))
    [reminder] = log.violation(2, date(2026, 5, 6))  # exactly twelve months later: outside the window
    assert isinstance(reminder, ReminderIssued)


def test_g2_three_warnings_in_the_window_propose_an_internal_circulation_with_the_third():
    log = Log()
    log.violation(1, date(2026, 1, 5))
    log.violation(2, date(2026, 2, 2))
    log.violation(3, date(2026, 3, 2))
    third, proposal = log.violation(4, date(2026, 4, 1))
    assert (third.warnings_in_window, isinstance(proposal, CirculationProposed)) == (3, True)
    assert proposal.stage == 3 and proposal.violation_ids == ("v-1", "v-2", "v-3", "v-4")
    assert proposal.warning_event_ids == ("ev-2", "ev-3", "ev-4")
    assert proposal.proposal_id.startswith(log.escalation.escalation_id + "-")
    assert ladder.escalation_of_proposal(proposal.proposal_id) == log.escalation.escalation_id
    # a fourth warning while the proposal is pending proposes nothing more
    assert kinds(log.violation(5, date(2026, 4, 20))) == ["WarningIssued"]


def test_g2_an_old_warning_falls_out_of_the_window_and_no_circulation_is_proposed():
    log = Log()
    log.violation(1, date(2025, 1, 6))
    log.violation(2, date(2025, 2, 3))   # warning 1, 2025-02-03
    log.violation(3, date(2025, 12, 1))  # warning 2
    [warning] = log.violation(4, date(2026, 2, 9))  # warning 1 is past twelve months now
    assert warning.warnings_in_window == 2


def test_g2_a_missed_deadline_escalates_to_a_warning_and_a_stale_one_does_nothing():
    log = Log()
    [reminder] = log.violation(1, date(2026, 3, 2))
    [warning] = log.missed(log.id_of(reminder), reminder.rectify_by)
    assert (warning.trigger, warning.missed_deadline, warning.violation_id) == (
        WarningTrigger.DEADLINE_MISSED, date(2026, 3, 16), None)
    assert warning.issued_on == date(2026, 3, 17)
    assert log.escalation.open_case.deadline_step == log.id_of(warning)
    assert log.missed(log.id_of(reminder), reminder.rectify_by) == []  # replaced by the warning's deadline


def test_g2_a_deadline_of_a_closed_case_does_nothing():
    log = Log()
    [reminder] = log.violation(1, date(2026, 3, 2))
    log.report_and_verify(date(2026, 3, 10))
    assert log.missed(log.id_of(reminder), reminder.rectify_by) == []


def test_g2_a_verified_rectification_closes_the_case_and_a_later_violation_opens_a_new_one():
    log = Log()
    log.violation(1, date(2026, 3, 2))
    log.report_and_verify(date(2026, 3, 10))
    assert log.escalation.open_case is None and log.escalation.case.number == 1
    [warning] = log.violation(2, date(2026, 6, 1))  # still a repeat within twelve months (any case)
    assert isinstance(warning, WarningIssued)
    assert (log.escalation.open_case.number, log.escalation.open_case.violation_ids) == (2, ["v-2"])


def three_warnings(log: Log) -> CirculationProposed:
    log.violation(1, date(2026, 1, 5))
    log.violation(2, date(2026, 2, 2))
    log.violation(3, date(2026, 3, 2))
    return log.violation(4, date(2026, 4, 1))[1]


def test_g2_a_declined_proposal_lets_a_later_warning_propose_again():
    log = Log()
    proposal = three_warnings(log)
    log.take(ladder.decline(log.escalation, proposal.proposal_id, LEADERS, "张三", date(2026, 4, 3), "先行约谈"))
    with pytest.raises(Refused) as refused:
        ladder.decline(log.escalation, proposal.proposal_id, LEADERS, None, date(2026, 4, 3), "again")
    assert refused.value.code == ErrorCode.INVALID_STATE
    warning, again = log.violation(5, date(2026, 4, 20))
    assert again.stage == 3 and again.proposal_id != proposal.proposal_id
    assert warning.warnings_in_window == 4


def test_g2_a_missed_deadline_after_a_confirmed_internal_circulation_proposes_a_public_one_once():
    log = Log()
    proposal = three_warnings(log)
    [confirmed] = log.take(ladder.confirm(log.escalation, proposal.proposal_id, "大教减负通〔2026〕1号", 2026, LEADERS,
                                          "张三", date(2026, 4, 3), "", G2, WORKING))
    assert confirmed.rectify_by == WORKING.add_working_days(date(2026, 4, 3), 10)
    [public] = log.missed(log.id_of(confirmed), confirmed.rectify_by)
    assert (public.stage, public.violation_ids) == (4, ("v-1", "v-2", "v-3", "v-4"))
    assert log.missed(log.id_of(confirmed), confirmed.rectify_by) == []  # once per case


def test_g2_a_proposal_whose_case_closed_meanwhile_cannot_be_confirmed_only_declined():
    log = Log()
    proposal = three_warnings(log)
    log.report_and_verify(date(2026, 4, 2))
    with pytest.raises(Refused) as refused:
        ladder.confirm(log.escalation, proposal.proposal_id, "大教减负通〔2026〕1号", 2026, LEADERS, None,
                       date(2026, 4, 3), "", G2, WORKING)
    assert refused.value.code == ErrorCode.INVALID_STATE
    assert ladder.decline(log.escalation, proposal.proposal_id, LEADERS, None, date(2026, 4, 3), "已整改").stage == 3


def test_g2_confirmation_numbers_fill_the_format_in_order_of_the_year():
    assert [ladder.document_number(G2, 2026, n) for n in (1, 2)] == ["大教减负通〔2026〕1号", "大教减负通〔2026〕2号"]


def test_g2_rectification_is_reported_by_the_unit_and_reviewed_by_the_issuer_of_the_latest_step():
    log = Log()
    log.violation(1, date(2026, 3, 2))
    with pytest.raises(Refused) as refused:
        ladder.report(log.escalation, "dept-health", "rep", "已整改完毕并建立制度。", date(2026, 3, 3))
    assert refused.value.code == ErrorCode.NOT_FOUND  # another unit's case answers as none
    [reported] = log.take(ladder.report(log.escalation, FIRE, "rep-1", "已整改完毕并建立制度。", date(2026, 3, 3)))
    with pytest.raises(Refused) as refused:
        ladder.verify(log.escalation, BUREAU, "rep-1", date(2026, 3, 4), "")
    assert refused.value.code == ErrorCode.FORBIDDEN  # a department's step is the supervision office's
    with pytest.raises(Refused) as refused:
        ladder.verify(log.escalation, OFFICE, "rep-unknown", date(2026, 3, 4), "")
    assert refused.value.code == ErrorCode.NOT_FOUND
    log.take(ladder.reject(log.escalation, OFFICE, reported.report_id, date(2026, 3, 4), "整改材料不全"))
    with pytest.raises(Refused) as refused:
        ladder.verify(log.escalation, OFFICE, "rep-1", date(2026, 3, 5), "")
    assert refused.value.code == ErrorCode.INVALID_STATE


def test_g2_commands_on_an_unknown_escalation_or_proposal_are_not_found():
    for call in (lambda: ladder.known_escalation_id("esc-nope"), lambda: ladder.escalation_of_proposal("x" * 53),
                 lambda: ladder.report(Escalation(escalation_id(FIRE, ISSUE)), FIRE, "r", "已整改完毕。。。", date(2026, 1, 5))):
        with pytest.raises(Refused) as refused:
            call()
        assert refused.value.code == ErrorCode.NOT_FOUND


def test_g2_the_snapshot_document_reads_back_the_same_state():
    log = Log()
    proposal = three_warnings(log)
    log.take(ladder.decline(log.escalation, proposal.proposal_id, LEADERS, None, date(2026, 4, 3), "先行约谈"))
    log.take(ladder.report(log.escalation, FIRE, "rep-1", "已整改完毕并建立制度。", date(2026, 4, 5)))
    document = log.escalation.to_document()
    back = Escalation.from_document(log.escalation.escalation_id, document)
    assert back.to_document() == document and SCHEMA_VERSION == 2
    assert (back.open_case, back.warnings, back.proposals) == (log.escalation.open_case, log.escalation.warnings,
                                                               log.escalation.proposals)


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2026, 3, 31), 1, date(2026, 2, 28)), (date(2026, 1, 15), 12, date(2025, 1, 15)),
    (date(2024, 2, 29), 12, date(2023, 2, 28))])
def test_g2_the_window_starts_the_same_date_months_earlier(day, months, expected):
    assert ladder.months_before(day, months) == expected


async def test_g2_one_escalations_causes_handled_in_one_batch_take_their_turns_in_log_order():
    """The consumer runs a batch at once; the ladder depends on order (first reminded, then warned)."""
    gate, taken = InOrder(), []

    async def handle(sequence: int, key: str = "esc-a") -> None:
        async with gate.turn(key, sequence):
            await asyncio.sleep(0.001 * (10 - sequence))  # the later a cause, the faster it would finish
            taken.append((key, sequence))

    await asyncio.gather(*(handle(s) for s in (7, 3, 9, 5)), handle(4, "esc-b"))
    assert [s for key, s in taken if key == "esc-a"] == [3, 5, 7, 9]
    assert gate.running == {}
