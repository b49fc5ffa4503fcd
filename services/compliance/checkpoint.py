"""Exactly-once effects: a batch of events and the checkpoint advance in one transaction.

Each batch transaction first *claims* the checkpoint row (an UPDATE that sets it to itself):
PostgreSQL locks the row, SQLite takes its write lock. So even two projectors that both believe
they are active (a lock connection lost in a partition) apply every event once: the second one
waits, then sees the advanced checkpoint and skips what is at or below it.

One bad event never stops the projection. The whole batch is applied in one transaction (the
fast path); if that fails for a reason that is not transient (see ``quarantine.py``), the batch
is applied again in a new transaction, event by event, each in a SAVEPOINT: an event that fails
is rolled back alone, recorded in ``compliance_quarantined_events``, and the checkpoint passes
it, all in that one transaction. A transient failure (a lost connection, a timeout) quarantines
nothing: the caller starts over from the committed checkpoint.

Before anything is applied, every event is checked against its aggregate's chain
(``jianfu.events.chain``): stored on its envelope's subject, ``prev_hash`` continuing the head
kept in ``compliance_chain_heads``. One that fails is quarantined, never applied, and its
aggregate's head stays where it was; the heads a batch moved are written with the checkpoint.
An event that passes moves its head even if it then fails to apply: it is in the log's chain
all the same, and the next event of its aggregate continues from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import sqlalchemy as sa
import structlog
from jianfu.compliance.database import upsert
from jianfu.compliance.heads import read_heads, write_heads
from jianfu.compliance.projection import Detection, apply
from jianfu.compliance.quarantine import Quarantined, is_transient, of_event, of_unreadable, record
from jianfu.compliance.read_model import PROJECTION, ReadModel
from jianfu.events import chain
from jianfu.events.envelope import Envelope, stored_hash
from jianfu.events.logging import bind_correlation, unbind_correlation
from jianfu.events.quarantine import printable
from jianfu.events.store import StoredEvent
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = structlog.get_logger("jianfu.compliance.checkpoint")


class Delivered(NamedTuple):
    """One event as read from the log: its subject and stored bytes, and its envelope, or None
    when they do not validate. A plain ``(sequence, envelope)`` pair is one too, taken as stored
    where its envelope says, as the store writes it."""

    sequence: int
    envelope: Envelope | None
    subject: str = ""
    data: bytes = b""

    def link(self) -> chain.Link:
        """What the chain check sees of it (its envelope must be readable)."""
        return chain.Link(self.sequence, self.subject or self.envelope.subject, self.envelope,
                          stored_hash(self.data) if self.data else self.envelope.hash())


def read(sequence: int, subject: str, data: bytes) -> Delivered:
    try:
        return Delivered(sequence, Envelope.model_validate_json(data), subject, data)
    except ValidationError:
        return Delivered(sequence, None, subject, data)


@dataclass(frozen=True)
class Projected:
    """Where a batch left the checkpoint, and what it quarantined on the way."""

    checkpoint: int
    quarantined: tuple[Quarantined, ...] = ()


class CheckpointGap(Exception):
    """An event arrived whose predecessor was never applied; the consumer must restart."""


class CheckpointMissing(Exception):
    """The checkpoint row vanished (the tables were switched under us); start over."""


async def ensure_checkpoint(conn: AsyncConnection, model: ReadModel) -> None:
    await upsert(conn, model.checkpoint, {"projection": PROJECTION, "last_sequence": 0}, ("projection",))


async def read_checkpoint(conn: AsyncConnection, model: ReadModel) -> int:
    t = model.checkpoint
    return await conn.scalar(sa.select(t.c.last_sequence).where(t.c.projection == PROJECTION)) or 0


async def claim_checkpoint(conn: AsyncConnection, model: ReadModel) -> int:
    """The checkpoint, locked for this transaction."""
    t = model.checkpoint
    claimed = await conn.scalar(
        t.update().where(t.c.projection == PROJECTION).values(last_sequence=t.c.last_sequence)
        .returning(t.c.last_sequence))
    if claimed is None:
        raise CheckpointMissing(t.name)
    return claimed


async def advance(conn: AsyncConnection, model: ReadModel, sequence: int) -> None:
    t = model.checkpoint
    await conn.execute(t.update().where(t.c.projection == PROJECTION).values(last_sequence=sequence))


async def apply_events(conn: AsyncConnection, model: ReadModel, events: Sequence[Delivered],
                       detection: Detection, one_by_one: bool = False) -> Projected:
    """Apply the events above the claimed checkpoint, in order, and advance it; inside the
    caller's transaction. An unreadable envelope or a broken chain is quarantined at once. With
    ``one_by_one`` each event gets a SAVEPOINT and one that fails for a reason of its own is
    quarantined; without it the first failure propagates and the caller's transaction rolls back."""
    checkpoint = await claim_checkpoint(conn, model)
    fresh = above(checkpoint, events)
    readable = [event.link() for event in fresh if event.envelope is not None]
    chains = chain.fold(await read_heads(conn, model, {link.subject for link in readable}), readable)
    quarantined: list[Quarantined] = []
    for sequence, envelope, subject, data in fresh:
        if envelope is None:
            row = of_unreadable(sequence, subject, data)
        elif sequence in chains.breaks:
            row = of_break(sequence, subject, envelope, chains.breaks[sequence])
        elif one_by_one:
            row = await _apply_or_quarantine(conn, model, sequence, subject, envelope, detection)
        else:
            row = await _apply(conn, model, sequence, envelope, detection)
        if row is not None:
            await record(conn, model, row)
            quarantined.append(row)
    await write_heads(conn, model, chains.heads)
    if fresh:
        checkpoint = fresh[-1].sequence
        await advance(conn, model, checkpoint)
    return Projected(checkpoint, tuple(quarantined))


def above(checkpoint: int, events: Sequence[Delivered]) -> list[Delivered]:
    """The events after ``checkpoint``, which must follow it without a gap; those at or below it
    were redelivered or replayed: applied already."""
    fresh: list[Delivered] = []
    last = checkpoint
    for event in (Delivered(*event) for event in events):
        if event.sequence <= last:
            continue
        if event.sequence != last + 1:
            raise CheckpointGap(f"sequence {event.sequence} after checkpoint {last}")
        fresh.append(event)
        last = event.sequence
    return fresh


def of_break(sequence: int, subject: str, envelope: Envelope, why: str) -> Quarantined:
    """An event that is not where its envelope says, or does not continue its aggregate's chain."""
    return Quarantined(sequence, printable(subject or envelope.subject, 300), printable(envelope.event_id, 100),
                       printable(envelope.event_type, 100), printable(why, 1000))


async def _apply(conn: AsyncConnection, model: ReadModel, sequence: int, envelope: Envelope,
                 detection: Detection) -> None:
    bind_correlation(envelope.correlation_id, event_type=envelope.event_type, sequence=sequence)
    try:
        await apply(conn, model, StoredEvent(sequence, envelope), detection)
    finally:
        unbind_correlation("event_type", "sequence")


async def _apply_or_quarantine(conn: AsyncConnection, model: ReadModel, sequence: int, subject: str,
                               envelope: Envelope, detection: Detection) -> Quarantined | None:
    try:
        async with conn.begin_nested():
            await _apply(conn, model, sequence, envelope, detection)
    except Exception as error:  # noqa: BLE001 - sorted below: the event's own failures are quarantined
        if is_transient(error):
            raise
        return of_event(sequence, subject, envelope, error, model)
    return None


async def project(engine: AsyncEngine, model: ReadModel, events: Sequence[Delivered],
                  detection: Detection) -> Projected:
    """One transaction: the batch's effects (and its violations appended to the log), what it
    quarantined and the checkpoint commit together or not at all."""
    try:
        async with engine.begin() as conn:
            return await apply_events(conn, model, events, detection)
    except (CheckpointGap, CheckpointMissing):
        raise
    except Exception as error:  # noqa: BLE001 - transient ones propagate; the rest retry one by one
        if is_transient(error):
            raise
        log.warning("batch_failed_applying_event_by_event", error=printable(repr(error), 500),
                    first_sequence=Delivered(*events[0]).sequence, events=len(events))
    async with engine.begin() as conn:
        return await apply_events(conn, model, events, detection, one_by_one=True)


async def apply_batch(engine: AsyncEngine, model: ReadModel, events: Sequence[Delivered], detection: Detection) -> int:
    """As ``project``; returns the new checkpoint."""
    return (await project(engine, model, events, detection)).checkpoint
