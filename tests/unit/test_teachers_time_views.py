"""The S7–S10 read model's folds (``domain/teachers_view.py``, ``training_view.py``,
``meeting_view.py``), in memory, no I/O: a batch of N folds to the same rows as one event at a
time; secondments by status; days seconded per calendar year (a run across a year's end, renewals
joined, one still away counted to the last day ended); the S8 plan by edition and sessions marked
by the detector's verdicts; the S9 merge flag; the S10 counts per teacher."""

from __future__ import annotations

import random
from datetime import date

import pytest
from jianfu.compliance.domain.meeting_view import MEETING_VIEW, similar, week_of
from jianfu.compliance.domain.teachers_view import TEACHERS_VIEW, Away, days_seconded
from jianfu.compliance.domain.training_view import TRAINING_VIEW
from jianfu.compliance.read_model import VIEW
from jianfu.events.schemas.compliance import Rule

from tests.inspection_year import Folded
from tests.teachers_time import PLANNER, TeachersTime

SCHOOL, OTHER = "school-dwk-primary-1", "school-dwk-middle-2"
UNIT, ELSEWHERE = "dept-publicity", "dept-health"
SEMESTER = "2031-spring"


def gap(_day: date) -> int:
    return 30  # S7: the reference policy's renewal gap


def history() -> list:
    """A bit of everything the S7–S10 view folds, in log order."""
    t = TeachersTime()
    steps = [t.register("t-1", SCHOOL, "李老师"), t.register("t-2", OTHER, "王老师"), t.register("t-1", SCHOOL, "李 老师")]
    first = t.request("t-1", SCHOOL, UNIT, date(2030, 11, 1), date(2031, 1, 31))
    refused = t.request("t-2", OTHER, ELSEWHERE, date(2031, 1, 1), date(2031, 9, 1))
    steps += [first, refused, t.consent(first[1]), t.approve(first[1]), t.refuse(refused[1])]
    left = t.seconded("t-1", SCHOOL, UNIT, date(2030, 11, 1), first[1])
    unrequested = t.seconded("t-2", OTHER, ELSEWHERE, date(2031, 3, 1))
    steps += [left, t.day(date(2030, 12, 31)), unrequested, t.returned(left[1], date(2031, 2, 1)),
              t.day(date(2031, 3, 10)), t.violation(Rule.UNAPPROVED_SECONDMENT, ELSEWHERE, teacher="t-2")]
    steps += [t.plan(SEMESTER, 1, ("A-1", "语文骨干教师培训", PLANNER)),
              t.plan(SEMESTER, 2, ("A-1", "语文骨干教师培训", PLANNER), ("B-1", "校本研修", SCHOOL))]
    unplanned = t.session(SEMESTER, SCHOOL, "信息技术培训", date(2031, 3, 20))
    steps += [unplanned, t.session(SEMESTER, PLANNER, "语文骨干教师培训", date(2031, 3, 21), plan_code="A-1"),
              t.violation(Rule.UNPLANNED_TRAINING, SCHOOL, semester=SEMESTER, session_id=str(unplanned[1].session_id))]
    people = (("t-1", SCHOOL), ("t-2", OTHER))
    meeting = t.meeting(SEMESTER, UNIT, "安全生产工作会", date(2031, 3, 17), people, concerns_teaching=False)
    steps += [meeting, t.meeting(SEMESTER, UNIT, "安全生产工作会（第二次）", date(2031, 3, 19), people),
              t.meeting(SEMESTER, UNIT, "安全生产", date(2031, 3, 24), people),
              t.violation(Rule.NON_EDUCATION_MEETING_FOR_TEACHERS, UNIT, semester=SEMESTER,
                          meeting_id=str(meeting[1].meeting_id)),
              t.violation(Rule.MEETING_QUOTA_EXCEEDED, UNIT, school=SCHOOL, teacher="t-1", semester=SEMESTER,
                          meeting_id=str(meeting[1].meeting_id))]
    return steps


@pytest.mark.parametrize("seed", range(5))
def test_s7_s10_a_batch_of_n_folds_to_the_same_rows_as_one_event_at_a_time(seed):
    """S7–S10: needs come from the fact alone, so any cut of the log into batches gives the same rows."""
    steps = history()
    whole = Folded(VIEW).fold(steps)
    one_by_one, cut = Folded(VIEW), Folded(VIEW)
    for n, step in enumerate(steps, 1):
        one_by_one.fold([step], start=n)
    rng, n = random.Random(seed), 0
    while n < len(steps):
        size = rng.randint(1, 6)
        cut.fold(steps[n:n + size], start=n + 1)
        n += size
    assert one_by_one.tables == whole.tables == cut.tables
    assert any(whole.tables[name] for name in ("teachers", "secondments", "departures", "training_sessions",
                                               "meetings", "meeting_weeks", "teacher_semesters"))


def test_s7_secondments_show_their_decisions_departures_and_returns():
    folded = Folded(TEACHERS_VIEW).fold(history())
    rows = {row["teacher_id"]: row for row in folded.tables["secondments"].values() if row["secondment_id"]}
    assert rows["t-1"]["status"] == "returned" and rows["t-1"]["returned_on"] == date(2031, 2, 1)
    assert (rows["t-1"]["consented_by_org_id"], rows["t-1"]["approved_by_org_id"]) == ("edu-bureau", "hr-bureau")
    assert (rows["t-2"]["status"], rows["t-2"]["refusal_code"], rows["t-2"]["automatic"]) == \
        ("refused", "OVER_HALF_YEAR", True)
    unrequested = folded.row("secondments", "t-2", "departure:2031-03-01")
    assert unrequested["status"] == "away" and unrequested["secondment_id"] is None
    assert folded.row("calendar_days", "days")["last_day"] == date(2031, 3, 10)
    teacher = folded.row("teachers", "t-1")
    assert (teacher["name"], teacher["registrations"]) == ("李 老师", 2)


def test_s7_a_departure_reported_twice_is_one_and_a_day_folded_again_keeps_the_later():
    t = TeachersTime()
    left = t.seconded("t-1", SCHOOL, UNIT, date(2031, 1, 5))
    folded = Folded(TEACHERS_VIEW).fold([left, left, t.day(date(2031, 1, 9)), t.day(date(2031, 1, 8))])
    assert folded.row("secondments", "t-1", "departure:2031-01-05")["departures"] == 1
    assert folded.row("calendar_days", "days")["last_day"] == date(2031, 1, 9)


def test_s7_a_run_across_a_year_boundary_counts_its_days_in_each_year():
    """S7: 2030-10-01 to 2031-03-31 away: 92 days in 2030 and 90 in 2031, one run of 182 days."""
    away = [Away(date(2030, 10, 1), date(2031, 4, 1), UNIT)]
    before, after = days_seconded(away, 2030, None, gap), days_seconded(away, 2031, None, gap)
    assert (before.continuous_days, before.total_days) == (92, 92)
    assert (after.continuous_days, after.total_days) == (90, 90)
    assert before.longest_run == after.longest_run and after.longest_run.days == 182 and not after.away


def test_s7_renewals_with_the_same_unit_within_the_gap_are_one_run_with_another_unit_two():
    """S7: back within 30 days to the same unit continues the run (its gap inside it counted); with
    another unit it does not."""
    back_to_back = [Away(date(2031, 1, 1), date(2031, 4, 1), UNIT), Away(date(2031, 4, 20), date(2031, 7, 1), UNIT)]
    counted = days_seconded(back_to_back, 2031, None, gap)
    assert counted.total_days == 90 + 72 and counted.continuous_days == (date(2031, 6, 30) - date(2031, 1, 1)).days + 1
    other = [back_to_back[0], Away(date(2031, 4, 20), date(2031, 7, 1), ELSEWHERE)]
    counted = days_seconded(other, 2031, None, gap)
    assert counted.total_days == 162 and counted.continuous_days == 90
    far_apart = [back_to_back[0], Away(date(2031, 5, 2), date(2031, 7, 1), UNIT)]
    assert days_seconded(far_apart, 2031, None, gap).continuous_days == 90


def test_s7_one_still_away_counts_up_to_the_last_day_ended():
    away = [Away(date(2031, 3, 1), None, UNIT)]
    counted = days_seconded(away, 2031, date(2031, 3, 10), gap)
    assert (counted.continuous_days, counted.total_days, counted.away) == (10, 10, True)
    assert days_seconded(away, 2031, None, gap).total_days == 0  # no day ended yet: nothing counted
    assert days_seconded(away, 2031, date(2031, 2, 27), gap).longest_run is None


def test_s8_the_plan_in_force_is_the_latest_edition_and_sessions_are_unplanned_only_by_a_violation():
    t = TeachersTime()
    second = t.plan(SEMESTER, 2, ("A-1", "语文骨干教师培训", PLANNER), ("B-1", "校本研修", SCHOOL))
    session = t.session(SEMESTER, SCHOOL, "信息技术培训", date(2031, 3, 20))
    folded = Folded(TRAINING_VIEW).fold([second, t.plan(SEMESTER, 1, ("A-1", "语文骨干教师培训", PLANNER)), session,
                                         session])
    assert folded.row("training_plans", SEMESTER)["edition"] == 2  # an older edition replaces nothing
    assert folded.row("training_plan_editions", SEMESTER, 1)["session_count"] == 1
    assert folded.row("training_plan_sessions", SEMESTER, 2, 1)["code"] == "B-1"
    row = folded.row("training_sessions", SEMESTER, str(session[1].session_id))
    assert row["reports"] == 2 and row["unplanned_violation_id"] is None  # the view never judges itself
    found = t.violation(Rule.UNPLANNED_TRAINING, SCHOOL, semester=SEMESTER, session_id=str(session[1].session_id))
    folded.fold([found], start=5)
    assert folded.row("training_sessions", SEMESTER, str(session[1].session_id))["unplanned_violation_id"] == \
        found[1].violation_id


def test_s9_similar_titles_are_equal_once_normalised_or_one_inside_the_other():
    assert similar("安全生产工作会", "安全生产工作会(第二次)") and similar("安全生产", "安全生产工作会")
    assert not similar("安全生产工作会", "防汛工作会") and not similar("", "安全")
    assert week_of(date(2031, 1, 1)) == week_of(date(2030, 12, 30)) == "2031-W01" != week_of(date(2030, 12, 29))


def test_s9_meetings_of_one_organiser_alike_in_one_week_name_each_other_to_merge():
    """S9 merge flag: same organiser, same ISO week, alike titles; not another week or organiser."""
    t = TeachersTime()
    people = (("t-1", SCHOOL),)
    first = t.meeting(SEMESTER, UNIT, "安全生产工作会", date(2031, 3, 17), people)
    second = t.meeting(SEMESTER, UNIT, "安全生产工作会（第二次）", date(2031, 3, 19), people)
    unlike = t.meeting(SEMESTER, UNIT, "防汛工作会", date(2031, 3, 18), people)
    next_week = t.meeting(SEMESTER, UNIT, "安全生产工作会", date(2031, 3, 24), people)
    by_other = t.meeting(SEMESTER, ELSEWHERE, "安全生产工作会", date(2031, 3, 18), people)
    folded = Folded(MEETING_VIEW).fold([first, second]).fold([unlike, next_week, by_other], start=3)
    merge_with = {m[1].meeting_id: row["merge_with"] for m in (first, second, unlike, next_week, by_other)
                  for row in folded.tables["meeting_weeks"].values() if row["meeting_id"] == str(m[1].meeting_id)}
    assert merge_with[first[1].meeting_id] == [str(second[1].meeting_id)]
    assert merge_with[second[1].meeting_id] == [str(first[1].meeting_id)]
    assert merge_with[unlike[1].meeting_id] == merge_with[next_week[1].meeting_id] == \
        merge_with[by_other[1].meeting_id] == []


def test_s10_per_teacher_and_semester_meetings_by_organiser_and_quota_violations():
    folded = Folded(MEETING_VIEW).fold(history())
    teacher = folded.row("teacher_semesters", SEMESTER, "t-1")
    assert (teacher["meetings"], teacher["quota_violations"], teacher["school_id"]) == (3, 1, SCHOOL)
    assert folded.row("teacher_meetings", SEMESTER, "t-2", UNIT)["meetings"] == 3
    meeting = next(row for row in folded.tables["meetings"].values() if row["title"] == "安全生产工作会")
    assert meeting["non_education_violation_id"] and meeting["quota_violations"] == 1
    assert (meeting["participants"], meeting["schools"]) == (2, {OTHER: 1, SCHOOL: 1})


def random_history(rng: random.Random) -> list:
    """A random S7–S10 history, consistent as the services keep it (a teacher away once at a
    time, returned after leaving), with repeats and violations naming what came before."""
    t = TeachersTime(start=rng.randrange(10**6))
    teachers = {f"t-{n}": rng.choice((SCHOOL, OTHER)) for n in range(4)}
    titles = ("安全生产工作会", "安全生产", "防汛工作会", "安全生产工作会（第二次）")
    steps, away, day, requested, sessions, meetings = [], {}, date(2031, 3, 2), [], [], []
    for _ in range(60):
        day = day.fromordinal(day.toordinal() + rng.randint(0, 3))
        teacher = rng.choice(sorted(teachers))
        school = teachers[teacher]
        roll = rng.random()
        if roll < 0.1:
            steps.append(t.register(teacher, school, rng.choice(("李老师", "王老师"))))
        elif roll < 0.2:
            requested.append(t.request(teacher, school, rng.choice((UNIT, ELSEWHERE)), day,
                                     day.fromordinal(day.toordinal() + 60))[1])
            steps.append(("x", requested[-1], teacher))
        elif roll < 0.3 and requested:
            chosen = rng.choice(requested)
            steps.append(rng.choice((t.consent, t.approve, t.refuse))(chosen))
        elif roll < 0.4 and teacher not in away:
            under = rng.choice([None, *[r for r in requested if r.teacher_id == teacher]])
            left = t.seconded(teacher, school, under.borrowing_org_id if under else UNIT, day, under)
            away[teacher] = left[1]
            steps += [left] * rng.randint(1, 2)
        elif roll < 0.5 and teacher in away and day > away[teacher].left_on:
            steps.append(t.returned(away.pop(teacher), day))
        elif roll < 0.6:
            steps.append(t.day(day))
        elif roll < 0.7:
            sessions.append(t.session(SEMESTER, rng.choice((SCHOOL, PLANNER, UNIT)), rng.choice(titles), day))
            steps += [sessions[-1]] * rng.randint(1, 2)
        elif roll < 0.75:
            steps.append(t.plan(SEMESTER, rng.randint(1, 3), ("A-1", "语文骨干教师培训", PLANNER)))
        elif roll < 0.9:
            people = tuple((p, teachers[p]) for p in rng.sample(sorted(teachers), rng.randint(1, 4)))
            meetings.append(t.meeting(SEMESTER, rng.choice((UNIT, ELSEWHERE)), rng.choice(titles), day, people))
            steps.append(meetings[-1])
        elif meetings:
            meeting = rng.choice(meetings)[1]
            steps.append(rng.choice((
                t.violation(Rule.VIDEO_SUB_VENUE_REQUIRED, meeting.organiser_org_id, semester=SEMESTER,
                            meeting_id=str(meeting.meeting_id)),
                t.violation(Rule.MEETING_QUOTA_EXCEEDED, meeting.organiser_org_id, teacher=teacher, school=school,
                            semester=SEMESTER, meeting_id=str(meeting.meeting_id)),
                *([t.violation(Rule.UNPLANNED_TRAINING, SCHOOL, semester=SEMESTER,
                               session_id=str(rng.choice(sessions)[1].session_id))] if sessions else []))))
    return steps


@pytest.mark.parametrize("seed", range(20))
def test_s7_s10_random_histories_fold_alike_one_event_per_batch_and_in_random_batches(seed):
    rng = random.Random(seed)
    steps = random_history(rng)
    one_by_one, cut = Folded(VIEW), Folded(VIEW)
    for n, step in enumerate(steps, 1):
        one_by_one.fold([step], start=n)
    n = 0
    while n < len(steps):
        size = rng.randint(1, 20)
        cut.fold(steps[n:n + size], start=n + 1)
        n += size
    assert one_by_one.tables == cut.tables
