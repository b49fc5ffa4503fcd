"""S3 intake: declaring a campus-entry activity and reporting one held.

Regular declarations are made in July (for the autumn semester) and December (for the spring
semester). One made outside the window is still recorded, with ``in_window=False``, so the
education bureau's automatic refusal (OUTSIDE_WINDOW_NO_URGENCY) is itself on the record.
Urgent activities may be declared any time with a reason; exempt categories are recorded
without certification. All three count towards the per-school cap.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.organisations import Directory, Organisation, OrgKind
from jianfu.events.policy import CampusEntryPolicy
from jianfu.events.schemas.campus_entry import (
    ActivityHeldReported,
    ActivityRequested,
    DeclarationType,
    RecordActivityHeld,
    RequestActivity,
    Route,
    Scope,
)
from jianfu.events.semesters import SchoolCalendar, Semester


def declare_activity(
    command: RequestActivity,
    activity_id: UUID,
    applicant: Organisation,
    today: date,
    policy: CampusEntryPolicy,
    directory: Directory,
    calendar: SchoolCalendar,
) -> ActivityRequested:
    """The ActivityRequested event for a declaration, or Refused if the form cannot stand."""
    target = Semester.parse(command.target_semester)
    if target < calendar.semester_of(today):
        raise Refused(ErrorCode.INVALID_FIELD, f"{target} has already ended", "target_semester")
    if calendar.semester_of(command.start_date) != target:
        raise Refused(ErrorCode.INVALID_FIELD, f"start_date {command.start_date} is not in {target}", "start_date")
    window_target = policy.window_target(today)
    route = _route(command, policy)
    # S3: a declaration in July is for the coming autumn, in December for the coming spring.
    if route is Route.REGULAR and window_target is not None and window_target != target:
        raise Refused(
            ErrorCode.INVALID_FIELD,
            f"declarations made in {today:%B} are for {window_target}, not {target}",
            "target_semester",
        )
    return ActivityRequested(
        **command.model_dump(exclude={"command_id"}),
        activity_id=activity_id,
        applicant_org_id=applicant.org_id,
        route=route,
        declared_on=today,
        in_window=window_target == target,
        school_ids=resolve_scope(command.scope, directory),
    )


def _route(command: RequestActivity, policy: CampusEntryPolicy) -> Route:
    if command.exemption_claim is not None:
        # S3: central government work and the region's catalogue need no declaration.
        if command.exemption_claim.category.value not in policy.exempt_categories:
            raise Refused(ErrorCode.INVALID_FIELD, "category is not exempt under this policy", "exemption_claim.category")
        return Route.EXEMPT
    if command.declaration_type is DeclarationType.URGENT:
        # S3: urgent or sudden activities go the simplified route, with a reason.
        if not command.urgency_reason:
            raise Refused(ErrorCode.INVALID_FIELD, "an urgent declaration needs a reason", "urgency_reason")
        return Route.URGENT
    return Route.REGULAR


def resolve_scope(scope: Scope, directory: Directory) -> tuple[str, ...]:
    if scope.all_schools:
        return tuple(directory.school_ids)
    for index, school_id in enumerate(scope.school_ids):
        org = directory.get(school_id)
        if org is None or org.kind is not OrgKind.SCHOOL:
            raise Refused(ErrorCode.INVALID_FIELD, f"{school_id!r} is not a school in the directory", f"scope.school_ids.{index}")
    return tuple(sorted(set(scope.school_ids)))


def report_activity_held(
    command: RecordActivityHeld, report_id: UUID, school: Organisation, today: date, directory: Directory,
    in_force_from: date, calendar: SchoolCalendar,
) -> ActivityHeldReported:
    """A school's report of an activity on its campus (S3); the compliance detector judges it."""
    if command.held_on > today:
        raise Refused(ErrorCode.INVALID_FIELD, "held_on is in the future", "held_on")
    if command.held_on < in_force_from:
        # S3 applies from the day the plan took effect; an earlier entry is no violation of it.
        raise Refused(ErrorCode.INVALID_FIELD, f"held_on is before the plan took effect on {in_force_from}", "held_on")
    organizer = directory.get(command.organizer_org_id)
    if organizer is None:
        raise Refused(ErrorCode.UNKNOWN_ORG, f"{command.organizer_org_id!r} is not in the directory", "organizer_org_id")
    if organizer.kind in (OrgKind.SCHOOL, OrgKind.TEACHER, OrgKind.SYSTEM):
        raise Refused(ErrorCode.INVALID_FIELD, "the organizer must be a unit outside the school", "organizer_org_id")
    return ActivityHeldReported(
        report_id=report_id,
        school_id=school.org_id,
        organizer_org_id=organizer.org_id,
        activity_id=command.activity_id,
        title=command.title,
        held_on=command.held_on,
        semester=calendar.semester_of(command.held_on).id,
        participants=command.participants,
        teacher_hours=command.teacher_hours,
    )
