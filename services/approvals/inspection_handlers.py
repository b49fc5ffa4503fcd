"""S1 inspections: one function per command or event, load → decide (domain) → append.

A decision is an event of its item (``inspection_item.<item_id>``): screening files the bureau's
own and refuses a late one without a reason; the supervision office approves or rejects the
others. A merger is a new item (its id derived from the command's key) whose event and each
source's ``InspectionItemMerged`` are appended together or not at all. A publication is an
edition of the year's checklist (``inspection_checklist.<year>``), its rows read from every
item's events, an unreadable one passed over.
"""

from __future__ import annotations

import uuid

from jianfu.approvals.domain.inspection_checklist import InspectionChecklist, rows_in_force
from jianfu.approvals.domain.inspection_item import InspectionItem, merge_items
from jianfu.approvals.handlers import _parsed, _readable, _readable_replay
from jianfu.events import catalogue
from jianfu.events.commands import Caller, command_context
from jianfu.events.dependencies import Deps
from jianfu.events.envelope import EVENT_ID_NAMESPACE, SYSTEM_ACTOR, Envelope, subject_for
from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.inspections import (
    ApproveInspectionItem,
    InspectionChecklistPublished,
    InspectionItemProposed,
    InspectionItemRejected,
    InspectionItemsMerged,
    MergeInspectionItems,
    PublishInspectionChecklist,
    RejectInspectionItem,
)
from jianfu.events.store import History, StoredEvent, execute, execute_together

ITEM, CHECKLIST = InspectionItemProposed.aggregate_type, InspectionChecklistPublished.aggregate_type
ITEM_SUBJECTS = subject_for(ITEM, ">")


async def screen_proposal(envelope: Envelope, sequence: int, deps: Deps) -> None:
    """On every InspectionItemProposed (S1): a late one without a reason is refused, the
    education bureau's own is filed (报备); any other unit's waits for the supervision office."""
    if envelope.event_type != InspectionItemProposed.__name__:
        return
    context = CommandContext(SYSTEM_ACTOR, envelope.event_id, envelope.correlation_id, deps.policy.version,
                             deps.clock.now())

    def screen(history: History) -> list[Envelope]:
        decided = InspectionItem.from_events(_parsed(history)).screen(deps.directory)
        return [context.event(decided, envelope.aggregate_id, key=envelope.aggregate_id)] if decided else []

    await execute(deps.store, ITEM, envelope.aggregate_id, screen, deps.retries)


async def approve_inspection_item(command: ApproveInspectionItem, caller: Caller, deps: Deps) -> dict:
    context = command_context(caller, command, deps.policy.version, deps.clock.now())
    return _decision_reply(await _decide(deps, context, str(command.item_id), lambda item: (
        item.approve(deps.directory, caller.org.org_id, command.note))))


async def reject_inspection_item(command: RejectInspectionItem, caller: Caller, deps: Deps) -> dict:
    context = command_context(caller, command, deps.policy.version, deps.clock.now())
    return _decision_reply(await _decide(deps, context, str(command.item_id), lambda item: (
        item.reject(deps.directory, command.refusal_code, command.reason))))


async def _decide(deps: Deps, context: CommandContext, item_id: str, decide) -> list[StoredEvent]:
    def on(history: History) -> list[Envelope]:
        return context.earlier_outcome(history.envelopes) or [
            context.event(decide(InspectionItem.from_events(_parsed(history))), item_id, key=item_id)]

    return await execute(deps.store, ITEM, item_id, on, deps.retries)


async def merge_inspection_items(command: MergeInspectionItems, caller: Caller, deps: Deps) -> dict:
    """S1 统筹协调: the bureau merges similar items of a year into a new one; its event and each
    source's are appended together, so no source is left pointing at a merger never stored."""
    context = command_context(caller, command, deps.policy.version, deps.clock.now())
    merged_id = uuid.uuid5(EVENT_ID_NAMESPACE, f"{ITEM}:{context.key}")
    sources = [str(key) for key in command.item_ids]

    def merge(histories: list[History]) -> list[tuple[History, Envelope]]:
        earlier = [(history, event) for history in histories for event in context.earlier_outcome(history.envelopes)]
        if earlier:
            return earlier
        merged_history, *source_histories = histories
        if merged_history.events:
            raise Refused(ErrorCode.INVALID_STATE, f"item {merged_id} exists already", "command_id")
        for history in source_histories:
            if not history.events:
                raise Refused(ErrorCode.NOT_FOUND, f"no such inspection item {history.aggregate_id}", "item_ids")
        items = [InspectionItem.from_events(_parsed(history)) for history in source_histories]
        merged, merged_into = merge_items(items, merged_id, command.title, deps.directory, command.note)
        return [(merged_history, context.event(merged, str(merged_id), key=str(merged_id))),
                *((history, context.event(event, history.aggregate_id, key=str(merged_id)))
                  for history, event in zip(source_histories, merged_into, strict=True))]

    aggregates = [(ITEM, str(merged_id)), *((ITEM, key) for key in sources)]
    stored = await execute_together(deps.store, aggregates, merge, deps.retries)
    merged: InspectionItemsMerged = catalogue.parse(stored[0].envelope)
    return {"item_id": str(merged.item_id), "year": merged.year, "merged_item_ids": [str(k) for k in merged.merged_item_ids],
            "lead_org_ids": list(merged.lead_org_ids), "sequence": stored[0].sequence}


async def publish_inspection_checklist(command: PublishInspectionChecklist, caller: Caller, deps: Deps) -> dict:
    """The year's checklist (Attachment 2): a new edition of the items in force, in parts."""
    context = command_context(caller, command, deps.policy.version, deps.clock.now())
    rows = rows_in_force(command.year, [event async for event in _readable_replay(deps.store, ITEM_SUBJECTS, context)],
                         deps.directory)
    year = str(command.year)

    def publish(history: History) -> list[Envelope]:
        return context.earlier_outcome(history.envelopes) or [
            context.event(part, year, key=str(part.part))
            for part in InspectionChecklist.from_events(command.year, _readable(history.events, context)).publish(rows)]

    stored = await execute(deps.store, CHECKLIST, year, publish, deps.retries)
    last = stored[-1].envelope.data
    return {"year": command.year, "edition": last["edition"], "row_count": last["row_count"], "parts": last["parts"],
            "sequence": stored[-1].sequence}


def _decision_reply(stored: list[StoredEvent]) -> dict:
    event = stored[0].envelope
    reply = {"item_id": event.data["item_id"], "sequence": stored[0].sequence}
    if event.event_type == InspectionItemRejected.__name__:
        return {**reply, "decision": "rejected", "refusal_code": event.data["refusal_code"],
                "automatic": event.data["automatic"], "reason": event.data["reason"]}
    return {**reply, "decision": "approved", "approved_by_org_id": event.data["approved_by_org_id"]}
