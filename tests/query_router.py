"""The compliance query router over a read model of its own, projected from the session's log:
what the query tests of each clause ask, without a NATS round trip."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from jianfu.compliance.app import interface
from jianfu.compliance.database import make_engine
from jianfu.compliance.migrations import migrate
from jianfu.events.dependencies import Deps
from jianfu.events.settings import Settings, SystemClock

from tests.conftest import fresh_database
from tests.factories import DIRECTORY, POLICY
from tests.s3_semester import running, settle


@asynccontextmanager
async def projected_router(label: str, js, store) -> AsyncIterator:
    """A fresh database migrated and projected up to the log's end, and the router answering on it."""
    async with fresh_database(label) as url:
        await migrate(url)
        engine = make_engine(url)
        async with running(engine, js, store) as projector:
            await settle(projector, store)
        try:
            yield interface(Deps(store, DIRECTORY, POLICY, SystemClock()), Settings(), engine).routers[0]
        finally:
            await engine.dispose()


async def ask(router, org: str, query: str, **payload) -> dict:
    return await router.dispatch(f"jf.q.{org}.compliance.{query}", json.dumps(payload).encode())


async def every_page(router, org: str, query: str, rows: str, **payload) -> list[dict]:
    """Every row of a paged query, one row a page, following ``next_cursor`` to its end."""
    seen, cursor = [], None
    while True:
        page = await ask(router, org, query, limit=1, **payload, **({"cursor": cursor} if cursor else {}))
        assert page["ok"], page
        assert len(page[rows]) <= 1
        seen += page[rows]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
