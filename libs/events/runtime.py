"""Wiring shared by the four FastStream apps: the broker, the event store on its connection,
command and query routers served by queue groups, and durable subscriptions to events.

Only ``app.py`` modules (the composition roots) and the CLI import this module.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

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
from jianfu.events.commands import Router
from jianfu.events.dependencies import Deps
from jianfu.events.envelope import Envelope
from jianfu.events.logging import bind_correlation, unbind_correlation
from jianfu.events.schemas.base import EventData
from jianfu.events.settings import Settings
from jianfu.events.store import EventStore
from pydantic import BaseModel, ValidationError

log = structlog.get_logger("jianfu.runtime")

EventHandler = Callable[[Envelope, int], Awaitable[None]]


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


def make_app(broker: NatsBroker) -> FastStream:
    """The app, whose start and stop lines go through structlog like every other line."""
    return FastStream(broker, logger=structlog.get_logger("faststream"))


def service_app(settings: Settings, interface: Callable[[Deps, Settings], Interface]) -> FastStream:
    """A FastStream app serving ``interface``, built from settings: what most services are."""
    broker = make_broker(settings)
    app = make_app(broker)
    launch(broker, settings, interface(connected_deps(app, broker, settings), settings))
    return app


def launch(broker: NatsBroker, settings: Settings, interface: Interface) -> None:
    """Subscribe everything an interface declares, plus the health subject."""
    for router in interface.routers:
        serve(broker, router, interface.service)
    for sub in interface.subscriptions:
        on_events(broker, settings, sub.subject, sub.durable, sub.handler)
    health(broker, interface.service)


def make_broker(settings: Settings) -> NatsBroker:
    security = None
    if settings.nats_user:
        security = NatsUserPassword(settings.nats_user, settings.nats_password or "")
    # FastStream's own logger is off: our adapters log every outcome as structured JSON.
    return NatsBroker(settings.nats_servers, logger=None, max_reconnect_attempts=-1, security=security)


def connected_deps(app: FastStream, broker: NatsBroker, settings: Settings) -> Deps:
    """Handler dependencies from settings, with the store bound to the broker's connection."""
    return Deps(connected_store(app, broker, settings), settings.directory, settings.policy,
                settings.make_clock(), settings.append_retries)


def connected_store(app: FastStream, broker: NatsBroker, settings: Settings) -> EventStore:
    """An event store on the broker's own connection, bound when the app starts and before
    any subscriber takes a message."""
    store = EventStore(None, settings.stream)

    @app.on_startup
    async def connect() -> None:
        await broker.connect()
        store.js = broker.connection.jetstream()

    return store


def serve(broker: NatsBroker, router: Router, service: str, max_workers: int = 16) -> None:
    """Answer the router's subjects in the queue group ``service``, so replicas share them."""

    @broker.subscriber(
        router.subject,
        queue=service,
        max_workers=max_workers,
        title=f"{service}:{router.kind}",
        description=f"{router.context} {'commands' if router.kind == 'cmd' else 'queries'}",
    )
    async def answer(msg: NatsMessage) -> dict:
        # The raw message only: a typed body would let FastStream decode JSON first and drop
        # the reply when that fails, leaving the caller to time out.
        return await router.dispatch(msg.raw_message.subject, msg.raw_message.data, msg.headers)


def health(broker: NatsBroker, service: str) -> None:
    """Answer ``jf.sys.health.<service>`` so operators and the launcher can see a replica is up.
    Every replica answers (no queue group); a request takes the first reply."""

    @broker.subscriber(f"jf.sys.health.{service}", title=f"{service}:health")
    async def alive(msg: NatsMessage) -> dict:
        return {"ok": True, "service": service, "pid": os.getpid()}


def on_events(
    broker: NatsBroker,
    settings: Settings,
    subject: str,
    durable: str,
    handler: EventHandler,
    batch_size: int = 32,
) -> None:
    """Feed each event on ``subject`` to ``handler`` once it is stored, in stream order.

    A durable pull consumer with explicit acks: the message is acked after the handler
    returns; if it raises, it is redelivered after a growing delay (0.5 s doubling up to 30 s),
    so a crash never loses an event and a failing dependency is not hammered. Handlers must be
    idempotent (ours append decisions with deterministic ids).
    """

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
            envelope = Envelope.model_validate_json(msg.raw_message.data)
        except ValidationError:
            log.error("unreadable_event_skipped", subject=msg.raw_message.subject)
            await msg.ack()
            return
        bind_correlation(envelope.correlation_id, event_type=envelope.event_type)
        try:
            await handler(envelope, msg.raw_message.metadata.sequence.stream)
        except Exception:
            delay = redelivery_delay(msg.raw_message.metadata.num_delivered)
            log.exception("event_handler_failed", durable=durable, event_id=envelope.event_id, redeliver_in=delay)
            await msg.nack(delay=delay)
            return
        finally:
            unbind_correlation("event_type")
        await msg.ack()


def redelivery_delay(deliveries: int | None) -> float:
    return min(0.5 * 2 ** max((deliveries or 1) - 1, 0), 30.0)
