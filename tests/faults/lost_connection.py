"""A requests service in a process of its own whose broker connection is closed for good, or
which is stopped normally: run by ``test_lost_connection.py`` as ``python -m``."""

from __future__ import annotations

import asyncio
import sys

from jianfu.events.logging import configure_logging
from jianfu.events.settings import Settings
from jianfu.requests.app import build


async def main(nats_url: str, how: str) -> None:
    configure_logging("json", "INFO", "requests")
    app = build(Settings(nats_url=nats_url))
    await app.start()
    print("started", flush=True)
    if how == "protocol-error":
        # What a 1.2 MB event did: the server refuses a message over its payload limit and closes
        # the connection; nats-py does not reconnect after that.
        nc = app.broker.connection
        nc._max_payload = 10**8
        await nc.publish("jf.probe.oversized", b"x" * 2_000_000)
        await asyncio.sleep(10)
        print("still running, deaf", flush=True)
    else:
        await app.stop()
        print("stopped", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
