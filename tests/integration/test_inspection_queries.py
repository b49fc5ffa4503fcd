"""S1/S2 compliance queries: the year's checklist for everyone, page by page; the items of the
annual plans for the overseers and each unit its own; counters per school and the year's items
against the year before, for the overseers and a school itself."""

from __future__ import annotations

import random
from datetime import date

import pytest
from jianfu.events.schemas.compliance import Rule
from jianfu.events.schemas.inspections import VisitLabel

from tests.factories import SCHOOLS
from tests.inspection_year import InspectionYear, append
from tests.query_router import ask, projected_router

SCHOOL, OTHER = "school-dwk-primary-3", "school-dwk-primary-4"
FIRE, HEALTH, EMERGENCY, PUBLICITY = "dept-fire", "dept-health", "dept-emergency", "dept-publicity"
YEAR = random.randrange(2060, 2100)  # the log is shared: a year (and ids) no other test writes


@pytest.fixture(scope="module")
async def year(store) -> dict:
    """Given: four items in the previous year's plan; this year two approved items merged into one,
    the bureau's own filed, one rejected, the checklist published twice; visits (one reported
    twice, one unplanned, one a disguised inspection) and two requests asking one field twice."""
    before, y = InspectionYear(YEAR - 1, start=random.randrange(10**9)), InspectionYear(YEAR,
                                                                                     start=random.randrange(10**9))
    steps = []
    for unit in (FIRE, HEALTH, EMERGENCY, PUBLICITY):
        step = before.propose(unit)
        steps += [step, before.approved(step[1])]
    fire, health = y.propose(FIRE, joint=(EMERGENCY,)), y.propose(HEALTH, title="学校卫生检查")
    own, refused = y.propose("edu-bureau", title="教学常规检查"), y.propose(PUBLICITY, title="宣传工作考核")
    steps += [fire, health, own, refused, y.approved(fire[1]), y.approved(health[1]), y.filed(own[1]),
              y.rejected(refused[1])]
    merged = y.merge(fire[1], health[1])
    steps += merged
    steps += y.checklist(1, [own[1]])
    checklist = [merged[0][1], own[1]]
    steps += y.checklist(2, checklist, parts=2)
    planned = y.visit(SCHOOL, FIRE, date(YEAR, 10, 9), item_id=merged[0][1].item_id)
    unplanned = y.visit(SCHOOL, PUBLICITY, date(YEAR, 11, 3))
    disguised = y.visit(OTHER, HEALTH, date(YEAR, 5, 6), label=VisitLabel.RESEARCH, graded=True)
    first = y.request(HEALTH, (SCHOOL, OTHER), ("在校生人数", "近视率"))
    second = y.request(PUBLICITY, (SCHOOL,), ("在校生人数",), day=20)
    steps += [planned, y.visit(SCHOOL, FIRE, date(YEAR, 10, 9), reporter=FIRE, item_id=merged[0][1].item_id),
              unplanned, disguised, first, second,
              y.violation(Rule.UNPLANNED_INSPECTION, PUBLICITY, SCHOOL, visit_id=str(unplanned[1].visit_id)),
              y.violation(Rule.DISGUISED_INSPECTION, HEALTH, OTHER, visit_id=str(disguised[1].visit_id)),
              y.violation(Rule.DUPLICATE_DATA_REQUEST, PUBLICITY, SCHOOL, request_id=str(second[1].request_id),
                          earlier_request_id=str(first[1].request_id))]
    await append(store, steps)
    return {"checklist": checklist, "merged": merged[0][1], "fire": fire[1], "health": health[1]}


@pytest.fixture(scope="module")
async def router(pg_database, js, store, year):
    async with projected_router("inspection_queries", js, store) as answering:
        yield answering


async def test_s1_every_organisation_reads_the_checklist_in_force_page_by_page(router, year):
    for org in (SCHOOL, FIRE, "womens-federation", "edu-bureau"):
        listed = await ask(router, org, "GetInspectionChecklist", year=YEAR)
        assert listed["ok"] and listed["published"] and (listed["edition"], listed["row_count"]) == (2, 2)
        assert [row["item_id"] for row in listed["rows"]] == [str(item.item_id) for item in year["checklist"]]
        assert {"item_name", "sub_item", "target", "category", "method", "sample_ratio_or_frequency", "time_window",
                "inspecting_units", "inspecting_unit_names"} <= set(listed["rows"][0])  # Attachment 2's columns
    first = await ask(router, SCHOOL, "GetInspectionChecklist", year=YEAR, limit=1)
    rest = await ask(router, SCHOOL, "GetInspectionChecklist", year=YEAR, limit=1, cursor=first["next_cursor"])
    assert [r["item_id"] for r in first["rows"] + rest["rows"]] == [str(i.item_id) for i in year["checklist"]]
    assert rest["next_cursor"] is None
    unpublished = await ask(router, SCHOOL, "GetInspectionChecklist", year=2100)
    assert unpublished["ok"] and unpublished["published"] is False and unpublished["rows"] == []


async def test_s1_the_overseers_see_every_item_of_the_year_with_counts_by_status(router, year):
    for org in ("edu-bureau", "supervision-office", "leading-group-office"):
        found = await ask(router, org, "GetInspectionItems", year=YEAR)
        assert found["ok"] and found["org_id"] is None
        assert found["counts"] == {"total": 5, "by_status": {"proposed": 0, "filed": 1, "approved": 1, "rejected": 1,
                                                             "merged": 2}}
    merged = await ask(router, "edu-bureau", "GetInspectionItems", year=YEAR, status="merged")
    assert sorted(i["item_id"] for i in merged["items"]) == sorted(str(year[i].item_id) for i in ("fire", "health"))
    assert {i["into_item_id"] for i in merged["items"]} == {str(year["merged"].item_id)}
    paged = await ask(router, "edu-bureau", "GetInspectionItems", year=YEAR, limit=2)
    seen = [i["item_id"] for i in paged["items"]]
    while paged["next_cursor"]:
        paged = await ask(router, "edu-bureau", "GetInspectionItems", year=YEAR, limit=2, cursor=paged["next_cursor"])
        seen += [i["item_id"] for i in paged["items"]]
    assert len(seen) == len(set(seen)) == 5


async def test_s1_a_unit_sees_the_items_it_leads_joins_or_was_merged_into_and_a_school_none(router, year):
    emergency = await ask(router, EMERGENCY, "GetInspectionItems", year=YEAR)
    assert emergency["org_id"] == EMERGENCY
    assert sorted(i["item_id"] for i in emergency["items"]) == sorted(
        [str(year["fire"].item_id), str(year["merged"].item_id)])
    publicity = await ask(router, PUBLICITY, "GetInspectionItems", year=YEAR)
    assert [i["refusal_code"] for i in publicity["items"]] == ["DUPLICATES_EXISTING_ITEM"]
    assert publicity["counts"]["by_status"]["rejected"] == 1 and publicity["counts"]["total"] == 1
    school = await ask(router, SCHOOL, "GetInspectionItems", year=YEAR)
    assert school["ok"] is False and school["error"]["code"] == "FORBIDDEN"


async def test_s1_s2_counters_per_school_and_the_items_against_the_previous_year(router, year):
    found = await ask(router, "supervision-office", "GetInspectionCounters", year=YEAR)
    assert found["ok"] and [s["school_id"] for s in found["schools"]] == SCHOOLS
    school = next(s for s in found["schools"] if s["school_id"] == SCHOOL)
    assert {k: school[k] for k in ("visits", "planned_visits", "unplanned_visits", "data_requests",
                                   "requested_fields", "distinct_fields", "duplicate_requests")} == {
        "visits": 2, "planned_visits": 1, "unplanned_visits": 1, "data_requests": 2, "requested_fields": 3,
        "distinct_fields": 2, "duplicate_requests": 1}
    other = next(s for s in found["schools"] if s["school_id"] == OTHER)
    assert (other["visits"], other["disguised_visits"], other["duplicate_requests"]) == (1, 1, 0)
    # S1: the merged item counts once, the rejected none: 2 against 4, halved.
    assert found["items"] == {"year": 2, "previous_year": 4, "aim": 2.0, "halved": True}


async def test_s1_s2_a_school_reads_only_its_own_counters_and_a_unit_none(router, year):
    own = await ask(router, SCHOOL, "GetInspectionCounters", year=YEAR)
    assert [s["school_id"] for s in own["schools"]] == [SCHOOL] and own["items"]["year"] == 2
    other = await ask(router, SCHOOL, "GetInspectionCounters", year=YEAR, school_id=OTHER)
    assert (other["error"]["code"], other["error"]["field"]) == ("FORBIDDEN", "school_id")
    unit = await ask(router, FIRE, "GetInspectionCounters", year=YEAR)
    assert unit["ok"] is False and unit["error"]["code"] == "FORBIDDEN"
    unknown = await ask(router, "edu-bureau", "GetInspectionCounters", year=YEAR, school_id=FIRE)
    assert unknown["error"]["code"] == "NOT_FOUND"


async def test_s1_a_cursor_of_another_query_or_a_bad_status_is_an_invalid_field(router, year):
    checklist = await ask(router, SCHOOL, "GetInspectionChecklist", year=YEAR, limit=1)
    crossed = await ask(router, "edu-bureau", "GetInspectionItems", year=YEAR, cursor=checklist["next_cursor"])
    assert (crossed["error"]["code"], crossed["error"]["field"]) == ("INVALID_FIELD", "cursor")
    bad = await ask(router, "edu-bureau", "GetInspectionItems", year=YEAR, status="pending")
    assert (bad["error"]["code"], bad["error"]["field"]) == ("INVALID_FIELD", "status")
