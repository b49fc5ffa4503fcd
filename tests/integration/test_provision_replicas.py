"""`jianfu provision --replicas N` on a real three-node cluster with the generated accounts
(issue 6, finding 2): replicas are set explicitly, kept by default and never lowered."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from jianfu.events.connection import connect
from jianfu.events.provisioning import ReplicasRefused, provision
from jianfu.events.settings import Settings
from nats.errors import TimeoutError as NatsTimeout
from nats.js.errors import ServiceUnavailableError

from tests.broker import NatsCluster

STREAMS = ("JIANFU_EVENTS", "JIANFU_ALERTS", "JIANFU_OPS", "JIANFU_COMMANDS")
OPERATOR = {"JIANFU_NATS_USER": "operator", "JIANFU_NATS_PASSWORD": "operator-demo"}


@pytest.fixture(scope="module")
async def cluster(tmp_path_factory):
    nodes = NatsCluster(tmp_path_factory.mktemp("cluster")).start()
    nc = await connect(Settings(nats_url=nodes.url, nats_user="operator", nats_password="operator-demo"))
    deadline = time.monotonic() + 30
    while True:  # the cluster elects a JetStream leader first
        try:
            await nc.jetstream().account_info()
            break
        except (ServiceUnavailableError, NatsTimeout):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.25)
    yield nodes, nc.jetstream()
    await nc.close()
    nodes.stop()


async def replicas(js) -> dict[str, int]:
    return {name: (await js.stream_info(name)).config.num_replicas for name in STREAMS}


def jianfu_provision(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "JIANFU_NATS_URL": url, **OPERATOR}
    return subprocess.run([str(Path(sys.executable).parent / "jianfu"), "provision", *args], env=env,
                          capture_output=True, text=True, timeout=60)


async def test_replicas_are_set_explicitly_kept_by_default_and_never_lowered(cluster):
    nodes, js = cluster
    await provision(js, replicas=3)
    assert await replicas(js) == dict.fromkeys(STREAMS, 3)

    await provision(js)  # what the migrate job runs on every deployment
    assert await replicas(js) == dict.fromkeys(STREAMS, 3)

    with pytest.raises(ReplicasRefused, match="never lowers replicas: JIANFU_EVENTS has 3"):
        await provision(js, replicas=1)
    assert await replicas(js) == dict.fromkeys(STREAMS, 3)


async def test_the_cli_refuses_to_lower_replicas_with_a_clear_message(cluster):
    nodes, js = cluster
    await provision(js, replicas=3)
    refused = await asyncio.to_thread(jianfu_provision, nodes.url, "--replicas", "1")
    assert refused.returncode == 2
    assert "never lowers replicas" in refused.stderr and "nothing changed" in refused.stderr
    kept = await asyncio.to_thread(jianfu_provision, nodes.url)
    assert kept.returncode == 0, kept.stderr[-2000:]
    assert "updated JIANFU_EVENTS (replicas 3)" in kept.stdout
    assert await replicas(js) == dict.fromkeys(STREAMS, 3)
