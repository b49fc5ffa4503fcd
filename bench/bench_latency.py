"""Two figures from the four services running as processes (``Fleet``, as operators run them)
on PostgreSQL:

- ``latency_200``: RequestActivity sent at a fixed 200 commands/s; the time from sending a
  command until a read-model query (GetSemesterList, polled back to back by one client)
  answers with ``as_of_sequence`` at or past the command's reply ``sequence``. p50 and p99 are
  absolute; the baseline is a bare nats-py echo process at the same schedule (its p99 beside).
- ``rss``: each service's resident set size afterwards (``/proc/<pid>/status``)."""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from jianfu.cli.supervisor import Fleet, service_env

from bench.bench_commands import SUBJECT, bodies, echo_process, stop
from bench.harness import Figure, fresh_nats, per_second
from tests.conftest import fresh_database

RATE = 200
QUERY = "jf.q.edu-bureau.compliance.GetSemesterList"


class Freshness:
    """One client asking the read model how fresh it is, back to back: (answered at, as of)."""

    def __init__(self, nc) -> None:
        self.nc = nc
        self.answers: list[tuple[float, int]] = []
        self.running = True

    async def poll(self) -> None:
        body = json.dumps({"semester": "2026-autumn"}).encode()
        while self.running:
            reply = json.loads((await self.nc.request(QUERY, body, timeout=10)).data)
            self.answers.append((time.perf_counter(), reply.get("as_of_sequence", 0)))

    def visible_at(self, sequence: int, sent: float) -> float | None:
        return next((at for at, as_of in self.answers if at > sent and as_of >= sequence), None)


async def paced(nc, subject: str, payloads: list[bytes]) -> list[tuple[float, float, dict]]:
    """Send ``payloads`` at RATE per second whatever the replies do; (sent, replied, reply) each."""
    async def one(n: int, body: bytes):
        await asyncio.sleep(max(0.0, begin + n / RATE - time.perf_counter()))
        sent = time.perf_counter()
        reply = json.loads((await nc.request(subject, body, timeout=30)).data)
        return sent, time.perf_counter(), reply

    begin = time.perf_counter()
    return await asyncio.gather(*(one(n, body) for n, body in enumerate(payloads)))


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100)[p - 1] * 1000


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def latency(nc, count: int) -> Figure:
    freshness = Freshness(nc)
    poller = asyncio.create_task(freshness.poll())
    commands = await paced(nc, SUBJECT, bodies(count))
    await asyncio.sleep(2.0)
    freshness.running = False
    await poller
    visible = [freshness.visible_at(reply["sequence"], sent) for sent, _, reply in commands]
    delays = [at - sent for at, (sent, _, _) in zip(visible, commands) if at is not None]
    echoes = await paced(nc, "bench.echo", bodies(count))
    echo_delays = [replied - sent for sent, replied, _ in echoes]
    span = commands[-1][1] - commands[0][0]
    echo_span = echoes[-1][1] - echoes[0][0]
    return Figure("latency_200", f"RequestActivity at {RATE}/s until visible in GetSemesterList, {count} commands",
                  per_second(count, span), f"bare echo at {RATE}/s", per_second(count, echo_span),
                  {"p50_ms": percentile(delays, 50), "p99_ms": percentile(delays, 99),
                   "reply_p99_ms": percentile([r - s for s, r, _ in commands], 99),
                   "echo_p99_ms": percentile(echo_delays, 99), "never_visible": count - len(delays)})


async def run(quick: bool = False) -> list[Figure]:
    count = RATE * (3 if quick else 15)
    with tempfile.TemporaryDirectory(prefix="jianfu-bench-latency-") as folder:
        async with fresh_nats() as (server, nc), fresh_database("bench_latency") as url:
            fleet = Fleet(service_env(server.url, url, "fixed:2026-07-10", JIANFU_LOG_LEVEL="ERROR"),
                          Path(folder) / "logs").start()
            echo = echo_process(server.url)
            try:
                await fleet.wait_ready()
                figure = await latency(nc, count)
                last = (await nc.jetstream().stream_info("JIANFU_EVENTS")).state.last_seq
                sizes = {f"rss_mb_{name}": rss_mb(p.process.pid) for name, p in fleet.processes.items()}
                rss = Figure("rss", f"resident set size of each service process after {last:,} events", None, "—",
                             None, {"rss_mb": max(sizes.values()), **sizes})
                return [figure, rss]
            finally:
                fleet.stop()
                stop([echo])
