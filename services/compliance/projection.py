"""Runs a batch fold (``domain/folding.py``) against the database: one keyed query per table and
key shape to load what the batch needs, the fold in memory, one statement per table to write
what changed. The number of round trips does not grow with the batch.

Loads use row-value ``IN`` (``(a, b) IN ((…), (…))``), which PostgreSQL and SQLite both speak;
writes are one ``INSERT … ON CONFLICT DO UPDATE`` executed for all changed rows at once, which
SQLAlchemy sends as multi-row VALUES ("insertmanyvalues") on both dialects.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from functools import lru_cache

import sqlalchemy as sa
from jianfu.compliance.database import utc
from jianfu.compliance.domain.folding import Batch, Emitted, Fact, Need, Projection
from jianfu.compliance.read_model import ReadModel
from jianfu.events import catalogue
from jianfu.events.envelope import Envelope
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

LOAD_CHUNK = 1000  # keys per query: far below either driver's limit on bound parameters


def fact(sequence: int, envelope: Envelope, projection: Projection) -> Fact | None:
    """The event as the projection sees it, or None if it has no use for it. An event of a type
    no catalogue knows, or whose data does not validate, raises (UnknownEventType,
    ValidationError): the projector quarantines it, and a rebuild quarantines the same one."""
    if not projection.handles(envelope.event_type):
        if envelope.event_type not in catalogue.EVENT_TYPES:
            raise catalogue.UnknownEventType(envelope.event_type)
        return None
    return Fact(sequence, envelope.event_id, envelope.event_type, envelope.aggregate_id, envelope.occurred_at,
                envelope.correlation_id, catalogue.parse(envelope))


async def apply(conn: AsyncConnection, model: ReadModel, projection: Projection, facts: Sequence[Fact]) -> list[Emitted]:
    """Load what ``facts`` need, fold them, write what changed; return what the fold decided."""
    batch = projection.empty_batch()
    if not facts:
        return []
    await load(conn, model, batch, projection.needs(facts))
    projection.fold(batch, facts)
    await write(conn, model, batch)
    return batch.emitted


async def load(conn: AsyncConnection, model: ReadModel, batch: Batch, needs: Iterable[Need]) -> None:
    """One query per table and key shape (a whole key, or a prefix naming a group)."""
    wanted: dict[tuple[str, int], set[tuple]] = defaultdict(set)
    for need in needs:
        wanted[(need.table, len(need.values))].add(need.values)
    for (name, width), values in wanted.items():
        table, rows = getattr(model, name), batch[name]
        columns = [table.c[column] for column in rows.key[:width]]
        matching = columns[0].in_ if width == 1 else sa.tuple_(*columns).in_
        for chunk in _chunks(sorted(values), LOAD_CHUNK):
            found = await conn.execute(sa.select(table).where(matching([v[0] for v in chunk] if width == 1 else chunk)))
            rows.load(_normal(row._mapping) for row in found)


async def write(conn: AsyncConnection, model: ReadModel, batch: Batch) -> None:
    """One upsert per table for every row the batch changed."""
    for name, rows in batch.tables.items():
        if rows.changed:
            await conn.execute(_upsert(model, name, conn.dialect.name), list(rows.changed.values()))


@lru_cache(maxsize=64)
def _upsert(model: ReadModel, name: str, dialect: str) -> sa.Executable:
    """``INSERT … ON CONFLICT (key) DO UPDATE SET`` every other column (or DO NOTHING when the
    key is all there is), built once per table and dialect."""
    table = getattr(model, name)
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    key = [column.name for column in table.primary_key.columns]
    rest = {column.name: insert.excluded[column.name] for column in table.columns if column.name not in key}
    if not rest:
        return insert.on_conflict_do_nothing(index_elements=key)
    return insert.on_conflict_do_update(index_elements=key, set_=rest)


def _normal(row) -> dict:
    """A row as the fold would have written it: timestamps in UTC with their zone (SQLite
    hands them back without one)."""
    return {key: utc(value) if isinstance(value, datetime) else value for key, value in row.items()}


def _chunks(values: list, size: int) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]
