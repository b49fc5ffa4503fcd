"""S3 集中认定 and the checked exemptions through the running services (issue 8, findings 3-5):
the round, the urgent route, and screening against the region's catalogue."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from datetime import date

import pytest
from jianfu.approvals import handlers
from jianfu.cli.client import JianfuClient
from jianfu.events.commands import Caller
from jianfu.events.dependencies import Deps
from jianfu.events.schemas.campus_entry import DecideCertificationRound
from jianfu.events.settings import FixedClock
from jianfu.events.store import EventStore

from tests.factories import DIRECTORY, POLICY, SCHOOLS, application
from tests.s3_semester import S3Semester

BUREAU, POLICE = "edu-bureau", "dept-public-security"
CAP = POLICY.campus_entry.items_per_school_per_semester
LEVELS = ("district", None, "city", "national", "regional", None, "regional")
PRIORITY = {"national": 0, "regional": 1, "city": 2, "district": 3, None: 4}


@pytest.fixture
def client(nc, services, clock_file) -> JianfuClient:
    clock_file.write_text("2026-07-10")
    return JianfuClient(nc, timeout=5.0)


def round_command(semester: str, command_id: str | None = None, **fields) -> dict:
    return {"command_id": command_id or str(uuid.uuid4()), "semester": semester, **fields}


async def decisions_of(store, activity_ids, timeout: float = 5.0) -> dict:
    """Each activity's decision event, waiting for screening where it decides."""
    deadline, found = time.monotonic() + timeout, {}
    while time.monotonic() < deadline:
        for key in activity_ids:
            events = (await store.load("activity", key)).envelopes[1:]
            if events:
                found[key] = events
        if len(found) == len(activity_ids):
            break
        await asyncio.sleep(0.05)
    return found


async def test_s3_a_round_of_seven_for_four_places_at_one_school_is_decided_by_priority(client, clock_file, store):
    """Issue 8: declarations arriving in a random order are decided by basis level, then id."""
    semester, school = "2035-autumn", SCHOOLS[6]
    clock_file.write_text("2035-07-05")
    form = dict(target_semester=semester, start_date="2035-09-10", end_date="2035-10-10",
                scope={"school_ids": [school]})
    declared = {}
    for level in random.sample(LEVELS, len(LEVELS)):
        reply = await client.command(POLICE, "requests", "RequestActivity", application(**form, basis_level=level))
        assert reply["ok"], reply
        declared[reply["activity_id"]] = level
    clock_file.write_text("2035-08-20")
    command = round_command(semester, note="2035年秋季学期集中认定")
    reply = await client.command(BUREAU, "approvals", "DecideCertificationRound", command)
    assert (reply["places"], reply["certified"], reply["refused_automatically"], reply["rejected"]) == (7, CAP, 3, 0)
    order = sorted(declared, key=lambda key: (PRIORITY[declared[key]], key))
    [stored] = (await store.load("campus_entry_round", semester)).envelopes
    assert [place["activity_id"] for place in stored.data["places"]] == order
    found = await decisions_of(store, order)
    outcomes = [(found[key][0].event_type, found[key][0].data.get("in_round")) for key in order]
    assert outcomes == [("ActivityCertified", True)] * CAP + [("ActivityRejected", True)] * 3
    assert {found[key][0].data.get("refusal_code") for key in order[CAP:]} == {"QUOTA_EXCEEDED"}
    # A retry answers the same; a second round is refused.
    retry = await client.command(BUREAU, "approvals", "DecideCertificationRound", command)
    assert {**retry, "correlation_id": ""} == {**reply, "correlation_id": ""}
    again = await client.command(BUREAU, "approvals", "DecideCertificationRound", round_command(semester))
    assert (again["error"]["code"], again["error"]["field"]) == ("INVALID_STATE", "semester")


async def test_s3_a_round_before_the_declaration_window_closes_is_refused(client, clock_file):
    clock_file.write_text("2036-07-20")
    reply = await client.command(BUREAU, "approvals", "DecideCertificationRound", round_command("2036-autumn"))
    assert reply["error"]["code"] == "INVALID_STATE" and "window" in reply["error"]["message"]


async def test_s3_a_round_rejecting_what_it_does_not_hold_is_refused(client, clock_file):
    clock_file.write_text("2037-08-20")
    reply = await client.command(BUREAU, "approvals", "DecideCertificationRound", round_command("2037-autumn", rejections=[
        {"activity_id": str(uuid.uuid4()), "refusal_code": "SCOPE_TOO_BROAD", "reason": "范围过大"}]))
    assert (reply["error"]["code"], reply["error"]["field"]) == ("INVALID_FIELD", "rejections.0.activity_id")


async def test_s3_a_regular_declaration_is_not_certified_on_its_own(client):
    """Issue 8, finding 5: regular declarations wait for the round."""
    activity = await client.command(POLICE, "requests", "RequestActivity", application())
    reply = await client.command(BUREAU, "approvals", "CertifyActivity", {
        "command_id": str(uuid.uuid4()), "activity_id": activity["activity_id"], "urgency_confirmed": True})
    assert reply["error"]["code"] == "INVALID_STATE" and "round" in reply["error"]["message"]


async def test_s3_an_urgent_declaration_needs_the_bureau_to_confirm_its_urgency(client, clock_file, store):
    """Issue 8, finding 4: without the confirmation, no certification; with it, it is recorded.
    In a semester of its own, so no other test's admissions fill its school."""
    clock_file.write_text("2036-03-10")
    activity = await client.command(POLICE, "requests", "RequestActivity", application(
        target_semester="2036-spring", start_date="2036-04-01", end_date="2036-04-01", declaration_type="urgent",
        urgency_reason="上级临时部署的禁毒宣传", urgency_category="superior_directive"))
    body = {"activity_id": activity["activity_id"]}
    refused = await client.command(BUREAU, "approvals", "CertifyActivity", {"command_id": str(uuid.uuid4()), **body})
    assert (refused["error"]["code"], refused["error"]["field"]) == ("INVALID_FIELD", "urgency_confirmed")
    certified = await client.command(BUREAU, "approvals", "CertifyActivity",
                                     {"command_id": str(uuid.uuid4()), **body, "urgency_confirmed": True})
    assert certified["decision"] == "certified"
    decision = (await store.load("activity", activity["activity_id"])).envelopes[-1]
    assert decision.data["urgency_confirmed"] is True and decision.data["in_round"] is False


async def test_s3_a_catalogue_claim_the_catalogue_does_not_hold_is_refused_on_screening(client, store):
    """Issue 8, finding 3: a claim on the region's catalogue is checked, not self-asserted."""
    reply = await client.command(POLICE, "requests", "RequestActivity", application(
        exemption_claim={"category": "regional_catalogue", "reference": "并不存在的目录项目"}))
    [decision] = (await decisions_of(store, [reply["activity_id"]]))[reply["activity_id"]]
    assert decision.event_type == "ActivityRejected" and decision.data["automatic"]
    assert decision.data["refusal_code"] == "EXEMPTION_UNSUPPORTED"


class CrashingStore(EventStore):
    """A store that fails after ``survives`` atomic appends: a service crashing mid-round."""

    def __init__(self, js, survives: int) -> None:
        super().__init__(js)
        self.survives = survives

    async def append_together(self, appends):
        if self.survives == 0:
            raise ConnectionError("the approvals service stopped here")
        self.survives -= 1
        return await super().append_together(appends)


async def test_s3_a_retried_round_completes_what_a_crash_left_undone_and_answers_the_same(js, store):
    s3 = S3Semester(store)
    for level in LEVELS:
        await s3.request(POLICE, [SCHOOLS[7]], basis_level=level)
    command = DecideCertificationRound(command_id=uuid.uuid4(), semester=s3.semester)
    caller = Caller(DIRECTORY.get(BUREAU), str(uuid.uuid4()), context="approvals", command="DecideCertificationRound")
    clock = FixedClock(date(s3.year, 8, 20))
    with pytest.raises(ConnectionError):
        await handlers.decide_certification_round(command, caller, Deps(CrashingStore(js, 2), DIRECTORY, POLICY, clock))
    deps = Deps(store, DIRECTORY, POLICY, clock)
    first = await handlers.decide_certification_round(command, caller, deps)
    assert await handlers.decide_certification_round(command, caller, deps) == first
    assert (first["places"], first["certified"], first["refused_automatically"]) == (7, CAP, 3)
    slots = (await store.load("campus_entry_quota", f"{s3.semester}.{SCHOOLS[7]}")).envelopes
    assert len(slots) == CAP
    [round_event] = (await store.load("campus_entry_round", s3.semester)).envelopes
    for place in round_event.data["places"]:
        assert len((await store.load("activity", place["activity_id"])).envelopes) == 2  # request, one decision
