"""S7–S10 decisions of the detector, folded with no I/O: facts go through the detector's own
projection in batches, each batch loading only the rows its facts name (``Need``) from an
in-memory copy of the tables, as the projector does; so a rule that needed a row it did not name
would decide otherwise here. Each test names its clause."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

import pytest
from jianfu.compliance.detection import ViolationRecorder, decision_id, detection
from jianfu.compliance.domain.folding import Fact, Projection, combine
from jianfu.compliance.domain.s7_detection import s7_detection
from jianfu.compliance.domain.s8_s10_detection import s8_s10_detection
from jianfu.compliance.domain.teachers_time_rules import notice_id
from jianfu.compliance.read_model import DETECTOR
from jianfu.events.distances import DistanceTable
from jianfu.events.organisations import EDUCATION_SYSTEM
from jianfu.events.schemas.compliance import Rule, ViolationDetected, violation_id
from jianfu.events.schemas.days import DayEnded
from jianfu.events.schemas.meetings import MeetingMode, MeetingScheduled, Participant
from jianfu.events.schemas.secondments import SecondmentEndingSoon, TeacherReturned, TeacherSeconded
from jianfu.events.schemas.training import (
    PlannedTraining,
    TrainingLevel,
    TrainingPlanPublished,
    TrainingSessionReported,
)
from jianfu.events.settings import BUSINESS_ZONE, Settings

from tests.factories import DIRECTORY, POLICY, SCHOOLS
from tests.memory_folds import InMemoryTables

NAMES = {org.org_id: org.name for org in DIRECTORY.organisations}
EDUCATION = [org.org_id for org in DIRECTORY.organisations if org.kind in EDUCATION_SYSTEM]
VENUE, NEAR_VENUE = "venue-far", "venue-near"
DISTANCES = DistanceTable({VENUE: "远处会场", NEAR_VENUE: "近处会场"},
                          {**{(school, VENUE): 60.0 for school in SCHOOLS}, **{(school, NEAR_VENUE): 5.0 for school in SCHOOLS}})
DETECTION = combine("teachers_time", s7_detection(POLICY, NAMES), s8_s10_detection(POLICY, NAMES, EDUCATION, DISTANCES))
UNIT, OTHER_UNIT, SCHOOL = "dept-publicity", "dept-health", SCHOOLS[0]
TEACHER = "t-dwk-p1-001"
LEFT = date(2026, 3, 2)
MAX, GAP, NOTICE = POLICY.secondment.max_days, POLICY.secondment.renewal_gap_days, POLICY.secondment.notice_days_before_end
SEMESTER = "2026-autumn"


class Detector(InMemoryTables):
    """The detector's tables in memory, folded batch by batch through the rows each batch needs."""

    def __init__(self, projection: Projection = DETECTION) -> None:
        super().__init__(projection)

    def fold(self, *datas, at: date | None = None, batch: int = 1000) -> list:
        """Fold the events in batches of ``batch``; the decisions, in order."""
        return self.fold_facts([self.fact(data, at) for data in datas], batch)

    def fact(self, data, at: date | None) -> Fact:
        day = at or getattr(data, "left_on", None) or getattr(data, "returned_on", None) or getattr(
            data, "held_on", None) or date(2026, 9, 1)
        if isinstance(data, DayEnded):
            day = data.day + timedelta(days=1)
        moment = datetime.combine(day, time(9), tzinfo=BUSINESS_ZONE).astimezone(UTC)
        sequence = next(self.sequence)
        return Fact(sequence, f"event-{sequence}", type(data).__name__, "aggregate", moment, "correlation", data)


def decisions(emitted) -> list:
    return [e.decision for e in emitted]


def of_rule(emitted, rule: Rule) -> list[ViolationDetected]:
    return [d for d in decisions(emitted) if isinstance(d, ViolationDetected) and d.rule is rule]


def days(first: date, last: date) -> list[DayEnded]:
    return [DayEnded(day=first + timedelta(days=n)) for n in range((last - first).days + 1)]


def seconded(left_on: date = LEFT, unit: str = UNIT, consented: bool = True, approved: bool = True,
             ends_on: date | None = None, teacher: str = TEACHER) -> TeacherSeconded:
    return TeacherSeconded(teacher_id=teacher, school_id=SCHOOL, borrowing_org_id=unit, left_on=left_on,
                           secondment_id=uuid.uuid4(), consented=consented, approved=approved,
                           ends_on=ends_on or left_on + timedelta(days=MAX - 1), reported_by_org_id=unit)


def returned(left_on: date, returned_on: date, unit: str = UNIT) -> TeacherReturned:
    return TeacherReturned(teacher_id=TEACHER, school_id=SCHOOL, borrowing_org_id=unit, secondment_id=None,
                           left_on=left_on, returned_on=returned_on, reported_by_org_id=SCHOOL)


# S7: departures without both decisions.

@pytest.mark.parametrize(("consented", "approved"), [(True, False), (False, False), (False, True)])
def test_s7_a_secondment_started_without_both_decisions_is_unapproved(consented, approved):
    """S7: a teacher who left with only the bureau's consent (or with none) is an unapproved secondment."""
    departure = seconded(consented=consented, approved=approved)
    [violation] = of_rule(Detector().fold(departure), Rule.UNAPPROVED_SECONDMENT)
    assert (violation.responsible_org_id, violation.teacher_id, violation.school_id, violation.clause) == (
        UNIT, TEACHER, SCHOOL, "S7")
    assert violation.issue_key == f"S7:{UNIT}:unapproved-secondment"
    assert violation.violation_id == violation_id(Rule.UNAPPROVED_SECONDMENT, TEACHER, UNIT, LEFT.isoformat())
    assert (violation.evidence["consented"], violation.evidence["approved"]) == (consented, approved)


def test_s7_a_secondment_consented_and_approved_is_not_unapproved():
    assert of_rule(Detector().fold(seconded()), Rule.UNAPPROVED_SECONDMENT) == []


# S7: the half year, swept on DayEnded.

def test_s7_the_sweep_flags_an_overdue_secondment_on_exactly_the_184th_day_not_the_183rd_once():
    """S7: a run starting on day 1 is charged on the DayEnded of its 184th day, once."""
    detector = Detector()
    detector.fold(seconded(ends_on=LEFT + timedelta(days=400)))
    day_183, day_184 = LEFT + timedelta(days=MAX - 1), LEFT + timedelta(days=MAX)
    assert of_rule(detector.fold(*days(LEFT, day_183), batch=17), Rule.SECONDMENT_OVERDUE) == []
    [overdue] = of_rule(on_184th := detector.fold(DayEnded(day=day_184)), Rule.SECONDMENT_OVERDUE)
    assert on_184th[0].cause.data == DayEnded(day=day_184)
    assert (overdue.responsible_org_id, overdue.teacher_id, overdue.school_id) == (UNIT, TEACHER, SCHOOL)
    assert overdue.violation_id == violation_id(Rule.SECONDMENT_OVERDUE, TEACHER, LEFT.isoformat())
    assert overdue.issue_key == f"S7:{UNIT}:overdue"
    assert overdue.evidence["limit_passed_on"] == day_184.isoformat()
    assert of_rule(detector.fold(*days(day_184 + timedelta(days=1), day_184 + timedelta(days=60))),
                   Rule.SECONDMENT_OVERDUE) == []


def test_s7_a_teacher_back_by_the_184th_day_is_not_overdue():
    detector = Detector()
    detector.fold(seconded())
    detector.fold(returned(LEFT, LEFT + timedelta(days=MAX)))  # back on the 184th day: not away at its end
    assert of_rule(detector.fold(*days(LEFT, LEFT + timedelta(days=250))), Rule.SECONDMENT_OVERDUE) == []


def test_s7_a_renewal_with_the_same_unit_within_the_gap_carries_the_run_start():
    """S7: back for fewer than 30 days, then lent to the same unit again: one run, charged on its
    184th day counted from the first departure."""
    detector = Detector()
    back, again = LEFT + timedelta(days=100), LEFT + timedelta(days=100 + GAP - 1)
    detector.fold(seconded(), returned(LEFT, back))
    detector.fold(*days(LEFT, again - timedelta(days=1)))
    detector.fold(seconded(left_on=again))
    found = of_rule(detector.fold(*days(again, LEFT + timedelta(days=300))), Rule.SECONDMENT_OVERDUE)
    [overdue] = found
    assert (overdue.evidence["run_start"], overdue.evidence["limit_passed_on"]) == (
        LEFT.isoformat(), (LEFT + timedelta(days=MAX)).isoformat())


def test_s7_a_short_spell_with_another_unit_does_not_break_the_run_with_the_first():
    """S7: 150 days with one unit, a day with another, back with the first unit the day after:
    one run with the first unit (as approvals and the counters join it), charged on the 184th day
    from the first departure; the spell with the other unit is a run of its own."""
    detector = Detector()
    spell, again = LEFT + timedelta(days=150), LEFT + timedelta(days=152)
    detector.fold(seconded(), returned(LEFT, spell), seconded(left_on=spell, unit=OTHER_UNIT),
                  returned(spell, spell + timedelta(days=1), unit=OTHER_UNIT), seconded(left_on=again))
    [overdue] = of_rule(detector.fold(*days(LEFT, LEFT + timedelta(days=MAX + 5))), Rule.SECONDMENT_OVERDUE)
    assert (overdue.evidence["run_start"], overdue.responsible_org_id) == (LEFT.isoformat(), UNIT)
    assert overdue.evidence["limit_passed_on"] == (LEFT + timedelta(days=MAX)).isoformat()


@pytest.mark.parametrize(("gap", "unit"), [(GAP, UNIT), (1, OTHER_UNIT)])
def test_s7_after_the_gap_or_with_another_unit_a_new_run_starts(gap, unit):
    """S7: a departure 30 days or more after the return, or with another unit, starts its own run."""
    detector = Detector()
    back = LEFT + timedelta(days=100)
    again = back + timedelta(days=gap)
    detector.fold(seconded(), returned(LEFT, back), seconded(left_on=again, unit=unit))
    [overdue] = of_rule(detector.fold(*days(LEFT, again + timedelta(days=MAX + 5))), Rule.SECONDMENT_OVERDUE)
    assert (overdue.evidence["run_start"], overdue.responsible_org_id) == (again.isoformat(), unit)


def test_s7_a_late_report_past_the_limit_is_charged_at_once_by_the_report():
    """S7: the days after the 184th were swept before the departure was reported: charged on the report."""
    detector = Detector()
    detector.fold(*days(LEFT, LEFT + timedelta(days=200)))
    departure = seconded()
    emitted = detector.fold(departure, at=LEFT + timedelta(days=201))
    [overdue] = of_rule(emitted, Rule.SECONDMENT_OVERDUE)
    assert [e.cause.data for e in emitted if e.decision is overdue] == [departure]
    assert overdue.evidence["limit_passed_on"] == (LEFT + timedelta(days=MAX)).isoformat()
    assert of_rule(detector.fold(*days(LEFT + timedelta(days=201), LEFT + timedelta(days=260))),
                   Rule.SECONDMENT_OVERDUE) == []


def test_s7_a_report_made_after_the_limit_day_is_charged_at_once_before_any_day_ended():
    """S7: no DayEnded folded yet, but the report's business day is past the 184th day."""
    [overdue] = of_rule(Detector().fold(seconded(), at=LEFT + timedelta(days=MAX + 1)), Rule.SECONDMENT_OVERDUE)
    assert overdue.evidence["run_start"] == LEFT.isoformat()


def test_s7_a_report_on_the_184th_day_is_left_to_that_days_sweep():
    detector = Detector()
    assert of_rule(detector.fold(seconded(), at=LEFT + timedelta(days=MAX)), Rule.SECONDMENT_OVERDUE) == []
    assert len(of_rule(detector.fold(DayEnded(day=LEFT + timedelta(days=MAX))), Rule.SECONDMENT_OVERDUE)) == 1


# S7: notice before the last day.

def notices(emitted) -> list[SecondmentEndingSoon]:
    return [d for d in decisions(emitted) if isinstance(d, SecondmentEndingSoon)]


def test_s7_the_30_day_notice_is_given_once_on_its_day():
    """S7: the borrowing unit is told on the DayEnded 30 days before the last day, once."""
    ends = LEFT + timedelta(days=90)
    detector = Detector()
    detector.fold(seconded(ends_on=ends))
    assert notices(detector.fold(*days(LEFT, ends - timedelta(days=NOTICE + 1)))) == []
    [notice] = notices(detector.fold(*days(ends - timedelta(days=NOTICE), ends + timedelta(days=40)), batch=9))
    assert (notice.noticed_on, notice.ends_on, notice.borrowing_org_id, notice.teacher_id) == (
        ends - timedelta(days=NOTICE), ends, UNIT, TEACHER)
    assert notice.notice_id == notice_id(TEACHER, LEFT, ends)


def test_s7_no_notice_for_a_teacher_already_back():
    ends = LEFT + timedelta(days=90)
    detector = Detector()
    detector.fold(seconded(ends_on=ends), returned(LEFT, LEFT + timedelta(days=20)))
    assert notices(detector.fold(*days(LEFT, ends))) == []


def test_s7_a_departure_reported_after_its_notice_day_but_before_its_end_gets_the_notice_at_once():
    ends = LEFT + timedelta(days=90)
    detector = Detector()
    detector.fold(*days(LEFT, ends - timedelta(days=10)))
    [notice] = notices(detector.fold(seconded(ends_on=ends), at=ends - timedelta(days=9)))
    assert notice.noticed_on == ends - timedelta(days=9)
    assert notices(detector.fold(*days(ends - timedelta(days=9), ends + timedelta(days=5)))) == []
    late = Detector()
    late.fold(*days(LEFT, ends + timedelta(days=1)))
    assert notices(late.fold(seconded(ends_on=ends), at=ends + timedelta(days=2))) == []  # its end is over too


def test_s7_a_departure_before_the_plan_is_not_judged():
    old = date(2021, 3, 1)
    detector = Detector()
    emitted = detector.fold(seconded(left_on=old, consented=False, approved=False), *days(old, old + timedelta(days=300)))
    assert decisions(emitted) == []


# S8: training.

def plan(*sessions: PlannedTraining, edition: int = 1, semester: str = SEMESTER) -> TrainingPlanPublished:
    return TrainingPlanPublished(semester=semester, edition=edition, sessions=sessions, published_on=date(2026, 8, 1),
                                 before_semester=True)


def planned(code: str, title: str, organiser: str = "teaching-research-office") -> PlannedTraining:
    level = TrainingLevel.SCHOOL_BASED if organiser.startswith("school") else TrainingLevel.BACKBONE
    return PlannedTraining(code=code, title=title, level=level, organiser_org_id=organiser, months=(10,), hours=8)


def session(title: str, organiser: str = "teaching-research-office", code: str | None = None,
            required: bool = True, held_on: date = date(2026, 10, 15)) -> TrainingSessionReported:
    return TrainingSessionReported(session_id=uuid.uuid4(), organiser_org_id=organiser, title=title, held_on=held_on,
                                   semester=SEMESTER, level=None, plan_code=code, teachers_required=required,
                                   teacher_ids=(), participants=40, reported_by_org_id=organiser)


def test_s8_a_session_of_the_plan_in_force_by_code_or_by_title_is_planned():
    detector = Detector()
    detector.fold(plan(planned("BB-01", "骨干教师 培训"), planned("SB-01", "校本研修", SCHOOL)))
    emitted = detector.fold(session("另一个标题", code="BB-01"), session("骨干教师培训"), session("校本研修", SCHOOL))
    assert decisions(emitted) == []


def test_s8_a_session_outside_the_plan_in_force_is_unplanned_training():
    """S8: the education system's training must be in the semester's plan in force when it is reported."""
    detector = Detector()
    detector.fold(plan(planned("BB-01", "骨干教师培训")))
    held = session("信息技术 2.0 培训")
    [violation] = of_rule(detector.fold(held), Rule.UNPLANNED_TRAINING)
    assert (violation.responsible_org_id, violation.semester, violation.evidence["plan_edition"]) == (
        "teaching-research-office", SEMESTER, 1)
    assert violation.issue_key == "S8:teaching-research-office:unplanned-training"
    assert violation.violation_id == violation_id(Rule.UNPLANNED_TRAINING, str(held.session_id))
    assert of_rule(detector.fold(session("骨干教师培训", SCHOOL, code="BB-01")), Rule.UNPLANNED_TRAINING), \
        "another organiser's planned code does not plan the session"
    detector.fold(plan(planned("BB-01", "骨干教师培训"), planned("IT-02", "信息技术2.0培训"), edition=2))
    assert decisions(detector.fold(session("信息技术2.0培训"))) == []
    detector.fold(plan(planned("BB-01", "骨干教师培训"), edition=1))  # an earlier edition stored late
    assert decisions(detector.fold(session("信息技术2.0培训"))) == []


def test_s8_training_with_no_plan_published_is_unplanned():
    assert len(of_rule(Detector().fold(session("班主任培训", SCHOOL)), Rule.UNPLANNED_TRAINING)) == 1


def test_s8_training_requiring_teachers_by_a_unit_outside_education_is_non_education_training():
    """S8: a unit outside the education system may not require teachers at its training."""
    held = session("安全生产培训", "dept-emergency")
    [violation] = decisions(Detector().fold(held))
    assert (violation.rule, violation.responsible_org_id, violation.clause) == (
        Rule.NON_EDUCATION_TRAINING, "dept-emergency", "S8")
    assert violation.issue_key == "S8:dept-emergency:non-education-training"
    assert decisions(Detector().fold(session("安全生产培训", "dept-emergency", required=False))) == []


def test_s8_a_unit_the_directory_does_not_know_is_outside_the_education_system():
    """S8: training requiring teachers by an organiser outside the directory is non-education training."""
    [violation] = decisions(Detector().fold(session("某公司培训", "unit-not-in-directory")))
    assert (violation.rule, violation.responsible_org_id) == (Rule.NON_EDUCATION_TRAINING, "unit-not-in-directory")


# S9: a video sub-venue for distant participants.

def meeting(organiser: str = "edu-bureau", teachers: int = 6, venue: str | None = VENUE, subs=(),
            mode: MeetingMode = MeetingMode.IN_PERSON, teaching: bool = True, semester: str = SEMESTER,
            held_on: date = date(2026, 10, 20), participants: Iterable[Participant] | None = None) -> MeetingScheduled:
    people = tuple(participants) if participants is not None else tuple(
        Participant(teacher_id=f"t-{n:03d}", school_id=SCHOOLS[n % len(SCHOOLS)]) for n in range(teachers))
    return MeetingScheduled(meeting_id=uuid.uuid4(), organiser_org_id=organiser, title="工作部署会",
                            concerns_teaching=teaching, held_on=held_on, semester=semester, mode=mode,
                            venue_id=None if mode is MeetingMode.ONLINE else venue, sub_venue_ids=tuple(subs),
                            participants=people, scheduled_on=held_on - timedelta(days=7))


def test_s9_sixty_km_with_six_participants_and_no_sub_venue_needs_one():
    """S9: more than 5 participants from over 50 km away and no video sub-venue offered."""
    held = meeting(teachers=6)
    [violation] = decisions(Detector().fold(held))
    assert (violation.rule, violation.responsible_org_id, violation.clause) == (
        Rule.VIDEO_SUB_VENUE_REQUIRED, "edu-bureau", "S9")
    assert violation.issue_key == "S9:edu-bureau:sub-venue"
    assert violation.evidence["distant_participants"] == 6


@pytest.mark.parametrize("held", [
    meeting(teachers=5),
    meeting(teachers=6, mode=MeetingMode.VIDEO, subs=("venue-sub",)),
    meeting(teachers=6, mode=MeetingMode.ONLINE),
    meeting(teachers=40, venue=NEAR_VENUE),
    meeting(teachers=40, venue="venue-unknown"),
], ids=["five", "sub-venue", "online", "near", "unknown distance"])
def test_s9_no_sub_venue_needed(held):
    """S9: five distant participants, a sub-venue offered, online, near, or no known distance: nothing."""
    assert decisions(Detector().fold(held)) == []


# S10: meetings of units outside education.

def test_s10_a_non_education_meeting_unrelated_to_teaching_is_charged_once():
    """S10: teachers may not be required at another unit's meetings unrelated to teaching."""
    held = meeting("dept-publicity", teachers=2, venue=NEAR_VENUE, teaching=False)
    [violation] = decisions(Detector().fold(held))
    assert (violation.rule, violation.responsible_org_id, violation.clause) == (
        Rule.NON_EDUCATION_MEETING_FOR_TEACHERS, "dept-publicity", "S10")
    assert violation.issue_key == "S10:dept-publicity:non-education-meeting"
    assert decisions(Detector().fold(meeting("dept-publicity", teachers=2, venue=NEAR_VENUE, teaching=True))) == []
    assert decisions(Detector().fold(meeting("edu-bureau", teachers=2, venue=NEAR_VENUE, teaching=False))) == []


def test_s10_the_third_non_education_meeting_of_a_teacher_in_a_semester_exceeds_the_cap_of_two():
    """S10: each meeting by a unit outside education that takes a teacher beyond 2 in a semester."""
    one = Participant(teacher_id="t-one", school_id=SCHOOLS[1])
    other = Participant(teacher_id="t-other", school_id=SCHOOLS[2])
    detector = Detector()
    first, second = (meeting(unit, venue=NEAR_VENUE, participants=[one]) for unit in ("dept-health", "dept-fire"))
    detector.fold(first, meeting("edu-bureau", venue=NEAR_VENUE, participants=[one, other]))  # education: not counted
    assert of_rule(detector.fold(second, second), Rule.MEETING_QUOTA_EXCEEDED) == []  # one meeting however often
    third = meeting("dept-justice", venue=NEAR_VENUE, participants=[one, other])
    [violation] = of_rule(detector.fold(third), Rule.MEETING_QUOTA_EXCEEDED)
    assert (violation.teacher_id, violation.school_id, violation.responsible_org_id) == ("t-one", SCHOOLS[1],
                                                                                         "dept-justice")
    assert violation.violation_id == violation_id(Rule.MEETING_QUOTA_EXCEEDED, "t-one", str(third.meeting_id))
    assert violation.issue_key == "S10:dept-justice:meeting-quota"
    assert of_rule(detector.fold(meeting("dept-health", venue=NEAR_VENUE, participants=[one],
                                         semester="2027-spring", held_on=date(2027, 3, 1))),
                   Rule.MEETING_QUOTA_EXCEEDED) == []


# Replays and recording.

def test_s7_s10_batching_and_a_replay_decide_the_same():
    """S7–S10: one event per batch, or all in one, or a fresh detector over the same facts: the same decisions."""
    history = [seconded(consented=False), plan(planned("BB-01", "骨干教师培训")), session("未列入计划"),
               meeting("dept-fire", teaching=False), returned(LEFT, LEFT + timedelta(days=50)),
               seconded(left_on=LEFT + timedelta(days=60)), *days(LEFT, LEFT + timedelta(days=260))]
    runs = [decisions(Detector().fold(*history, at=LEFT, batch=size)) for size in (1, 7, 1000)]
    assert runs[0] == runs[1] == runs[2]
    assert {type(d).__name__ if not isinstance(d, ViolationDetected) else d.rule.value for d in runs[0]} == {
        "UnapprovedSecondment", "UnplannedTraining", "NonEducationMeetingForTeachers", "VideoSubVenueRequired",
        "SecondmentOverdue", "SecondmentEndingSoon"}


def test_s7_a_notice_is_recorded_as_the_first_event_of_its_own_aggregate_with_an_id_from_the_notice():
    """S7: SecondmentEndingSoon is appended like a violation: aggregate secondment_notice.<notice_id>."""
    ends = LEFT + timedelta(days=90)
    detector = Detector()
    detector.fold(seconded(ends_on=ends))
    [decided] = [e for e in detector.fold(*days(LEFT, ends)) if isinstance(e.decision, SecondmentEndingSoon)]
    recorder = ViolationRecorder(store=None, clock=type("Clock", (), {"now": staticmethod(lambda: datetime.now(UTC))}))
    envelope, again = recorder.envelope(decided), recorder.envelope(decided)
    assert (envelope.aggregate_type, envelope.aggregate_id) == ("secondment_notice", decided.decision.notice_id)
    assert envelope.event_id == again.event_id and decision_id(decided.decision) == decided.decision.notice_id
    assert envelope.causation_id == decided.cause.event_id


def test_s7_s10_the_services_detector_holds_them_with_tables_declared():
    both = detection(Settings())
    assert {"TeacherSeconded", "TeacherReturned", "DayEnded", "TrainingPlanPublished", "TrainingSessionReported",
            "MeetingScheduled"} <= set(both.on)
    assert set(both.keys) == set(DETECTOR.keys)


@pytest.mark.parametrize("fact", [
    session("培训\x00标题"),
    meeting("dept-fire", teaching=False).model_copy(update={"title": "会\x00议"}),
    seconded(unit="dept-\x00fire"),
], ids=["session", "meeting", "departure"])
def test_s7_s10_a_fact_whose_text_holds_a_nul_is_refused_so_the_projector_quarantines_it(fact):
    """S7–S10: a NUL would be carried into the log for ever by a violation quoting it: not judged."""
    with pytest.raises(ValueError, match="NUL"):
        Detector().fold(fact)


@pytest.mark.parametrize(("left_on", "ends_on"), [(date(9999, 12, 1), date(9999, 12, 31)), (LEFT, date(2021, 9, 1))],
                         ids=["limit past year 9999", "last day before the departure"])
def test_s7_a_departure_at_the_edge_of_the_calendar_is_still_judged(left_on, ends_on):
    """S7: a 184th day past the calendar's end never falls due, a last day already over gives no
    notice; the missing approval is still charged."""
    departure = seconded(left_on=left_on, ends_on=ends_on, approved=False)
    assert [d.rule for d in decisions(Detector().fold(departure, at=date(2026, 3, 2)))] == [Rule.UNAPPROVED_SECONDMENT]
