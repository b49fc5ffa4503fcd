"""One function per message: a violation → the escalation's decision → the event → the alert.

Both steps are idempotent, so at-least-once delivery (a redelivery, a replay from sequence 1)
gives exactly one reminder and exactly one alert per violation:

(a) the reminder is appended to ``escalation.<escalation_id>`` with an event id derived from the
    violation id; a retry finds it in the aggregate (``History.caused_by``) and appends nothing;
(b) the alert goes out on a subject of its own with expected last subject sequence 0, so the
    alert stream refuses a second copy. A crash between (a) and (b) is healed by the
    redelivery, which finds the stored reminder and sends its alert.

The escalation is loaded from its latest snapshot (``jianfu.events.snapshots``) and a new one is
written every ``snapshot_every`` reminders; the snapshot's state also keeps where each reminder is
stored, so a redelivery finds a reminder the snapshot covers without reading the log from the start.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import structlog
from jianfu.events import catalogue
from jianfu.events.dependencies import Deps
from jianfu.events.envelope import SYSTEM_ACTOR, Envelope, stored_hash
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.compliance import ViolationDetected
from jianfu.events.schemas.escalation import ReminderIssued
from jianfu.events.schemas.secondments import SecondmentEndingSoon
from jianfu.events.snapshots import Codec, Loaded, Snapshots
from jianfu.events.snapshots import execute as execute_from_snapshot
from jianfu.events.store import StoredEvent
from jianfu.notifications.alerts import AlertChannel, alert_subject, reminder_alert, secondment_ending_alert
from jianfu.notifications.domain.escalation import (
    SCHEMA_VERSION,
    Escalation,
    decide_reminder,
    escalation_id,
)

ESCALATION = "escalation"

log = structlog.get_logger("jianfu.notifications")


@dataclass
class Ladder:
    """The escalation, and the subject sequence of each violation's reminder in the log."""

    escalation: Escalation
    stored_at: dict[str, int] = field(default_factory=dict)


def fold(ladder: Ladder, stored: StoredEvent) -> Ladder:
    event = catalogue.parse(stored.envelope)
    ladder.escalation.apply(event)
    if isinstance(event, ReminderIssued):
        ladder.stored_at[event.violation_id] = stored.sequence
    return ladder


LADDER = Codec[Ladder](
    aggregate_type=ESCALATION,
    schema_version=SCHEMA_VERSION,
    empty=lambda aggregate_id: Ladder(Escalation(aggregate_id)),
    fold=fold,
    dump=lambda ladder: {"escalation": ladder.escalation.to_document(), "stored_at": dict(ladder.stored_at)},
    restore=lambda aggregate_id, document: Ladder(
        Escalation.from_document(aggregate_id, document["escalation"]),
        {str(violation): int(sequence) for violation, sequence in document["stored_at"].items()}),
)


async def on_violation(envelope: Envelope, sequence: int, deps: Deps, alerts: AlertChannel,
                       snapshots: Snapshots | None = None) -> None:
    """G2 stage 1 for every ``ViolationDetected``: record the reminder, then alert the unit."""
    if envelope.event_type != ViolationDetected.__name__:
        return
    violation = catalogue.parse(envelope)
    reminder = await record_reminder(envelope, violation, deps, snapshots)
    if reminder is None:
        return
    alert = reminder_alert(violation, reminder.envelope)
    sent = await alerts.deliver(alert)
    log.info("alert_sent" if sent else "alert_already_sent", alert_subject=alert_subject(alert),
             alert_id=alert.alert_id, violation_id=violation.violation_id, escalation_id=alert.escalation_id,
             issued_by=alert.issued_by, correlation_id=envelope.correlation_id, sequence=sequence)


async def on_secondment_notice(envelope: Envelope, sequence: int, deps: Deps, alerts: AlertChannel) -> None:
    """S7: every ``SecondmentEndingSoon`` becomes one alert to the borrowing unit.

    Nothing is appended: the notice is already the decision (the compliance sweep's, with an id
    from the departure and the last day), so the alert is a function of the stored event and its
    subject is the only ledger needed. A redelivery, a restart or a replay by a new consumer finds
    the subject taken and sends nothing."""
    if envelope.event_type != SecondmentEndingSoon.__name__:
        return
    alert = secondment_ending_alert(envelope, deps.directory)
    sent = await alerts.deliver(alert)
    log.info("alert_sent" if sent else "alert_already_sent", alert_subject=alert_subject(alert),
             alert_id=alert.alert_id, notice_id=alert.notice_id, correlation_id=envelope.correlation_id,
             sequence=sequence)


def reminder_command_id(violation_id: str) -> str:
    """The idempotency key of "remind about this violation": same violation, same event id."""
    return f"remind:{violation_id}"


async def record_reminder(cause: Envelope, violation: ViolationDetected, deps: Deps,
                          snapshots: Snapshots | None = None) -> StoredEvent | None:
    """Append the reminder the escalation decides on, or return the one already stored."""
    snapshots = snapshots or Snapshots(deps.store)
    aggregate_id = escalation_id(violation.responsible_org_id, violation.issue_key)
    context = CommandContext(SYSTEM_ACTOR, reminder_command_id(violation.violation_id), cause.correlation_id,
                             deps.policy.version, deps.clock.now())
    covered: list[int] = []  # where a reminder a snapshot covers is stored

    def decide(loaded: Loaded[Ladder]) -> list[Envelope]:
        covered.clear()
        already = loaded.history.caused_by(cause.event_id)
        if already:
            return [e.envelope for e in already]
        ladder = loaded.state
        if violation.violation_id in ladder.stored_at:
            covered.append(ladder.stored_at[violation.violation_id])
        reminder = decide_reminder(ladder.escalation, violation, deps.directory, deps.policy.escalation)
        if reminder is None:
            return []
        event = context.event(reminder, aggregate_id)
        return [event.model_copy(update={"causation_id": cause.event_id})]

    stored = await execute_from_snapshot(snapshots, LADDER, aggregate_id, decide, deps.retries)
    reminders = [s for s in stored if s.envelope.event_type == ReminderIssued.__name__]
    if reminders:
        return reminders[0]
    if covered:
        return await stored_event(deps, covered[0])
    return None


async def stored_event(deps: Deps, sequence: int) -> StoredEvent:
    """The event at ``sequence`` of the log, by one direct get."""
    msg = await deps.store.js.get_msg(deps.store.stream, sequence, direct=True)
    return StoredEvent(sequence, Envelope.model_validate_json(msg.data), stored_hash(msg.data))
