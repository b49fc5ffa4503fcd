"""The baseline of the command figures: a bare nats-py request-reply echo, as its own process
like a service replica (``python -m bench.echo <nats url> <subject>``), in the queue group
``echo`` so two of them share the load as two service replicas do."""

from __future__ import annotations

import asyncio
import sys

import nats


async def serve(url: str, subject: str) -> None:
    nc = await nats.connect(url)

    async def echo(msg):
        await msg.respond(b'{"ok": true}')

    await nc.subscribe(subject, queue="echo", cb=echo)
    await nc.flush()
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], sys.argv[2]))
