"""The rules of teachers' time (S7 secondment, S8 training, S9–S10 meetings) as pure functions:
given a fact and what the detector knew at its place in the log, the decision (a violation, a
notice) or None. Ids follow from the facts (``violation_id``), so judging the same log twice
decides the same, and the folds (``s7_detection.py``, ``s8_s10_detection.py``) keep only the
state these functions are given.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from jianfu.events.distances import DistanceTable
from jianfu.events.policy import MeetingPolicy
from jianfu.events.schemas.compliance import RULE_CLAUSE, Rule, ViolationDetected, violation_id
from jianfu.events.schemas.meetings import MeetingMode, MeetingScheduled
from jianfu.events.schemas.secondments import SecondmentEndingSoon, TeacherSeconded
from jianfu.events.schemas.training import TrainingSessionReported
from jianfu.events.secondment_periods import Period, continues, limit_passed_on
from jianfu.events.titles import normalise_title

# S7 secondment.


@dataclass(frozen=True)
class Departure:
    """A teacher away with a borrowing unit, as the detector keeps it: the run it belongs to
    (renewals with the same unit joined) and whether the teacher is back."""

    teacher_id: str
    school_id: str
    borrowing_org_id: str
    secondment_id: str | None
    left_on: date
    ends_on: date | None
    run_start: date
    event_id: str
    returned_on: date | None = None

    def away_on(self, day: date) -> bool:
        """Still away at the end of ``day``: no return, or back only after it."""
        return self.returned_on is None or self.returned_on > day


def run_start(departure: TeacherSeconded, before: Departure | None, gap_days: int) -> date:
    """Where the run of actual departures the departure belongs to starts: a departure with the
    same unit fewer than ``gap_days`` after the last return (or while still away) continues it."""
    if before is None or before.borrowing_org_id != departure.borrowing_org_id:
        return departure.left_on
    if before.returned_on is None:
        return before.run_start
    earlier = Period(before.run_start, before.returned_on - timedelta(days=1), before.borrowing_org_id)
    later = Period(departure.left_on, departure.left_on, departure.borrowing_org_id)
    return before.run_start if continues(earlier, later, gap_days) else departure.left_on


def limit_day(start: date, max_days: int) -> date | None:
    """S7: the first day beyond the half year (the 184th day of a run with ``max_days`` 183);
    None past the calendar's last day (a departure in year 9999 never falls due)."""
    try:
        return limit_passed_on(start, max_days)
    except OverflowError:
        return None


def notice_day(ends_on: date | None, days_before: int) -> date | None:
    """S7: the day whose end gives the borrowing unit notice of the secondment's last day (None
    without a last day, or before the calendar's first day)."""
    try:
        return None if ends_on is None else ends_on - timedelta(days=days_before)
    except OverflowError:
        return None


def over(day: date, last_day_ended: date | None, reported_on: date) -> bool:
    """Whether ``day`` is already over when a departure is reported: a DayEnded for it (or a
    later day) has been folded, or it is before the report's business day."""
    return day < reported_on or (last_day_ended is not None and day <= last_day_ended)


def unapproved_secondment(departure: TeacherSeconded, event_id: str, semester: str | None,
                          names: Mapping[str, str]) -> ViolationDetected | None:
    """S7: a teacher left without both the bureau's consent and the approver's approval and filing."""
    if departure.consented and departure.approved:
        return None
    rule, unit = Rule.UNAPPROVED_SECONDMENT, departure.borrowing_org_id
    missing = "、".join(word for word, given in (("教体局同意", departure.consented),
                                                  ("人社部门审批备案", departure.approved)) if not given)
    return _violation(
        rule, unit, departure.school_id, departure.teacher_id, semester,
        violation_id(rule, departure.teacher_id, unit, departure.left_on.isoformat()),
        f"S7:{unit}:unapproved-secondment",
        f"{_name(names, unit)}于{departure.left_on.isoformat()}借用{_name(names, departure.school_id)}教师"
        f"{departure.teacher_id}，未经{missing}（S7 抽调借用须经教体局同意并报人社部门审批备案）。",
        {"departure_event_id": event_id, "teacher_id": departure.teacher_id, "left_on": departure.left_on.isoformat(),
         "secondment_id": str(departure.secondment_id) if departure.secondment_id else None,
         "consented": departure.consented, "approved": departure.approved})


def secondment_overdue(away: Departure, passed_on: date, max_days: int, semester: str | None,
                       names: Mapping[str, str]) -> ViolationDetected:
    """S7: a teacher still away on the first day beyond the half year, renewals counted; once per run."""
    rule, unit = Rule.SECONDMENT_OVERDUE, away.borrowing_org_id
    return _violation(
        rule, unit, away.school_id, away.teacher_id, semester,
        violation_id(rule, away.teacher_id, away.run_start.isoformat()), f"S7:{unit}:overdue",
        f"{_name(names, unit)}借用{_name(names, away.school_id)}教师{away.teacher_id}自{away.run_start.isoformat()}"
        f"起连续借用，至{passed_on.isoformat()}超过{max_days}天（S7 借用期限不超过半年，连续续借合并计算）。",
        {"departure_event_id": away.event_id, "teacher_id": away.teacher_id, "run_start": away.run_start.isoformat(),
         "left_on": away.left_on.isoformat(), "limit_passed_on": passed_on.isoformat(), "max_days": max_days,
         "secondment_id": away.secondment_id})


def notice_id(teacher_id: str, left_on: date, ends_on: date) -> str:
    """One notice per departure and last day."""
    digest = hashlib.sha256(f"{teacher_id}|{left_on.isoformat()}|{ends_on.isoformat()}".encode()).hexdigest()
    return f"n-{digest[:32]}"


def secondment_ending_soon(away: Departure, noticed_on: date) -> SecondmentEndingSoon:
    """S7: the borrowing unit is told that the secondment's last day is near."""
    assert away.ends_on is not None
    return SecondmentEndingSoon(
        notice_id=notice_id(away.teacher_id, away.left_on, away.ends_on), teacher_id=away.teacher_id,
        school_id=away.school_id, borrowing_org_id=away.borrowing_org_id, secondment_id=away.secondment_id,
        left_on=away.left_on, ends_on=away.ends_on, noticed_on=noticed_on)


# S8 training.


@dataclass(frozen=True)
class PlannedSession:
    code: str
    organiser_org_id: str
    title_key: str


def planned(session: TrainingSessionReported, plan: Iterable[PlannedSession]) -> bool:
    """Whether the plan in force holds the session: by its plan code with the same organiser,
    else by the same organiser and the same normalised title."""
    plan = [p for p in plan if p.organiser_org_id == session.organiser_org_id]
    if session.plan_code is not None and any(p.code == session.plan_code for p in plan):
        return True
    title = normalise_title(session.title)
    return any(p.title_key == title for p in plan)


def unplanned_training(session: TrainingSessionReported, event_id: str, in_education: bool,
                       plan: Iterable[PlannedSession] | None, edition: int | None,
                       names: Mapping[str, str]) -> ViolationDetected | None:
    """S8: training by the education system outside the semester's plan in force (None: no plan)."""
    if not in_education or (plan is not None and planned(session, plan)):
        return None
    rule, unit = Rule.UNPLANNED_TRAINING, session.organiser_org_id
    return _violation(
        rule, unit, None, None, session.semester, violation_id(rule, str(session.session_id)),
        f"S8:{unit}:unplanned-training",
        f"{_name(names, unit)}于{session.held_on.isoformat()}组织的培训“{session.title}”不在{session.semester}"
        f"学期的培训计划中（S8 培训须列入教研室提前公布的计划）。",
        {**_session_evidence(session, event_id), "plan_edition": edition})


def non_education_training(session: TrainingSessionReported, event_id: str, in_education: bool,
                           names: Mapping[str, str]) -> ViolationDetected | None:
    """S8: a unit outside the education system requiring teachers at its training."""
    if in_education or not session.teachers_required:
        return None
    rule, unit = Rule.NON_EDUCATION_TRAINING, session.organiser_org_id
    return _violation(
        rule, unit, None, None, session.semester, violation_id(rule, str(session.session_id)),
        f"S8:{unit}:non-education-training",
        f"{_name(names, unit)}于{session.held_on.isoformat()}组织培训“{session.title}”并要求教师参加"
        f"（S8 教育系统以外的单位不得要求教师参加培训）。", _session_evidence(session, event_id))


def _session_evidence(session: TrainingSessionReported, event_id: str) -> dict:
    return {"session_event_id": event_id, "session_id": str(session.session_id), "title": session.title,
            "held_on": session.held_on.isoformat(), "plan_code": session.plan_code,
            "participants": session.participants}


# S9, S10 meetings.


def distant_participants(meeting: MeetingScheduled, distances: DistanceTable, beyond_km: float) -> list[str]:
    """The participants whose school is further than ``beyond_km`` from the (main) venue; an
    unknown distance is not far."""
    if meeting.venue_id is None:
        return []
    return [p.teacher_id for p in meeting.participants if distances.far(p.school_id, meeting.venue_id, beyond_km)]


def video_sub_venue_required(meeting: MeetingScheduled, event_id: str, distances: DistanceTable,
                             policy: MeetingPolicy, names: Mapping[str, str]) -> ViolationDetected | None:
    """S9: more than ``sub_venue_above_participants`` participants from beyond ``sub_venue_beyond_km``
    and no video sub-venue offered."""
    if meeting.mode is MeetingMode.ONLINE or meeting.sub_venue_ids:
        return None
    distant = distant_participants(meeting, distances, policy.sub_venue_beyond_km)
    if len(distant) <= policy.sub_venue_above_participants:
        return None
    rule, unit = Rule.VIDEO_SUB_VENUE_REQUIRED, meeting.organiser_org_id
    return _violation(
        rule, unit, None, None, meeting.semester, violation_id(rule, str(meeting.meeting_id)), f"S9:{unit}:sub-venue",
        f"{_name(names, unit)}于{meeting.held_on.isoformat()}召开的会议“{meeting.title}”有{len(distant)}名参会教师"
        f"距会场{policy.sub_venue_beyond_km:g}公里以上，未设视频分会场（S9）。",
        {**_meeting_evidence(meeting, event_id), "distant_participants": len(distant),
         "beyond_km": policy.sub_venue_beyond_km, "above_participants": policy.sub_venue_above_participants})


def non_education_meeting(meeting: MeetingScheduled, event_id: str, in_education: bool,
                          names: Mapping[str, str]) -> ViolationDetected | None:
    """S10: a unit outside the education system requiring teachers at a meeting unrelated to teaching."""
    if in_education or meeting.concerns_teaching:
        return None
    rule, unit = Rule.NON_EDUCATION_MEETING_FOR_TEACHERS, meeting.organiser_org_id
    return _violation(
        rule, unit, None, None, meeting.semester, violation_id(rule, str(meeting.meeting_id)),
        f"S10:{unit}:non-education-meeting",
        f"{_name(names, unit)}要求{len(meeting.participants)}名教师参加与教育教学无关的会议“{meeting.title}”"
        f"（{meeting.held_on.isoformat()}，S10）。", _meeting_evidence(meeting, event_id))


def meeting_quota_exceeded(meeting: MeetingScheduled, event_id: str, teacher_id: str, school_id: str,
                           meetings_before: Collection[str], cap: int,
                           names: Mapping[str, str]) -> ViolationDetected | None:
    """S10: a meeting by a unit outside education that takes the teacher beyond ``cap`` such
    meetings in the semester (``meetings_before``: the earlier ones, this one not among them)."""
    if str(meeting.meeting_id) in meetings_before or len(meetings_before) < cap:
        return None
    rule, unit = Rule.MEETING_QUOTA_EXCEEDED, meeting.organiser_org_id
    return _violation(
        rule, unit, school_id, teacher_id, meeting.semester, violation_id(rule, teacher_id, str(meeting.meeting_id)),
        f"S10:{unit}:meeting-quota",
        f"教师{teacher_id}本学期（{meeting.semester}）已被要求参加{len(meetings_before)}次教育系统以外单位的会议，"
        f"{_name(names, unit)}的会议“{meeting.title}”超出每学期{cap}次（S10）。",
        {**_meeting_evidence(meeting, event_id), "teacher_id": teacher_id, "meetings_before": len(meetings_before),
         "cap": cap})


def _meeting_evidence(meeting: MeetingScheduled, event_id: str) -> dict:
    return {"meeting_event_id": event_id, "meeting_id": str(meeting.meeting_id), "title": meeting.title,
            "held_on": meeting.held_on.isoformat(), "mode": meeting.mode.value, "venue_id": meeting.venue_id,
            "participants": len(meeting.participants)}


def _name(names: Mapping[str, str], org_id: str) -> str:
    return names.get(org_id, org_id)


def _violation(rule: Rule, party: str, school_id: str | None, teacher_id: str | None, semester: str | None,
               found_id: str, issue_key: str, summary: str, evidence: dict) -> ViolationDetected:
    return ViolationDetected(violation_id=found_id, rule=rule, clause=RULE_CLAUSE[rule], responsible_org_id=party,
                             school_id=school_id, teacher_id=teacher_id, semester=semester, issue_key=issue_key,
                             summary=summary, evidence=evidence)
