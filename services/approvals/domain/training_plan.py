"""A semester's teacher training plan and its editions (aggregate ``training_plan.<semester>``, S8).

S8: "schools do school-based training, the district does backbone training", and the teaching
research office publishes the plan in advance. So a school-based session is organised by a school
of the directory and a backbone session by the district (the teaching research office or the
education bureau); codes are unique within the plan, since reported sessions name the planned one
by code. A later edition replaces the earlier one from its publication; a semester already over
takes no plan. Published before the semester's first day it is marked ``before_semester``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.organisations import Directory, OrgKind
from jianfu.events.schemas.training import PlannedTraining, TrainingLevel, TrainingPlanPublished
from jianfu.events.semesters import SchoolCalendar, Semester, Span

ORGANISERS = {
    TrainingLevel.SCHOOL_BASED: frozenset({OrgKind.SCHOOL}),
    TrainingLevel.BACKBONE: frozenset({OrgKind.TEACHING_RESEARCH_OFFICE, OrgKind.EDUCATION_BUREAU}),
}
"""S8: who organises each level of training."""


class TrainingPlan:
    def __init__(self, semester: str) -> None:
        self.semester = semester
        self.editions: list[TrainingPlanPublished] = []

    @classmethod
    def from_events(cls, semester: str, events: Iterable[object]) -> TrainingPlan:
        plan = cls(semester)
        plan.editions = [event for event in events if isinstance(event, TrainingPlanPublished)]
        return plan

    @property
    def last_edition(self) -> int:
        return max((edition.edition for edition in self.editions), default=0)

    def publish(self, sessions: Sequence[PlannedTraining], today: date, calendar: SchoolCalendar,
                directory: Directory) -> TrainingPlanPublished:
        """The next edition, if every session is organised by whom its level calls for and the
        semester is not over."""
        span = self._span(calendar)
        if span.last < today:
            raise Refused(ErrorCode.INVALID_STATE, f"the semester {self.semester} ended on {span.last}", "semester")
        check_sessions(sessions, directory)
        return TrainingPlanPublished(semester=self.semester, edition=self.last_edition + 1, sessions=tuple(sessions),
                                     published_on=today, before_semester=today < span.first)


    def _span(self, calendar: SchoolCalendar) -> Span:
        """The semester's first and last day; a semester id the pattern takes but no date can hold
        (9999-autumn ends in the year 10000, 0000-spring begins in the year 0) is refused."""
        try:
            return calendar.span(Semester.parse(self.semester))
        except ValueError:
            raise Refused(ErrorCode.INVALID_FIELD, f"the calendar has no days for {self.semester}",
                          "semester") from None


def check_sessions(sessions: Sequence[PlannedTraining], directory: Directory) -> None:
    """INVALID_FIELD on the first session that breaks S8, with its field path."""
    seen: dict[str, int] = {}
    for n, session in enumerate(sessions):
        if session.code in seen:
            raise Refused(ErrorCode.INVALID_FIELD, f"code {session.code} is session {seen[session.code]}'s already: "
                          "codes are unique in a plan", f"sessions.{n}.code")
        seen[session.code] = n
        organiser = directory.get(session.organiser_org_id)
        allowed = ORGANISERS[session.level]
        if organiser is None or organiser.kind not in allowed:
            found = "not in the directory" if organiser is None else f"a {organiser.kind}"
            raise Refused(ErrorCode.INVALID_FIELD, f"{session.organiser_org_id} is {found}: {session.level} training "
                          f"is organised by {' or '.join(sorted(allowed))} (S8)", f"sessions.{n}.organiser_org_id")
