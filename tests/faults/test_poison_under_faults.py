"""Fault: PostgreSQL cancels the projector's statements and drops its connections again and
again while it projects a log with poison events in it. Those failures are transient: they
must never be mistaken for an event's own failure, so exactly the poison events are quarantined, the checkpoint reaches the
end of the log, and the live read model equals a rebuild (issue 5)."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import pytest
import sqlalchemy as sa
from jianfu.compliance.database import make_engine
from jianfu.compliance.migrations import migrate
from jianfu.compliance.read_model import LIVE
from jianfu.compliance.rebuild import rebuild_read_model

from tests.conftest import PG_ADMIN_DSN, fresh_database
from tests.poison import activity_poison, own_log, publish, requested
from tests.s3_semester import running, settle

pytestmark = pytest.mark.faults


async def interrupt_sessions(database: str, stop: asyncio.Event) -> int:
    """Every few ms cancel whatever other sessions on ``database`` are running (a statement
    cancelled leaves the connection usable: the failure most easily mistaken for the event's),
    and every tenth time terminate them; returns how many sessions were hit."""
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    hit, rounds = 0, 0
    try:
        while not stop.is_set():
            rounds += 1
            how = "pg_terminate_backend" if rounds % 10 == 0 else "pg_cancel_backend"
            hit += await admin.fetchval(
                f"SELECT count(*) FILTER (WHERE {how}(pid)) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid() AND state = 'active'", database)
            await asyncio.sleep(0.002)
    finally:
        await admin.close()
    return hit


async def test_statements_cancelled_and_connections_dropped_quarantine_only_the_poison(tmp_path, pg_database):
    async with own_log(tmp_path / "nats") as log, fresh_database("poisonfault") as url:
        poison: set[int] = set()
        for _ in range(150):  # poison in every batch: every batch takes the one-by-one path
            for _ in range(8):
                await publish(log.js, requested())
            poison |= set((await activity_poison(log.js)).values())
        await migrate(url)
        engine = make_engine(url)
        stop = asyncio.Event()
        try:
            dropping = asyncio.create_task(interrupt_sessions(sa.make_url(url).database, stop))
            async with running(engine, log.js, log.store, batch=16) as projector:
                await asyncio.sleep(2.5)
                stop.set()
                ended = await dropping
                checkpoint = await settle(projector, log.store, timeout=60)
            assert ended > 0, "no session was interrupted: the fault never happened"
            assert checkpoint == await log.store.last_sequence()
            async with engine.connect() as conn:
                quarantined = set(await conn.scalars(sa.select(LIVE.quarantined_events.c.sequence)))
            assert quarantined == poison
            audit = await rebuild_read_model(engine, log.store, switch=False)
            assert audit.matched is True
        finally:
            stop.set()
            with contextlib.suppress(Exception):
                await dropping
            await engine.dispose()
