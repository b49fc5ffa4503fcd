"""Fixtures of the integration tests that a test takes for itself: a log on a nats-server of its
own (poison and forgeries never reach the session's shared log) and a migrated database."""

from __future__ import annotations

import pytest
from jianfu.compliance.database import make_engine
from jianfu.compliance.migrations import migrate

from tests.conftest import fresh_database
from tests.poison import own_log


@pytest.fixture
async def log(tmp_path):
    async with own_log(tmp_path / "nats") as own:
        yield own


@pytest.fixture
async def database(pg_database):
    """The URL of a migrated database of the test's own."""
    async with fresh_database("own") as url:
        await migrate(url)
        yield url


@pytest.fixture
async def engine(database):
    engine = make_engine(database)
    yield engine
    await engine.dispose()
