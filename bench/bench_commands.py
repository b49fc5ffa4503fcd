"""Commands end to end with 64 concurrent clients: RequestActivity through the requests service
running as its own process (``jianfu.cli.supervisor.Fleet``, as operators run it), with one
replica and with two sharing the queue group, against a bare nats-py request-reply echo process
(one, then two) at the same concurrency."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jianfu.cli.supervisor import Fleet, service_env

from bench.harness import Figure, fresh_nats, per_second
from tests.factories import application

CLIENTS = 64
ORG = "dept-public-security"
SUBJECT = f"jf.cmd.{ORG}.requests.RequestActivity"


async def load(nc, subject: str, bodies: list[bytes], clients: int = CLIENTS) -> float:
    """Rate at which ``clients`` concurrent clients, each waiting for its reply before sending
    again, get ``bodies`` answered; every reply must say ok."""
    queue = iter(bodies)

    async def client():
        for body in queue:
            reply = json.loads((await nc.request(subject, body, timeout=30)).data)
            if not reply.get("ok"):
                raise RuntimeError(f"command refused: {reply}")

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return per_second(len(bodies), time.perf_counter() - started)


def echo_process(url: str) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "bench.echo", url, "bench.echo"], stdout=subprocess.PIPE)
    process.stdout.readline()
    return process


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
        process.wait()


def replica(url: str, folder: Path, n: int) -> Fleet:
    env = service_env(url, f"sqlite+aiosqlite:///{folder / 'unused.db'}", "fixed:2026-07-10",
                      JIANFU_LOG_LEVEL="ERROR")
    return Fleet(env, folder / f"replica-{n}", ("requests",)).start()


async def answering(nc, process, timeout: float = 60.0) -> None:
    """Wait until this replica's process itself answers health: every replica answers
    ``jf.sys.health.requests`` with its pid, so another replica's answer does not count."""
    deadline = time.monotonic() + timeout
    inbox = nc.new_inbox()
    pids: set[int] = set()

    async def heard(msg):
        if msg.data:  # an empty message is the server's "no responders" status
            pids.add(json.loads(msg.data).get("pid"))

    sub = await nc.subscribe(inbox, cb=heard)
    try:
        while process.process.pid not in pids:
            if time.monotonic() > deadline or not process.running:
                raise RuntimeError(f"requests replica {process.process.pid} not answering; see {process.log_path}")
            await nc.publish("jf.sys.health.requests", b"", reply=inbox)
            await asyncio.sleep(0.2)
    finally:
        await sub.unsubscribe()


def bodies(count: int) -> list[bytes]:
    return [json.dumps(application()).encode() for _ in range(count)]


async def run(quick: bool = False) -> list[Figure]:
    count = CLIENTS * (5 if quick else 25)
    figures = []
    with tempfile.TemporaryDirectory(prefix="jianfu-bench-fleet-") as folder:
        async with fresh_nats() as (server, nc):
            fleets, echoes = [], []
            try:
                for replicas in (1, 2):
                    fleets.append(replica(server.url, Path(folder), replicas))
                    await answering(nc, fleets[-1].processes["requests"])
                    echoes.append(echo_process(server.url))
                    await load(nc, SUBJECT, bodies(CLIENTS * 2))  # warm-up
                    rate = await load(nc, SUBJECT, bodies(count))
                    baseline = await load(nc, "bench.echo", bodies(count))
                    name = "commands_64" if replicas == 1 else "commands_64_2_replicas"
                    figures.append(Figure(name, f"RequestActivity end to end, {CLIENTS} clients, "
                                                f"{replicas} replica(s), {count} commands",
                                          rate, f"bare echo, {replicas} process(es)", baseline))
            finally:
                for fleet in fleets:
                    fleet.stop()
                stop(echoes)
    return figures



