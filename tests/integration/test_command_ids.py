"""Scoped idempotency (issue 5, finding 6): a command is known by (org, context, command,
command_id) and the digest of its body. A retry gets the original answer; the same key with
another body is refused; nothing of one organisation's command is returned to another."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from jianfu.cli.client import JianfuClient
from jianfu.events.settings import Settings

from tests.apps import command_services
from tests.factories import SCHOOLS, application, held_report

BUREAU, POLICE, FIRE = "edu-bureau", "dept-public-security", "dept-fire"
README_COMMAND_ID = "7d0c5a52-3c57-4d3c-9a43-4f8d0b7c2a11"  # the id of the README's worked example
URGENT = {"declaration_type": "urgent", "urgency_reason": "上级临时部署的禁毒宣传", "urgency_category": "superior_directive"}


@pytest.fixture(scope="module")
async def client(nats_server, nc, tmp_path_factory):
    clock: Path = tmp_path_factory.mktemp("clock") / "today"
    clock.write_text("2026-07-10")
    async with command_services(Settings(nats_url=nats_server.url, clock=f"file:{clock}", log_level="WARNING")):
        yield JianfuClient(nc, timeout=2.0)


async def declare(client, org: str, **overrides) -> dict:
    return await client.command(org, "requests", "RequestActivity", application(**overrides))


async def test_s3_two_units_pasting_the_readme_example_each_get_their_own_activity(client, store):
    police = await declare(client, POLICE, command_id=README_COMMAND_ID)
    fire = await declare(client, FIRE, command_id=README_COMMAND_ID, title="消防安全疏散演练")
    assert police["ok"] and fire["ok"] and police["activity_id"] != fire["activity_id"]
    [stored] = (await store.load("activity", fire["activity_id"])).envelopes
    assert stored.data["applicant_org_id"] == FIRE and stored.data["title"] == "消防安全疏散演练"


async def test_s3_the_same_command_id_with_another_body_is_refused_and_records_nothing(client, store):
    command_id = str(uuid.uuid4())
    first = await declare(client, POLICE, command_id=command_id)
    second = await declare(client, POLICE, command_id=command_id, title="另一项活动")
    assert first["ok"] and second["ok"] is False
    assert second["error"]["code"] == "COMMAND_ID_REUSED" and second["error"]["field"] == "command_id"
    [stored] = (await store.load("activity", first["activity_id"])).envelopes
    assert stored.data["title"] == application()["title"]


async def test_a_retry_with_the_same_body_gets_the_original_answer(client):
    form = application()
    first, retry = await declare(client, POLICE, **form), await declare(client, POLICE, **form)
    assert {k: first[k] for k in ("activity_id", "sequence")} == {k: retry[k] for k in ("activity_id", "sequence")}


async def test_s3_a_schools_report_id_is_its_own(client, store):
    command_id = str(uuid.uuid4())
    one = await client.command(SCHOOLS[0], "requests", "RecordActivityHeld", held_report(FIRE, "2026-07-01", command_id=command_id))
    two = await client.command(SCHOOLS[1], "requests", "RecordActivityHeld", held_report(FIRE, "2026-07-01", command_id=command_id))
    assert one["ok"] and two["ok"] and one["report_id"] != two["report_id"]
    [stored] = (await store.load("campus_entry_report", two["report_id"])).envelopes
    assert stored.data["school_id"] == SCHOOLS[1]


async def test_s3_one_command_id_for_two_decisions_of_one_command_is_refused(client):
    a, b = await declare(client, POLICE, **URGENT), await declare(client, POLICE, **URGENT)
    command_id = str(uuid.uuid4())
    certified = await client.command(BUREAU, "approvals", "CertifyActivity",
                                     {"command_id": command_id, "activity_id": a["activity_id"], "urgency_confirmed": True})
    other_activity = await client.command(BUREAU, "approvals", "CertifyActivity",
                                          {"command_id": command_id, "activity_id": b["activity_id"],
                                           "urgency_confirmed": True})
    other_command = await client.command(BUREAU, "approvals", "RejectActivity", {
        "command_id": command_id, "activity_id": a["activity_id"], "refusal_code": "SCOPE_TOO_BROAD", "reason": "范围过大"})
    assert certified["decision"] == "certified"
    assert other_activity["error"]["code"] == "COMMAND_ID_REUSED"
    # (org, context, command, command_id) is the key: RejectActivity with that id is another command,
    # judged on its own (the activity is decided already), not a reuse.
    assert other_command["error"]["code"] == "INVALID_STATE"


async def test_s3_a_command_id_reused_for_a_decision_in_another_semester_is_refused(client, store):
    autumn = await declare(client, POLICE, **URGENT)
    spring = await client.command(POLICE, "requests", "RequestActivity", application(
        target_semester="2026-spring", start_date="2026-07-10", end_date="2026-07-10", declaration_type="urgent",
        urgency_category="superior_directive", urgency_reason="上级临时部署：学期结束前须完成防溺水专项教育"))
    command_id = str(uuid.uuid4())
    first = await client.command(BUREAU, "approvals", "CertifyActivity",
                                 {"command_id": command_id, "activity_id": autumn["activity_id"], "urgency_confirmed": True})
    reused = await client.command(BUREAU, "approvals", "CertifyActivity",
                                  {"command_id": command_id, "activity_id": spring["activity_id"],
                                   "urgency_confirmed": True})
    assert spring["ok"] and first["ok"]  # certified, or refused where other tests filled its schools
    assert reused["error"]["code"] == "COMMAND_ID_REUSED"
    decided = [e for e in (await store.load("activity", spring["activity_id"])).envelopes if e.actor.org_id == BUREAU]
    assert decided == []
