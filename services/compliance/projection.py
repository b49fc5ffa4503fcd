"""Runs a batch fold (``domain/folding.py``) against the database: one keyed query per table and
key shape to load what the batch needs, the fold in memory, one statement per table to write
what changed. The number of round trips does not grow with the batch.

On PostgreSQL keys and rows travel as one array per column through ``unnest``; SQLite takes a
row-value ``IN`` for loads and a multi-row ``INSERT … ON CONFLICT`` ("insertmanyvalues") for
writes, as do PostgreSQL tables with JSON columns.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from functools import lru_cache

import sqlalchemy as sa
from jianfu.compliance.database import utc
from jianfu.compliance.domain.folding import Batch, Emitted, Fact, Need, Projection, Row
from jianfu.compliance.read_model import ReadModel
from jianfu.events import catalogue
from jianfu.events.envelope import Envelope
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

LOAD_CHUNK = 1000
"""SQLite's keys per query: far below its limit on bound parameters. PostgreSQL takes one array
per key column, however many keys, so its loads are never cut (a batch of meetings names tens of
thousands of teachers: in chunks its reads grew with the batch)."""


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
    if not facts:
        return []
    batch = projection.empty_batch()
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
        rows = batch[name]
        rows.load(await keyed_rows(conn, model, name, rows.key[:width], values))


async def keyed_rows(conn: AsyncConnection, model: ReadModel, name: str, columns: tuple[str, ...],
                     values: Iterable[tuple]) -> list[dict]:
    """The rows of table ``name`` whose ``columns`` equal one of ``values``: one query (on
    SQLite, one per ``LOAD_CHUNK`` keys)."""
    postgres = conn.dialect.name == "postgresql"
    statement, found, wanted = _keyed(model, name, columns, postgres), [], sorted(values)
    for chunk in [wanted] if postgres else _chunks(wanted, LOAD_CHUNK):
        if postgres:  # one array per key column: a parameter per column, however many keys
            result = await conn.execute(statement, {column: [v[n] for v in chunk] for n, column in enumerate(columns)})
        else:
            result = await conn.execute(statement, {"keys": [v[0] for v in chunk] if len(columns) == 1 else chunk})
        found += [_normal(row._mapping) for row in result]
    return found


@lru_cache(maxsize=128)
def _keyed(model: ReadModel, name: str, columns: tuple[str, ...], postgres: bool) -> sa.Executable:
    """The rows of a table whose first key columns are among the given values, built once.

    PostgreSQL joins the table to ``unnest`` of one array per column, which it plans as an index
    lookup per key (a row-value ``IN`` of hundreds of keys took 25 ms a batch); SQLite takes the
    row-value ``IN``."""
    table = getattr(model, name)
    if postgres:
        keys = _unnest(table, columns, "wanted")
        return sa.select(table).join(keys, sa.and_(*(table.c[column] == keys.c[column] for column in columns)))
    matched = table.c[columns[0]] if len(columns) == 1 else sa.tuple_(*(table.c[column] for column in columns))
    return sa.select(table).where(matched.in_(sa.bindparam("keys", expanding=True)))


async def write(conn: AsyncConnection, model: ReadModel, batch: Batch) -> None:
    """One upsert per table for every row the batch changed."""
    for name, rows in batch.tables.items():
        await upsert_rows(conn, model, name, list(rows.changed.values()))


async def upsert_rows(conn: AsyncConnection, model: ReadModel, name: str, rows: list[Row]) -> None:
    """Insert ``rows`` (whole rows) into table ``name``, replacing those with the same key: one statement."""
    if not rows:
        return
    statement, by_column = _upsert(model, name, conn.dialect.name)
    if by_column:  # PostgreSQL: one array per column
        await conn.execute(statement, {column: [row[column] for row in rows] for column in _columns(model, name)})
    else:
        await conn.execute(statement, rows)


@lru_cache(maxsize=64)
def _upsert(model: ReadModel, name: str, dialect: str) -> tuple[sa.Executable, bool]:
    """``INSERT … ON CONFLICT (key) DO UPDATE SET`` every other column (or DO NOTHING when the
    key is all there is), built once per table and dialect, and whether it takes one array per
    column. On PostgreSQL the rows come as arrays through ``unnest`` (a handful of parameters
    instead of one per value, which asyncpg binds and PostgreSQL parses far faster); a table with
    JSON columns, and SQLite, take a multi-row VALUES ("insertmanyvalues")."""
    table = getattr(model, name)
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    by_column = dialect == "postgresql" and not any(isinstance(c.type, sa.JSON) for c in table.columns)
    if by_column:
        columns = _columns(model, name)
        insert = insert.from_select(list(columns), sa.select(_unnest(table, columns, "changed")))
    key = [column.name for column in table.primary_key.columns]
    rest = {column.name: insert.excluded[column.name] for column in table.columns if column.name not in key}
    if not rest:
        return insert.on_conflict_do_nothing(index_elements=key), by_column
    return insert.on_conflict_do_update(index_elements=key, set_=rest), by_column


def _unnest(table: sa.Table, columns: tuple[str, ...], name: str):
    """``unnest(:a, :b, …) AS name(a, b, …)``: one array parameter per column, bound by name."""
    return sa.func.unnest(*(sa.bindparam(column, type_=postgresql.ARRAY(table.c[column].type)) for column in columns)
                          ).table_valued(*columns).render_derived(name=name)


def _columns(model: ReadModel, name: str) -> tuple[str, ...]:
    return tuple(column.name for column in getattr(model, name).columns)


def _normal(row) -> dict:
    """A row as the fold would have written it: timestamps in UTC with their zone (SQLite
    hands them back without one)."""
    return {key: utc(value) if isinstance(value, datetime) else value for key, value in row.items()}


def _chunks(values: list, size: int) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]
