"""Durable event reactions: a service's pull consumer on the log, with manual acks, backoff for
transient failures, a chain check before every event, and quarantine for events that can never
be applied or break their aggregate's chain."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from faststream.middlewares import AckPolicy
from faststream.nats import ConsumerConfig, DeliverPolicy, JStream, NatsBroker, NatsMessage, PullSub
from jianfu.events import catalogue, quarantine
from jianfu.events.envelope import Envelope
from jianfu.events.heads import ChainHeads
from jianfu.events.logging import bind_correlation, unbind_correlation
from jianfu.events.settings import Settings

log = structlog.get_logger("jianfu.reactions")

EventHandler = Callable[[Envelope, int], Awaitable[None]]


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
    decisions with deterministic ids) and must not depend on the order of events.

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
    reporter = _Quarantine(broker, service or durable, durable, settings.stream)
    chains = ChainHeads(settings.stream)

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
        raw, sequence = msg.raw_message, msg.raw_message.metadata.sequence.stream
        try:
            await chains.check(broker.connection.jetstream(), sequence, raw.subject, raw.data, envelope)
            await handler(envelope, sequence)
        except Exception as error:  # noqa: BLE001 - every failure is sorted: retried or quarantined
            deliveries = raw.metadata.num_delivered or 1
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
