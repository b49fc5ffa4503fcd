"""S1 inspections through the running approvals service: screening of proposals, the supervision
office's decisions, the education bureau's merger and the year's checklist (Attachment 2).

Proposals are given as stored events (as intake stores them), so these tests stand on the
approvals side alone; each test works in a year of its own, so none reads another's items.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, date, datetime

import pytest
from jianfu.approvals import inspection_handlers
from jianfu.cli.client import JianfuClient
from jianfu.events import catalogue
from jianfu.events.commands import Caller
from jianfu.events.dependencies import Deps
from jianfu.events.envelope import Actor
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.inspections import InspectionItemProposed, PublishInspectionChecklist
from jianfu.events.settings import FixedClock

from tests.factories import DIRECTORY, POLICY, SCHOOLS
from tests.poison import own_log, publish

BUREAU, OFFICE, HEALTH, FIRE = "edu-bureau", "supervision-office", "dept-health", "dept-fire"
ITEM = "inspection_item"


@pytest.fixture
def client(nc, services, clock_file) -> JianfuClient:
    clock_file.write_text("2026-12-01")
    return JianfuClient(nc, timeout=5.0)


async def propose(store, lead: str, year: int, **overrides) -> str:
    """An item as intake stores it, by ``lead``, for ``year``."""
    item_id = uuid.uuid4()
    proposal = InspectionItemProposed.model_validate({
        "item_id": item_id, "lead_org_id": lead, "proposed_on": date(year - 1, 12, 1), "late": False, "year": year,
        "title": "学校卫生工作检查", "category": "inspection", "policy_basis": "《学校卫生工作条例》",
        "method": "实地检查", "target": {"all_schools": True}, "school_ids": SCHOOLS, "indicators": 10,
        "frequency_per_year": 1, "planned_months": [9, 10], "data_fields": ["晨午检记录"], **overrides})
    actor = Actor(org_id=lead, org_kind=DIRECTORY.get(lead).kind)
    context = CommandContext(actor, str(uuid.uuid4()), str(uuid.uuid4()), POLICY.version, datetime.now(UTC))
    await store.append(await store.load(ITEM, str(item_id)), [context.event(proposal, str(item_id))])
    return str(item_id)


async def decided(store, item_id: str, timeout: float = 5.0):
    """The item's decision, waiting for screening where it decides."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = (await store.load(ITEM, item_id)).envelopes[1:]
        if events:
            return events[0]
        await asyncio.sleep(0.05)
    return None


def command(**fields) -> dict:
    return {"command_id": str(uuid.uuid4()), **fields}


async def test_s1_the_bureaus_own_item_is_filed_on_screening_without_approval(client, store):
    item_id = await propose(store, BUREAU, 2081)
    decision = await decided(store, item_id)
    assert (decision.event_type, decision.data["lead_org_id"], decision.actor.org_id) == (
        "InspectionItemFiled", BUREAU, "jianfu")
    reply = await client.command(OFFICE, "approvals", "ApproveInspectionItem", command(item_id=item_id))
    assert (reply["error"]["code"], reply["error"]["field"]) == ("INVALID_STATE", "item_id")


async def test_s1_a_late_item_without_an_urgency_reason_is_refused_on_screening(client, store):
    item_id = await propose(store, HEALTH, 2081, late=True)
    decision = await decided(store, item_id)
    assert decision.event_type == "InspectionItemRejected"
    assert (decision.data["refusal_code"], decision.data["automatic"]) == ("LATE_FILING", True)


async def test_s1_the_supervision_office_approves_another_units_item_once(client, store):
    item_id = await propose(store, HEALTH, 2082)
    body = command(item_id=item_id, note="同意，由区教体局统筹实施")
    refused = await client.command(BUREAU, "approvals", "ApproveInspectionItem", body)
    assert refused["error"]["code"] == "FORBIDDEN"
    reply = await client.command(OFFICE, "approvals", "ApproveInspectionItem", body)
    assert (reply["decision"], reply["approved_by_org_id"]) == ("approved", OFFICE), reply
    [approval] = (await store.load(ITEM, item_id)).envelopes[1:]
    assert (approval.event_type, approval.data["approved_by_org_id"]) == ("InspectionApproved", OFFICE)
    retry = await client.command(OFFICE, "approvals", "ApproveInspectionItem", body)
    assert {**retry, "correlation_id": ""} == {**reply, "correlation_id": ""}
    again = await client.command(OFFICE, "approvals", "RejectInspectionItem", command(
        item_id=item_id, refusal_code="TOO_FREQUENT", reason="频次过高"))
    assert again["error"]["code"] == "INVALID_STATE"


async def test_s1_the_supervision_office_rejects_with_a_code(client, store):
    item_id = await propose(store, FIRE, 2082)
    body = command(item_id=item_id, refusal_code="DUPLICATES_EXISTING_ITEM", reason="与区教体局安全检查重复，应合并")
    assert (await client.command(BUREAU, "approvals", "RejectInspectionItem", body))["error"]["code"] == "FORBIDDEN"
    reply = await client.command(OFFICE, "approvals", "RejectInspectionItem", body)
    assert (reply["decision"], reply["refusal_code"], reply["automatic"]) == ("rejected", "DUPLICATES_EXISTING_ITEM", False)
    missing = await client.command(OFFICE, "approvals", "ApproveInspectionItem", command(item_id=str(uuid.uuid4())))
    assert missing["error"]["code"] == "NOT_FOUND"


async def test_s1_an_unapproved_item_of_another_unit_cannot_be_merged_an_approved_one_can(client, store):
    own, health = await propose(store, BUREAU, 2083, title="校园安全检查"), await propose(store, HEALTH, 2083)
    assert (await decided(store, own)).event_type == "InspectionItemFiled"
    body = command(item_ids=[health, own], title="学校卫生与安全联合检查")
    refused = await client.command(BUREAU, "approvals", "MergeInspectionItems", body)
    assert (refused["error"]["code"], refused["error"]["field"]) == ("NOT_APPROVED", "item_ids")
    assert len((await store.load(ITEM, health)).envelopes) == 1  # nothing stored for the refusal
    await client.command(OFFICE, "approvals", "ApproveInspectionItem", command(item_id=health))
    merged = await client.command(BUREAU, "approvals", "MergeInspectionItems", command(
        item_ids=[health, own], title="学校卫生与安全联合检查"))
    assert merged["merged_item_ids"] == [health, own] and merged["lead_org_ids"] == [HEALTH, BUREAU], merged
    [event] = (await store.load(ITEM, merged["item_id"])).envelopes
    assert event.event_type == "InspectionItemsMerged" and event.data["year"] == 2083
    for source in (health, own):
        last = (await store.load(ITEM, source)).envelopes[-1]
        assert (last.event_type, last.data["into_item_id"]) == ("InspectionItemMerged", merged["item_id"])
    again = await client.command(BUREAU, "approvals", "MergeInspectionItems", command(
        item_ids=[health, own], title="再次合并"))
    assert again["error"]["code"] == "INVALID_STATE"


async def test_s1_the_checklist_holds_the_items_in_force_and_a_merged_item_once(client, store):
    year = 2084
    own = await propose(store, BUREAU, year, title="教育收费检查", planned_months=[3, 4, 5])
    health = await propose(store, HEALTH, year, title="学校卫生工作检查")
    fire = await propose(store, FIRE, year, title="消防安全检查")
    waiting = await propose(store, "dept-justice", year, title="法治教育考核")
    refused = await propose(store, "dept-housing", year, title="校舍安全评比")
    assert (await decided(store, own)).event_type == "InspectionItemFiled"
    for item_id in (health, fire):
        assert (await client.command(OFFICE, "approvals", "ApproveInspectionItem", command(item_id=item_id)))["ok"]
    await client.command(OFFICE, "approvals", "RejectInspectionItem", command(
        item_id=refused, refusal_code="NOT_NECESSARY", reason="可由日常工作解决"))
    merged = await client.command(BUREAU, "approvals", "MergeInspectionItems", command(
        item_ids=[health, fire], title="学校卫生与消防安全联合检查"))
    published = await client.command(BUREAU, "approvals", "PublishInspectionChecklist", command(year=year))
    assert (published["edition"], published["row_count"], published["parts"]) == (1, 2, 1), published
    [part] = (await store.load("inspection_checklist", str(year))).envelopes
    rows = part.data["rows"]
    assert [row["item_id"] for row in rows] == [merged["item_id"], own]  # by title: 学 (U+5B66) before 教 (U+6559)
    assert waiting not in str(rows) and refused not in str(rows)
    assert rows[0]["merged_item_ids"] == [health, fire] and rows[0]["inspecting_units"] == [HEALTH, FIRE]
    assert rows[1]["time_window"] == "3-5月" and rows[1]["inspecting_unit_names"] == ["大武口区教育体育局"]
    again = await client.command(BUREAU, "approvals", "PublishInspectionChecklist", command(year=year))
    assert (again["error"]["code"], again["error"]["field"]) == ("INVALID_STATE", "year")
    await client.command(OFFICE, "approvals", "ApproveInspectionItem", command(item_id=waiting))
    second = await client.command(BUREAU, "approvals", "PublishInspectionChecklist", command(year=year))
    assert (second["edition"], second["row_count"]) == (2, 3)


async def test_s1_only_the_education_bureau_merges_and_publishes(client):
    for name, body in (("MergeInspectionItems", command(item_ids=[str(uuid.uuid4()), str(uuid.uuid4())], title="合并")),
                       ("PublishInspectionChecklist", command(year=2085))):
        reply = await client.command(OFFICE, "approvals", name, body)
        assert reply["error"]["code"] == "FORBIDDEN"


async def test_s1_an_unreadable_item_event_does_not_stop_the_checklist(tmp_path):
    """An event of an item that cannot be parsed (written around the store) is passed over: the
    checklist of the items that can be read is still published. On a log of its own."""
    async with own_log(tmp_path) as log:
        deps = Deps(log.store, DIRECTORY, POLICY, FixedClock(date(2026, 12, 1)))
        own = await propose(log.store, BUREAU, 2086, title="教育收费检查")
        proposal = (await log.store.load(ITEM, own)).envelopes[0]
        await inspection_handlers.screen_proposal(proposal, 1, deps)
        unknown = {**proposal.model_dump(mode="json"), "event_type": "InspectionItemTeleported",
                   "aggregate_id": str(uuid.uuid4())}
        await publish(log.js, unknown)
        await publish(log.js, b"\xff\xfe not json {", f"jf.ev.inspection_item.{uuid.uuid4()}")
        caller = Caller(DIRECTORY.get(BUREAU), str(uuid.uuid4()), context="approvals", command="PublishInspectionChecklist")
        reply = await inspection_handlers.publish_inspection_checklist(
            PublishInspectionChecklist(command_id=uuid.uuid4(), year=2086), caller, deps)
        assert (reply["edition"], reply["row_count"]) == (1, 1)
        [part] = (await log.store.load("inspection_checklist", "2086")).envelopes
        assert [str(row.item_id) for row in catalogue.parse(part).rows] == [own]


async def test_s1_an_item_proposed_through_intake_is_screened_by_approvals(client, store, clock_file):
    """The two services together: the bureau's own proposal is filed, a department's late one
    without a reason refused (on 2026-12-20, January 2027 is less than 30 days ahead)."""
    clock_file.write_text("2026-12-20")
    form = {"year": 2027, "title": "学校安全工作检查", "category": "inspection", "policy_basis": "《中小学幼儿园安全管理办法》",
            "target": {"all_schools": True}, "method": "实地检查", "indicators": 8, "frequency_per_year": 1}
    own = await client.command(BUREAU, "requests", "ProposeInspectionItem", command(**form, planned_months=[9]))
    late = await client.command(HEALTH, "requests", "ProposeInspectionItem", command(**form, planned_months=[1]))
    assert (own["late"], late["late"]) == (False, True), (own, late)
    assert (await decided(store, own["item_id"])).event_type == "InspectionItemFiled"
    refused = await decided(store, late["item_id"])
    assert (refused.event_type, refused.data["refusal_code"]) == ("InspectionItemRejected", "LATE_FILING")
