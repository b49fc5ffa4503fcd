"""Query handlers: who may read what, then one read of the read model.

The org comes from the subject (``jf.q.<org_id>.compliance.<Query>``), which the broker ties to
the caller. The directory and the published list are public; the overseers (education bureau,
supervision office, leading group office) see everything; an applicant sees its own applications;
a school sees its own counters; any unit sees the violations charged to it or found at it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from jianfu.compliance import paging, queries
from jianfu.compliance.read_model import LIVE, ReadModel
from jianfu.events.commands import Caller
from jianfu.events.distances import DistanceTable
from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.organisations import DECLARING_KINDS, EDUCATION_SYSTEM, Directory, OrgKind
from jianfu.events.policy import Policy
from jianfu.events.schemas.campus_entry import (
    GetApplications,
    GetCampusEntryCounters,
    GetSemesterList,
)
from jianfu.events.schemas.cases import GetAlertDeliveries, GetCaseHistory, GetCases, GetCirculations
from jianfu.events.schemas.compliance import GetViolations
from jianfu.events.schemas.directory import ListOrganisations
from jianfu.events.schemas.inspections import GetInspectionChecklist, GetInspectionCounters, GetInspectionItems
from jianfu.events.schemas.meetings import GetMeetingCounters, GetMeetings
from jianfu.events.schemas.secondments import GetSecondmentCounters, GetSecondments
from jianfu.events.schemas.teachers import GetTeachers
from jianfu.events.schemas.training import GetTrainingPlan, GetTrainingSessions
from sqlalchemy.ext.asyncio import AsyncEngine

OVERSEERS = frozenset({OrgKind.EDUCATION_BUREAU, OrgKind.SUPERVISION_OFFICE, OrgKind.LEADING_GROUP_OFFICE})
APPLICATION_READERS = OVERSEERS | DECLARING_KINDS
COUNTER_READERS = OVERSEERS | {OrgKind.SCHOOL}
ITEM_READERS = frozenset(OrgKind) - {OrgKind.SCHOOL, OrgKind.TEACHER, OrgKind.SYSTEM}
"""S1: the units that set inspections (every kind but schools, teachers and jianfu itself)."""


@dataclass(frozen=True)
class ReadDeps:
    engine: AsyncEngine
    directory: Directory
    policy: Policy
    model: ReadModel = LIVE
    distances: DistanceTable = field(default_factory=DistanceTable)  # S9: school to venue


async def list_organisations(query: ListOrganisations, caller: Caller, deps: ReadDeps) -> dict:
    """Readable by every organisation: ids are needed to address subjects and to name schools."""
    found = deps.directory.of_kind(query.kind) if query.kind else deps.directory.organisations
    return {"district": deps.directory.district,
            "organisations": [{"org_id": org.org_id, "name": org.name, "kind": org.kind.value} for org in found]}


async def get_semester_list(query: GetSemesterList, caller: Caller, deps: ReadDeps) -> dict:
    """S3 Attachment 3: readable by every organisation."""
    after = paging.read_cursor(paging.SEMESTER_LIST, query.cursor, paging.SEMESTER_LIST_KEY, paging.INTEGER)
    async with deps.engine.connect() as conn:
        as_of = await queries.as_of(conn, deps.model)
        found = await queries.semester_list(conn, deps.model, query.semester, after, query.limit)
        return {**found, "as_of_sequence": as_of}


async def get_applications(query: GetApplications, caller: Caller, deps: ReadDeps) -> dict:
    applicant = None if caller.org.kind in OVERSEERS else caller.org.org_id
    after = paging.read_cursor(paging.APPLICATIONS, query.cursor, paging.APPLICATION_KEY)
    async with deps.engine.connect() as conn:
        as_of = await queries.as_of(conn, deps.model)
        found = await queries.applications(conn, deps.model, query.semester, applicant, query.status,
                                           after, query.limit)
    return {**found, "applicant_org_id": applicant, "as_of_sequence": as_of}


async def get_campus_entry_counters(query: GetCampusEntryCounters, caller: Caller, deps: ReadDeps) -> dict:
    schools = _counted_schools(query.school_id, caller, deps.directory)
    names = {org.org_id: org.name for org in deps.directory.of_kind(OrgKind.SCHOOL)}
    async with deps.engine.connect() as conn:
        as_of = await queries.as_of(conn, deps.model)
        cap = deps.policy.campus_entry.items_per_school_per_semester  # S3: items per school per semester
        found = await queries.campus_entry_counters(conn, deps.model, query.semester, schools, cap, names)
    return {**found, "as_of_sequence": as_of}


async def get_inspection_checklist(query: GetInspectionChecklist, caller: Caller, deps: ReadDeps) -> dict:
    """S1 Attachment 2: readable by every organisation."""
    after = paging.read_cursor(paging.INSPECTION_CHECKLIST, query.cursor, paging.CHECKLIST_KEY, paging.INTEGER)
    async with deps.engine.connect() as conn:
        as_of = await queries.as_of(conn, deps.model)
        found = await queries.inspection_checklist(conn, deps.model, query.year, after, query.limit)
    return {**found, "as_of_sequence": as_of}


async def get_inspection_items(query: GetInspectionItems, caller: Caller, deps: ReadDeps) -> dict:
    """S1: the overseers see every item of the year; a unit the items it leads, joins or was merged into."""
    org_id = None if caller.org.kind in OVERSEERS else caller.org.org_id
    after = paging.read_cursor(paging.INSPECTION_ITEMS, query.cursor, paging.INSPECTION_ITEM_KEY)
    async with deps.engine.connect() as conn:
        as_of = await queries.as_of(conn, deps.model)
        found = await queries.inspection_items(conn, deps.model, query.year, org_id, query.status, after, query.limit)
    return {**found, "org_id": org_id, "as_of_sequence": as_of}


async def get_inspection_counters(query: GetInspectionCounters, caller: Caller, deps: ReadDeps) -> dict:
    """S1/S2: the overseers read every school (or one), a school itself only."""
    schools = _counted_schools(query.school_id, caller, deps.directory)
    names = {org.org_id: org.name for org in deps.directory.of_kind(OrgKind.SCHOOL)}
    async with deps.engine.connect() as conn:
        as_of = await queries.as_of(conn, deps.model)
        found = await queries.inspection_counters(conn, deps.model, query.year, schools, names)
    return {**found, "as_of_sequence": as_of}


def _counted_schools(school_id: str | None, caller: Caller, directory: Directory) -> list[str]:
    if caller.org.kind is OrgKind.SCHOOL:
        if school_id not in (None, caller.org.org_id):
            raise Refused(ErrorCode.FORBIDDEN, "a school may read only its own counters", "school_id")
        return [caller.org.org_id]
    if school_id is not None:
        org = directory.get(school_id)
        if org is None or org.kind is not OrgKind.SCHOOL:
            raise Refused(ErrorCode.NOT_FOUND, f"{school_id!r} is not a school in the directory", "school_id")
        return [school_id]
    return directory.school_ids


async def get_violations(query: GetViolations, caller: Caller, deps: ReadDeps) -> dict:
    visible_to = None if caller.org.kind in OVERSEERS else caller.org.org_id
    after = paging.read_cursor(paging.VIOLATIONS, query.cursor, paging.VIOLATION_KEY)
    async with deps.engine.connect() as conn:
        as_of = await queries.as_of(conn, deps.model)
        found = await queries.violations(
            conn, deps.model, semester=query.semester, responsible_org_id=query.responsible_org_id,
            rule=query.rule.value if query.rule else None, visible_to=visible_to, after=after, limit=query.limit,
            teacher_id=query.teacher_id)
    return {**found, "as_of_sequence": as_of}


# S7-S10 (issue 10): teachers, secondments, training, meetings.

SECONDMENT_READERS = frozenset(OrgKind) - {OrgKind.TEACHER}
"""S7 (GetSecondments, GetSecondmentCounters): every unit (what it borrows), school (its teachers')
and overseer; the bureau, the approver and the supervision office read every secondment, the
overseers and the approver every teacher's counters."""
MEETING_READERS = frozenset(OrgKind) - {OrgKind.TEACHER}
"""S9/S10: the overseers read every meeting; any unit or school those it organises."""


def _all_secondments(kind: OrgKind, policy: Policy) -> bool:
    return kind in (OrgKind.EDUCATION_BUREAU, OrgKind.SUPERVISION_OFFICE, policy.secondment.approver_kind)


def _reads_names(caller: Caller, school_id: str, policy: Policy) -> bool:
    """Teachers' names: for their school, the education bureau and the secondment approver only."""
    kind = caller.org.kind
    return kind in (OrgKind.EDUCATION_BUREAU, policy.secondment.approver_kind) or caller.org.org_id == school_id


async def get_teachers(query: GetTeachers, caller: Caller, deps: ReadDeps) -> dict:
    """The register by id and subject for every organisation (a unit names a teacher by id to
    borrow one); names only for the teacher's school, the bureau and the approver."""
    if query.school_id is not None:
        _school(query.school_id, deps.directory)
    after = paging.read_cursor(paging.TEACHERS, query.cursor, paging.TEACHER_KEY)
    async with deps.engine.connect() as conn:
        as_of = await queries.as_of(conn, deps.model)
        found = await queries.teachers(conn, deps.model, query.school_id, after, query.limit)
    for row in found["teachers"]:
        if not _reads_names(caller, row["school_id"], deps.policy):
            row["name"] = None
    return {**found, "as_of_sequence": as_of}


async def get_secondments(query: GetSecondments, caller: Caller, deps: ReadDeps) -> dict:
    """S7: the bureau, the approver and the supervision office read all; a school its teachers';
    any other unit the secondments it borrows (asking for another unit's is FORBIDDEN)."""
    kind, org_id = caller.org.kind, caller.org.org_id
    scope = {column: value for column, value in (("teacher_id", query.teacher_id),
                                                 ("borrowing_org_id", query.borrowing_org_id)) if value}
    if kind is OrgKind.SCHOOL:
        scope["school_id"] = org_id
    elif not _all_secondments(kind, deps.policy):
        if query.borrowing_org_id not in (None, org_id):
            raise Refused(ErrorCode.FORBIDDEN, "a unit may read only the secondments it borrows", "borrowing_org_id")
        scope["borrowing_org_id"] = org_id
    after = paging.read_cursor(paging.SECONDMENTS, query.cursor, paging.SECONDMENT_KEY)
    async with deps.engine.connect() as conn:
        as_of = await queries.as_of(conn, deps.model)
        found = await queries.secondments(conn, deps.model, scope=scope, status=query.status, after=after,
                                          limit=query.limit)
        names = await queries.teacher_names(conn, deps.model, (row["teacher_id"] for row in found["secondments"]))
    for row in found["secondments"]:
        row["teacher_name"] = names.get(row["teacher_id"]) if _reads_names(caller, row["school_id"], deps.policy) \
            else None
    return {**found, "as_of_sequence": as_of}


async def get_secondment_counters(query: GetSecondmentCounters, caller: Caller, deps: ReadDeps) -> dict:
    """S7, page by page by teacher id: the overseers and the approver read every teacher and unit;
    a school its own teachers; any other unit the teachers it holds and has held, its own
    departures only (another unit's ``borrowing_org_id`` is FORBIDDEN)."""
    kind, org_id = caller.org.kind, caller.org.org_id
    scope = {column: value for column, value in (("teacher_id", query.teacher_id),
                                                 ("borrowing_org_id", query.borrowing_org_id)) if value}
    if kind is OrgKind.SCHOOL:
        scope["school_id"] = org_id
    elif kind not in OVERSEERS and kind is not deps.policy.secondment.approver_kind:
        if query.borrowing_org_id not in (None, org_id):
            raise Refused(ErrorCode.FORBIDDEN, "a unit may read only the teachers it borrows", "borrowing_org_id")
        scope["borrowing_org_id"] = org_id
    after = paging.read_cursor(paging.SECONDMENT_COUNTERS, query.cursor, paging.SECONDMENT_COUNTER_KEY)

    def gap_days(day):  # S7: the renewal gap of the version in force on the day a departure began
        return (deps.policy.in_force_on(day) or deps.policy.versions[0]).secondment.renewal_gap_days

    async with deps.engine.connect() as conn:
        as_of = await queries.as_of(conn, deps.model)
        found = await queries.secondment_counters(conn, deps.model, query.year, scope=scope, gap_days=gap_days,
                                                  after=after, limit=query.limit)
    return {**found, "max_days": deps.policy.secondment.max_days, "as_of_sequence": as_of}


async def get_training_plan(query: GetTrainingPlan, caller: Caller, deps: ReadDeps) -> dict:
    """S8: the plan as last published, readable by every organisation."""
    after = paging.read_cursor(paging.TRAINING_PLAN, query.cursor, paging.TRAINING_PLAN_KEY, paging.INTEGER)
    async with deps.engine.connect() as conn:
        as_of = await queries.as_of(conn, deps.model)
        found = await queries.training_plan(conn, deps.model, query.semester, after, query.limit)
    return {**found, "as_of_sequence": as_of}


async def get_training_sessions(query: GetTrainingSessions, caller: Caller, deps: ReadDeps) -> dict:
    """S8: the sessions held, readable by every organisation (organisers by id, no teachers' names).
    ``planned`` is false when an ``UnplannedTraining`` names the session, null for an organiser
    outside the education system (the plan is not theirs), true otherwise."""
    after = paging.read_cursor(paging.TRAINING_SESSIONS, query.cursor, paging.TRAINING_SESSION_KEY)
    async with deps.engine.connect() as conn:
        as_of = await queries.as_of(conn, deps.model)
        found = await queries.training_sessions(conn, deps.model, query.semester, query.organiser_org_id, after,
                                                query.limit)
    for row in found["sessions"]:
        row["planned"] = None if _outside_education(row["organiser_org_id"], deps.directory) \
            else row["unplanned_violation_id"] is None
    return {**found, "as_of_sequence": as_of}


async def get_meetings(query: GetMeetings, caller: Caller, deps: ReadDeps) -> dict:
    """S9: the overseers read every meeting; an organiser its own (another's is FORBIDDEN)."""
    organiser = query.organiser_org_id
    if caller.org.kind not in OVERSEERS:
        if organiser not in (None, caller.org.org_id):
            raise Refused(ErrorCode.FORBIDDEN, "an organiser may read only its own meetings", "organiser_org_id")
        organiser = caller.org.org_id
    after = paging.read_cursor(paging.MEETINGS, query.cursor, paging.MEETING_KEY)

    def distant(meeting: dict) -> int:
        """S9: participants from schools further than the policy's distance from the (main) venue."""
        version = deps.policy.in_force_on(date.fromisoformat(meeting["held_on"])) or deps.policy.versions[0]
        venue = meeting["venue_id"]
        return 0 if venue is None else sum(
            n for school, n in meeting["schools"].items()
            if deps.distances.far(school, venue, version.meetings.sub_venue_beyond_km))

    async with deps.engine.connect() as conn:
        as_of = await queries.as_of(conn, deps.model)
        found = await queries.meetings(conn, deps.model, query.semester, organiser, after, query.limit, distant)
    return {**found, "organiser_org_id": organiser, "as_of_sequence": as_of}


async def get_meeting_counters(query: GetMeetingCounters, caller: Caller, deps: ReadDeps) -> dict:
    """S10: the overseers read every teacher; a school its own teachers; page by page, by teacher id."""
    scope = {column: value for column, value in (("teacher_id", query.teacher_id),
                                                 ("school_id", query.school_id)) if value}
    if caller.org.kind is OrgKind.SCHOOL:
        if query.school_id not in (None, caller.org.org_id):
            raise Refused(ErrorCode.FORBIDDEN, "a school may read only its own teachers' counters", "school_id")
        scope["school_id"] = caller.org.org_id
    after = paging.read_cursor(paging.MEETING_COUNTERS, query.cursor, paging.MEETING_COUNTER_KEY)
    async with deps.engine.connect() as conn:
        as_of = await queries.as_of(conn, deps.model)
        found = await queries.meeting_counters(
            conn, deps.model, query.semester, scope=scope,
            outside_education=lambda org_id: _outside_education(org_id, deps.directory),
            cap=deps.policy.meetings.non_education_per_teacher_per_semester, after=after, limit=query.limit)
    return {**found, "as_of_sequence": as_of}


def _outside_education(org_id: str, directory: Directory) -> bool:
    """S8/S10: a unit outside the education system (EDUCATION_SYSTEM), or none the directory knows."""
    org = directory.get(org_id)
    return org is None or org.kind not in EDUCATION_SYSTEM


def _school(school_id: str, directory: Directory) -> None:
    org = directory.get(school_id)
    if org is None or org.kind is not OrgKind.SCHOOL:
        raise Refused(ErrorCode.NOT_FOUND, f"{school_id!r} is not a school in the directory", "school_id")


# G2 (issue 11): escalation cases, their history, circulations, alert deliveries.

G2_READERS = frozenset(OrgKind) - {OrgKind.TEACHER}
"""G2: the overseers read every case, history, circulation and delivery; any other unit or
school those of which it is the responsible unit (its own alerts' deliveries)."""


def _own(caller: Caller, asked: str | None, field_name: str) -> str | None:
    """The unit a G2 read is narrowed to: none for the overseers (what they asked for), the
    caller's own for any other (another unit's is FORBIDDEN)."""
    if caller.org.kind in OVERSEERS:
        return asked
    if asked not in (None, caller.org.org_id):
        raise Refused(ErrorCode.FORBIDDEN, "a unit may read only its own escalations and alerts", field_name)
    return caller.org.org_id


async def get_cases(query: GetCases, caller: Caller, deps: ReadDeps) -> dict:
    """G2: the cases, newest escalation first, by stage, unit and open or closed."""
    unit = _own(caller, query.responsible_org_id, "responsible_org_id")
    after = paging.read_cursor(paging.CASES, query.cursor, paging.CASE_KEY)
    async with deps.engine.connect() as conn:
        as_of = await queries.as_of(conn, deps.model)
        found = await queries.cases(conn, deps.model, stage=query.stage, responsible_org_id=unit, open_=query.open,
                                    after=after, limit=query.limit)
    return {**found, "responsible_org_id": unit, "as_of_sequence": as_of}


async def get_case_history(query: GetCaseHistory, caller: Caller, deps: ReadDeps) -> dict:
    """G2: an escalation's events in log order; a unit reads only its own (another's is FORBIDDEN,
    and so is one nobody has: an escalation id is a hash of unit and issue anyone can compute)."""
    after = paging.read_cursor(paging.CASE_HISTORY, query.cursor, paging.CASE_HISTORY_KEY)
    async with deps.engine.connect() as conn:
        as_of = await queries.as_of(conn, deps.model)
        case = await queries.case(conn, deps.model, query.escalation_id)
        if case is None and caller.org.kind not in OVERSEERS:
            _own(caller, "", "escalation_id")  # ids are computable: NOT_FOUND would tell a unit who has a case
        if case is None:
            raise Refused(ErrorCode.NOT_FOUND, f"no escalation {query.escalation_id!r}", "escalation_id")
        _own(caller, case["responsible_org_id"], "escalation_id")
        found = await queries.case_history(conn, deps.model, query.escalation_id, after, query.limit)
    return {**found, "case": case, "as_of_sequence": as_of}


async def get_circulations(query: GetCirculations, caller: Caller, deps: ReadDeps) -> dict:
    """G2: a year's circulations in the order proposed; a unit reads its own."""
    unit = None if caller.org.kind in OVERSEERS else caller.org.org_id
    after = paging.read_cursor(paging.CIRCULATIONS, query.cursor, paging.CIRCULATION_KEY)
    async with deps.engine.connect() as conn:
        as_of = await queries.as_of(conn, deps.model)
        found = await queries.circulations(conn, deps.model, query.year, unit, after, query.limit)
    return {**found, "responsible_org_id": unit, "as_of_sequence": as_of}


async def get_alert_deliveries(query: GetAlertDeliveries, caller: Caller, deps: ReadDeps) -> dict:
    """G2: per alert and channel, delivered or failed; a unit reads its own alerts' deliveries."""
    org_id = _own(caller, query.org_id, "org_id")
    after = paging.read_cursor(paging.ALERT_DELIVERIES, query.cursor, paging.ALERT_DELIVERY_KEY)
    async with deps.engine.connect() as conn:
        as_of = await queries.as_of(conn, deps.model)
        found = await queries.alert_deliveries(conn, deps.model, org_id, query.alert_id, after, query.limit)
    return {**found, "org_id": org_id, "as_of_sequence": as_of}
