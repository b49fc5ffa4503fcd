"""G2 commands of people, one function each, load → decide (``domain/ladder.py``) → append:
a person of the leading group office confirms or declines a proposed circulation; the
responsible unit reports its rectification; the issuer of the case's latest step verifies or
rejects the report.

A confirmation takes two appends: the number from the year's register
(``circulation_register.<year>``, ``CirculationNumberAssigned``, one per proposal: a retry finds
its number, and the register's expected last sequence means two confirmations at once never
share one), then ``CirculationConfirmed`` on the escalation. A crash between them leaves the
number assigned; the retry finds it and confirms. Escalations are read whole here (their logs
are a unit's violations of one issue) so a retried command finds what it caused
(``earlier_outcome``) and answers the same.
"""

from __future__ import annotations

from collections.abc import Callable

from jianfu.events import catalogue
from jianfu.events.commands import Caller, command_context
from jianfu.events.dependencies import Deps
from jianfu.events.envelope import Envelope
from jianfu.events.schemas.escalation import (
    CirculationConfirmed,
    CirculationNumberAssigned,
    ConfirmCirculation,
    DeclineCirculation,
    RejectRectification,
    ReportRectification,
    VerifyRectification,
)
from jianfu.events.store import History, StoredEvent, execute
from jianfu.notifications.domain import ladder
from jianfu.notifications.domain.escalation import Escalation
from jianfu.notifications.handlers import ESCALATION, business_day, working_calendar

REGISTER = CirculationNumberAssigned.aggregate_type


def escalation_of(history: History) -> Escalation:
    escalation = Escalation(history.aggregate_id)
    for stored in history.events:
        escalation.apply(catalogue.parse(stored.envelope), stored.envelope.event_id,
                         business_day(stored.envelope.occurred_at))
    return escalation


async def confirm_circulation(command: ConfirmCirculation, caller: Caller, deps: Deps) -> dict:
    """The circulation's alerts go out from the stored event (``handlers.on_circulation_confirmed``)."""
    context = command_context(caller, command, deps.policy.version, deps.clock.now())
    today, policy = business_day(context.now), deps.policy.escalation
    aggregate_id = ladder.escalation_of_proposal(command.proposal_id)
    history = await deps.store.load(ESCALATION, aggregate_id)
    if not context.earlier_outcome(history.envelopes):
        ladder.confirmable(escalation_of(history), command.proposal_id)  # refused before a number is taken
    assigned = await _number(deps, context, command.proposal_id, aggregate_id, today.year)

    def decide(history: History) -> list[Envelope]:
        return context.earlier_outcome(history.envelopes) or [context.event(ladder.confirm(
            escalation_of(history), command.proposal_id, assigned.document_number, assigned.year, caller.org.org_id,
            caller.person, today, command.note, policy, working_calendar(deps)), aggregate_id)]

    stored = await execute(deps.store, ESCALATION, aggregate_id, decide, deps.retries)
    confirmed = CirculationConfirmed.model_validate(stored[0].envelope.data)
    return {"proposal_id": confirmed.proposal_id, "escalation_id": aggregate_id, "stage": confirmed.stage,
            "year": confirmed.year, "number": assigned.number, "document_number": confirmed.document_number,
            "rectify_by": confirmed.rectify_by.isoformat(), "sequence": stored[0].sequence}


async def _number(deps: Deps, context, proposal_id: str, aggregate_id: str, year: int) -> CirculationNumberAssigned:
    """The proposal's number in the year's register: the one it has, else the next. A retry in
    January of a confirmation that took its number on 31 December finds that number (last year's
    register) instead of taking a second one and leaving a gap."""
    found: list[CirculationNumberAssigned] = []
    last_year = await deps.store.load(REGISTER, str(year - 1))
    taken = [n for n in _numbers(last_year) if n.proposal_id == proposal_id]
    if taken:
        return taken[0]

    def decide(history: History) -> list[Envelope]:
        found.clear()
        numbers = _numbers(history)
        found.extend(n for n in numbers if n.proposal_id == proposal_id)
        if found:
            return []
        number = max((n.number for n in numbers), default=0) + 1
        assigned = CirculationNumberAssigned(
            year=year, number=number, document_number=ladder.document_number(deps.policy.escalation, year, number),
            proposal_id=proposal_id, escalation_id=aggregate_id)
        found.append(assigned)
        return [context.event(assigned, str(year), key=proposal_id)]

    await execute(deps.store, REGISTER, str(year), decide, deps.retries)
    return found[0]


def _numbers(register: History) -> list[CirculationNumberAssigned]:
    return [CirculationNumberAssigned.model_validate(e.data) for e in register.envelopes
            if e.event_type == CirculationNumberAssigned.__name__]


async def decline_circulation(command: DeclineCirculation, caller: Caller, deps: Deps) -> dict:
    context = command_context(caller, command, deps.policy.version, deps.clock.now())
    aggregate_id = ladder.escalation_of_proposal(command.proposal_id)
    stored = await _decide(deps, context, aggregate_id, lambda escalation: ladder.decline(
        escalation, command.proposal_id, caller.org.org_id, caller.person, business_day(context.now), command.reason))
    return {"proposal_id": command.proposal_id, "escalation_id": aggregate_id, "decision": "declined",
            "sequence": stored[0].sequence}


async def report_rectification(command: ReportRectification, caller: Caller, deps: Deps) -> dict:
    context = command_context(caller, command, deps.policy.version, deps.clock.now())
    aggregate_id = ladder.known_escalation_id(command.escalation_id)
    stored = await _decide(deps, context, aggregate_id, lambda escalation: ladder.report(
        escalation, caller.org.org_id, ladder.report_id(aggregate_id, context.key), command.report,
        business_day(context.now)))
    return {"escalation_id": aggregate_id, "report_id": stored[0].envelope.data["report_id"],
            "sequence": stored[0].sequence}


async def verify_rectification(command: VerifyRectification, caller: Caller, deps: Deps) -> dict:
    context = command_context(caller, command, deps.policy.version, deps.clock.now())
    aggregate_id = ladder.known_escalation_id(command.escalation_id)
    stored = await _decide(deps, context, aggregate_id, lambda escalation: ladder.verify(
        escalation, caller.org.org_id, command.report_id, business_day(context.now), command.note))
    return {"escalation_id": aggregate_id, "report_id": command.report_id, "decision": "verified",
            "closed_deadline": stored[0].envelope.data["closed_deadline"], "sequence": stored[0].sequence}


async def reject_rectification(command: RejectRectification, caller: Caller, deps: Deps) -> dict:
    context = command_context(caller, command, deps.policy.version, deps.clock.now())
    aggregate_id = ladder.known_escalation_id(command.escalation_id)
    stored = await _decide(deps, context, aggregate_id, lambda escalation: ladder.reject(
        escalation, caller.org.org_id, command.report_id, business_day(context.now), command.reason))
    return {"escalation_id": aggregate_id, "report_id": command.report_id, "decision": "rejected",
            "sequence": stored[0].sequence}


async def _decide(deps: Deps, context, aggregate_id: str, decide: Callable[[Escalation], object]) -> list[StoredEvent]:
    def on(history: History) -> list[Envelope]:
        return context.earlier_outcome(history.envelopes) or [
            context.event(decide(escalation_of(history)), aggregate_id)]

    return await execute(deps.store, ESCALATION, aggregate_id, on, deps.retries)
