"""The compliance schema on both databases: alembic head equals the tables the code defines, and
the embedded SQLite read model equals the PostgreSQL one digest for digest."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from jianfu.compliance.database import make_engine
from jianfu.compliance.migrations import VERSION_TABLE, migrate
from jianfu.compliance.read_model import DETECTOR, LIVE
from jianfu.compliance.rebuild import read_model_digest, rebuild_read_model
from jianfu.events.schemas.campus_entry import Route

from tests.conftest import fresh_database
from tests.s3_semester import S3Semester, running, settle


def _differences(connection) -> list:
    context = MigrationContext.configure(connection, opts={
        "version_table": VERSION_TABLE,
        "include_name": lambda name, kind, _parent: kind != "table" or name.startswith("compliance_"),
    })
    return compare_metadata(context, [LIVE.metadata, DETECTOR.metadata])


@pytest.fixture
async def sqlite_url(tmp_path):
    return f"sqlite+aiosqlite:///{tmp_path / 'compliance.db'}"


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
async def test_migrating_twice_reaches_a_head_equal_to_the_read_model_tables(dialect, pg_database, sqlite_url):
    async with fresh_database("schema") as pg_url:
        url = pg_url if dialect == "postgresql" else sqlite_url
        await migrate(url)
        await migrate(url)
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                assert await conn.run_sync(_differences) == []
                assert (await conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}")).scalar() == "0013"
        finally:
            await engine.dispose()


async def test_the_embedded_sqlite_read_model_equals_the_postgresql_one_and_rebuilds(pg_database, sqlite_url, js,
                                                                                     store):
    s = S3Semester(store)
    legal = await s.request("dept-public-security", ["school-dwk-middle-2"], title="宪法宣传周：法治讲座")
    urgent = await s.request("dept-health", ["school-dwk-middle-2"], route=Route.URGENT, title="诺如病毒防控讲座")
    await s.certify(legal)
    await s.certify(urgent)
    await s.publish(legal, urgent)
    await s.held("school-dwk-middle-2", "dept-public-security", legal.title, legal.activity_id)
    await s.held("school-dwk-middle-2", "dept-emergency", "防震减灾演练")

    async with fresh_database("dialects") as pg_url:
        await migrate(pg_url)
        await migrate(sqlite_url)
        postgres, sqlite = make_engine(pg_url), make_engine(sqlite_url)
        try:
            async with running(postgres, js, store) as on_postgres, running(sqlite, js, store) as on_sqlite:
                await settle(on_postgres, store)
                await settle(on_sqlite, store)
                assert on_postgres.checkpoint == on_sqlite.checkpoint
                assert await read_model_digest(sqlite) == await read_model_digest(postgres)

                result = await rebuild_read_model(sqlite, store)
                assert result.matched is True and result.digest == await read_model_digest(postgres)
        finally:
            await postgres.dispose()
            await sqlite.dispose()


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
async def test_after_two_switched_rebuilds_the_schema_still_equals_the_read_model(dialect, pg_database, sqlite_url,
                                                                                  store):
    """Index names are database-wide: a switch that kept the fresh names would make the next
    rebuild fail, or leave the live tables with the wrong indexes."""
    async with fresh_database("reindex") as pg_url:
        url = pg_url if dialect == "postgresql" else sqlite_url
        await migrate(url)
        engine = make_engine(url)
        try:
            for _ in range(2):
                assert (await rebuild_read_model(engine, store, switch=True)).switched
            async with engine.connect() as conn:
                assert await conn.run_sync(_differences) == []
        finally:
            await engine.dispose()
