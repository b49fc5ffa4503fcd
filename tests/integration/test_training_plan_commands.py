"""S8 the semester's training plan through the running approvals service (real nats-server): the
teaching research office publishes editions; each level of training is organised by whom S8 calls
for; a semester already over takes no plan. Each test publishes for a semester of its own."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from jianfu.cli.client import JianfuClient

OFFICE, BUREAU, HEALTH, SCHOOL = "teaching-research-office", "edu-bureau", "dept-health", "school-dwk-middle-1"
PLAN = "training_plan"


@pytest.fixture
def client(nc, services, clock_file) -> JianfuClient:
    clock_file.write_text("2026-12-01")
    return JianfuClient(nc, timeout=5.0)


def session(code: str = "BB-01", level: str = "backbone", organiser: str = OFFICE, **overrides) -> dict:
    return {"code": code, "title": "初中语文骨干教师课堂教学能力提升", "level": level, "organiser_org_id": organiser,
            "months": [3, 4], "hours": 24, **overrides}


def plan(semester: str, *sessions: dict) -> dict:
    return {"command_id": str(uuid.uuid4()), "semester": semester, "sessions": list(sessions) or [session()]}


async def test_s8_the_teaching_research_office_publishes_editions_in_advance(client, store):
    semester = "2031-spring"
    body = plan(semester, session(), session("SB-01", "school_based", SCHOOL), session("BB-02", organiser=BUREAU))
    for unit in (BUREAU, SCHOOL, HEALTH):
        assert (await client.command(unit, "approvals", "PublishTrainingPlan", body))["error"]["code"] == "FORBIDDEN"
    first = await client.command(OFFICE, "approvals", "PublishTrainingPlan", body)
    assert (first["ok"], first["edition"], first["session_count"], first["before_semester"], first["published_on"]) == (
        True, 1, 3, True, "2026-12-01"), first
    retry = await client.command(OFFICE, "approvals", "PublishTrainingPlan", body)
    assert {**retry, "correlation_id": ""} == {**first, "correlation_id": ""}
    second = await client.command(OFFICE, "approvals", "PublishTrainingPlan", plan(semester, session()))
    assert (second["edition"], second["session_count"]) == (2, 1), second
    stored = (await store.load(PLAN, semester)).envelopes
    assert [(e.event_type, e.data["edition"], e.actor.org_id) for e in stored] == [
        ("TrainingPlanPublished", 1, OFFICE), ("TrainingPlanPublished", 2, OFFICE)]


async def test_s8_a_plan_for_the_semester_under_way_is_published_not_in_advance(client):
    reply = await client.command(OFFICE, "approvals", "PublishTrainingPlan", plan("2026-autumn", session(months=[12])))
    assert (reply["ok"], reply["before_semester"]) == (True, False), reply


async def test_s8_a_past_semester_takes_no_plan(client, store):
    reply = await client.command(OFFICE, "approvals", "PublishTrainingPlan", plan("2026-spring"))
    assert (reply["error"]["code"], reply["error"]["field"]) == ("INVALID_STATE", "semester"), reply
    assert (await store.load(PLAN, "2026-spring")).envelopes == []


@pytest.mark.parametrize(("sessions", "field"), [
    ((session("BB-01"), session("BB-01", title="同一编码的另一培训")), "sessions.1.code"),
    ((session(), session("SB-01", "school_based", HEALTH)), "sessions.1.organiser_org_id"),
    ((session("BB-09", "backbone", SCHOOL),), "sessions.0.organiser_org_id"),
    ((session(), session("BB-02", organiser="no-such-unit")), "sessions.1.organiser_org_id"),
])
async def test_s8_a_plan_breaking_the_levels_or_repeating_a_code_is_refused_on_its_field(client, store, sessions, field):
    semester = "2032-autumn"
    reply = await client.command(OFFICE, "approvals", "PublishTrainingPlan", plan(semester, *sessions))
    assert (reply["error"]["code"], reply["error"]["field"]) == ("INVALID_FIELD", field), reply
    assert (await store.load(PLAN, semester)).envelopes == []


async def test_s8_a_plan_of_501_sessions_is_refused_500_at_their_largest_are_published(client, store):
    too_many = [session(f"C-{n}", title="培训", months=[3]) for n in range(501)]
    reply = await client.command(OFFICE, "approvals", "PublishTrainingPlan", plan("2033-spring", *too_many))
    assert reply["error"]["code"] == "INVALID_FIELD" and "sessions" in str(reply["error"]), reply
    largest = [session(f"{n:03d}-" + "A" * 35, title="教" * 200, organiser=OFFICE, months=list(range(1, 13)), hours=200)
               for n in range(500)]
    published = await client.command(OFFICE, "approvals", "PublishTrainingPlan", plan("2033-autumn", *largest))
    assert (published["ok"], published["session_count"]) == (True, 500), published
    [stored] = (await store.load(PLAN, "2033-autumn")).envelopes
    assert len(stored.data["sessions"]) == 500


@pytest.mark.parametrize("fields", [
    {"semester": "2031-summer"},
    {"semester": "31-spring"},
    {"sessions": []},
    {"sessions": [session(level="district")]},
    {"sessions": [session(months=[13])]},
    {"sessions": [session(months=[3, 3])]},
    {"sessions": [session(code="bad code!")]},
    {"sessions": [session(hours=0)]},
])
async def test_s8_malformed_plans_are_refused_on_their_field(client, fields):
    reply = await client.command(OFFICE, "approvals", "PublishTrainingPlan", {**plan("2034-spring"), **fields})
    assert reply["error"]["code"] == "INVALID_FIELD", reply


async def test_s8_publications_at_once_never_share_an_edition(client, store):
    semester = "2035-spring"
    replies = await asyncio.gather(*(client.command(OFFICE, "approvals", "PublishTrainingPlan", plan(
        semester, session(f"BB-{n}"))) for n in range(4)))
    editions = sorted(reply["edition"] for reply in replies if reply.get("ok"))
    assert editions == list(range(1, len(editions) + 1)) and editions, replies
    stored = (await store.load(PLAN, semester)).envelopes
    assert [e.data["edition"] for e in stored] == editions
