"""G2 read model folded with no I/O: the cases, each escalation's history, circulations by year
and alert deliveries, batch by batch through the rows each batch names (``Need``), as the
projector does. Each test names its clause (G2)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from jianfu.compliance.domain.folding import Fact
from jianfu.compliance.domain.g2_rules import escalation_of
from jianfu.compliance.domain.g2_view import CASES, CIRCULATIONS, DELIVERIES, G2_VIEW, HISTORY
from jianfu.compliance.read_model import LIVE, VIEW
from jianfu.events.schemas.compliance import RULE_CLAUSE, Rule, ViolationDetected
from jianfu.events.schemas.escalation import (
    AlertDelivered,
    AlertDeliveryFailed,
    CirculationConfirmed,
    CirculationDeclined,
    CirculationNumberAssigned,
    CirculationProposed,
    DeliveryChannel,
    RectificationDeadlineMissed,
    RectificationReported,
    RectificationVerified,
    ReminderIssued,
    WarningIssued,
    WarningTrigger,
)
from jianfu.events.settings import BUSINESS_ZONE
from jianfu.notifications.domain.escalation import escalation_id

from tests.memory_folds import InMemoryTables

UNIT, RULE = "dept-publicity", Rule.UNAUTHORIZED_CAMPUS_ENTRY
ISSUE = f"{UNIT}:{RULE.value}"
ESCALATION = escalation_of(UNIT, ISSUE)
DAY = date(2026, 9, 1)


class View(InMemoryTables):
    """The view's tables in memory, folded batch by batch through the rows each batch needs."""

    def __init__(self) -> None:
        super().__init__(G2_VIEW)

    def fold(self, *facts: tuple[str, object], batch: int = 1000) -> View:
        self.fold_facts([self.fact(aggregate, data) for aggregate, data in facts], batch)
        return self

    def fact(self, aggregate: str, data) -> Fact:
        sequence = next(self.sequence)
        moment = datetime.combine(DAY, time(9), tzinfo=BUSINESS_ZONE).astimezone(UTC)
        return Fact(sequence, f"event-{sequence}", type(data).__name__, aggregate, moment, "correlation", data)

    def case(self) -> dict:
        return self.tables[CASES][(ESCALATION,)]


def violation(n: int) -> tuple[str, ViolationDetected]:
    found = f"v-{n:032d}"
    return found, ViolationDetected(violation_id=found, rule=RULE, clause=RULE_CLAUSE[RULE], responsible_org_id=UNIT,
                                    school_id="school-1", issue_key=ISSUE, summary="违规", evidence={"report_id": str(n)})


def reminder(n: int = 1, rectify_by: date | None = date(2026, 9, 15)) -> tuple[str, ReminderIssued]:
    return ESCALATION, ReminderIssued(violation_id=f"v-{n:032d}", issue_key=ISSUE, responsible_org_id=UNIT,
                                      issued_by_org_id="supervision-office", recipient="unit_head", summary="提醒",
                                      rectify_by=rectify_by, issued_on=DAY)


def warning(count: int, rectify_by: date = date(2026, 10, 1)) -> tuple[str, WarningIssued]:
    return ESCALATION, WarningIssued(escalation_id=ESCALATION, responsible_org_id=UNIT, issue_key=ISSUE,
                                     rule=RULE.value, trigger=WarningTrigger.REPEAT, warnings_in_window=count,
                                     issued_by_org_id="supervision-office", recipient="principal_leader",
                                     issued_on=DAY, rectify_by=rectify_by, summary="警告")


def proposed(proposal: str = "p-1", on: date = DAY) -> tuple[str, CirculationProposed]:
    return ESCALATION, CirculationProposed(proposal_id=proposal, escalation_id=ESCALATION, responsible_org_id=UNIT,
                                           issue_key=ISSUE, rule=RULE.value, stage=3, violation_ids=("v-1",),
                                           warning_event_ids=("event-3",), proposed_on=on, summary="拟通报")


def numbered(proposal: str = "p-1", number: int = 1, year: int = 2026) -> tuple[str, CirculationNumberAssigned]:
    return str(year), CirculationNumberAssigned(year=year, number=number, proposal_id=proposal, escalation_id=ESCALATION,
                                                document_number=f"大教减负通〔{year}〕{number}号")


def confirmed(proposal: str = "p-1", number: int = 1) -> tuple[str, CirculationConfirmed]:
    return ESCALATION, CirculationConfirmed(proposal_id=proposal, escalation_id=ESCALATION, responsible_org_id=UNIT,
                                            stage=3, document_number=f"大教减负通〔2026〕{number}号", year=2026,
                                            confirmed_by_org_id="leading-group-office", confirmed_by_person="张三",
                                            confirmed_on=DAY, rectify_by=date(2026, 10, 20))


def verified() -> tuple[str, RectificationVerified]:
    return ESCALATION, RectificationVerified(report_id="r-1", escalation_id=ESCALATION,
                                             verified_by_org_id="supervision-office", verified_on=DAY)


def delivered(alert: str = "a-1", channel: DeliveryChannel = DeliveryChannel.WEBHOOK, attempts: int = 1):
    return alert, AlertDelivered(alert_id=alert, org_id=UNIT, channel=channel, target="hooks.example", attempts=attempts,
                                 delivered_at=datetime(2026, 9, 1, 2, tzinfo=UTC))


def failed(attempt: int, final: bool = False, alert: str = "a-1", channel: DeliveryChannel = DeliveryChannel.WEBHOOK):
    return alert, AlertDeliveryFailed(alert_id=alert, org_id=UNIT, channel=channel, target="hooks.example",
                                      attempt=attempt, error="503", final=final,
                                      failed_at=datetime(2026, 9, 1, 1, attempt, tzinfo=UTC))


def test_g2_the_escalation_of_a_violation_is_the_ladders():
    """G2: compliance finds a violation's escalation by the ladder's own formula."""
    assert escalation_of(UNIT, ISSUE) == escalation_id(UNIT, ISSUE)


def test_g2_a_case_opens_rises_through_the_stages_and_closes():
    """G2: the reminder opens the case (stage 1), a warning reaches 2 with its count, a confirmed circulation 3;
    the verification closes it and its deadline with it."""
    view = View().fold(violation(1), reminder(1))
    case = view.case()
    assert (case["open"], case["stage"], case["rule"], case["violations"], case["rectify_by"]) == (
        True, 1, RULE.value, 1, date(2026, 9, 15))
    view.fold(violation(2), warning(1), proposed(), numbered(), confirmed())
    case = view.case()
    assert (case["stage"], case["warnings_in_window"], case["violations"], case["rectify_by"]) == (
        3, 1, 2, date(2026, 10, 20))
    view.fold(verified())
    assert (view.case()["open"], view.case()["rectify_by"], view.case()["case_violations"]) == (False, None, 0)


def test_g2_a_violation_after_a_verification_opens_a_new_case_from_stage_1():
    """G2: a later violation opens a new case: the stage starts again, the cases count."""
    view = View().fold(violation(1), reminder(1), warning(1), verified(), violation(2), reminder(2))
    case = view.case()
    assert (case["open"], case["stage"], case["cases"], case["violations"], case["case_violations"]) == (
        True, 1, 2, 2, 1)


def test_g2_a_missed_deadline_is_counted_and_in_the_history():
    """G2: the sweep's RectificationDeadlineMissed shows in the case and in its history."""
    missed = RectificationDeadlineMissed(deadline_id="dl-1", escalation_id=ESCALATION, responsible_org_id=UNIT,
                                         step_event_id="event-2", rectify_by=date(2026, 9, 15))
    view = View().fold(violation(1), reminder(1), ("dl-1", missed))
    assert view.case()["deadlines_missed"] == 1
    assert [row["event_type"] for row in view.tables[HISTORY].values()][-1] == "RectificationDeadlineMissed"


def test_g2_the_history_holds_every_event_in_log_order_with_the_evidence():
    """G2: each step and what led to it, violations with their evidence, in log order."""
    report = RectificationReported(report_id="r-1", escalation_id=ESCALATION, responsible_org_id=UNIT,
                                   report="已整改完毕，特此报告。", reported_on=DAY)
    view = View().fold(violation(1), reminder(1), violation(2), warning(1), (ESCALATION, report), verified())
    rows = [view.tables[HISTORY][key] for key in sorted(view.tables[HISTORY])]
    assert [row["event_type"] for row in rows] == ["ViolationDetected", "ReminderIssued", "ViolationDetected",
                                                   "WarningIssued", "RectificationReported", "RectificationVerified"]
    assert rows[0]["data"]["evidence"] == {"report_id": "1"} and [row["stage"] for row in rows] == [
        None, 1, None, 2, None, None]


def test_g2_circulations_by_year_numbered_confirmed_or_declined():
    """G2: a proposal is numbered by the year's register and confirmed with its document number, or declined."""
    declined = CirculationDeclined(proposal_id="p-2", escalation_id=ESCALATION, stage=3,
                                   declined_by_org_id="leading-group-office", declined_on=DAY, reason="证据不足")
    view = View().fold(proposed(), numbered(), confirmed(), proposed("p-2"), (ESCALATION, declined))
    first, second = view.tables[CIRCULATIONS][("p-1",)], view.tables[CIRCULATIONS][("p-2",)]
    assert (first["year"], first["number"], first["document_number"], first["status"], first["decided_by_person"]) == (
        2026, 1, "大教减负通〔2026〕1号", "confirmed", "张三")
    assert (second["status"], second["reason"], second["number"]) == ("declined", "证据不足", None)


def test_g2_alert_deliveries_per_alert_and_channel():
    """G2: failed attempts are counted, success is delivered, the final failure is failed; channels apart."""
    view = View().fold(failed(1), failed(2), delivered(attempts=3), failed(1, alert="a-2"),
                       failed(2, final=True, alert="a-2"), delivered(channel=DeliveryChannel.NATS))
    rows = view.tables[DELIVERIES]
    assert (rows[("a-1", "webhook")]["status"], rows[("a-1", "webhook")]["failed_attempts"],
            rows[("a-1", "webhook")]["attempts"]) == ("delivered", 2, 3)
    assert (rows[("a-2", "webhook")]["status"], rows[("a-2", "webhook")]["last_error"]) == ("failed", "503")
    assert rows[("a-1", "nats")]["status"] == "delivered"


def log() -> list:
    return [violation(1), reminder(1), failed(1), violation(2), warning(1), delivered(attempts=2), violation(3),
            warning(2), proposed(), numbered(), confirmed(), failed(1, alert="a-2"), verified(), violation(4),
            reminder(4), proposed("p-2"), failed(2, final=True, alert="a-2")]


@pytest.mark.parametrize("size", [1, 2, 5])
def test_g2_a_batch_of_n_equals_one_at_a_time(size):
    """G2: folding the log in batches of any size gives the same rows as one event at a time."""
    assert View().fold(*log(), batch=size).tables == View().fold(*log(), batch=1000).tables


def test_g2_the_view_is_part_of_the_read_model_with_tables_declared():
    """G2: VIEW includes the G2 view, and LIVE declares its tables."""
    assert set(G2_VIEW.keys) <= set(VIEW.keys) == set(LIVE.keys)
    assert {"ReminderIssued", "AlertDelivered", "RectificationDeadlineMissed"} <= set(VIEW.on)
