"""Compliance queries: the published list for everyone, applications and counters by who asks,
the violations register (S3) — through the Router and through real request-reply."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from pathlib import Path

import pytest
from jianfu.cli.client import JianfuClient
from jianfu.compliance.app import build
from jianfu.compliance.settings import ComplianceSettings
from jianfu.events.errors import RefusalCode

from tests.conftest import fresh_database
from tests.factories import DIRECTORY, POLICY, SCHOOLS
from tests.query_router import ask, projected_router
from tests.s3_semester import S3Semester

SCHOOL, OTHER_SCHOOL = "school-dwk-primary-3", "school-dwk-primary-4"
POLICE, FIRE, JUSTICE = "dept-public-security", "dept-fire", "dept-justice"
CAP = POLICY.campus_entry.items_per_school_per_semester
README = Path(__file__).parents[2] / "README.md"


@pytest.fixture(scope="module")
async def semester(store) -> S3Semester:
    """Given: two certified activities, one refused, the list published twice, three reports."""
    s = S3Semester(store)
    legal = await s.request(POLICE, [SCHOOL, OTHER_SCHOOL], title="法治进校园：防电信诈骗宣讲")
    drill = await s.request(FIRE, [SCHOOL], title="消防安全疏散演练")
    refused = await s.request(JUSTICE, [SCHOOL], title="普法知识竞赛")
    await s.certify(legal)
    await s.publish(legal)
    await s.certify(drill)
    await s.reject(refused, RefusalCode.SCOPE_TOO_BROAD)
    await s.publish(legal, drill, edition=2)
    await s.held(SCHOOL, POLICE, legal.title, legal.activity_id)
    await s.held(SCHOOL, JUSTICE, refused.title, refused.activity_id)
    await s.held(OTHER_SCHOOL, "dept-housing", "燃气安全宣传")
    return s


@pytest.fixture(scope="module")
async def router(pg_database, js, store, semester):
    async with projected_router("queries", js, store) as answering:
        yield answering


async def test_s3_every_organisation_reads_the_latest_edition_of_the_published_list(router, semester):
    for org in (SCHOOL, POLICE, "womens-federation"):
        listed = await ask(router, org, "GetSemesterList", semester=semester.semester)
        assert listed["ok"] and listed["published"] and listed["edition"] == 2
        assert [item["title"] for item in listed["items"]] == ["法治进校园：防电信诈骗宣讲", "消防安全疏散演练"]
    unpublished = await ask(router, SCHOOL, "GetSemesterList", semester="2999-spring")
    assert unpublished["ok"] and unpublished["published"] is False and unpublished["items"] == []


async def test_s3_the_bureau_sees_every_application_with_counts_by_status_and_refusal_code(router, semester):
    found = await ask(router, "edu-bureau", "GetApplications", semester=semester.semester)
    assert found["ok"] and len(found["applications"]) == 3
    assert found["counts"] == {"total": 3, "by_status": {"certified": 2, "rejected": 1},
                               "by_refusal_code": {"SCOPE_TOO_BROAD": 1}}
    legal = next(a for a in found["applications"] if a["applicant_org_id"] == POLICE)
    assert legal["school_ids"] == sorted([SCHOOL, OTHER_SCHOOL]) and legal["route"] == "regular"
    rejected = await ask(router, "supervision-office", "GetApplications", semester=semester.semester, status="rejected")
    assert [a["refusal_code"] for a in rejected["applications"]] == ["SCOPE_TOO_BROAD"]


async def test_s3_an_applicant_sees_only_its_own_applications_and_a_school_none(router, semester):
    own = await ask(router, FIRE, "GetApplications", semester=semester.semester)
    assert [a["title"] for a in own["applications"]] == ["消防安全疏散演练"] and own["counts"]["total"] == 1
    refused = await ask(router, SCHOOL, "GetApplications", semester=semester.semester)
    assert refused["ok"] is False and refused["error"]["code"] == "FORBIDDEN"


async def test_s3_counters_per_school_against_the_cap(router, semester):
    found = await ask(router, "leading-group-office", "GetCampusEntryCounters", semester=semester.semester)
    assert found["ok"] and found["cap"] == CAP and [s["school_id"] for s in found["schools"]] == SCHOOLS
    school = next(s for s in found["schools"] if s["school_id"] == SCHOOL)
    assert {k: school[k] for k in ("certified_items", "authorised_items", "remaining_items", "held_reports",
                                   "unauthorised_entries")} == {
        "certified_items": 2, "authorised_items": 2, "remaining_items": CAP - 2, "held_reports": 2,
        "unauthorised_entries": 1}


async def test_s3_a_school_sees_only_its_own_counters(router, semester):
    own = await ask(router, SCHOOL, "GetCampusEntryCounters", semester=semester.semester)
    assert [s["school_id"] for s in own["schools"]] == [SCHOOL]
    other = await ask(router, SCHOOL, "GetCampusEntryCounters", semester=semester.semester, school_id=OTHER_SCHOOL)
    assert other["ok"] is False and (other["error"]["code"], other["error"]["field"]) == ("FORBIDDEN", "school_id")
    unit = await ask(router, FIRE, "GetCampusEntryCounters", semester=semester.semester)
    assert unit["error"]["code"] == "FORBIDDEN"


async def test_s3_violations_register_by_rule_and_unit_for_whoever_may_see_them(router, semester):
    everything = await ask(router, "edu-bureau", "GetViolations", semester=semester.semester)
    assert sorted(v["responsible_org_id"] for v in everything["violations"]) == ["dept-housing", JUSTICE]
    assert {v["rule"] for v in everything["violations"]} == {"UnauthorizedCampusEntry"}
    filtered = await ask(router, "supervision-office", "GetViolations", semester=semester.semester,
                         responsible_org_id=JUSTICE, rule="UnauthorizedCampusEntry")
    assert [v["school_id"] for v in filtered["violations"]] == [SCHOOL]
    assert [v["school_id"] for v in (await ask(router, JUSTICE, "GetViolations"))["violations"]
            if v["semester"] == semester.semester] == [SCHOOL]
    at_school = await ask(router, OTHER_SCHOOL, "GetViolations", semester=semester.semester)
    assert [v["responsible_org_id"] for v in at_school["violations"]] == ["dept-housing"]
    assert (await ask(router, POLICE, "GetViolations", semester=semester.semester))["violations"] == []


async def test_a_bad_query_gets_a_structured_error(router):
    bad = await ask(router, "edu-bureau", "GetViolations", rule="Littering")
    assert bad["ok"] is False and (bad["error"]["code"], bad["error"]["field"]) == ("INVALID_FIELD", "rule")


async def test_the_service_projects_and_answers_queries_over_real_request_reply(nats_server, nc, store, semester):
    async with fresh_database("app") as url:
        settings = ComplianceSettings(nats_url=nats_server.url, database_url=url, log_level="WARNING",
                                      projector_durable=f"app-{uuid.uuid4().hex[:6]}")
        app = build(settings)
        await app.start()
        try:
            client, last = JianfuClient(nc, timeout=2.0), await store.last_sequence()
            deadline = time.monotonic() + 15
            while True:
                reply = await client.query(SCHOOL, "compliance", "GetCampusEntryCounters",
                                           {"semester": semester.semester})
                if reply["ok"] and reply["as_of_sequence"] >= last or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.1)
            assert reply["ok"] and reply["as_of_sequence"] >= last
            assert reply["schools"][0]["certified_items"] == 2
            directory = await client.query(POLICE, "compliance", "ListOrganisations", {"kind": "school"})
            assert sorted(o["org_id"] for o in directory["organisations"]) == SCHOOLS
            malformed = json.loads((await nc.request(f"jf.q.{SCHOOL}.compliance.GetSemesterList", b"{", timeout=1)).data)
            assert malformed["error"]["code"] == "MALFORMED_JSON"
        finally:
            await app.stop()


async def test_every_organisation_finds_the_ids_of_every_organisation_in_the_directory(router):
    for org in (SCHOOL, POLICE, "edu-bureau"):
        found = await ask(router, org, "ListOrganisations")
        assert found["ok"] and found["district"] == "大武口区"
        assert found["organisations"] == [{"org_id": o.org_id, "name": o.name, "kind": o.kind.value}
                                          for o in DIRECTORY.organisations]
    assert {"org_id": "dept-public-security", "name": "区公安分局", "kind": "department"} in found["organisations"]


async def test_the_school_ids_that_scope_an_activity_come_from_list_organisations_of_kind_school(router):
    schools = await ask(router, POLICE, "ListOrganisations", kind="school")
    assert sorted(o["org_id"] for o in schools["organisations"]) == SCHOOLS and len(SCHOOLS) == 8
    assert {o["kind"] for o in schools["organisations"]} == {"school"}


async def test_an_unknown_kind_or_an_unknown_field_is_an_invalid_field(router):
    bad = await ask(router, SCHOOL, "ListOrganisations", kind="ministry")
    assert (bad["error"]["code"], bad["error"]["field"]) == ("INVALID_FIELD", "kind")
    extra = await ask(router, SCHOOL, "ListOrganisations", district="大武口区")
    assert (extra["error"]["code"], extra["error"]["field"]) == ("INVALID_FIELD", "district")


async def test_the_readme_example_of_list_organisations_is_what_the_query_answers(router):
    text = README.read_text(encoding="utf-8")
    example = text[text.index("compliance.ListOrganisations` with"):]
    example = example[example.index("```json"):example.index("```", example.index("```json") + 3)]
    shown = [json.loads(row) for row in re.findall(r'\{"org_id".*?\}', example)]
    found = await ask(router, POLICE, "ListOrganisations", kind="school")
    assert shown and all(row in found["organisations"] for row in shown)
    assert f'"district": "{found["district"]}"' in example
