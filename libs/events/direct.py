"""Reading one subject of a stream by JetStream's batched direct get (nats-server 2.11+).

A direct get is answered by the stream itself and creates no consumer: the broker caps a stream
at 1,000 consumers and an ordered consumer lingers about five seconds after its reader leaves,
so loading aggregates through consumers stopped at about 200 loads per second. One request asks
for up to ``batch`` messages of the subject from a sequence on; the messages arrive on our inbox
and a status message ends the batch (204: end of batch, 404: nothing from there on).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from nats.aio.client import Client
from nats.aio.msg import Msg

END_OF_BATCH, NOTHING_THERE = "204", "404"


class DirectGetFailed(Exception):
    """The stream answered a direct get with a status other than an end of batch."""


class _Batch:
    """What one request brought back: the messages, and how many more the subject holds."""

    def __init__(self) -> None:
        self.messages: list[tuple[int, str, bytes]] = []
        self.ended: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def receive(self, msg: Msg) -> None:
        headers = msg.headers or {}
        status = headers.get("Status")
        if self.ended.done():
            return
        if status == END_OF_BATCH:
            self.ended.set_result(int(headers.get("Nats-Num-Pending", 0)))
        elif status == NOTHING_THERE:
            self.ended.set_result(0)
        elif status:
            self.ended.set_exception(DirectGetFailed(f"{status} {headers.get('Description', '')}".strip()))
        else:
            self.messages.append((int(headers["Nats-Sequence"]), headers.get("Nats-Subject", ""), msg.data))


async def read_subject(nc: Client, stream: str, subject: str, first: int, last: int, *, batch: int,
                       timeout: float) -> AsyncIterator[tuple[int, str, bytes]]:
    """(sequence, subject, data) of the subject's messages from ``first`` to ``last``, in order;
    one round trip per ``batch`` messages. Raises TimeoutError when a batch does not end in time."""
    current = _Batch()

    async def receive(msg: Msg) -> None:
        await current.receive(msg)

    sub = await nc.subscribe(nc.new_inbox(), cb=receive)
    try:
        while first <= last:
            current = _Batch()
            request = {"seq": first, "next_by_subj": subject, "batch": batch}
            await nc.publish(f"$JS.API.DIRECT.GET.{stream}", json.dumps(request).encode(), reply=sub.subject)
            pending = await asyncio.wait_for(current.ended, timeout)
            wanted = [m for m in current.messages if m[0] <= last]
            for message in wanted:
                yield message
            if not pending or len(wanted) < len(current.messages) or not wanted or wanted[-1][0] >= last:
                return
            first = wanted[-1][0] + 1
    finally:
        await sub.unsubscribe()
