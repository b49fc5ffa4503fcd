"""S3 intake (issue 8) through real request-reply: requests and approvals running against real
NATS, the clock file setting the business day."""

from __future__ import annotations

import uuid

import pytest
from jianfu.cli.client import JianfuClient

from tests.factories import DIRECTORY, SCHOOLS, application, held_report

POLICE, FIRE = "dept-public-security", "dept-fire"
URGENT = {"declaration_type": "urgent", "urgency_category": "superior_directive",
          "urgency_reason": "上级临时部署：汛期前须完成全区防溺水专项教育"}
RED_CROSS = "宁夏回族自治区红十字会"


@pytest.fixture
def client(nc, services, clock_file) -> JianfuClient:
    clock_file.write_text("2026-07-10")
    return JianfuClient(nc, timeout=2.0)


async def declare(client, **overrides) -> dict:
    return await client.command(POLICE, "requests", "RequestActivity", application(**overrides))


async def requested(store, reply: dict) -> dict:
    assert reply["ok"], reply
    [event] = (await store.load("activity", reply["activity_id"])).envelopes
    return event.data


def refused(reply: dict) -> tuple[str, str]:
    assert reply["ok"] is False, reply
    return reply["error"]["code"], reply["error"].get("field")


async def test_s3_an_urgent_declaration_with_a_one_character_reason_is_refused(client, clock_file):
    clock_file.write_text("2026-10-09")
    assert refused(await declare(client, **{**URGENT, "urgency_reason": "急"})) == ("INVALID_FIELD", "urgency_reason")
    assert refused(await declare(client, **{**URGENT, "urgency_category": None})) == ("INVALID_FIELD",
                                                                                     "urgency_category")
    assert (await declare(client, **URGENT))["route"] == "urgent"


async def test_s3_an_urgent_declaration_in_august_for_next_may_is_refused(client, clock_file):
    clock_file.write_text("2026-08-12")
    reply = await declare(client, **URGENT, target_semester="2027-spring", start_date="2027-05-10",
                          end_date="2027-05-20")
    assert refused(reply) == ("INVALID_FIELD", "target_semester")


async def test_s3_a_july_declaration_running_to_june_two_years_on_is_refused(client):
    assert refused(await declare(client, end_date="2028-06-30")) == ("INVALID_FIELD", "end_date")


async def test_s3_the_declaration_records_its_frequency_as_structured_maxima(client, store):
    event = await requested(store, await declare(client, frequency="每年1-2次", occurrences=2))
    assert (event["frequency"], event["max_per_year"], event["max_per_semester"]) == ("每年1-2次", 2, None)
    reply = await declare(client, frequency="每学期1次", occurrences=3)
    assert refused(reply) == ("INVALID_FIELD", "occurrences")


async def test_s3_a_scope_of_middle_schools_sampled_by_half_resolves_to_recorded_school_ids(client, store):
    middle = DIRECTORY.schools_of(["middle"])
    reply = await declare(client, scope={"all_schools": True, "stages": ["middle"], "sample_share": 0.5},
                          delivery="school_run", basis_level="national")
    event = await requested(store, reply)
    assert reply["school_count"] == len(event["school_ids"]) == -(-len(middle) // 2)
    assert set(event["school_ids"]) <= set(middle)
    assert (event["delivery"], event["basis_level"]) == ("school_run", "national")


async def test_s3_a_school_reports_an_entry_by_an_organiser_outside_the_directory(client, clock_file, store):
    clock_file.write_text("2026-10-21")
    reply = await client.command(SCHOOLS[0], "requests", "RecordActivityHeld",
                                 held_report(None, "2026-10-20", organizer_name=RED_CROSS, title="应急救护培训进校园"))
    assert reply["ok"] and reply["organizer_org_id"] is None and reply["semester"] == "2026-autumn"
    [event] = (await store.load("campus_entry_report", reply["report_id"])).envelopes
    assert (event.event_type, event.data["organizer_org_id"], event.data["organizer_name"]) == (
        "ActivityHeldReported", None, RED_CROSS)


async def test_s3_a_school_names_a_directory_unit_and_it_is_recorded_by_its_id(client, clock_file, store):
    clock_file.write_text("2026-10-21")
    claim = {"category": "regional_catalogue", "reference": "科普活动进校园"}
    reply = await client.command(SCHOOLS[0], "requests", "RecordActivityHeld",
                                 held_report(None, "2026-10-20", organizer_name="区消防大队", exemption_claim=claim))
    [event] = (await store.load("campus_entry_report", reply["report_id"])).envelopes
    assert (event.data["organizer_org_id"], event.data["exemption_claim"]) == ("dept-fire", claim)


async def test_s3_a_school_records_an_entry_it_turned_away(client, clock_file, store):
    clock_file.write_text("2026-10-21")
    command = {"command_id": str(uuid.uuid4()), "organizer_name": RED_CROSS, "title": "急救包商业推介",
               "refused_on": "2026-10-20"}
    reply = await client.command(SCHOOLS[1], "requests", "RecordEntryRefused", command)
    retry = await client.command(SCHOOLS[1], "requests", "RecordEntryRefused", command)
    assert reply["ok"] and reply["semester"] == "2026-autumn" and retry["report_id"] == reply["report_id"]
    [event] = (await store.load("campus_entry_report", reply["report_id"])).envelopes
    assert event.event_type == "CampusEntryRefused" and event.actor.org_id == SCHOOLS[1]
    assert (event.data["school_id"], event.data["refusal_code"], event.data["organizer_name"]) == (
        SCHOOLS[1], "NOT_ON_LIST", RED_CROSS)


async def test_s3_only_a_school_records_a_refusal_and_not_for_a_day_to_come(client, clock_file):
    clock_file.write_text("2026-10-21")
    command = {"command_id": str(uuid.uuid4()), "organizer_org_id": FIRE, "title": "消防器材商业推介",
               "refused_on": "2026-10-20"}
    assert refused(await client.command(POLICE, "requests", "RecordEntryRefused", command))[0] == "FORBIDDEN"
    future = {**command, "command_id": str(uuid.uuid4()), "refused_on": "2026-10-22"}
    assert refused(await client.command(SCHOOLS[0], "requests", "RecordEntryRefused", future)) == (
        "INVALID_FIELD", "refused_on")
