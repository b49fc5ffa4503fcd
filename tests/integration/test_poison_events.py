"""A poison event never halts anything (issue 5, DESIGN.md "What the log accepts stays readable").

Events no reader can apply — a NUL in a title, ``amount_yuan: null``, an unknown event type,
bytes that are not JSON — are published straight to a log of the test's own, between good
events. The compliance projector (PostgreSQL), approvals' screening and notifications' ladder
each quarantine every one of them once (a table row, an alert in JIANFU_OPS) and go on with
the events after them; a rebuild still equals the live read model.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from contextlib import asynccontextmanager
from pathlib import Path

import sqlalchemy as sa
from faststream import FastStream
from jianfu.compliance.database import make_engine
from jianfu.compliance.migrations import migrate
from jianfu.compliance.projector import Projector
from jianfu.compliance.read_model import LIVE
from jianfu.compliance.rebuild import read_model_digest, rebuild_read_model
from jianfu.events.errors import RefusalCode
from jianfu.events.reactions import on_events
from jianfu.events.runtime import make_broker
from jianfu.events.settings import Settings
from structlog.testing import capture_logs

from tests.poison import (
    activity_poison,
    alerts_by_sequence,
    consumed,
    detected,
    held,
    publish,
    quarantined_rows,
    requested,
    run_until_consumed,
    violation_poison,
)
from tests.s3_semester import S3Semester, running, settle

JIANFU = str(Path(sys.executable).parent / "jianfu")
FIRE, PRIMARY_1 = "dept-fire", "school-dwk-primary-1"


async def given_poison_between_good_events(store, js) -> tuple[S3Semester, dict[str, int], object]:
    """Good events, the poison of issue 5 plus a report PostgreSQL cannot store, good events again."""
    s = S3Semester(store)
    await s.request("dept-public-security", [PRIMARY_1])
    poison = await activity_poison(js)
    poison["participants_beyond_int4"] = await publish(js, held(participants=3_000_000_000))
    promo = await s.request(FIRE, [PRIMARY_1], title="消防器材推介")
    await s.reject(promo, RefusalCode.COMMERCIAL_OR_FEE, automatic=True)
    return s, poison, promo


async def test_the_projector_quarantines_each_poison_event_once_and_projects_the_events_after_them(log, engine):
    s, poison, promo = await given_poison_between_good_events(log.store, log.js)
    async with running(engine, log.js, log.store) as projector:
        await settle(projector, log.store)  # all of it in one batch: the fast path fails, one by one follows
        more = await activity_poison(log.js)  # and again while it runs
        report = await s.held(PRIMARY_1, FIRE, promo.title, promo.activity_id)  # S3: a refused activity held
        checkpoint = await settle(projector, log.store)

    assert checkpoint == await log.store.last_sequence()
    rows = await quarantined_rows(engine)
    assert set(rows) == {*poison.values(), *more.values()}
    assert rows[poison["unknown_type"]]["event_type"] == "ActivityTeleported"
    assert rows[poison["not_json"]]["event_id"] is None and "unreadable envelope" in rows[poison["not_json"]]["reason"]
    assert "budget.amount_yuan" in rows[poison["amount_null"]]["reason"]
    assert "title" in rows[poison["nul_in_title"]]["reason"] or "0x00" in rows[poison["nul_in_title"]]["reason"]
    assert any(word in rows[poison["participants_beyond_int4"]]["reason"] for word in ("int32", "participants"))
    assert all("\x00" not in row["reason"] for row in rows.values())

    async with engine.connect() as conn:
        a = LIVE.applications
        statuses = dict((await conn.execute(sa.select(a.c.activity_id, a.c.status).where(a.c.semester == s.semester))).all())
        violations = (await conn.execute(sa.select(LIVE.violations.c.rule).where(
            LIVE.violations.c.semester == s.semester))).scalars().all()
        held_reports = await conn.scalar(sa.select(sa.func.count()).select_from(LIVE.held_reports).where(
            LIVE.held_reports.c.report_id == str(report.envelope.data["report_id"])))
    assert statuses[str(promo.activity_id)] == "rejected" and len(statuses) == 2
    assert violations == ["UnauthorizedCampusEntry"] and held_reports == 1

    alerts = await alerts_by_sequence(log.js, "compliance", expect=len(rows),
                                      consumer=projector.projector.options.durable)
    assert set(alerts) == set(rows) and all(len(each) == 1 for each in alerts.values())
    # The detector has no use for most of these events; it sets aside only what it cannot read.
    detector_alerts = await alerts_by_sequence(log.js, "compliance", consumer=projector.detector.options.durable)
    assert set(detector_alerts) == {poison[k] for k in ("unknown_type", "not_json")} | {
        more[k] for k in ("unknown_type", "not_json")}

    live = await read_model_digest(engine)
    audit = await rebuild_read_model(engine, log.store, switch=False)
    assert audit.matched is True and audit.last_sequence == checkpoint
    switched = await rebuild_read_model(engine, log.store)
    assert switched.matched is True and await read_model_digest(engine) == live
    assert set(await quarantined_rows(engine)) == set(rows)


class FirstFetchEmpty:
    """The projector's real pull subscription, except that the first fetch ends with no messages
    (as nats-py's fetch does when the server answers a pull request with a status)."""

    def __init__(self, sub) -> None:
        self.sub, self.fetches = sub, 0

    async def fetch(self, *args, **kwargs):
        self.fetches += 1
        return [] if self.fetches == 1 else await self.sub.fetch(*args, **kwargs)

    async def unsubscribe(self) -> None:
        await self.sub.unsubscribe()


async def test_an_empty_fetch_does_not_restart_the_projector(log, engine, monkeypatch):
    real_consumer = Projector._consumer

    async def consumer(self, start):
        return FirstFetchEmpty(await real_consumer(self, start))

    monkeypatch.setattr(Projector, "_consumer", consumer)
    sequence = await publish(log.js, requested())
    with capture_logs() as logs:
        async with running(engine, log.js, log.store) as projector:
            await projector.wait_for(sequence)
    assert [line for line in logs if line["event"] == "projector_restarting"] == []


async def test_approvals_screening_quarantines_poison_and_still_refuses_the_commercial_request_after_it(log, tmp_path):
    from jianfu.approvals.app import build

    poison = await activity_poison(log.js)
    # S3: commercial content is never admitted; screening refuses it without anyone looking.
    commercial = requested(commercial_content=True)
    last = await publish(log.js, commercial)
    await run_until_consumed(log, build, "approvals-screening", last)

    [refusal] = [e.envelope.data for e in (await log.store.load("activity", commercial["aggregate_id"])).events
                 if e.envelope.event_type == "ActivityRejected"]
    assert refusal["activity_id"] == commercial["data"]["activity_id"]
    assert (refusal["refusal_code"], refusal["automatic"]) == ("COMMERCIAL_OR_FEE", True)
    alerts = await alerts_by_sequence(log.js, "approvals", expect=len(poison))
    assert set(alerts) == set(poison.values()) and all(len(each) == 1 for each in alerts.values())
    assert {a[0].consumer for a in alerts.values()} == {"approvals-screening"}


async def test_the_notifications_ladder_quarantines_poison_and_reminds_about_the_violation_after_it(log):
    from jianfu.notifications.app import build

    poison = await violation_poison(log.js)
    violation = detected()
    last = await publish(log.js, violation)
    await run_until_consumed(log, build, "notifications-ladder", last)

    reminders = [e async for e in log.store.replay(last + 1) if e.envelope.event_type == "ReminderIssued"]
    assert [r.envelope.data["violation_id"] for r in reminders] == [violation["data"]["violation_id"]]
    alerts = await alerts_by_sequence(log.js, "notifications", expect=len(poison))
    assert set(alerts) == set(poison.values()) and all(len(each) == 1 for each in alerts.values())


@asynccontextmanager
async def reacting(log, durable: str, handler, max_deliveries: int):
    """One event reaction of approvals over one good event; yields its sequence once consumed."""
    settings = Settings(nats_url=log.url)
    broker = make_broker(settings)
    on_events(broker, settings, "jf.ev.activity.>", durable, handler, service="approvals",
              max_deliveries=max_deliveries)
    app = FastStream(broker)
    sequence = await publish(log.js, requested())
    await app.start()
    try:
        await consumed(log.js, durable, sequence)
        yield sequence
    finally:
        await app.stop()


async def test_a_handler_failing_for_no_known_reason_gives_up_after_max_deliveries(log):
    calls: list[int] = []

    async def broken(envelope, sequence):
        calls.append(sequence)
        raise RuntimeError("a bug, every time")

    async with reacting(log, "broken", broken, max_deliveries=3) as sequence:
        await asyncio.sleep(1.2)  # a fourth delivery would come within 1 s
    assert calls == [sequence] * 3
    [[alert]] = (await alerts_by_sequence(log.js, "approvals", expect=1)).values()
    assert alert.reason == "gave up after 3 deliveries: RuntimeError: a bug, every time"


async def test_a_transient_failure_is_retried_and_never_quarantined(log):
    calls: list[int] = []

    async def flaky(envelope, sequence):
        calls.append(sequence)
        if len(calls) <= 3:
            raise ConnectionError("dependency down")

    async with reacting(log, "flaky", flaky, max_deliveries=2) as sequence:
        pass
    assert calls == [sequence] * 4
    assert await alerts_by_sequence(log.js, "approvals") == {}


async def test_jianfu_status_lists_consumers_and_quarantined_events(log, database, engine):
    _, poison, _ = await given_poison_between_good_events(log.store, log.js)
    async with running(engine, log.js, log.store, durable="status-projector") as projector:
        checkpoint = await settle(projector, log.store)

    env = {**os.environ, "JIANFU_NATS_URL": log.url, "JIANFU_DATABASE_URL": database,
           "JIANFU_LOG_LEVEL": "WARNING"}
    result = subprocess.run([JIANFU, "status"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["stream"]["last_sequence"] == checkpoint
    [consumer] = [c for c in status["consumers"] if c["durable"] == "status-projector"]
    assert consumer["pending"] == 0 and consumer["ack_pending"] == 0
    by_projector = [a["stream_sequence"] for a in status["quarantined"] if a["consumer"] == "status-projector"]
    assert sorted(by_projector) == sorted(poison.values())
    assert [row["sequence"] for row in status["compliance_quarantined_events"]] == sorted(poison.values())
    unreadable = sorted(poison[k] for k in ("unknown_type", "not_json"))  # all the detector cannot pass by
    assert [row["sequence"] for row in status["detector_quarantined_events"]] == unreadable


async def test_the_embedded_sqlite_read_model_quarantines_the_same_way(log, tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'compliance.db'}"
    await migrate(url)
    engine = make_engine(url)
    try:
        s = S3Semester(log.store)
        poison = await activity_poison(log.js)
        after = await s.request(FIRE, [PRIMARY_1])
        async with running(engine, log.js, log.store) as projector:
            await settle(projector, log.store)
        assert set(await quarantined_rows(engine)) == set(poison.values())
        async with engine.connect() as conn:
            a = LIVE.applications
            assert await conn.scalar(sa.select(a.c.status).where(a.c.activity_id == str(after.activity_id))) == "requested"
        audit = await rebuild_read_model(engine, log.store, switch=False)
        assert audit.matched is True
    finally:
        await engine.dispose()
