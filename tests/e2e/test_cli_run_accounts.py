"""`jianfu run` starts its embedded nats-server with the generated accounts (issue 6, finding 3):
authentication is on also on a laptop, the services log in as their users, and operators reach
their health subjects."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import nats
import pytest
from jianfu.cli.embedded_nats import free_port
from jianfu.cli.supervisor import SERVICES

from tests.broker import login

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "jianfu"), "run", "--data-dir", str(folder), "--nats-port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 120
    for line in process.stdout:
        if line.startswith("jianfu is running") or time.monotonic() > deadline:
            break
    assert process.poll() is None, "jianfu run exited"
    yield type("Server", (), {"url": f"nats://127.0.0.1:{port}"})
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)


async def test_an_anonymous_connection_is_refused(running):
    with pytest.raises((nats.errors.NoServersError, nats.errors.Error, OSError)):
        await nats.connect(running.url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=2)


async def test_every_service_answers_the_operators_health_request(running):
    operator = await login(running, "operator")
    for service in SERVICES:
        reply = json.loads((await operator.nc.request(f"jf.sys.health.{service}", b"", timeout=5)).data)
        assert reply["ok"] is True and reply["service"] == service
    await operator.nc.close()


async def test_an_organisation_reads_only_its_own_inbox_there_too(running):
    school = await login(running, "school-dwk-primary-1")
    await school.nc.subscribe("_INBOX.>")
    await school.settle()
    assert school.refused("subscription", "_INBOX.>"), school.errors
    reply = json.loads((await school.nc.request("jf.q.school-dwk-primary-1.compliance.ListOrganisations",
                                                b'{"kind":"school"}', timeout=5)).data)
    assert reply["ok"] is True, reply
    await school.nc.close()
