"""Shared pieces of the benchmarks: a fresh nats-server, timing, and the figures' two outputs
(a Markdown table for people, one JSON object per figure for scripts)."""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import nats
from jianfu.cli.embedded_nats import EmbeddedNats
from jianfu.events.provisioning import provision

FIGURES = ("append_new", "append_existing", "peer_append_new", "peer_append_existing", "commands_64",
           "commands_64_2_replicas", "latency_200", "rss", "projector", "detector", "rebuild",
           "teachers_detector", "teachers_projector")
"""Every figure ``python -m bench`` prints, by the names issue 7 gives them, in printing order."""


@dataclass
class Figure:
    """One measure beside its baseline, both as rates (operations or events per second) from the
    same servers in the same run. ``ratio`` is rate / baseline rate: 1.0 is as fast as the
    baseline, 0.5 half as fast. A figure without a baseline (RSS) has ``baseline_rate`` None."""

    figure: str
    description: str
    rate: float | None
    baseline: str
    baseline_rate: float | None
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if not self.rate or not self.baseline_rate:
            return None
        return self.rate / self.baseline_rate

    def as_json(self) -> str:
        return json.dumps({"figure": self.figure, "rate": _round(self.rate), "baseline": self.baseline,
                           "baseline_rate": _round(self.baseline_rate), "ratio": _round(self.ratio, 3),
                           "description": self.description,
                           **{key: _round(value, 2) for key, value in self.extra.items()}}, ensure_ascii=False)

    def row(self) -> str:
        extra = ", ".join(f"{key} {_show(value)}" for key, value in self.extra.items())
        return (f"| {self.figure} | {_show(self.ratio, 'x')} | {_show(self.rate, '/s')} | {self.baseline} | "
                f"{_show(self.baseline_rate, '/s')} | {self.description} | {extra} |")


HEADER = ("| figure | ratio | rate | baseline | baseline rate | measure | extra |\n"
          "|---|---|---|---|---|---|---|")


def _round(value, digits: int = 1):
    return round(value, digits) if isinstance(value, float) else value


def _show(value, unit: str = "") -> str:
    if value is None:
        return "—"
    if unit == "x":
        return f"{value:.2f}x"
    if isinstance(value, float) and value < 100:
        return f"{value:.1f}{unit}"
    return f"{value:,.0f}{unit}" if isinstance(value, (int, float)) else f"{value}{unit}"


def per_second(operations: int, seconds: float) -> float:
    return operations / seconds


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
