"""The read-model database: engines for PostgreSQL (asyncpg) and the embedded SQLite (aiosqlite),
an insert that keeps an existing row, and advisory-lock keys.

Both dialects spell ``INSERT ... ON CONFLICT`` the same way, so one helper covers them; the
import differs only because SQLAlchemy keeps the construct per dialect.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

SQLITE_BUSY_SECONDS = 30


def make_engine(database_url: str, **options: Any) -> AsyncEngine:
    """An engine for the read model. SQLite waits for a busy database instead of failing at
    once (the projector and the queries share one file) and journals in WAL mode so queries
    read while the projector writes."""
    if not database_url.startswith("sqlite"):
        return create_async_engine(database_url, pool_pre_ping=True, **options)
    if database_url.rstrip("/").endswith((":memory:", "sqlite+aiosqlite:")):
        options.setdefault("poolclass", StaticPool)  # one shared in-memory database
    engine = create_async_engine(database_url, connect_args={"timeout": SQLITE_BUSY_SECONDS}, **options)

    @sa.event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
        cursor.close()

    return engine


def is_postgres(conn: AsyncConnection | sa.Connection) -> bool:
    return conn.dialect.name == "postgresql"


async def insert_missing(conn: AsyncConnection, table: sa.Table, values: Mapping[str, Any], keys: Sequence[str]) -> None:
    """Insert a row unless one with the same ``keys`` exists (``INSERT … ON CONFLICT DO NOTHING``)."""
    insert = postgresql.insert if is_postgres(conn) else sqlite.insert
    await conn.execute(insert(table).values(**values).on_conflict_do_nothing(index_elements=list(keys)))


def lock_key(name: str) -> int:
    """A signed 64-bit advisory-lock key derived from a name (PostgreSQL takes a bigint)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def utc(moment: datetime) -> datetime:
    """Timestamps are stored in UTC; SQLite hands them back without a zone, PostgreSQL with one."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def plain(value: Any) -> Any:
    """A column value as JSON-ready data that reads the same from either dialect."""
    if isinstance(value, datetime):
        return utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value
