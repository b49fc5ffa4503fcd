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

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import sqlalchemy as sa
import structlog
from jianfu.compliance.database import insert_missing
from jianfu.compliance.domain.folding import Emitted, Fact, Projection
from jianfu.compliance.heads import read_heads, write_heads
from jianfu.compliance.projection import apply, fact
from jianfu.compliance.quarantine import Quarantined, is_transient, of_event, of_unreadable, record
from jianfu.compliance.read_model import PROJECTION, ReadModel
from jianfu.events import chain
from jianfu.events.envelope import Envelope, stored_hash
from jianfu.events.logging import bind_correlation, unbind_correlation
from jianfu.events.quarantine import printable
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = structlog.get_logger("jianfu.compliance.checkpoint")

Emit = Callable[[list[Emitted]], Awaitable[None]]
"""Appends a batch's decisions to the log before its transaction commits (the detector's)."""


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
    await insert_missing(conn, model.checkpoint, {"projection": PROJECTION, "last_sequence": 0}, ("projection",))


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
                       one_by_one: bool = False, projection: Projection | None = None,
                       emit: Emit | None = None) -> Projected:
    """Fold the events above the claimed checkpoint into the model, in order, and advance it;
    inside the caller's transaction. An unreadable envelope or a broken chain is quarantined at
    once. Without ``one_by_one`` the whole batch is folded at once, what it decided is handed to
    ``emit``, and the first failure propagates (the caller's transaction rolls back); with it each
    event gets a SAVEPOINT of its own (its fold, its writes and its decisions), and one that fails
    for a reason of its own is quarantined."""
    projection = projection or model.projection
    checkpoint = await claim_checkpoint(conn, model)
    fresh = above(checkpoint, events)
    readable = [event.link() for event in fresh if event.envelope is not None]
    chains = chain.fold(await read_heads(conn, model, {link.subject for link in readable}), readable)
    quarantined: list[Quarantined] = []
    facts: list[Fact] = []
    for sequence, envelope, subject, data in fresh:
        if envelope is None:
            quarantined.append(of_unreadable(sequence, subject, data))
        elif sequence in chains.breaks:
            quarantined.append(of_break(sequence, subject, envelope, chains.breaks[sequence]))
        elif one_by_one:
            row = await _apply_or_quarantine(conn, model, projection, emit, sequence, subject, envelope)
            if row is not None:
                quarantined.append(row)
        else:
            found = fact(sequence, envelope, projection)
            if found is not None:
                facts.append(found)
    if facts:
        await _apply(conn, model, projection, emit, facts)
    await record(conn, model, quarantined)
    await write_heads(conn, model, chains.heads)
    if fresh:
        checkpoint = fresh[-1].sequence
        await advance(conn, model, checkpoint)
    return Projected(checkpoint, tuple(quarantined))  # in stream order, as ``fresh``


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


async def _apply(conn: AsyncConnection, model: ReadModel, projection: Projection, emit: Emit | None,
                 facts: list[Fact]) -> None:
    decided = await apply(conn, model, projection, facts)
    if decided and emit is not None:
        await emit(decided)


async def _apply_or_quarantine(conn: AsyncConnection, model: ReadModel, projection: Projection, emit: Emit | None,
                               sequence: int, subject: str, envelope: Envelope) -> Quarantined | None:
    bind_correlation(envelope.correlation_id, event_type=envelope.event_type, sequence=sequence)
    try:
        async with conn.begin_nested():
            found = fact(sequence, envelope, projection)
            if found is not None:
                await _apply(conn, model, projection, emit, [found])
    except Exception as error:  # noqa: BLE001 - sorted below: the event's own failures are quarantined
        if is_transient(error):
            raise
        return of_event(sequence, subject, envelope, error, model)
    finally:
        unbind_correlation("event_type", "sequence")
    return None


async def project(engine: AsyncEngine, model: ReadModel, events: Sequence[Delivered],
                  projection: Projection | None = None, emit: Emit | None = None) -> Projected:
    """One transaction: the batch's effects (and its decisions appended to the log), what it
    quarantined and the checkpoint commit together or not at all."""
    try:
        async with engine.begin() as conn:
            return await apply_events(conn, model, events, projection=projection, emit=emit)
    except (CheckpointGap, CheckpointMissing):
        raise
    except Exception as error:  # noqa: BLE001 - transient ones propagate; the rest retry one by one
        if is_transient(error):
            raise
        log.warning("batch_failed_applying_event_by_event", error=printable(repr(error), 500),
                    first_sequence=Delivered(*events[0]).sequence, events=len(events))
    async with engine.begin() as conn:
        return await apply_events(conn, model, events, one_by_one=True, projection=projection, emit=emit)


async def apply_batch(engine: AsyncEngine, model: ReadModel, events: Sequence[Delivered]) -> int:
    """As ``project`` for the model's own projection, deciding nothing; returns the new checkpoint."""
    return (await project(engine, model, events)).checkpoint
