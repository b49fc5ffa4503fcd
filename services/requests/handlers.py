"""One function per command: load → decide (domain) → append. Dependencies come by name."""

from __future__ import annotations

import uuid

from jianfu.events.commands import Caller, command_context
from jianfu.events.dependencies import Deps
from jianfu.events.envelope import EVENT_ID_NAMESPACE
from jianfu.events.schemas.campus_entry import ActivityHeldReported, ActivityRequested, RecordActivityHeld, RequestActivity
from jianfu.events.store import History, execute
from jianfu.requests.domain.campus_entry import declare_activity, report_activity_held



def id_for(kind: str, command_id: uuid.UUID) -> uuid.UUID:
    """The id of what a command creates, derived from the command id so retries find it again."""
    return uuid.uuid5(EVENT_ID_NAMESPACE, f"{kind}:{command_id}")


async def request_activity(command: RequestActivity, caller: Caller, deps: Deps) -> dict:
    activity_id = id_for("activity", command.command_id)
    context = command_context(caller, command.command_id, deps.policy.version, deps.clock.now())

    def decide(history: History):
        if history.events:
            return history.envelopes
        event = declare_activity(
            command, activity_id, caller.org, deps.clock.today(), deps.policy.campus_entry, deps.directory
        )
        return [context.event(event, str(activity_id))]

    stored = await execute(deps.store, "activity", str(activity_id), decide, deps.retries)
    recorded = ActivityRequested.model_validate(stored[0].envelope.data)
    return {
        "activity_id": str(activity_id),
        "route": recorded.route.value,
        "in_window": recorded.in_window,
        "target_semester": recorded.target_semester,
        "school_count": len(recorded.school_ids),
        "sequence": stored[0].sequence,
    }


async def record_activity_held(command: RecordActivityHeld, caller: Caller, deps: Deps) -> dict:
    report_id = id_for("report", command.command_id)
    context = command_context(caller, command.command_id, deps.policy.version, deps.clock.now())

    def decide(history: History):
        if history.events:
            return history.envelopes
        event = report_activity_held(command, report_id, caller.org, deps.clock.today(), deps.directory)
        return [context.event(event, str(report_id))]

    stored = await execute(deps.store, "campus_entry_report", str(report_id), decide, deps.retries)
    recorded = ActivityHeldReported.model_validate(stored[0].envelope.data)
    return {"report_id": str(report_id), "semester": recorded.semester, "sequence": stored[0].sequence}
