"""Exactly-once effects: a batch of events and the checkpoint advance in one transaction.

Each batch transaction first *claims* the checkpoint row (an UPDATE that sets it to itself):
PostgreSQL locks the row, SQLite takes its write lock. So even two projectors that both believe
they are active (a lock connection lost in a partition) apply every event once: the second one
waits, then sees the advanced checkpoint and skips what is at or below it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import structlog
from jianfu.compliance.database import upsert
from jianfu.compliance.projection import Detection, apply
from jianfu.compliance.read_model import PROJECTION, ReadModel
from jianfu.events.envelope import Envelope
from jianfu.events.logging import bind_correlation, unbind_correlation
from jianfu.events.store import StoredEvent
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = structlog.get_logger("jianfu.compliance.checkpoint")

Delivered = tuple[int, Envelope | None]  # stream sequence, and the envelope unless unreadable


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
                       detection: Detection) -> int:
    """Apply the events above the claimed checkpoint, in order, and advance it; inside the
    caller's transaction. Returns the new checkpoint."""
    checkpoint = last = await claim_checkpoint(conn, model)
    for sequence, envelope in events:
        if sequence <= last:
            continue  # redelivered or replayed: already applied
        if sequence != last + 1:
            raise CheckpointGap(f"sequence {sequence} after checkpoint {last}")
        if envelope is None:
            log.error("unreadable_envelope_skipped", sequence=sequence)
        else:
            bind_correlation(envelope.correlation_id, event_type=envelope.event_type, sequence=sequence)
            try:
                await apply(conn, model, StoredEvent(sequence, envelope), detection)
            finally:
                unbind_correlation("event_type", "sequence")
        last = sequence
    if last > checkpoint:
        await advance(conn, model, last)
    return last


async def apply_batch(engine: AsyncEngine, model: ReadModel, events: Sequence[Delivered], detection: Detection) -> int:
    """One transaction: the batch's effects (and its violations appended to the log) and the
    checkpoint commit together or not at all."""
    async with engine.begin() as conn:
        return await apply_events(conn, model, events, detection)
