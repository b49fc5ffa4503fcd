"""One function per message: a violation or a missed deadline → the escalation's decision → the
events → the alerts; and the five G2 commands (``ladder_commands.py``).

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

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime

import structlog
from jianfu.events import catalogue
from jianfu.events.dependencies import Deps
from jianfu.events.envelope import SYSTEM_ACTOR, Envelope, stored_hash
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.compliance import ViolationDetected
from jianfu.events.schemas.escalation import (
    CirculationConfirmed,
    CirculationProposed,
    RectificationDeadlineMissed,
    ReminderIssued,
    WarningIssued,
)
from jianfu.events.schemas.secondments import SecondmentEndingSoon
from jianfu.events.snapshots import Codec, Loaded, Snapshots
from jianfu.events.snapshots import execute as execute_from_snapshot
from jianfu.events.store import StoredEvent
from jianfu.events.working_days import BUSINESS_TIME, WorkingCalendar, aware
from jianfu.notifications.alerts import (
    Alert,
    AlertChannel,
    alert_subject,
    circulation_alerts,
    proposal_alerts,
    reminder_alert,
    secondment_ending_alert,
    warning_alert,
)
from jianfu.notifications.domain.escalation import SCHEMA_VERSION, Escalation, escalation_id
from jianfu.notifications.domain.ladder import decide_internal_proposal, decide_on_missed_deadline, decide_step

ESCALATION = "escalation"

log = structlog.get_logger("jianfu.notifications")


class InOrder:
    """The ladder depends on the order of its causes (the first violation is reminded, the next
    warned), but a consumer runs a fetched batch at once (``reactions.on_events``). This gate
    makes the events of one escalation that are handled together in this process take their
    turns in log order: each registers, yields once so the rest of its batch registers too, then
    waits for the earlier sequences of its escalation. Batches are fetched in log order, so only
    a redelivery after a failure, or two replicas at once, can still reorder the causes (their
    decisions stay idempotent; the ladder then takes them in the order they were handled)."""

    def __init__(self) -> None:
        self.running: dict[str, dict[int, asyncio.Event]] = {}

    @asynccontextmanager
    async def turn(self, key: str, sequence: int) -> AsyncIterator[None]:
        waiting = self.running.setdefault(key, {})
        done = waiting[sequence] = asyncio.Event()
        try:
            await asyncio.sleep(0)
            for earlier in sorted(s for s in waiting if s < sequence):
                if earlier in waiting:
                    await waiting[earlier].wait()
            yield
        finally:
            done.set()
            waiting.pop(sequence, None)
            if not waiting:
                self.running.pop(key, None)


@asynccontextmanager
async def turn(gate: InOrder | None, key: str, sequence: int) -> AsyncIterator[None]:
    if gate is None:
        yield
        return
    async with gate.turn(key, sequence):
        yield


def business_day(moment: datetime) -> date:
    return aware(moment).astimezone(BUSINESS_TIME).date()


@dataclass
class Ladder:
    """The escalation, and where the events each cause (a violation, a missed deadline) led to
    are stored: the subject sequences of the system's steps, by the cause's event id."""

    escalation: Escalation
    stored_at: dict[str, list[int]] = field(default_factory=dict)


def fold(ladder: Ladder, stored: StoredEvent) -> Ladder:
    event = catalogue.parse(stored.envelope)
    ladder.escalation.apply(event, stored.envelope.event_id, business_day(stored.envelope.occurred_at))
    if stored.envelope.actor == SYSTEM_ACTOR and stored.envelope.causation_id:
        ladder.stored_at.setdefault(stored.envelope.causation_id, []).append(stored.sequence)
    return ladder


LADDER = Codec[Ladder](
    aggregate_type=ESCALATION,
    schema_version=SCHEMA_VERSION,
    empty=lambda aggregate_id: Ladder(Escalation(aggregate_id)),
    fold=fold,
    dump=lambda ladder: {"escalation": ladder.escalation.to_document(), "stored_at": dict(ladder.stored_at)},
    restore=lambda aggregate_id, document: Ladder(
        Escalation.from_document(aggregate_id, document["escalation"]),
        {str(cause): [int(s) for s in sequences] for cause, sequences in document["stored_at"].items()}),
)


def working_calendar(deps: Deps) -> WorkingCalendar:
    return WorkingCalendar.of(deps.policy.working_days)


async def on_violation(envelope: Envelope, sequence: int, deps: Deps, alerts: AlertChannel,
                       snapshots: Snapshots | None = None, gate: InOrder | None = None) -> None:
    """G2 stages 1–3 for every ``ViolationDetected``: record its step (a reminder, or a warning
    for a repeat within the window, with a circulation proposal when the warnings add up), then
    alert whom each step is for."""
    if envelope.event_type != ViolationDetected.__name__:
        return
    violation = catalogue.parse(envelope)
    day = business_day(envelope.occurred_at)
    working = working_calendar(deps)

    def decide(escalation: Escalation, context: CommandContext, aggregate_id: str) -> list[Envelope]:
        step = decide_step(escalation, violation, day, deps.directory, deps.policy.escalation, working)
        return _with_proposal(escalation, step, context, aggregate_id, deps)

    aggregate_id = escalation_id(violation.responsible_org_id, violation.issue_key)
    async with turn(gate, aggregate_id, sequence):
        stored = await record_steps(envelope, aggregate_id, reminder_command_id(violation.violation_id), decide, deps,
                                    snapshots)
    await send(alerts_for(stored, deps, violation), alerts, envelope, sequence)


async def on_deadline_missed(envelope: Envelope, sequence: int, deps: Deps, alerts: AlertChannel,
                             snapshots: Snapshots | None = None, gate: InOrder | None = None) -> None:
    """G2: a ``RectificationDeadlineMissed`` of the open case's current step escalates it (a
    warning, or a public circulation proposal after a confirmed internal one); a stale one does
    nothing."""
    if envelope.event_type != RectificationDeadlineMissed.__name__:
        return
    missed: RectificationDeadlineMissed = catalogue.parse(envelope)
    day = business_day(envelope.occurred_at)
    working = working_calendar(deps)

    def decide(escalation: Escalation, context: CommandContext, aggregate_id: str) -> list[Envelope]:
        step = decide_on_missed_deadline(escalation, missed, day, deps.directory, deps.policy.escalation, working)
        return _with_proposal(escalation, step, context, aggregate_id, deps)

    async with turn(gate, missed.escalation_id, sequence):
        stored = await record_steps(envelope, missed.escalation_id, f"deadline:{missed.deadline_id}", decide, deps,
                                    snapshots)
    await send(alerts_for(stored, deps), alerts, envelope, sequence)


async def on_circulation_confirmed(envelope: Envelope, sequence: int, deps: Deps, alerts: AlertChannel) -> None:
    """G2 stages 3–4: a confirmed circulation goes to every organisation of the directory. From
    the stored event, so a confirmation whose command died after its append is still circulated;
    the alert subjects are the ledger, so a redelivery or a replay sends nothing twice."""
    if envelope.event_type != CirculationConfirmed.__name__:
        return
    confirmed: CirculationConfirmed = catalogue.parse(envelope)
    history = await deps.store.load(ESCALATION, envelope.aggregate_id)
    proposed = next((CirculationProposed.model_validate(e.data) for e in history.envelopes
                     if e.event_type == CirculationProposed.__name__ and e.data["proposal_id"] == confirmed.proposal_id),
                    None)
    if proposed is None:  # a confirmation always follows its proposal in the same escalation
        raise LookupError(f"no proposal {confirmed.proposal_id} in {envelope.aggregate_id}")
    await send(circulation_alerts(envelope, proposed, deps.directory), alerts, envelope, sequence)


def _with_proposal(escalation: Escalation, step, context: CommandContext, aggregate_id: str,
                   deps: Deps) -> list[Envelope]:
    """The step's event, and with a warning the internal circulation it may bring about (the
    proposal cites the warning by the id its event gets)."""
    if step is None:
        return []
    event = context.event(step, aggregate_id)
    events = [event]
    if isinstance(step, WarningIssued):
        proposal = decide_internal_proposal(escalation, step, event.event_id, deps.policy.escalation)
        if proposal is not None:
            events.append(context.event(proposal, aggregate_id))
    return events


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
    """The idempotency key of "take the step this violation calls for": same violation, same event
    ids (the name stays from stage 1, whose stored reminders keep their ids)."""
    return f"remind:{violation_id}"


Decide = Callable[[Escalation, CommandContext, str], list[Envelope]]


async def record_steps(cause: Envelope, aggregate_id: str, command_id: str, decide: Decide, deps: Deps,
                       snapshots: Snapshots | None = None) -> list[StoredEvent]:
    """Append what the escalation decides on ``cause``, or return what it decided before (found
    in the log after the snapshot, or where the snapshot says it is stored)."""
    snapshots = snapshots or Snapshots(deps.store)
    context = CommandContext(SYSTEM_ACTOR, command_id, cause.correlation_id, deps.policy.version, deps.clock.now())
    covered: list[int] = []

    def on(loaded: Loaded[Ladder]) -> list[Envelope]:
        covered.clear()
        already = loaded.history.caused_by(cause.event_id)
        if already:
            return [e.envelope for e in already]
        if cause.event_id in loaded.state.stored_at:
            covered.extend(loaded.state.stored_at[cause.event_id])
            return []
        events = decide(loaded.state.escalation, context, aggregate_id)
        return [event.model_copy(update={"causation_id": cause.event_id}) for event in events]

    stored = await execute_from_snapshot(snapshots, LADDER, aggregate_id, on, deps.retries)
    if stored:
        return stored
    return [await stored_event(deps, sequence) for sequence in covered]


async def record_reminder(cause: Envelope, violation: ViolationDetected, deps: Deps,
                          snapshots: Snapshots | None = None) -> StoredEvent | None:
    """Stage 1's entry point, kept for callers that only want the step a violation got."""
    working = working_calendar(deps)
    day = business_day(cause.occurred_at)

    def decide(escalation: Escalation, context: CommandContext, aggregate_id: str) -> list[Envelope]:
        step = decide_step(escalation, violation, day, deps.directory, deps.policy.escalation, working)
        return _with_proposal(escalation, step, context, aggregate_id, deps)

    aggregate_id = escalation_id(violation.responsible_org_id, violation.issue_key)
    stored = await record_steps(cause, aggregate_id, reminder_command_id(violation.violation_id), decide, deps,
                                snapshots)
    return stored[0] if stored else None


def alerts_for(stored: list[StoredEvent], deps: Deps, violation: ViolationDetected | None = None) -> list[Alert]:
    """Whom each stored step is for: a reminder or a warning the unit, a proposal the confirmer."""
    alerts: list[Alert] = []
    for event in stored:
        kind = event.envelope.event_type
        if kind == ReminderIssued.__name__ and violation is not None:
            alerts.append(reminder_alert(violation, event.envelope))
        elif kind == WarningIssued.__name__:
            alerts.append(warning_alert(event.envelope))
        elif kind == CirculationProposed.__name__:
            alerts.extend(proposal_alerts(event.envelope, deps.directory, deps.policy.escalation.circulation_confirmer_kind))
    return alerts


async def send(alerts: list[Alert], channel: AlertChannel, cause: Envelope, sequence: int | None = None) -> None:
    for alert in alerts:
        sent = await channel.deliver(alert)
        log.info("alert_sent" if sent else "alert_already_sent", alert_subject=alert_subject(alert),
                 alert_id=alert.alert_id, escalation_id=getattr(alert, "escalation_id", None),
                 correlation_id=cause.correlation_id, sequence=sequence)


async def stored_event(deps: Deps, sequence: int) -> StoredEvent:
    """The event at ``sequence`` of the log, by one direct get."""
    msg = await deps.store.js.get_msg(deps.store.stream, sequence, direct=True)
    return StoredEvent(sequence, Envelope.model_validate_json(msg.data), stored_hash(msg.data))
