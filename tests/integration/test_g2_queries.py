"""G2 on a log and a PostgreSQL database of this module's own: the ladder's events appended to
the real store (as notifications would), the projector and the detector run over JetStream; the
sweep decides each missed rectification deadline once (on its day, or at once for a step already
past it; not for a case verified in time); the G2 queries answer with who may read what, page by
page, and refuse hostile bodies; a fresh detector over the same log decides the same and appends
nothing; a rebuild equals the live read model."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from jianfu.compliance.app import interface
from jianfu.compliance.database import make_engine
from jianfu.compliance.detection import detection
from jianfu.compliance.domain.g2_rules import escalation_of
from jianfu.compliance.migrations import migrate
from jianfu.compliance.rebuild import read_model_digest, rebuild_with
from jianfu.events.dependencies import Deps
from jianfu.events.organisations import SYSTEM_ACTOR_ORG_ID
from jianfu.events.schemas.compliance import RULE_CLAUSE, Rule, ViolationDetected, violation_id
from jianfu.events.schemas.days import DAYS_AGGREGATE_ID, DayEnded
from jianfu.events.schemas.escalation import (
    AlertDelivered,
    AlertDeliveryFailed,
    CirculationConfirmed,
    CirculationNumberAssigned,
    CirculationProposed,
    DeliveryChannel,
    RectificationDeadlineMissed,
    RectificationReported,
    RectificationVerified,
    ReminderIssued,
    WarningIssued,
    WarningTrigger,
)
from jianfu.events.settings import Settings, SystemClock

from tests import query_router
from tests.conftest import fresh_database
from tests.detecting import detecting
from tests.factories import DIRECTORY, POLICY
from tests.hostile import refusal
from tests.inspection_year import append
from tests.poison import own_log
from tests.s3_semester import running, settle

UNIT, HEALTH = "dept-publicity", "dept-health"
BUREAU, OFFICE, LEADING = "edu-bureau", "supervision-office", "leading-group-office"
RULE = Rule.UNAUTHORIZED_CAMPUS_ENTRY
ISSUE, HEALTH_ISSUE = f"{UNIT}:{RULE.value}", f"{HEALTH}:{RULE.value}"
ESCALATION, HEALTH_ESCALATION = escalation_of(UNIT, ISSUE), escalation_of(HEALTH, HEALTH_ISSUE)
FIRST_DUE, SECOND_DUE, PAST_DUE = date(2031, 3, 13), date(2031, 3, 27), date(2031, 3, 10)


def violation(unit: str, n: int):
    found = violation_id(RULE, unit, str(n))
    return SYSTEM_ACTOR_ORG_ID, ViolationDetected(
        violation_id=found, rule=RULE, clause=RULE_CLAUSE[RULE], responsible_org_id=unit, school_id=None,
        issue_key=f"{unit}:{RULE.value}", summary="违规进校园", evidence={"report_id": f"r-{n}"}), found


def reminder(unit: str, v: str, rectify_by: date):
    return SYSTEM_ACTOR_ORG_ID, ReminderIssued(
        violation_id=v, issue_key=f"{unit}:{RULE.value}", responsible_org_id=unit, issued_by_org_id=OFFICE,
        recipient="unit_head", summary="整改通知", rectify_by=rectify_by, issued_on=rectify_by - timedelta(days=14)
    ), escalation_of(unit, f"{unit}:{RULE.value}")


def days(first: date, last: date) -> list:
    return [(SYSTEM_ACTOR_ORG_ID, DayEnded(day=first + timedelta(days=n)), DAYS_AGGREGATE_ID)
            for n in range((last - first).days + 1)]


def ladder_after_the_miss() -> list:
    """What notifications appends after the first miss: a warning, a circulation, a verified report."""
    warning = WarningIssued(escalation_id=ESCALATION, responsible_org_id=UNIT, issue_key=ISSUE, rule=RULE.value,
                            trigger=WarningTrigger.DEADLINE_MISSED, missed_deadline=FIRST_DUE, warnings_in_window=1,
                            issued_by_org_id=OFFICE, recipient="principal_leader", issued_on=date(2031, 3, 14),
                            rectify_by=SECOND_DUE, summary="约谈警告")
    proposed = CirculationProposed(proposal_id="p-2031-1", escalation_id=ESCALATION, responsible_org_id=UNIT,
                                   issue_key=ISSUE, rule=RULE.value, stage=3, violation_ids=("v",),
                                   warning_event_ids=("w",), proposed_on=date(2031, 3, 14), summary="拟通报批评")
    numbered = CirculationNumberAssigned(year=2031, number=1, document_number="大教减负通〔2031〕1号",
                                         proposal_id="p-2031-1", escalation_id=ESCALATION)
    confirmed = CirculationConfirmed(proposal_id="p-2031-1", escalation_id=ESCALATION, responsible_org_id=UNIT,
                                     stage=3, document_number="大教减负通〔2031〕1号", year=2031,
                                     confirmed_by_org_id=LEADING, confirmed_by_person="王主任",
                                     confirmed_on=date(2031, 3, 15), rectify_by=SECOND_DUE)
    reported = RectificationReported(report_id="rr-1", escalation_id=ESCALATION, responsible_org_id=UNIT,
                                     report="已停止违规活动并完成整改。", reported_on=date(2031, 3, 20))
    verified = RectificationVerified(report_id="rr-1", escalation_id=ESCALATION, verified_by_org_id=OFFICE,
                                     verified_on=date(2031, 3, 21), closed_deadline=SECOND_DUE)
    return [(SYSTEM_ACTOR_ORG_ID, warning, ESCALATION), (SYSTEM_ACTOR_ORG_ID, proposed, ESCALATION),
            (LEADING, numbered, "2031"), (LEADING, confirmed, ESCALATION), (UNIT, reported, ESCALATION),
            (OFFICE, verified, ESCALATION)]


def deliveries() -> list:
    at = datetime(2031, 3, 14, 2, tzinfo=UTC)
    return [(SYSTEM_ACTOR_ORG_ID, data, data.alert_id) for data in (
        AlertDeliveryFailed(alert_id="alert-u1", org_id=UNIT, channel=DeliveryChannel.WEBHOOK, target="hooks.example",
                            attempt=1, error="HTTP 503", final=False, failed_at=at),
        AlertDelivered(alert_id="alert-u1", org_id=UNIT, channel=DeliveryChannel.WEBHOOK, target="hooks.example",
                       attempts=2, delivered_at=at + timedelta(minutes=1)),
        AlertDelivered(alert_id="alert-u1", org_id=UNIT, channel=DeliveryChannel.NATS, target="jf.alert", attempts=1,
                       delivered_at=at),
        AlertDeliveryFailed(alert_id="alert-h1", org_id=HEALTH, channel=DeliveryChannel.EMAIL, target="health.example",
                            attempt=3, error="550", final=True, failed_at=at))]


async def missed(store) -> list[RectificationDeadlineMissed]:
    return [RectificationDeadlineMissed.model_validate(s.envelope.data) async for s in store.replay()
            if s.envelope.event_type == RectificationDeadlineMissed.__name__]


async def wait_until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, "not reached in time"
        await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
async def world(pg_database, tmp_path_factory):
    """G2: the first reminder's deadline passes with the days ended (missed on its day); then the
    ladder goes on and the case is verified before the warning's deadline (not missed); the other
    unit's reminder comes after its deadline's day ended (missed at once)."""
    async with own_log(tmp_path_factory.mktemp("nats")) as log, fresh_database("g2") as url:
        unit_violation, health_violation = violation(UNIT, 1), violation(HEALTH, 2)
        await migrate(url)
        engine = make_engine(url)
        try:
            async with running(engine, log.js, log.store, detection=detection(Settings())) as compliance:
                await append(log.store, [unit_violation, reminder(UNIT, unit_violation[2], FIRST_DUE),
                                         *days(date(2031, 3, 1), FIRST_DUE)])
                await wait_until(lambda: _count(log.store, 1))
                await append(log.store, [*ladder_after_the_miss(), *days(FIRST_DUE + timedelta(days=1),
                                                                         SECOND_DUE + timedelta(days=3)),
                                         health_violation, reminder(HEALTH, health_violation[2], PAST_DUE),
                                         *deliveries()])
                await settle(compliance, log.store)
            router = interface(Deps(log.store, DIRECTORY, POLICY, SystemClock()), Settings(), engine).routers[0]
            yield {"router": router, "engine": engine, "log": log, "url": url}
        finally:
            await engine.dispose()


async def _count(store, n: int) -> bool:
    return len(await missed(store)) >= n


async def ask(world, org: str, query: str, **payload) -> dict:
    return await query_router.ask(world["router"], org, query, **payload)


async def every_page(world, org: str, query: str, rows: str, **payload) -> list[dict]:
    return await query_router.every_page(world["router"], org, query, rows, **payload)


async def test_g2_the_sweep_decides_each_missed_deadline_once_on_its_day_or_at_once(world):
    """G2: the reminder's deadline missed on its DayEnded, the late step's at once; the warning's not
    (the case was verified before its day); each once, on rectification_deadline.<deadline_id>."""
    store = world["log"].store
    found = await missed(store)
    assert sorted((m.escalation_id, m.rectify_by) for m in found) == sorted(
        [(ESCALATION, FIRST_DUE), (HEALTH_ESCALATION, PAST_DUE)])
    steps = {s.envelope.aggregate_id: s.envelope.event_id async for s in store.replay()
             if s.envelope.event_type == ReminderIssued.__name__}
    assert {m.escalation_id: m.step_event_id for m in found} == steps
    causes = {s.envelope.data["escalation_id"]: s.envelope.causation_id async for s in store.replay()
              if s.envelope.event_type == RectificationDeadlineMissed.__name__}
    by_id = {s.envelope.event_id: s.envelope async for s in store.replay()}
    assert by_id[causes[ESCALATION]].data == {"day": FIRST_DUE.isoformat()}  # the sweep of that day
    assert by_id[causes[HEALTH_ESCALATION]].event_type == ReminderIssued.__name__  # the late step itself


async def test_g2_cases_for_overseers_and_each_unit_its_own(world):
    """G2: the overseers read every case; a unit its own (another's is FORBIDDEN); filters by stage and open."""
    for overseer in (BUREAU, OFFICE, LEADING):
        listed = await ask(world, overseer, "GetCases")
        assert listed["ok"] and {c["escalation_id"] for c in listed["cases"]} == {ESCALATION, HEALTH_ESCALATION}
    cases = {c["escalation_id"]: c for c in (await ask(world, OFFICE, "GetCases"))["cases"]}
    unit = cases[ESCALATION]
    assert (unit["open"], unit["stage"], unit["deadlines_missed"], unit["rectify_by"], unit["rule"]) == (
        False, 3, 1, None, RULE.value)
    assert (cases[HEALTH_ESCALATION]["open"], cases[HEALTH_ESCALATION]["rectify_by"]) == (True, PAST_DUE.isoformat())
    own = await ask(world, UNIT, "GetCases")
    assert own["ok"] and [c["escalation_id"] for c in own["cases"]] == [ESCALATION]
    assert refusal(await ask(world, UNIT, "GetCases", responsible_org_id=HEALTH)) == ("FORBIDDEN", "responsible_org_id")
    opened = await ask(world, BUREAU, "GetCases", open=True)
    assert [c["escalation_id"] for c in opened["cases"]] == [HEALTH_ESCALATION]
    assert [c["escalation_id"] for c in (await ask(world, BUREAU, "GetCases", stage=3))["cases"]] == [ESCALATION]
    assert [c["escalation_id"] for c in await every_page(world, BUREAU, "GetCases", "cases")] == [
        c["escalation_id"] for c in (await ask(world, BUREAU, "GetCases"))["cases"]]


async def test_g2_case_history_in_log_order_with_the_evidence_for_its_unit_only(world):
    """G2: every event that led to each step, in log order, the violation with its evidence."""
    history = await ask(world, UNIT, "GetCaseHistory", escalation_id=ESCALATION)
    assert history["ok"], history
    assert [e["event_type"] for e in history["events"]] == [
        "ViolationDetected", "ReminderIssued", "RectificationDeadlineMissed", "WarningIssued", "CirculationProposed",
        "CirculationNumberAssigned", "CirculationConfirmed", "RectificationReported", "RectificationVerified"]
    assert history["events"][0]["data"]["evidence"] == {"report_id": "r-1"}
    assert await every_page(world, OFFICE, "GetCaseHistory", "events", escalation_id=ESCALATION) == history["events"]
    assert refusal(await ask(world, UNIT, "GetCaseHistory", escalation_id=HEALTH_ESCALATION)) == (
        "FORBIDDEN", "escalation_id")
    assert refusal(await ask(world, BUREAU, "GetCaseHistory", escalation_id="esc-unknown")) == (
        "NOT_FOUND", "escalation_id")


async def test_g2_circulations_by_year_with_the_registers_number(world):
    """G2: the year's circulations with number and document number; a unit reads only its own."""
    listed = await ask(world, LEADING, "GetCirculations", year=2031)
    assert listed["ok"]
    [row] = listed["circulations"]
    assert (row["number"], row["document_number"], row["status"], row["responsible_org_id"], row["stage"]) == (
        1, "大教减负通〔2031〕1号", "confirmed", UNIT, 3)
    assert (await ask(world, UNIT, "GetCirculations", year=2031))["circulations"] == [row]
    assert (await ask(world, HEALTH, "GetCirculations", year=2031))["circulations"] == []
    assert (await ask(world, LEADING, "GetCirculations", year=2030))["circulations"] == []


async def test_g2_alert_deliveries_per_alert_and_channel(world):
    """G2: delivered after a failed attempt, delivered at once, failed for good; a unit reads its own."""
    every = await every_page(world, OFFICE, "GetAlertDeliveries", "deliveries")
    assert [(d["alert_id"], d["channel"], d["status"], d["failed_attempts"]) for d in every] == [
        ("alert-h1", "email", "failed", 1), ("alert-u1", "nats", "delivered", 0), ("alert-u1", "webhook", "delivered", 1)]
    own = await ask(world, UNIT, "GetAlertDeliveries")
    assert {d["org_id"] for d in own["deliveries"]} == {UNIT}
    [failed] = (await ask(world, BUREAU, "GetAlertDeliveries", alert_id="alert-h1"))["deliveries"]
    assert (failed["status"], failed["last_error"], failed["attempts"]) == ("failed", "550", 3)
    assert refusal(await ask(world, UNIT, "GetAlertDeliveries", org_id=HEALTH)) == ("FORBIDDEN", "org_id")


@pytest.mark.parametrize(("query", "body", "field"), [
    ("GetCases", {"stage": 9}, "stage"),
    ("GetCases", {"cursor": "not-a-cursor"}, "cursor"),
    ("GetCaseHistory", {"escalation_id": "esc.>"}, "escalation_id"),
    ("GetCirculations", {"year": "二〇三一"}, "year"),
    ("GetAlertDeliveries", {"alert_id": "a" * 500}, "alert_id"),
    ("GetAlertDeliveries", {"limit": 100000}, "limit"),
])
async def test_g2_hostile_bodies_get_a_structured_refusal(world, query, body, field):
    """G2: wrong kinds, bad ids, huge values: a structured refusal naming the field."""
    code, named = refusal(await ask(world, BUREAU, query, **body))
    assert code in ("INVALID_FIELD", "VALIDATION_FAILED") and named is not None and field in named


async def test_g2_a_cursor_of_another_query_is_refused(world):
    """G2: a next_cursor of GetCases is not one of GetCirculations."""
    page = await ask(world, BUREAU, "GetCases", limit=1)
    assert refusal(await ask(world, BUREAU, "GetCirculations", year=2031, cursor=page["next_cursor"])) == (
        "INVALID_FIELD", "cursor")


async def test_g2_a_fresh_detector_over_the_same_log_decides_the_same_and_appends_nothing(world):
    """G2: a replay of the sweep (a new detector database, batches of 3) finds the same deadlines missed."""
    store = world["log"].store
    last, before = await store.last_sequence(), {m.deadline_id for m in await missed(store)}
    async with fresh_database("g2_replay") as url:
        await migrate(url)
        engine = make_engine(url)
        try:
            async with detecting(engine, world["log"], batch=3) as (projector, seen):
                await projector.wait_for(last, 30.0)
                assert await store.last_sequence() == last
                assert {i for i in seen.ids if i.startswith("dl-")} == before
        finally:
            await engine.dispose()


async def test_g2_a_rebuild_equals_the_live_read_model(world):
    """G2: the cases, history, circulations and deliveries rebuilt from the log equal the live tables."""
    live = await read_model_digest(world["engine"])
    result = await rebuild_with(Settings(nats_url=world["log"].url, database_url=world["url"]), switch=False)
    assert result.matched and result.digest == live


async def test_g2_the_embedded_sqlite_read_model_equals_the_postgresql_one_and_answers_alike(world, tmp_path):
    """G2: the same log projected (and swept) into SQLite: the same tables, the same answers, nothing appended."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'compliance.db'}"
    store = world["log"].store
    last = await store.last_sequence()
    await migrate(url)
    engine = make_engine(url)
    try:
        async with running(engine, world["log"].js, store, detection=detection(Settings())) as compliance:
            await settle(compliance, store)
        assert await store.last_sequence() == last
        assert await read_model_digest(engine) == await read_model_digest(world["engine"])
        lite = {**world, "router": interface(Deps(store, DIRECTORY, POLICY, SystemClock()), Settings(),
                                             engine).routers[0]}
        for org, query, payload in ((OFFICE, "GetCases", {"open": False}),
                                    (UNIT, "GetCaseHistory", {"escalation_id": ESCALATION, "limit": 4}),
                                    (LEADING, "GetCirculations", {"year": 2031}),
                                    (HEALTH, "GetAlertDeliveries", {})):
            on_pg, on_sqlite = await ask(world, org, query, **payload), await ask(lite, org, query, **payload)
            assert on_pg["ok"] and {k: v for k, v in on_pg.items() if k != "correlation_id"} == \
                {k: v for k, v in on_sqlite.items() if k != "correlation_id"}
    finally:
        await engine.dispose()
