"""Issue 8's new surface attacked as a hostile integrator would, over real request-reply (requests
and approvals on the session's nats-server) and through the running projector and detector (a log
of the test's own, PostgreSQL): every body gets a structured reply at once, what is accepted is
readable by every downstream reader, and odd but valid events stop neither consumer (S3)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from contextlib import asynccontextmanager
from datetime import date

import pytest
import sqlalchemy as sa
from jianfu.compliance.app import interface
from jianfu.compliance.domain.detector import unit_name
from jianfu.compliance.read_model import DETECTOR, LIVE
from jianfu.events.dependencies import Deps
from jianfu.events.schemas.campus_entry import ActivityHeldReported, CampusEntryRefused, ExemptCategory, ExemptionClaim
from jianfu.events.schemas.compliance import UNREGISTERED_PREFIX
from jianfu.events.schemas.regional_catalogue import CatalogueItem, RegionalCatalogueImported
from jianfu.events.settings import Settings, SystemClock

from tests.apps import command_services
from tests.factories import DIRECTORY, POLICY, SCHOOLS, application, held_report
from tests.hostile import ask, refusal
from tests.s3_semester import S3Semester, running, settle

BUREAU, POLICE, FIRE = "edu-bureau", "dept-public-security", "dept-fire"
EXPANDS = "\ufdfa"  # one character NFKC writes as 18 (ﷺ)


@pytest.fixture
def today(services, clock_file):
    def set_to(day: str) -> None:
        clock_file.write_text(day)
    set_to("2026-10-21")
    return set_to


def held(**fields) -> dict:
    return {**held_report(None, "2026-10-20"), "organizer_name": "宁夏回族自治区红十字会", **fields}


def refused_entry(**fields) -> dict:
    return {"command_id": str(uuid.uuid4()), "organizer_name": "某某研学公司", "title": "研学产品推介会",
            "refused_on": "2026-10-20", **fields}


# Names: an outside name the directory knows, typed with odd spacing, is that unit.

@pytest.mark.parametrize("typed", ["区 消防大队", "区消防\u3000大队", "区消防 大 队"])
async def test_s3_a_directory_units_name_typed_with_odd_spacing_is_that_unit_not_an_outsider(nc, today, store, typed):
    """S3: an unknown unit is charged as `unregistered unit: <name>`; a known one typed with a
    space is not unknown (the catalogue resolves names spaces aside, so must a school's report)."""
    reply = await ask(nc, SCHOOLS[0], "cmd", "requests", "RecordActivityHeld", held(organizer_name=typed))
    assert reply["ok"] is True and reply["organizer_org_id"] == FIRE, reply


@pytest.mark.parametrize("typed", ["大武口区 第一小学", "长胜 小学"])
async def test_s3_a_schools_name_typed_with_odd_spacing_is_refused_as_an_organiser(nc, today, typed):
    """S3 is about units from outside the school; a school does not become an outsider by a space."""
    for command in ("RecordActivityHeld", "RecordEntryRefused"):
        body = held(organizer_name=typed) if command == "RecordActivityHeld" else refused_entry(organizer_name=typed)
        assert refusal(await ask(nc, SCHOOLS[1], "cmd", "requests", command, body)) == (
            "INVALID_FIELD", "organizer_name")


# Bodies no reader could hold, or that mean nothing, are refused with the field named.

LONE = b'"\\ud800"'


@pytest.mark.parametrize("command,body,field", [
    ("RecordActivityHeld", held(organizer_name="红十字会\u0000"), "organizer_name"),
    ("RecordActivityHeld", held(organizer_name="\u202e会字十红"), "organizer_name"),
    ("RecordActivityHeld", held(organizer_name="\u200b\u200b"), "organizer_name"),
    ("RecordActivityHeld", held(organizer_name="红" * 101), "organizer_name"),
    ("RecordActivityHeld", held(exemption_claim={"category": "regional_catalogue", "reference": "法治\u0007"}),
     "exemption_claim.reference"),
    ("RecordActivityHeld", held(exemption_claim={"category": "regional_catalogue", "reference": "x" * 201}),
     "exemption_claim.reference"),
    ("RecordActivityHeld", held(exemption_claim={"category": "self_declared", "reference": "自称免申报"}),
     "exemption_claim.category"),
    ("RecordActivityHeld", held(held_on="2019-09-01"), "held_on"),
    ("RecordEntryRefused", refused_entry(refused_on="2019-09-01"), "refused_on"),
    ("RecordEntryRefused", refused_entry(note="备注\u0000"), "note"),
    ("RecordEntryRefused", refused_entry(refusal_code="WHATEVER"), "refusal_code"),
])
async def test_s3_intake_bodies_no_reader_could_hold_are_refused_at_once(nc, today, command, body, field):
    found = refusal(await ask(nc, SCHOOLS[0], "cmd", "requests", command,
                              json.dumps(body, ensure_ascii=True).encode()))
    assert found == ("INVALID_FIELD", field)


@pytest.mark.parametrize("command,body", [
    ("RecordActivityHeld", held(organizer_name="PLACEHOLDER")),
    ("RecordActivityHeld", held(exemption_claim={"category": "regional_catalogue", "reference": "PLACEHOLDER"})),
    ("RecordEntryRefused", refused_entry(organizer_name="PLACEHOLDER")),
])
async def test_s3_a_lone_surrogate_written_as_an_escape_in_a_name_or_claim_is_refused(nc, today, command, body):
    """No UTF-8 text, and so no PostgreSQL column, holds it: refused as JSON no parser should see."""
    wire = json.dumps(body, ensure_ascii=False).encode().replace(b'"PLACEHOLDER"', LONE)
    assert refusal(await ask(nc, SCHOOLS[0], "cmd", "requests", command, wire))[0] == "MALFORMED_JSON"


async def test_s3_naming_the_unit_both_ways_or_neither_is_refused(nc, today):
    both = held(organizer_org_id=FIRE, organizer_name="区消防大队")
    neither = held(organizer_name=None)
    for body in (both, neither):
        assert refusal(await ask(nc, SCHOOLS[0], "cmd", "requests", "RecordActivityHeld", body))[0] == "INVALID_FIELD"


@pytest.mark.parametrize("scope,field", [
    ({"school_ids": SCHOOLS[:2], "stages": ["middle"]}, "scope"),
    ({"all_schools": True, "stages": ["middle", "middle", "primary"]}, "scope.stages"),
    ({"all_schools": True, "stages": ["high"]}, "scope.stages.0"),
    ({"all_schools": True, "sample_share": 0}, "scope.sample_share"),
    ({"all_schools": True, "sample_share": 1.0000001}, "scope.sample_share"),
    ({"all_schools": True, "sample_share": 1e-400}, "scope.sample_share"),  # read as 0.0
    ({"all_schools": True, "sample_share": "0.5"}, "scope.sample_share"),
])
async def test_s3_scopes_that_name_no_schools_or_contradict_themselves_are_refused(nc, today, scope, field):
    today("2026-07-10")
    found = refusal(await ask(nc, POLICE, "cmd", "requests", "RequestActivity", application(scope=scope)))
    assert found == ("INVALID_FIELD", field)


@pytest.mark.parametrize("share,expected", [(1e-9, 1), (5e-324, 1), (0.9999999999, len(SCHOOLS))])
async def test_s3_a_tiny_or_almost_whole_sample_share_resolves_to_at_least_one_school_and_at_most_all(
        nc, today, store, share, expected):
    today("2026-07-10")
    reply = await ask(nc, POLICE, "cmd", "requests", "RequestActivity",
                      application(scope={"all_schools": True, "sample_share": share}))
    assert reply["ok"] is True and reply["school_count"] == expected, reply
    [event] = (await store.load("activity", reply["activity_id"])).envelopes
    assert len(event.data["school_ids"]) == expected and set(event.data["school_ids"]) <= set(SCHOOLS)


@pytest.mark.parametrize("fields,field", [
    ({"basis_level": "planetary"}, "basis_level"), ({"delivery": "teleport"}, "delivery"),
    ({"max_per_year": 0}, "max_per_year"), ({"max_per_semester": 101}, "max_per_semester"),
    ({"max_per_year": True}, "max_per_year"), ({"urgency_category": "boredom"}, "urgency_category"),
])
async def test_s3_the_new_declaration_fields_take_only_their_values(nc, today, fields, field):
    today("2026-07-10")
    assert refusal(await ask(nc, POLICE, "cmd", "requests", "RequestActivity", application(**fields))) == (
        "INVALID_FIELD", field)


@pytest.mark.parametrize("value", ["yes", 1, "true", None])
async def test_s3_urgency_confirmed_is_a_boolean_and_nothing_else(nc, today, value):
    body = {"command_id": str(uuid.uuid4()), "activity_id": str(uuid.uuid4()), "urgency_confirmed": value}
    assert refusal(await ask(nc, BUREAU, "cmd", "approvals", "CertifyActivity", body)) == (
        "INVALID_FIELD", "urgency_confirmed")


# The certification round: 500 rejections naming one id.

async def test_s3_a_round_naming_one_rejection_five_hundred_times_is_refused_and_decides_nothing(nc, today, store):
    semester = "2043-autumn"
    today("2043-07-05")
    declared = await ask(nc, POLICE, "cmd", "requests", "RequestActivity", application(
        target_semester=semester, start_date="2043-09-10", end_date="2043-10-10", scope={"school_ids": SCHOOLS[:1]}))
    assert declared["ok"] is True, declared
    rejection = {"activity_id": declared["activity_id"], "refusal_code": "SCOPE_TOO_BROAD", "reason": "范围过大"}
    today("2043-08-20")
    body = {"command_id": str(uuid.uuid4()), "semester": semester, "rejections": [rejection] * 500}
    assert refusal(await ask(nc, BUREAU, "cmd", "approvals", "DecideCertificationRound", body)) == (
        "INVALID_FIELD", "rejections.1.activity_id")
    too_many = {**body, "rejections": [rejection] * 501}
    assert refusal(await ask(nc, BUREAU, "cmd", "approvals", "DecideCertificationRound", too_many)) == (
        "INVALID_FIELD", "rejections")
    assert (await store.load("campus_entry_round", semester)).envelopes == []


# The region's catalogue: odd cells are kept as published, and nothing too large is stored.

def catalogue_command(rows: list[dict], **fields) -> dict:
    return {"command_id": str(uuid.uuid4()), "title": f"自治区中小学进校园活动目录 {uuid.uuid4().hex[:6]}",
            "in_force_from": "2026-09-01", "rows": rows, **fields}


async def test_s3_a_catalogue_row_whose_organiser_is_300_separators_names_no_unit(nc, today, store):
    reply = await ask(nc, BUREAU, "cmd", "approvals", "ImportRegionalCatalogue",
                      catalogue_command([{"item_name": "法治进校园", "organizer": "、，/；|" * 60}]))
    assert reply["ok"] is True and reply["unknown_organisers"] == [], reply
    [item] = (await store.load("regional_catalogue", "region")).envelopes[-1].data["items"]
    assert item["organizer_org_ids"] == []


async def test_s3_the_largest_catalogue_the_import_accepts_is_stored_whole(nc, today, store):
    """300 rows each naming every unit of the directory (what the event adds to each row) and
    padded to just under the 512 KiB limit: accepted and readable, or refused as too large."""
    units = "、".join(org.name for org in DIRECTORY.organisations if org.org_id.startswith(("dept-", "youth",
                                                                                              "womens", "science")))
    rows = [{"item_name": f"项目{n}", "organizer": units[:300], "content": "内" * 330, "basis": "依" * 100}
            for n in range(300)]
    body = json.dumps(catalogue_command(rows), ensure_ascii=False).encode()
    assert len(body) < 512 * 1024
    reply = await ask(nc, BUREAU, "cmd", "approvals", "ImportRegionalCatalogue", body)
    assert reply["ok"] is True, reply
    stored = (await store.load("regional_catalogue", "region")).envelopes[-1]
    assert stored.data["edition"] == reply["edition"] and len(stored.data["items"]) == 300
    assert all(len(item["organizer_org_ids"]) > 10 for item in stored.data["items"])


async def test_s3_a_catalogue_beyond_the_import_limits_is_refused_with_a_structured_reply(nc, today):
    rows = [{"item_name": f"项目{n}"} for n in range(301)]
    assert refusal(await ask(nc, BUREAU, "cmd", "approvals", "ImportRegionalCatalogue", catalogue_command(rows))) == (
        "INVALID_FIELD", "rows")
    padded = [{"item_name": f"项目{n}", "content": "内" * 1000} for n in range(200)]  # about 600 KiB
    reply = await ask(nc, BUREAU, "cmd", "approvals", "ImportRegionalCatalogue", catalogue_command(padded))
    assert refusal(reply)[0] == "PAYLOAD_TOO_LARGE"


# Downstream: what intake accepts, the detector and the projector read, store and route.

async def outside_report(s: S3Semester, school: str, name: str, title: str, claim: ExemptionClaim | None = None):
    report = ActivityHeldReported(report_id=uuid.uuid4(), school_id=school, organizer_org_id=None,
                                  organizer_name=name, activity_id=None, title=title, held_on=date(s.year, 10, 20),
                                  semester=s.semester, participants=40, teacher_hours=1.0, exemption_claim=claim)
    await s._append(s._context(school).event(report, str(report.report_id)))


async def test_s3_outside_names_at_their_bounds_are_charged_stored_and_routed(engine, log):
    """Names of 100 characters that NFKC writes as 1,800, a name that is the prefix itself, a
    title of 200 such characters and a 200-character claim: one violation each, routed to the
    bureau, and the register holds the name as the school typed it."""
    s = S3Semester(log.store)
    school = "school-dwk-middle-3"
    names = [EXPANDS * 100, UNREGISTERED_PREFIX.strip() + " " + FIRE, "unregistered unit:", "区消防大队 分队"]
    for n, name in enumerate(names):
        await outside_report(s, school, name, EXPANDS * 199 + str(n),
                             ExemptionClaim(category=ExemptCategory.REGIONAL_CATALOGUE, reference=EXPANDS * 200))
    refusal_event = CampusEntryRefused(report_id=uuid.uuid4(), school_id=school, organizer_org_id=None,
                                       organizer_name=EXPANDS * 100, title=EXPANDS * 200, refused_on=date(2019, 1, 1),
                                       semester=s.semester, refusal_code="NOT_ON_LIST", note=EXPANDS * 1000)
    await s._append(s._context(school).event(refusal_event, str(refusal_event.report_id)))
    async with running(engine, log.js, log.store) as both:
        await settle(both, log.store)
        assert both.active
    v, r = LIVE.violations, LIVE.refused_entries
    async with engine.connect() as conn:
        found = (await conn.execute(sa.select(v.c.responsible_org_id, v.c.routed_to).where(
            v.c.semester == s.semester))).all()
        refused = (await conn.execute(sa.select(r.c.organizer_name).where(r.c.semester == s.semester))).all()
    assert sorted(found) == sorted((UNREGISTERED_PREFIX + unit_name(name), BUREAU) for name in names)
    assert refused == [(EXPANDS * 100,)]


async def test_s3_a_catalogue_of_odd_rows_stops_neither_consumer(engine, log):
    """Items whose organiser cell is all separators, whose name is 300 expanding characters or
    another item's id: the detector still judges the report after them."""
    s = S3Semester(log.store)
    items = (CatalogueItem(item_id="rc-9-1", item_name=EXPANDS * 300, organizer="、" * 300, organizer_org_ids=(),
                           max_per_year=None, max_per_semester=None, stages=()),
             CatalogueItem(item_id="rc-9-2", item_name="RC-9-1", organizer="区公安分局",
                           organizer_org_ids=(POLICE,), max_per_year=None, max_per_semester=None, stages=()))
    catalogue = RegionalCatalogueImported(edition=1, title="目录", in_force_from=date(2021, 9, 1), items=items)
    await s._append(s._context(BUREAU).event(catalogue, "region"))
    await outside_report(s, "school-dwk-primary-4", "某某公司", "推介会")
    async with running(engine, log.js, log.store) as both:
        await settle(both, log.store)
        assert both.active
    v = LIVE.violations
    async with engine.connect() as conn:
        found = (await conn.execute(sa.select(v.c.responsible_org_id).where(v.c.semester == s.semester))).all()
    assert found == [(UNREGISTERED_PREFIX + "某某公司",)]


# Poison: issue 8's events as a hand or an older version could have stored them.

def envelope_of(s: S3Semester, org: str, data, aggregate_id: str) -> dict:
    return s._context(org).event(data, aggregate_id).model_dump(mode="json")


async def test_s3_poison_of_issue_8s_events_stops_neither_the_detector_nor_the_projector(engine, log):
    """Each is set aside by whichever consumer reads it, the report after them is judged, and a
    report no reader can store (a NUL in an outside unit's name) is not turned into a violation
    that carries the NUL into the log for ever."""
    s = S3Semester(log.store)
    school = "school-dwk-primary-2"
    report = ActivityHeldReported(report_id=uuid.uuid4(), school_id=school, organizer_org_id=None,
                                  organizer_name="某某公司", activity_id=None, title="推介会",
                                  held_on=date(s.year, 10, 20), semester=s.semester, participants=1, teacher_hours=0)
    spoiled = {}
    nul_name = envelope_of(s, school, report, str(report.report_id))
    nul_name["data"]["organizer_name"] = "红十字\u0000会"
    spoiled["nul_in_outside_name"] = nul_name
    bad_claim = envelope_of(s, school, report.model_copy(update={"report_id": uuid.uuid4()}), str(uuid.uuid4()))
    bad_claim["data"]["exemption_claim"] = {"category": "self_declared", "reference": "自称"}
    spoiled["unknown_exempt_category"] = bad_claim
    refusal = CampusEntryRefused(report_id=uuid.uuid4(), school_id=school, organizer_org_id=None,
                                 organizer_name="某某公司", title="推介会", refused_on=date(s.year, 10, 20),
                                 semester=s.semester, refusal_code="NOT_ON_LIST")
    bad_code = envelope_of(s, school, refusal, str(refusal.report_id))
    bad_code["data"]["refusal_code"] = "BECAUSE"
    spoiled["unknown_refusal_code"] = bad_code
    catalogue = RegionalCatalogueImported(edition=1, title="目录", in_force_from=date(2021, 9, 1), items=(
        CatalogueItem(item_id="rc-1-1", item_name="法治进校园", organizer_org_ids=(POLICE,), max_per_year=None,
                      max_per_semester=None, stages=()),))
    no_edition = envelope_of(s, BUREAU, catalogue, "region")
    no_edition["data"]["edition"] = 0
    spoiled["catalogue_edition_0"] = no_edition
    sequences = {}
    for name, envelope in spoiled.items():
        sequences[name] = (await log.js.publish(f"jf.ev.{envelope['aggregate_type']}.{envelope['aggregate_id']}",
                                                json.dumps(envelope, ensure_ascii=False).encode(),
                                                stream="JIANFU_EVENTS")).seq
    await outside_report(s, school, "某某公司", "推介会")  # after the poison: still judged
    async with running(engine, log.js, log.store) as both:
        last = await settle(both, log.store)
        assert both.active and last == await log.store.last_sequence()
    v = LIVE.violations
    async with engine.connect() as conn:
        found = (await conn.execute(sa.select(v.c.responsible_org_id).where(v.c.semester == s.semester))).all()
        projector_set_aside = dict((await conn.execute(sa.select(
            LIVE.quarantined_events.c.sequence, LIVE.quarantined_events.c.event_type))).all())
        detector_set_aside = set((await conn.execute(sa.select(DETECTOR.quarantined_events.c.sequence))).scalars())
    assert found == [(UNREGISTERED_PREFIX + "某某公司",)]
    assert "ViolationDetected" not in projector_set_aside.values()  # the detector wrote nothing unreadable
    assert set(sequences.values()) - {sequences["catalogue_edition_0"]} <= set(projector_set_aside)
    assert {sequences["nul_in_outside_name"], sequences["unknown_exempt_category"],
            sequences["catalogue_edition_0"]} <= detector_set_aside


async def test_s3_a_structured_maximum_within_the_frequency_text_is_kept(nc, today, store):
    today("2026-07-10")
    reply = await ask(nc, POLICE, "cmd", "requests", "RequestActivity",
                      application(frequency="每年1-2次", max_per_year=1, max_per_semester=1))
    assert reply["ok"] is True, reply
    [event] = (await store.load("activity", reply["activity_id"])).envelopes
    assert (event.data["max_per_year"], event.data["max_per_semester"]) == (1, 1)


# Queries: outside units' violations at their bounds read back page by page.

async def test_s3_outside_units_violations_read_back_page_by_page_and_counted_at_their_school(engine, log):
    """The bureau pages through violations charged to outside units with the longest names; the
    school sees them at its own; a party written as `unregistered unit: <name>` is no org id to
    filter by and is refused as a field, not as an internal error."""
    s = S3Semester(log.store)
    school = "school-dwk-primary-1"
    names = [EXPANDS * 100, "unregistered unit: " + "某" * 81, "区消防大队分队"]
    for name in names:
        await outside_report(s, school, name, EXPANDS * 200)
    async with running(engine, log.js, log.store) as both:
        await settle(both, log.store)
    router = interface(Deps(log.store, DIRECTORY, POLICY, SystemClock()), Settings(), engine).routers[0]

    async def query(org: str, name: str, **payload) -> dict:
        return await router.dispatch(f"jf.q.{org}.compliance.{name}", json.dumps(payload).encode())

    seen, cursor = [], None
    while True:
        page = await query(BUREAU, "GetViolations", semester=s.semester, limit=1, **({"cursor": cursor} if cursor else {}))
        assert page["ok"] is True, page
        seen += [v["responsible_org_id"] for v in page["violations"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert sorted(seen) == sorted(UNREGISTERED_PREFIX + unit_name(name) for name in names)
    at_school = await query(school, "GetViolations", semester=s.semester)
    assert len(at_school["violations"]) == 3
    counters = await query(school, "GetCampusEntryCounters", semester=s.semester)
    assert counters["ok"] is True and counters["schools"][0]["unauthorised_entries"] == 3, counters
    for school_id in ("dept-fire", "school-nowhere"):
        other = await query(BUREAU, "GetCampusEntryCounters", semester=s.semester, school_id=school_id)
        assert (other["ok"], other["error"]["code"], other["error"]["field"]) == (False, "NOT_FOUND", "school_id")
    by_party = await query(BUREAU, "GetViolations", responsible_org_id=UNREGISTERED_PREFIX + names[2])
    assert (by_party["ok"], by_party["error"]["code"], by_party["error"]["field"]) == (
        False, "INVALID_FIELD", "responsible_org_id")


@asynccontextmanager
async def poisoned_catalogue(log, folder):
    """Command services on a log whose `regional_catalogue.region` holds a hand-stored edition no
    reader can parse (edition 0)."""
    s = S3Semester(log.store)
    catalogue = RegionalCatalogueImported(edition=1, title="目录", in_force_from=date(2021, 9, 1), items=(
        CatalogueItem(item_id="rc-1-1", item_name="法治进校园", organizer_org_ids=(POLICE,), max_per_year=None,
                      max_per_semester=None, stages=()),))
    poison = envelope_of(s, BUREAU, catalogue, "region")
    poison["data"]["edition"] = 0
    await log.js.publish("jf.ev.regional_catalogue.region", json.dumps(poison, ensure_ascii=False).encode(),
                         stream="JIANFU_EVENTS")
    clock = folder / "today"
    clock.write_text("2026-07-10")
    async with command_services(Settings(nats_url=log.url, clock=f"file:{clock}", log_level="WARNING")):
        yield


async def test_s3_after_a_poison_edition_of_the_catalogue_an_import_gets_a_structured_reply_at_once(log, tmp_path):
    async with poisoned_catalogue(log, tmp_path):
        imported = await ask(log.nc, BUREAU, "cmd", "approvals", "ImportRegionalCatalogue",
                             catalogue_command([{"item_name": "法治进校园", "organizer": "区公安分局"}]))
    assert refusal(imported)[0] == "INTERNAL_ERROR"


async def test_s3_a_poison_edition_of_the_catalogue_does_not_leave_valid_exempt_declarations_undecided(log, tmp_path):
    """Screening passes over the unreadable edition (no edition in force: the claim is refused)."""
    claim = {"category": "regional_catalogue", "reference": "法治进校园"}
    async with poisoned_catalogue(log, tmp_path):
        declared = await ask(log.nc, POLICE, "cmd", "requests", "RequestActivity", application(exemption_claim=claim))
        assert declared["ok"] is True, declared
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if len((await log.store.load("activity", declared["activity_id"])).envelopes) > 1:
                break
            await asyncio.sleep(0.1)
    assert len((await log.store.load("activity", declared["activity_id"])).envelopes) == 2
