"""The S8 read model as a batch fold: each semester's training plan as last published (every
edition kept, so a reader paging through one finishes it), and the sessions held.

Whether a session was planned is the detector's verdict, not this view's: ``UnplannedTraining``
names the session it charges (evidence ``session_id``) and the session's row records it, as the
S1 view records ``UnplannedInspection``. Matching a session against the plan here as well would
run the rule twice, and two copies of "in the plan" could disagree; with one verdict the list
and the register always agree. A session is thus marked unplanned once the detector's violation
is projected (the detector runs beside the projector, a moment behind it); the query leaves
``planned`` null for an organiser outside the education system, whose training the plan never
holds (its own rule is ``NonEducationTraining``, recorded the same way).
"""

from __future__ import annotations

from jianfu.compliance.domain.folding import Batch, Fact, Need, On, Projection
from jianfu.events.schemas.compliance import Rule, ViolationDetected
from jianfu.events.schemas.training import TrainingPlanPublished, TrainingSessionReported

MARKS = {
    Rule.UNPLANNED_TRAINING: "unplanned_violation_id",
    Rule.NON_EDUCATION_TRAINING: "non_education_violation_id",
}

KEYS = {
    "training_plans": ("semester",),
    "training_plan_editions": ("semester", "edition"),
    "training_plan_sessions": ("semester", "edition", "position"),
    "training_sessions": ("semester", "session_id"),
}


def _plan_needs(fact: Fact):
    plan: TrainingPlanPublished = fact.data
    return (Need("training_plans", (plan.semester,)), Need("training_plan_editions", (plan.semester, plan.edition)))


def _plan(batch: Batch, fact: Fact) -> None:
    """S8: a later edition replaces the earlier one from its publication; an edition seen
    again, or one older than the edition in force, changes nothing."""
    plan: TrainingPlanPublished = fact.data
    if batch["training_plan_editions"].get(plan.semester, plan.edition) is not None:
        return
    stamp = {"semester": plan.semester, "edition": plan.edition, "published_on": plan.published_on,
             "before_semester": plan.before_semester, "session_count": len(plan.sessions),
             "event_id": fact.event_id, "sequence": fact.sequence}
    batch["training_plan_editions"].put(stamp)
    for position, session in enumerate(plan.sessions):
        batch["training_plan_sessions"].put({"semester": plan.semester, "edition": plan.edition,
                                             "position": position, "code": session.code,
                                             "session": session.model_dump(mode="json")})
    current = batch["training_plans"].get(plan.semester)
    if current is None or current["edition"] < plan.edition:
        batch["training_plans"].put(stamp)


def _session_needs(fact: Fact):
    session: TrainingSessionReported = fact.data
    return (Need("training_sessions", (session.semester, str(session.session_id))),)


def _session(batch: Batch, fact: Fact) -> None:
    """One session however often reported (its id is from organiser, day and title)."""
    session: TrainingSessionReported = fact.data
    sessions, key = batch["training_sessions"], (session.semester, str(session.session_id))
    row = sessions.get(*key)
    if row is not None:
        sessions.update(row, reports=row["reports"] + 1)
        return
    sessions.put({
        "semester": session.semester, "session_id": str(session.session_id),
        "organiser_org_id": session.organiser_org_id, "title": session.title, "held_on": session.held_on,
        "level": session.level.value if session.level else None, "plan_code": session.plan_code,
        "teachers_required": session.teachers_required, "teachers_named": len(session.teacher_ids),
        "participants": session.participants, "reported_by_org_id": session.reported_by_org_id, "reports": 1,
        "unplanned_violation_id": None, "non_education_violation_id": None,
        "event_id": fact.event_id, "sequence": fact.sequence})


def _named(event: ViolationDetected) -> tuple[str, str] | None:
    """The session an S8 violation names: its semester and ``evidence.session_id``."""
    session_id = event.evidence.get("session_id")
    semester = event.semester or event.evidence.get("semester")
    if event.rule not in MARKS or not isinstance(session_id, str) or not isinstance(semester, str):
        return None
    return semester, session_id


def _violation_needs(fact: Fact):
    named = _named(fact.data)
    return (Need("training_sessions", named),) if named else ()


def _violation(batch: Batch, fact: Fact) -> None:
    event: ViolationDetected = fact.data
    named = _named(event)
    row = batch["training_sessions"].get(*named) if named else None
    column = MARKS.get(event.rule)
    if row is not None and row[column] is None:
        batch["training_sessions"].update(row, **{column: event.violation_id})


TRAINING_VIEW = Projection("training", KEYS, {
    TrainingPlanPublished.__name__: On(_plan_needs, _plan),
    TrainingSessionReported.__name__: On(_session_needs, _session),
    ViolationDetected.__name__: On(_violation_needs, _violation),
})
