"""S8 training plan: load → decide (domain) → append.

An edition is one event of the semester's plan (``training_plan.<semester>``), appended expecting
the plan's last sequence, so two publications at once store two consecutive editions or refuse
one, never two editions with one number. A plan of the most sessions the schema allows (500,
titles at their bound, in CJK) is far over the 64 KiB of other commands: the command may carry
``PUBLISH_PLAN_MAX_PAYLOAD_BYTES``, and its event still fits NATS's 1 MB payload.
"""

from __future__ import annotations

from jianfu.approvals.domain.training_plan import TrainingPlan
from jianfu.approvals.handlers import _readable
from jianfu.events.commands import Caller, command_context
from jianfu.events.dependencies import Deps
from jianfu.events.envelope import Envelope
from jianfu.events.schemas.training import PublishTrainingPlan, TrainingPlanPublished
from jianfu.events.store import History, execute

PLAN = TrainingPlanPublished.aggregate_type
PUBLISH_PLAN_MAX_PAYLOAD_BYTES = 512 * 1024


async def publish_training_plan(command: PublishTrainingPlan, caller: Caller, deps: Deps) -> dict:
    context = command_context(caller, command, deps.policy.version, deps.clock.now())
    today, calendar = deps.clock.today(), deps.policy.school_calendar

    def publish(history: History) -> list[Envelope]:
        plan = TrainingPlan.from_events(command.semester, _readable(history.events, context))
        return context.earlier_outcome(history.envelopes) or [context.event(
            plan.publish(command.sessions, today, calendar, deps.directory), command.semester)]

    [stored] = await execute(deps.store, PLAN, command.semester, publish, deps.retries)
    data = stored.envelope.data
    return {"semester": data["semester"], "edition": data["edition"], "session_count": len(data["sessions"]),
            "published_on": data["published_on"], "before_semester": data["before_semester"],
            "sequence": stored.sequence}
