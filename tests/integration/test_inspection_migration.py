"""Migration 0008 (issue 9): a read model projected before it had passed the log's S1/S2 events
by (it had no use for them); the revision empties the read model and its checkpoint, so the
projector replays the log from sequence 1 and the earlier visits are counted."""

from __future__ import annotations

import random
from datetime import date

import sqlalchemy as sa
from alembic import command
from jianfu.compliance.database import make_engine
from jianfu.compliance.migrations import alembic_config, migrate
from jianfu.compliance.read_model import LIVE, PROJECTION

from tests.conftest import fresh_database
from tests.inspection_year import InspectionYear, append
from tests.s3_semester import running, settle

SCHOOL = "school-dwk-middle-3"


async def test_s1_after_0008_the_projector_replays_the_log_and_counts_visits_reported_before_it(pg_database, js,
                                                                                                store):
    year = random.randrange(2040, 2060)
    visit = InspectionYear(year, start=random.randrange(10**9)).visit(SCHOOL, "dept-fire", date(year, 10, 9))
    await append(store, [visit])
    passed = await store.last_sequence()
    async with fresh_database("migration_0008") as url:
        engine = make_engine(url)
        try:
            async with engine.begin() as conn:  # the schema at 0007, its projector past the visit
                await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), "0007"))
                await conn.execute(sa.text("INSERT INTO compliance_checkpoint (projection, last_sequence) "
                                           "VALUES (:projection, :passed)"), {"projection": PROJECTION, "passed": passed})
            await migrate(url)
            async with engine.connect() as conn:
                assert (await conn.execute(sa.select(LIVE.checkpoint))).all() == []
            async with running(engine, js, store) as projector:
                await settle(projector, store)
            async with engine.connect() as conn:
                counted = (await conn.execute(sa.select(LIVE.inspection_school_years.c.visits).where(
                    LIVE.inspection_school_years.c.school_id == SCHOOL,
                    LIVE.inspection_school_years.c.year == year))).scalar()
            assert counted == 1
        finally:
            await engine.dispose()
