"""Event store: append with concurrency and idempotency headers and hash chaining, against a
plain JetStream publish of the same bytes; loading an aggregate, against reading the same
messages through one plain ordered consumer."""

from __future__ import annotations

import uuid

from jianfu.events.store import EventStore

from bench.harness import Figure, fresh_nats, timed
from tests.integration.test_event_store import reminder

APPENDS = 1000
HISTORY = 200


async def run() -> list[Figure]:
    async with fresh_nats() as (_, nc):
        js = nc.jetstream()
        store = EventStore(js)

        async def appends():
            for n in range(APPENDS):
                aggregate_id = uuid.uuid4().hex
                await store.append(await store.load("escalation", aggregate_id), [reminder(aggregate_id, n)])

        async def raw_publishes():
            for n in range(APPENDS):
                event = reminder(uuid.uuid4().hex, n)
                await js.publish(event.subject, event.canonical_json())

        aggregate_id = uuid.uuid4().hex
        await store.append(await store.load("escalation", aggregate_id), [reminder(aggregate_id, n) for n in range(HISTORY)])

        async def loads():
            for _ in range(20):
                await store.load("escalation", aggregate_id)

        async def raw_reads():
            for _ in range(20):
                sub = await js.subscribe(f"jf.ev.escalation.{aggregate_id}", ordered_consumer=True)
                for _ in range(HISTORY):
                    await sub.next_msg(timeout=5)
                await sub.unsubscribe()

        return [
            Figure("append (load + append, new aggregate)", APPENDS, await timed(appends),
                   "plain js.publish", await timed(raw_publishes)),
            Figure(f"load aggregate of {HISTORY} events", 20, await timed(loads),
                   "plain ordered consumer read", await timed(raw_reads)),
        ]
