"""Snapshots of the G2 escalation (libs/events/snapshots.py) against a real nats-server of this
module's own, so the auditor's check reads a log that holds only what these tests wrote.

A load from a snapshot equals a full load (``EventStore.load`` folded from the first event), also
when the latest snapshot was written by an older schema version and is skipped; a snapshot that
does not match the log is ignored; appends after a snapshot load keep every hash chain valid."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

import nats
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jianfu.cli.embedded_nats import EmbeddedNats
from jianfu.events.audit import verify_log
from jianfu.events.dependencies import Deps
from jianfu.events.envelope import SYSTEM_ACTOR, Envelope
from jianfu.events.provisioning import ALERT_STREAM, SNAPSHOT_STREAM, provision
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.compliance import Rule, ViolationDetected, violation_id
from jianfu.events.settings import SystemClock
from jianfu.events.snapshots import Snapshot, Snapshots, snapshot_subject
from jianfu.events.store import EventStore
from jianfu.notifications.alerts import AlertChannel
from jianfu.notifications.domain.escalation import SCHEMA_VERSION, escalation_id
from jianfu.notifications.handlers import LADDER, on_violation, record_reminder
from structlog.testing import capture_logs

from tests.factories import DIRECTORY, POLICY

RULE = Rule.UNAUTHORIZED_CAMPUS_ENTRY


@pytest.fixture(scope="module")
async def own_js():
    data_dir = Path(tempfile.mkdtemp(prefix="jianfu-test-snapshots-"))
    server = EmbeddedNats(data_dir, sync_always=False).start()
    client = await nats.connect(server.url)
    await provision(client.jetstream())
    yield client.jetstream()
    await client.drain()
    server.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def own_store(own_js) -> EventStore:
    return EventStore(own_js)


@pytest.fixture(scope="module")
def own_deps(own_store) -> Deps:
    return Deps(own_store, DIRECTORY, POLICY, SystemClock())


def a_unit() -> str:
    """A unit the directory does not list (reminded by the supervision office), ours alone."""
    return f"dept-s{uuid.uuid4().hex[:10]}"


def violation(unit: str, n: int) -> tuple[Envelope, ViolationDetected]:
    """The ``n``-th violation of ``unit``'s one issue, as the detector would store it (not
    appended: the ladder only needs the envelope)."""
    found = ViolationDetected(
        violation_id=violation_id(RULE, unit, f"evidence-{n}"), rule=RULE, clause="S3", responsible_org_id=unit,
        issue_key=f"{unit}:{RULE.value}", summary=f"{unit}未经认定开展进校园活动。", evidence={"n": n},
    )
    context = CommandContext(SYSTEM_ACTOR, found.violation_id, str(uuid.uuid4()), POLICY.version,
                             datetime(2026, 10, 21, tzinfo=UTC))
    return context.event(found, found.violation_id), found


async def full_load(store: EventStore, aggregate_id: str):
    """The reference: every event of the aggregate from the first, folded by the ladder's code."""
    history = await store.load("escalation", aggregate_id)
    state = LADDER.empty(aggregate_id)
    for stored in history.events:
        state = LADDER.fold(state, stored)
    return history, state


async def assert_equal_to_full_load(snapshots: Snapshots, aggregate_id: str):
    loaded = await snapshots.load(LADDER, aggregate_id)
    history, state = await full_load(snapshots.store, aggregate_id)
    assert LADDER.dump(loaded.state) == LADDER.dump(state)
    assert (loaded.history.last_sequence, loaded.history.last_hash) == (history.last_sequence, history.last_hash)
    assert [e.sequence for e in loaded.history.events] == [
        e.sequence for e in history.events if e.sequence > loaded.history.base_sequence]
    return loaded


async def write_snapshot_at(snapshots: Snapshots, aggregate_id: str, covered: int, version: int = SCHEMA_VERSION,
                            state: dict | None = None) -> Snapshot:
    """A snapshot of the first ``covered`` events, as the ladder's code of ``version`` would write it."""
    history, _ = await full_load(snapshots.store, aggregate_id)
    folded = LADDER.empty(aggregate_id)
    for stored in history.events[:covered]:
        folded = LADDER.fold(folded, stored)
    last = history.events[covered - 1]
    snapshot = Snapshot("escalation", aggregate_id, version, last.sequence, last.chain_hash,
                        state if state is not None else LADDER.dump(folded))
    await snapshots.save(snapshot)
    return snapshot


async def remind(deps: Deps, snapshots: Snapshots, envelope: Envelope, found: ViolationDetected):
    stored = await record_reminder(envelope, found, deps, snapshots)
    await snapshots.flush()
    return stored


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(deliveries=st.lists(st.integers(0, 11), min_size=1, max_size=24), every=st.integers(1, 6),
       point=st.floats(0, 1), older_last=st.booleans())
async def test_g2_the_snapshot_loader_equals_a_full_load_also_after_an_older_schema_snapshot_is_skipped(
    own_deps, deliveries, every, point, older_last
):
    """Random deliveries of a unit's violations (repeats are redeliveries), snapshots every
    ``every`` reminders; then a snapshot at a random point, and one of an older schema version."""
    unit = a_unit()
    aggregate_id = escalation_id(unit, f"{unit}:{RULE.value}")
    snapshots = Snapshots(own_deps.store, every=every)
    for n in deliveries:
        await remind(own_deps, snapshots, *violation(unit, n))

    loaded = await assert_equal_to_full_load(snapshots, aggregate_id)
    reminded = len(set(deliveries))
    assert loaded.state.escalation.violation_count == reminded
    stored = len((await full_load(own_deps.store, aggregate_id))[0].events)  # steps, and a proposal with the 3rd warning
    assert loaded.from_snapshot == (stored >= every)

    covered = 1 + int(point * (reminded - 1))
    await write_snapshot_at(snapshots, aggregate_id, covered)  # a snapshot at a random point
    assert (await assert_equal_to_full_load(snapshots, aggregate_id)).from_snapshot

    if older_last:  # the latest snapshot has the state's shape of an older release: skipped
        await write_snapshot_at(snapshots, aggregate_id, covered, SCHEMA_VERSION - 1, {"reminded": ["v-1"]})
        assert not (await assert_equal_to_full_load(snapshots, aggregate_id)).from_snapshot

    n = max(deliveries) + 1  # and the next violation is decided on the same state either way
    await remind(own_deps, snapshots, *violation(unit, n))
    assert (await assert_equal_to_full_load(snapshots, aggregate_id)).state.escalation.violation_count == reminded + 1


@pytest.mark.parametrize("lie", ["wrong hash", "beyond the log", "another subject's event", "unreadable state"])
async def test_a_snapshot_that_does_not_match_the_log_is_ignored_and_logged(own_deps, own_js, lie):
    unit = a_unit()
    aggregate_id = escalation_id(unit, f"{unit}:{RULE.value}")
    snapshots = Snapshots(own_deps.store, every=0)
    for n in range(3):
        await remind(own_deps, snapshots, *violation(unit, n))
    history, state = await full_load(own_deps.store, aggregate_id)
    good = Snapshot("escalation", aggregate_id, SCHEMA_VERSION, history.events[1].sequence,
                    history.events[1].chain_hash, LADDER.dump(state))  # claims all three: a lie about the state
    other = await remind(own_deps, snapshots, *violation(a_unit(), 0))  # an event of another escalation
    last_of_stream = (await own_js.stream_info("JIANFU_EVENTS")).state.last_seq
    lies = {
        "wrong hash": Snapshot(**{**good.__dict__, "hash": "f" * 64}),
        "beyond the log": Snapshot(**{**good.__dict__, "sequence": last_of_stream + 1000}),
        "another subject's event": Snapshot(**{**good.__dict__, "sequence": other.sequence}),
        "unreadable state": Snapshot(**{**good.__dict__, "state": {"no": "ladder"}}),
    }
    await snapshots.save(lies[lie])

    with capture_logs() as logs:
        loaded = await assert_equal_to_full_load(snapshots, aggregate_id)
    assert not loaded.from_snapshot
    assert loaded.state.escalation.violation_count == 3
    assert any(line["event"].endswith("_ignored") and line["log_level"] == "error" for line in logs), logs


async def test_appends_after_snapshot_loads_keep_every_chain_valid(own_deps, own_store):
    """With a snapshot after every reminder, each append follows a load with no event after its
    snapshot: the chain continues from the snapshot's hash and the auditor finds nothing wrong."""
    units = [a_unit(), a_unit()]
    snapshots = Snapshots(own_store, every=1)
    for n in range(6):
        for unit in units:
            await remind(own_deps, snapshots, *violation(unit, n))
    for unit in units:
        aggregate_id = escalation_id(unit, f"{unit}:{RULE.value}")
        loaded = await assert_equal_to_full_load(snapshots, aggregate_id)
        assert loaded.from_snapshot and loaded.history.events == []  # the snapshot covers the last event
        history, _ = await full_load(own_store, aggregate_id)
        assert len(history.events) == 7  # G2: a reminder, five warnings, the circulation proposed with the third
        assert all(e.envelope.prev_hash == p.chain_hash for p, e in zip(history.events, history.events[1:]))
    report = await verify_log(own_store)
    assert report.intact, report.first_breaks


async def test_g2_a_redelivery_finds_the_reminder_a_snapshot_covers_and_alerts_once(own_deps, own_js):
    """G2: the process died after the reminder (and its snapshot) were stored, before the alert."""
    unit = a_unit()
    envelope, found = violation(unit, 0)
    stored = await own_deps.store.append_once(envelope)
    snapshots = Snapshots(own_deps.store, every=1)
    reminder = await remind(own_deps, snapshots, envelope, found)
    assert (await snapshots.load(LADDER, reminder.envelope.aggregate_id)).history.events == []

    with capture_logs() as logs:
        await on_violation(stored.envelope, stored.sequence, own_deps, AlertChannel(own_js), snapshots)
        await on_violation(stored.envelope, stored.sequence, own_deps, AlertChannel(own_js), snapshots)
    subject = f"jf.alert.{unit}.reminder.{found.violation_id}"
    info = await own_js.stream_info(ALERT_STREAM, subjects_filter=subject)
    assert (info.state.subjects or {}).get(subject) == 1
    assert [line["event"] for line in logs if line["event"].startswith("alert_")] == [
        "alert_sent", "alert_already_sent"]
    assert [line["alert_id"] for line in logs if line["event"] == "alert_sent"] == [reminder.envelope.event_id]


async def test_a_failed_snapshot_write_is_logged_and_the_reminder_still_recorded(own_deps):
    unit = a_unit()
    snapshots = Snapshots(own_deps.store, every=1, stream="JIANFU_NO_SUCH_STREAM")
    with capture_logs() as logs:
        stored = await remind(own_deps, snapshots, *violation(unit, 0))
    assert stored is not None and stored.envelope.event_type == "ReminderIssued"
    assert [line["event"] for line in logs if line["event"] == "snapshot_write_failed"] == ["snapshot_write_failed"]


async def test_the_snapshot_stream_keeps_one_snapshot_per_aggregate(own_deps, own_js):
    unit = a_unit()
    aggregate_id = escalation_id(unit, f"{unit}:{RULE.value}")
    snapshots = Snapshots(own_deps.store, every=1)
    for n in range(3):
        await remind(own_deps, snapshots, *violation(unit, n))
    subject = snapshot_subject("escalation", aggregate_id)
    info = await own_js.stream_info(SNAPSHOT_STREAM, subjects_filter=subject)
    assert (info.state.subjects or {}).get(subject) == 1
    latest = await snapshots.latest(LADDER, aggregate_id)
    history, _ = await full_load(own_deps.store, aggregate_id)
    assert (latest.sequence, latest.hash) == (history.last_sequence, history.last_hash)
    assert history.events[-1].envelope.causation_id in latest.state["stored_at"]  # by the violation event's id
