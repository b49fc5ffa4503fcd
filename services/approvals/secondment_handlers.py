"""S7 secondment decisions: one function per command, load → decide (domain) → append.

Every decision is an event of the teacher's secondments (``secondment.<teacher_id>``), appended
expecting the aggregate's last sequence, so a consent and a renewal requested at the same moment
are judged one after the other, never on a stale run. A retry of the same command answers with
what it stored (``earlier_outcome``); the same command id with another body is refused by the
command ledger before it gets here.
"""

from __future__ import annotations

from jianfu.approvals.domain.secondment import TeacherSecondments
from jianfu.approvals.handlers import _parsed
from jianfu.events.commands import Caller, command_context
from jianfu.events.dependencies import Deps
from jianfu.events.envelope import Envelope
from jianfu.events.schemas.secondments import (
    ApproveSecondment,
    ConsentToSecondment,
    RefuseSecondment,
    SecondmentApproved,
    SecondmentConsented,
    SecondmentRequested,
)
from jianfu.events.store import History, StoredEvent, execute

SECONDMENT = SecondmentRequested.aggregate_type
DECISIONS = {SecondmentConsented.__name__: "consented", SecondmentApproved.__name__: "approved"}


async def consent_to_secondment(command: ConsentToSecondment, caller: Caller, deps: Deps) -> dict:
    return await _decide(command, caller, deps, lambda teacher: teacher.consent(
        command.secondment_id, caller.org, deps.policy.secondment, command.note))


async def approve_secondment(command: ApproveSecondment, caller: Caller, deps: Deps) -> dict:
    return await _decide(command, caller, deps, lambda teacher: teacher.approve(
        command.secondment_id, caller.org, deps.policy.secondment, command.note))


async def refuse_secondment(command: RefuseSecondment, caller: Caller, deps: Deps) -> dict:
    return await _decide(command, caller, deps, lambda teacher: teacher.refuse(
        command.secondment_id, caller.org, deps.policy.secondment, command.refusal_code, command.reason))


async def _decide(command: ConsentToSecondment | ApproveSecondment | RefuseSecondment, caller: Caller, deps: Deps,
                  decide) -> dict:
    context = command_context(caller, command, deps.policy.version, deps.clock.now())
    teacher_id = command.teacher_id

    def on(history: History) -> list[Envelope]:
        return context.earlier_outcome(history.envelopes) or [context.event(
            decide(TeacherSecondments.from_events(teacher_id, _parsed(history))), teacher_id,
            key=str(command.secondment_id))]

    return _decision_reply(await execute(deps.store, SECONDMENT, teacher_id, on, deps.retries))


def _decision_reply(stored: list[StoredEvent]) -> dict:
    event = stored[0].envelope
    reply = {"teacher_id": event.data["teacher_id"], "secondment_id": event.data["secondment_id"],
             "continuous_days": event.data["continuous_days"], "sequence": stored[0].sequence}
    if event.event_type in DECISIONS:
        return {**reply, "decision": DECISIONS[event.event_type]}
    return {**reply, "decision": "refused", "stage": event.data["stage"], "refusal_code": event.data["refusal_code"],
            "automatic": event.data["automatic"], "reason": event.data["reason"]}
