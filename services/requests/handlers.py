"""One function per command: decide (domain) → append, loading the aggregate only when it exists. Dependencies come by name."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TypeVar

from jianfu.events.commands import Caller, command_context
from jianfu.events.dependencies import Deps
from jianfu.events.envelope import EVENT_ID_NAMESPACE
from jianfu.events.errors import Refused
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.base import EventData
from jianfu.events.schemas.campus_entry import (
    ActivityHeldReported,
    ActivityRequested,
    CampusEntryRefused,
    RecordActivityHeld,
    RecordEntryRefused,
    RequestActivity,
)
from jianfu.events.schemas.inspections import (
    DataRequestIssued,
    InspectionItemProposed,
    InspectionVisitReported,
    IssueDataRequest,
    ProposeInspectionItem,
    ReportInspectionVisit,
)
from jianfu.events.store import ConcurrencyConflict, History, StoredEvent, execute
from jianfu.requests.domain.campus_entry import declare_activity
from jianfu.requests.domain.campus_entry_reports import refuse_entry, report_activity_held
from jianfu.requests.domain.inspections import propose_item, report_visit, request_data, visit_differences

E = TypeVar("E", bound=EventData)


def id_for(kind: str, context: CommandContext) -> uuid.UUID:
    """The id of what a command creates, derived from its scoped key so retries find it again
    and two organisations sending the same command id create two things."""
    return uuid.uuid5(EVENT_ID_NAMESPACE, f"{kind}:{context.key}")


async def request_activity(command: RequestActivity, caller: Caller, deps: Deps) -> dict:
    context = command_context(caller, command, deps.policy.version, deps.clock.now())
    activity_id = id_for("activity", context)
    stored, recorded = await _record_once(deps, context, "activity", activity_id, lambda: declare_activity(
        command, activity_id, caller.org, deps.clock.today(), deps.policy.campus_entry, deps.directory,
        deps.policy.school_calendar),
        ActivityRequested)
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
    stored, recorded = await _record_once(deps, context, "campus_entry_report", report_id, lambda: (
        report_activity_held(command, report_id, caller.org, deps.clock.today(), deps.directory, deps.policy)),
        ActivityHeldReported)
    return _report_reply(report_id, recorded, stored)


async def record_entry_refused(command: RecordEntryRefused, caller: Caller, deps: Deps) -> dict:
    context = command_context(caller, command, deps.policy.version, deps.clock.now())
    report_id = id_for("refusal", context)
    stored, recorded = await _record_once(deps, context, "campus_entry_report", report_id, lambda: (
        refuse_entry(command, report_id, caller.org, deps.clock.today(), deps.directory, deps.policy)),
        CampusEntryRefused)
    return _report_reply(report_id, recorded, stored)


def _report_reply(report_id: uuid.UUID, recorded: ActivityHeldReported | CampusEntryRefused,
                  stored: StoredEvent) -> dict:
    return {"report_id": str(report_id), "semester": recorded.semester, "organizer_org_id": recorded.organizer_org_id,
            "sequence": stored.sequence}


async def propose_inspection_item(command: ProposeInspectionItem, caller: Caller, deps: Deps) -> dict:
    context = command_context(caller, command, deps.policy.version, deps.clock.now())
    item_id = id_for("inspection_item", context)
    stored, recorded = await _record_once(deps, context, "inspection_item", item_id, lambda: propose_item(
        command, item_id, caller.org, deps.clock.today(), deps.policy.inspections, deps.directory),
        InspectionItemProposed)
    return {"item_id": str(item_id), "year": recorded.year, "late": recorded.late,
            "school_count": len(recorded.school_ids), "sequence": stored.sequence}


async def report_inspection_visit(command: ReportInspectionVisit, caller: Caller, deps: Deps) -> dict:
    """S1: one visit however often it is reported. The visit's id comes from its facts; a report
    of a visit already on record appends nothing and is answered with the stored visit
    (``already_reported``) and the fields it states otherwise (``differs``). A retry of the report
    that recorded it is answered as the first time."""
    context = command_context(caller, command, deps.policy.version, deps.clock.now())
    reported = report_visit(command, caller.org, deps.clock.today(), deps.policy.plan_in_force_from, deps.directory)
    aggregate_id = str(reported.visit_id)
    [stored] = await execute(deps.store, "inspection_visit", aggregate_id, lambda history: (
        history.envelopes[:1] or [context.event(reported, aggregate_id)]), deps.retries)
    visit = InspectionVisitReported.model_validate(stored.envelope.data)
    already_reported = not context.earlier_outcome([stored.envelope])  # recorded by another command
    reply = {"visit_id": aggregate_id, "year": visit.year, "school_id": visit.school_id,
             "visiting_org_id": visit.visiting_org_id, "reported_by_org_id": visit.reported_by_org_id,
             "already_reported": already_reported, "sequence": stored.sequence}
    if already_reported:
        reply["differs"] = visit_differences(visit, reported)
    return reply


async def issue_data_request(command: IssueDataRequest, caller: Caller, deps: Deps) -> dict:
    context = command_context(caller, command, deps.policy.version, deps.clock.now())
    request_id = id_for("data_request", context)
    stored, recorded = await _record_once(deps, context, "data_request", request_id, lambda: request_data(
        command, request_id, caller.org, context.now, deps.directory), DataRequestIssued)
    return {"request_id": str(request_id), "year": recorded.year, "fields": len(recorded.fields),
            "school_count": len(recorded.school_ids), "issued_at": recorded.issued_at.isoformat(),
            "sequence": stored.sequence}


async def _record_once(deps: Deps, context: CommandContext, aggregate_type: str, aggregate_id: uuid.UUID,
                       decide: Callable[[], E], recorded_as: type[E]) -> tuple[StoredEvent, E]:
    """Start a new aggregate with the event the command decides; a retry gets the stored one,
    the same command id with another body is refused.

    The aggregate's id derives from the command's key, so it is almost always new: the event is
    appended at once, expecting the subject empty (one round trip, no load). Only when that
    append finds the aggregate there (a retry, or the key sent with another body) or the
    decision refuses (a retry may be answered from what was accepted before) does the command
    take the full path: load, answer from its earlier outcome or decide again, append."""
    try:
        data = decide()
    except Refused:
        data = None
    if data is not None:
        try:
            [stored] = await deps.store.append(History(aggregate_type, str(aggregate_id)),
                                               [context.event(data, str(aggregate_id))])
            return stored, data
        except ConcurrencyConflict:
            pass

    def on(history: History):
        return context.earlier_outcome(history.envelopes) or [context.event(decide(), str(aggregate_id))]

    [stored] = await execute(deps.store, aggregate_type, str(aggregate_id), on, deps.retries)
    return stored, recorded_as.model_validate(stored.envelope.data)
