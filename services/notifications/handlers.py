"""One function per message: a violation → the escalation's decision → the event → the alert.

Both steps are idempotent, so at-least-once delivery (a redelivery, a replay from sequence 1)
gives exactly one reminder and exactly one alert per violation:

(a) the reminder is appended to ``escalation.<escalation_id>`` with an event id derived from the
    violation id; a retry finds it in the aggregate (``History.caused_by``) and appends nothing;
(b) the alert goes out on a subject of its own with expected last subject sequence 0, so the
    alert stream refuses a second copy. A crash between (a) and (b) is healed by the
    redelivery, which finds the stored reminder and sends its alert.
"""

from __future__ import annotations

import structlog
from jianfu.events import catalogue
from jianfu.events.dependencies import Deps
from jianfu.events.envelope import SYSTEM_ACTOR, Envelope
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.compliance import ViolationDetected
from jianfu.events.schemas.escalation import ReminderIssued
from jianfu.events.store import History, StoredEvent, execute
from jianfu.notifications.alerts import AlertChannel, alert_subject, reminder_alert
from jianfu.notifications.domain.escalation import (
    Escalation,
    decide_reminder,
    escalation_id,
)

ESCALATION = "escalation"

log = structlog.get_logger("jianfu.notifications")


async def on_violation(envelope: Envelope, sequence: int, deps: Deps, alerts: AlertChannel) -> None:
    """G2 stage 1 for every ``ViolationDetected``: record the reminder, then alert the unit."""
    if envelope.event_type != ViolationDetected.__name__:
        return
    violation = catalogue.parse(envelope)
    reminder = await record_reminder(envelope, violation, deps)
    if reminder is None:
        return
    alert = reminder_alert(violation, reminder.envelope)
    sent = await alerts.deliver(alert)
    log.info("alert_sent" if sent else "alert_already_sent", alert_subject=alert_subject(alert),
             alert_id=alert.alert_id, violation_id=violation.violation_id, escalation_id=alert.escalation_id,
             issued_by=alert.issued_by, correlation_id=envelope.correlation_id, sequence=sequence)


def reminder_command_id(violation_id: str) -> str:
    """The idempotency key of "remind about this violation": same violation, same event id."""
    return f"remind:{violation_id}"


async def record_reminder(cause: Envelope, violation: ViolationDetected, deps: Deps) -> StoredEvent | None:
    """Append the reminder the escalation decides on, or return the one already stored."""
    aggregate_id = escalation_id(violation.responsible_org_id, violation.issue_key)
    context = CommandContext(SYSTEM_ACTOR, reminder_command_id(violation.violation_id), cause.correlation_id,
                             deps.policy.version, deps.clock.now())

    def decide(history: History) -> list[Envelope]:
        already = history.caused_by(cause.event_id)
        if already:
            return [e.envelope for e in already]
        escalation = Escalation.from_events(aggregate_id, (catalogue.parse(e) for e in history.envelopes))
        reminder = decide_reminder(escalation, violation, deps.directory, deps.policy.escalation)
        if reminder is None:
            return []
        event = context.event(reminder, aggregate_id)
        return [event.model_copy(update={"causation_id": cause.event_id})]

    stored = await execute(deps.store, ESCALATION, aggregate_id, decide, deps.retries)
    reminders = [s for s in stored if s.envelope.event_type == ReminderIssued.__name__]
    return reminders[0] if reminders else None
