"""Events are checked as they are read (issue 6, finding 4; DESIGN.md "Tamper evidence").

Every consumer checks, before it acts on an event, that the message's subject is its envelope's
``jf.ev.<aggregate_type>.<aggregate_id>`` and that its ``prev_hash`` is the stored hash of the
aggregate's previous event (GENESIS for the first). Forged events are published straight to a
log of the test's own: with a made-up ``prev_hash``, with GENESIS on an aggregate that has
events, and on ``jf.ev.elsewhere.x1`` claiming another semester. The compliance projector
(PostgreSQL), approvals' screening and notifications' ladder quarantine each of them and alert
on ``jf.sys.alert.<service>.quarantine``; the good events after them are applied, the chain
heads survive a restart and a rebuild still equals the live read model.
"""

from __future__ import annotations

import json
import uuid

import sqlalchemy as sa
from jianfu.compliance.checkpoint import apply_batch, ensure_checkpoint, read
from jianfu.compliance.read_model import LIVE
from jianfu.compliance.rebuild import read_model_digest, rebuild_read_model
from jianfu.events.envelope import GENESIS_HASH, stored_hash
from jianfu.events.heads import ChainHeads
from jianfu.events.store import ALL_EVENTS

from tests.poison import (
    STREAM,
    alerts_by_sequence,
    detected,
    quarantined_rows,
    requested,
    run_until_consumed,
    subject_of,
)
from tests.s3_semester import S3Semester, listing, running, settle

FIRE, POLICE, PRIMARY_1 = "dept-fire", "dept-public-security", "school-dwk-primary-1"
MADE_UP = "f" * 64


async def publish(js, envelope: dict, subject: str | None = None) -> tuple[int, str]:
    """Straight to the stream, past the store; returns the sequence and the stored hash."""
    data = json.dumps(envelope, ensure_ascii=False).encode()
    return (await js.publish(subject or subject_of(envelope), data, stream=STREAM)).seq, stored_hash(data)


def certification(semester: S3Semester, request, prev_hash: str = GENESIS_HASH) -> dict:
    """An ActivityCertified for ``semester`` as the bureau's approvals would write it: an event of
    the activity, after its request (so GENESIS is a forgery too)."""
    from jianfu.events.schemas.campus_entry import ActivityCertified

    event = ActivityCertified(activity_id=request.activity_id, applicant_org_id=request.applicant_org_id,
                              listing=listing(request), semester=semester.semester)
    envelope = semester._context("edu-bureau").event(event, str(request.activity_id)).model_dump(mode="json")
    return {**envelope, "prev_hash": prev_hash}


async def status_of(engine, request) -> str | None:
    a = LIVE.applications
    async with engine.connect() as conn:
        return await conn.scalar(sa.select(a.c.status).where(a.c.activity_id == str(request.activity_id)))


async def registered(engine, violation_id: str) -> bool:
    v = LIVE.violations
    async with engine.connect() as conn:
        return bool(await conn.scalar(sa.select(sa.func.count()).where(v.c.violation_id == violation_id)))


async def heads(engine) -> dict[str, tuple[int, str]]:
    t = LIVE.chain_heads
    async with engine.connect() as conn:
        return {row.subject: (row.sequence, row.hash) for row in await conn.execute(sa.select(t))}


async def test_the_projector_quarantines_broken_chains_and_forged_subjects_and_applies_what_follows(log, engine):
    good = S3Semester(log.store)
    wrong_chain, elsewhere = S3Semester(log.store), S3Semester(log.store)
    request = await good.request(FIRE, [PRIMARY_1])
    claimed_a = await wrong_chain.request(POLICE, [PRIMARY_1])
    claimed_b = await elsewhere.request(POLICE, [PRIMARY_1])
    forged = {
        "made_up_prev_hash": (await publish(log.js, certification(wrong_chain, claimed_a, MADE_UP)))[0],
        # S3: a certified item is listed; one forged on another subject must not list it.
        "elsewhere": (await publish(log.js, certification(elsewhere, claimed_b), "jf.ev.elsewhere.x1"))[0],
    }
    violation = {**detected(), "prev_hash": MADE_UP}
    forged["violation"] = (await publish(log.js, violation))[0]
    await good.certify(request)  # chained by the store: applied

    async with running(engine, log.js, log.store) as projector:
        await settle(projector, log.store)

    assert await status_of(engine, claimed_a) == "requested" and await status_of(engine, claimed_b) == "requested"
    assert not await registered(engine, violation["data"]["violation_id"])
    assert await status_of(engine, request) == "certified"
    rows = await quarantined_rows(engine)
    assert set(rows) == set(forged.values())
    assert "prev_hash" in rows[forged["made_up_prev_hash"]]["reason"]
    assert "prev_hash" in rows[forged["violation"]]["reason"]
    assert "subject" in rows[forged["elsewhere"]]["reason"]
    assert rows[forged["elsewhere"]]["subject"] == "jf.ev.elsewhere.x1"
    alerts = await alerts_by_sequence(log.js, "compliance", expect=len(forged))
    assert set(alerts) == set(forged.values())
    assert all(alerts[seq][0].reason == rows[seq]["reason"] for seq in forged.values())


async def test_the_chain_heads_survive_a_restart_and_stay_at_the_last_good_event(log, engine):
    good = S3Semester(log.store)
    first = await good.request(FIRE, [PRIMARY_1])
    await good.certify(first)
    async with running(engine, log.js, log.store) as projector:
        await settle(projector, log.store)
    activity_subject = f"jf.ev.activity.{first.activity_id}"
    last_good = (await log.store.load("activity", str(first.activity_id))).events[-1]
    assert last_good.envelope.event_type == "ActivityCertified"
    assert (await heads(engine))[activity_subject] == (last_good.sequence, last_good.chain_hash)

    # A new projector knows only what the read model kept: GENESIS on an activity with events is forged.
    second = await good.request(POLICE, [PRIMARY_1])
    restarted, _ = await publish(log.js, certification(good, second, GENESIS_HASH))
    after = await good.request(FIRE, [PRIMARY_1])
    async with running(engine, log.js, log.store) as projector:
        await settle(projector, log.store)

    assert await status_of(engine, second) == "requested" and await status_of(engine, after) == "requested"
    assert "prev_hash" in (await quarantined_rows(engine))[restarted]["reason"]
    assert (await heads(engine))[activity_subject] == (last_good.sequence, last_good.chain_hash)

    live, live_heads = await read_model_digest(engine), await heads(engine)
    audit = await rebuild_read_model(engine, log.store, switch=False)
    assert audit.matched is True
    switched = await rebuild_read_model(engine, log.store)
    assert switched.matched is True and await read_model_digest(engine) == live
    assert await heads(engine) == live_heads  # the rebuild folded the same chains


async def test_a_batch_reads_and_writes_the_chain_heads_in_one_statement_each_whatever_its_size(log, engine):
    s = S3Semester(log.store)
    for _ in range(3 + 30):
        await s.request(FIRE, [PRIMARY_1])
    events = [read(raw.sequence, raw.subject, raw.data)
              async for raw in log.store.read_raw(ALL_EVENTS, 1, await log.store.last_sequence())]
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        if "chain_heads" in statement:
            statements.append(statement.split()[0].upper())

    async with engine.begin() as conn:
        await ensure_checkpoint(conn, LIVE)
    sa.event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        counts = []
        for batch in (events[:3], events[3:]):
            statements.clear()
            await apply_batch(engine, LIVE, batch)
            counts.append(sorted(statements))
    finally:
        sa.event.remove(engine.sync_engine, "before_cursor_execute", seen)
    assert counts == [["INSERT", "SELECT"], ["INSERT", "SELECT"]]
    assert len(await heads(engine)) == 33


async def test_approvals_screening_acts_on_no_forged_request_and_reads_the_head_from_the_log_after_a_restart(log):
    # S3: commercial content is refused by screening, without anyone looking.
    made_up_request = {**requested(commercial_content=True), "prev_hash": MADE_UP}
    made_up, _ = await publish(log.js, made_up_request)
    claimed = requested(commercial_content=True)
    mismatched, _ = await publish(log.js, claimed, f"jf.ev.activity.{uuid.uuid4()}")
    harmless = requested()
    _, harmless_hash = await publish(log.js, harmless)
    good = requested(commercial_content=True)
    last, _ = await publish(log.js, good)
    await screening(log, last)

    # Restarted, screening keeps no heads: it reads the aggregate's earlier events from the log.
    on_harmless = {**requested(commercial_content=True), "aggregate_id": harmless["aggregate_id"]}
    genesis_again, _ = await publish(log.js, on_harmless)
    continued = {**requested(commercial_content=True), "aggregate_id": harmless["aggregate_id"],
                 "prev_hash": harmless_hash}
    last, _ = await publish(log.js, continued)
    await screening(log, last)

    refused = {e.envelope.data["activity_id"] for envelope in (made_up_request, claimed, harmless, good)
               for e in (await log.store.load("activity", envelope["aggregate_id"])).events
               if e.envelope.event_type == "ActivityRejected"}
    assert refused == {good["data"]["activity_id"], continued["data"]["activity_id"]}
    alerts = await alerts_by_sequence(log.js, "approvals", expect=3)
    assert set(alerts) == {made_up, mismatched, genesis_again}
    assert "prev_hash" in alerts[made_up][0].reason and "prev_hash" in alerts[genesis_again][0].reason
    assert "subject" in alerts[mismatched][0].reason


async def screening(log, last: int) -> None:
    from jianfu.approvals.app import build

    await run_until_consumed(log, build, "approvals-screening", last)


async def test_a_forged_violation_sends_no_reminder_and_the_good_one_after_it_does(log):
    from jianfu.notifications.app import build

    # G2: a reminder goes to a unit for a violation the detector recorded, never for a forged one.
    made_up, _ = await publish(log.js, {**detected(), "prev_hash": MADE_UP})
    claimed = detected()
    mismatched, _ = await publish(log.js, claimed, f"jf.ev.violation.{uuid.uuid4().hex}")
    good = detected()
    last, _ = await publish(log.js, good)
    await run_until_consumed(log, build, "notifications-ladder", last)

    reminders = [e async for e in log.store.replay(last + 1) if e.envelope.event_type == "ReminderIssued"]
    assert [r.envelope.data["violation_id"] for r in reminders] == [good["data"]["violation_id"]]
    alerts = await alerts_by_sequence(log.js, "notifications", expect=2)
    assert set(alerts) == {made_up, mismatched}
    assert "prev_hash" in alerts[made_up][0].reason and "subject" in alerts[mismatched][0].reason


class CountingGets:
    """The JetStream context, counting direct gets: what a reaction's chain check costs."""

    def __init__(self, js) -> None:
        self.js, self.gets = js, 0

    async def get_msg(self, *args, **kwargs):
        self.gets += 1
        return await self.js.get_msg(*args, **kwargs)


async def test_a_reaction_reads_only_the_messages_before_an_event_it_has_not_seen(log):
    first = requested()
    _, h1 = await publish(log.js, first)
    await publish(log.js, requested())  # another aggregate, in between
    a2, h2 = await publish(log.js, {**requested(), "aggregate_id": first["aggregate_id"], "prev_hash": h1})
    a3, _ = await publish(log.js, {**requested(), "aggregate_id": first["aggregate_id"]})  # GENESIS again
    last = {**requested(), "aggregate_id": first["aggregate_id"], "prev_hash": h2}
    a4, _ = await publish(log.js, last)
    other = requested()
    b, _ = await publish(log.js, other)
    subject, data = subject_of(first), json.dumps(last, ensure_ascii=False).encode()
    heads, js = ChainHeads(STREAM, capacity=1), CountingGets(log.js)

    assert await heads.verdict(js, a4, subject, data) is None and js.gets == 3  # a1, a2, a3: the head is a2
    assert "prev_hash" in await heads.verdict(js, a3, subject, b"") and js.gets == 3  # a redelivery: from memory
    other_data = json.dumps(other, ensure_ascii=False).encode()
    assert await heads.verdict(js, b, subject_of(other), other_data) is None and js.gets == 4  # only b itself
    # Capacity 1: the first subject was dropped, so it is read from sequence 1 again, up to a2.
    a2_data = (await log.js.get_msg(STREAM, a2)).data
    assert await heads.verdict(js, a2, subject, a2_data) is None and js.gets == 6
