"""Durable event subscriptions (runtime.on_events) against a real nats-server: a failed handler
gets the event again, later; a handled one is acked and never comes back."""

from __future__ import annotations

import asyncio
import uuid

from faststream import FastStream
from jianfu.events.reactions import on_events, redelivery_delay
from jianfu.events.runtime import make_broker
from jianfu.events.settings import Settings

from tests.integration.test_event_store import reminder


def test_redelivery_waits_longer_after_each_failure_up_to_half_a_minute():
    assert [redelivery_delay(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert redelivery_delay(50) == 30.0 and redelivery_delay(None) == 0.5


async def test_a_failing_handler_gets_the_event_again_and_then_it_is_acked(nats_server, store, js):
    aggregate_id = uuid.uuid4().hex
    durable = f"test-{aggregate_id[:8]}"
    calls: list[str] = []

    async def flaky(envelope, sequence):
        calls.append(envelope.event_id)
        if len(calls) == 1:
            raise ConnectionError("dependency down")

    broker = make_broker(Settings(nats_url=nats_server.url))
    on_events(broker, Settings(nats_url=nats_server.url), f"jf.ev.escalation.{aggregate_id}", durable, flaky)
    app = FastStream(broker)
    await app.start()
    try:
        [stored] = await store.append(await store.load("escalation", aggregate_id), [reminder(aggregate_id)])
        for _ in range(100):
            if len(calls) >= 2:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        info = await js.consumer_info("JIANFU_EVENTS", durable)
    finally:
        await app.stop()
    assert calls == [stored.envelope.event_id] * 2
    assert info.num_ack_pending == 0 and info.num_pending == 0
