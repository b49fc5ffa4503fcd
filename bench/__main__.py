"""``python -m bench``: run every benchmark and print a Markdown table of figures;
``--json`` prints one JSON object per figure instead; ``--quick`` uses smaller sizes."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import platform

import structlog

from bench.harness import HEADER

MODULES = ("store", "commands", "latency", "projector", "teachers_time")
"""``bench/bench_<name>.py``, in printing order; imported only when run, so ``--only`` needs only
the modules it names."""


async def main(as_json: bool, quick: bool, only: tuple[str, ...] = ()) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    if not as_json:
        print(f"python {platform.python_version()} on {platform.machine()}, {platform.processor() or 'cpu'}")
        print(HEADER)
    for name in MODULES:
        if only and name not in only:
            continue
        module = importlib.import_module(f"bench.bench_{name}")
        for figure in await module.run(quick):
            print(figure.as_json() if as_json else figure.row(), flush=True)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--json", action="store_true", help="one JSON object per figure, one per line")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a check that it runs")
    parser.add_argument("--only", nargs="+", default=(), choices=MODULES,
                        help="run only these benchmark modules (e.g. --only commands latency)")
    return parser.parse_args()


if __name__ == "__main__":
    args = arguments()
    asyncio.run(main(args.json, args.quick, tuple(args.only)))
