"""S8 the semester's training plan, as pure domain rules: schools organise school-based training,
the district (the teaching research office or the education bureau) backbone training; codes are
unique; a semester already over takes no plan; each publication is the next edition."""

from __future__ import annotations

from datetime import date

import pytest
from jianfu.approvals.domain.training_plan import TrainingPlan
from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.schemas.training import PlannedTraining

from tests.factories import DIRECTORY, POLICY

SEMESTER = "2026-autumn"  # 31 August 2026 to 22 January 2027 in the reference calendar
CALENDAR = POLICY.school_calendar
SCHOOL, OFFICE, BUREAU, HEALTH = "school-dwk-middle-1", "teaching-research-office", "edu-bureau", "dept-health"


def session(code: str = "2026A-BB-01", level: str = "backbone", organiser: str = OFFICE, **overrides) -> PlannedTraining:
    return PlannedTraining.model_validate({"code": code, "title": "初中语文骨干教师课堂教学能力提升", "level": level,
                                           "organiser_org_id": organiser, "months": [10, 11], "hours": 24,
                                           **overrides})


def publish(sessions, today: date = date(2026, 8, 1), events=()):
    return TrainingPlan.from_events(SEMESTER, events).publish(sessions, today, CALENDAR, DIRECTORY)


def refusal(sessions, today: date = date(2026, 8, 1)) -> Refused:
    with pytest.raises(Refused) as refused:
        publish(sessions, today)
    return refused.value


def test_s8_a_plan_published_in_advance_is_edition_1_before_the_semester():
    plan = publish([session(), session("2026A-SB-01", "school_based", SCHOOL), session("2026A-BB-02", organiser=BUREAU)])
    assert (plan.semester, plan.edition, len(plan.sessions), plan.published_on, plan.before_semester) == (
        SEMESTER, 1, 3, date(2026, 8, 1), True)


def test_s8_each_publication_is_the_next_edition_and_one_during_the_semester_is_not_in_advance():
    first = publish([session()])
    second = publish([session(), session("2026A-BB-02")], today=date(2026, 9, 15), events=[first])
    assert (second.edition, second.before_semester) == (2, False)


def test_s8_codes_are_unique_in_a_plan():
    error = refusal([session("X-1"), session("X-2"), session("X-1", title="另一个培训")])
    assert (error.code, error.field) == (ErrorCode.INVALID_FIELD, "sessions.2.code")


@pytest.mark.parametrize(("level", "organiser"), [
    ("school_based", HEALTH),     # a department does not do school-based training
    ("school_based", OFFICE),     # nor does the district: schools do
    ("backbone", SCHOOL),         # backbone training is the district's
    ("backbone", HEALTH),
    ("backbone", "no-such-unit"),
    ("school_based", "no-such-school"),
])
def test_s8_each_level_is_organised_by_whom_it_calls_for(level, organiser):
    error = refusal([session(), session("B-2", level, organiser)])
    assert (error.code, error.field) == (ErrorCode.INVALID_FIELD, "sessions.1.organiser_org_id")


def test_s8_a_semester_already_over_takes_no_plan():
    error = refusal([session()], today=date(2027, 1, 23))
    assert (error.code, error.field) == (ErrorCode.INVALID_STATE, "semester")
    assert publish([session()], today=date(2027, 1, 22)).before_semester is False  # its last day still takes one
