"""Wiring shared by the four FastStream apps: the broker, the event store on its connection,
command and query routers served by queue groups, and durable subscriptions to events.

Only ``app.py`` modules (the composition roots) and the CLI import this module.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial

import structlog
from faststream import FastStream
from faststream.middlewares import AckPolicy
from faststream.nats import (
    ConsumerConfig,
    DeliverPolicy,
    JStream,
    NatsBroker,
    NatsMessage,
    NatsUserPassword,
    PullSub,
)
from jianfu.events import catalogue, quarantine
from jianfu.events.commands import SERVED_CONTEXTS, Router
from jianfu.events.dependencies import Deps
from jianfu.events.edge import shown
from jianfu.events.envelope import Envelope
from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.ledger import CommandLedger
from jianfu.events.logging import bind_correlation, unbind_correlation
from jianfu.events.schemas.base import EventData
from jianfu.events.settings import Settings
from jianfu.events.store import EventStore
from jianfu.events.wire import tolerate_malformed_messages
from pydantic import BaseModel

log = structlog.get_logger("jianfu.runtime")

EventHandler = Callable[[Envelope, int], Awaitable[None]]

UNROUTED_QUEUE = "jf-unrouted"
REPLY_HEADROOM = 4096  # bytes left for the reply's subject and headers
HEALTH_TIMEOUT = 2.0


@dataclass(frozen=True)
class Subscription:
    """A durable subscription of a service to events of the log."""

    subject: str
    durable: str
    handler: EventHandler
    event_types: tuple[type[EventData], ...]


@dataclass(frozen=True)
class Interface:
    """What a service answers, consumes and emits: wired by ``launch``, documented by AsyncAPI."""

    service: str
    description: str
    routers: tuple[Router, ...] = ()
    subscriptions: tuple[Subscription, ...] = ()
    emits: tuple[type[EventData], ...] = ()
    projected: tuple[str, ...] = ()  # subjects a projector reads itself, outside FastStream; docs only
    sends: tuple[tuple[str, type[BaseModel]], ...] = ()  # other messages it publishes (alerts); docs only


class Lifeline:
    """Ends the process when its broker connection is closed for good while it serves.

    nats-py reconnects after a network failure, but closes for good on a protocol error (a
    message over the server's payload limit, say); a service left running then answers
    nothing. Exiting non-zero lets the supervisor (compose, ``jianfu run``) start a fresh one.
    """

    EXIT_CODE = 75  # EX_TEMPFAIL: try again

    def __init__(self) -> None:
        self.stopping = False

    async def connection_closed(self) -> None:
        if not self.stopping:
            log.critical("broker_connection_closed", exit_code=self.EXIT_CODE, hint="the supervisor restarts it")
            os._exit(self.EXIT_CODE)

    async def shutting_down(self) -> None:
        self.stopping = True


def make_app(broker: NatsBroker, lifeline: Lifeline | None = None) -> FastStream:
    """The app, whose start and stop lines go through structlog like every other line."""
    app = FastStream(broker, logger=structlog.get_logger("faststream"))
    if lifeline is not None:
        app.on_shutdown(lifeline.shutting_down)
    return app


def service_app(settings: Settings, interface: Callable[[Deps, Settings], Interface]) -> FastStream:
    """A FastStream app serving ``interface``, built from settings: what most services are."""
    lifeline = Lifeline()
    broker = make_broker(settings, lifeline)
    app = make_app(broker, lifeline)
    launch(broker, settings, interface(connected_deps(app, broker, settings), settings))
    return app


def launch(broker: NatsBroker, settings: Settings, interface: Interface) -> None:
    """Subscribe everything an interface declares, plus the health subject."""
    for router in interface.routers:
        serve(broker, router, interface.service)
    for sub in interface.subscriptions:
        on_events(broker, settings, sub.subject, sub.durable, sub.handler, service=interface.service)
    unrouted(broker)
    health(broker, interface.service, partial(stream_reachable, broker, settings.stream))


async def stream_reachable(broker: NatsBroker, stream: str) -> None:
    """Ready means the event log answers: every service loads from it or appends to it."""
    await broker.connection.jetstream().stream_info(stream)


def make_broker(settings: Settings, lifeline: Lifeline | None = None) -> NatsBroker:
    security = None
    if settings.nats_user:
        security = NatsUserPassword(settings.nats_user, settings.nats_password or "")
    # FastStream's own logger is off: our adapters log every outcome as structured JSON.
    return NatsBroker(settings.nats_servers, logger=None, max_reconnect_attempts=-1, security=security,
                      closed_cb=lifeline.connection_closed if lifeline else None)


def connected_deps(app: FastStream, broker: NatsBroker, settings: Settings) -> Deps:
    """Handler dependencies from settings, with the store and the command ledger bound to the
    broker's connection when the app starts, before any subscriber takes a message."""
    store, ledger = EventStore(None, settings.stream), CommandLedger()

    @app.on_startup
    async def connect() -> None:
        await broker.connect()
        tolerate_malformed_messages(broker.connection)
        store.js = ledger.js = broker.connection.jetstream()

    return Deps(store, settings.directory, settings.policy, settings.make_clock(), settings.append_retries, ledger)


def serve(broker: NatsBroker, router: Router, service: str, max_workers: int = 16) -> None:
    """Answer the router's subjects in the queue group ``service``, so replicas share them."""

    @broker.subscriber(
        router.subject,
        queue=service,
        max_workers=max_workers,
        decoder=raw_body,
        no_reply=True,
        title=f"{service}:{router.kind}",
        description=f"{router.context} {'commands' if router.kind == 'cmd' else 'queries'}",
    )
    async def answer(msg: NatsMessage) -> None:
        reply = await router.dispatch(msg.raw_message.subject, msg.raw_message.data, msg.headers)
        await respond(broker, msg, reply)


async def raw_body(msg: NatsMessage) -> bytes:
    """FastStream's decoder, replaced: it would parse JSON (or text) by content type before the
    router sees the bytes, and a failure there leaves the caller without any reply."""
    return msg.body


async def respond(broker: NatsBroker, msg: NatsMessage, reply: dict) -> None:
    """Send the reply unless the broker could not carry it: then a structured error instead of
    a message the server would refuse (and close the connection over)."""
    if not msg.raw_message.reply:
        return
    body = json.dumps(reply, ensure_ascii=False, separators=(",", ":")).encode()
    limit = broker.connection.max_payload - REPLY_HEADROOM
    if len(body) > limit:
        log.error("reply_too_large", size=len(body), limit=limit, correlation_id=reply.get("correlation_id"))
        body = json.dumps(Refused(ErrorCode.REPLY_TOO_LARGE, f"the answer of {len(body)} bytes exceeds the "
                                  f"broker's limit of {limit}; ask for a smaller page (limit, cursor)").as_reply()
                          | {"correlation_id": reply.get("correlation_id")}).encode()
    # Not ``Msg.respond``: it would copy the request's headers into the reply, so a large header
    # would make the reply exceed the broker's limit and cost the service its connection.
    await broker.connection.publish(msg.raw_message.reply, body)


def unrouted(broker: NatsBroker, contexts: Mapping[str, frozenset[str]] = SERVED_CONTEXTS) -> None:
    """Answer what no router serves (an unknown context, a token too many or too few) with a
    structured ``UNKNOWN_COMMAND`` instead of leaving the caller with "no responders".

    Every service joins one queue group on ``jf.cmd.>`` and ``jf.q.>``, so each request reaches
    one of them; it stays silent for subjects a router serves (that router answers)."""
    for kind, served in contexts.items():
        broker.subscriber(f"jf.{kind}.>", queue=UNROUTED_QUEUE, decoder=raw_body, no_reply=True,
                          title=f"unrouted:{kind}")(_refuser(broker, kind, served))


def _refuser(broker: NatsBroker, kind: str, served: frozenset[str]):
    known = ", ".join(f"jf.{kind}.<org_id>.{context}.<name>" for context in sorted(served))

    async def refuse(msg: NatsMessage) -> None:
        parts = msg.raw_message.subject.split(".")
        if len(parts) == 5 and parts[3] in served:
            return  # a router of that context answers
        refusal = Refused(ErrorCode.UNKNOWN_COMMAND, f"no such subject '{shown(msg.raw_message.subject, 200)}'; "
                          f"known: {known}")
        await respond(broker, msg, {**refusal.as_reply(), "correlation_id": str(uuid.uuid4())})

    return refuse


def health(broker: NatsBroker, service: str, ready: Callable[[], Awaitable[None]] | None = None) -> None:
    """Answer ``jf.sys.health.<service>`` so operators and the launcher can see a replica is up.
    Every replica answers (no queue group); a request takes the first reply. ``ready`` raises
    when the replica cannot serve (its store or database unreachable): it then answers
    ``ok: false`` with ``UNAVAILABLE``."""

    @broker.subscriber(f"jf.sys.health.{service}", title=f"{service}:health", decoder=raw_body, no_reply=True)
    async def alive(msg: NatsMessage) -> None:
        reply = {"ok": True, "service": service, "pid": os.getpid()}
        try:
            if ready is not None:
                await asyncio.wait_for(ready(), HEALTH_TIMEOUT)
        except Exception as error:  # noqa: BLE001 - any failure means "not ready", and says why
            log.warning("not_ready", service=service, error=repr(error))
            reply = {**reply, "ok": False, "error": {"code": ErrorCode.UNAVAILABLE.value, "message": repr(error)}}
        await respond(broker, msg, reply)


MAX_DELIVERIES = 5  # a handler failing for no known reason gives up on an event after this many


def on_events(
    broker: NatsBroker,
    settings: Settings,
    subject: str,
    durable: str,
    handler: EventHandler,
    batch_size: int = 32,
    service: str | None = None,
    max_deliveries: int = MAX_DELIVERIES,
) -> None:
    """Feed each event on ``subject`` to ``handler`` once it is stored: at least once, in no
    guaranteed order.

    A durable pull consumer with explicit acks. FastStream fetches up to ``batch_size`` events
    and runs the handler on all of them at once, fetching again when the last has finished, and
    a failed event comes back after later ones: handlers must be idempotent (ours append
    decisions with deterministic ids) and must not depend on the order of events. How the
    handler ends decides what happens to the event:

    - it returns: acked;
    - a transient failure (timeout, lost connection, nats error, store unavailable, concurrent
      append): redelivered after a growing delay (0.5 s doubling up to 30 s), as long as it takes,
      so a crash never loses an event and a failing dependency is not hammered;
    - the event cannot be read or applied (the envelope or its data does not validate, a type
      no catalogue knows, ValueError, LookupError): quarantined at once;
    - anything else: redelivered with the same delays, and quarantined at the
      ``max_deliveries``-th failure, so no event loops for ever.

    Quarantined: acked (never delivered again), logged as ``event_quarantined`` and alerted on
    ``jf.sys.alert.<service>.quarantine`` (``quarantine.py``).
    """
    reporter = _Quarantine(broker, service or durable, durable, settings.stream)

    @broker.subscriber(
        subject,
        stream=JStream(settings.stream, declare=False),
        durable=durable,
        pull_sub=PullSub(batch_size=batch_size, timeout=2.0),
        config=ConsumerConfig(
            deliver_policy=DeliverPolicy.ALL, ack_wait=30, max_ack_pending=batch_size
        ),
        ack_policy=AckPolicy.MANUAL,
        title=f"{durable}",
    )
    async def react(msg: NatsMessage) -> None:
        try:
            envelope = _readable_event(msg.raw_message.data)
        except quarantine.POISON as error:
            await reporter.quarantine(msg, error, None)
            return
        bind_correlation(envelope.correlation_id, event_type=envelope.event_type)
        try:
            await handler(envelope, msg.raw_message.metadata.sequence.stream)
        except Exception as error:  # noqa: BLE001 - every failure is sorted: retried or quarantined
            deliveries = msg.raw_message.metadata.num_delivered or 1
            if not quarantine.is_transient(error) and (
                    isinstance(error, quarantine.POISON) or deliveries >= max_deliveries):
                await reporter.quarantine(msg, error, envelope, deliveries)
                return
            delay = redelivery_delay(deliveries)
            log.exception("event_handler_failed", durable=durable, event_id=envelope.event_id, redeliver_in=delay)
            await msg.nack(delay=delay)
            return
        finally:
            unbind_correlation("event_type")
        await msg.ack()


def _readable_event(data: bytes) -> Envelope:
    """The envelope of an event every reader can parse: it validates and its type is known."""
    envelope = Envelope.model_validate_json(data)
    if envelope.event_type not in catalogue.EVENT_TYPES:
        raise catalogue.UnknownEventType(envelope.event_type)
    return envelope


@dataclass(frozen=True)
class _Quarantine:
    """Sets an event aside for one durable consumer: alert, log line, ack."""

    broker: NatsBroker
    service: str
    durable: str
    stream: str

    async def quarantine(self, msg: NatsMessage, error: BaseException, envelope: Envelope | None,
                         deliveries: int = 1) -> None:
        raw = msg.raw_message
        event_id, event_type = ((envelope.event_id, envelope.event_type) if envelope is not None
                                else quarantine.peek(raw.data))
        reason = quarantine.describe(error)
        if not isinstance(error, quarantine.POISON):
            reason = f"gave up after {deliveries} deliveries: {reason}"
        await quarantine.report(self.broker.connection.jetstream(), quarantine.alert(
            self.service, self.durable, self.stream, raw.metadata.sequence.stream, raw.subject, reason,
            event_id, event_type))
        await msg.ack()


def redelivery_delay(deliveries: int | None) -> float:
    """0.5 s after the first failure, doubling up to 30 s."""
    return min(0.5 * 2 ** max((deliveries or 1) - 1, 0), 30.0)
