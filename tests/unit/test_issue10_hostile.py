"""Issue 10's S7–S10 surface attacked as a hostile integrator would, as pure domain rules:
renewal chains that try to dodge the half-year rule (S7), dates intake would accept but no
calendar can place (S8, S9), and a departure under a refused secondment (S7)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from jianfu.approvals.domain.secondment import TeacherSecondments
from jianfu.approvals.domain.training_plan import TrainingPlan
from jianfu.compliance.domain.meeting_view import MEETING_VIEW, MERGE_WITH_MAX, week_of
from jianfu.events.distances import DistanceTable
from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.schemas.meetings import ScheduleMeeting
from jianfu.events.schemas.secondments import (
    ReportTeacherSeconded,
    SecondmentApproved,
    SecondmentConsented,
    SecondmentRefusalCode,
    SecondmentRefused,
    SecondmentRequested,
)
from jianfu.events.schemas.teachers import TeacherRegistered
from jianfu.events.schemas.training import PlannedTraining
from jianfu.events.settings import REFERENCE
from jianfu.requests.domain.meetings import schedule_meeting
from jianfu.requests.domain.secondments import SecondmentRecord, report_seconded

from tests.factories import DIRECTORY, POLICY, SCHOOLS
from tests.inspection_year import Folded
from tests.teachers_time import TeachersTime

TEACHER, SCHOOL = "t-0001", "school-dwk-primary-1"
BUREAU, HR, PUBLICITY, HEALTH = (DIRECTORY.get(key) for key in ("edu-bureau", "hr-bureau", "dept-publicity",
                                                               "dept-health"))
RULES = POLICY.secondment
START = date(2027, 3, 1)


def requested(starts_on: date, days: int, unit: str = PUBLICITY.org_id) -> SecondmentRequested:
    return SecondmentRequested(secondment_id=uuid.uuid4(), teacher_id=TEACHER, school_id=SCHOOL,
                               borrowing_org_id=unit, task="全区文明城市创建迎检材料整理", starts_on=starts_on,
                               ends_on=starts_on + timedelta(days=days - 1), days=days, requested_on=date(2027, 1, 5))


def decided(events: list, request: SecondmentRequested) -> list:
    """``events`` with ``request`` requested, consented to and approved (each must pass)."""
    events = [*events, request]
    consent = TeacherSecondments.from_events(TEACHER, events).consent(request.secondment_id, BUREAU, RULES)
    assert isinstance(consent, SecondmentConsented), consent
    approval = TeacherSecondments.from_events(TEACHER, [*events, consent]).approve(request.secondment_id, HR, RULES)
    assert isinstance(approval, SecondmentApproved), approval
    return [*events, consent, approval]


def consent_to(events: list, request: SecondmentRequested):
    return TeacherSecondments.from_events(TEACHER, [*events, request]).consent(request.secondment_id, BUREAU, RULES)


def test_s7_requesting_the_later_period_first_does_not_dodge_the_half_year_rule():
    """S7 连续续借合并计算: a unit that gets the second half of a run approved first and asks for
    the first half afterwards has asked for one run of 210 days: the back-filled period is refused
    by rule, with the run it would make."""
    later = requested(START + timedelta(days=150), 60)
    events = decided([], later)
    earlier = requested(START, 150)
    refusal = consent_to(events, earlier)
    assert isinstance(refusal, SecondmentRefused), refusal
    assert (refusal.refusal_code, refusal.automatic, refusal.continuous_days) == (
        SecondmentRefusalCode.OVER_HALF_YEAR, True, 210)


def test_s7_a_period_requested_first_is_still_judged_alone_when_a_renewal_waits():
    """S7: a renewal requested after a period does not count against it (the renewal is refused on
    its own turn); only a period requested earlier counts against a later request."""
    first = requested(START, 150)
    renewal = requested(START + timedelta(days=150), 60)
    events = [first, renewal]
    consent = TeacherSecondments.from_events(TEACHER, events).consent(first.secondment_id, BUREAU, RULES)
    assert isinstance(consent, SecondmentConsented) and consent.continuous_days == 150
    refusal = TeacherSecondments.from_events(TEACHER, [*events, consent]).consent(renewal.secondment_id, BUREAU, RULES)
    assert isinstance(refusal, SecondmentRefused) and refusal.continuous_days == 210


def test_s7_renewals_29_days_apart_are_one_run_and_the_one_past_half_a_year_is_refused():
    """S7: gaps of 29 days (fewer than the 30 of the policy) never end the run: 60 + 29 + 60 + 29
    + 60 days is 238 in a row."""
    first = requested(START, 60)
    second = requested(first.ends_on + timedelta(days=30), 60)
    events = decided(decided([], first), second)
    third = requested(second.ends_on + timedelta(days=30), 60)
    refusal = consent_to(events, third)
    assert isinstance(refusal, SecondmentRefused) and refusal.continuous_days == 238


def test_s7_a_spell_with_another_unit_between_two_periods_does_not_break_the_run():
    """S7: the teacher lent to another unit for ten days in between never went back to school;
    the first unit's two periods, ten days apart, are one run of 220 days."""
    first = requested(START, 150)
    elsewhere = requested(first.ends_on + timedelta(days=1), 10, HEALTH.org_id)
    events = decided(decided([], first), elsewhere)
    back = requested(elsewhere.ends_on + timedelta(days=1), 60)
    refusal = consent_to(events, back)
    assert isinstance(refusal, SecondmentRefused) and refusal.continuous_days == 220


def test_s7_overlapping_periods_are_one_run():
    """S7: a period overlapping one approved is one run with it, from the first start to the last end."""
    first = requested(START, 150)
    overlapping = requested(START + timedelta(days=100), 100)
    refusal = consent_to(decided([], first), overlapping)
    assert isinstance(refusal, SecondmentRefused) and refusal.continuous_days == 200


# Dates intake accepts but no calendar can place (S8, S9): a structured refusal, never a crash.

def plan_of(semester: str, today: date = date(2026, 8, 1)):
    session = PlannedTraining.model_validate({"code": "BB-01", "title": "初中语文骨干教师培训", "level": "backbone",
                                              "organiser_org_id": "teaching-research-office", "months": [3],
                                              "hours": 24})
    return TrainingPlan.from_events(semester, ()).publish([session], today, POLICY.school_calendar, DIRECTORY)


@pytest.mark.parametrize("semester", ["9999-autumn", "0000-spring", "0000-autumn"])
def test_s8_a_semester_the_calendar_cannot_place_is_refused_on_semester(semester):
    """S8: 9999-autumn would end in the year 10000 and 0000-spring begin in the year 0; the
    schema's pattern takes both, the calendar places neither."""
    with pytest.raises(Refused) as refused:
        plan_of(semester)
    assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID_FIELD, "semester")


def test_s8_the_last_semester_the_calendar_places_takes_a_plan():
    assert plan_of("9999-spring").semester == "9999-spring"


def meeting(held_on: str) -> ScheduleMeeting:
    return ScheduleMeeting.model_validate({
        "command_id": str(uuid.uuid4()), "title": "全区安全工作部署会", "concerns_teaching": True, "held_on": held_on,
        "mode": "in_person", "venue_id": "venue-edu-bureau",
        "participants": [{"teacher_id": "t-0001", "school_id": SCHOOLS[0]}]})


def schedule(held_on: str):
    return schedule_meeting(meeting(held_on), uuid.uuid4(), HEALTH, date(2026, 10, 15), POLICY.plan_in_force_from,
                            DIRECTORY, DistanceTable.load(REFERENCE / "distances.csv"), POLICY.school_calendar)


@pytest.mark.parametrize("held_on", ["9999-12-31", "9999-07-11"])
def test_s9_a_meeting_in_a_semester_the_calendar_cannot_place_is_refused_on_held_on(held_on):
    """S9/S10 count meetings per semester: a day after 10 July 9999 belongs to 9999-autumn, which
    ends in the year 10000; refused at intake, so no reader meets a meeting without a semester."""
    with pytest.raises(Refused) as refused:
        schedule(held_on)
    assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID_FIELD, "held_on")


def test_s9_a_meeting_on_the_last_day_the_calendar_places_is_scheduled():
    assert schedule("9999-07-10").semester == "9999-spring"


# A unit scheduling hundreds of alike meetings in one week (S9).

def test_s9_merge_with_names_at_most_the_bound_of_alike_meetings_whatever_the_batches():
    """S9 "merge similar meetings" is a flag: each meeting names at most ``MERGE_WITH_MAX`` of the
    alike meetings of its organiser that week (those with the smallest ids, so the rows do not
    depend on batching). Unbounded, each new alike meeting rewrote every other row with a list
    as long as the week: 300 meetings wrote some 45,000 ids, a few thousand stalled the projector
    and made one meeting's row larger than a reply."""
    t = TeachersTime()
    people = (("t-1", SCHOOL),)
    steps = [t.meeting("2026-autumn", HEALTH.org_id, "安全工作部署会", date(2026, 11, 5), people)
             for n in range(300)]
    whole = Folded(MEETING_VIEW).fold(steps)
    batched = Folded(MEETING_VIEW)
    for start in range(0, 300, 64):
        batched.fold(steps[start:start + 64], start=start + 1)
    ids = sorted(str(step[1].meeting_id) for step in steps)
    for step in steps:
        meeting_id = str(step[1].meeting_id)
        row = whole.row("meeting_weeks", HEALTH.org_id, week_of(date(2026, 11, 5)), meeting_id)
        assert row["merge_with"] == [other for other in ids if other != meeting_id][:MERGE_WITH_MAX]
        assert batched.row("meeting_weeks", HEALTH.org_id, week_of(date(2026, 11, 5)), meeting_id) == row


def test_s9_a_few_alike_meetings_each_name_all_the_others():
    t = TeachersTime()
    steps = [t.meeting("2026-autumn", HEALTH.org_id, "安全工作部署会", date(2026, 11, day), (("t-1", SCHOOL),))
             for day in (2, 3, 4)]
    folded = Folded(MEETING_VIEW).fold(steps)
    ids = {str(step[1].meeting_id) for step in steps}
    for meeting_id in ids:
        row = folded.row("meeting_weeks", HEALTH.org_id, week_of(date(2026, 11, 2)), meeting_id)
        assert row["merge_with"] == sorted(ids - {meeting_id})


# Left to the detector's owners (services/compliance/domain/teachers_time_rules.py, not edited here).

# A departure outside the period the decisions were taken on (S7).

def departure(events: list, left_on: date, secondment_id: uuid.UUID | None = None):
    report = ReportTeacherSeconded(command_id=uuid.uuid4(), teacher_id=TEACHER, left_on=left_on,
                                   secondment_id=secondment_id)
    teacher = TeacherRegistered(teacher_id=TEACHER, school_id=SCHOOL, name="张老师", subject="语文")
    return report_seconded(report, PUBLICITY, date(2027, 12, 31), teacher, SecondmentRecord.folded(events),
                           POLICY.plan_in_force_from, DIRECTORY).event


@pytest.mark.parametrize("left_on,covered", [
    (START - timedelta(days=1), False),   # a day before the approved period
    (START, True),
    (START + timedelta(days=89), True),   # its last day
    (START + timedelta(days=120), False),  # a month after it ended: the old approval reused
])
def test_s7_a_departure_is_approved_only_on_a_day_of_the_approved_period(left_on, covered):
    """S7: consent and approval are for the period asked for. A teacher who leaves before it, or
    after it ended under an approval reused, left without both decisions for that time: the
    departure names the secondment but is not consented or approved (UnapprovedSecondment)."""
    request = requested(START, 90)
    events = decided([], request)
    for named in (None, request.secondment_id):
        left = departure(events, left_on, named)
        assert (left.secondment_id, left.consented, left.approved) == (request.secondment_id, covered, covered)
