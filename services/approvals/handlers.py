"""One function per command or event: load → decide (domain aggregate) → append."""

from __future__ import annotations

from uuid import UUID

from jianfu.approvals.domain.campus_entry_semester import CampusEntrySemester
from jianfu.events import catalogue
from jianfu.events.commands import Caller, command_context
from jianfu.events.dependencies import Deps
from jianfu.events.envelope import SYSTEM_ACTOR, Envelope
from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.base import Command
from jianfu.events.schemas.campus_entry import (
    ActivityRejected,
    ActivityRequested,
    CertifyActivity,
    PublishSemesterList,
    RejectActivity,
)
from jianfu.events.store import EventStore, History, StoredEvent, execute

SEMESTER = "campus_entry_semester"


async def certify_activity(command: CertifyActivity, caller: Caller, deps: Deps) -> dict:
    return await _decide_on_request(command.activity_id, command, caller, deps, lambda semester, request: (
        semester.certify(request, deps.directory, command.note)))


async def reject_activity(command: RejectActivity, caller: Caller, deps: Deps) -> dict:
    return await _decide_on_request(command.activity_id, command, caller, deps, lambda semester, request: (
        semester.reject(request, command.refusal_code, command.reason)))


async def _decide_on_request(activity_id: UUID, command: Command, caller: Caller, deps: Deps, decide) -> dict:
    request = await load_request(deps.store, activity_id)
    context = command_context(caller, command, deps.policy.version, deps.clock.now())
    stored = await _decide(deps, request.target_semester, context, lambda semester: decide(semester, request),
                           str(request.activity_id))
    return _decision_reply(stored)


async def publish_semester_list(command: PublishSemesterList, caller: Caller, deps: Deps) -> dict:
    context = command_context(caller, command, deps.policy.version, deps.clock.now())
    stored = await _decide(deps, command.semester, context, lambda semester: semester.publish(), "")
    published = stored[0].envelope.data
    return {"semester": command.semester, "edition": published["edition"], "item_count": len(published["items"]),
            "sequence": stored[0].sequence}


async def screen_request(envelope: Envelope, sequence: int, deps: Deps) -> None:
    """On every ActivityRequested: hard-rule refusals and exemptions are decided at once (S3)."""
    if envelope.event_type != "ActivityRequested":
        return
    request = catalogue.parse(envelope)
    context = CommandContext(SYSTEM_ACTOR, envelope.event_id, envelope.correlation_id, deps.policy.version, deps.clock.now())
    await _decide(deps, request.target_semester, context,
                  lambda semester: semester.screen(request, deps.directory), str(request.activity_id))


async def load_request(store: EventStore, activity_id: UUID) -> ActivityRequested:
    history = await store.load("activity", str(activity_id))
    if not history.events:
        raise Refused(ErrorCode.NOT_FOUND, f"no activity {activity_id}", "activity_id")
    return catalogue.parse(history.events[0].envelope)


async def _decide(deps: Deps, semester_id: str, context: CommandContext, decide, key: str) -> list[StoredEvent]:
    def on(history: History):
        already = context.earlier_outcome(history.envelopes)
        if already:
            return already
        semester = CampusEntrySemester.from_events(
            semester_id, deps.policy.campus_entry, (catalogue.parse(e) for e in history.envelopes)
        )
        decision = decide(semester)
        return [context.event(decision, semester_id, key=key)] if decision else []

    return await execute(deps.store, SEMESTER, semester_id, on, deps.retries)


def _decision_reply(stored: list[StoredEvent]) -> dict:
    event = stored[0].envelope
    reply = {"activity_id": event.data["activity_id"], "sequence": stored[0].sequence}
    if event.event_type == ActivityRejected.__name__:
        return {**reply, "decision": "rejected", "refusal_code": event.data["refusal_code"],
                "automatic": event.data["automatic"], "reason": event.data["reason"]}
    return {**reply, "decision": "certified"}
