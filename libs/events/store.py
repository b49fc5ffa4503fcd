"""The event store on JetStream: append with optimistic concurrency and idempotency, load one
aggregate, replay everything from a sequence.

- ``append`` publishes each event with ``Nats-Msg-Id`` = event id (JetStream drops a duplicate
  inside its window) and ``Nats-Expected-Last-Subject-Sequence`` = the aggregate's last
  sequence (a concurrent writer loses with ``ConcurrencyConflict``, error 10071).
- Events already in the loaded history are skipped by id, which makes a retried command a no-op
  even after the dedupe window has passed.
- Each appended event gets ``prev_hash`` = hash of the aggregate's previous event.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import structlog
from jianfu.events.chain import Head, Link, judge
from jianfu.events.direct import DirectGetFailed, read_subject
from jianfu.events.envelope import GENESIS_HASH, Envelope, stored_hash, subject_for
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext
from nats.js.errors import APIError, NotFoundError
from pydantic import ValidationError

log = structlog.get_logger("jianfu.store")

WRONG_LAST_SEQUENCE = 10071
DIRECT_BATCH = 256  # events per direct-get round trip when loading an aggregate
ATOMIC_BATCH_MAX = 1000  # messages in one atomic batch: nats-server's default jetstream.limits.batch.max_msgs
ALL_EVENTS = "jf.ev.>"


class ConcurrencyConflict(Exception):
    """Another writer appended to the aggregate since it was loaded."""


@dataclass(frozen=True)
class StoredEvent:
    sequence: int
    envelope: Envelope
    stored_hash: str = ""  # of the bytes read from the stream; empty: as the store writes the envelope

    @property
    def chain_hash(self) -> str:
        """What the next event of the aggregate must carry as ``prev_hash``."""
        return self.stored_hash or self.envelope.hash()


@dataclass(frozen=True)
class RawEvent:
    """A stored message as it is, before it is read as an envelope."""

    sequence: int
    subject: str
    data: bytes


@dataclass
class History:
    """One aggregate's events in order, as loaded; the basis of the next append."""

    aggregate_type: str
    aggregate_id: str
    events: list[StoredEvent] = field(default_factory=list)
    stored_up_to: int = 0  # the subject's last sequence when loaded, readable or not

    @property
    def last_sequence(self) -> int:
        """What the next append expects: a message passed over as unreadable still counts."""
        return max(self.events[-1].sequence if self.events else 0, self.stored_up_to)

    @property
    def last_hash(self) -> str:
        return self.events[-1].chain_hash if self.events else GENESIS_HASH

    @property
    def envelopes(self) -> list[Envelope]:
        return [stored.envelope for stored in self.events]

    def caused_by(self, command_id: str) -> list[StoredEvent]:
        """Events this command already produced: a retried command answers from these."""
        return [e for e in self.events if e.envelope.causation_id == command_id]

    def find(self, event_id: str) -> StoredEvent | None:
        return next((e for e in self.events if e.envelope.event_id == event_id), None)


class EventStore:
    def __init__(self, js: JetStreamContext | None, stream: str = "JIANFU_EVENTS", timeout: float = 5.0) -> None:
        self.js = js
        self.stream = stream
        self.timeout = timeout

    async def load(self, aggregate_type: str, aggregate_id: str) -> History:
        subject = subject_for(aggregate_type, aggregate_id)
        last = await self._last_sequence_of(subject)
        history = History(aggregate_type, aggregate_id, stored_up_to=last)
        head: Head | None = None
        if last:
            async for stored in self._read(subject, 1, last, self.read_direct):
                if not continues(stored, subject, head):
                    continue
                history.events.append(stored)
                head = Head(stored.sequence, stored.chain_hash)
        return history

    async def append(self, history: History, events: Sequence[Envelope]) -> list[StoredEvent]:
        """Append events to the aggregate of ``history``; return them with their sequences.

        Raises ConcurrencyConflict when the aggregate moved on since it was loaded.
        """
        stored: list[StoredEvent] = []
        expected, prev_hash = history.last_sequence, history.last_hash
        for event in events:
            existing = history.find(event.event_id)
            if existing is not None:
                stored.append(existing)
                continue
            chained = event.model_copy(update={"prev_hash": prev_hash})
            data = chained.canonical_json()
            sequence, written = await self._publish(chained, data, expected), stored_hash(data)
            stored.append(StoredEvent(sequence, chained, written))
            expected, prev_hash = sequence, written
        history.events.extend(s for s in stored if history.find(s.envelope.event_id) is None)
        return stored

    async def append_once(self, event: Envelope) -> StoredEvent | None:
        """Append the first event of a new aggregate, or nothing if the aggregate exists.

        Used for decisions with deterministic ids (violations): a second detection is a no-op.
        """
        return (await self.append_all_once([event]))[0]

    async def append_together(self, appends: Sequence[tuple[History, Envelope]]) -> list[StoredEvent]:
        """Events on one or several aggregates, all stored or none: a JetStream atomic batch
        (ADR-50) of at most ``ATOMIC_BATCH_MAX`` messages. The first event of each aggregate
        expects that aggregate's last sequence (the server refuses an expectation on a subject
        the batch wrote already; the batch is stored in order, so the rest follow it); events of
        one aggregate are chained in the order given. Raises ConcurrencyConflict when any of them
        moved on since it was loaded. An event already in its loaded history (a retried command)
        is not sent again."""
        sending: list[tuple[History, Envelope, int | None]] = []
        datas: list[bytes] = []
        heads: dict[tuple[str, str], str] = {}
        for history, event in appends:
            if history.find(event.event_id) is not None:
                continue
            key = (history.aggregate_type, history.aggregate_id)
            expected = None if key in heads else history.last_sequence
            chained = event.model_copy(update={"prev_hash": heads.get(key, history.last_hash)})
            sending.append((history, chained, expected))
            datas.append(chained.canonical_json())
            heads[key] = stored_hash(datas[-1])
        if len(sending) > ATOMIC_BATCH_MAX:
            raise ValueError(f"{len(sending)} events: an atomic batch holds at most {ATOMIC_BATCH_MAX}")
        if len(sending) == 1:
            await self.append(sending[0][0], [sending[0][1]])
        elif sending:
            batch = uuid.uuid4().hex
            for n, ((history, event, expected), data) in enumerate(zip(sending, datas, strict=True), 1):
                headers = {**self._headers(event, expected or 0), "Nats-Batch-Id": batch,
                           "Nats-Batch-Sequence": str(n)}
                if expected is None:
                    del headers["Nats-Expected-Last-Subject-Sequence"]
                if n < len(sending):
                    await self.js._nc.publish(event.subject, data, headers=headers)
                else:
                    ack = await self._acked(event, data, {**headers, "Nats-Batch-Commit": "1"})
            first = ack.seq - len(sending) + 1  # a batch is stored in order, in consecutive sequences
            for n, ((history, event, _), data) in enumerate(zip(sending, datas, strict=True)):
                history.events.append(StoredEvent(first + n, event, stored_hash(data)))
        return [history.find(event.event_id) for history, event in appends]

    async def append_all_once(self, events: Sequence[Envelope]) -> list[StoredEvent | None]:
        """``append_once`` for many new aggregates, pipelined: every event is sent, then every
        acknowledgement awaited, so a batch costs about one round trip instead of one per event.
        Each entry is the stored event, or None where its aggregate existed already."""
        async def once(event: Envelope) -> StoredEvent | None:
            data = event.canonical_json()
            try:
                return StoredEvent(await self._publish(event, data, 0), event, stored_hash(data))
            except ConcurrencyConflict:
                return None

        # gather sends each publish before awaiting any acknowledgement (one inbox per request).
        return list(await asyncio.gather(*(once(e.model_copy(update={"prev_hash": GENESIS_HASH})) for e in events)))

    async def replay(self, from_sequence: int = 1, subjects: str = ALL_EVENTS) -> AsyncIterator[StoredEvent]:
        """Every event from ``from_sequence`` up to the last one stored when replay began."""
        info = await self.js.stream_info(self.stream)
        last = info.state.last_seq
        if last >= from_sequence:
            async for stored in self._read(subjects, from_sequence, last):
                yield stored

    async def last_sequence(self) -> int:
        return (await self.js.stream_info(self.stream)).state.last_seq

    async def _publish(self, event: Envelope, data: bytes, expected: int) -> int:
        ack = await self._acked(event, data, self._headers(event, expected))
        if ack.duplicate and expected == 0:
            # Inside the dedupe window JetStream answers a repeated id with the first copy's ack:
            # for a new aggregate that means it exists already.
            raise ConcurrencyConflict(event.subject)
        return ack.seq

    @staticmethod
    def _headers(event: Envelope, expected: int) -> dict[str, str]:
        return {
            "Nats-Msg-Id": event.event_id,
            "Nats-Expected-Last-Subject-Sequence": str(expected),
            "Jf-Event-Type": event.event_type,
            "Jf-Correlation-Id": event.correlation_id,
        }

    async def _acked(self, event: Envelope, data: bytes, headers: dict[str, str]):
        try:
            return await self.js.publish(event.subject, data, stream=self.stream, timeout=self.timeout, headers=headers)
        except APIError as error:
            if error.err_code == WRONG_LAST_SEQUENCE:
                raise ConcurrencyConflict(event.subject) from error
            raise

    async def _last_sequence_of(self, subject: str) -> int:
        try:
            msg = await self.js.get_last_msg(self.stream, subject, direct=True)
        except NotFoundError:
            return 0
        return msg.seq or 0

    async def _read(self, subject: str, first: int, last: int,
                    source: Callable[[str, int, int], AsyncIterator[RawEvent]] | None = None,
                    ) -> AsyncIterator[StoredEvent]:
        """Read envelopes in stream order from ``first`` until sequence ``last`` has been seen;
        a stored message that is not an envelope is logged and passed over, never raised."""
        async for raw in (source or self.read_raw)(subject, first, last):
            try:
                yield StoredEvent(raw.sequence, Envelope.model_validate_json(raw.data), stored_hash(raw.data))
            except ValidationError as error:
                log.error("unreadable_event_passed_over", sequence=raw.sequence, subject=raw.subject,
                          error=str(error)[:500])

    async def read_raw(self, subject: str, first: int, last: int) -> AsyncIterator[RawEvent]:
        """The stored messages from ``first`` to ``last`` inclusive, in stream order, as bytes. It
        ends at ``last`` or when nothing more is stored, so a log whose last message was deleted
        is still read to its end."""
        if last < first:
            return
        sub = await self.js.subscribe(
            subject,
            stream=self.stream,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            config=ConsumerConfig(opt_start_seq=first),
        )
        try:
            while True:
                try:
                    msg = await sub.next_msg(timeout=self.timeout)
                except NatsTimeoutError as error:
                    raise StoreUnavailable(f"no event up to {last} on {subject}") from error
                sequence = msg.metadata.sequence.stream
                if sequence > last:
                    return
                yield RawEvent(sequence, msg.subject, msg.data)
                if sequence == last or not msg.metadata.num_pending:
                    return
        finally:
            await sub.unsubscribe()

    async def read_direct(self, subject: str, first: int, last: int) -> AsyncIterator[RawEvent]:
        """As ``read_raw`` for one subject, by batched direct gets: no consumer is created, so
        any number of loads can run at once. One round trip per ``DIRECT_BATCH`` events."""
        try:
            async for sequence, stored_subject, data in read_subject(
                self.js._nc, self.stream, subject, first, last, batch=DIRECT_BATCH, timeout=self.timeout
            ):
                yield RawEvent(sequence, stored_subject or subject, data)
        except (TimeoutError, DirectGetFailed) as error:
            raise StoreUnavailable(f"no event up to {last} on {subject}: {error!r}") from error


def continues(stored: StoredEvent, subject: str, head: Head | None) -> bool:
    """Whether ``stored`` continues its aggregate's chain after ``head``. Writers and readers
    agree on the chain: an event that does not continue it (forged, or written around the store)
    is logged and passed over by every load, as every consumer quarantines it."""
    broken = judge(Link(stored.sequence, subject, stored.envelope, stored.chain_hash), head)
    if broken:
        log.error("broken_link_passed_over", sequence=stored.sequence, subject=subject, reason=broken)
    return not broken


class StoreUnavailable(Exception):
    """The stream did not deliver what it reported holding within the timeout."""


async def execute(
    store: EventStore,
    aggregate_type: str,
    aggregate_id: str,
    decide: Callable[[History], Sequence[Envelope]] | Callable[[History], Awaitable[Sequence[Envelope]]],
    retries: int = 10,
) -> list[StoredEvent]:
    """Load → decide → append, reloading and deciding again when a concurrent append wins."""
    for attempt in range(retries + 1):
        history = await store.load(aggregate_type, aggregate_id)
        decided = decide(history)
        events = await decided if asyncio.iscoroutine(decided) else decided
        try:
            return await store.append(history, events)
        except ConcurrencyConflict:
            if attempt == retries:
                raise
            await _pause(attempt)
    raise AssertionError("unreachable")


async def execute_together(
    store: EventStore,
    aggregates: Sequence[tuple[str, str]],
    decide: Callable[[list[History]], Sequence[tuple[History, Envelope]]]
    | Callable[[list[History]], Awaitable[Sequence[tuple[History, Envelope]]]],
    retries: int = 10,
) -> list[StoredEvent]:
    """As ``execute`` for a decision that appends events to one or several aggregates (a
    certification and the quota slot it takes at each school; a round's parts): all are loaded
    at once, and the events are appended together or not at all (``append_together``)."""
    for attempt in range(retries + 1):
        histories = list(await asyncio.gather(*(store.load(kind, key) for kind, key in aggregates)))
        decided = decide(histories)
        appends = await decided if asyncio.iscoroutine(decided) else decided
        try:
            return await store.append_together(appends)
        except ConcurrencyConflict:
            if attempt == retries:
                raise
            await _pause(attempt)
    raise AssertionError("unreachable")


async def _pause(attempt: int) -> None:
    # Jitter keeps racing writers from colliding again in lockstep; the window doubles so
    # thirty writers on one aggregate spread out before the retries run out.
    await asyncio.sleep(random.uniform(0, min(0.25, 0.004 * 2**attempt)))
