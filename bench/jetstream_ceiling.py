"""``python -m bench.jetstream_ceiling``: the most a command could reach when it is nothing but
its JetStream work, written directly with nats-py by 64 concurrent clients: one event publish
(expecting a new subject), and the old command path's three steps (ledger claim, last-subject
lookup, event publish) and the new one's two (ledger claim, event publish); on a server that
syncs every write (``sync_interval: always``, as deployed on a single node) and, for
comparison, on one that does not. docs/benchmarks.md explains the commands figures with it."""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from pathlib import Path

import nats
from jianfu.cli.embedded_nats import EmbeddedNats
from jianfu.events.provisioning import provision
from nats.js.errors import NotFoundError

CLIENTS = 64
EVENT = b"x" * 800  # about a RequestActivity envelope


async def rate(operation, count: int) -> float:
    numbers = iter(range(count))

    async def client() -> None:
        for _ in numbers:
            await operation()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return count / (time.perf_counter() - started)


async def measure(sync_always: bool, count: int) -> None:
    with tempfile.TemporaryDirectory(prefix="jianfu-ceiling-") as folder:
        server = EmbeddedNats(Path(folder), sync_always=sync_always).start()
        nc = await nats.connect(server.url)
        js = nc.jetstream()
        await provision(js)

        async def event() -> None:
            await js.publish(f"jf.ev.bench.{uuid.uuid4()}", EVENT, stream="JIANFU_EVENTS",
                             headers={"Nats-Expected-Last-Subject-Sequence": "0", "Nats-Msg-Id": str(uuid.uuid4())})

        async def claim() -> None:
            await js.publish(f"jf.cmdid.{uuid.uuid4().hex}", b"d" * 64, stream="JIANFU_COMMANDS",
                             headers={"Nats-Expected-Last-Subject-Sequence": "0"})

        async def lookup() -> None:
            try:
                await js.get_last_msg("JIANFU_EVENTS", f"jf.ev.bench.{uuid.uuid4()}", direct=True)
            except NotFoundError:
                pass

        async def old_path() -> None:
            await claim()
            await lookup()
            await event()

        async def new_path() -> None:
            await claim()
            await event()

        try:
            for name, operation in (("event publish", event), ("claim+lookup+publish", old_path),
                                    ("claim+publish", new_path)):
                print(f"sync {'always' if sync_always else 'off   '}  {name:22} {await rate(operation, count):7,.0f}/s",
                      flush=True)
        finally:
            await nc.close()
            server.stop()


async def main(count: int = 3200) -> None:
    for sync_always in (True, False):
        await measure(sync_always, count)


if __name__ == "__main__":
    asyncio.run(main())
