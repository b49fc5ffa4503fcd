"""S1 and S2 intake: inspection items proposed for the annual plan, visits that happened, data
requested of schools.

A proposal is recorded with its target resolved to school ids and with ``late`` set when it comes
after the filing deadline (the first day of its first planned month less the policy's lead time).
A late item is still recorded, with or without a reason: approvals refuses one without a reason
of substance (LATE_FILING, automatic), so the refusal is on the record. A visit is identified by
its facts (school, visiting unit, day), so however often it is reported it is one visit. A data
request records its fields once each and the year it was issued in, by Asia/Shanghai's calendar.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.organisations import Directory, Organisation, OrgKind
from jianfu.events.policy import InspectionPolicy
from jianfu.events.schemas.inspections import (
    DataRequestIssued,
    InspectionItemProposed,
    InspectionTarget,
    InspectionVisitReported,
    IssueDataRequest,
    ProposeInspectionItem,
    ReportInspectionVisit,
)
from jianfu.requests.domain.campus_entry import sample_schools

BUSINESS_ZONE = ZoneInfo("Asia/Shanghai")

_NOT_UNITS = frozenset({OrgKind.SCHOOL, OrgKind.TEACHER, OrgKind.SYSTEM})
UNIT_KINDS = frozenset(OrgKind) - _NOT_UNITS
"""The units that set inspections and ask schools for data (S1, S2): every kind of the directory
but schools, teachers and jianfu itself."""
VISIT_REPORTING_KINDS = UNIT_KINDS | {OrgKind.SCHOOL}
"""A visit is reported by the school visited or by the unit that came (S1)."""


def named_org(directory: Directory, org_id: str, kinds: frozenset[OrgKind], field: str, not_of_kind: str) -> Organisation:
    """The organisation a command names by id: UNKNOWN_ORG if the directory has none, INVALID_FIELD
    (``not_of_kind``) if it is not of ``kinds``."""
    org = directory.get(org_id)
    if org is None:
        raise Refused(ErrorCode.UNKNOWN_ORG, f"{org_id!r} is not in the directory", field)
    if org.kind not in kinds:
        raise Refused(ErrorCode.INVALID_FIELD, not_of_kind, field)
    return org


VISIT_NAMESPACE = uuid.UUID("3d0c5a9e-8f71-4b62-a1d4-5c2e9b7f6a10")


def propose_item(
    command: ProposeInspectionItem, item_id: uuid.UUID, lead: Organisation, today: date, policy: InspectionPolicy,
    directory: Directory,
) -> InspectionItemProposed:
    """The InspectionItemProposed event of a unit's proposal (S1), or Refused."""
    if command.year not in (today.year, today.year + 1):
        raise Refused(ErrorCode.INVALID_FIELD, f"an item proposed on {today} is for {today.year} or "
                      f"{today.year + 1}, not {command.year}", "year")
    return InspectionItemProposed(
        **command.model_dump(exclude={"command_id", "joint_org_ids"}),
        joint_org_ids=_joint_units(command.joint_org_ids, lead, directory),
        item_id=item_id,
        lead_org_id=lead.org_id,
        proposed_on=today,
        late=today > filing_deadline(command.year, command.planned_months, policy),
        school_ids=resolve_target(command.target, directory, item_id),
    )


def filing_deadline(year: int, planned_months: Sequence[int], policy: InspectionPolicy) -> date:
    """S1: the last day an item may be proposed on without the urgent route: the policy's lead time
    (30 days) before the first day of its first planned month."""
    return date(year, min(planned_months), 1) - timedelta(days=policy.filing_days_ahead)


def resolve_target(target: InspectionTarget, directory: Directory, item_id: uuid.UUID) -> tuple[str, ...]:
    """The school ids an item is aimed at: every school or the listed ones, then the sample if it
    asks for one, drawn reproducibly from the item id as S3 draws an activity's; none for an item
    aimed at teachers only."""
    if target.all_schools:
        school_ids = directory.school_ids
    elif target.school_ids:
        school_ids = listed_schools(target.school_ids, directory, "target.school_ids")
    else:
        if target.sample_share is not None:
            raise Refused(ErrorCode.INVALID_FIELD, "a sample is drawn from schools: give all_schools=true or "
                          "school_ids with sample_share", "target.sample_share")
        return ()
    if target.sample_share is not None:
        school_ids = sample_schools(school_ids, target.sample_share, item_id)
    return tuple(sorted(school_ids))


def listed_schools(school_ids: Sequence[str], directory: Directory, field: str) -> list[str]:
    """Each listed id a school of the directory (else INVALID_FIELD naming it), once each, sorted."""
    for index, school_id in enumerate(school_ids):
        org = directory.get(school_id)
        if org is None or org.kind is not OrgKind.SCHOOL:
            raise Refused(ErrorCode.INVALID_FIELD, f"{school_id!r} is not a school in the directory",
                          f"{field}.{index}")
    return sorted(set(school_ids))


def _joint_units(joint_org_ids: Sequence[str], lead: Organisation, directory: Directory) -> tuple[str, ...]:
    """S1: the units inspecting with the lead one, each a unit of the directory other than the
    lead (no school, teacher or jianfu itself), once each in the order given."""
    for index, org_id in enumerate(joint_org_ids):
        field = f"joint_org_ids.{index}"
        named_org(directory, org_id, UNIT_KINDS, field, "a joint unit is a unit, not a school, teacher or jianfu")
        if org_id == lead.org_id:
            raise Refused(ErrorCode.INVALID_FIELD, "the lead unit is not one of its own joint units", field)
    return tuple(dict.fromkeys(joint_org_ids))


def report_visit(
    command: ReportInspectionVisit, reporter: Organisation, today: date, in_force_from: date, directory: Directory,
) -> InspectionVisitReported:
    """A visit as the school or the visiting unit reports it (S1). Its id comes from school, unit
    and day (``visit_id_for``), so the other side's report, or a second one, names the same visit."""
    school_id, visiting_org_id = _sides(command, reporter, directory)
    _check_day(command.visited_on, today, in_force_from)
    return InspectionVisitReported(
        visit_id=visit_id_for(school_id, visiting_org_id, command.visited_on),
        school_id=school_id,
        visiting_org_id=visiting_org_id,
        visited_on=command.visited_on,
        year=command.visited_on.year,
        item_id=command.item_id,
        label=command.label,
        graded=command.graded,
        grading=command.grading,
        reported_by_org_id=reporter.org_id,
    )


def visit_id_for(school_id: str, visiting_org_id: str, visited_on: date) -> uuid.UUID:
    """One visit of a unit to a school on a day, whoever reports it and however often."""
    return uuid.uuid5(VISIT_NAMESPACE, f"inspection_visit:{school_id}:{visiting_org_id}:{visited_on.isoformat()}")


def _sides(command: ReportInspectionVisit, reporter: Organisation, directory: Directory) -> tuple[str, str]:
    """(school, visiting unit): a school reports its own visits naming the unit; a unit reports
    its own naming the school."""
    if reporter.kind is OrgKind.SCHOOL:
        if command.school_id not in (None, reporter.org_id):
            raise Refused(ErrorCode.INVALID_FIELD, "a school reports visits to itself: leave school_id out",
                          "school_id")
        if command.visiting_org_id is None:
            raise Refused(ErrorCode.INVALID_FIELD, "name the unit that came", "visiting_org_id")
        return reporter.org_id, _visiting_unit(command.visiting_org_id, directory)
    if command.visiting_org_id not in (None, reporter.org_id):
        raise Refused(ErrorCode.INVALID_FIELD, "a unit reports its own visits: leave visiting_org_id out",
                      "visiting_org_id")
    if command.school_id is None:
        raise Refused(ErrorCode.INVALID_FIELD, "name the school visited", "school_id")
    school = directory.get(command.school_id)
    if school is None or school.kind is not OrgKind.SCHOOL:
        raise Refused(ErrorCode.INVALID_FIELD, f"{command.school_id!r} is not a school in the directory", "school_id")
    return school.org_id, reporter.org_id


def _visiting_unit(org_id: str, directory: Directory) -> str:
    return named_org(directory, org_id, UNIT_KINDS, "visiting_org_id",
                     "the visiting unit is a unit, not a school, teacher or jianfu").org_id


def _check_day(visited_on: date, today: date, in_force_from: date) -> None:
    if visited_on > today:
        raise Refused(ErrorCode.INVALID_FIELD, "visited_on is in the future", "visited_on")
    if visited_on < in_force_from:
        # S1 applies from the day the plan took effect; an earlier visit is no violation of it.
        raise Refused(ErrorCode.INVALID_FIELD, f"visited_on is before the plan took effect on {in_force_from}",
                      "visited_on")


def visit_differences(stored: InspectionVisitReported, reported: InspectionVisitReported) -> list[str]:
    """What a second report of a visit says otherwise than the first: the fields, in the event's order."""
    return [field for field in ("item_id", "label", "graded", "grading")
            if getattr(stored, field) != getattr(reported, field)]


def request_data(
    command: IssueDataRequest, request_id: uuid.UUID, requester: Organisation, issued_at: datetime,
    directory: Directory,
) -> DataRequestIssued:
    """The DataRequestIssued event of a unit's request to schools (S2), or Refused."""
    if command.deadline <= issued_at:
        raise Refused(ErrorCode.INVALID_FIELD, f"the deadline must be after the request is issued "
                      f"({issued_at:%Y-%m-%d %H:%M} UTC)", "deadline")
    try:
        command.deadline.astimezone(UTC)  # the read model stores it in UTC
    except OverflowError:
        raise Refused(ErrorCode.INVALID_FIELD, "the deadline has no UTC time (past year 9999)", "deadline") from None
    school_ids = directory.school_ids if command.all_schools else listed_schools(
        command.school_ids, directory, "school_ids")
    return DataRequestIssued(
        request_id=request_id,
        requester_org_id=requester.org_id,
        title=command.title,
        fields=tuple(dict.fromkeys(command.fields)),
        school_ids=tuple(school_ids),
        issued_at=issued_at,
        deadline=command.deadline,
        year=issued_at.astimezone(BUSINESS_ZONE).year,
        item_id=command.item_id,
    )
