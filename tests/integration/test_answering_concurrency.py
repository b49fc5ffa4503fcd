"""Requests are answered side by side (issue 7, item 5): no lock or single subscription callback
serialises the handlers, a stop waits for the answers in flight, and a handler that fails costs
only its own request. The router's subscriptions are made on the broker's connection directly
(``answering.Answering``), not through FastStream's per-message pipeline."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from jianfu.events.answering import Answerer, answering, serve
from jianfu.events.commands import Router
from jianfu.events.organisations import OrgKind
from jianfu.events.runtime import make_app, make_broker
from jianfu.events.schemas.campus_entry import PublishSemesterList
from jianfu.events.settings import Settings
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError

from tests.factories import DIRECTORY

SUBJECT = "jf.cmd.edu-bureau.approvals.PublishSemesterList"
SIDE_BY_SIDE = 20
WAIT = 10.0  # a failure shows as a timeout, never as a measured duration


def body() -> bytes:
    return json.dumps({"command_id": str(uuid.uuid4()), "semester": "2026-autumn"}).encode()


async def ask(nc, subject: str, data: bytes, timeout: float = WAIT):
    """A request, sent again on "no responders" as any caller would: on the session's server a
    subscription made and flushed on one connection is now and then not yet seen by a request
    from another (about once in 40 starts, with FastStream's subscribers as with ours)."""
    for _ in range(20):
        try:
            return await nc.request(subject, data, timeout=timeout)
        except NoRespondersError:
            await asyncio.sleep(0.05)
    raise NoRespondersError


async def started(nats_url: str, handler, service: str):
    router = Router("approvals", DIRECTORY)
    router.add(PublishSemesterList, handler, {OrgKind.EDUCATION_BUREAU})
    broker = make_broker(Settings(nats_url=nats_url))
    app = make_app(broker)
    serve(broker, router, service)
    await app.start()
    return app, broker


async def test_twenty_commands_are_handled_at_once_not_one_after_another(nats_server, nc):
    """Each handler waits until all twenty are inside a handler: handled one at a time, the
    first would wait for ever and every request would time out."""
    inside, all_inside = 0, asyncio.Event()

    async def waits_for_the_others(command, caller):
        nonlocal inside
        inside += 1
        if inside == SIDE_BY_SIDE:
            all_inside.set()
        await asyncio.wait_for(all_inside.wait(), WAIT)
        return {"semester": command.semester}

    app, _ = await started(nats_server.url, waits_for_the_others, f"side-by-side-{uuid.uuid4().hex[:8]}")
    try:
        replies = await asyncio.gather(*(ask(nc, SUBJECT, body()) for _ in range(SIDE_BY_SIDE)))
    finally:
        await app.stop()
    assert [json.loads(r.data)["ok"] for r in replies] == [True] * SIDE_BY_SIDE


async def test_a_stop_waits_for_the_answer_in_flight(nats_server, nc):
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow(command, caller):
        entered.set()
        await asyncio.wait_for(release.wait(), WAIT)
        return {"semester": command.semester}

    app, _ = await started(nats_server.url, slow, f"stopping-{uuid.uuid4().hex[:8]}")
    request = asyncio.create_task(ask(nc, SUBJECT, body()))
    await asyncio.wait_for(entered.wait(), WAIT)
    stopping = asyncio.create_task(app.stop())
    await asyncio.sleep(0)
    release.set()
    await stopping
    assert json.loads((await request).data)["ok"] is True


async def test_a_handler_that_raises_costs_only_its_own_request(nats_server, nc):
    """``Router.dispatch`` never raises; a failure after it (or in another answerer) is logged
    and the subscription goes on answering."""
    subject = f"test.answering.{uuid.uuid4().hex[:8]}"
    broker = make_broker(Settings(nats_url=nats_server.url))
    app = make_app(broker)

    async def fails_on_boom(nc_, msg):
        if msg.data == b"boom":
            raise RuntimeError("boom")
        await nc_.publish(msg.reply, b"fine")

    answering(broker).add(Answerer(subject, "q", fails_on_boom))
    await app.start()
    try:
        with pytest.raises(NatsTimeoutError):
            await ask(nc, subject, b"boom", timeout=0.5)
        assert (await ask(nc, subject, b"again")).data == b"fine"
    finally:
        await app.stop()
