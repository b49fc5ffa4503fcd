"""Wiring shared by the four FastStream apps: the broker and its lifeline, the event store and
the command ledger on its connection, and ``launch``, which subscribes what a service's
interface declares (``answering.py`` for requests, ``reactions.py`` for events).

Only ``app.py`` modules (the composition roots) and the CLI import this module.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import structlog
from faststream import FastStream
from faststream.nats import (
    NatsBroker,
    NatsUserPassword,
)
from jianfu.events.answering import answering, health, serve, unrouted
from jianfu.events.commands import Router
from jianfu.events.dependencies import Deps
from jianfu.events.ledger import CommandLedger
from jianfu.events.reactions import EventHandler, on_events, reactions
from jianfu.events.schemas.base import EventData
from jianfu.events.settings import Settings
from jianfu.events.store import EventStore
from jianfu.events.wire import tolerate_malformed_messages
from pydantic import BaseModel

log = structlog.get_logger("jianfu.runtime")




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
    """The app, whose start and stop lines go through structlog like every other line, and whose
    start returns only once the server holds its subscriptions."""
    app = FastStream(broker, logger=structlog.get_logger("faststream"))
    if lifeline is not None:
        app.on_shutdown(lifeline.shutting_down)

    @app.after_startup
    async def subscribed() -> None:
        # The request-reply subscriptions (``answering.py``) are made on the connected broker.
        await answering(broker).start(broker.connection)
        # SUBs are written to the socket but not yet processed: without a round trip, a request
        # sent on another connection right after start can still meet "no responders".
        await broker.connection.flush()

    @app.on_shutdown
    async def answered() -> None:
        await answering(broker).stop()

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


class Broker(NatsBroker):
    """A NatsBroker that also runs the event reactions declared on it (``reactions.py``): they
    start once it has connected and stop, their batches in hand finished, before it closes. On
    the broker rather than the app, so any FastStream app serving it runs them."""

    async def start(self) -> None:
        await super().start()
        await reactions(self).start(self.connection)

    async def stop(self, *args: object, **kwargs: object) -> None:
        await reactions(self).stop()
        await super().stop(*args, **kwargs)


def make_broker(settings: Settings, lifeline: Lifeline | None = None) -> NatsBroker:
    security = None
    if settings.nats_user:
        security = NatsUserPassword(settings.nats_user, settings.nats_password or "")
    # FastStream's own logger is off: our adapters log every outcome as structured JSON.
    return Broker(settings.nats_servers, logger=None, max_reconnect_attempts=-1, security=security,
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

    return Deps(store, settings.directory, settings.policy, settings.make_clock(), settings.append_retries, ledger,
                settings.distances)
