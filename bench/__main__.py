"""``python -m bench``: run every benchmark and print a Markdown table of figures."""

from __future__ import annotations

import asyncio
import platform

import structlog

from bench import bench_commands, bench_projector, bench_store
from bench.harness import HEADER

MODULES = [bench_store, bench_commands, bench_projector]


async def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.processor() or 'cpu'}")
    print(HEADER)
    for module in MODULES:
        for figure in await module.run():
            print(figure.row(), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
