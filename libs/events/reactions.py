"""Durable event reactions: a service's pull consumer on the log, with manual acks, backoff for
transient failures, a chain check before every event, and quarantine for events that can never
be applied or break their aggregate's chain."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog
from faststream.nats import NatsBroker
from jianfu.events import catalogue, quarantine
from jianfu.events.envelope import Envelope
from jianfu.events.heads import ChainHeads
from jianfu.events.logging import bind_correlation, unbind_correlation
from jianfu.events.settings import Settings
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext

log = structlog.get_logger("jianfu.reactions")

EventHandler = Callable[[Envelope, int], Awaitable[None]]


MAX_DELIVERIES = 5  # a handler failing for no known reason gives up on an event after this many
ACK_WAIT = 30.0  # seconds an event may stay unacked before the server delivers it again
FETCH_TIMEOUT = 1.0
"""How long an idle fetch waits for a first event. It bounds no lone event's wait: the fetch's
first pull request ends as soon as the events at hand are delivered, so a lone event comes
back alone at once (measured with nats-server 2.9 and 2.15); it only spaces the idle fetches."""
FETCH_FAILED_PAUSE = 1.0  # after a fetch that failed (connection lost, consumer gone): no busy loop
STOP_TIMEOUT = 10.0


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

    A durable pull consumer with explicit acks (deliver all, ``ack_wait`` 30 s, at most
    ``batch_size`` unacked), made with nats-py on the broker's connection when the broker starts
    and stopped before it closes (``runtime.Broker``), not a FastStream subscriber: FastStream's
    per-message pipeline cost about 0.5 ms of CPU per event (see ``answering.Answering``). It
    fetches up to ``batch_size`` events and runs the handler on all of them at once, fetching
    again when the last has finished, and a failed event comes back after later ones: handlers
    must be idempotent (ours append decisions with deterministic ids) and must not depend on the
    order of events.

    Before the handler sees an event, its subject must be its envelope's and its ``prev_hash``
    must continue its aggregate's chain (``heads.py``: heads in memory, read from the log on a
    miss); an event that fails is quarantined and the handler never sees it. How the handler
    ends decides what happens to the event:

    - it returns: acked;
    - a transient failure (timeout, lost connection, nats error, store unavailable, concurrent
      append): redelivered after a growing delay (0.5 s doubling up to 30 s), as long as it takes,
      so a crash never loses an event and a failing dependency is not hammered;
    - the event cannot be read or applied (the envelope or its data does not validate, a type
      no catalogue knows, a broken chain, ValueError, LookupError): quarantined at once;
    - anything else: redelivered with the same delays, and quarantined at the
      ``max_deliveries``-th failure, so no event loops for ever.

    Quarantined: acked (never delivered again), logged as ``event_quarantined`` and alerted on
    ``jf.sys.alert.<service>.quarantine`` (``quarantine.py``).
    """
    reactions(broker).add(Reaction(subject, durable, handler, settings.stream, batch_size,
                                   service or durable, max_deliveries))


@dataclass
class Reaction:
    """One durable consumer and the handler its events go to."""

    subject: str
    durable: str
    handler: EventHandler
    stream: str
    batch_size: int
    service: str
    max_deliveries: int
    chains: ChainHeads = field(init=False)

    def __post_init__(self) -> None:
        self.chains = ChainHeads(self.stream)

    def config(self) -> ConsumerConfig:
        return ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.EXPLICIT,
                              ack_wait=ACK_WAIT, max_ack_pending=self.batch_size)

    async def react(self, js: JetStreamContext, msg: Msg) -> None:
        """Check and handle one event, then ack, nak or quarantine it."""
        try:
            envelope = _readable_event(msg.data)
        except quarantine.POISON as error:
            await self.quarantine(js, msg, error, None)
            return
        bind_correlation(envelope.correlation_id, event_type=envelope.event_type)
        sequence = msg.metadata.sequence.stream
        try:
            await self.chains.check(js, sequence, msg.subject, msg.data, envelope)
            await self.handler(envelope, sequence)
        except Exception as error:  # noqa: BLE001 - every failure is sorted: retried or quarantined
            deliveries = msg.metadata.num_delivered or 1
            if not quarantine.is_transient(error) and (
                    isinstance(error, quarantine.POISON) or deliveries >= self.max_deliveries):
                await self.quarantine(js, msg, error, envelope, deliveries)
                return
            delay = redelivery_delay(deliveries)
            log.exception("event_handler_failed", durable=self.durable, event_id=envelope.event_id,
                          redeliver_in=delay)
            await msg.nak(delay=delay)
            return
        finally:
            unbind_correlation("event_type")
        await msg.ack()

    async def quarantine(self, js: JetStreamContext, msg: Msg, error: BaseException,
                         envelope: Envelope | None, deliveries: int = 1) -> None:
        """Set the event aside for this consumer: alert, log line, ack."""
        event_id, event_type = ((envelope.event_id, envelope.event_type) if envelope is not None
                                else quarantine.peek(msg.data))
        reason = quarantine.describe(error)
        if not isinstance(error, quarantine.POISON):
            reason = f"gave up after {deliveries} deliveries: {reason}"
        await quarantine.report(js, quarantine.alert(
            self.service, self.durable, self.stream, msg.metadata.sequence.stream, msg.subject, reason,
            event_id, event_type))
        await msg.ack()


class Reactions:
    """The event reactions of one broker, each a nats-py pull subscription and a task fetching
    from it. ``stop`` lets a batch in hand finish (its events are acked or nakked), abandons an
    idle fetch (what it might still bring is delivered again after ``ack_wait``) and keeps the
    durable consumers on the server."""

    def __init__(self) -> None:
        self.reactions: list[Reaction] = []
        self.followers: list[_Follower] = []

    def add(self, reaction: Reaction) -> None:
        self.reactions.append(reaction)

    async def start(self, nc: Client) -> None:
        if self.followers:
            return  # already following: a broker started twice fetches once
        js = nc.jetstream()
        for reaction in self.reactions:
            sub = await js.pull_subscribe(reaction.subject, durable=reaction.durable, stream=reaction.stream,
                                          config=reaction.config())
            self.followers.append(_Follower(reaction, js, sub))

    async def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        followers, self.followers = self.followers, []
        await asyncio.gather(*(follower.stop(timeout) for follower in followers))


class _Follower:
    """Fetches a reaction's events and handles each fetched batch concurrently, until stopped."""

    def __init__(self, reaction: Reaction, js: JetStreamContext, sub: JetStreamContext.PullSubscription) -> None:
        self.reaction, self.js, self.sub = reaction, js, sub
        self.stopping = False
        self.fetching = False
        self.task = asyncio.get_running_loop().create_task(self._follow())

    async def stop(self, timeout: float) -> None:
        self.stopping = True
        if self.fetching:
            self.task.cancel()
        done, _ = await asyncio.wait({self.task}, timeout=timeout)
        if not done:
            log.warning("reaction_stop_timed_out", durable=self.reaction.durable)
            self.task.cancel()
            await asyncio.wait({self.task})
        try:
            await self.sub.unsubscribe()
        except Exception as error:  # noqa: BLE001 - the connection may already be gone
            log.warning("reaction_unsubscribe_failed", durable=self.reaction.durable, error=repr(error))

    async def _follow(self) -> None:
        while not self.stopping:
            batch = await self._fetch()
            if batch:
                await asyncio.gather(*(self._react(msg) for msg in batch))

    async def _fetch(self) -> list[Msg]:
        """The next batch; nothing after ``FETCH_TIMEOUT`` idle, or after a pause if the fetch failed."""
        self.fetching = True
        try:
            return await self.sub.fetch(self.reaction.batch_size, timeout=FETCH_TIMEOUT)
        except (TimeoutError, NatsTimeoutError):  # nats-py raises either on an idle fetch
            return []
        except Exception as error:  # noqa: BLE001 - a lost connection or consumer: try again, slowly
            log.warning("reaction_fetch_failed", durable=self.reaction.durable, error=repr(error),
                        retry_in=FETCH_FAILED_PAUSE)
            await asyncio.sleep(FETCH_FAILED_PAUSE)
            return []
        finally:
            self.fetching = False

    async def _react(self, msg: Msg) -> None:
        try:
            await self.reaction.react(self.js, msg)
        except Exception:  # noqa: BLE001 - an ack or alert lost with the connection: delivered again
            log.exception("event_reaction_failed", durable=self.reaction.durable, subject=msg.subject)


def _readable_event(data: bytes) -> Envelope:
    """The envelope of an event every reader can parse: it validates and its type is known."""
    envelope = Envelope.model_validate_json(data)
    if envelope.event_type not in catalogue.EVENT_TYPES:
        raise catalogue.UnknownEventType(envelope.event_type)
    return envelope


_REACTIONS: weakref.WeakKeyDictionary[NatsBroker, Reactions] = weakref.WeakKeyDictionary()


def reactions(broker: NatsBroker) -> Reactions:
    """The event reactions declared on ``broker``."""
    if broker not in _REACTIONS:
        _REACTIONS[broker] = Reactions()
    return _REACTIONS[broker]


def redelivery_delay(deliveries: int | None) -> float:
    """0.5 s after the first failure, doubling up to 30 s."""
    return min(0.5 * 2 ** max((deliveries or 1) - 1, 0), 30.0)
