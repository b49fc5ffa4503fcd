"""Query handlers: who may read what, then one read of the read model.

The org comes from the subject (``jf.q.<org_id>.compliance.<Query>``), which the broker ties to
the caller. The directory and the published list are public; the overseers (education bureau,
supervision office, leading group office) see everything; an applicant sees its own applications;
a school sees its own counters; any unit sees the violations charged to it or found at it.
"""

from __future__ import annotations

from dataclasses import dataclass

from jianfu.compliance import paging, queries
from jianfu.compliance.read_model import LIVE, ReadModel
from jianfu.events.commands import Caller
from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.organisations import DECLARING_KINDS, Directory, OrgKind
from jianfu.events.policy import Policy
from jianfu.events.schemas.campus_entry import (
    GetApplications,
    GetCampusEntryCounters,
    GetSemesterList,
)
from jianfu.events.schemas.compliance import GetViolations
from jianfu.events.schemas.directory import ListOrganisations
from jianfu.events.schemas.inspections import GetInspectionChecklist, GetInspectionCounters, GetInspectionItems
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
            rule=query.rule.value if query.rule else None, visible_to=visible_to, after=after, limit=query.limit)
    return {**found, "as_of_sequence": as_of}
