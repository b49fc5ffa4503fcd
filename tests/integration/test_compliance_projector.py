"""The compliance projector against a real nats-server and a real PostgreSQL: S3 read models,
exactly-once effects, violations appended once, rebuilds equal to the live model, hot standby."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import AsyncExitStack
from datetime import date

import pytest
import sqlalchemy as sa
from jianfu.compliance.checkpoint import apply_batch
from jianfu.compliance.database import make_engine
from jianfu.compliance.migrations import migrate
from jianfu.compliance.read_model import LIVE
from jianfu.compliance.rebuild import (
    read_model_digest,
    rebuild,
    rebuild_read_model,
    rebuild_with,
)
from jianfu.events.errors import RefusalCode
from jianfu.events.schemas.campus_entry import Route
from jianfu.events.schemas.compliance import Rule
from jianfu.events.schemas.secondments import SecondmentEndingSoon
from jianfu.events.settings import Settings

from tests.conftest import fresh_database
from tests.integration.test_event_store import context
from tests.s3_semester import S3Semester, running, settle

PRIMARY_1, PRIMARY_2, MIDDLE_1 = "school-dwk-primary-1", "school-dwk-primary-2", "school-dwk-middle-1"
POLICE, FIRE, HEALTH, YOUTH = "dept-public-security", "dept-fire", "dept-health", "youth-league"


@pytest.fixture(scope="module")
async def database_url(pg_database):
    async with fresh_database("projector") as url:
        await migrate(url)
        yield url


@pytest.fixture(scope="module")
async def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def projector(engine, js, store):
    async with running(engine, js, store, durable=f"projector-{uuid.uuid4().hex[:6]}") as projector:
        yield projector


async def rows(engine, table, **where) -> list[dict]:
    async with engine.connect() as conn:
        result = await conn.execute(sa.select(table).where(*(table.c[k] == v for k, v in where.items())))
        return [dict(r._mapping) for r in result]


async def semester_with_every_outcome(store) -> tuple[S3Semester, dict]:
    """Given: regular, urgent and exempt admissions, a refusal, the list, and four reports."""
    s = S3Semester(store)
    legal = await s.request(POLICE, [PRIMARY_1, PRIMARY_2], title="法治进校园：防电信诈骗宣讲")
    flu = await s.request(HEALTH, [PRIMARY_1], route=Route.URGENT, title="流感防控知识讲座")
    city = await s.request(YOUTH, [PRIMARY_1], route=Route.EXEMPT, title="文明城市创建宣讲")
    promo = await s.request(FIRE, [PRIMARY_1], title="消防器材推介")
    await s.certify(legal)
    await s.certify(flu)
    await s.exempt(city)
    await s.reject(promo, RefusalCode.COMMERCIAL_OR_FEE, automatic=True)
    await s.publish(legal, flu, city)
    reports = {
        "legal_held": await s.held(PRIMARY_1, POLICE, legal.title, legal.activity_id),
        "legal_held_without_id": await s.held(PRIMARY_2, POLICE, "法治进校园: 防电信诈骗宣讲"),
        "promo_held": await s.held(PRIMARY_1, FIRE, promo.title, promo.activity_id),
        "promo_held_again": await s.held(PRIMARY_1, FIRE, promo.title, promo.activity_id),  # reported twice
    }
    return s, {"legal": legal, "flu": flu, "city": city, "promo": promo, **reports}


async def test_s3_projector_builds_applications_list_counters_and_violations(engine, projector, store):
    s, given = await semester_with_every_outcome(store)
    await settle(projector, store)

    applications = {r["activity_id"]: r for r in await rows(engine, LIVE.applications, semester=s.semester)}
    status = {name: applications[str(given[name].activity_id)]["status"] for name in ("legal", "flu", "city", "promo")}
    assert status == {"legal": "certified", "flu": "certified", "city": "exempt", "promo": "rejected"}
    promo = applications[str(given["promo"].activity_id)]
    assert (promo["refusal_code"], promo["automatic"]) == ("COMMERCIAL_OR_FEE", True)
    [published] = await rows(engine, LIVE.semester_lists, semester=s.semester)
    assert published["edition"] == 1 and published["item_count"] == 3

    [at_primary_1] = await rows(engine, LIVE.campus_entries, semester=s.semester, school_id=PRIMARY_1)
    assert {k: at_primary_1[k] for k in ("certified_items", "urgent_items", "exempt_items", "held_reports",
                                         "held_items", "unauthorised_entries", "items_over_cap")} == {
        "certified_items": 1, "urgent_items": 1, "exempt_items": 1, "held_reports": 3, "held_items": 2,
        "unauthorised_entries": 1, "items_over_cap": 0}

    # S3: the refused activity held anyway is one UnauthorizedCampusEntry, however often reported.
    [violation] = await rows(engine, LIVE.violations, semester=s.semester)
    assert (violation["rule"], violation["responsible_org_id"], violation["school_id"]) == (
        Rule.UNAUTHORIZED_CAMPUS_ENTRY.value, FIRE, PRIMARY_1)
    [event] = (await store.load("violation", violation["violation_id"])).envelopes
    report = given["promo_held"].envelope
    assert (event.causation_id, event.correlation_id) == (report.event_id, report.correlation_id)
    assert event.actor.org_id == "jianfu" and event.actor.org_kind == "system"
    assert violation["evidence"]["report_event_id"] == report.event_id


async def test_s3_fifth_item_at_a_school_is_campus_entry_quota_exceeded(engine, projector, store):
    s = S3Semester(store)
    units = [POLICE, FIRE, HEALTH, YOUTH, "dept-justice"]
    requests = [await s.request(unit, [MIDDLE_1]) for unit in units]
    for request in requests[:4]:
        await s.certify(request)
    await s.publish(*requests[:4])  # S3: the published list admits
    await s.exempt(requests[4])  # S3: exempt items are counted too, and need no publication
    for request in requests:
        await s.held(MIDDLE_1, request.applicant_org_id, request.title, request.activity_id)
    await settle(projector, store)

    [violation] = await rows(engine, LIVE.violations, semester=s.semester)
    assert (violation["rule"], violation["responsible_org_id"]) == (Rule.CAMPUS_ENTRY_QUOTA_EXCEEDED.value,
                                                                     "dept-justice")
    [counters] = await rows(engine, LIVE.campus_entries, semester=s.semester, school_id=MIDDLE_1)
    assert (counters["held_items"], counters["items_over_cap"], counters["unauthorised_entries"]) == (5, 1, 0)


async def test_events_at_or_below_the_checkpoint_change_nothing(engine, projector, store):
    await semester_with_every_outcome(store)
    checkpoint = await settle(projector, store)
    before = await read_model_digest(engine)

    replayed = [(e.sequence, e.envelope) async for e in store.replay(1)]
    assert await apply_batch(engine, LIVE, replayed) == checkpoint
    assert await read_model_digest(engine) == before
    assert await store.last_sequence() == checkpoint  # and nothing was appended to the log


async def test_unknown_event_types_are_skipped_but_advance_the_checkpoint(engine, projector, store):
    await settle(projector, store)
    before = await read_model_digest(engine)
    aggregate_id = uuid.uuid4().hex  # the read model has no use for S7's notices (G2 made reminders its own)
    notice = SecondmentEndingSoon(notice_id=aggregate_id, teacher_id="t-1", school_id="school-dwk-primary-1",
                                  borrowing_org_id="dept-fire", secondment_id=None, left_on=date(2026, 3, 2),
                                  ends_on=date(2026, 6, 30), noticed_on=date(2026, 5, 31))
    [stored] = await store.append(await store.load("secondment_notice", aggregate_id),
                                  [context().event(notice, aggregate_id)])
    await projector.wait_for(stored.sequence)
    assert await read_model_digest(engine) == before


async def test_s3_a_second_projection_from_scratch_appends_no_violation_again(engine, projector, js, store):
    s, _ = await semester_with_every_outcome(store)
    await settle(projector, store)
    [violation] = await rows(engine, LIVE.violations, semester=s.semester)

    async with fresh_database("second") as url:
        await migrate(url)
        other = make_engine(url)
        try:
            async with running(other, js, store) as second:
                await settle(second, store)
            assert await read_model_digest(other) == await read_model_digest(engine)
        finally:
            await other.dispose()
    assert len((await store.load("violation", violation["violation_id"])).events) == 1


async def test_rebuild_equals_the_live_model_and_the_projector_carries_on_after_the_switch(engine, projector, store):
    await semester_with_every_outcome(store)
    checkpoint = await settle(projector, store)
    live = await read_model_digest(engine)

    result = await rebuild_read_model(engine, store)
    assert result.matched is True and result.digest == live and result.last_sequence == checkpoint
    assert await read_model_digest(engine) == live

    # Again while events keep arriving: the projector waits at the switch and carries on after it.
    during, (s, _) = await asyncio.gather(rebuild_read_model(engine, store),
                                          semester_with_every_outcome(store))
    assert during.matched is True and during.switched
    await settle(projector, store)
    assert len(await rows(engine, LIVE.violations, semester=s.semester)) == 1
    audit = await rebuild_read_model(engine, store, switch=False)
    assert audit.matched is True and not audit.switched


async def test_rebuild_from_settings_as_the_cli_runs_it(engine, database_url, projector, nats_server, store):
    await semester_with_every_outcome(store)
    await settle(projector, store)
    settings = Settings(nats_url=nats_server.url, database_url=database_url)
    assert await rebuild(settings) == await read_model_digest(engine)
    audit = await rebuild_with(settings, switch=False)
    assert audit.matched is True and not audit.switched


async def test_a_second_projector_waits_as_hot_standby_and_takes_over(engine, js, store):
    durable = f"standby-{uuid.uuid4().hex[:6]}"
    first_stack = AsyncExitStack()
    first = await first_stack.enter_async_context(running(engine, js, store, durable=durable))
    try:
        await settle(first, store)
        async with running(engine, js, store, durable=durable) as standby:
            await asyncio.sleep(0.5)
            assert first.active and not standby.active

            s = S3Semester(store)
            await s.held(PRIMARY_2, FIRE, "消防演练")
            await settle(first, store)
            await first_stack.aclose()  # the active projector stops; the standby takes the lock

            await s.held(PRIMARY_2, HEALTH, "近视防控讲座")
            await settle(standby, store)
            assert standby.active
            assert len(await rows(engine, LIVE.violations, semester=s.semester)) == 2
    finally:
        await first_stack.aclose()
    audit = await rebuild_read_model(engine, store, switch=False)
    assert audit.matched is True
