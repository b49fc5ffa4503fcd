"""The G2 read model as a batch fold: the escalation cases, each escalation's history, the
circulations by year and the deliveries of alerts.

It records, it never decides: a case's stage, whether it is open and its deadline are what the
ladder's events say (``notifications``); a missed deadline is the sweep's decision
(``RectificationDeadlineMissed``). A case opens with the first step after none or after a
verification, and closes with ``RectificationVerified``. Every column comes from an event, so a
rebuild equals the live tables.

- ``g2_cases`` (by escalation): unit, issue, rule, the stage reached in the current case, open or
  closed, the current deadline, violations (in all and in the case), warnings within the window
  (as the last warning counted them), deadlines missed, cases opened;
- ``g2_history`` (by escalation and log sequence): every event that led to a step, the
  violations with their evidence, as the event's data;
- ``g2_circulations`` (by proposal): year, register number and document number, unit, stage,
  proposed, confirmed or declined;
- ``g2_alert_deliveries`` (by alert and channel): delivered, failed attempts, final failure.
"""

from __future__ import annotations

from jianfu.compliance.domain.folding import Batch, Fact, Need, On, Projection, Row, utc
from jianfu.compliance.domain.g2_rules import escalation_of
from jianfu.events.schemas.compliance import ViolationDetected
from jianfu.events.schemas.escalation import (
    AlertDelivered,
    AlertDeliveryFailed,
    CirculationConfirmed,
    CirculationDeclined,
    CirculationNumberAssigned,
    CirculationProposed,
    RectificationDeadlineMissed,
    RectificationRejected,
    RectificationReported,
    RectificationVerified,
    ReminderIssued,
    WarningIssued,
)

CASES, HISTORY, CIRCULATIONS, DELIVERIES = "g2_cases", "g2_history", "g2_circulations", "g2_alert_deliveries"
KEYS = {
    CASES: ("escalation_id",),
    HISTORY: ("escalation_id", "sequence"),
    CIRCULATIONS: ("proposal_id",),
    DELIVERIES: ("alert_id", "channel"),
}
DELIVERED, FAILING, FAILED = "delivered", "failing", "failed"


def stage_of(data: object) -> int | None:
    """The stage an event of the ladder reaches (a proposal reaches nothing until it is confirmed)."""
    if isinstance(data, ReminderIssued):
        return data.stage
    if isinstance(data, WarningIssued):
        return 2
    if isinstance(data, CirculationConfirmed):
        return data.stage
    return None


def escalation_of_fact(fact: Fact) -> str:
    """The escalation an event belongs to: its aggregate, or the one it names."""
    data = fact.data
    if isinstance(data, ViolationDetected):
        return escalation_of(data.responsible_org_id, data.issue_key)
    if isinstance(data, (RectificationDeadlineMissed, CirculationNumberAssigned)):
        return data.escalation_id
    return fact.aggregate_id


def _history(batch: Batch, fact: Fact, escalation_id: str) -> None:
    batch[HISTORY].put({"escalation_id": escalation_id, "sequence": fact.sequence, "event_id": fact.event_id,
                        "event_type": fact.event_type, "occurred_at": utc(fact.occurred_at),
                        "stage": stage_of(fact.data), "data": fact.data.model_dump(mode="json")})


def _new_case(escalation_id: str, responsible_org_id: str, issue_key: str, fact: Fact) -> dict:
    return {"escalation_id": escalation_id, "responsible_org_id": responsible_org_id, "issue_key": issue_key,
            "rule": issue_key.rpartition(":")[2], "stage": 0, "open": False, "cases": 0, "rectify_by": None,
            "violations": 0, "case_violations": 0, "warnings_in_window": 0, "deadlines_missed": 0,
            "first_sequence": fact.sequence, "sequence": fact.sequence}


# Every event of an escalation: its history, and what it does to the case.

def _escalation_needs(fact: Fact):
    escalation_id = escalation_of_fact(fact)
    yield Need(CASES, (escalation_id,))
    if isinstance(fact.data, (CirculationProposed, CirculationConfirmed, CirculationDeclined,
                              CirculationNumberAssigned)):
        yield Need(CIRCULATIONS, (fact.data.proposal_id,))


def _escalation_event(batch: Batch, fact: Fact) -> None:
    escalation_id, data = escalation_of_fact(fact), fact.data
    _history(batch, fact, escalation_id)
    case = batch[CASES].get(escalation_id)
    if case is None:
        unit = getattr(data, "responsible_org_id", None)
        issue_key = getattr(data, "issue_key", None)
        if unit is None or issue_key is None:
            return  # a record of an escalation this view never saw opened: its history only
        case = _new_case(escalation_id, unit, issue_key, fact)
    case = {**case, **_case_changes(case, data), "sequence": fact.sequence}
    if isinstance(data, ViolationDetected):
        case["rule"] = data.rule.value
    elif isinstance(data, (WarningIssued, CirculationProposed)):
        case["rule"] = data.rule
    batch[CASES].put(case)
    _circulation(batch, fact)


def _case_changes(case: Row, data: object) -> dict:
    """What an event does to the case: a step opens one if none is open, a verification closes it."""
    if isinstance(data, ViolationDetected):
        return {"violations": case["violations"] + 1, "case_violations": case["case_violations"] + 1}
    if isinstance(data, RectificationVerified):  # violations from now on are the next case's
        return {"open": False, "rectify_by": None, "case_violations": 0}
    if isinstance(data, RectificationDeadlineMissed):
        return {"deadlines_missed": case["deadlines_missed"] + 1}
    stage = stage_of(data)
    if stage is None:
        return {}
    changes: dict = {"rectify_by": data.rectify_by, "stage": max(case["stage"], stage)}
    if not case["open"]:  # a new case: its violations are those since the last one closed
        changes.update(open=True, cases=case["cases"] + 1, stage=stage)
    if isinstance(data, WarningIssued):
        changes["warnings_in_window"] = data.warnings_in_window
    return changes


def _circulation(batch: Batch, fact: Fact) -> None:
    """A year's circulations: proposed, numbered by the register, confirmed or declined."""
    data = fact.data
    if isinstance(data, CirculationProposed):
        if batch[CIRCULATIONS].get(data.proposal_id) is None:
            batch[CIRCULATIONS].put({
                "proposal_id": data.proposal_id, "year": data.proposed_on.year, "number": None,
                "document_number": None, "escalation_id": data.escalation_id,
                "responsible_org_id": data.responsible_org_id, "issue_key": data.issue_key, "rule": data.rule,
                "stage": data.stage, "status": "proposed", "proposed_on": data.proposed_on, "decided_on": None,
                "decided_by_org_id": None, "decided_by_person": None, "reason": None,
                "proposed_sequence": fact.sequence, "sequence": fact.sequence})
        return
    if not isinstance(data, (CirculationConfirmed, CirculationDeclined, CirculationNumberAssigned)):
        return
    row = batch[CIRCULATIONS].get(data.proposal_id)
    if row is None:
        return  # a decision on a proposal this view never saw
    if isinstance(data, CirculationNumberAssigned):
        changes = {"year": data.year, "number": data.number, "document_number": data.document_number}
    elif isinstance(data, CirculationConfirmed):
        changes = {"year": data.year, "document_number": data.document_number, "status": "confirmed",
                   "decided_on": data.confirmed_on, "decided_by_org_id": data.confirmed_by_org_id,
                   "decided_by_person": data.confirmed_by_person}
    else:
        changes = {"status": "declined", "decided_on": data.declined_on, "decided_by_org_id": data.declined_by_org_id,
                   "decided_by_person": data.declined_by_person, "reason": data.reason}
    batch[CIRCULATIONS].update(row, **changes, sequence=fact.sequence)


# Deliveries of alerts, per alert and channel.

def _delivery_needs(fact: Fact):
    yield Need(DELIVERIES, (fact.data.alert_id, fact.data.channel.value))


def _delivery(batch: Batch, fact: Fact) -> None:
    data: AlertDelivered | AlertDeliveryFailed = fact.data
    row = batch[DELIVERIES].get(data.alert_id, data.channel.value) or {
        "alert_id": data.alert_id, "channel": data.channel.value, "org_id": data.org_id, "target": data.target,
        "status": FAILING, "failed_attempts": 0, "attempts": 0, "last_error": None, "delivered_at": None,
        "last_failed_at": None, "first_sequence": fact.sequence}
    if isinstance(data, AlertDelivered):
        changes = {"status": DELIVERED, "attempts": max(row["attempts"], data.attempts),
                   "delivered_at": utc(data.delivered_at)}
    else:
        changes = {"status": row["status"] if row["status"] == DELIVERED else (FAILED if data.final else FAILING),
                   "failed_attempts": row["failed_attempts"] + 1, "attempts": max(row["attempts"], data.attempt),
                   "last_error": data.error, "last_failed_at": utc(data.failed_at)}
    batch[DELIVERIES].put({**row, **changes, "target": data.target, "sequence": fact.sequence})


_ESCALATION = On(_escalation_needs, _escalation_event)
G2_VIEW = Projection("g2_view", KEYS, {
    **{event.__name__: _ESCALATION for event in (
        ViolationDetected, ReminderIssued, WarningIssued, CirculationProposed, CirculationNumberAssigned,
        CirculationConfirmed, CirculationDeclined, RectificationReported, RectificationVerified,
        RectificationRejected, RectificationDeadlineMissed)},
    AlertDelivered.__name__: On(_delivery_needs, _delivery),
    AlertDeliveryFailed.__name__: On(_delivery_needs, _delivery),
})
