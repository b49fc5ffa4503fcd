"""``python -m bench.profile projector|rebuild [events]``: run one read-model figure under
cProfile and print the top entries by own time and by cumulative time, for docs/benchmarks.md."""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import sys

import structlog
from jianfu.events.store import EventStore

from bench import bench_projector
from bench.harness import fresh_nats


async def _projector(js, store, events):
    return (await bench_projector.projector_figures(js, store, events))[0]


FIGURES = {"projector": _projector, "rebuild": bench_projector.rebuild_figure}


async def profiled(name: str, events: int) -> None:
    async with fresh_nats() as (_, nc):
        js = nc.jetstream()
        store = EventStore(js)
        await bench_projector.fill(js, store, events)
        profile = cProfile.Profile()
        profile.enable()
        figure = await FIGURES[name](js, store, events)
        profile.disable()
    print(figure.row())
    stats = pstats.Stats(profile).strip_dirs()
    stats.sort_stats("tottime").print_stats(15)
    stats.sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    asyncio.run(profiled(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5_000))
