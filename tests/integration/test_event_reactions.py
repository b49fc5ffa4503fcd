"""Event reactions on a plain nats-py pull consumer (reactions.py): the durable consumer keeps
FastStream's name and config, the events of one fetched batch are handled at once, and a stop
keeps the consumer so a restart goes on where the acks left off."""

from __future__ import annotations

import asyncio
import uuid

from faststream import FastStream
from jianfu.events.reactions import on_events
from jianfu.events.runtime import make_broker
from jianfu.events.settings import Settings
from nats.js.api import AckPolicy, DeliverPolicy

from tests.integration.test_event_store import reminder


async def _until(condition, attempts: int = 200) -> None:
    for _ in range(attempts):
        if condition():
            return
        await asyncio.sleep(0.05)


async def test_the_durable_consumer_delivers_all_with_explicit_acks_and_a_batch_unacked_at_most(nats_server, js):
    durable = f"test-{uuid.uuid4().hex[:8]}"
    settings = Settings(nats_url=nats_server.url)
    broker = make_broker(settings)

    async def nothing(envelope, sequence):
        return None

    on_events(broker, settings, "jf.ev.escalation.>", durable, nothing)  # a batch of 32
    app = FastStream(broker)
    await app.start()
    try:
        config = (await js.consumer_info("JIANFU_EVENTS", durable)).config
    finally:
        await app.stop()
    assert (config.durable_name, config.filter_subject) == (durable, "jf.ev.escalation.>")
    assert config.deliver_policy == DeliverPolicy.ALL and config.ack_policy == AckPolicy.EXPLICIT
    assert (config.ack_wait, config.max_ack_pending) == (30, 32)
    assert (await js.consumer_info("JIANFU_EVENTS", durable)).name == durable  # a stop keeps it


async def test_the_events_of_one_batch_are_handled_at_once(nats_server, store, js):
    """Each handler waits until all three have begun: handled one after another, none would end."""
    aggregate_id = uuid.uuid4().hex
    durable = f"test-{aggregate_id[:8]}"
    escalation = await store.load("escalation", aggregate_id)
    stored = await store.append(escalation, [reminder(aggregate_id, n) for n in range(3)])
    begun: list[int] = []
    all_begun = asyncio.Event()
    handled: list[int] = []

    async def together(envelope, sequence):
        begun.append(sequence)
        if len(begun) == 3:
            all_begun.set()
        await asyncio.wait_for(all_begun.wait(), 10)
        handled.append(sequence)

    settings = Settings(nats_url=nats_server.url)
    broker = make_broker(settings)
    on_events(broker, settings, f"jf.ev.escalation.{aggregate_id}", durable, together, batch_size=3)
    app = FastStream(broker)
    await app.start()
    try:
        await _until(lambda: len(handled) == 3)
        await _until(lambda: False, attempts=4)
        info = await js.consumer_info("JIANFU_EVENTS", durable)
    finally:
        await app.stop()
    assert sorted(handled) == [s.sequence for s in stored]
    assert info.num_ack_pending == 0 and info.num_pending == 0


async def test_after_a_stop_a_restart_handles_only_what_came_since(nats_server, store, js):
    aggregate_id = uuid.uuid4().hex
    durable = f"test-{aggregate_id[:8]}"
    settings = Settings(nats_url=nats_server.url)
    seen: list[int] = []

    async def record(envelope, sequence):
        seen.append(sequence)

    async def run_until(count: int) -> None:
        broker = make_broker(settings)
        on_events(broker, settings, f"jf.ev.escalation.{aggregate_id}", durable, record)
        app = FastStream(broker)
        await app.start()
        try:
            await _until(lambda: len(seen) >= count)
            await _until(lambda: False, attempts=4)  # a redelivery would come in this time
        finally:
            await app.stop()

    [first] = await store.append(await store.load("escalation", aggregate_id), [reminder(aggregate_id)])
    await run_until(1)
    [second] = await store.append(await store.load("escalation", aggregate_id), [reminder(aggregate_id, 1)])
    await run_until(2)
    assert seen == [first.sequence, second.sequence]


async def test_a_stop_lets_the_batch_in_hand_finish_and_ack(nats_server, store, js):
    aggregate_id = uuid.uuid4().hex
    durable = f"test-{aggregate_id[:8]}"
    begun, release = asyncio.Event(), asyncio.Event()
    handled: list[int] = []

    async def slow(envelope, sequence):
        begun.set()
        await release.wait()
        handled.append(sequence)

    settings = Settings(nats_url=nats_server.url)
    broker = make_broker(settings)
    on_events(broker, settings, f"jf.ev.escalation.{aggregate_id}", durable, slow)
    app = FastStream(broker)
    await app.start()
    [stored] = await store.append(await store.load("escalation", aggregate_id), [reminder(aggregate_id)])
    await asyncio.wait_for(begun.wait(), 10)
    stopping = asyncio.create_task(app.stop())
    await asyncio.sleep(0.2)
    release.set()
    await stopping
    info = await js.consumer_info("JIANFU_EVENTS", durable)
    assert handled == [stored.sequence]
    assert info.num_ack_pending == 0 and info.delivered.stream_seq == stored.sequence
