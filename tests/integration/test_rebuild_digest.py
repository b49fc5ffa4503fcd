"""The read-model digest is streamed from SQL in byte order (issue 7, item 3): the same rows give
the same digest on PostgreSQL and on SQLite, under either table prefix, in whatever order they
were written and however many rows are fetched per round trip, even when the PostgreSQL
database sorts text linguistically and the keys hold non-ASCII and mixed-case text."""

from __future__ import annotations

import random
import uuid
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta

import asyncpg
import sqlalchemy as sa
from jianfu.compliance import rebuild
from jianfu.compliance.database import make_engine
from jianfu.compliance.read_model import LIVE_PREFIX, REBUILD_PREFIX, ReadModel, build_tables
from jianfu.compliance.rebuild import digest_of, read_model_digest

from tests.conftest import PG_ADMIN_DSN

# Distinct key texts whose byte order differs from a linguistic one: case, accents, CJK, an emoji.
TEXTS = ("a", "B", "b", "Z", "é", "E", "école", "École", "ecole", "中文", "学校-一", "ß", "ss", "İ", "i",
         "z-1", "Z-10", "z-2", "😀", "ｆｕｌｌ", "Ångström", "angstrom")


@asynccontextmanager
async def linguistic_database():
    """A database of its own whose default collation is ICU's root locale (``a`` < ``B``), as an
    operator may well create one; the test server's own default is C."""
    name = f"jianfu_test_icu_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f"""CREATE DATABASE "{name}" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'und'
                            LOCALE 'C.UTF-8'""")
    await admin.close()
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    engine = make_engine(f"{base}/{name}")
    try:
        yield engine
    finally:
        await engine.dispose()
        admin = await asyncpg.connect(PG_ADMIN_DSN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def value(column: sa.Column, row: int, position: int):
    """A value for ``column`` in row ``row``: every column gets a deterministic one from its type,
    so the test follows the tables as they change. Key texts are distinct per row."""
    kind = column.type
    if isinstance(kind, sa.JSON):
        return {"名称": TEXTS[row], "B": [row, 1.5], "a": None}
    if isinstance(kind, sa.String):  # Text too
        text = TEXTS[(row + position) % len(TEXTS)] if position else TEXTS[row]
        return text[: kind.length] if kind.length else text
    if isinstance(kind, sa.Boolean):
        return row % 2 == 0
    if isinstance(kind, sa.Integer):  # BigInteger too: 10 sorts after 2 here, not as text
        return row * 37 % 101
    if isinstance(kind, sa.Float):
        return row + 0.25
    if isinstance(kind, sa.DateTime):
        return datetime(2026, 7, 10, 9, tzinfo=UTC) + timedelta(minutes=row)
    if isinstance(kind, sa.Date):
        return date(2026, 7, 10) + timedelta(days=row)
    raise AssertionError(f"no test value for {column.table.name}.{column.name} of type {kind!r}")


def rows_of(table: sa.Table) -> list[dict]:
    """One row per key text; the first key column always differs, so every row's key is distinct."""
    key = list(table.primary_key.columns)
    columns = key + [c for c in table.columns if c not in key]
    return [{c.name: value(c, row, position) for position, c in enumerate(columns)} for row in range(len(TEXTS))]


async def write(engine, model: ReadModel, seed: int) -> None:
    """Every table of ``model`` created and filled, its rows inserted in an order of ``seed``'s."""
    order = random.Random(seed)
    async with engine.begin() as conn:
        await conn.run_sync(model.metadata.create_all)
        for table in model.tables:
            rows = rows_of(table)
            order.shuffle(rows)
            for row in rows:
                await conn.execute(table.insert().values(**row))


async def test_the_digest_is_the_same_on_postgresql_and_sqlite_for_the_same_rows(tmp_path, monkeypatch):
    sqlite = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'read_model.db'}")
    try:
        async with linguistic_database() as postgres:
            await write(postgres, build_tables(LIVE_PREFIX), seed=1)
            await write(postgres, build_tables(REBUILD_PREFIX), seed=2)
            await write(sqlite, build_tables(LIVE_PREFIX), seed=3)

            # The database's own order is not the bytes' order: without COLLATE "C" the dumps differ.
            t = build_tables(LIVE_PREFIX).application_schools
            async with postgres.connect() as conn:
                by_collation = list(await conn.scalars(sa.select(t.c.semester).order_by(t.c.semester)))
            assert by_collation != sorted(by_collation)

            digest = await read_model_digest(postgres)
            assert await read_model_digest(sqlite) == digest
            assert await read_model_digest(postgres, REBUILD_PREFIX) == digest
            monkeypatch.setattr(rebuild, "DIGEST_ROWS", 3)  # many small slices: the same stream
            assert await read_model_digest(postgres) == digest
            assert await read_model_digest(sqlite) == digest
    finally:
        await sqlite.dispose()


async def test_the_digest_changes_when_one_value_changes(tmp_path):
    """The digest covers every row's every column: an auditor would see one edited value."""
    sqlite = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'read_model.db'}")
    try:
        model = build_tables(LIVE_PREFIX)
        await write(sqlite, model, seed=4)
        async with sqlite.connect() as conn:
            before = await digest_of(conn, model)
        t = model.quarantined_events
        async with sqlite.begin() as conn:
            await conn.execute(t.update().where(t.c.sequence == rows_of(t)[5]["sequence"]).values(reason="edited"))
        async with sqlite.connect() as conn:
            assert await digest_of(conn, model) != before
    finally:
        await sqlite.dispose()
