"""Tamper evidence an auditor can rely on (issue 6): whatever is done to the stored log, `jianfu
verify` names it, by kind, without crashing. Each test has a nats-server of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import nats
from jianfu.cli.embedded_nats import EmbeddedNats
from jianfu.events.audit import verify_log
from jianfu.events.provisioning import event_stream_config, provision
from jianfu.events.store import EventStore

from tests.integration.test_event_store import reminder
from tests.poison import own_log, publish, requested
from tests.tampering import edit_in_file_store, escalations, republish, rewritten, sealing, seals, stored_messages


async def test_a_clean_log_with_seals_is_intact_and_names_its_last_seal(tmp_path):
    async with own_log(tmp_path / "nats") as log:
        await escalations(log.store, "esc-a", "esc-b", "esc-c")
        async with sealing(log.store, every=4):
            found = await seals(log.store, 2)
        report = await verify_log(log.store)
    assert report.intact and report.as_json()["first_breaks"] == {}
    assert (report.events, report.seals, report.sealed_up_to) == (11, 2, 8)
    assert report.last_seal == {"sequence": found[-1].sequence, "seal_number": 2, "up_to_sequence": 8,
                                "hash": found[-1].chain_hash}


async def test_a_message_edited_in_the_file_store_is_named(tmp_path):
    """Stop the server, change bytes of a stored event (same length), start it again."""
    folder = tmp_path / "nats"
    server = EmbeddedNats(folder).start()
    try:
        nc = await nats.connect(server.url)
        await provision(nc.jetstream())
        store = EventStore(nc.jetstream())
        await escalations(store, "esc-a", "esc-b")
        event_id = (await store.load("escalation", "esc-a")).events[1].envelope.event_id
        stored_id = f'"event_id":"{event_id}"'.encode()  # in the event, not in its Nats-Msg-Id header
        await nc.close()
        server.stop()
        edit_in_file_store(folder, stored_id, stored_id.replace(event_id[:8].encode(), b"deadbeef"))
        server.start()
        nc = await nats.connect(server.url)
        report = await verify_log(EventStore(nc.jetstream()))
        await nc.close()
    finally:
        server.stop()
    # The server no longer returns a message whose bytes fail its own checksum: a gap where it stood,
    # and the next event of its chain no longer follows from what is stored.
    assert not report.intact
    assert report.first_breaks["gaps"] == {"first_missing": 2, "last_missing": 2}
    assert report.first_breaks["broken"]["sequence"] == 3 and report.broken[0]["subject"] == "jf.ev.escalation.esc-a"


async def test_a_forged_event_with_a_wrong_prev_hash_is_named_one_with_the_right_hash_continues_its_chain(tmp_path):
    async with own_log(tmp_path / "nats") as log:
        await escalations(log.store, "esc-a", "esc-b")
        [*_, head] = (await log.store.load("escalation", "esc-a")).events
        good = reminder("esc-a", 7).model_copy(update={"prev_hash": head.chain_hash})
        wrong = reminder("esc-b", 7).model_copy(update={"prev_hash": "f" * 64})
        for forged in (good, wrong):
            await log.js.publish(forged.subject, forged.canonical_json())
        elsewhere = requested()  # claims an activity, stored elsewhere
        misplaced = await publish(log.js, elsewhere, "jf.ev.elsewhere.x1")
        report = await verify_log(log.store)
    assert report.broken == [{"sequence": 8, "subject": "jf.ev.escalation.esc-b", "event_id": wrong.event_id}]
    assert report.misplaced == [{"sequence": misplaced, "subject": "jf.ev.elsewhere.x1",
                                 "event_id": elsewhere["event_id"],
                                 "aggregate_subject": f"jf.ev.activity.{elsewhere['aggregate_id']}"}]


async def test_a_whole_chain_rewritten_with_every_hash_recomputed_is_caught_by_the_next_seal(tmp_path):
    async with own_log(tmp_path / "original") as original:
        await escalations(original.store, "esc-a", "esc-b")
        async with sealing(original.store, every=6):
            [seal] = await seals(original.store, 1)
        messages = await stored_messages(original.store)
    async with own_log(tmp_path / "copy") as copy:
        await republish(copy.js, rewritten(messages, "jf.ev.escalation.esc-a"))
        report = await verify_log(copy.store)
    assert report.counts == {"gaps": 0, "broken": 0, "misplaced": 0, "unreadable": 0, "bad_seals": 1}
    assert report.bad_seals[0]["sequence"] == seal.sequence and "heads_hash" in report.bad_seals[0]["problem"]


async def test_a_log_rewritten_seals_and_all_is_caught_by_a_seal_the_auditor_kept(tmp_path):
    async with own_log(tmp_path / "original") as original:
        await escalations(original.store, "esc-a", "esc-b")
        async with sealing(original.store, every=3):
            kept = (await seals(original.store, 2))[-1].chain_hash  # `last_seal.hash` of an earlier check
        messages = await stored_messages(original.store)
    async with own_log(tmp_path / "copy") as copy:
        await republish(copy.js, rewritten(messages, "jf.ev.escalation.esc-a", reseal=True))
        unaware = await verify_log(copy.store)
        report = await verify_log(copy.store, known_seals=[kept])
    assert unaware.intact, "a rewrite that recomputes every seal holds together on its own"
    assert not report.intact and report.unknown_seals == [kept]


async def test_messages_deleted_with_operator_rights_leave_named_gaps(tmp_path):
    """A stream made without deny_delete (the provisioned one refuses deletes, and deny_delete
    cannot be turned off): an operator deletes one event in the middle and the last one."""
    with EmbeddedNats(tmp_path / "nats") as server:
        nc = await nats.connect(server.url)
        js = nc.jetstream()
        await js.add_stream(event_stream_config().evolve(deny_delete=False))
        store = EventStore(js)
        await escalations(store, "esc-a", "esc-b")
        assert await js.delete_msg("JIANFU_EVENTS", 2) and await js.delete_msg("JIANFU_EVENTS", 6)
        report = await verify_log(store)
        done = subprocess.run([sys.executable, "-m", "jianfu.cli.main", "verify"], capture_output=True, text=True,
                              env={**os.environ, "JIANFU_NATS_URL": server.url}, timeout=60)
        await nc.close()
    assert report.gaps == [{"first_missing": 2, "last_missing": 2}, {"first_missing": 6, "last_missing": 6}]
    printed = json.loads(done.stdout)
    assert done.returncode == 1 and printed["intact"] is False and "Traceback" not in done.stderr
    assert printed["first_breaks"]["gaps"] == {"first_missing": 2, "last_missing": 2}


async def test_jianfu_verify_exits_0_on_an_intact_log_holding_the_seal_the_auditor_kept(tmp_path):
    async with own_log(tmp_path / "nats") as log:
        await escalations(log.store, "esc-a")
        async with sealing(log.store, every=3):
            [seal] = await seals(log.store, 1)
        env = {**os.environ, "JIANFU_NATS_URL": log.url}
        kept = subprocess.run([sys.executable, "-m", "jianfu.cli.main", "verify", "--seal", seal.chain_hash],
                              capture_output=True, text=True, env=env, timeout=60)
        stranger = subprocess.run([sys.executable, "-m", "jianfu.cli.main", "verify", "--seal", "ab" * 32],
                                  capture_output=True, text=True, env=env, timeout=60)
    assert kept.returncode == 0 and json.loads(kept.stdout)["last_seal"]["hash"] == seal.chain_hash
    assert stranger.returncode == 1 and json.loads(stranger.stdout)["unknown_seals"] == ["ab" * 32]


async def test_a_deleted_stream_is_reported_not_intact_rather_than_raised(tmp_path):
    async with own_log(tmp_path / "nats") as log:
        await escalations(log.store, "esc-a")
        await log.js.delete_stream("JIANFU_EVENTS")  # the operator's right
        report = await verify_log(log.store)
    assert not report.intact and report.incomplete == "stream JIANFU_EVENTS not found"
