"""S3 intake from schools: the entries held on their campus and the ones they turned away.

A school names the unit that came by its org id or by name. A name the directory knows is
resolved to its unit; any other (a provincial body, a trade union, the Red Cross, a private firm)
is recorded with ``organizer_org_id=None`` and the name as given, so the detector can charge
"unregistered unit: <name>". The compliance detector judges what is reported.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.organisations import Directory, Organisation, OrgKind
from jianfu.events.policy import Policy
from jianfu.events.schemas.campus_entry import (
    ActivityHeldReported,
    CampusEntryRefused,
    ExemptionClaim,
    Organizer,
    RecordActivityHeld,
    RecordEntryRefused,
)
from jianfu.events.titles import normalise_title

# S3 is about units from outside the school entering it.
_INSIDE_KINDS = (OrgKind.SCHOOL, OrgKind.TEACHER, OrgKind.SYSTEM)


def report_activity_held(
    command: RecordActivityHeld, report_id: UUID, school: Organisation, today: date, directory: Directory,
    policy: Policy,
) -> ActivityHeldReported:
    """A school's report of an activity on its campus (S3)."""
    return ActivityHeldReported(
        **_at_the_gate(command, command.held_on, "held_on", report_id, school, today, directory, policy),
        activity_id=command.activity_id,
        held_on=command.held_on,
        participants=command.participants,
        teacher_hours=command.teacher_hours,
        exemption_claim=_exemption_claim(command.exemption_claim, command.held_on, policy),
    )


def refuse_entry(
    command: RecordEntryRefused, report_id: UUID, school: Organisation, today: date, directory: Directory,
    policy: Policy,
) -> CampusEntryRefused:
    """A school's record that it turned an entry away (S3, e.g. ``NOT_ON_LIST``): no entry."""
    return CampusEntryRefused(
        **_at_the_gate(command, command.refused_on, "refused_on", report_id, school, today, directory, policy),
        refused_on=command.refused_on,
        refusal_code=command.refusal_code,
        note=command.note,
    )


def _at_the_gate(command: RecordActivityHeld | RecordEntryRefused, day: date, field: str, report_id: UUID,
                 school: Organisation, today: date, directory: Directory, policy: Policy) -> dict:
    """What every record a school makes of a unit at its gate holds: the unit, the title, and the
    semester of a day between the plan's taking effect and today."""
    _check_day(day, field, today, policy.plan_in_force_from)
    organizer_org_id, organizer_name = resolve_organizer(command, directory)
    return {"report_id": report_id, "school_id": school.org_id, "organizer_org_id": organizer_org_id,
            "organizer_name": organizer_name, "title": command.title,
            "semester": policy.school_calendar.semester_of(day).id}


def resolve_organizer(organizer: Organizer, directory: Directory) -> tuple[str | None, str]:
    """The unit's org id (None outside the directory) and its name (the directory's, if it has it)."""
    if organizer.organizer_org_id is not None:
        org = directory.get(organizer.organizer_org_id)
        if org is None:
            raise Refused(ErrorCode.UNKNOWN_ORG, f"{organizer.organizer_org_id!r} is not in the directory",
                          "organizer_org_id")
        return _outside_the_school(org, "organizer_org_id")
    org = _named(organizer.organizer_name, directory)
    if org is None:
        return None, organizer.organizer_name
    return _outside_the_school(org, "organizer_name")


def _named(name: str, directory: Directory) -> Organisation | None:
    """The directory's unit of this name: exactly, else as typed (width, case, spacing aside), as
    the region's catalogue resolves its organisers; "区 消防大队" is the fire brigade, not an outsider."""
    wanted = normalise_title(name)
    return directory.named(name) or next(
        (org for org in directory.organisations if normalise_title(org.name) == wanted), None)


def _outside_the_school(org: Organisation, field: str) -> tuple[str, str]:
    if org.kind in _INSIDE_KINDS:
        raise Refused(ErrorCode.INVALID_FIELD, "the organizer must be a unit outside the school", field)
    return org.org_id, org.name


def _exemption_claim(claim: ExemptionClaim | None, held_on: date, policy: Policy) -> ExemptionClaim | None:
    """S3: an exempt entry needs no declaration but is recorded; its category must be one the
    version in force on the day exempts (approvals and the detector check the claim itself)."""
    if claim is None:
        return None
    in_force = policy.in_force_on(held_on) or policy
    if claim.category.value not in in_force.campus_entry.exempt_categories:
        raise Refused(ErrorCode.INVALID_FIELD, "category is not exempt under this policy", "exemption_claim.category")
    return claim


def _check_day(day: date, field: str, today: date, in_force_from: date) -> None:
    if day > today:
        raise Refused(ErrorCode.INVALID_FIELD, f"{field} is in the future", field)
    if day < in_force_from:
        # S3 applies from the day the plan took effect; an earlier entry is no violation of it.
        raise Refused(ErrorCode.INVALID_FIELD, f"{field} is before the plan took effect on {in_force_from}", field)
