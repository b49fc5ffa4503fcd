"""Snapshots of aggregates that keep growing: derived data on a side stream; the log is never
rewritten, and a load from a snapshot equals a full load.

- A snapshot is one message on ``jf.snap.<aggregate_type>.<aggregate_id>`` in stream
  ``JIANFU_SNAPSHOTS`` (one kept per subject, may be thrown away at any time). It holds the
  aggregate's state as a JSON document its own code writes and reads back, the ``schema_version``
  of that document's shape, and the subject sequence and chain hash of the last event it covers.
- ``Snapshots.load`` takes the snapshot only when its schema version is the aggregate's current
  one and the event it claims to cover is in the log with that hash; anything else (an older
  shape, a snapshot that does not match the log, an unreadable one, no snapshot stream) is logged
  and the aggregate is loaded in full. Only the events after the snapshot are read, by batched
  direct gets (no consumer is created), and judged against the chain from the covered event on.
- The loaded history continues the chain: the next append expects the subject's last sequence
  and carries the covered event's hash when nothing came after it.
- ``execute`` is the store's load → decide → append with this loader; after an append that grew
  the aggregate by ``every`` events since its snapshot it writes a new one in the background,
  and a failed write is logged, never raised into the command.

Composes EventStore's public methods only.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import structlog
from jianfu.events.chain import Head
from jianfu.events.envelope import GENESIS_HASH, Envelope, stored_hash, subject_for
from jianfu.events.provisioning import SNAPSHOT_STREAM
from jianfu.events.store import ConcurrencyConflict, EventStore, History, RawEvent, StoredEvent, continues
from nats.js.errors import NotFoundError
from pydantic import ValidationError

log = structlog.get_logger("jianfu.snapshots")

SNAPSHOT_PREFIX = "jf.snap"
DEFAULT_EVERY = 100

S = TypeVar("S")


def snapshot_subject(aggregate_type: str, aggregate_id: str) -> str:
    return f"{SNAPSHOT_PREFIX}.{aggregate_type}.{aggregate_id}"


@dataclass(frozen=True)
class Codec(Generic[S]):
    """What the aggregate's own code tells the loader: how to start, fold, write and read its state.

    ``schema_version`` changes whenever the shape ``dump`` writes changes; snapshots of another
    version are skipped."""

    aggregate_type: str
    schema_version: int
    empty: Callable[[str], S]  # aggregate id -> the state before any event
    fold: Callable[[S, StoredEvent], S]  # the state after one more event
    dump: Callable[[S], dict[str, Any]]
    restore: Callable[[str, dict[str, Any]], S]  # aggregate id, document -> state


@dataclass(frozen=True)
class Snapshot:
    aggregate_type: str
    aggregate_id: str
    schema_version: int
    sequence: int  # subject sequence of the last event covered
    hash: str  # its chain hash
    state: dict[str, Any]

    def to_json(self) -> bytes:
        return json.dumps(self.__dict__, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Snapshot:
        document = json.loads(data)
        snapshot = cls(**{name: document[name] for name in cls.__dataclass_fields__})
        if not isinstance(snapshot.sequence, int) or not isinstance(snapshot.state, dict):
            raise ValueError("sequence must be an integer and state an object")
        return snapshot


@dataclass
class SnapshotHistory(History):
    """A history that starts after a snapshot: ``events`` are only those after it, and the chain
    continues from the covered event when none came after."""

    base_sequence: int = 0
    base_hash: str = GENESIS_HASH

    @property
    def last_hash(self) -> str:
        return self.events[-1].chain_hash if self.events else self.base_hash

    @property
    def last_sequence(self) -> int:
        return max(super().last_sequence, self.base_sequence)


@dataclass
class Loaded(Generic[S]):
    history: SnapshotHistory
    state: S
    from_snapshot: bool


class Snapshots:
    """Loads aggregates from their latest valid snapshot and writes new ones as they grow."""

    def __init__(self, store: EventStore, every: int = DEFAULT_EVERY, stream: str = SNAPSHOT_STREAM) -> None:
        self.store = store
        self.every = every
        self.stream = stream
        self._writing: set[asyncio.Task[None]] = set()

    async def load(self, codec: Codec[S], aggregate_id: str) -> Loaded[S]:
        subject = subject_for(codec.aggregate_type, aggregate_id)
        last = await self._last_sequence_of(subject)
        snapshot = await self.latest(codec, aggregate_id)
        if snapshot is not None and last:
            loaded = await self._fold(codec, aggregate_id, subject, last, snapshot)
            if loaded is not None:
                return loaded
        return await self._fold(codec, aggregate_id, subject, last, None)  # type: ignore[return-value]

    async def latest(self, codec: Codec[S], aggregate_id: str) -> Snapshot | None:
        """The stored snapshot if it has the aggregate's current schema version, else None."""
        subject = snapshot_subject(codec.aggregate_type, aggregate_id)
        try:
            msg = await self.store.js.get_last_msg(self.stream, subject, direct=True)
        except NotFoundError:
            return None
        except Exception as error:  # noqa: BLE001 - a snapshot is an optimisation: load in full
            log.warning("snapshot_unavailable", subject=subject, error=repr(error))
            return None
        try:
            snapshot = Snapshot.from_json(msg.data)
        except (ValueError, KeyError, TypeError) as error:
            log.error("snapshot_unreadable_ignored", subject=subject, error=str(error)[:300])
            return None
        if (snapshot.aggregate_type, snapshot.aggregate_id) != (codec.aggregate_type, aggregate_id):
            log.error("snapshot_of_another_aggregate_ignored", subject=subject)
            return None
        if snapshot.schema_version != codec.schema_version:
            log.info("snapshot_of_another_schema_skipped", subject=subject, found=snapshot.schema_version,
                     current=codec.schema_version)
            return None
        return snapshot

    async def _fold(self, codec: Codec[S], aggregate_id: str, subject: str, last: int,
                    snapshot: Snapshot | None) -> Loaded[S] | None:
        """Fold the events after ``snapshot`` (all of them without one); None when the snapshot
        does not match the log."""
        history = SnapshotHistory(codec.aggregate_type, aggregate_id, stored_up_to=last)
        head: Head | None = None
        first = 1
        state = codec.empty(aggregate_id)
        if snapshot is not None:
            if snapshot.sequence > last:
                log.error("snapshot_beyond_the_log_ignored", subject=subject, sequence=snapshot.sequence, last=last)
                return None
            head, first = Head(snapshot.sequence, snapshot.hash), snapshot.sequence
            history.base_sequence, history.base_hash = snapshot.sequence, snapshot.hash
            try:
                state = codec.restore(aggregate_id, snapshot.state)
            except Exception as error:  # noqa: BLE001 - a state its code cannot read: load in full
                log.error("snapshot_state_unreadable_ignored", subject=subject, error=repr(error)[:300])
                return None
        async with aclosing(self.store.read_direct(subject, first, last)) as raws:
            loaded = await self._fold_from(codec, subject, raws, snapshot, history, head, state)
        return loaded

    async def _fold_from(self, codec: Codec[S], subject: str, raws: AsyncIterator[RawEvent],
                         snapshot: Snapshot | None, history: SnapshotHistory, head: Head | None,
                         state: S) -> Loaded[S] | None:
        covered = snapshot is None
        async for raw in raws:
            if not covered:
                if raw.sequence != snapshot.sequence or stored_hash(raw.data) != snapshot.hash:
                    log.error("snapshot_not_in_the_log_ignored", subject=subject, sequence=snapshot.sequence,
                              found=raw.sequence)
                    return None
                covered = True
                continue
            try:
                stored = StoredEvent(raw.sequence, Envelope.model_validate_json(raw.data), stored_hash(raw.data))
            except ValidationError as error:
                log.error("unreadable_event_passed_over", sequence=raw.sequence, subject=raw.subject,
                          error=str(error)[:500])
                continue
            if not continues(stored, subject, head):
                continue
            history.events.append(stored)
            head = Head(stored.sequence, stored.chain_hash)
            state = codec.fold(state, stored)
        if not covered:
            log.error("snapshot_not_in_the_log_ignored", subject=subject, sequence=snapshot.sequence)
            return None
        return Loaded(history, state, snapshot is not None)

    def due(self, history: SnapshotHistory) -> bool:
        """Whether the aggregate grew by ``every`` events since the snapshot it was loaded from."""
        return self.every > 0 and len(history.events) >= self.every

    def save_soon(self, codec: Codec[S], history: SnapshotHistory, state: S) -> None:
        """Write a snapshot of ``state`` (the fold of ``history``) in the background."""
        if not history.events:
            return
        covered = history.events[-1]
        snapshot = Snapshot(codec.aggregate_type, history.aggregate_id, codec.schema_version, covered.sequence,
                            covered.chain_hash, codec.dump(state))
        task = asyncio.create_task(self.save(snapshot))
        self._writing.add(task)
        task.add_done_callback(self._writing.discard)

    async def save(self, snapshot: Snapshot) -> None:
        """Store a snapshot; a failure is logged, never raised (the log stays the source of truth)."""
        subject = snapshot_subject(snapshot.aggregate_type, snapshot.aggregate_id)
        try:
            await self.store.js.publish(subject, snapshot.to_json(), stream=self.stream, timeout=self.store.timeout)
            log.info("snapshot_written", subject=subject, sequence=snapshot.sequence)
        except Exception as error:  # noqa: BLE001 - never fail or block a command for a snapshot
            log.error("snapshot_write_failed", subject=subject, sequence=snapshot.sequence, error=repr(error))

    async def flush(self) -> None:
        """Wait for the snapshots being written (tests, shutdown)."""
        while self._writing:
            await asyncio.gather(*list(self._writing))

    async def _last_sequence_of(self, subject: str) -> int:
        try:
            msg = await self.store.js.get_last_msg(self.store.stream, subject, direct=True)
        except NotFoundError:
            return 0
        return msg.seq or 0


async def execute(
    snapshots: Snapshots,
    codec: Codec[S],
    aggregate_id: str,
    decide: Callable[[Loaded[S]], Sequence[Envelope]] | Callable[[Loaded[S]], Awaitable[Sequence[Envelope]]],
    retries: int = 10,
) -> list[StoredEvent]:
    """``store.execute`` loading from snapshots: load → decide → append, again on a conflict;
    then a snapshot when the aggregate has grown by ``snapshots.every`` events."""
    for attempt in range(retries + 1):
        loaded = await snapshots.load(codec, aggregate_id)
        decided = decide(loaded)
        events = await decided if asyncio.iscoroutine(decided) else decided
        before = len(loaded.history.events)
        try:
            stored = await snapshots.store.append(loaded.history, events)
        except ConcurrencyConflict:
            if attempt == retries:
                raise
            await asyncio.sleep(random.uniform(0, min(0.25, 0.004 * 2**attempt)))
            continue
        state = loaded.state
        for event in loaded.history.events[before:]:
            state = codec.fold(state, event)
        if len(loaded.history.events) > before and snapshots.due(loaded.history):
            snapshots.save_soon(codec, loaded.history, state)
        return stored
    raise AssertionError("unreachable")
