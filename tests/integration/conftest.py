"""Fixtures of the integration tests that a test takes for itself: a log on a nats-server of its
own (poison and forgeries never reach the session's shared log) and a migrated database."""

from __future__ import annotations

from pathlib import Path

import pytest
from jianfu.compliance.database import make_engine
from jianfu.compliance.migrations import migrate
from jianfu.events.settings import Settings

from tests.apps import command_services
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


@pytest.fixture(scope="module")
def clock_file(tmp_path_factory) -> Path:
    """The clock (``file:``) of a module's command services; tests move it."""
    path = tmp_path_factory.mktemp("clock") / "today"
    path.write_text("2026-07-10")
    return path


@pytest.fixture(scope="module")
async def services(nats_server, nc, clock_file):
    """requests and approvals, in-process on the session's nats-server, for one test module."""
    async with command_services(Settings(nats_url=nats_server.url, clock=f"file:{clock_file}", log_level="WARNING")):
        yield
