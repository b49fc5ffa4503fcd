"""Compliance projector on PostgreSQL: events applied per second (read models, checkpoint in the
same transaction, S3 detector on every report), against reading the same events through one
plain ordered consumer."""

from __future__ import annotations

import asyncio
import time
from datetime import date

from jianfu.compliance.database import make_engine
from jianfu.compliance.migrations import migrate
from jianfu.events.store import EventStore

from bench.harness import Figure, fresh_nats, timed
from tests.conftest import fresh_database
from tests.factories import SCHOOLS
from tests.s3_semester import S3Semester, running, settle

REQUESTS, REPORTS = 100, 900


async def load(store: EventStore) -> int:
    semester = S3Semester(store)
    declared = await asyncio.gather(*(semester.request("dept-fire", [SCHOOLS[n % len(SCHOOLS)]])
                                      for n in range(REQUESTS)))
    for request in declared[:2 * len(SCHOOLS)]:
        await semester.certify(request)
    for start in range(0, REPORTS, 100):
        await asyncio.gather(*(semester.held(SCHOOLS[n % len(SCHOOLS)], "dept-fire", f"活动{n % 7}", None,
                                             date(semester.year, 10, 12)) for n in range(start, start + 100)))
    return await store.last_sequence()


async def run() -> list[Figure]:
    async with fresh_nats() as (_, nc), fresh_database("bench") as url:
        js = nc.jetstream()
        store = EventStore(js)
        events = await load(store)
        await migrate(url)
        engine = make_engine(url)
        started = time.perf_counter()
        async with running(engine, js, store, batch=256) as projector:
            projected = await settle(projector, store, timeout=300)
        seconds = time.perf_counter() - started
        await engine.dispose()

        async def read_all():
            async for _ in store.replay(1):
                pass

        return [Figure(f"projector (PostgreSQL, batch 256, {events} events)", projected, seconds,
                       "plain ordered consumer read", await timed(read_all, repeats=1) * projected / events)]
