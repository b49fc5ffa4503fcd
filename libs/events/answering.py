"""The request-reply side of a service: routers answered in queue groups, the catch-all for
subjects no router serves, and the health subject. Every reply is published without the
request's headers and never exceeds what the broker can carry."""

from __future__ import annotations

import asyncio
import json
import os
import re
import uuid
import weakref
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import NamedTuple

import structlog
from faststream.nats import NatsBroker
from jianfu.events.commands import SERVED_CONTEXTS, Router
from jianfu.events.edge import shown
from jianfu.events.errors import ErrorCode, Refused
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

log = structlog.get_logger("jianfu.answering")

UNROUTED_QUEUE = "jf-unrouted"
INBOX = re.compile(r"_INBOX(_[a-z0-9][a-z0-9-]{0,62})?\.")
"""Reply subjects answered: NATS's default ``_INBOX.`` or an organisation's ``_INBOX_<org_id>.``."""
REPLY_HEADROOM = 4096  # bytes left for the reply's subject and headers
HEALTH_TIMEOUT = 2.0
MAX_WORKERS = 64
"""Requests one subscription handles at once: each spends most of its time awaiting the stream,
so as many as the benchmark's 64 clients keep the stream busy, while the bound keeps a flood
queued in the client instead of in tasks."""
STOP_TIMEOUT = 10.0


def serve(broker: NatsBroker, router: Router, service: str, max_workers: int = MAX_WORKERS) -> None:
    """Answer the router's subjects in the queue group ``service``, so replicas share them."""

    async def answer(nc: Client, msg: Msg) -> None:
        reply = await router.dispatch(msg.subject, msg.data, msg.headers)
        await respond(nc, msg, reply)

    answering(broker).add(Answerer(router.subject, service, answer, max_workers))


class Answerer(NamedTuple):
    """One request-reply subscription: its subject, queue group and handler, how many of its
    requests may be handled at once, and which subjects it handles at all (all by default)."""

    subject: str
    queue: str
    handle: Callable[[Client, Msg], Awaitable[None]]
    max_workers: int = MAX_WORKERS
    accepts: Callable[[str], bool] | None = None


class Answering:
    """The request-reply subscriptions of one broker, made on its nats-py connection directly.

    Not FastStream subscribers: FastStream's per-message pipeline (context scopes, middlewares,
    the message resolved as a context field in a worker thread, a task group per message) cost
    about 0.2 ms of CPU per request, 0.5 ms with ``max_workers``, and held a bare echo to about
    1,200 requests/s on the 2-core machine (docs/benchmarks.md). Here each request is one task,
    at most ``max_workers`` at once per subscription; beyond that the subscription's callback
    waits and further requests queue in the client. ``runtime.make_app`` starts the
    subscriptions once the broker has connected and stops them (draining, then awaiting the
    answers in flight) before the broker closes."""

    def __init__(self) -> None:
        self.answerers: list[Answerer] = []
        self.subscriptions: list[Subscription] = []
        self.in_flight: set[asyncio.Task] = set()

    def add(self, answerer: Answerer) -> None:
        self.answerers.append(answerer)

    async def start(self, nc: Client) -> None:
        for answerer in self.answerers:
            self.subscriptions.append(await nc.subscribe(answerer.subject, queue=answerer.queue,
                                                         cb=self._taker(nc, answerer)))

    async def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop taking requests, hand over those already received, then wait for their answers."""
        subscriptions, self.subscriptions = self.subscriptions, []
        for subscription in subscriptions:
            try:
                await asyncio.wait_for(subscription.drain(), timeout)
            except Exception as error:  # noqa: BLE001 - a broken connection must not stop the shutdown
                log.warning("answering_drain_failed", subject=subscription.subject, error=repr(error))
        if self.in_flight:
            await asyncio.wait(set(self.in_flight), timeout=timeout)

    def _taker(self, nc: Client, answerer: Answerer) -> Callable[[Msg], Awaitable[None]]:
        limiter = asyncio.Semaphore(answerer.max_workers)

        async def take(msg: Msg) -> None:
            if answerer.accepts is not None and not answerer.accepts(msg.subject):
                return
            await limiter.acquire()
            task = asyncio.get_running_loop().create_task(self._answer(nc, answerer, msg, limiter))
            self.in_flight.add(task)
            task.add_done_callback(self.in_flight.discard)

        return take

    @staticmethod
    async def _answer(nc: Client, answerer: Answerer, msg: Msg, limiter: asyncio.Semaphore) -> None:
        try:
            await answerer.handle(nc, msg)
        except Exception:  # noqa: BLE001 - one failed answer must not end the subscription
            log.exception("answer_failed", subject=shown(msg.subject, 200))
        finally:
            limiter.release()


_ANSWERING: weakref.WeakKeyDictionary[NatsBroker, Answering] = weakref.WeakKeyDictionary()


def answering(broker: NatsBroker) -> Answering:
    """The request-reply subscriptions declared on ``broker``."""
    if broker not in _ANSWERING:
        _ANSWERING[broker] = Answering()
    return _ANSWERING[broker]


async def respond(nc: Client, msg: Msg, reply: dict) -> None:
    """Send the reply unless the broker could not carry it: then a structured error instead of
    a message the server would refuse (and close the connection over)."""
    if not msg.reply:
        return
    if not INBOX.match(msg.reply):
        # A requester chooses the reply subject; answering on jf.ev.* or jf.alert.* would write the
        # answer into a stream for ever. Replies go to inboxes only.
        log.warning("reply_subject_refused", reply_subject=shown(msg.reply, 200),
                    correlation_id=reply.get("correlation_id"))
        return
    body = json.dumps(reply, ensure_ascii=False, separators=(",", ":")).encode()
    limit = nc.max_payload - REPLY_HEADROOM
    if len(body) > limit:
        log.error("reply_too_large", size=len(body), limit=limit, correlation_id=reply.get("correlation_id"))
        body = json.dumps(Refused(ErrorCode.REPLY_TOO_LARGE, f"the answer of {len(body)} bytes exceeds the "
                                  f"broker's limit of {limit}; ask for a smaller page (limit, cursor)").as_reply()
                          | {"correlation_id": reply.get("correlation_id")}).encode()
    # Not ``Msg.respond``: it would copy the request's headers into the reply, so a large header
    # would make the reply exceed the broker's limit and cost the service its connection.
    await nc.publish(msg.reply, body)


def unrouted(broker: NatsBroker, contexts: Mapping[str, frozenset[str]] = SERVED_CONTEXTS) -> None:
    """Answer what no router serves (an unknown context, a token too many or too few) with a
    structured ``UNKNOWN_COMMAND`` instead of leaving the caller with "no responders".

    Every service joins one queue group on ``jf.cmd.>`` and ``jf.q.>``, so each request reaches
    one of them; it stays silent for subjects a router serves (that router answers)."""
    for kind, served in contexts.items():
        answering(broker).add(Answerer(f"jf.{kind}.>", UNROUTED_QUEUE, _refuser(kind, served),
                                       accepts=partial(_unserved, served)))


def _unserved(served: frozenset[str], subject: str) -> bool:
    """Whether no router serves ``subject``: decided before any task is made for it, since every
    command also reaches this queue group."""
    parts = subject.split(".")
    return not (len(parts) == 5 and parts[3] in served)


def _refuser(kind: str, served: frozenset[str]) -> Callable[[Client, Msg], Awaitable[None]]:
    known = ", ".join(f"jf.{kind}.<org_id>.{context}.<name>" for context in sorted(served))

    async def refuse(nc: Client, msg: Msg) -> None:
        refusal = Refused(ErrorCode.UNKNOWN_COMMAND, f"no such subject '{shown(msg.subject, 200)}'; "
                          f"known: {known}")
        await respond(nc, msg, {**refusal.as_reply(), "correlation_id": str(uuid.uuid4())})

    return refuse


def health(broker: NatsBroker, service: str, ready: Callable[[], Awaitable[None]] | None = None) -> None:
    """Answer ``jf.sys.health.<service>`` so operators and the launcher can see a replica is up.
    Every replica answers (no queue group); a request takes the first reply. ``ready`` raises
    when the replica cannot serve (its store or database unreachable): it then answers
    ``ok: false`` with ``UNAVAILABLE``."""

    async def alive(nc: Client, msg: Msg) -> None:
        reply = {"ok": True, "service": service, "pid": os.getpid()}
        try:
            if ready is not None:
                await asyncio.wait_for(ready(), HEALTH_TIMEOUT)
        except Exception as error:  # noqa: BLE001 - any failure means "not ready", and says why
            log.warning("not_ready", service=service, error=repr(error))
            reply = {**reply, "ok": False, "error": {"code": ErrorCode.UNAVAILABLE.value, "message": repr(error)}}
        await respond(nc, msg, reply)

    # No queue group: every replica answers.
    answering(broker).add(Answerer(f"jf.sys.health.{service}", "", alive, max_workers=4))
