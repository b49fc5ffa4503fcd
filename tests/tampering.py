"""What a hostile operator can do to a stored log, and a sealer to seal one, for the tamper-evidence
tests: each runs against a nats-server of its own, so nothing here touches the session's log."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path

from jianfu.compliance.sealer import Sealer, SealerOptions
from jianfu.compliance.standby import cancel_and_wait
from jianfu.events.envelope import Envelope, stored_hash
from jianfu.events.sealing import SEAL_AGGREGATE_ID, SEAL_AGGREGATE_TYPE, SEAL_SUBJECT, heads_hash
from jianfu.events.settings import FixedClock
from jianfu.events.store import EventStore, RawEvent, StoredEvent
from nats.js.client import JetStreamContext
from sqlalchemy.ext.asyncio import create_async_engine

from tests.factories import POLICY
from tests.integration.test_event_store import reminder

DAY = date(2026, 7, 15)


@asynccontextmanager
async def sealing(store: EventStore, clock=None, every: int = 3) -> AsyncIterator[Sealer]:
    """A sealer running beside the test (on SQLite its lock is a no-op: it is the active one)."""
    engine = create_async_engine("sqlite+aiosqlite://")
    sealer = Sealer(engine, store, clock or FixedClock(DAY), POLICY.version, SealerOptions(every=every, tick=0.1))
    task = asyncio.create_task(sealer.run())
    try:
        yield sealer
    finally:
        await cancel_and_wait(task)
        await engine.dispose()


async def seals(store: EventStore, count: int = 0, timeout: float = 10.0) -> list[StoredEvent]:
    """The seals in the log, once there are at least ``count`` of them."""
    deadline = time.monotonic() + timeout
    while True:
        found = (await store.load(SEAL_AGGREGATE_TYPE, SEAL_AGGREGATE_ID)).events
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(found)} seals, not {count}, within {timeout}s")
        await asyncio.sleep(0.05)


async def escalations(store: EventStore, *aggregate_ids: str, each: int = 3) -> None:
    for aggregate_id in aggregate_ids:
        await store.append(await store.load("escalation", aggregate_id), [reminder(aggregate_id, n) for n in range(each)])


async def stored_messages(store: EventStore) -> list[RawEvent]:
    return [raw async for raw in store.read_raw("jf.ev.>", 1, await store.last_sequence())]


def rewritten(messages: list[RawEvent], subject: str, reseal: bool = False) -> list[RawEvent]:
    """The log with every event of ``subject`` changed and its chain recomputed from the first
    event, as someone with the file store or the stream in hand could write it; with ``reseal``,
    every seal recomputed over the new heads as well."""
    out: list[RawEvent] = []
    last: dict[str, str] = {}
    for raw in messages:
        data = raw.data
        if raw.subject == subject or (reseal and raw.subject == SEAL_SUBJECT):
            event = Envelope.model_validate_json(raw.data)
            changed = dict(event.data)
            if raw.subject == SEAL_SUBJECT:
                covered = {m.subject: stored_hash(m.data) for m in out
                           if m.sequence <= changed["up_to_sequence"] and m.subject != SEAL_SUBJECT}
                changed.update(heads_hash=heads_hash(covered), chains=len(covered),
                               previous_seal_hash=last.get(SEAL_SUBJECT, changed["previous_seal_hash"]))
            else:
                changed["recipient"] = "someone else"
            prev = last.get(raw.subject, event.prev_hash)
            data = event.model_copy(update={"data": changed, "prev_hash": prev}).canonical_json()
        last[raw.subject] = stored_hash(data)
        out.append(RawEvent(raw.sequence, raw.subject, data))
    return out


async def republish(js: JetStreamContext, messages: list[RawEvent]) -> None:
    """Into a fresh stream, in order, so each message gets its old sequence back."""
    for raw in messages:
        ack = await js.publish(raw.subject, raw.data, stream="JIANFU_EVENTS")
        assert ack.seq == raw.sequence


def edit_in_file_store(data_dir: Path, old: bytes, new: bytes) -> None:
    """Change bytes of a stored message in place (same length) while the server is stopped."""
    assert len(old) == len(new)
    [block] = (data_dir / "jetstream").rglob("JIANFU_EVENTS/msgs/*.blk")
    stored = block.read_bytes()
    assert stored.count(old) == 1, "the bytes to change must name one message"
    block.write_bytes(stored.replace(old, new))
