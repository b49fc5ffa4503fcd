"""Issue 9's S1/S2 surface attacked as a hostile integrator would, over real request-reply
(requests and approvals on the session's nats-server for bodies that are refused or harmless, on a
log of the test's own for anything large or poisonous) and through the running projector and
detector (PostgreSQL of the test's own): every body gets a structured reply at once, what is
accepted is readable downstream, and poison S1/S2 events stop neither consumer nor approvals'
checklist publication."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from jianfu.compliance.app import interface
from jianfu.compliance.read_model import DETECTOR, LIVE
from jianfu.events.dependencies import Deps
from jianfu.events.envelope import Actor
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.inspections import InspectionChecklistPublished, InspectionItemsMerged
from jianfu.events.settings import Settings, SystemClock

from tests.apps import services_on
from tests.factories import DIRECTORY, POLICY, SCHOOLS
from tests.hostile import ask, refusal
from tests.integration.test_inspection_detector import DETECTION
from tests.s3_semester import running, settle
from tests.unit.test_inspection_intake import item_form

BUREAU, OFFICE, HEALTH, FIRE = "edu-bureau", "supervision-office", "dept-health", "dept-fire"
LONE = b'"\\ud800"'


def command(**fields) -> dict:
    return {"command_id": str(uuid.uuid4()), **fields}


def data_request(**fields) -> dict:
    return command(title="学生体质健康数据填报", fields=["学生人数"], school_ids=SCHOOLS[:2],
                   deadline="2026-10-30T17:00:00+08:00") | fields


def visit(**fields) -> dict:
    return command(visited_on="2026-10-12", visiting_org_id=FIRE, label="inspection", graded=False) | fields


@pytest.fixture
def today(services, clock_file):
    def set_to(day: str) -> None:
        clock_file.write_text(day)
    set_to("2026-10-21")
    return set_to


# Bodies no reader could hold, or that mean nothing: refused at once, the field named.

@pytest.mark.parametrize("org,name,body,field", [
    (HEALTH, "IssueDataRequest", data_request(deadline="2026-10-30T17:00:00"), "deadline"),  # naive
    (HEALTH, "IssueDataRequest", data_request(deadline="9999-12-31T23:00:00-05:00"), "deadline"),
    (HEALTH, "IssueDataRequest", data_request(deadline="2026-10-30T17:00:00+24:00"), "deadline"),
    (HEALTH, "IssueDataRequest", data_request(deadline="0001-01-01T00:00:00+01:00"), "deadline"),
    (SCHOOLS[0], "ReportInspectionVisit", visit(visited_on="9999-12-31"), "visited_on"),
    (HEALTH, "IssueDataRequest", data_request(fields=["学生\u0000人数"]), "fields.0"),
    (HEALTH, "IssueDataRequest", data_request(fields=["\u202e数人生学"]), "fields.0"),
    (HEALTH, "IssueDataRequest", data_request(fields=["\u200b\u200f"]), "fields.0"),
    (HEALTH, "IssueDataRequest", data_request(fields=["x"] * 201), "fields"),
    (HEALTH, "IssueDataRequest", data_request(school_ids=[FIRE]), "school_ids.0"),
    (HEALTH, "IssueDataRequest", data_request(title="体质\u0000数据"), "title"),
    (SCHOOLS[0], "ReportInspectionVisit", visit(visiting_org_id=SCHOOLS[0]), "visiting_org_id"),
    (SCHOOLS[0], "ReportInspectionVisit", visit(visiting_org_id=SCHOOLS[1]), "visiting_org_id"),
    (SCHOOLS[0], "ReportInspectionVisit", visit(visited_on="2021-08-19"), "visited_on"),
    (SCHOOLS[0], "ReportInspectionVisit", visit(grading="优秀\u0000"), "grading"),
    (SCHOOLS[0], "ReportInspectionVisit", visit(item_id="not-a-uuid"), "item_id"),
    (FIRE, "ReportInspectionVisit", visit(visiting_org_id=None, school_id=FIRE), "school_id"),
    (HEALTH, "ProposeInspectionItem", item_form(year=2027, indicators=1001), "indicators"),
    (HEALTH, "ProposeInspectionItem", item_form(year=2027, planned_months=list(range(1, 13)) * 1000),
     "planned_months"),
    (HEALTH, "ProposeInspectionItem", item_form(year=2027, planned_months=[0]), "payload"),  # a model rule
    (HEALTH, "ProposeInspectionItem", item_form(year=2027, target={"all_schools": True, "sample_share": 0}),
     "target.sample_share"),
    (HEALTH, "ProposeInspectionItem", item_form(year=2027, target={"all_schools": True, "sample_share": 1e-400}),
     "target.sample_share"),
    (HEALTH, "ProposeInspectionItem", item_form(year=2027, target={"all_schools": True, "sample_share": 1.0000001}),
     "target.sample_share"),
    (HEALTH, "ProposeInspectionItem", item_form(year=2027, target={"teachers": True, "sample_share": 0.5}),
     "target.sample_share"),
    (HEALTH, "ProposeInspectionItem", item_form(year=2027, joint_org_ids=[HEALTH]), "joint_org_ids.0"),
    (HEALTH, "ProposeInspectionItem", item_form(year=2027, joint_org_ids=[SCHOOLS[0]]), "joint_org_ids.0"),
    (HEALTH, "ProposeInspectionItem", item_form(year=2027, data_fields=["食材\u0000台账"]), "data_fields.0"),
    (HEALTH, "ProposeInspectionItem", item_form(year=9999), "year"),
    (SCHOOLS[0], "ProposeInspectionItem", item_form(year=2027), "org_id"),
])
async def test_s1_s2_hostile_bodies_are_refused_at_once_with_the_field_named(nc, today, org, name, body, field):
    found = refusal(await ask(nc, org, "cmd", "requests", name, body))
    assert found[1] == field, found


@pytest.mark.parametrize("name,body", [
    ("IssueDataRequest", data_request(fields=["PLACEHOLDER"])),
    ("IssueDataRequest", data_request(title="PLACEHOLDER")),
    ("ProposeInspectionItem", item_form(year=2027, title="PLACEHOLDER")),
])
async def test_s1_s2_a_lone_surrogate_in_a_title_or_field_is_refused_as_malformed(nc, today, name, body):
    wire = json.dumps(body, ensure_ascii=False).encode().replace(b'"PLACEHOLDER"', LONE)
    assert refusal(await ask(nc, HEALTH, "cmd", "requests", name, wire))[0] == "MALFORMED_JSON"


async def test_s1_a_visit_on_the_plans_first_day_under_an_item_nobody_proposed_is_recorded(nc, today, store):
    """S1: `visited_on` may be the day the plan took effect; an item id the log never saw is kept
    (the detector judges such a visit unplanned)."""
    reply = await ask(nc, SCHOOLS[3], "cmd", "requests", "ReportInspectionVisit",
                      visit(visited_on=POLICY.plan_in_force_from.isoformat(), item_id=str(uuid.uuid4())))
    assert reply["ok"] is True, reply
    [event] = (await store.load("inspection_visit", reply["visit_id"])).envelopes
    assert event.data["year"] == POLICY.plan_in_force_from.year


@pytest.mark.parametrize("item_ids", [lambda one: [one, one], lambda one: [one] * 20,
                                      lambda one: [one, str(uuid.uuid4())]])
async def test_s1_a_merger_naming_one_item_twice_or_an_unknown_item_is_refused_and_stores_nothing(
        nc, today, store, item_ids):
    """S1: an item named twice is INVALID_FIELD on `item_ids`; an unknown one NOT_FOUND. (The item
    is a unit's, waiting for approval, so it is in force in no checklist of the shared log.)"""
    proposed = await ask(nc, HEALTH, "cmd", "requests", "ProposeInspectionItem", item_form(year=2027))
    assert proposed["ok"] is True, proposed
    body = command(item_ids=item_ids(proposed["item_id"]), title="合并事项")
    code, field = refusal(await ask(nc, BUREAU, "cmd", "approvals", "MergeInspectionItems", body))
    assert field == "item_ids" and code in ("INVALID_FIELD", "NOT_FOUND")
    assert len((await store.load("inspection_item", proposed["item_id"])).envelopes) == 1


async def test_s1_a_merger_of_items_of_twenty_years_or_of_twenty_one_items_is_refused(nc, today):
    ids = [str(uuid.uuid4()) for _ in range(21)]
    for names in (ids[:20], ids):
        code, field = refusal(await ask(nc, BUREAU, "cmd", "approvals", "MergeInspectionItems",
                                        command(item_ids=names, title="合并事项")))
        assert field == "item_ids" and code in ("INVALID_FIELD", "NOT_FOUND")


# On a log of the test's own: large and poisonous things.

async def events_of(store, aggregate_type: str, aggregate_id: str, at_least: int, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        events = (await store.load(aggregate_type, aggregate_id)).envelopes
        if len(events) >= at_least or time.monotonic() > deadline:
            return events
        await asyncio.sleep(0.1)


def query_router(log, engine):
    router = interface(Deps(log.store, DIRECTORY, POLICY, SystemClock()), Settings(), engine).routers[0]

    async def query(org: str, name: str, **payload) -> tuple[dict, int]:
        reply = await router.dispatch(f"jf.q.{org}.compliance.{name}", json.dumps(payload).encode())
        return reply, len(json.dumps(reply, ensure_ascii=False, separators=(",", ":")).encode())
    return query


MAX_PAYLOAD = 1024 * 1024


async def test_s1_twenty_items_of_two_hundred_long_fields_merged_are_refused_and_the_rest_read_back(
        engine, log, tmp_path):
    """S1: the bureau's 20 items, each asking 200 distinct fields of 100 characters: their merger
    (4,000 fields, more than one event can hold) is refused on `item_ids` at once and stores
    nothing (it was answered UNAVAILABLE, "retry", for ever); two items asking the same 200 fields
    merge. Every page of GetInspectionItems and of the checklist fits NATS's payload."""
    year = 2027
    async with services_on(log, tmp_path, "2026-10-21"):
        items = []
        for n in range(22):
            fields = [f"{min(n, 20):02d}{k:03d}" + "字" * 95 for k in range(200)]  # the last two ask the same
            reply = await ask(log.nc, BUREAU, "cmd", "requests", "ProposeInspectionItem", item_form(
                year=year, title=f"检查事项{n}", data_fields=fields, planned_months=[12]))
            assert reply["ok"] is True, reply
            items.append(reply["item_id"])
        for item_id in items:
            assert len(await events_of(log.store, "inspection_item", item_id, 2)) == 2  # filed on screening
        too_many = await ask(log.nc, BUREAU, "cmd", "approvals", "MergeInspectionItems",
                             command(item_ids=items[:20], title="合并事项"), within=10.0)
        assert refusal(too_many) == ("INVALID_FIELD", "item_ids")
        merged = await ask(log.nc, BUREAU, "cmd", "approvals", "MergeInspectionItems",
                           command(item_ids=items[20:], title="合并事项"), within=10.0)
        assert merged["ok"] is True, merged
        published = await ask(log.nc, BUREAU, "cmd", "approvals", "PublishInspectionChecklist",
                              command(year=year), within=10.0)
        assert published["ok"] is True, published
    for item_id in items[:20]:
        assert len((await log.store.load("inspection_item", item_id)).envelopes) == 2
    async with running(engine, log.js, log.store, detection=DETECTION) as both:
        await settle(both, log.store)
        assert both.active
    query = query_router(log, engine)
    seen, cursor = [], None
    while True:
        page, size = await query(BUREAU, "GetInspectionItems", year=year, **({"cursor": cursor} if cursor else {}))
        assert page["ok"] is True and size < MAX_PAYLOAD, (size, page.get("error"))
        seen += [item["item_id"] for item in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert set(items) | {merged["item_id"]} == set(seen)
    rows, cursor = 0, None
    while True:
        page, size = await query(BUREAU, "GetInspectionChecklist", year=year, **({"cursor": cursor} if cursor else {}))
        assert page["ok"] is True and size < MAX_PAYLOAD, (size, page.get("error"))
        rows += len(page["rows"])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert rows == 21
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(LIVE.quarantined_events))).scalar() == 0


def poisoned(envelope: dict, **data) -> dict:
    return {**envelope, "event_id": str(uuid.uuid4()), "data": {**envelope["data"], **data}}


def context_of(org_id: str) -> CommandContext:
    return CommandContext(Actor(org_id=org_id, org_kind=DIRECTORY.get(org_id).kind), str(uuid.uuid4()),
                          str(uuid.uuid4()), POLICY.version, datetime(2026, 10, 21, tzinfo=UTC))


def checklist_part(year: int, edition: int) -> dict:
    """A part of a checklist edition as approvals would store it, then spoiled: ``edition``."""
    part = InspectionChecklistPublished(year=year, edition=1, rows=(), row_count=0)
    return poisoned(context_of(BUREAU).event(part, str(year)).model_dump(mode="json"), edition=edition)


async def publish(log, envelope: dict) -> int:
    subject = f"jf.ev.{envelope['aggregate_type']}.{envelope['aggregate_id']}"
    return (await log.js.publish(subject, json.dumps(envelope, ensure_ascii=False).encode(),
                                 stream="JIANFU_EVENTS")).seq


async def test_s1_s2_poison_events_stop_neither_the_projector_nor_the_detector_nor_the_checklist(
        engine, log, tmp_path):
    """S1/S2: a visit with an unknown label, a request whose deadline is no time, a proposal of the
    year with no title, a checklist part of edition 0 (of another year): each is set aside by
    whichever reader reads it; approvals still publishes the year's checklist, and the request
    issued after them is judged (a deadline under two days away: ExcessivelyShortDeadline)."""
    year = 2027
    async with services_on(log, tmp_path, "2026-10-21"):
        item = await ask(log.nc, BUREAU, "cmd", "requests", "ProposeInspectionItem", item_form(year=year))
        seen_visit = await ask(log.nc, SCHOOLS[0], "cmd", "requests", "ReportInspectionVisit", visit())
        asked = await ask(log.nc, HEALTH, "cmd", "requests", "IssueDataRequest", data_request())
        assert item["ok"] and seen_visit["ok"] and asked["ok"], (item, seen_visit, asked)
        proposal = (await log.store.load("inspection_item", item["item_id"])).envelopes[0]
        [visited] = (await log.store.load("inspection_visit", seen_visit["visit_id"])).envelopes
        [request] = (await log.store.load("data_request", asked["request_id"])).envelopes
        sequences = {
            "visit_label": await publish(log, poisoned(visited.model_dump(mode="json"), label="teleport",
                                                       visit_id=str(uuid.uuid4()))),
            "request_deadline": await publish(log, poisoned(request.model_dump(mode="json"), deadline="soon",
                                                            request_id=str(uuid.uuid4()))),
            "proposal_title": await publish(log, {**poisoned(proposal.model_dump(mode="json"), title=None),
                                                  "aggregate_id": str(uuid.uuid4())}),
            "checklist_edition": await publish(log, checklist_part(year + 1, 0)),
        }
        assert len(await events_of(log.store, "inspection_item", item["item_id"], 2)) == 2
        published = await ask(log.nc, BUREAU, "cmd", "approvals", "PublishInspectionChecklist", command(year=year),
                              within=5.0)
        assert published["ok"] is True, published
        short = await ask(log.nc, HEALTH, "cmd", "requests", "IssueDataRequest",
                          data_request(deadline="2026-10-22T23:30:00+08:00"))  # under two days
        assert short["ok"] is True, short
    async with running(engine, log.js, log.store, detection=DETECTION) as both:
        last = await settle(both, log.store)
        assert both.active and last == await log.store.last_sequence()
    v = LIVE.violations
    async with engine.connect() as conn:
        found = (await conn.execute(sa.select(v.c.rule, v.c.evidence).where(
            v.c.responsible_org_id == HEALTH))).all()
        projector_set_aside = set((await conn.execute(sa.select(LIVE.quarantined_events.c.sequence))).scalars())
        detector_set_aside = set((await conn.execute(sa.select(DETECTOR.quarantined_events.c.sequence))).scalars())
    assert any(rule == "ExcessivelyShortDeadline" and evidence["request_id"] == short["request_id"]
               for rule, evidence in found), found
    assert {sequences["visit_label"], sequences["request_deadline"]} <= projector_set_aside & detector_set_aside
    assert sequences["checklist_edition"] in projector_set_aside | detector_set_aside


async def test_s1_a_poison_part_of_the_years_checklist_does_not_stop_its_next_publication(log, tmp_path):
    year = 2027
    await publish(log, checklist_part(year, 0))
    async with services_on(log, tmp_path, "2026-10-21"):
        item = await ask(log.nc, BUREAU, "cmd", "requests", "ProposeInspectionItem", item_form(year=year))
        assert len(await events_of(log.store, "inspection_item", item["item_id"], 2)) == 2
        published = await ask(log.nc, BUREAU, "cmd", "approvals", "PublishInspectionChecklist", command(year=year),
                              within=5.0)
    assert published["ok"] is True, published


# The queries: anything a client can send is answered structured, never an internal error.

CURSOR_OF_OTHER_QUERY = "WyJHZXRJbnNwZWN0aW9uQ2hlY2tsaXN0IiwxLDFd"  # ["GetInspectionChecklist",1,1]


@pytest.mark.parametrize("org,name,payload", [
    (BUREAU, "GetInspectionItems", {"year": 9999}),
    (BUREAU, "GetInspectionItems", {"year": 2027, "status": "PROPOSED"}),
    (BUREAU, "GetInspectionItems", {"year": 2027, "cursor": CURSOR_OF_OTHER_QUERY}),
    (BUREAU, "GetInspectionItems", {"year": 2027, "cursor": "\u0000"}),
    (BUREAU, "GetInspectionItems", {"year": 2027, "limit": 10**12}),
    (BUREAU, "GetInspectionChecklist", {"year": 2027, "cursor": "WyJHZXRJbnNwZWN0aW9uQ2hlY2tsaXN0Iiw5OTk5OTk5OTk5LDFd"}),
    (BUREAU, "GetInspectionChecklist", {"year": 2027, "limit": 0}),
    (BUREAU, "GetInspectionCounters", {"year": 2027, "school_id": FIRE}),
    (BUREAU, "GetInspectionCounters", {"year": 2027, "school_id": "school\u0000x"}),
    (BUREAU, "GetInspectionCounters", {"year": 2027, "school_id": "s" * 10_000}),
    (SCHOOLS[0], "GetInspectionCounters", {"year": 2027, "school_id": SCHOOLS[1]}),
    (BUREAU, "GetInspectionCounters", {"year": 2020}),
])
async def test_s1_s2_queries_answer_any_payload_with_a_structured_refusal_never_an_internal_error(
        engine, log, org, name, payload):
    reply, size = await query_router(log, engine)(org, name, **payload)
    assert reply["ok"] is False and reply["error"]["code"] not in ("INTERNAL_ERROR", "UNAVAILABLE"), reply
    assert size < MAX_PAYLOAD


@pytest.mark.parametrize("org,name,payload", [
    (BUREAU, "GetInspectionItems", {"year": 2100, "status": "rejected"}),
    (BUREAU, "GetInspectionItems", {"year": 2027, "status": "merged\n"}),  # the pattern's $ allows it
    (BUREAU, "GetInspectionChecklist", {"year": 2021}),
    (SCHOOLS[0], "GetInspectionCounters", {"year": 2100}),
    (BUREAU, "GetInspectionCounters", {"year": 2027, "school_id": SCHOOLS[2]}),
])
async def test_s1_s2_queries_of_years_with_nothing_in_them_answer_empty(engine, log, org, name, payload):
    reply, _ = await query_router(log, engine)(org, name, **payload)
    assert reply["ok"] is True, reply


async def test_s1_a_merger_stored_with_a_nul_in_its_title_does_not_spoil_the_years_checklist(engine, log, tmp_path):
    """S1: a merger stored by hand with a NUL in its title (the event's schema does not check it)
    is in force, so approvals publishes its row; the read model stores that edition (rows as JSON)
    and Attachment 2 is read back with every other item, while the detector sets the merger aside."""
    year = 2027
    merger = InspectionItemsMerged(item_id=uuid.uuid4(), year=year, title="合并\u0000事项", merged_item_ids=(uuid.uuid4(),),
                                   lead_org_ids=(BUREAU,), category="inspection", target_school_ids=tuple(SCHOOLS),
                                   teachers=False, frequency_per_year=1, planned_months=(12,), data_fields=())
    await publish(log, context_of(BUREAU).event(merger, str(merger.item_id)).model_dump(mode="json"))
    async with services_on(log, tmp_path, "2026-10-21"):
        clean = await ask(log.nc, BUREAU, "cmd", "requests", "ProposeInspectionItem", item_form(year=year))
        assert clean["ok"], clean
        assert len(await events_of(log.store, "inspection_item", clean["item_id"], 2)) == 2  # filed on screening
        published = await ask(log.nc, BUREAU, "cmd", "approvals", "PublishInspectionChecklist", command(year=year),
                              within=5.0)
        assert published["ok"] is True, published
    async with running(engine, log.js, log.store, detection=DETECTION) as both:
        await settle(both, log.store)
    page, _ = await query_router(log, engine)(BUREAU, "GetInspectionChecklist", year=year)
    assert page["ok"] is True, page
    assert sorted(row["item_id"] for row in page["rows"]) == sorted([clean["item_id"], str(merger.item_id)])
    async with engine.connect() as conn:
        set_aside = (await conn.execute(sa.select(DETECTOR.quarantined_events.c.event_type))).scalars().all()
    assert set_aside == ["InspectionItemsMerged"]


@pytest.mark.parametrize("org,name,body,field", [
    (SCHOOLS[0], "ReportInspectionVisit", visit(graded="yes"), "graded"),
    (SCHOOLS[0], "ReportInspectionVisit", visit(graded=1), "graded"),
    (SCHOOLS[0], "ReportInspectionVisit", visit(label="INSPECTION"), "label"),
    (HEALTH, "IssueDataRequest", data_request(school_ids=[], all_schools="true"), "all_schools"),
    (HEALTH, "IssueDataRequest", data_request(deadline=1793000000), "deadline"),
    (HEALTH, "ProposeInspectionItem", item_form(year="2027"), "year"),
    (HEALTH, "ProposeInspectionItem", item_form(year=2027, indicators="12"), "indicators"),
    (HEALTH, "ProposeInspectionItem", item_form(year=2027, frequency_per_year=1.0), "frequency_per_year"),
    (HEALTH, "ProposeInspectionItem", item_form(year=2027, planned_months=["10"]), "planned_months.0"),
])
async def test_s1_s2_values_of_another_type_are_not_coerced_but_refused(nc, today, org, name, body, field):
    """A visit that graded "yes" is not a visit that graded: commands are validated strictly."""
    found = refusal(await ask(nc, org, "cmd", "requests", name, body))
    assert found == ("INVALID_FIELD", field), found


async def test_s1_five_publications_of_one_year_at_once_make_one_edition(log, tmp_path):
    """S1: each publication is the next edition and nothing changed is INVALID_STATE: five at once
    store one edition, and the other four are refused, not failed."""
    year = 2027
    async with services_on(log, tmp_path, "2026-10-21"):
        item = await ask(log.nc, BUREAU, "cmd", "requests", "ProposeInspectionItem", item_form(year=year))
        assert len(await events_of(log.store, "inspection_item", item["item_id"], 2)) == 2
        replies = await asyncio.gather(*(ask(log.nc, BUREAU, "cmd", "approvals", "PublishInspectionChecklist",
                                             command(year=year), within=10.0) for _ in range(5)))
    assert sorted(reply["ok"] for reply in replies) == [False] * 4 + [True], replies
    assert {refusal(reply) for reply in replies if not reply["ok"]} == {("INVALID_STATE", "year")}
    parts = (await log.store.load("inspection_checklist", str(year))).envelopes
    assert [part.data["edition"] for part in parts] == [1]


async def test_s1_two_mergers_sharing_an_item_at_once_store_one_and_leave_no_source_half_merged(log, tmp_path):
    """S1: a merger's events are appended together or not at all: of two at once naming one item,
    one is stored, the other refused (the item is merged already), and its other source stays as
    it was."""
    year = 2027
    async with services_on(log, tmp_path, "2026-10-21"):
        items = []
        for n in range(3):
            reply = await ask(log.nc, BUREAU, "cmd", "requests", "ProposeInspectionItem",
                              item_form(year=year, title=f"检查事项{n}"))
            items.append(reply["item_id"])
        for item_id in items:
            assert len(await events_of(log.store, "inspection_item", item_id, 2)) == 2
        first, second = await asyncio.gather(*(
            ask(log.nc, BUREAU, "cmd", "approvals", "MergeInspectionItems",
                command(item_ids=[items[0], other], title="合并事项"), within=10.0) for other in items[1:]))
    assert sorted((first["ok"], second["ok"])) == [False, True], (first, second)
    loser = items[2] if first["ok"] else items[1]
    assert refusal(second if first["ok"] else first) == ("INVALID_STATE", "item_ids")
    assert len((await log.store.load("inspection_item", loser)).envelopes) == 2
    assert len((await log.store.load("inspection_item", items[0])).envelopes) == 3


async def test_s1_a_visit_reported_by_the_school_and_the_unit_at_once_is_one_event(log, tmp_path):
    async with services_on(log, tmp_path, "2026-10-21"):
        by_school, by_unit = await asyncio.gather(
            ask(log.nc, SCHOOLS[0], "cmd", "requests", "ReportInspectionVisit", visit()),
            ask(log.nc, FIRE, "cmd", "requests", "ReportInspectionVisit",
                visit(visiting_org_id=None, school_id=SCHOOLS[0])))
    assert by_school["ok"] and by_unit["ok"] and by_school["visit_id"] == by_unit["visit_id"], (by_school, by_unit)
    assert sorted((by_school["already_reported"], by_unit["already_reported"])) == [False, True]
    assert len((await log.store.load("inspection_visit", by_school["visit_id"])).envelopes) == 1


async def test_s1_s2_facts_stored_with_ids_no_index_holds_stop_neither_consumer(engine, log, tmp_path):
    """S1/S2: a visit, a data request and a proposal stored by hand with a school or unit id of
    10,000 characters (past intake, which takes only directory ids): PostgreSQL cannot index
    such a key, so whichever reader cannot store one sets it aside; the request after them is judged."""
    year, long_id = 2027, "s" * 10_000
    async with services_on(log, tmp_path, "2026-10-21"):
        item = await ask(log.nc, BUREAU, "cmd", "requests", "ProposeInspectionItem", item_form(year=year))
        seen_visit = await ask(log.nc, SCHOOLS[0], "cmd", "requests", "ReportInspectionVisit", visit())
        asked = await ask(log.nc, HEALTH, "cmd", "requests", "IssueDataRequest", data_request())
        proposal = (await log.store.load("inspection_item", item["item_id"])).envelopes[0]
        [visited] = (await log.store.load("inspection_visit", seen_visit["visit_id"])).envelopes
        [request] = (await log.store.load("data_request", asked["request_id"])).envelopes
        spoiled = [
            poisoned(visited.model_dump(mode="json"), school_id=long_id, visit_id=str(uuid.uuid4())),
            poisoned(request.model_dump(mode="json"), school_ids=[long_id], request_id=str(uuid.uuid4())),
            {**poisoned(proposal.model_dump(mode="json"), lead_org_id=long_id, item_id=(other := str(uuid.uuid4()))),
             "aggregate_id": other},
        ]
        for envelope in spoiled:
            await publish(log, envelope)
        short = await ask(log.nc, HEALTH, "cmd", "requests", "IssueDataRequest",
                          data_request(deadline="2026-10-22T23:30:00+08:00"))  # under two days
        assert short["ok"] is True, short
    async with running(engine, log.js, log.store, detection=DETECTION) as both:
        last = await settle(both, log.store)
        assert both.active and last == await log.store.last_sequence()
    v = LIVE.violations
    async with engine.connect() as conn:
        found = (await conn.execute(sa.select(v.c.rule, v.c.evidence).where(
            v.c.responsible_org_id == HEALTH))).all()
    assert any(rule == "ExcessivelyShortDeadline" and evidence["request_id"] == short["request_id"]
               for rule, evidence in found), found


@pytest.mark.parametrize("deadline", ["9999-12-31T23:59:59+00:00", "9999-12-31T23:59:59+23:59",
                                      "2026-10-30T17:00:00-23:59"])
async def test_s2_a_deadline_at_the_edge_of_time_is_accepted_stored_and_judged(engine, log, tmp_path, deadline):
    """S2: any deadline with a UTC time is accepted, projected into PostgreSQL and judged."""
    async with services_on(log, tmp_path, "2026-10-21"):
        asked = await ask(log.nc, HEALTH, "cmd", "requests", "IssueDataRequest", data_request(deadline=deadline))
        assert asked["ok"] is True, asked
    async with running(engine, log.js, log.store, detection=DETECTION) as both:
        last = await settle(both, log.store)
        assert both.active and last == await log.store.last_sequence()
    requests = LIVE.data_requests
    async with engine.connect() as conn:
        stored = (await conn.execute(sa.select(requests.c.deadline).where(
            requests.c.request_id == asked["request_id"]))).scalar_one()
        set_aside = (await conn.execute(sa.select(sa.func.count()).select_from(LIVE.quarantined_events))).scalar()
        detector_set_aside = (await conn.execute(sa.select(sa.func.count()).select_from(
            DETECTOR.quarantined_events))).scalar()
    assert stored == datetime.fromisoformat(deadline) and set_aside == detector_set_aside == 0
