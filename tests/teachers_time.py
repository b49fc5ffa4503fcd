"""Builders shared by the S7–S10 read-model tests: teachers, secondments, departures, days,
training and meetings as the services (requests, approvals, the detector, the scheduler) would
append them, as (org, data, aggregate id) steps a test folds in memory or appends to the log."""

from __future__ import annotations

import uuid
from datetime import date

from jianfu.events.organisations import SYSTEM_ACTOR_ORG_ID
from jianfu.events.schemas.compliance import RULE_CLAUSE, Rule, ViolationDetected, violation_id
from jianfu.events.schemas.days import DAYS_AGGREGATE_ID, DayEnded
from jianfu.events.schemas.meetings import MeetingMode, MeetingScheduled, Participant
from jianfu.events.schemas.secondments import (
    SecondmentApproved,
    SecondmentConsented,
    SecondmentRefusalCode,
    SecondmentRefused,
    SecondmentRequested,
    SecondmentStage,
    TeacherReturned,
    TeacherSeconded,
)
from jianfu.events.schemas.teachers import TeacherRegistered
from jianfu.events.schemas.training import (
    PlannedTraining,
    TrainingLevel,
    TrainingPlanPublished,
    TrainingSessionReported,
)

from tests.factories import POLICY
from tests.inspection_year import Step

BUREAU, APPROVER, PLANNER = "edu-bureau", "hr-bureau", "teaching-research-office"


class TeachersTime:
    """S7–S10 events with deterministic ids (``start`` keeps one test's ids apart from another's)."""

    def __init__(self, start: int = 1) -> None:
        self._next = start

    def new_id(self) -> uuid.UUID:
        self._next += 1
        return uuid.UUID(int=self._next)

    # S7
    def register(self, teacher_id: str, school: str, name: str = "张老师", subject: str = "语文",
                 previous: str | None = None) -> Step:
        return school, TeacherRegistered(teacher_id=teacher_id, school_id=school, name=name, subject=subject,
                                         previous_school_id=previous), teacher_id

    def request(self, teacher_id: str, school: str, unit: str, starts_on: date, ends_on: date) -> Step:
        event = SecondmentRequested(secondment_id=self.new_id(), teacher_id=teacher_id, school_id=school,
                                    borrowing_org_id=unit, task="重大决策部署专项工作", starts_on=starts_on,
                                    ends_on=ends_on, days=(ends_on - starts_on).days + 1, requested_on=starts_on)
        return unit, event, teacher_id

    def consent(self, requested: SecondmentRequested, days: int | None = None) -> Step:
        return BUREAU, SecondmentConsented(secondment_id=requested.secondment_id, teacher_id=requested.teacher_id,
                                           consented_by_org_id=BUREAU,
                                           continuous_days=days or requested.days), requested.teacher_id

    def approve(self, requested: SecondmentRequested, days: int | None = None) -> Step:
        return APPROVER, SecondmentApproved(secondment_id=requested.secondment_id, teacher_id=requested.teacher_id,
                                            approved_by_org_id=APPROVER,
                                            continuous_days=days or requested.days), requested.teacher_id

    def refuse(self, requested: SecondmentRequested, automatic: bool = True) -> Step:
        return BUREAU, SecondmentRefused(
            secondment_id=requested.secondment_id, teacher_id=requested.teacher_id, stage=SecondmentStage.CONSENT,
            refused_by_org_id=BUREAU, automatic=automatic, continuous_days=requested.days if automatic else None,
            refusal_code=SecondmentRefusalCode.OVER_HALF_YEAR if automatic else SecondmentRefusalCode.OTHER,
            reason="借用期限超过半年" if automatic else "其他原因"), requested.teacher_id

    def seconded(self, teacher_id: str, school: str, unit: str, left_on: date,
                 requested: SecondmentRequested | None = None, consented: bool = True, approved: bool = True) -> Step:
        return unit, TeacherSeconded(
            teacher_id=teacher_id, school_id=school, borrowing_org_id=unit, left_on=left_on,
            secondment_id=requested.secondment_id if requested else None, consented=consented and bool(requested),
            approved=approved and bool(requested), ends_on=requested.ends_on if requested else None,
            reported_by_org_id=unit), teacher_id

    def returned(self, departure: TeacherSeconded, returned_on: date) -> Step:
        return departure.school_id, TeacherReturned(
            teacher_id=departure.teacher_id, school_id=departure.school_id,
            borrowing_org_id=departure.borrowing_org_id, secondment_id=departure.secondment_id,
            left_on=departure.left_on, returned_on=returned_on,
            reported_by_org_id=departure.school_id), departure.teacher_id

    @staticmethod
    def day(day: date) -> Step:
        return SYSTEM_ACTOR_ORG_ID, DayEnded(day=day), DAYS_AGGREGATE_ID

    # S8
    @staticmethod
    def plan(semester: str, edition: int, *sessions: tuple[str, str, str]) -> Step:
        """Sessions as (code, title, organiser)."""
        planned = tuple(PlannedTraining(
            code=code, title=title, organiser_org_id=organiser, months=(3, 4), hours=24,
            level=TrainingLevel.BACKBONE if organiser == PLANNER else TrainingLevel.SCHOOL_BASED)
            for code, title, organiser in sessions)
        return PLANNER, TrainingPlanPublished(semester=semester, edition=edition, sessions=planned,
                                              published_on=date(2031, 2, 1), before_semester=True), semester

    def session(self, semester: str, organiser: str, title: str, held_on: date, plan_code: str | None = None,
                teachers_required: bool = True, session_id: uuid.UUID | None = None) -> Step:
        event = TrainingSessionReported(
            session_id=session_id or self.new_id(), organiser_org_id=organiser, title=title, held_on=held_on,
            semester=semester, level=None, plan_code=plan_code, teachers_required=teachers_required,
            teacher_ids=("t-1", "t-2"), participants=40, reported_by_org_id=organiser)
        return organiser, event, str(event.session_id)

    # S9, S10
    def meeting(self, semester: str, organiser: str, title: str, held_on: date,
                participants: tuple[tuple[str, str], ...], venue: str | None = "venue-edu-bureau",
                concerns_teaching: bool = True, mode: MeetingMode = MeetingMode.IN_PERSON) -> Step:
        event = MeetingScheduled(
            meeting_id=self.new_id(), organiser_org_id=organiser, title=title, concerns_teaching=concerns_teaching,
            held_on=held_on, semester=semester, mode=mode if venue else MeetingMode.ONLINE, venue_id=venue,
            sub_venue_ids=(), scheduled_on=held_on,
            participants=tuple(Participant(teacher_id=t, school_id=s) for t, s in participants))
        return organiser, event, str(event.meeting_id)

    @staticmethod
    def violation(rule: Rule, responsible: str, *, school: str | None = None, teacher: str | None = None,
                  semester: str | None = None, **evidence) -> Step:
        found = violation_id(rule, *(str(v) for v in evidence.values()), teacher or "")
        event = ViolationDetected(violation_id=found, rule=rule, clause=RULE_CLAUSE[rule], responsible_org_id=responsible,
                                  school_id=school, teacher_id=teacher, semester=semester,
                                  issue_key=f"{RULE_CLAUSE[rule]}:{responsible}:{rule.value}", summary="违规",
                                  evidence=evidence)
        return SYSTEM_ACTOR_ORG_ID, event, found


assert POLICY.secondment.renewal_gap_days == 30, "the tests count renewals with the reference policy's gap"
