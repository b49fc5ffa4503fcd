"""Rebuild: replay the log from sequence 1 into fresh tables, then switch them in.

Auditors compare digests: ``read_model_digest`` is a SHA-256 over an ordered dump of every
read-model table except the checkpoint and the chain heads, independent of the dialect and of
the table prefix. Like the checkpoint, the heads are the projector's bookkeeping of where it
stands in the log (per aggregate), not something the read model publishes: an event the read
model has no use for moves a head and changes nothing in the digest. Every verdict of the chain
check is in the digest all the same, as rows of ``compliance_quarantined_events``; the heads
themselves are an auditor's to check with ``jianfu verify`` and the seals. A rebuild reproduces
them (it replays the same fold) and switches them in with the other tables.

A rebuild
1. creates fresh ``compliance_rebuild_*`` tables and replays 1..N into them, where N is the
   live checkpoint (or the end of the log if nothing was projected yet), without any lock;
2. claims the live checkpoint (on PostgreSQL with an exclusive lock on the live tables), so a
   running projector waits; replays what the projector applied meanwhile, so both copies stand
   at the same sequence; digests both;
3. drops the live tables and renames the fresh ones in, in that same transaction (or, with
   ``switch=False``, drops the fresh ones: an audit that changes nothing).

A running projector simply continues after the switch: the checkpoint it finds is the one it
left. A rebuild reads the log and never writes to it: the detector judges during a rebuild as it
did live (the read model's violation columns come from the same deterministic judgement), but
appends nothing, whatever detection it is given, so an auditor's rebuild can never add a
retroactive violation to the log.
Events the projector quarantined are quarantined again, into the fresh tables, with the same
reasons; a rebuild publishes no alerts.

From a shell: ``jianfu rebuild`` or ``jianfu rebuild --verify``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, replace

import sqlalchemy as sa
import structlog
from jianfu.compliance.checkpoint import (
    Delivered,
    apply_batch,
    apply_events,
    claim_checkpoint,
    ensure_checkpoint,
    read,
    read_checkpoint,
)
from jianfu.compliance.database import is_postgres, make_engine, plain
from jianfu.compliance.migrations import migrate
from jianfu.compliance.projection import Detection
from jianfu.compliance.read_model import (
    LIVE_PREFIX,
    REBUILD_PREFIX,
    ReadModel,
    build_tables,
)
from jianfu.compliance.standby import leadership
from jianfu.events.connection import connect
from jianfu.events.settings import Settings
from jianfu.events.store import ALL_EVENTS, EventStore
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.schema import CreateIndex

log = structlog.get_logger("jianfu.compliance.rebuild")


@dataclass(frozen=True)
class RebuildResult:
    digest: str
    live_digest: str | None  # the live model's at the same sequence, before the switch
    last_sequence: int
    switched: bool

    @property
    def matched(self) -> bool | None:
        """Whether the live model equalled the log's replay (None: not at the same sequence)."""
        return None if self.live_digest is None else self.live_digest == self.digest


async def read_model_digest(engine: AsyncEngine, prefix: str = LIVE_PREFIX) -> str:
    """SHA-256 over every read-model table of ``prefix`` except the checkpoint and the chain heads."""
    async with engine.connect() as conn:
        return await digest_of(conn, build_tables(prefix))


async def digest_of(conn: AsyncConnection, model: ReadModel) -> str:
    digest = hashlib.sha256()
    for table in sorted(model.tables, key=model.unprefixed):
        if table is model.checkpoint or table is model.chain_heads:
            continue
        digest.update(f"# {model.unprefixed(table)} {','.join(c.name for c in table.columns)}\n".encode())
        rows = (await conn.execute(sa.select(table))).all()
        # Sorted here, not in SQL: collations differ between PostgreSQL and SQLite.
        for line in sorted(json.dumps([plain(v) for v in row], sort_keys=True, ensure_ascii=False) for row in rows):
            digest.update(line.encode() + b"\n")
    return digest.hexdigest()


async def rebuild_read_model(engine: AsyncEngine, store: EventStore, detection: Detection, switch: bool = True,
                             batch: int = 500) -> RebuildResult:
    """Rebuild the live read model from the log (the live schema must exist: ``migrate``).
    Rebuilds share the ``compliance_rebuild_*`` tables, so a second one waits for the first."""
    async with leadership(engine, f"rebuild:{REBUILD_PREFIX}"):
        return await _rebuild(engine, store, replace(detection, store=None), switch, batch)


async def _rebuild(engine: AsyncEngine, store: EventStore, detection: Detection, switch: bool,
                   batch: int) -> RebuildResult:
    live, fresh = build_tables(LIVE_PREFIX), build_tables(REBUILD_PREFIX)
    async with engine.begin() as conn:
        await conn.run_sync(fresh.metadata.drop_all)  # what an interrupted rebuild left behind
        await conn.run_sync(fresh.metadata.create_all)
        await ensure_checkpoint(conn, fresh)
        await ensure_checkpoint(conn, live)
        target = await read_checkpoint(conn, live) or await store.last_sequence()
    rebuilt = await _replay_batches(engine, store, fresh, detection, target, batch)
    log.info("rebuild_replayed", last_sequence=rebuilt)

    async with engine.begin() as conn:
        if is_postgres(conn):
            # Checkpoint first: projectors (and queries) take it first too, so nobody deadlocks.
            # A switch keeps everyone out; an audit only holds writers back.
            names = ", ".join(_quoted(conn, t.name) for t in live.tables)
            await conn.execute(sa.text(f"LOCK TABLE {names} IN {'ACCESS EXCLUSIVE' if switch else 'SHARE'} MODE"))
        live_sequence = await claim_checkpoint(conn, live)
        if rebuilt < live_sequence:
            caught_up = await apply_events(conn, fresh, await _events(store, rebuilt + 1, live_sequence), detection,
                                           one_by_one=True)
            rebuilt = caught_up.checkpoint
        live_digest = await digest_of(conn, live) if rebuilt == live_sequence else None
        digest = await digest_of(conn, fresh)
        if switch:
            await _switch(conn, fresh, live)
        else:
            await conn.run_sync(fresh.metadata.drop_all)
    result = RebuildResult(digest, live_digest, rebuilt, switch)
    log.info("rebuild_finished", **asdict(result), matched=result.matched)
    if result.matched is False:
        log.warning("live_read_model_differed_from_the_log", live_digest=live_digest, digest=digest)
    return result


async def rebuild(settings: Settings, switch: bool = True) -> str:
    """Rebuild the read model at ``settings.database_url`` from the log; return its digest."""
    return (await rebuild_with(settings, switch)).digest


async def rebuild_with(settings: Settings, switch: bool = True) -> RebuildResult:
    """As ``rebuild``, with the full result (the live digest it was compared with)."""
    await migrate(settings.database_url)
    nc = await connect(settings)
    engine = make_engine(settings.database_url)
    try:
        store = EventStore(nc.jetstream(), settings.stream)
        detection = Detection.from_settings(settings, None, settings.make_clock())
        return await rebuild_read_model(engine, store, detection, switch, settings.projector_batch)
    finally:
        await engine.dispose()
        await nc.close()


async def _replay_batches(engine, store: EventStore, model: ReadModel, detection: Detection, last: int,
                          batch: int) -> int:
    checkpoint, pending = 0, []
    async for delivered in _range(store, 1, last):
        pending.append(delivered)
        if len(pending) >= batch:
            checkpoint = await apply_batch(engine, model, pending, detection)
            pending = []
    if pending:
        checkpoint = await apply_batch(engine, model, pending, detection)
    return checkpoint


async def _events(store: EventStore, first: int, last: int) -> list[Delivered]:
    return [delivered async for delivered in _range(store, first, last)]


async def _range(store: EventStore, first: int, last: int) -> AsyncIterator[Delivered]:
    """The events from ``first`` to ``last`` inclusive, in stream order, as stored: an envelope
    that does not validate comes as its bytes (to be quarantined), not as an error."""
    async for raw in store.read_raw(ALL_EVENTS, first, last):
        yield read(raw.sequence, raw.subject, raw.data)


async def _switch(conn: AsyncConnection, fresh: ReadModel, live: ReadModel) -> None:
    """Drop the live tables and rename the fresh ones (with their key constraints and indexes) in."""
    for table in live.tables:
        await conn.execute(sa.text(f"DROP TABLE {_quoted(conn, table.name)}"))
    for new, old in zip(fresh.tables, live.tables):
        await conn.execute(sa.text(f"ALTER TABLE {_quoted(conn, new.name)} RENAME TO {_quoted(conn, old.name)}"))
        if is_postgres(conn):  # PostgreSQL names key indexes schema-wide; SQLite keeps them per table
            await conn.execute(sa.text(
                f"ALTER TABLE {_quoted(conn, old.name)} RENAME CONSTRAINT "
                f"{_quoted(conn, new.primary_key.name)} TO {_quoted(conn, old.primary_key.name)}"))
        await _rename_indexes(conn, new, old)


async def _rename_indexes(conn: AsyncConnection, new: sa.Table, old: sa.Table) -> None:
    """Index names are database-wide in both dialects: give the fresh indexes the live names, so
    the next rebuild can create its own again. SQLite cannot rename an index: it re-creates it."""
    for fresh_index, live_index in zip(sorted(new.indexes, key=_name), sorted(old.indexes, key=_name), strict=True):
        if is_postgres(conn):
            await conn.execute(sa.text(
                f"ALTER INDEX {_quoted(conn, fresh_index.name)} RENAME TO {_quoted(conn, live_index.name)}"))
        else:
            await conn.execute(sa.text(f"DROP INDEX {_quoted(conn, fresh_index.name)}"))
            await conn.execute(CreateIndex(live_index))


def _name(index: sa.Index) -> str:
    return index.name[index.name.rindex("_ix"):]  # the same for the fresh and the live index


def _quoted(conn: AsyncConnection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)
