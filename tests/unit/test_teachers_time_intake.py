"""Teachers' time at intake (issue 10): teachers registered, secondments requested, departures and
returns reported (S7), training sessions reported (S8), meetings scheduled (S9, S10). Pure domain,
no I/O; the commands over NATS are in tests/integration/test_teachers_time_intake_commands.py."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from jianfu.events.distances import DistanceTable
from jianfu.events.errors import Refused
from jianfu.events.organisations import Directory, Organisation, OrgKind
from jianfu.events.schemas.meetings import MEETING_MAX_PARTICIPANTS, ScheduleMeeting
from jianfu.events.schemas.secondments import (
    ReportTeacherReturned,
    ReportTeacherSeconded,
    RequestSecondment,
    SecondmentApproved,
    SecondmentConsented,
    SecondmentRefused,
    SecondmentRequested,
    TeacherReturned,
    TeacherSeconded,
)
from jianfu.events.schemas.teachers import RegisterTeacher, TeacherRegistered
from jianfu.events.schemas.training import ReportTrainingSession
from jianfu.requests.domain.inspections import UNIT_KINDS
from jianfu.requests.domain.meetings import SCHEDULING_KINDS, schedule_meeting
from jianfu.requests.domain.secondments import (
    REPORTING_KINDS,
    SecondmentRecord,
    report_returned,
    report_seconded,
    request_secondment,
)
from jianfu.requests.domain.teachers import REGISTERING_KINDS, register_teacher, teacher_of
from jianfu.requests.domain.training import ORGANISER_KINDS, report_training, session_differences, session_id_for
from pydantic import ValidationError

from tests.factories import DIRECTORY, POLICY, SCHOOLS

BUREAU, HR = DIRECTORY.get("edu-bureau"), DIRECTORY.get("hr-bureau")
PUBLICITY, HEALTH = DIRECTORY.get("dept-publicity"), DIRECTORY.get("dept-health")
SCHOOL, OTHER_SCHOOL = DIRECTORY.get(SCHOOLS[0]), DIRECTORY.get(SCHOOLS[1])
RESEARCH = DIRECTORY.get("teaching-research-office")
TODAY = date(2026, 10, 15)
IN_FORCE = POLICY.plan_in_force_from
CALENDAR = POLICY.school_calendar
TEACHER = TeacherRegistered(teacher_id="t-0001", school_id=SCHOOL.org_id, name="张老师", subject="语文")


def command_id() -> str:
    return str(uuid.uuid4())


def raises(code: str, field: str | None):
    """Refused with ``code`` naming ``field``."""

    class _Check:
        def __enter__(self):
            self.context = pytest.raises(Refused)
            self.info = self.context.__enter__()
            return self

        def __exit__(self, *exc):
            suppressed = self.context.__exit__(*exc)
            assert (self.info.value.code, self.info.value.field) == (code, field), self.info.value.message
            return suppressed

    return _Check()


# --- teachers ------------------------------------------------------------------------------------

def registration(**overrides: Any) -> RegisterTeacher:
    return RegisterTeacher.model_validate({"command_id": command_id(), "teacher_id": "t-0001", "name": "张老师",
                                           "subject": "语文"} | overrides)


def test_s7_a_school_registers_its_own_teacher_and_only_schools_and_the_bureau_register():
    assert REGISTERING_KINDS == {OrgKind.SCHOOL, OrgKind.EDUCATION_BUREAU}
    registered = register_teacher(registration(), SCHOOL, None, DIRECTORY)
    assert (registered.school_id, registered.previous_school_id) == (SCHOOL.org_id, None)
    assert register_teacher(registration(school_id=SCHOOL.org_id), SCHOOL, None, DIRECTORY) == registered


def test_s7_a_school_names_no_other_school():
    with raises("INVALID_FIELD", "school_id"):
        register_teacher(registration(school_id=OTHER_SCHOOL.org_id), SCHOOL, None, DIRECTORY)


def test_s7_the_same_data_again_is_no_new_registration_and_a_correction_is_one():
    assert register_teacher(registration(), SCHOOL, TEACHER, DIRECTORY) is None
    corrected = register_teacher(registration(subject="数学"), SCHOOL, TEACHER, DIRECTORY)
    assert (corrected.subject, corrected.previous_school_id) == ("数学", None)


def test_s7_a_school_cannot_take_over_a_teacher_held_by_another_school():
    with raises("INVALID_STATE", "teacher_id"):
        register_teacher(registration(), OTHER_SCHOOL, TEACHER, DIRECTORY)


def test_s7_the_bureau_names_the_school_a_school_of_the_directory_and_moves_teachers():
    with raises("INVALID_FIELD", "school_id"):
        register_teacher(registration(), BUREAU, None, DIRECTORY)
    for not_a_school in ("dept-health", "school-nowhere"):
        with raises("INVALID_FIELD", "school_id"):
            register_teacher(registration(school_id=not_a_school), BUREAU, None, DIRECTORY)
    moved = register_teacher(registration(school_id=OTHER_SCHOOL.org_id), BUREAU, TEACHER, DIRECTORY)
    assert (moved.school_id, moved.previous_school_id) == (OTHER_SCHOOL.org_id, SCHOOL.org_id)


def test_s7_no_other_kind_registers_teachers():
    with raises("FORBIDDEN", "org_id"):
        register_teacher(registration(school_id=SCHOOL.org_id), HEALTH, None, DIRECTORY)


def test_s7_the_teacher_is_the_last_registration():
    moved = TEACHER.model_copy(update={"school_id": OTHER_SCHOOL.org_id, "previous_school_id": SCHOOL.org_id})
    assert teacher_of([TEACHER, "not an event", moved]) == moved
    assert teacher_of([]) is None


# --- secondments: requests -----------------------------------------------------------------------

def secondment_request(**overrides: Any) -> RequestSecondment:
    return RequestSecondment.model_validate({"command_id": command_id(), "teacher_id": "t-0001",
                                             "task": "脱贫攻坚驻村工作", "starts_on": "2026-11-01",
                                             "ends_on": "2027-01-31"} | overrides)


def test_s7_a_unit_requests_a_registered_teacher_from_the_teachers_school():
    secondment_id = uuid.uuid4()
    requested = request_secondment(secondment_request(), secondment_id, PUBLICITY, TODAY, TEACHER, IN_FORCE)
    assert (requested.secondment_id, requested.school_id, requested.borrowing_org_id) == (
        secondment_id, SCHOOL.org_id, PUBLICITY.org_id)
    assert (requested.days, requested.requested_on) == (92, TODAY)


def test_s7_only_units_request_secondments():
    assert OrgKind.SCHOOL not in UNIT_KINDS and OrgKind.TEACHER not in UNIT_KINDS
    assert OrgKind.SYSTEM not in UNIT_KINDS and OrgKind.HR_BUREAU in UNIT_KINDS


def test_s7_an_unregistered_teacher_is_not_found():
    with raises("NOT_FOUND", "teacher_id"):
        request_secondment(secondment_request(), uuid.uuid4(), PUBLICITY, TODAY, None, IN_FORCE)


def test_s7_a_secondment_starting_before_the_plan_took_effect_is_refused():
    with raises("INVALID_FIELD", "starts_on"):
        request_secondment(secondment_request(starts_on=str(IN_FORCE - timedelta(days=1))), uuid.uuid4(), PUBLICITY,
                           TODAY, TEACHER, IN_FORCE)


def test_s7_an_over_long_period_is_not_refused_at_intake():
    """S7: approvals refuses a period over the limit at consent and approval, on the record."""
    requested = request_secondment(secondment_request(starts_on="2026-11-01", ends_on="2027-06-30"), uuid.uuid4(),
                                   PUBLICITY, TODAY, TEACHER, IN_FORCE)
    assert requested.days == 242 > POLICY.secondment.max_days


def test_s7_a_period_ending_before_it_starts_is_refused_by_the_schema():
    with pytest.raises(ValidationError):
        secondment_request(starts_on="2026-11-01", ends_on="2026-10-31")


# --- secondments: departures and returns ---------------------------------------------------------

def requested(unit: str = "dept-publicity", starts: str = "2026-10-01", ends: str = "2026-12-31",
              secondment_id: uuid.UUID | None = None) -> SecondmentRequested:
    starts_on, ends_on = date.fromisoformat(starts), date.fromisoformat(ends)
    return SecondmentRequested(secondment_id=secondment_id or uuid.uuid4(), teacher_id="t-0001",
                               school_id=SCHOOL.org_id, borrowing_org_id=unit, task="驻村", starts_on=starts_on,
                               ends_on=ends_on, days=(ends_on - starts_on).days + 1, requested_on=date(2026, 9, 1))


def consented(request: SecondmentRequested) -> SecondmentConsented:
    return SecondmentConsented(secondment_id=request.secondment_id, teacher_id="t-0001",
                               consented_by_org_id=BUREAU.org_id, continuous_days=request.days)


def approved(request: SecondmentRequested) -> SecondmentApproved:
    return SecondmentApproved(secondment_id=request.secondment_id, teacher_id="t-0001",
                              approved_by_org_id=HR.org_id, continuous_days=request.days)


def refused(request: SecondmentRequested) -> SecondmentRefused:
    return SecondmentRefused(secondment_id=request.secondment_id, teacher_id="t-0001", stage="consent",
                             refused_by_org_id=BUREAU.org_id, refusal_code="AFFECTS_TEACHING", reason="影响教学",
                             automatic=False)


def departure_report(**overrides: Any) -> ReportTeacherSeconded:
    return ReportTeacherSeconded.model_validate({"command_id": command_id(), "teacher_id": "t-0001",
                                                 "left_on": "2026-10-08"} | overrides)


def return_report(**overrides: Any) -> ReportTeacherReturned:
    return ReportTeacherReturned.model_validate({"command_id": command_id(), "teacher_id": "t-0001",
                                                 "returned_on": "2026-10-12"} | overrides)


def seconded(events: list, reporter=PUBLICITY, **overrides: Any):
    return report_seconded(departure_report(**overrides), reporter, TODAY, TEACHER, SecondmentRecord.folded(events),
                           IN_FORCE, DIRECTORY)


def returned(events: list, reporter=PUBLICITY, **overrides: Any):
    return report_returned(return_report(**overrides), reporter, TODAY, TEACHER, SecondmentRecord.folded(events))


def test_s7_the_record_folds_each_secondment_s_decisions_and_whether_the_teacher_is_away():
    first, second = requested(), requested(unit="dept-health")
    left = seconded([first, consented(first), approved(first)]).event
    record = SecondmentRecord.folded([first, second, consented(first), approved(first), refused(second), left])
    assert [(s.consented, s.approved, s.refused) for s in record.secondments.values()] == [
        (True, True, False), (False, False, True)]
    assert record.away == left and record.last_return is None
    back = returned([first, left]).event
    record = SecondmentRecord.folded([first, left, back])
    assert (record.away, record.last_return) == (None, back)


def test_s7_a_decision_on_a_secondment_not_on_record_is_passed_over():
    assert SecondmentRecord.folded([consented(requested())]).secondments == {}


def test_s7_a_departure_under_a_consented_and_approved_secondment_says_so_with_its_end():
    request = requested()
    reported = seconded([request, consented(request), approved(request)])
    departure = reported.event
    assert not reported.already_reported
    assert (departure.secondment_id, departure.consented, departure.approved, departure.ends_on) == (
        request.secondment_id, True, True, date(2026, 12, 31))
    assert (departure.school_id, departure.borrowing_org_id, departure.reported_by_org_id) == (
        SCHOOL.org_id, PUBLICITY.org_id, PUBLICITY.org_id)


def test_s7_a_departure_with_only_the_bureaus_consent_is_recorded_unapproved():
    request = requested()
    departure = seconded([request, consented(request)]).event
    assert (departure.consented, departure.approved) == (True, False)


def test_s7_a_departure_with_no_secondment_on_record_names_none():
    departure = seconded([requested(unit="dept-health")]).event
    assert (departure.secondment_id, departure.consented, departure.approved, departure.ends_on) == (
        None, False, False, None)


def test_s7_by_default_the_departure_is_under_the_units_latest_secondment_not_refused():
    older, newer, refused_one = requested(), requested(starts="2027-01-01", ends="2027-03-31"), requested()
    events = [older, consented(older), newer, refused_one, refused(refused_one)]
    assert seconded(events).event.secondment_id == newer.secondment_id
    assert seconded([older, newer, refused(newer)]).event.secondment_id == older.secondment_id


def test_s7_a_named_secondment_must_be_the_teachers_with_that_unit():
    mine, theirs = requested(), requested(unit="dept-health")
    assert seconded([mine, theirs], secondment_id=str(mine.secondment_id)).event.secondment_id == mine.secondment_id
    for named in (theirs.secondment_id, uuid.uuid4()):
        with raises("INVALID_FIELD", "secondment_id"):
            seconded([mine, theirs], secondment_id=str(named))


def test_s7_the_school_reports_a_departure_naming_a_unit_of_the_directory():
    assert REPORTING_KINDS == UNIT_KINDS | {OrgKind.SCHOOL}
    departure = seconded([], reporter=SCHOOL, borrowing_org_id=PUBLICITY.org_id).event
    assert (departure.borrowing_org_id, departure.reported_by_org_id) == (PUBLICITY.org_id, SCHOOL.org_id)
    with raises("INVALID_FIELD", "borrowing_org_id"):
        seconded([], reporter=SCHOOL)
    with raises("UNKNOWN_ORG", "borrowing_org_id"):
        seconded([], reporter=SCHOOL, borrowing_org_id="dept-nowhere")
    with raises("INVALID_FIELD", "borrowing_org_id"):
        seconded([], reporter=SCHOOL, borrowing_org_id=OTHER_SCHOOL.org_id)


def test_s7_another_school_reports_no_departure_or_return_of_the_teacher():
    with raises("FORBIDDEN", "teacher_id"):
        seconded([], reporter=OTHER_SCHOOL, borrowing_org_id=PUBLICITY.org_id)
    left = seconded([]).event
    with raises("FORBIDDEN", "teacher_id"):
        returned([left], reporter=OTHER_SCHOOL)


def test_s7_a_unit_reports_only_its_own_borrowing():
    assert seconded([], borrowing_org_id=PUBLICITY.org_id).event.borrowing_org_id == PUBLICITY.org_id
    with raises("INVALID_FIELD", "borrowing_org_id"):
        seconded([], borrowing_org_id=HEALTH.org_id)


def test_s7_an_unregistered_teacher_has_no_departure_or_return():
    with raises("NOT_FOUND", "teacher_id"):
        report_seconded(departure_report(), PUBLICITY, TODAY, None, SecondmentRecord(), IN_FORCE, DIRECTORY)
    with raises("NOT_FOUND", "teacher_id"):
        report_returned(return_report(), PUBLICITY, TODAY, None, SecondmentRecord())


def test_s7_left_on_is_not_after_today_nor_before_the_plan():
    assert seconded([], left_on=str(TODAY)).event.left_on == TODAY
    for day in (TODAY + timedelta(days=1), IN_FORCE - timedelta(days=1)):
        with raises("INVALID_FIELD", "left_on"):
            seconded([], left_on=str(day))


def test_s7_reported_again_while_away_with_the_same_unit_it_is_the_departure_on_record():
    left = seconded([]).event
    again = seconded([left], reporter=SCHOOL, borrowing_org_id=PUBLICITY.org_id, left_on="2026-10-09")
    assert again.already_reported and again.event == left


def test_s7_a_teacher_away_with_one_unit_is_not_reported_leaving_for_another():
    left = seconded([]).event
    with raises("INVALID_STATE", "teacher_id"):
        seconded([left], reporter=HEALTH)


def test_s7_a_new_departure_after_a_return_starts_no_earlier_than_the_return():
    left = seconded([], left_on="2026-10-01").event
    back = returned([left], returned_on="2026-10-10").event
    assert seconded([left, back], left_on="2026-10-10").event.left_on == date(2026, 10, 10)
    with raises("INVALID_FIELD", "left_on"):
        seconded([left, back], left_on="2026-10-09")


def test_s7_the_school_or_the_unit_holding_the_teacher_reports_the_return():
    left = seconded([], left_on="2026-10-08").event
    for reporter in (SCHOOL, PUBLICITY):
        back = returned([left], reporter=reporter).event
        assert (back.borrowing_org_id, back.left_on, back.returned_on, back.reported_by_org_id) == (
            PUBLICITY.org_id, date(2026, 10, 8), date(2026, 10, 12), reporter.org_id)
    with raises("FORBIDDEN", "teacher_id"):
        returned([left], reporter=HEALTH)


def test_s7_a_return_while_not_away_is_refused_unless_it_repeats_the_last_return():
    with raises("INVALID_STATE", "teacher_id"):
        returned([])
    left = seconded([]).event
    back = returned([left]).event
    repeated = returned([left, back], reporter=SCHOOL)
    assert repeated.already_reported and repeated.event == back
    with raises("INVALID_STATE", "teacher_id"):
        returned([left, back], returned_on="2026-10-13")
    with raises("INVALID_STATE", "teacher_id"):
        returned([left, back], reporter=HEALTH)


def test_s7_returned_on_is_after_left_on_and_not_after_today():
    left = seconded([], left_on="2026-10-08").event
    for day in ("2026-10-08", "2026-10-07", str(TODAY + timedelta(days=1))):
        with raises("INVALID_FIELD", "returned_on"):
            returned([left], returned_on=day)
    assert returned([left], returned_on=str(TODAY)).event.returned_on == TODAY


def test_s7_a_return_carries_the_departures_secondment():
    request = requested()
    left = seconded([request]).event
    back = returned([request, left]).event
    assert back.secondment_id == request.secondment_id == left.secondment_id


def test_s7_events_of_the_aggregate_in_order_are_folded_as_stored():
    left = TeacherSeconded(teacher_id="t-0001", school_id=SCHOOL.org_id, borrowing_org_id=PUBLICITY.org_id,
                           left_on=date(2026, 9, 1), secondment_id=None, consented=False, approved=False,
                           reported_by_org_id=PUBLICITY.org_id)
    back = TeacherReturned(teacher_id="t-0001", school_id=SCHOOL.org_id, borrowing_org_id=PUBLICITY.org_id,
                           secondment_id=None, left_on=date(2026, 9, 1), returned_on=date(2026, 9, 5),
                           reported_by_org_id=SCHOOL.org_id)
    again = left.model_copy(update={"left_on": date(2026, 9, 20)})
    assert SecondmentRecord.folded([left, back, again]).away == again


# --- training --------------------------------------------------------------------------------------

def session_report(**overrides: Any) -> ReportTrainingSession:
    return ReportTrainingSession.model_validate({"command_id": command_id(), "title": "新课标 校本研修",
                                                 "held_on": "2026-10-12", "level": "school_based",
                                                 "teachers_required": True, "participants": 40} | overrides)


def training(reporter=SCHOOL, **overrides: Any):
    return report_training(session_report(**overrides), reporter, TODAY, IN_FORCE, DIRECTORY, CALENDAR)


def test_s8_a_session_is_reported_by_its_organiser_with_the_semester_of_its_day():
    assert ORGANISER_KINDS == UNIT_KINDS | {OrgKind.SCHOOL}
    session = training()
    assert (session.organiser_org_id, session.reported_by_org_id, session.semester) == (
        SCHOOL.org_id, SCHOOL.org_id, "2026-autumn")
    assert training(held_on="2026-03-02").semester == "2026-spring"


def test_s8_one_session_however_often_and_by_whomever_reported():
    """S8: the id comes from organiser, day and title as normalise_title reads it."""
    by_organiser = training(reporter=HEALTH, title="防溺水 安全培训", level=None)
    by_school = training(organiser_org_id=HEALTH.org_id, title="防溺水安全培训", level=None)
    assert by_organiser.session_id == by_school.session_id == session_id_for(
        HEALTH.org_id, date(2026, 10, 12), "防溺水安全培训")
    assert by_school.reported_by_org_id == SCHOOL.org_id
    assert training(reporter=HEALTH, held_on="2026-10-13").session_id != by_organiser.session_id


def test_s8_a_second_report_is_compared_field_by_field():
    first = training(participants=40)
    assert session_differences(first, training(participants=40)) == []
    assert session_differences(first, training(participants=41, teachers_required=False)) == [
        "teachers_required", "participants"]


def test_s8_a_unit_reports_only_its_own_sessions_a_school_names_any_organiser_of_the_directory():
    with raises("INVALID_FIELD", "organiser_org_id"):
        training(reporter=HEALTH, organiser_org_id=RESEARCH.org_id)
    assert training(organiser_org_id=RESEARCH.org_id).organiser_org_id == RESEARCH.org_id
    with raises("UNKNOWN_ORG", "organiser_org_id"):
        training(organiser_org_id="dept-nowhere")
    with_jianfu = Directory(district=DIRECTORY.district, organisations=[
        *DIRECTORY.organisations, Organisation(org_id="jianfu", kind=OrgKind.SYSTEM, name="jianfu")])
    with raises("INVALID_FIELD", "organiser_org_id"):
        report_training(session_report(organiser_org_id="jianfu"), SCHOOL, TODAY, IN_FORCE, with_jianfu, CALENDAR)


def test_s8_held_on_is_not_after_today_nor_before_the_plan():
    for day in (TODAY + timedelta(days=1), IN_FORCE - timedelta(days=1)):
        with raises("INVALID_FIELD", "held_on"):
            training(held_on=str(day))


def test_s8_teachers_are_listed_once_and_counted_in_participants():
    session = training(teacher_ids=["t-1", "t-2", "t-1"], participants=2)
    assert session.teacher_ids == ("t-1", "t-2")
    with raises("INVALID_FIELD", "participants"):
        training(teacher_ids=["t-1", "t-2", "t-3"], participants=2)


def test_s8_more_than_2000_teachers_are_refused_by_the_schema():
    with pytest.raises(ValidationError):
        session_report(teacher_ids=[f"t-{n}" for n in range(2001)], participants=2001)


# --- meetings ----------------------------------------------------------------------------------------

DISTANCES = DistanceTable(venues={"venue-a": "甲会议室", "venue-b": "乙会议室", "venue-c": "丙会议室"},
                          distances={(SCHOOL.org_id, "venue-a"): 60.0})


def meeting_form(**overrides: Any) -> ScheduleMeeting:
    return ScheduleMeeting.model_validate({
        "command_id": command_id(), "title": "安全工作部署会", "concerns_teaching": False, "held_on": "2026-11-05",
        "mode": "video", "venue_id": "venue-a", "sub_venue_ids": ["venue-b"],
        "participants": [{"teacher_id": "t-0001", "school_id": SCHOOL.org_id},
                         {"teacher_id": "t-0002", "school_id": OTHER_SCHOOL.org_id}]} | overrides)


def meeting(organiser=HEALTH, **overrides: Any):
    return schedule_meeting(meeting_form(**overrides), uuid.uuid4(), organiser, TODAY, IN_FORCE, DIRECTORY,
                            DISTANCES, CALENDAR)


def test_s9_a_meeting_is_recorded_with_its_semester_and_the_day_it_was_scheduled():
    assert SCHEDULING_KINDS == UNIT_KINDS | {OrgKind.SCHOOL}
    scheduled = meeting()
    assert (scheduled.organiser_org_id, scheduled.semester, scheduled.scheduled_on) == (
        HEALTH.org_id, "2026-autumn", TODAY)
    assert (scheduled.venue_id, scheduled.sub_venue_ids, len(scheduled.participants)) == ("venue-a", ("venue-b",), 2)
    assert meeting(organiser=SCHOOL, held_on="2027-03-01").semester == "2027-spring"


def test_s9_the_venue_and_each_sub_venue_are_venues_of_the_distance_table():
    with raises("INVALID_FIELD", "venue_id"):
        meeting(venue_id="venue-nowhere")
    with raises("INVALID_FIELD", "sub_venue_ids.1"):
        meeting(sub_venue_ids=["venue-b", "venue-nowhere"])


def test_s9_a_sub_venue_is_not_the_main_venue_nor_named_twice():
    with raises("INVALID_FIELD", "sub_venue_ids.0"):
        meeting(sub_venue_ids=["venue-a"])
    with raises("INVALID_FIELD", "sub_venue_ids.1"):
        meeting(sub_venue_ids=["venue-b", "venue-b"])


def test_s9_an_online_meeting_has_no_venue():
    scheduled = meeting(mode="online", venue_id=None, sub_venue_ids=[])
    assert (scheduled.venue_id, scheduled.sub_venue_ids) == (None, ())
    with pytest.raises(ValidationError):
        meeting_form(mode="online")


def test_s9_each_participants_school_is_a_school_of_the_directory():
    for school_id in ("dept-health", "school-nowhere"):
        participants = [{"teacher_id": "t-0001", "school_id": SCHOOL.org_id},
                        {"teacher_id": "t-0002", "school_id": school_id}]
        with raises("INVALID_FIELD", "participants.1.school_id"):
            meeting(participants=participants)


def test_s10_participants_are_not_checked_against_the_teacher_registry():
    """S10: a teacher id the registry does not know still counts against that teacher's cap."""
    participants = [{"teacher_id": "t-never-registered", "school_id": SCHOOL.org_id}]
    assert meeting(participants=participants).participants[0].teacher_id == "t-never-registered"


def test_s10_up_to_2000_participants_each_once():
    most = [{"teacher_id": f"t-{n}", "school_id": SCHOOL.org_id} for n in range(MEETING_MAX_PARTICIPANTS)]
    assert len(meeting(participants=most).participants) == 2000
    with pytest.raises(ValidationError):
        meeting_form(participants=[*most, {"teacher_id": "t-extra", "school_id": SCHOOL.org_id}])
    with pytest.raises(ValidationError):
        meeting_form(participants=[most[0], most[0]])


def test_s9_a_meeting_before_the_plan_took_effect_is_refused():
    with raises("INVALID_FIELD", "held_on"):
        meeting(held_on=str(IN_FORCE - timedelta(days=1)))
