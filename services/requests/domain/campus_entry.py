"""S3 intake: declaring a campus-entry activity.

Regular declarations are made in July (for the autumn semester) and December (for the spring
semester). One made outside the window is still recorded, with ``in_window=False``, so the
education bureau's automatic refusal (OUTSIDE_WINDOW_NO_URGENCY) is itself on the record.
Urgent activities may be declared any time, for the current or the next semester, with a
category and a reason of substance; exempt categories are recorded without certification. All
three count towards the per-school cap. Schools' reports are in ``campus_entry_reports.py``.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from uuid import UUID

from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.frequency import Frequency, stated_frequency
from jianfu.events.organisations import Directory, Organisation, OrgKind
from jianfu.events.policy import CampusEntryPolicy
from jianfu.events.schemas.campus_entry import (
    ActivityRequested,
    DeclarationType,
    ExemptCategory,
    ExemptionClaim,
    RequestActivity,
    Route,
    Scope,
)
from jianfu.events.schemas.text import REASON_MIN_VISIBLE, visible_length
from jianfu.events.semesters import SchoolCalendar, Semester

URGENCY_REASON_MIN_VISIBLE = REASON_MIN_VISIBLE
"""S3 (issue 8, finding 4): the urgent route needs a reason of substance, at least this many
visible characters. Checked here, not in the schema: events stored before hold shorter reasons
and must stay readable."""


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
    _check_dates(command, target, calendar)
    route = _route(command, policy)
    _check_target(route, target, today, policy, calendar)
    frequency = _frequency(command)
    return ActivityRequested(
        **command.model_dump(exclude={"command_id", "max_per_year", "max_per_semester"}),
        max_per_year=frequency.per_year,
        max_per_semester=frequency.per_semester,
        activity_id=activity_id,
        applicant_org_id=applicant.org_id,
        route=route,
        declared_on=today,
        in_window=policy.window_target(today) == target,
        school_ids=resolve_scope(command.scope, directory, activity_id),
    )


def _check_target(route: Route, target: Semester, today: date, policy: CampusEntryPolicy,
                  calendar: SchoolCalendar) -> None:
    window_target = policy.window_target(today)
    # S3: a declaration in July is for the coming autumn, in December for the coming spring.
    if route is Route.REGULAR and window_target is not None and window_target != target:
        raise Refused(ErrorCode.INVALID_FIELD, f"declarations made in {today:%B} are for {window_target}, not {target}",
                      "target_semester")
    if route is Route.URGENT and target not in (allowed := urgent_semesters(today, calendar)):
        raise Refused(ErrorCode.INVALID_FIELD, f"an urgent declaration made on {today} is for "
                      f"{' or '.join(map(str, allowed))}, not {target}", "target_semester")


def _check_dates(command: RequestActivity, target: Semester, calendar: SchoolCalendar) -> None:
    """S3 (issue 8, finding 7): an activity runs within the semester it is declared for."""
    for field, day in (("start_date", command.start_date), ("end_date", command.end_date)):
        if calendar.semester_of(day) != target:
            raise Refused(ErrorCode.INVALID_FIELD, f"{field} {day} is not in {target}", field)


def urgent_semesters(today: date, calendar: SchoolCalendar) -> tuple[Semester, ...]:
    """S3: the urgent route serves the current or the next semester only. In term time that is
    the semester in session and the one after; in a holiday, when none is in session, only the
    one about to start (issue 8, finding 4: in August, the autumn, not next May)."""
    coming = calendar.semester_of(today)
    if today < calendar.span(coming).first:
        return (coming,)
    return (coming, coming.following())


def _route(command: RequestActivity, policy: CampusEntryPolicy) -> Route:
    if command.exemption_claim is not None:
        # S3: central government work and the region's catalogue need no declaration.
        if command.exemption_claim.category.value not in policy.exempt_categories:
            raise Refused(ErrorCode.INVALID_FIELD, "category is not exempt under this policy", "exemption_claim.category")
        _check_document(command.exemption_claim)
        return Route.EXEMPT
    if command.declaration_type is DeclarationType.URGENT:
        _check_urgency(command)
        return Route.URGENT
    return Route.REGULAR


# A document's title in 《》, or its number: 中办发〔2021〕3号, 宁党办[2021]8号.
_DOCUMENT = re.compile(r"《[^》]+》|[〔\[［(（【]\s*[0-9]{4}\s*[〕\]］)）】]\s*[0-9]+\s*号")


def _check_document(claim: ExemptionClaim) -> None:
    """S3: city creation and other central government work are exempt by a document of the
    centre; the claim cites it (its title in 《》 or its number), so the bureau can check it. A
    regional-catalogue claim names a catalogue item instead, checked by approvals."""
    if claim.category is ExemptCategory.REGIONAL_CATALOGUE or _DOCUMENT.search(claim.reference):
        return
    raise Refused(ErrorCode.INVALID_FIELD, "cite the document the exemption rests on: its title in 《》 or its "
                  "number, e.g. 中办发〔2021〕3号", "exemption_claim.reference")


def _check_urgency(command: RequestActivity) -> None:
    """S3: urgent or sudden activities go the simplified route with a reason: a category and a
    text that says something."""
    if visible_length(command.urgency_reason or "") < URGENCY_REASON_MIN_VISIBLE:
        raise Refused(ErrorCode.INVALID_FIELD, f"an urgent declaration needs a reason of at least "
                      f"{URGENCY_REASON_MIN_VISIBLE} visible characters", "urgency_reason")
    if command.urgency_category is None:
        raise Refused(ErrorCode.INVALID_FIELD, "an urgent declaration names its category", "urgency_category")


def _frequency(command: RequestActivity) -> Frequency:
    """S3: the most entries per school, as the form states them or its frequency text says;
    the occurrences asked for must fit in one semester."""
    frequency = stated_frequency(command.frequency, command.max_per_year, command.max_per_semester)
    bound = frequency.semester_bound
    if bound is not None and command.occurrences > bound:
        raise Refused(ErrorCode.INVALID_FIELD, f"{command.occurrences} occurrences exceed the {bound} a semester "
                      f"that frequency allows", "occurrences")
    return frequency


def resolve_scope(scope: Scope, directory: Directory, activity_id: UUID) -> tuple[str, ...]:
    """The school ids a scope names: all schools (of some stages), or the named ones; then the
    sample, if the scope asks for one."""
    school_ids = _schools_in_scope(scope, directory)
    if scope.sample_share is not None:
        school_ids = sample_schools(school_ids, scope.sample_share, activity_id)
    return tuple(sorted(school_ids))


def _schools_in_scope(scope: Scope, directory: Directory) -> list[str]:
    if scope.all_schools and not scope.stages:
        return directory.school_ids
    if scope.all_schools:
        school_ids = directory.schools_of(scope.stages)
        if not school_ids:
            raise Refused(ErrorCode.INVALID_FIELD, "no school of the directory teaches these stages", "scope.stages")
        return school_ids
    for index, school_id in enumerate(scope.school_ids):
        org = directory.get(school_id)
        if org is None or org.kind is not OrgKind.SCHOOL:
            raise Refused(ErrorCode.INVALID_FIELD, f"{school_id!r} is not a school in the directory", f"scope.school_ids.{index}")
    return sorted(set(scope.school_ids))


def sample_schools(school_ids: Sequence[str], share: float, activity_id: UUID) -> list[str]:
    """S3 (a list's scope may be a sample share): ``ceil(share × n)`` of the schools, drawn
    reproducibly from the activity id, so anyone can draw the same sample again. The share is
    taken as written, not as its float: 0.28 of 25 schools is 7 (0.28 × 25 is 7.000000000000001
    in floating point)."""
    size = math.ceil(Decimal(repr(share)) * len(school_ids))
    drawn = sorted(school_ids, key=lambda school_id: hashlib.sha256(f"{activity_id}:{school_id}".encode()).hexdigest())
    return drawn[:size]
