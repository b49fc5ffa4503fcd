"""The JetStream event store against a real nats-server (DESIGN.md: the log)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from jianfu.events.envelope import GENESIS_HASH, Actor, verify_chain
from jianfu.events.organisations import OrgKind
from jianfu.events.provisioning import event_stream_config
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.escalation import ReminderIssued
from jianfu.events.store import ConcurrencyConflict, execute
from nats.js.errors import APIError

ACTOR = Actor(org_id="supervision-office", org_kind=OrgKind.SUPERVISION_OFFICE)


def context(command_id: str | None = None) -> CommandContext:
    return CommandContext(
        actor=ACTOR,
        command_id=command_id or str(uuid.uuid4()),
        correlation_id=str(uuid.uuid4()),
        policy_version="test",
        now=datetime(2026, 7, 1, tzinfo=UTC),
    )


def reminder(aggregate_id: str, n: int = 0, command_id: str | None = None):
    data = ReminderIssued(
        violation_id=f"v-{n}", issue_key="k", responsible_org_id="dept-fire",
        issued_by_org_id="supervision-office", recipient="head", summary=f"reminder {n}",
    )
    return context(command_id).event(data, aggregate_id)


async def test_appended_events_load_back_in_order_with_a_valid_hash_chain(store):
    aggregate_id = uuid.uuid4().hex
    history = await store.load("escalation", aggregate_id)
    assert history.events == [] and history.last_sequence == 0

    stored = await store.append(history, [reminder(aggregate_id, 1), reminder(aggregate_id, 2)])
    loaded = await store.load("escalation", aggregate_id)

    assert [e.sequence for e in loaded.events] == [s.sequence for s in stored]
    assert loaded.events[0].envelope.prev_hash == GENESIS_HASH
    assert loaded.events[1].envelope.prev_hash == loaded.events[0].envelope.hash()
    assert verify_chain(loaded.envelopes) is None


async def test_tampered_event_breaks_the_chain(store):
    aggregate_id = uuid.uuid4().hex
    await store.append(await store.load("escalation", aggregate_id), [reminder(aggregate_id, n) for n in range(3)])
    envelopes = (await store.load("escalation", aggregate_id)).envelopes
    tampered = envelopes[1].model_copy(update={"data": {**envelopes[1].data, "summary": "rewritten"}})

    assert verify_chain([envelopes[0], tampered, envelopes[2]]) == 2


async def test_concurrent_append_loses_with_a_conflict_and_the_retried_command_succeeds(store):
    aggregate_id = uuid.uuid4().hex
    first_view = await store.load("escalation", aggregate_id)
    second_view = await store.load("escalation", aggregate_id)
    await store.append(first_view, [reminder(aggregate_id, 1)])

    with pytest.raises(ConcurrencyConflict):
        await store.append(second_view, [reminder(aggregate_id, 2)])

    retried = await execute(store, "escalation", aggregate_id, lambda history: [reminder(aggregate_id, 2)])
    assert retried[0].sequence > first_view.last_sequence
    assert len((await store.load("escalation", aggregate_id)).events) == 2


async def test_many_concurrent_writers_each_append_exactly_once(store):
    aggregate_id = uuid.uuid4().hex

    async def write(n: int):
        return await execute(store, "escalation", aggregate_id, lambda h: [reminder(aggregate_id, n)], retries=20)

    await asyncio.gather(*(write(n) for n in range(8)))
    history = await store.load("escalation", aggregate_id)
    assert sorted(e.envelope.data["violation_id"] for e in history.events) == [f"v-{n}" for n in range(8)]
    assert verify_chain(history.envelopes) is None


async def test_duplicate_append_of_the_same_command_is_not_stored_twice(store):
    aggregate_id, command_id = uuid.uuid4().hex, str(uuid.uuid4())
    first = await store.append(await store.load("escalation", aggregate_id), [reminder(aggregate_id, 1, command_id)])
    # Same command again, from a reloaded aggregate (after the dedupe window this is what saves us).
    again = await store.append(await store.load("escalation", aggregate_id), [reminder(aggregate_id, 1, command_id)])
    assert again[0].sequence == first[0].sequence
    assert len((await store.load("escalation", aggregate_id)).events) == 1


async def test_duplicate_publish_inside_the_window_is_dropped_by_jetstream(store, js):
    aggregate_id, command_id = uuid.uuid4().hex, str(uuid.uuid4())
    event = reminder(aggregate_id, 1, command_id)
    await store.append(await store.load("escalation", aggregate_id), [event])
    ack = await js.publish(event.subject, event.canonical_json(), headers={"Nats-Msg-Id": event.event_id})
    assert ack.duplicate is True
    assert len((await store.load("escalation", aggregate_id)).events) == 1


async def test_append_once_appends_a_deterministic_decision_only_once(store):
    aggregate_id = f"v-{uuid.uuid4().hex}"
    event = reminder(aggregate_id, 1)
    assert await store.append_once(event) is not None
    assert await store.append_once(reminder(aggregate_id, 1)) is None
    assert len((await store.load("escalation", aggregate_id)).events) == 1


async def test_stream_is_provisioned_without_limits_and_refuses_delete_and_purge(js, store):
    info = await js.stream_info("JIANFU_EVENTS")
    expected = event_stream_config()
    assert info.config.deny_delete and info.config.deny_purge
    assert info.config.discard == expected.discard
    assert (info.config.max_msgs, info.config.max_bytes, info.config.max_msgs_per_subject) == (-1, -1, -1)
    assert not info.config.max_age

    aggregate_id = uuid.uuid4().hex
    stored = await store.append(await store.load("escalation", aggregate_id), [reminder(aggregate_id)])
    with pytest.raises(APIError):
        await js.delete_msg("JIANFU_EVENTS", stored[0].sequence)
    with pytest.raises(APIError):
        await js.purge_stream("JIANFU_EVENTS")
    assert len((await store.load("escalation", aggregate_id)).events) == 1


async def test_replay_returns_events_in_stream_order_with_their_sequences(store):
    start = await store.last_sequence() + 1
    ids = [uuid.uuid4().hex for _ in range(3)]
    for n, aggregate_id in enumerate(ids * 2):
        await execute(store, "escalation", aggregate_id, lambda h, n=n, a=aggregate_id: [reminder(a, n)])

    replayed = [e async for e in store.replay(start)]
    sequences = [e.sequence for e in replayed]
    assert sequences == sorted(sequences) and sequences[0] == start
    assert [e.envelope.aggregate_id for e in replayed][:6] == ids * 2
    assert [e.envelope.data["violation_id"] for e in replayed][:6] == [f"v-{n}" for n in range(6)]


async def test_the_chain_hashes_the_bytes_as_stored_so_an_extra_key_breaks_it(tmp_path):
    """Issue 6, finding 5: pydantic ignored unknown keys and the hash was of its re-serialisation,
    so a key written into a stored event passed verify. Now envelopes forbid unknown keys and the
    chain covers the exact bytes."""
    import json as json_

    from jianfu.events.audit import verify_log

    from tests.poison import own_log, requested

    async with own_log(tmp_path / "nats") as log:
        first = requested()
        aggregate = first["aggregate_id"]
        await log.js.publish(f"jf.ev.activity.{aggregate}", json_.dumps({**first, "note": "slipped in"}).encode())
        report = await verify_log(log.store)
    assert [u["sequence"] for u in report.unreadable] == [1] and "note" in report.unreadable[0]["error"]


async def test_append_all_once_pipelines_new_aggregates_and_skips_those_that_exist(store):
    ids = [f"v-{uuid.uuid4().hex}" for _ in range(40)]
    first = await store.append_all_once([reminder(aggregate_id, 1) for aggregate_id in ids[:20]])
    assert all(stored is not None for stored in first)
    assert len({stored.sequence for stored in first}) == 20

    again = await store.append_all_once([reminder(aggregate_id, 1) for aggregate_id in ids])
    assert again[:20] == [None] * 20 and all(stored is not None for stored in again[20:])
    for aggregate_id in ids:
        [loaded] = (await store.load("escalation", aggregate_id)).events
        assert loaded.envelope.prev_hash == GENESIS_HASH


async def test_append_together_stores_one_event_on_each_aggregate_or_none(store):
    first, second = f"t-{uuid.uuid4().hex}", f"t-{uuid.uuid4().hex}"
    together = [reminder(first, 1), reminder(second, 1)]
    stored = await store.append_together([(await store.load("escalation", first), together[0]),
                                          (await store.load("escalation", second), together[1])])
    assert [s.sequence for s in stored] == [stored[0].sequence, stored[0].sequence + 1]
    for aggregate_id in (first, second):
        [loaded] = (await store.load("escalation", aggregate_id)).events
        assert loaded.envelope.prev_hash == GENESIS_HASH

    # One of them moved on since it was loaded: neither is appended.
    stale_first = await store.load("escalation", first)
    await store.append(await store.load("escalation", first), [reminder(first, 2)])
    third = f"t-{uuid.uuid4().hex}"
    with pytest.raises(ConcurrencyConflict):
        await store.append_together([(stale_first, reminder(first, 3)), (await store.load("escalation", third),
                                                                          reminder(third, 1))])
    assert (await store.load("escalation", third)).events == []
    history = await store.load("escalation", first)
    assert len(history.events) == 2 and verify_chain(history.envelopes) is None

    # A retry finds what the first attempt stored and sends nothing again.
    again = await store.append_together([(await store.load("escalation", first), together[0]),
                                         (await store.load("escalation", second), together[1])])
    assert [s.sequence for s in again] == [s.sequence for s in stored]
