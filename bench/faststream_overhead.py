"""``python -m bench.faststream_overhead``: what FastStream's per-message pipeline costs a
request-reply echo, beside the same echo on a bare nats-py subscription, in one process with 64
concurrent clients: the measurement behind answering requests outside FastStream
(``jianfu.events.answering.Answering``, docs/benchmarks.md). Prints rate and CPU per request
(this process's CPU: server side and clients together, so only the differences matter)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from faststream.nats import NatsBroker, NatsMessage

from bench.bench_commands import bodies, load
from bench.harness import fresh_nats

REPLY = b'{"ok":true}'


async def main(count: int = 6400) -> None:
    async with fresh_nats() as (server, nc):
        broker = NatsBroker(server.url, logger=None)

        async def itself(msg: NatsMessage) -> NatsMessage:
            return msg

        @broker.subscriber("fs.workers", queue="q", max_workers=16, decoder=itself, no_reply=True)
        async def with_workers(msg: NatsMessage) -> None:  # as answering.serve subscribed until issue 7
            await broker.connection.publish(msg.raw_message.reply, REPLY)

        @broker.subscriber("fs.plain", queue="q", decoder=itself, no_reply=True)
        async def plain(msg: Any) -> None:  # no context field, no max_workers
            await broker.connection.publish(msg.raw_message.reply, REPLY)

        await broker.start()
        connection = broker.connection

        async def bare(msg) -> None:
            await connection.publish(msg.reply, REPLY)

        await connection.subscribe("bare.echo", queue="q", cb=bare)
        await connection.flush()
        try:
            for subject in ("bare.echo", "fs.plain", "fs.workers") * 2:
                payloads = bodies(count)
                cpu = time.process_time()
                rate = await load(nc, subject, payloads)
                used = time.process_time() - cpu
                print(f"{subject:10} {rate:8,.0f}/s  {used / count * 1e6:5.0f} µs CPU per request", flush=True)
        finally:
            await broker.stop()


if __name__ == "__main__":
    asyncio.run(main())
