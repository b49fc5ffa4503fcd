"""End to end: the four services as separate processes walk an inspection year (S1, S2, G2).

The demo's year (``walk_inspection_year``) only through commands: proposals from three units, the
supervision office's approvals and refusal, the bureau's merger and checklist, visits planned and
not (one reported by the school and the unit), data requests (one repeating a field, one due the
next day), the violations the detector finds and the reminders that follow, each exactly once.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from jianfu.cli.client import JianfuClient
from jianfu.cli.demo import S1S2_RULES, YEAR, walk_inspection_year

from tests.e2e.fleet import running_system
from tests.e2e.test_semester_walk import eventually
from tests.factories import DIRECTORY

pytestmark = pytest.mark.e2e

CHARGED = {  # (rule, unit charged, school): what the year's facts are
    ("UnplannedInspection", "dept-public-security", "school-dwk-primary-2"),
    ("DisguisedInspection", "dept-culture-sports", "school-dwk-middle-2"),
    ("UnauthorizedInspectionSetter", "dept-fire", "school-dwk-middle-3"),
    ("InspectionOverFrequency", "dept-health", "school-dwk-primary-1"),
    ("DuplicateDataRequest", "dept-health", "school-dwk-primary-1"),
    ("ExcessivelyShortDeadline", "dept-emergency", None),
}


@pytest.fixture(scope="module")
async def system(tmp_path_factory):
    async with running_system(tmp_path_factory.mktemp("e2e-year"), "2026-10-22", "e2e_year") as running:
        client = running.client
        year = await walk_inspection_year(client, DIRECTORY, running.set_today())
        found = await violations(client)
        await caught_up(client, await running.store.last_sequence())
        yield {"client": client, "year": year, "alerts": running.alerts, "store": running.store, "found": found}


async def caught_up(client: JianfuClient, sequence: int) -> None:
    async def fresh():
        reply = await client.query("edu-bureau", "compliance", "GetInspectionCounters", {"year": YEAR})
        return reply if reply.get("as_of_sequence", 0) >= sequence else None
    await eventually(fresh)


async def s1s2_violations(client: JianfuClient) -> list[dict]:
    found, cursor = [], None
    while True:
        reply = await client.query("supervision-office", "compliance", "GetViolations",
                                   {"limit": 100, **({"cursor": cursor} if cursor else {})})
        assert reply["ok"], reply
        found += [v for v in reply["violations"] if v["rule"] in S1S2_RULES]
        cursor = reply["next_cursor"]
        if not cursor:
            return found


async def violations(client: JianfuClient) -> list[dict]:
    async def all_found():
        found = await s1s2_violations(client)
        return found if len(found) >= len(CHARGED) else None
    return await eventually(all_found)


async def checklist(client: JianfuClient) -> dict:
    async def published():
        reply = await client.query("school-dwk-primary-1", "compliance", "GetInspectionChecklist", {"year": YEAR})
        return reply if reply.get("published") else None
    return await eventually(published)


async def test_s1_the_checklist_holds_the_filed_approved_and_merged_items_a_merged_item_once(system):
    year = system["year"]
    reply = await checklist(system["client"])
    assert reply["ok"] and reply["edition"] == year.checklist["edition"] == 1
    rows = {row["item_id"]: row for row in reply["rows"]}
    assert set(rows) == {year.merged_item_id, year.items["after_school"], year.items["health"]}
    assert reply["row_count"] == year.checklist["row_count"] == 3
    merged = rows[year.merged_item_id]
    assert merged["item_name"] == "校园安全综合督查"
    assert set(merged["merged_item_ids"]) == {year.items["safety"], year.items["fire"]}
    assert set(merged["inspecting_units"]) == {"edu-bureau", "dept-fire"}
    assert rows[year.items["health"]]["inspecting_units"] == ["dept-health"]
    assert all(row["time_window"] == "12月" for row in reply["rows"])


async def test_s1_items_by_status_filed_approved_rejected_and_merged(system):
    year = system["year"]
    reply = await system["client"].query("supervision-office", "compliance", "GetInspectionItems", {"year": YEAR})
    assert reply["counts"]["by_status"] == {"proposed": 0, "filed": 1, "approved": 2, "rejected": 1, "merged": 2}
    status = {item["item_id"]: item["status"] for item in reply["items"]}
    assert status == {year.items["safety"]: "merged", year.items["after_school"]: "filed",
                      year.items["health"]: "approved", year.items["fire"]: "merged",
                      year.items["contest"]: "rejected", year.merged_item_id: "approved"}


async def test_s1_s2_counters_count_visits_once_and_requests_with_their_duplicates(system):
    reply = await system["client"].query("edu-bureau", "compliance", "GetInspectionCounters", {"year": YEAR})
    assert reply["items"] == {"year": 3, "previous_year": 0, "aim": None, "halved": None}
    schools = {s["school_id"]: s for s in reply["schools"]}
    primary_1 = schools["school-dwk-primary-1"]  # the visit reported by school and unit counts once
    assert (primary_1["visits"], primary_1["planned_visits"], primary_1["over_frequency_visits"]) == (2, 2, 1)
    assert (primary_1["data_requests"], primary_1["requested_fields"], primary_1["distinct_fields"],
            primary_1["duplicate_requests"]) == (2, 4, 3, 1)
    primary_2 = schools["school-dwk-primary-2"]
    assert (primary_2["visits"], primary_2["unplanned_visits"], primary_2["planned_visits"]) == (1, 1, 0)
    assert (primary_2["data_requests"], primary_2["distinct_fields"], primary_2["duplicate_requests"]) == (1, 2, 0)
    middle_1 = schools["school-dwk-middle-1"]
    assert (middle_1["visits"], middle_1["planned_visits"], middle_1["short_deadline_requests"]) == (1, 1, 1)
    assert schools["school-dwk-middle-2"]["disguised_visits"] == 1
    assert sum(s["visits"] for s in schools.values()) == 6
    assert sum(s["unplanned_visits"] for s in schools.values()) == 1


async def test_s1_the_visit_reported_by_school_and_unit_is_one_visit(system):
    health = system["year"].visits["health"]
    assert health["reports"] == 2
    events = [e.envelope async for e in system["store"].replay(1, "jf.ev.inspection_visit.>")]
    assert len(events) == 6 and sum(e.aggregate_id == health["visit_id"] for e in events) == 1


async def test_s1_s2_every_violation_is_found_once_with_the_events_that_prove_it(system):
    year, found = system["year"], await s1s2_violations(system["client"])
    assert Counter((v["rule"], v["responsible_org_id"], v["school_id"]) for v in found) == dict.fromkeys(CHARGED, 1)
    logged = [e.envelope async for e in system["store"].replay(1)]
    by_id = {e.event_id: e for e in logged}
    assert sum(e.event_type == "ViolationDetected" for e in logged) == len(CHARGED)
    rule = {v["rule"]: v["evidence"] for v in found}
    for evidence in (rule[r] for r in ("UnplannedInspection", "DisguisedInspection", "UnauthorizedInspectionSetter",
                                       "InspectionOverFrequency")):
        assert by_id[evidence["visit_event_id"]].aggregate_id == evidence["visit_id"]
    assert rule["UnplannedInspection"]["ground"] == "not_on_checklist"
    assert rule["DisguisedInspection"]["visit_id"] == year.visits["disguised"]["visit_id"]
    assert rule["DisguisedInspection"]["grading"] == "评定等次：优秀/合格/不合格"
    setter = rule["UnauthorizedInspectionSetter"]
    assert setter["item_id"] == year.items["contest"]
    assert by_id[setter["item_proposed_event_id"]].event_type == "InspectionItemProposed"
    again = rule["InspectionOverFrequency"]
    assert (again["visit_id"], again["earlier_visit_ids"]) == (year.visits["again"]["visit_id"],
                                                               [year.visits["health"]["visit_id"]])
    duplicate = rule["DuplicateDataRequest"]  # S2: names the first request
    assert duplicate["request_id"] == year.requests["duplicate"]["request_id"]
    assert duplicate["earlier_request_id"] == year.requests["statistics"]["request_id"]
    assert by_id[duplicate["earlier_request_event_id"]].aggregate_id == year.requests["statistics"]["request_id"]
    assert [f["field"] for f in duplicate["fields"]] == ["在校学生数"]
    short = rule["ExcessivelyShortDeadline"]
    assert short["request_id"] == year.requests["short"]["request_id"]
    assert by_id[short["request_event_id"]].event_type == "DataRequestIssued"
    assert short["working_days"] < short["minimum"] == 2


async def test_g2_s1_s2_each_violation_is_reminded_once_by_the_supervision_office(system):
    """G2 stage 1; the walk's clock also passes reminders' rectification deadlines, so warnings
    (stage 2) come too: only the reminders are counted here."""
    alerts, found = system["alerts"], await s1s2_violations(system["client"])

    def reminders() -> list:
        return [(subject, a) for subject, a in alerts if subject.split(".")[3] == "reminder"]

    async def every_one():
        return alerts if len(reminders()) >= len(CHARGED) else None

    await eventually(every_one)
    await asyncio.sleep(1.0)  # a duplicate would arrive in this time
    assert Counter(a["violation_id"] for _, a in reminders()) == {v["violation_id"]: 1 for v in found}
    assert all(subject.split(".")[2] == a["responsible_org_id"] for subject, a in reminders())
    assert {a["issued_by"] for _, a in reminders()} == {"supervision-office"}  # units, not schools


async def test_s1_s2_replies_say_what_was_recorded(system):
    """The replies the README's integrator example shows (S1, S2)."""
    replies = system["year"].replies
    health = replies["propose:health"]
    assert (health["ok"], health["year"], health["late"], health["school_count"]) == (True, YEAR, False, 8)
    assert not any(replies[f"propose:{name}"]["late"] for name in ("safety", "after_school", "fire", "contest"))
    approved = replies["approve:health"]
    assert (approved["decision"], approved["approved_by_org_id"]) == ("approved", "supervision-office")
    rejected = replies["reject:contest"]
    assert (rejected["decision"], rejected["refusal_code"], rejected["automatic"]) == ("rejected", "NOT_NECESSARY",
                                                                                       False)
    by_school, by_unit = replies["report:health:school-dwk-primary-1"], replies["report:health:dept-health"]
    assert by_school["already_reported"] is False
    assert (by_unit["visit_id"], by_unit["already_reported"], by_unit["differs"]) == (by_school["visit_id"], True, [])
    merger = replies["merge"]
    assert merger["item_id"] == system["year"].merged_item_id
    assert merger["merged_item_ids"] == [system["year"].items["safety"], system["year"].items["fire"]]
    assert merger["lead_org_ids"] == ["edu-bureau", "dept-fire"]
    published = system["year"].checklist
    assert (published["edition"], published["row_count"], published["parts"]) == (1, 3, 1)
    assert {r["year"] for r in system["year"].requests.values()} == {YEAR}


async def test_s2_violations_read_by_rule_name_the_duplicate(system):
    reply = await system["client"].query("supervision-office", "compliance", "GetViolations",
                                         {"rule": "DuplicateDataRequest"})
    [duplicate] = reply["violations"]
    assert duplicate["responsible_org_id"] == "dept-health"
    assert duplicate["evidence"]["earlier_request_id"] == system["year"].requests["statistics"]["request_id"]
