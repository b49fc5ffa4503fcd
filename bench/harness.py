"""Shared pieces of the benchmarks: a fresh nats-server, timing, and the report table."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import nats
from jianfu.cli.embedded_nats import EmbeddedNats
from jianfu.events.provisioning import provision


@dataclass
class Figure:
    name: str
    operations: int
    seconds: float
    baseline_name: str
    baseline_seconds: float

    @property
    def per_second(self) -> float:
        return self.operations / self.seconds

    @property
    def ratio(self) -> float:
        """How many times the baseline's time this takes (1.0 = as fast as the baseline)."""
        return self.seconds / self.baseline_seconds

    def row(self) -> str:
        return (f"| {self.name} | {self.operations} | {self.per_second:,.0f}/s | "
                f"{self.baseline_name} | {self.operations / self.baseline_seconds:,.0f}/s | {self.ratio:.2f}x |")


HEADER = "| measure | ops | rate | baseline | baseline rate | time vs baseline |\n|---|---|---|---|---|---|"


async def timed(run: Callable[[], Awaitable[None]], repeats: int = 3) -> float:
    """Median wall time of ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        await run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


@asynccontextmanager
async def fresh_nats():
    with tempfile.TemporaryDirectory(prefix="jianfu-bench-") as folder:
        server = EmbeddedNats(Path(folder)).start()
        nc = await nats.connect(server.url)
        try:
            await provision(nc.jetstream())
            yield server, nc
        finally:
            await nc.close()
            server.stop()
