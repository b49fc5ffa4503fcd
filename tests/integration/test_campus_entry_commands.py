"""S3 commands through real request-reply: requests and approvals running against real NATS."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest
from jianfu.cli.client import JianfuClient

from tests.factories import POLICY, SCHOOLS, application, held_report

BUREAU, POLICE, FIRE = "edu-bureau", "dept-public-security", "dept-fire"
URGENT = {"declaration_type": "urgent", "urgency_reason": "上级临时部署的禁毒宣传", "urgency_category": "superior_directive"}


@pytest.fixture
def client(nc, services, clock_file) -> JianfuClient:
    clock_file.write_text("2026-07-10")
    return JianfuClient(nc, timeout=2.0)


async def request(client, org=POLICE, **overrides) -> dict:
    return await client.command(org, "requests", "RequestActivity", application(**overrides))


async def decisions(store, semester: str, activity_id: str, want: int = 1, timeout: float = 5.0):
    """The decisions on an activity (events of its own aggregate, after the request)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        history = await store.load("activity", activity_id)
        found = [e.envelope for e in history.events[1:] if e.envelope.data.get("semester") == semester]
        if len(found) >= want:
            return found
        await asyncio.sleep(0.05)
    return []


async def test_s3_unit_declares_in_july_and_gets_the_activity_id(client, store):
    reply = await request(client)
    assert reply["ok"] is True and reply["in_window"] is True and reply["route"] == "regular"
    history = await store.load("activity", reply["activity_id"])
    assert [e.envelope.event_type for e in history.events] == ["ActivityRequested"]
    assert history.events[0].envelope.correlation_id == reply["correlation_id"]


async def test_retried_command_returns_the_same_result_and_records_one_event(client, store):
    form = application()
    first = await client.command(POLICE, "requests", "RequestActivity", form)
    second = await client.command(POLICE, "requests", "RequestActivity", form)
    assert first["activity_id"] == second["activity_id"] and first["sequence"] == second["sequence"]
    assert len((await store.load("activity", first["activity_id"])).events) == 1


async def test_s3_only_the_education_bureau_may_certify(client):
    activity = await request(client)
    for org in (POLICE, SCHOOLS[0], "supervision-office"):
        reply = await client.command(org, "approvals", "CertifyActivity",
                                     {"command_id": str(uuid.uuid4()), "activity_id": activity["activity_id"]})
        assert reply["ok"] is False and reply["error"]["code"] == "FORBIDDEN"
        reply = await client.command(org, "approvals", "DecideCertificationRound",
                                     {"command_id": str(uuid.uuid4()), "semester": "2026-autumn"})
        assert reply["ok"] is False and reply["error"]["code"] == "FORBIDDEN"


async def test_s3_a_school_may_not_declare_and_a_unit_may_not_report_held(client):
    assert (await request(client, org=SCHOOLS[0]))["error"]["code"] == "FORBIDDEN"
    reply = await client.command(POLICE, "requests", "RecordActivityHeld", held_report(FIRE))
    assert reply["error"]["code"] == "FORBIDDEN"


async def test_s3_out_of_window_declaration_is_refused_automatically(client, clock_file, store):
    clock_file.write_text("2026-08-20")
    reply = await request(client)
    assert reply["ok"] and reply["in_window"] is False
    [decision] = await decisions(store, "2026-autumn", reply["activity_id"])
    assert decision.event_type == "ActivityRejected"
    assert decision.data["refusal_code"] == "OUTSIDE_WINDOW_NO_URGENCY" and decision.data["automatic"]
    assert decision.causation_id == (await store.load("activity", reply["activity_id"])).events[0].envelope.event_id


async def test_s3_exempt_activity_is_recorded_without_certification(client, store):
    reply = await request(client, exemption_claim={"category": "city_creation", "reference": "《创建全国文明城市工作方案》"})
    [decision] = await decisions(store, "2026-autumn", reply["activity_id"])
    assert decision.event_type == "ActivityExemptionRecorded"


async def test_s3_bureau_certifies_in_the_round_rejects_and_publishes_the_semester_list(client, store, clock_file):
    semester = "2031-autumn"  # a semester of this test's own
    clock_file.write_text("2031-07-05")
    form = dict(target_semester=semester, start_date="2031-09-10", end_date="2031-10-10")
    good, bad = await request_in(client, semester, form), await request_in(client, semester, form, title="商业研学推广")
    clock_file.write_text("2031-08-20")
    decided = await client.command(BUREAU, "approvals", "DecideCertificationRound", {
        "command_id": str(uuid.uuid4()), "semester": semester, "rejections": [
            {"activity_id": bad["activity_id"], "refusal_code": "NOT_STUDENT_FOCUSED", "reason": "主体不是学生"}]})
    published = await client.command(BUREAU, "approvals", "PublishSemesterList",
                                     {"command_id": str(uuid.uuid4()), "semester": semester})
    assert (decided["places"], decided["certified"], decided["rejected"]) == (2, 1, 1)
    assert published["ok"] and published["edition"] == 1 and published["item_count"] == 1
    last = (await store.load("campus_entry_semester", semester)).events[-1].envelope
    assert last.event_type == "SemesterListPublished"
    assert [item["activity_id"] for item in last.data["items"]] == [good["activity_id"]]




async def request_in(client, semester: str, form: dict, **overrides) -> dict:
    reply = await request(client, **{**form, **overrides})
    assert reply["ok"], reply
    return reply


async def test_s3_racing_certifications_never_exceed_the_per_school_cap(client, clock_file):
    semester = "2032-autumn"
    clock_file.write_text("2032-07-05")
    form = dict(target_semester=semester, start_date="2032-09-10", end_date="2032-10-10",
                scope={"school_ids": [SCHOOLS[3]]}, **URGENT)
    cap = POLICY.campus_entry.items_per_school_per_semester
    activities = [await request_in(client, semester, form) for _ in range(cap + 3)]
    replies = await asyncio.gather(*(
        client.command(BUREAU, "approvals", "CertifyActivity",
                       {"command_id": str(uuid.uuid4()), "activity_id": a["activity_id"], "urgency_confirmed": True})
        for a in activities))
    outcomes = sorted(r.get("decision") or r["error"]["code"] for r in replies)
    assert outcomes.count("certified") == cap
    assert [r["refusal_code"] for r in replies if r.get("decision") == "rejected"] == ["QUOTA_EXCEEDED"] * 3


async def test_s3_a_full_school_is_refused_alone_and_the_application_is_certified_for_the_others(client, clock_file):
    """Issue 8, finding 6: certified per school, the refused school and the reason in the reply."""
    semester = "2034-autumn"
    clock_file.write_text("2034-07-05")
    form = dict(target_semester=semester, start_date="2034-09-10", end_date="2034-10-10", **URGENT)
    cap = POLICY.campus_entry.items_per_school_per_semester
    for _ in range(cap):
        filler = await request_in(client, semester, form, scope={"school_ids": [SCHOOLS[4]]})
        assert (await certify(client, filler))["decision"] == "certified"
    both = await request_in(client, semester, form, scope={"school_ids": [SCHOOLS[4], SCHOOLS[5]]})
    reply = await certify(client, both)
    assert reply["decision"] == "certified" and reply["school_ids"] == [SCHOOLS[5]]
    assert [(r["school_id"], r["refusal_code"]) for r in reply["refused_schools"]] == [(SCHOOLS[4], "QUOTA_EXCEEDED")]


async def certify(client, activity: dict) -> dict:
    return await client.command(BUREAU, "approvals", "CertifyActivity", {
        "command_id": str(uuid.uuid4()), "activity_id": activity["activity_id"], "urgency_confirmed": True})


async def test_certify_twice_with_a_new_command_is_refused_but_a_retry_is_answered_again(client):
    activity = await request(client, **URGENT)
    command = {"command_id": str(uuid.uuid4()), "activity_id": activity["activity_id"], "urgency_confirmed": True}
    first = await client.command(BUREAU, "approvals", "CertifyActivity", command)
    retry = await client.command(BUREAU, "approvals", "CertifyActivity", command)
    again = await client.command(BUREAU, "approvals", "CertifyActivity", {**command, "command_id": str(uuid.uuid4())})
    assert first["decision"] == retry["decision"] == "certified" and first["sequence"] == retry["sequence"]
    assert again["error"]["code"] == "INVALID_STATE"


async def test_s3_school_reports_an_activity_held(client, clock_file, store):
    clock_file.write_text("2026-10-21")
    reply = await client.command(SCHOOLS[0], "requests", "RecordActivityHeld", held_report(FIRE, "2026-10-20"))
    assert reply["ok"] and reply["semester"] == "2026-autumn"
    [event] = (await store.load("campus_entry_report", reply["report_id"])).envelopes
    assert event.data["school_id"] == SCHOOLS[0] and event.actor.org_id == SCHOOLS[0]


BAD_INPUTS = [
    ("jf.cmd.dept-public-security.requests.RequestActivity", b"{not json", "MALFORMED_JSON", None),
    ("jf.cmd.dept-public-security.requests.RequestActivity", b"[1, 2]", "MALFORMED_JSON", None),
    ("jf.cmd.dept-public-security.requests.RequestActivity", b"\xff\xfe", "MALFORMED_JSON", None),
    ("jf.cmd.dept-public-security.requests.RequestActivity", b"", "MALFORMED_JSON", None),
    ("jf.cmd.dept-nowhere.requests.RequestActivity", json.dumps(application()).encode(), "UNKNOWN_ORG", "org_id"),
    ("jf.cmd.dept-public-security.requests.DeleteEverything", b"{}", "UNKNOWN_COMMAND", None),
    ("jf.cmd.dept-public-security.requests.RequestActivity",
     json.dumps(application(start_date="2026-02-30")).encode(), "INVALID_FIELD", "start_date"),
    ("jf.cmd.dept-public-security.requests.RequestActivity",
     json.dumps(application(occurrences="many")).encode(), "INVALID_FIELD", "occurrences"),
    ("jf.cmd.dept-public-security.requests.RequestActivity",
     json.dumps({k: v for k, v in application().items() if k != "title"}).encode(), "INVALID_FIELD", "title"),
    ("jf.cmd.dept-public-security.requests.RequestActivity",
     json.dumps(application(command_id="not-a-uuid")).encode(), "INVALID_FIELD", "command_id"),
    ("jf.cmd.dept-public-security.requests.RequestActivity",
     json.dumps(application(surprise=1)).encode(), "INVALID_FIELD", "surprise"),
    ("jf.cmd.dept-public-security.requests.RequestActivity",
     json.dumps(application(content="长" * 70_000)).encode(), "PAYLOAD_TOO_LARGE", None),
    ("jf.cmd.edu-bureau.approvals.CertifyActivity",
     json.dumps({"command_id": str(uuid.uuid4()), "activity_id": str(uuid.uuid4())}).encode(), "NOT_FOUND", "activity_id"),
    ("jf.cmd.edu-bureau.approvals.RejectActivity",
     json.dumps({"command_id": str(uuid.uuid4()), "activity_id": str(uuid.uuid4()), "refusal_code": "BECAUSE",
                 "reason": "xx"}).encode(), "INVALID_FIELD", "refusal_code"),
]


@pytest.mark.parametrize("subject,payload,code,field", BAD_INPUTS)
async def test_bad_input_gets_a_structured_error_within_a_second_and_the_service_keeps_running(
    client, nc, subject, payload, code, field
):
    started = time.monotonic()
    reply = json.loads((await nc.request(subject, payload, timeout=1.0)).data)
    assert time.monotonic() - started < 1.0
    assert reply["ok"] is False and reply["error"]["code"] == code
    assert reply["error"].get("field") == field and reply["error"]["message"]
    assert (await request(client))["ok"] is True
