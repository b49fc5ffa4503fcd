"""The demo's year of teachers' time (libs/cli/teachers_year.py, roster.py), checked before any
service runs: the generated teachers are the same on every run and valid, and each planned fact
is what its rule (S7–S10) needs it to be — so the end-to-end walk fails only on the system."""

from __future__ import annotations

from datetime import date

from jianfu.cli.roster import TEACHERS_PER_SCHOOL, district_teachers, school_teachers
from jianfu.cli.teachers_year import OVERDUE_DAY, PLAN, SECONDMENTS, meetings, sessions
from jianfu.events.schemas.meetings import ScheduleMeeting
from jianfu.events.schemas.secondments import RequestSecondment
from jianfu.events.schemas.teachers import RegisterTeacher
from jianfu.events.schemas.training import PublishTrainingPlan, ReportTrainingSession
from jianfu.events.secondment_periods import Period, limit_passed_on, run_of
from jianfu.events.settings import Settings

from tests.factories import DIRECTORY, POLICY

SCHOOLS = DIRECTORY.school_ids


def test_the_district_gets_40_teachers_per_school_the_same_on_every_run():
    teachers = district_teachers(SCHOOLS)
    assert len(teachers) == len(SCHOOLS) * TEACHERS_PER_SCHOOL
    assert len({t.teacher_id for t in teachers}) == len(teachers)
    assert district_teachers(SCHOOLS) == teachers
    assert school_teachers("school-dwk-primary-1")[6].teacher_id == "t-dwk-primary-1-007"


def test_every_generated_teacher_is_a_valid_registration_with_a_chinese_name_and_a_subject_of_its_school():
    for teacher in district_teachers(SCHOOLS):
        RegisterTeacher(command_id="00000000-0000-0000-0000-000000000001", teacher_id=teacher.teacher_id,
                        name=teacher.name, subject=teacher.subject)
        assert 2 <= len(teacher.name) <= 3 and all("\u4e00" <= c <= "\u9fff" for c in teacher.name)
        assert teacher.subject not in (("物理", "化学") if "primary" in teacher.school_id else ("科学",))


def test_s7_the_planned_secondments_are_valid_requests_of_registered_teachers():
    ids = {t.teacher_id for t in district_teachers(SCHOOLS)}
    for borrowing in SECONDMENTS.values():
        assert borrowing.teacher_id in ids and borrowing.school_id in SCHOOLS
        RequestSecondment(command_id="00000000-0000-0000-0000-000000000001", teacher_id=borrowing.teacher_id,
                          task=borrowing.task, starts_on=borrowing.starts_on, ends_on=borrowing.ends_on)


def test_s7_the_renewal_continues_171_days_with_the_same_unit_into_263_over_the_limit():
    def period(name: str) -> Period:
        b = SECONDMENTS[name]
        return Period(b.starts_on, b.ends_on, b.unit)

    run = run_of(period("renewal"), [period("renewed")], POLICY.secondment.renewal_gap_days)
    assert (period("renewed").days, run.days) == (171, 263) and run.days > POLICY.secondment.max_days


def test_s7_the_overdue_secondment_passes_the_limit_on_its_184th_day():
    overdue = SECONDMENTS["overdue"]
    assert limit_passed_on(overdue.starts_on, POLICY.secondment.max_days) == OVERDUE_DAY == date(2027, 7, 13)
    assert (OVERDUE_DAY - overdue.starts_on).days + 1 == 184


def test_s8_the_plan_is_the_teaching_research_offices_and_one_session_is_outside_it():
    PublishTrainingPlan(command_id="00000000-0000-0000-0000-000000000001", semester="2027-spring", sessions=PLAN)
    planned = {(s["organiser_org_id"], s["title"]) for s in PLAN}
    held = {name: body for name, (_, body) in sessions().items()}
    ReportTrainingSession(**held["unplanned"])
    assert ("school-dwk-primary-3", held["unplanned"]["title"]) not in planned
    assert {held[name]["plan_code"] for name in ("planned_backbone", "planned_school")} <= {s["code"] for s in PLAN}


def test_s9_the_far_meeting_has_more_than_5_teachers_over_50_km_and_no_sub_venue():
    distances, policy = Settings().distances, POLICY.meetings
    planned = meetings(district_teachers(SCHOOLS), SCHOOLS)
    _, far = planned["far"]
    ScheduleMeeting(**far)
    distant = [p for p in far["participants"] if distances.far(p["school_id"], far["venue_id"],
                                                               policy.sub_venue_beyond_km)]
    assert len(distant) == 8 > policy.sub_venue_above_participants and not far.get("sub_venue_ids")
    assert all(distances.km(p["school_id"], far["venue_id"]) > 80 for p in far["participants"])


def test_s10_the_non_education_meeting_is_about_no_teaching_and_takes_6_teachers():
    organiser, meeting = meetings(district_teachers(SCHOOLS), SCHOOLS)["non_education"]
    ScheduleMeeting(**meeting)
    assert DIRECTORY.get(organiser).kind.value == "department" and meeting["concerns_teaching"] is False
    assert len(meeting["participants"]) == 6
