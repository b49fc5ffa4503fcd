"""S1 and S2 intake (issue 9) through real request-reply: the requests service running against real
NATS, the clock file setting the business day. The rules themselves are unit-tested in
tests/unit/test_inspection_intake.py."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from jianfu.cli.client import JianfuClient

from tests.factories import POLICY, SCHOOLS
from tests.unit.test_inspection_intake import item_form

HEALTH, RELIGIOUS = "dept-health", "dept-religious-affairs"  # the second visits schools in this module only


@pytest.fixture
def client(nc, services, clock_file) -> JianfuClient:
    clock_file.write_text("2026-07-10")
    return JianfuClient(nc, timeout=2.0)


def refused(reply: dict) -> tuple[str, str]:
    assert reply["ok"] is False, reply
    return reply["error"]["code"], reply["error"].get("field")


async def events_of(store, aggregate_type: str, aggregate_id: str) -> list[dict]:
    return [event.data for event in (await store.load(aggregate_type, aggregate_id)).envelopes]


async def test_s1_a_unit_proposes_an_item_recorded_under_its_own_id_with_its_schools(client, store):
    form = item_form()
    reply = await client.command(HEALTH, "requests", "ProposeInspectionItem", form)
    assert reply["ok"] and (reply["year"], reply["late"]) == (2026, False), reply
    retry = await client.command(HEALTH, "requests", "ProposeInspectionItem", form)
    assert (retry["item_id"], retry["sequence"]) == (reply["item_id"], reply["sequence"])
    [event] = await events_of(store, "inspection_item", reply["item_id"])
    assert (event["lead_org_id"], event["proposed_on"], event["late"]) == (HEALTH, "2026-07-10", False)
    assert len(event["school_ids"]) == reply["school_count"] == -(-len(SCHOOLS) // 5)
    assert set(event["school_ids"]) <= set(SCHOOLS)


async def test_s1_the_year_of_an_item_is_this_year_or_next_by_the_clock(client):
    assert refused(await client.command(HEALTH, "requests", "ProposeInspectionItem", item_form(year=2028))) == (
        "INVALID_FIELD", "year")
    assert (await client.command(HEALTH, "requests", "ProposeInspectionItem", item_form(year=2027)))["ok"]


async def test_s1_a_late_item_without_a_reason_is_recorded_late(client, clock_file, store):
    late_day = date(2026, 10, 1) - timedelta(days=POLICY.inspections.filing_days_ahead - 1)
    clock_file.write_text(late_day.isoformat())
    reply = await client.command(HEALTH, "requests", "ProposeInspectionItem", item_form(planned_months=[10]))
    assert reply["ok"] and reply["late"] is True, reply
    [event] = await events_of(store, "inspection_item", reply["item_id"])
    assert (event["late"], event["urgency_reason"]) == (True, None)


async def test_s1_schools_do_not_propose_items_or_issue_data_requests(client):
    reply = await client.command(SCHOOLS[0], "requests", "ProposeInspectionItem", item_form())
    assert refused(reply) == ("FORBIDDEN", "org_id")
    reply = await client.command(SCHOOLS[0], "requests", "IssueDataRequest", data_request())
    assert refused(reply) == ("FORBIDDEN", "org_id")


def visit_report(day: str, *, by_school: bool = True, **overrides) -> dict:
    body = {"command_id": str(uuid.uuid4()), "visited_on": day, "label": "research", "graded": True,
            "grading": "优秀/合格/不合格"}
    body |= {"visiting_org_id": RELIGIOUS} if by_school else {"school_id": SCHOOLS[0]}
    return body | overrides


async def test_s1_the_same_visit_reported_twice_is_one_visit(client, clock_file, store):
    """The school reports it, the visiting unit reports it, the school reports it again: one visit,
    one event; a retry of the first report is answered as the first time."""
    clock_file.write_text("2026-10-21")
    first_report = visit_report("2026-10-12")
    first = await client.command(SCHOOLS[0], "requests", "ReportInspectionVisit", first_report)
    by_unit = await client.command(RELIGIOUS, "requests", "ReportInspectionVisit",
                                   visit_report("2026-10-12", by_school=False))
    again = await client.command(SCHOOLS[0], "requests", "ReportInspectionVisit", visit_report("2026-10-12"))
    retry = await client.command(SCHOOLS[0], "requests", "ReportInspectionVisit", first_report)
    assert first["ok"] and by_unit["ok"] and again["ok"] and retry["ok"], (first, by_unit, again, retry)
    assert first["visit_id"] == by_unit["visit_id"] == again["visit_id"] == retry["visit_id"]
    assert [r["already_reported"] for r in (first, by_unit, again, retry)] == [False, True, True, False]
    assert by_unit["differs"] == again["differs"] == [] and "differs" not in first
    assert by_unit["reported_by_org_id"] == SCHOOLS[0] and by_unit["sequence"] == first["sequence"]
    [event] = await events_of(store, "inspection_visit", first["visit_id"])
    assert (event["school_id"], event["visiting_org_id"], event["year"]) == (SCHOOLS[0], RELIGIOUS, 2026)


async def test_s1_a_second_report_that_says_otherwise_is_answered_with_the_stored_visit_and_the_differences(
        client, clock_file, store):
    clock_file.write_text("2026-10-21")
    first = await client.command(SCHOOLS[0], "requests", "ReportInspectionVisit", visit_report("2026-10-13"))
    other = await client.command(RELIGIOUS, "requests", "ReportInspectionVisit",
                                 visit_report("2026-10-13", by_school=False, label="guidance", graded=False,
                                              grading=""))
    assert other["ok"] and other["already_reported"] and other["visit_id"] == first["visit_id"], other
    assert other["differs"] == ["label", "graded", "grading"]
    [event] = await events_of(store, "inspection_visit", first["visit_id"])
    assert (event["label"], event["graded"], event["reported_by_org_id"]) == ("research", True, SCHOOLS[0])


async def test_s1_a_visit_by_a_unit_the_directory_does_not_know_or_in_the_future_is_refused(client, clock_file):
    clock_file.write_text("2026-10-21")
    reply = await client.command(SCHOOLS[0], "requests", "ReportInspectionVisit",
                                 visit_report("2026-10-14", visiting_org_id="dept-nowhere"))
    assert refused(reply) == ("UNKNOWN_ORG", "visiting_org_id")
    reply = await client.command(SCHOOLS[0], "requests", "ReportInspectionVisit", visit_report("2026-10-22"))
    assert refused(reply) == ("INVALID_FIELD", "visited_on")


def data_request(**overrides) -> dict:
    body = {"command_id": str(uuid.uuid4()), "title": "学生体质健康数据填报",
            "fields": ["学生人数", "体测合格率", "学生人数"], "school_ids": SCHOOLS[:2],
            "deadline": "2026-03-10T17:00:00+08:00"}
    return body | overrides


async def test_s2_a_data_request_records_its_fields_once_the_time_issued_and_the_year(client, clock_file, store):
    clock_file.write_text("2026-03-05")
    body = data_request()
    reply = await client.command(HEALTH, "requests", "IssueDataRequest", body)
    assert reply["ok"] and (reply["year"], reply["fields"], reply["school_count"]) == (2026, 2, 2), reply
    [event] = await events_of(store, "data_request", reply["request_id"])
    assert event["fields"] == ["学生人数", "体测合格率"] and event["requester_org_id"] == HEALTH
    assert datetime.fromisoformat(event["issued_at"]).astimezone(UTC).date() == date(2026, 3, 5)
    retry = await client.command(HEALTH, "requests", "IssueDataRequest", body)
    assert retry["request_id"] == reply["request_id"] and retry["sequence"] == reply["sequence"]


async def test_s2_a_deadline_before_the_request_is_issued_is_refused(client, clock_file):
    clock_file.write_text("2026-03-05")
    reply = await client.command(HEALTH, "requests", "IssueDataRequest", data_request(deadline="2026-03-04T17:00:00Z"))
    assert refused(reply) == ("INVALID_FIELD", "deadline")
