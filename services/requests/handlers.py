"""One function per command: load → decide (domain) → append. Dependencies come by name."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from jianfu.events.commands import Caller, command_context
from jianfu.events.dependencies import Deps
from jianfu.events.envelope import EVENT_ID_NAMESPACE
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.base import EventData
from jianfu.events.schemas.campus_entry import (
    ActivityHeldReported,
    ActivityRequested,
    RecordActivityHeld,
    RequestActivity,
)
from jianfu.events.store import History, StoredEvent, execute
from jianfu.requests.domain.campus_entry import declare_activity, report_activity_held


def id_for(kind: str, context: CommandContext) -> uuid.UUID:
    """The id of what a command creates, derived from its scoped key so retries find it again
    and two organisations sending the same command id create two things."""
    return uuid.uuid5(EVENT_ID_NAMESPACE, f"{kind}:{context.key}")


async def request_activity(command: RequestActivity, caller: Caller, deps: Deps) -> dict:
    context = command_context(caller, command, deps.policy.version, deps.clock.now())
    activity_id = id_for("activity", context)
    stored = await _record_once(deps, context, "activity", activity_id, lambda: declare_activity(
        command, activity_id, caller.org, deps.clock.today(), deps.policy.campus_entry, deps.directory))
    recorded = ActivityRequested.model_validate(stored.envelope.data)
    return {
        "activity_id": str(activity_id),
        "route": recorded.route.value,
        "in_window": recorded.in_window,
        "target_semester": recorded.target_semester,
        "school_count": len(recorded.school_ids),
        "sequence": stored.sequence,
    }


async def record_activity_held(command: RecordActivityHeld, caller: Caller, deps: Deps) -> dict:
    context = command_context(caller, command, deps.policy.version, deps.clock.now())
    report_id = id_for("report", context)
    stored = await _record_once(deps, context, "campus_entry_report", report_id, lambda: (
        report_activity_held(command, report_id, caller.org, deps.clock.today(), deps.directory,
                             deps.policy.in_force_from)))
    recorded = ActivityHeldReported.model_validate(stored.envelope.data)
    return {"report_id": str(report_id), "semester": recorded.semester, "sequence": stored.sequence}


async def _record_once(deps: Deps, context: CommandContext, aggregate_type: str, aggregate_id: uuid.UUID,
                       decide: Callable[[], EventData]) -> StoredEvent:
    """Start a new aggregate with the event the command decides; a retry gets the stored one,
    the same command id with another body is refused."""

    def on(history: History):
        return context.earlier_outcome(history.envelopes) or [context.event(decide(), str(aggregate_id))]

    return (await execute(deps.store, aggregate_type, str(aggregate_id), on, deps.retries))[0]
