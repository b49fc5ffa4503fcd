"""Event store, two figures:

- ``append_new``: load + append of the first event of a new aggregate, against a raw nats-py
  ``js.publish`` of the same bytes with the same headers;
- ``append_existing``: load-decide-append on an aggregate of 200 events, against a raw ordered
  consumer reading the same 200 messages and a raw publish expecting the last subject sequence;
- ``peer_append_new`` and ``peer_append_existing``: the same two rates against the peer library,
  ``eventsourcing`` on PostgreSQL doing the same work (``bench.peer``; ``pip install -e .[bench]``),
  left out with a note on stderr when it is not installed."""

from __future__ import annotations

import asyncio
import sys
import uuid

from jianfu.events.store import EventStore
from nats.js.api import ConsumerConfig, DeliverPolicy

from bench.harness import Figure, fresh_nats, per_second, timed
from tests.conftest import fresh_database
from tests.integration.test_event_store import reminder

HISTORY = 200


def headers(event, expected: int) -> dict[str, str]:
    """The headers the store sends, spelt out here so the baseline does not call project code."""
    return {"Nats-Msg-Id": event.event_id, "Nats-Expected-Last-Subject-Sequence": str(expected),
            "Jf-Event-Type": event.event_type, "Jf-Correlation-Id": event.correlation_id}


async def raw_load_and_append(js, subject: str, event) -> None:
    """What a bare client does for load-decide-append: read the subject's messages through one
    ordered consumer until none is pending, then publish expecting the last one's sequence."""
    sub = await js.subscribe(subject, ordered_consumer=True, deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                             config=ConsumerConfig(opt_start_seq=1))
    last = 0
    while True:
        msg = await sub.next_msg(timeout=5)
        last = msg.metadata.sequence.stream
        if not msg.metadata.num_pending:
            break
    await sub.unsubscribe()
    await js.publish(subject, event.canonical_json(), headers=headers(event, last))


async def run(quick: bool = False) -> list[Figure]:
    appends, updates = (200, 10) if quick else (1000, 20)
    async with fresh_nats() as (_, nc):
        js = nc.jetstream()
        store = EventStore(js)

        async def new_aggregates():
            for n in range(appends):
                aggregate_id = uuid.uuid4().hex
                await store.append(await store.load("escalation", aggregate_id), [reminder(aggregate_id, n)])

        async def raw_publishes():
            for n in range(appends):
                event = reminder(uuid.uuid4().hex, n)
                await js.publish(event.subject, event.canonical_json(), headers=headers(event, 0))

        ours, theirs = uuid.uuid4().hex, uuid.uuid4().hex
        await store.append(await store.load("escalation", ours), [reminder(ours, n) for n in range(HISTORY)])
        for n in range(HISTORY):
            event = reminder(theirs, n)
            await js.publish(event.subject, event.canonical_json())

        async def existing():
            for n in range(updates):
                await store.append(await store.load("escalation", ours), [reminder(ours, HISTORY + n)])

        async def raw_existing():
            for n in range(updates):
                await raw_load_and_append(js, f"jf.ev.escalation.{theirs}", reminder(theirs, HISTORY + n))

        figures = [
            Figure("append_new", "load + append, new aggregate per command",
                   per_second(appends, await timed(new_aggregates)),
                   "raw js.publish, same headers", per_second(appends, await timed(raw_publishes))),
            Figure("append_existing", f"load-decide-append on an aggregate of {HISTORY}+ events",
                   per_second(updates, await timed(existing)),
                   "raw ordered-consumer read + publish", per_second(updates, await timed(raw_existing))),
        ]
    return figures + await peer_figures(figures[0].rate, figures[1].rate, appends, updates)


async def peer_figures(append_new: float, append_existing: float, appends: int, updates: int) -> list[Figure]:
    try:
        from bench import peer
    except ImportError as error:
        print(f"peer figures left out: {error} (pip install -e .[bench])", file=sys.stderr)
        return []
    async with fresh_database("bench_peer") as url:
        new, existing = await asyncio.to_thread(peer.rates, url.rsplit("/", 1)[1], appends, updates)
    baseline = f"eventsourcing {peer.version()}, PostgreSQL"
    return [Figure("peer_append_new", "append_new's rate beside the peer library's", append_new, baseline, new),
            Figure("peer_append_existing", "append_existing's rate beside the peer library's (no snapshots)",
                   append_existing, baseline, existing)]
