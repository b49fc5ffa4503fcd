"""``python -m bench.profile_commands [commands]``: the requests service as its own process (as
``commands_64`` runs it) under cProfile with a CPU-time clock, loaded by 64 concurrent clients;
prints the rate, then the service's top entries by own time and by cumulative time, for
docs/benchmarks.md. A CPU clock, not wall time: the machine is shared, and time spent waiting
for the CPU or for the broker is not the service's cost.

``python -m bench.profile_commands --serve <profile file>`` is the service side (internal)."""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import runpy
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jianfu.cli.supervisor import service_env

from bench.bench_commands import CLIENTS, SUBJECT, bodies, load
from bench.harness import fresh_nats


def serve(profile_path: str) -> None:
    """Run ``faststream run jianfu.requests.app:app`` in this process under cProfile until SIGTERM."""
    sys.argv = ["faststream", "run", "jianfu.requests.app:app"]
    profile = cProfile.Profile(time.process_time)
    profile.enable()
    try:
        runpy.run_module("faststream", run_name="__main__")
    except SystemExit:
        pass
    finally:
        profile.disable()
        profile.dump_stats(profile_path)


async def profiled(count: int) -> None:
    with tempfile.TemporaryDirectory(prefix="jianfu-profile-") as folder:
        profile_path = str(Path(folder) / "requests.prof")
        async with fresh_nats() as (server, nc):
            env = service_env(server.url, f"sqlite+aiosqlite:///{Path(folder) / 'unused.db'}", "fixed:2026-07-10",
                              JIANFU_LOG_LEVEL="ERROR")
            process = subprocess.Popen([sys.executable, "-m", "bench.profile_commands", "--serve", profile_path],
                                       env=env)
            try:
                await ready(nc)
                await load(nc, SUBJECT, bodies(CLIENTS * 2))  # warm-up
                rate = await load(nc, SUBJECT, bodies(count))
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait()
        print(f"{count} RequestActivity from {CLIENTS} clients: {rate:,.0f}/s under the profiler")
        stats = pstats.Stats(profile_path).strip_dirs()
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(r"answering|commands|ledger|handlers|store|campus_entry|"
                                                   r"envelope|recording|edge|client\.py.*(publish|request)", 30)


async def ready(nc, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            await nc.request("jf.sys.health.requests", b"", timeout=0.5)
            return
        except Exception:  # noqa: BLE001 - not up yet: no responders or a timeout
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2])
    else:
        asyncio.run(profiled(int(sys.argv[1]) if len(sys.argv) > 1 else CLIENTS * 50))
