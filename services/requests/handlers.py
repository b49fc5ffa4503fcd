"""One function per command: decide (domain) → append, loading the aggregate only when it exists. Dependencies come by name."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TypeVar

from jianfu.events import catalogue
from jianfu.events.commands import Caller, command_context
from jianfu.events.dependencies import Deps
from jianfu.events.envelope import EVENT_ID_NAMESPACE, Envelope
from jianfu.events.errors import Refused
from jianfu.events.quarantine import POISON
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
from jianfu.events.schemas.meetings import MeetingScheduled, ScheduleMeeting
from jianfu.events.schemas.secondments import (
    ReportTeacherReturned,
    ReportTeacherSeconded,
    RequestSecondment,
    SecondmentRequested,
    TeacherReturned,
    TeacherSeconded,
)
from jianfu.events.schemas.teachers import RegisterTeacher, TeacherRegistered
from jianfu.events.schemas.training import ReportTrainingSession, TrainingSessionReported
from jianfu.events.store import ConcurrencyConflict, History, StoredEvent, execute
from jianfu.requests.domain import meetings, secondments, teachers
from jianfu.requests.domain.campus_entry import declare_activity
from jianfu.requests.domain.campus_entry_reports import refuse_entry, report_activity_held
from jianfu.requests.domain.inspections import propose_item, report_visit, request_data, visit_differences
from jianfu.requests.domain.secondments import Reported, SecondmentRecord, report_returned, report_seconded
from jianfu.requests.domain.teachers import teacher_of
from jianfu.requests.domain.training import report_training, session_differences

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


async def register_teacher(command: RegisterTeacher, caller: Caller, deps: Deps) -> dict:
    """A teacher's record (S7–S10 reference data); the same data again records nothing
    (``already_registered``)."""
    context = command_context(caller, command, deps.policy.version, deps.clock.now())
    stored, already = await _report(deps, context, TeacherRegistered.aggregate_type, command.teacher_id, lambda events: (
        _registered_or_on_record(teachers.register_teacher(command, caller.org, teacher_of(events), deps.directory), events)))
    teacher = TeacherRegistered.model_validate(stored.envelope.data)
    return {"teacher_id": teacher.teacher_id, "school_id": teacher.school_id,
            "previous_school_id": teacher.previous_school_id, "already_registered": already,
            "sequence": stored.sequence}


def _registered_or_on_record(decided: TeacherRegistered | None, events: list) -> Reported[TeacherRegistered]:
    return Reported(teacher_of(events), True) if decided is None else Reported(decided, False)


async def request_secondment(command: RequestSecondment, caller: Caller, deps: Deps) -> dict:
    """S7: a unit asks to borrow a registered teacher; recorded in the teacher's secondments."""
    context = command_context(caller, command, deps.policy.version, deps.clock.now())
    secondment_id = id_for("secondment", context)
    teacher = await _teacher(deps, command.teacher_id)
    stored, _ = await _report(deps, context, SecondmentRequested.aggregate_type, command.teacher_id, lambda _events: (
        Reported(secondments.request_secondment(command, secondment_id, caller.org, deps.clock.today(), teacher,
                                    deps.policy.plan_in_force_from), False)))
    requested = SecondmentRequested.model_validate(stored.envelope.data)
    return {"secondment_id": str(requested.secondment_id), "teacher_id": requested.teacher_id,
            "school_id": requested.school_id, "days": requested.days, "sequence": stored.sequence}


async def report_teacher_seconded(command: ReportTeacherSeconded, caller: Caller, deps: Deps) -> dict:
    """S7: the teacher left; reported again while the teacher is away with that unit, it is the
    departure on record (``already_reported``)."""
    context = command_context(caller, command, deps.policy.version, deps.clock.now())
    teacher = await _teacher(deps, command.teacher_id)
    stored, already = await _report(deps, context, TeacherSeconded.aggregate_type, command.teacher_id, lambda events: (
        report_seconded(command, caller.org, deps.clock.today(), teacher, SecondmentRecord.folded(events),
                        deps.policy.plan_in_force_from, deps.directory)))
    departure = TeacherSeconded.model_validate(stored.envelope.data)
    return {"teacher_id": departure.teacher_id, "school_id": departure.school_id,
            "borrowing_org_id": departure.borrowing_org_id, "left_on": departure.left_on.isoformat(),
            "secondment_id": str(departure.secondment_id) if departure.secondment_id else None,
            "consented": departure.consented, "approved": departure.approved,
            "ends_on": departure.ends_on.isoformat() if departure.ends_on else None,
            "already_reported": already, "sequence": stored.sequence}


async def report_teacher_returned(command: ReportTeacherReturned, caller: Caller, deps: Deps) -> dict:
    """S7: the teacher is back; the last return repeated exactly is the one on record (``already_reported``)."""
    context = command_context(caller, command, deps.policy.version, deps.clock.now())
    teacher = await _teacher(deps, command.teacher_id)
    stored, already = await _report(deps, context, TeacherReturned.aggregate_type, command.teacher_id, lambda events: (
        report_returned(command, caller.org, deps.clock.today(), teacher, SecondmentRecord.folded(events))))
    returned = TeacherReturned.model_validate(stored.envelope.data)
    return {"teacher_id": returned.teacher_id, "borrowing_org_id": returned.borrowing_org_id,
            "left_on": returned.left_on.isoformat(), "returned_on": returned.returned_on.isoformat(),
            "already_reported": already, "sequence": stored.sequence}


async def report_training_session(command: ReportTrainingSession, caller: Caller, deps: Deps) -> dict:
    """S8: one session however often reported, as ``report_inspection_visit`` is one visit: a
    report of a session on record appends nothing and is answered with the stored session
    (``already_reported``) and the fields it states otherwise (``differs``)."""
    context = command_context(caller, command, deps.policy.version, deps.clock.now())
    reported = report_training(command, caller.org, deps.clock.today(), deps.policy.plan_in_force_from,
                               deps.directory, deps.policy.school_calendar)
    aggregate_id = str(reported.session_id)
    [stored] = await execute(deps.store, TrainingSessionReported.aggregate_type, aggregate_id, lambda history: (
        history.envelopes[:1] or [context.event(reported, aggregate_id)]), deps.retries)
    session = TrainingSessionReported.model_validate(stored.envelope.data)
    already_reported = not context.earlier_outcome([stored.envelope])
    reply = {"session_id": aggregate_id, "semester": session.semester, "organiser_org_id": session.organiser_org_id,
             "reported_by_org_id": session.reported_by_org_id, "already_reported": already_reported,
             "sequence": stored.sequence}
    if already_reported:
        reply["differs"] = session_differences(session, reported)
    return reply


async def schedule_meeting(command: ScheduleMeeting, caller: Caller, deps: Deps) -> dict:
    """S9, S10: a meeting teachers are required at, under an id from the command's key."""
    context = command_context(caller, command, deps.policy.version, deps.clock.now())
    meeting_id = id_for("meeting", context)
    stored, recorded = await _record_once(deps, context, MeetingScheduled.aggregate_type, meeting_id, lambda: meetings.schedule_meeting(
        command, meeting_id, caller.org, deps.clock.today(), deps.policy.plan_in_force_from, deps.directory,
        deps.distances, deps.policy.school_calendar), MeetingScheduled)
    return {"meeting_id": str(meeting_id), "semester": recorded.semester, "participants": len(recorded.participants),
            "sequence": stored.sequence}


async def _teacher(deps: Deps, teacher_id: str) -> TeacherRegistered | None:
    return teacher_of(_readable(await deps.store.load(TeacherRegistered.aggregate_type, teacher_id)))


async def _report(deps: Deps, context: CommandContext, aggregate_type: str, aggregate_id: str,
                  decide: Callable[[list], Reported]) -> tuple[StoredEvent, bool]:
    """Load → decide → append on an aggregate holding more than this command's event (a teacher,
    a teacher's secondments): a retry is answered from what it caused; a decision that finds its
    event on record already appends nothing and is answered with that event (True)."""
    on_record: list[StoredEvent] = []

    def on(history: History) -> list[Envelope]:
        on_record.clear()
        earlier = context.earlier_outcome(history.envelopes)
        if earlier:
            return earlier
        reported = decide(_readable(history))
        if reported.already_reported:
            on_record.append(_stored(history, reported.event))
            return []
        return [context.event(reported.event, aggregate_id)]

    stored = await execute(deps.store, aggregate_type, aggregate_id, on, deps.retries)
    return (stored[-1], False) if stored else (on_record[0], True)


def _readable(history: History) -> list:
    """The aggregate's events, parsed; one that cannot be parsed is passed over, as every reader
    passes over what it cannot parse."""
    return [event for event in map(_parsed_or_none, history.events) if event is not None]


def _parsed_or_none(stored: StoredEvent) -> EventData | None:
    try:
        return catalogue.parse(stored.envelope)
    except POISON:
        return None


def _stored(history: History, event: EventData) -> StoredEvent:
    """The stored event ``event`` was read from: the latest one equal to it."""
    return next(stored for stored in reversed(history.events) if _parsed_or_none(stored) == event)
