"""A service never stays up deaf (issue 5, finding 4): when its broker connection is closed for
good it exits non-zero, so compose or ``jianfu run`` starts a fresh one; a normal stop exits 0."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from jianfu.events.runtime import Lifeline

pytestmark = pytest.mark.faults
ROOT = Path(__file__).resolve().parents[2]


def run(nats_url: str, how: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tests.faults.lost_connection", nats_url, how], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_a_service_whose_connection_is_closed_for_good_exits_for_its_supervisor(nats_server):
    done = run(nats_server.url, "protocol-error")
    assert done.returncode == Lifeline.EXIT_CODE and "deaf" not in done.stdout
    logged = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert any(line["event"] == "broker_connection_closed" and line["level"] == "critical" for line in logged)


def test_a_normal_stop_exits_zero(nats_server):
    done = run(nats_server.url, "stop")
    assert done.returncode == 0 and "stopped" in done.stdout


async def test_jianfu_runs_supervisor_starts_a_service_again_after_it_exited(nats_server, tmp_path):
    from jianfu.cli.supervisor import Fleet, service_env

    fleet = Fleet(service_env(nats_server.url, f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}"), tmp_path / "logs",
                  ("requests",)).start()
    try:
        await fleet.wait_ready()
        fleet.processes["requests"].kill()
        assert fleet.restart_exited() == [("requests", -9)]
        await fleet.wait_ready()
        assert fleet.restart_exited() == []
    finally:
        fleet.stop()


def test_jianfu_run_passes_the_operators_settings_on_and_sets_its_own(monkeypatch):
    from jianfu.cli.supervisor import service_env

    monkeypatch.setenv("JIANFU_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("JIANFU_NATS_URL", "nats://elsewhere:4222")
    env = service_env("nats://127.0.0.1:4333", "sqlite+aiosqlite:///x.db", "fixed:2026-07-15")
    assert env["JIANFU_LOG_LEVEL"] == "DEBUG" and env["JIANFU_NATS_URL"] == "nats://127.0.0.1:4333"
    assert env["JIANFU_CLOCK"] == "fixed:2026-07-15"


async def test_while_a_contexts_service_is_down_its_requests_time_out_and_other_contexts_answer(tmp_path):
    """What the README says of an outage: the catch-all of the other services stays silent for a
    served context, so the caller waits for its timeout; an unknown context is still refused."""
    import nats as nats_py
    from jianfu.approvals.app import build as build_approvals
    from jianfu.events.settings import Settings

    from tests.poison import own_log

    async with own_log(tmp_path / "nats") as log:
        approvals = build_approvals(Settings(nats_url=log.url, log_level="WARNING"))
        await approvals.start()
        try:
            refused = await answered(log.nc, "jf.cmd.dept-fire.nowhere.X")  # the catch-all is up ...
            with pytest.raises(nats_py.errors.TimeoutError):  # ... and stays silent for a served context
                await log.nc.request("jf.cmd.dept-fire.requests.RequestActivity", b"{}", timeout=0.5)
        finally:
            await approvals.stop()
    assert refused["error"]["code"] == "UNKNOWN_COMMAND"


async def answered(nc, subject: str, within: float = 10.0) -> dict:
    """The reply to ``subject``, asking again while the server has no responder for it yet: the
    silence this test checks means something only once the service's catch-all is subscribed
    (a rare "no responders" on a loaded machine, right after start, made the test flaky)."""
    import nats as nats_py

    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            return json.loads((await nc.request(subject, b"{}", timeout=0.5)).data)
        except nats_py.errors.NoRespondersError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)
