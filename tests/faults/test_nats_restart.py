"""Fault: the NATS server restarts under running services (DESIGN.md, Tests). Services reconnect
by themselves, the log keeps every accepted event (synced to disk), commands retried with the
same command_id are recorded once, and the read model equals a rebuild from the log."""

from __future__ import annotations

import asyncio
import time

import nats
import pytest
from jianfu.cli.client import JianfuClient
from jianfu.cli.embedded_nats import EmbeddedNats
from jianfu.cli.supervisor import Fleet, service_env
from jianfu.compliance.rebuild import rebuild_with
from jianfu.events.provisioning import provision
from jianfu.events.settings import Settings

from tests.conftest import fresh_database
from tests.factories import application

pytestmark = pytest.mark.faults
POLICE = "dept-public-security"


async def submit(client: JianfuClient, form: dict, timeout: float = 30.0) -> dict:
    """What an integrator does: retry the same command until it gets an answer."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            reply = await client.command(POLICE, "requests", "RequestActivity", form)
            if reply["ok"] or reply["error"]["code"] not in ("UNAVAILABLE", "CONCURRENCY_EXHAUSTED"):
                return reply
        except (nats.errors.TimeoutError, nats.errors.NoRespondersError, nats.errors.ConnectionClosedError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("no answer after the restart")
        await asyncio.sleep(0.2)


async def test_services_survive_a_nats_restart_and_nothing_is_lost_or_doubled(tmp_path):
    clock = tmp_path / "today"
    clock.write_text("2026-07-10")
    server = EmbeddedNats(tmp_path / "nats").start()
    port = server.port
    async with fresh_database("restart") as database_url:
        env = service_env(server.url, database_url, f"file:{clock}")
        fleet = Fleet(env, tmp_path / "logs", ("requests", "approvals", "compliance"))
        nc = None
        try:
            async with await nats.connect(server.url) as admin:
                await provision(admin.jetstream())
            fleet.start()
            await fleet.wait_ready()
            nc = await nats.connect(server.url, max_reconnect_attempts=-1, reconnect_time_wait=0.2)
            client = JianfuClient(nc, timeout=2.0)
            forms = [application() for _ in range(40)]
            before = [await submit(client, form) for form in forms[:20]]

            server.stop()
            await asyncio.sleep(1.0)
            server = EmbeddedNats(tmp_path / "nats", port=port).start()

            after = [await submit(client, form) for form in forms[20:]]
            again = [await submit(client, form) for form in forms[:5]]  # retries of accepted commands
            assert all(r["ok"] for r in before + after + again)
            assert [r["activity_id"] for r in again] == [r["activity_id"] for r in before[:5]]

            async def projected() -> dict | None:
                reply = await client.query("edu-bureau", "compliance", "GetApplications", {"semester": "2026-autumn"})
                return reply if reply.get("ok") and reply["counts"]["total"] == 40 else None

            deadline = time.monotonic() + 30
            while (reply := await projected()) is None:
                assert time.monotonic() < deadline, "the projector did not catch up after the restart"
                await asyncio.sleep(0.3)
            assert reply["counts"]["by_status"] == {"requested": 40}

            result = await rebuild_with(Settings(nats_url=server.url, database_url=database_url), switch=False)
            assert result.matched is True
        finally:
            if nc is not None:
                await nc.close()
            fleet.stop()
            server.stop()
