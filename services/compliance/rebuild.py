"""Rebuild: replay the log from sequence 1 into fresh tables, then switch them in.

Auditors compare digests: ``read_model_digest`` is a SHA-256 over an ordered dump of every
read-model table except the checkpoint and the chain heads, independent of the dialect and of
the table prefix. Like the checkpoint, the heads are the projector's bookkeeping of where it
stands in the log (per aggregate), not something the read model publishes: an event the read
model has no use for moves a head and changes nothing in the digest. Every verdict of the chain
check is in the digest all the same, as rows of ``compliance_quarantined_events``; the heads
themselves are an auditor's to check with ``jianfu verify`` and the seals. A rebuild reproduces
them (it replays the same fold) and switches them in with the other tables.

The digest streams each table from the database ordered by its primary key in byte order
(``COLLATE "C"`` on PostgreSQL, SQLite's default ``BINARY``: both compare UTF-8 bytes, which is
code-point order), so no table is ever held in memory and both dialects dump the same rows in
the same order, whatever collation the database was created with.

A rebuild
1. creates fresh ``compliance_rebuild_*`` tables and replays 1..N into them, where N is the
   live checkpoint (or the end of the log if nothing was projected yet), without any lock;
2. claims the live checkpoint, on PostgreSQL after locking the live tables in ``SHARE`` mode:
   writers (a running projector) wait, readers (queries) do not; replays what the projector
   applied meanwhile, so both copies stand at the same sequence; digests both;
3. only then, in that same transaction, takes ``ACCESS EXCLUSIVE`` on the live tables, drops
   them and renames the fresh ones in: queries wait for the drop and the renames, not for the
   digests' table scans. With ``switch=False`` it drops the fresh ones instead and never takes
   ``ACCESS EXCLUSIVE``: an audit that changes nothing and holds nobody but writers up.

A running projector simply continues after the switch: the checkpoint it finds is the one it
left. A rebuild reads the log and never writes to it: it runs the read model's projection only,
which decides nothing (the violation columns come from the ViolationDetected events in the log),
never the detector, so an auditor's rebuild can never add a retroactive violation to the log.
Events the projector quarantined are quarantined again, into the fresh tables, with the same
reasons; a rebuild publishes no alerts.

From a shell: ``jianfu rebuild`` or ``jianfu rebuild --verify``; on a terminal it shows a
progress bar (``progress_bar``: events replayed of the total, rate, time left).
"""

from __future__ import annotations

import hashlib
import json
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol, TextIO

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
from tqdm import tqdm

log = structlog.get_logger("jianfu.compliance.rebuild")

DIGEST_ROWS = 2000  # rows fetched per round trip while digesting; memory stays at one such slice


class Progress(Protocol):
    """What a rebuild reports its progress to (``tqdm`` is one): ``total`` is the sequence it
    replays up to, ``update`` counts the events done since the last call, ``set_description``
    names the phase (the digests can take a while once every event is replayed)."""

    total: Any

    def update(self, n: int = 1) -> Any: ...

    def refresh(self) -> Any: ...

    def set_description(self, desc: str | None = None) -> Any: ...


class Silent:
    """No progress shown."""

    total: Any = None

    def update(self, n: int = 1) -> None:
        pass

    def refresh(self) -> None:
        pass

    def set_description(self, desc: str | None = None) -> None:
        pass


def progress_bar(file: TextIO | None = None, force: bool = False) -> tqdm:
    """A progress bar on ``file`` (standard error), shown only when it is a terminal, or ``force``d.
    The caller closes it."""
    return tqdm(file=file or sys.stderr, disable=False if force else None, unit=" events",
                dynamic_ncols=True, desc="replaying")


async def _carry_on() -> None:
    """The default pause before digesting: none (a test holds a rebuild there)."""


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
        async for rows in _in_byte_order(conn, table):
            digest.update(b"".join(
                json.dumps([plain(v) for v in row], sort_keys=True, ensure_ascii=False).encode() + b"\n"
                for row in rows))
    return digest.hexdigest()


async def _in_byte_order(conn: AsyncConnection, table: sa.Table) -> AsyncIterator[Sequence[sa.Row]]:
    """The table's rows in its key's byte order, ``DIGEST_ROWS`` at a time, never all in memory."""
    query = sa.select(table).order_by(*_byte_order(conn, table))
    if not is_postgres(conn):
        async with conn.stream(query.execution_options(yield_per=DIGEST_ROWS)) as result:
            async for rows in result.partitions():
                yield rows
        return
    # A cursor of our own, closed once read: asyncpg keeps a streamed result's portal open until
    # the transaction ends, and PostgreSQL drops no table that an open portal reads (the switch
    # drops the live tables in this transaction). Its name is new each time, because asyncpg
    # caches each FETCH's prepared statement, with the row type it was first prepared for.
    cursor = f"digest_{uuid.uuid4().hex}"
    await conn.exec_driver_sql(f"DECLARE {cursor} NO SCROLL CURSOR FOR {query.compile(dialect=conn.dialect)}")
    fetch = sa.text(f"FETCH FORWARD {DIGEST_ROWS} FROM {cursor}").columns(*table.columns)
    try:
        while rows := (await conn.execute(fetch)).all():
            yield rows
    finally:
        await conn.exec_driver_sql(f"CLOSE {cursor}")


def _byte_order(conn: AsyncConnection, table: sa.Table) -> list[sa.ColumnElement]:
    """The primary key, its texts compared as UTF-8 bytes (code points) in both dialects: PostgreSQL
    would otherwise sort by the database's collation, which may be linguistic (``a`` < ``B``)."""
    collation = "C" if is_postgres(conn) else "BINARY"
    return [sa.collate(column, collation) if isinstance(column.type, sa.String) else column
            for column in table.primary_key.columns]


async def rebuild_read_model(engine: AsyncEngine, store: EventStore, switch: bool = True, batch: int = 500, progress: Progress | None = None) -> RebuildResult:
    """Rebuild the live read model from the log (the live schema must exist: ``migrate``).
    Rebuilds share the ``compliance_rebuild_*`` tables, so a second one waits for the first."""
    async with leadership(engine, f"rebuild:{REBUILD_PREFIX}"):
        return await _rebuild(engine, store, switch, batch,
                              Silent() if progress is None else progress)


async def _rebuild(engine: AsyncEngine, store: EventStore, switch: bool, batch: int,
                   progress: Progress, digesting: Callable[[], Awaitable[None]] = _carry_on) -> RebuildResult:
    live, fresh = build_tables(LIVE_PREFIX), build_tables(REBUILD_PREFIX)
    async with engine.begin() as conn:
        await conn.run_sync(fresh.metadata.drop_all)  # what an interrupted rebuild left behind
        await conn.run_sync(fresh.metadata.create_all)
        await ensure_checkpoint(conn, fresh)
        await ensure_checkpoint(conn, live)
        target = await read_checkpoint(conn, live) or await store.last_sequence()
    progress.total = target
    progress.refresh()
    rebuilt = await _replay_batches(engine, store, fresh, target, batch, progress)
    log.info("rebuild_replayed", last_sequence=rebuilt)

    async with engine.begin() as conn:
        await _lock(conn, live, "SHARE")  # holds the projector back; queries read on
        live_sequence = await claim_checkpoint(conn, live)
        if rebuilt < live_sequence:
            progress.set_description("catching up")
            progress.total = live_sequence
            caught_up = await apply_events(conn, fresh, await _events(store, rebuilt + 1, live_sequence),
                                           one_by_one=True)
            progress.update(caught_up.checkpoint - rebuilt)
            rebuilt = caught_up.checkpoint
        progress.set_description("digesting")
        await digesting()
        live_digest = await digest_of(conn, live) if rebuilt == live_sequence else None
        digest = await digest_of(conn, fresh)
        if switch:
            progress.set_description("switching")
            await _lock(conn, live, "ACCESS EXCLUSIVE")  # queries wait from here to the commit
            await _switch(conn, fresh, live)
        else:
            await conn.run_sync(fresh.metadata.drop_all)
    progress.set_description("switched" if switch else "verified")
    result = RebuildResult(digest, live_digest, rebuilt, switch)
    log.info("rebuild_finished", **asdict(result), matched=result.matched)
    if result.matched is False:
        log.warning("live_read_model_differed_from_the_log", live_digest=live_digest, digest=digest)
    return result


async def _lock(conn: AsyncConnection, model: ReadModel, mode: str) -> None:
    """Lock every table of ``model`` on PostgreSQL (SQLite has one writer at a time and readers
    that see the last commit, so the checkpoint claim is all it needs). The checkpoint comes
    first: projectors and queries take it first too, so nobody deadlocks."""
    if is_postgres(conn):
        tables = [model.checkpoint, *(t for t in model.tables if t is not model.checkpoint)]
        names = ", ".join(_quoted(conn, t.name) for t in tables)
        await conn.execute(sa.text(f"LOCK TABLE {names} IN {mode} MODE"))


async def rebuild(settings: Settings, switch: bool = True) -> str:
    """Rebuild the read model at ``settings.database_url`` from the log; return its digest."""
    return (await rebuild_with(settings, switch)).digest


async def rebuild_with(settings: Settings, switch: bool = True, progress: Progress | None = None) -> RebuildResult:
    """As ``rebuild``, with the full result (the live digest it was compared with), reporting
    its progress to ``progress`` if given."""
    await migrate(settings.database_url)
    nc = await connect(settings)
    engine = make_engine(settings.database_url)
    try:
        store = EventStore(nc.jetstream(), settings.stream)
        return await rebuild_read_model(engine, store, switch, settings.projector_batch, progress)
    finally:
        await engine.dispose()
        await nc.close()


async def _replay_batches(engine, store: EventStore, model: ReadModel, last: int, batch: int,
                          progress: Progress) -> int:
    checkpoint, pending = 0, []
    async for delivered in _range(store, 1, last):
        pending.append(delivered)
        if len(pending) >= batch:
            checkpoint = _advanced(progress, checkpoint, await apply_batch(engine, model, pending))
            pending = []
    if pending:
        checkpoint = _advanced(progress, checkpoint, await apply_batch(engine, model, pending))
    return checkpoint


def _advanced(progress: Progress, before: int, after: int) -> int:
    progress.update(after - before)
    return after


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
