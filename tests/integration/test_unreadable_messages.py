"""A stored message that is not an envelope (written by hand, by an older version, or around
the store) halts nothing: the auditor's check names it and goes on, and commands on the
aggregate it sits in still work (issue 5: whatever the log holds can be read and verified)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

from jianfu.events.audit import verify_log
from jianfu.events.envelope import Envelope
from jianfu.events.store import execute

from tests.poison import own_log, requested

NOT_AN_ENVELOPE = [b"\xff\xfe not json", b'{"ok": true, "correlation_id": "a reply, not an event"}']


async def test_verify_names_every_unreadable_message_and_checks_the_rest(tmp_path):
    async with own_log(tmp_path / "nats") as log:
        good = requested()
        await log.js.publish(f"jf.ev.activity.{good['aggregate_id']}", json.dumps(good).encode())
        for n, data in enumerate(NOT_AN_ENVELOPE):
            await log.js.publish(f"jf.ev.activity.x{n}", data)
        report = await verify_log(log.store)
    assert report.events == 3 and report.aggregates == 1 and not report.broken
    assert [(u["sequence"], u["subject"]) for u in report.unreadable] == [(2, "jf.ev.activity.x0"),
                                                                         (3, "jf.ev.activity.x1")]
    assert report.intact is False


async def test_jianfu_verify_reports_instead_of_crashing(tmp_path):
    async with own_log(tmp_path / "nats") as log:
        await log.js.publish("jf.ev.activity.x", NOT_AN_ENVELOPE[1])
        done = subprocess.run([sys.executable, "-m", "jianfu.cli.main", "verify"], capture_output=True, text=True,
                              env={**os.environ, "JIANFU_NATS_URL": log.url}, timeout=60)
    report = json.loads(done.stdout)
    assert done.returncode == 1 and report["intact"] is False and "Traceback" not in done.stderr
    assert report["unreadable"][0]["sequence"] == 1 and report["unreadable"][0]["subject"] == "jf.ev.activity.x"


async def test_a_command_on_an_aggregate_holding_an_unreadable_message_still_works(tmp_path):
    async with own_log(tmp_path / "nats") as log:
        good = requested()
        subject = f"jf.ev.activity.{good['aggregate_id']}"
        await log.js.publish(subject, json.dumps(good).encode())
        await log.js.publish(subject, NOT_AN_ENVELOPE[1])  # e.g. a reply steered into the log
        history = await log.store.load("activity", good["aggregate_id"])
        assert [e.sequence for e in history.events] == [1] and history.last_sequence == 2
        follow_up = Envelope.model_validate({**good, "event_id": str(uuid.uuid4())})
        [stored] = await execute(log.store, "activity", good["aggregate_id"], lambda loaded: [follow_up])
    assert stored.sequence == 3 and stored.envelope.prev_hash == history.events[0].chain_hash  # of the bytes as stored


async def test_a_message_nested_100000_deep_is_quarantined_and_the_projector_goes_on(tmp_path, pg_database):
    """Found by the second hostile probe: the quarantine's own look into the message raised
    RecursionError, and the projector restarted on it for ever."""
    import sqlalchemy as sa
    from jianfu.compliance.database import make_engine
    from jianfu.compliance.migrations import migrate
    from jianfu.compliance.read_model import LIVE

    from tests.conftest import fresh_database
    from tests.s3_semester import running, settle

    async with own_log(tmp_path / "nats") as log, fresh_database("deep") as url:
        await log.js.publish("jf.ev.activity.deep", b"[" * 100_000 + b"]" * 100_000)
        good = requested()
        await log.js.publish(f"jf.ev.activity.{good['aggregate_id']}", json.dumps(good).encode())
        await migrate(url)
        engine = make_engine(url)
        try:
            async with running(engine, log.js, log.store) as projector:
                assert await settle(projector, log.store) == 2
            async with engine.connect() as conn:
                assert list(await conn.scalars(sa.select(LIVE.quarantined_events.c.sequence))) == [1]
        finally:
            await engine.dispose()


async def test_a_forged_event_in_an_aggregate_is_passed_over_and_the_next_append_chains_onto_the_last_good_one(
        tmp_path):
    async with own_log(tmp_path / "nats") as log:
        good = requested()
        subject = f"jf.ev.activity.{good['aggregate_id']}"
        await log.js.publish(subject, Envelope.model_validate(good).canonical_json())
        forged = Envelope.model_validate({**good, "event_id": str(uuid.uuid4()), "prev_hash": "f" * 64})
        await log.js.publish(subject, forged.canonical_json())
        history = await log.store.load("activity", good["aggregate_id"])
        assert [e.sequence for e in history.events] == [1] and history.last_sequence == 2
        follow_up = Envelope.model_validate({**good, "event_id": str(uuid.uuid4())})
        [stored] = await execute(log.store, "activity", good["aggregate_id"], lambda loaded: [follow_up])
    assert stored.sequence == 3 and stored.envelope.prev_hash == history.events[0].chain_hash
