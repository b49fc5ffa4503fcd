"""The S8–S10 detector as a batch fold over state of its own, kept from the events it reads:

- each semester's training plan as last published (``training_plans``: the latest edition, its
  sessions by code, organiser and normalised title): the plan in force at a session's place in
  the log (S8);
- per semester and teacher, the meetings of units outside the education system the teacher was
  required at (``teacher_meetings``): what the S10 cap counts, in log order.

Training sessions and meetings are judged by the policy version in force on the day they are
held (none before the plan). Whether a unit is of the education system (the education bureau,
the teaching research office, the schools: ``EDUCATION_SYSTEM``) comes from the directory's
kinds; a unit the directory does not know is outside it. Distances come from the district's
table (S9: an unknown distance is not far). Rules are in ``teachers_time_rules.py``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from jianfu.compliance.domain.folding import Batch, Fact, Need, On, Projection
from jianfu.compliance.domain.inspection_rules import require_storable
from jianfu.compliance.domain.teachers_time_rules import (
    PlannedSession,
    meeting_quota_exceeded,
    non_education_meeting,
    non_education_training,
    unplanned_training,
    video_sub_venue_required,
)
from jianfu.events.distances import DistanceTable
from jianfu.events.policy import Policy
from jianfu.events.schemas.meetings import MeetingScheduled
from jianfu.events.schemas.training import TrainingPlanPublished, TrainingSessionReported
from jianfu.events.titles import normalise_title

PLANS, TEACHER_MEETINGS = "training_plans", "teacher_meetings"
KEYS = {
    PLANS: ("semester",),
    TEACHER_MEETINGS: ("semester", "teacher_id", "meeting_id"),
}


def s8_s10_detection(policy: Policy, names: Mapping[str, str], education: Collection[str],
                     distances: DistanceTable) -> Projection:
    """The S8–S10 detector for ``policy``; ``education`` are the org ids of the education system."""
    education = frozenset(education)

    # S8: the plan, edition by edition; sessions against the edition in force.

    def plan_needs(fact: Fact):
        yield Need(PLANS, (fact.data.semester,))

    def plan_published(batch: Batch, fact: Fact) -> None:
        plan: TrainingPlanPublished = fact.data
        current = batch[PLANS].get(plan.semester)
        if current is not None and current["edition"] >= plan.edition:
            return  # an earlier edition stored late replaces nothing
        batch[PLANS].put({"semester": plan.semester, "edition": plan.edition, "event_id": fact.event_id,
                          "sessions": [[s.code, s.organiser_org_id, normalise_title(s.title)] for s in plan.sessions]})

    def session_reported(batch: Batch, fact: Fact) -> None:
        session: TrainingSessionReported = fact.data
        require_storable(session.title, session.organiser_org_id)
        in_force = policy.in_force_on(session.held_on)
        if in_force is None:
            return
        inside = session.organiser_org_id in education
        plan = batch[PLANS].get(session.semester)
        sessions = None if plan is None else [PlannedSession(*s) for s in plan["sessions"]]
        for violation in (unplanned_training(session, fact.event_id, inside, sessions,
                                             plan["edition"] if plan else None, names),
                          non_education_training(session, fact.event_id, inside, names)):
            if violation is not None:
                batch.emit(violation, fact, in_force.version)

    # S9, S10: meetings.

    def meeting_needs(fact: Fact):
        meeting: MeetingScheduled = fact.data
        if meeting.organiser_org_id not in education:
            for teacher_id in dict.fromkeys(p.teacher_id for p in meeting.participants):
                yield Need(TEACHER_MEETINGS, (meeting.semester, teacher_id))

    def meeting_scheduled(batch: Batch, fact: Fact) -> None:
        meeting: MeetingScheduled = fact.data
        require_storable(meeting.title, meeting.organiser_org_id, *(p.teacher_id for p in meeting.participants))
        in_force = policy.in_force_on(meeting.held_on)
        if in_force is None:
            return
        inside = meeting.organiser_org_id in education
        for violation in (video_sub_venue_required(meeting, fact.event_id, distances, in_force.meetings, names),
                          non_education_meeting(meeting, fact.event_id, inside, names)):
            if violation is not None:
                batch.emit(violation, fact, in_force.version)
        if not inside:
            _count(batch, fact, meeting, in_force.meetings.non_education_per_teacher_per_semester, in_force.version)

    def _count(batch: Batch, fact: Fact, meeting: MeetingScheduled, cap: int, version: str) -> None:
        """S10: the meeting counts towards each participant's cap; beyond it, one violation each."""
        meeting_id = str(meeting.meeting_id)
        for participant in {p.teacher_id: p for p in meeting.participants}.values():
            held = [row["meeting_id"] for row in batch[TEACHER_MEETINGS].group(meeting.semester, participant.teacher_id)]
            beyond = meeting_quota_exceeded(meeting, fact.event_id, participant.teacher_id, participant.school_id,
                                            held, cap, names)
            if beyond is not None:
                batch.emit(beyond, fact, version)
            batch[TEACHER_MEETINGS].put({"semester": meeting.semester, "teacher_id": participant.teacher_id,
                                         "meeting_id": meeting_id, "organiser_org_id": meeting.organiser_org_id})

    return Projection("s8_s10_detection", KEYS, {
        TrainingPlanPublished.__name__: On(plan_needs, plan_published),
        TrainingSessionReported.__name__: On(plan_needs, session_reported),
        MeetingScheduled.__name__: On(meeting_needs, meeting_scheduled),
    })
