"""End to end: the four services as separate processes walk a year of teachers' time (S7–S10, G2).

The demo's year (``walk_teachers_year``) only through commands, the clock file moved as the year
goes and the compliance scheduler turning it into ``DayEnded`` events: 320 teachers registered by
their schools; a secondment consented and approved, another started with only the bureau's consent
(UnapprovedSecondment), one never returned and found by the sweep on its 184th day, a renewal past
the half year refused at consent; the 30-day notices alerted to the borrowing units; a meeting 80+
km away with no sub-venue, one by a unit outside education; training outside the spring plan. Each
violation is found once and reminded once; a rebuild of the read model equals the live one.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date

import pytest
from jianfu.cli.client import JianfuClient
from jianfu.cli.teachers_year import OVERDUE_DAY, SECONDMENTS, SPRING, TEACHERS_RULES, TEACHERS_YEAR, walk_teachers_year
from jianfu.compliance.database import make_engine
from jianfu.compliance.rebuild import rebuild_read_model

from tests.e2e.fleet import running_system
from tests.e2e.test_semester_walk import eventually
from tests.factories import DIRECTORY

pytestmark = pytest.mark.e2e

CHARGED = {  # (rule, unit charged, teacher): what the year's facts are
    ("UnapprovedSecondment", "dept-political-legal", SECONDMENTS["unapproved"].teacher_id),
    ("SecondmentOverdue", "dept-health", SECONDMENTS["overdue"].teacher_id),
    ("VideoSubVenueRequired", "edu-bureau", None),
    ("NonEducationMeetingForTeachers", "dept-culture-tourism", None),
    ("UnplannedTraining", "school-dwk-primary-3", None),
    ("NonEducationTraining", "dept-emergency", None),
}
NOTICED = {  # borrowing unit: the last day its notice is about (one departure each)
    "dept-political-legal": "2027-04-30", "dept-health": "2027-05-31", "dept-emergency": "2027-06-30",
    "dept-culture-sports": "2027-06-30",
}


@pytest.fixture(scope="module")
async def system(tmp_path_factory):
    async with running_system(tmp_path_factory.mktemp("e2e-teachers"), "2027-01-04", "e2e_teachers") as running:
        client = running.client
        year = await walk_teachers_year(client, DIRECTORY, running.set_today())
        found = await violations(client)
        yield {"client": client, "year": year, "alerts": running.alerts, "store": running.store, "found": found,
               "database_url": running.database_url}


async def teachers_time_violations(client: JianfuClient) -> list[dict]:
    found, cursor = [], None
    while True:
        reply = await client.query("supervision-office", "compliance", "GetViolations",
                                   {"limit": 100, **({"cursor": cursor} if cursor else {})})
        assert reply["ok"], reply
        found += [v for v in reply["violations"] if v["rule"] in TEACHERS_RULES]
        cursor = reply["next_cursor"]
        if not cursor:
            return found


async def violations(client: JianfuClient) -> list[dict]:
    async def all_found():
        found = await teachers_time_violations(client)
        return found if len(found) >= len(CHARGED) else None
    return await eventually(all_found, timeout=60.0)


async def logged_violations(store) -> list[dict]:
    """The S7–S10 violations as the log holds them (with the teacher's id where there is one)."""
    return [e.envelope.data async for e in store.replay(1, "jf.ev.violation.>")
            if e.envelope.data["rule"] in TEACHERS_RULES]


async def test_s7_s8_s9_s10_every_violation_of_the_year_is_found_once(system):
    assert Counter((v["rule"], v["responsible_org_id"]) for v in system["found"]) == {
        (rule, unit): 1 for rule, unit, _ in CHARGED}
    logged = await logged_violations(system["store"])
    assert Counter((v["rule"], v["responsible_org_id"], v.get("teacher_id")) for v in logged) == dict.fromkeys(
        CHARGED, 1)


async def test_s7_schools_register_their_teachers_and_names_stay_with_those_allowed(system):
    client, year = system["client"], system["year"]
    assert year.registered == 320
    own = await client.query("school-dwk-primary-1", "compliance", "GetTeachers",
                             {"school_id": "school-dwk-primary-1", "limit": 100})
    assert own["ok"] and len(own["teachers"]) == 40
    names = {t.teacher_id: t.name for t in year.teachers}
    assert all(row["name"] == names[row["teacher_id"]] for row in own["teachers"])
    public = await client.query("dept-health", "compliance", "GetTeachers",
                                {"school_id": "school-dwk-primary-1", "limit": 100})
    assert public["ok"] and len(public["teachers"]) == 40  # a unit lists a school's teachers by id only
    assert all(row["name"] is None for row in public["teachers"])


async def test_s7_the_secondment_list_names_teachers_for_the_approver_and_a_unit_reads_its_own(system):
    client, year = system["client"], system["year"]
    names = {t.teacher_id: t.name for t in year.teachers}
    approver = await client.query("hr-bureau", "compliance", "GetSecondments", {"limit": 100})
    assert approver["ok"], approver
    assert approver["counts"]["by_status"] == {"requested": 0, "consented": 0, "approved": 0, "refused": 2,
                                               "away": 1, "returned": 3}
    assert all(row["teacher_name"] == names[row["teacher_id"]] for row in approver["secondments"])
    own = await client.query("dept-health", "compliance", "GetSecondments", {"limit": 100})
    assert [row["teacher_id"] for row in own["secondments"]] == [SECONDMENTS["overdue"].teacher_id]
    other = await client.query("dept-health", "compliance", "GetSecondments", {"borrowing_org_id": "dept-emergency"})
    assert other["error"]["code"] == "FORBIDDEN"


async def test_s7_a_secondment_consented_and_approved_leaves_with_both_decisions(system):
    replies = system["year"].replies
    assert replies["ConsentToSecondment:overdue"]["decision"] == "consented"
    assert replies["ApproveSecondment:overdue"]["decision"] == "approved"
    left = replies["left:overdue"]
    assert (left["consented"], left["approved"], left["ends_on"]) == (True, True, "2027-05-31")


async def test_s7_a_secondment_started_with_only_the_bureaus_consent_is_unapproved(system):
    left = system["year"].replies["left:unapproved"]
    assert (left["consented"], left["approved"]) == (True, False)
    [found] = [v for v in await logged_violations(system["store"]) if v["rule"] == "UnapprovedSecondment"]
    assert (found["responsible_org_id"], found["teacher_id"], found["school_id"]) == (
        "dept-political-legal", SECONDMENTS["unapproved"].teacher_id, "school-dwk-middle-3")


async def test_s7_a_renewal_right_after_171_days_is_refused_at_consent_as_over_half_a_year(system):
    reply = system["year"].replies["ConsentToSecondment:renewal"]
    assert (reply["decision"], reply["refusal_code"], reply["automatic"]) == ("refused", "OVER_HALF_YEAR", True)
    assert reply["continuous_days"] == 171 + 92
    refused = system["year"].replies["RefuseSecondment:refused"]
    assert (refused["decision"], refused["refusal_code"], refused["automatic"]) == ("refused", "AFFECTS_TEACHING",
                                                                                     False)


async def test_s7_the_sweep_flags_the_overdue_secondment_on_the_184th_day_once(system):
    """S7: left 11 January, never back: the DayEnded of 13 July (the 184th day) causes it."""
    assert (OVERDUE_DAY - SECONDMENTS["overdue"].starts_on).days + 1 == 184
    events = [e.envelope async for e in system["store"].replay(1)]
    days = {e.event_id: e.data["day"] for e in events if e.event_type == "DayEnded"}
    [overdue] = [e for e in events if e.event_type == "ViolationDetected" and e.data["rule"] == "SecondmentOverdue"]
    assert days[overdue.causation_id] == OVERDUE_DAY.isoformat()
    assert overdue.data["responsible_org_id"] == "dept-health"
    ended = sorted(date.fromisoformat(day) for day in days.values())
    assert ended[-1] == date(2027, 7, 19) and len(ended) == len(set(ended)) == (ended[-1] - ended[0]).days + 1


async def test_s7_the_30_day_notices_reach_the_borrowing_units_once_each_naming_teachers_by_id(system):
    alerts = system["alerts"]

    async def every_notice():
        found = [(s, a) for s, a in alerts if s.split(".")[3] == "secondment_ending"]
        return found if len(found) >= len(NOTICED) else None

    notices = await eventually(every_notice)
    await asyncio.sleep(1.0)  # a duplicate would arrive in this time
    notices = [(s, a) for s, a in alerts if s.split(".")[3] == "secondment_ending"]
    assert Counter(s for s, _ in notices) == {s: 1 for s, _ in notices}
    assert {a["borrowing_org_id"]: a["ends_on"] for _, a in notices} == NOTICED
    assert all(s.split(".")[2] == a["borrowing_org_id"] and a["days_left"] == 30 for s, a in notices)
    normal = next(a for _, a in notices if a["borrowing_org_id"] == "dept-culture-sports")
    assert (normal["teacher_id"], normal["noticed_on"], normal["clause"]) == (
        SECONDMENTS["normal"].teacher_id, "2027-05-31", "S7")
    names = {t.name for t in system["year"].teachers}
    assert not any(name in a["summary"] for _, a in alerts for name in names)


async def secondment_counters(client: JianfuClient, year: int) -> dict:
    """Every page of the year's counters (one teacher a page): the teachers, and each unit's
    ``teachers_held`` (the same on every page naming it)."""
    teachers, units, cursor = [], {}, None
    while True:
        reply = await client.query("edu-bureau", "compliance", "GetSecondmentCounters",
                                   {"year": year, "limit": 1, **({"cursor": cursor} if cursor else {})})
        assert reply["ok"], reply
        teachers += reply["teachers"]
        units |= {u["borrowing_org_id"]: u["teachers_held"] for u in reply["units"]}
        cursor = reply["next_cursor"]
        if not cursor:
            return {"last_day": reply["last_day"], "teachers": teachers, "units": units}


async def test_s7_counters_count_days_seconded_up_to_the_last_day_ended(system):
    async def through_19_july():
        reply = await secondment_counters(system["client"], TEACHERS_YEAR)
        return reply if reply["last_day"] == "2027-07-19" else None

    reply = await eventually(through_19_july)
    by_teacher = {t["teacher_id"]: t for t in reply["teachers"]}
    renewed = by_teacher[SECONDMENTS["renewed"].teacher_id]  # 11 January to 30 June
    assert (renewed["continuous_days"], renewed["total_days"]) == (171, 171)
    overdue = by_teacher[SECONDMENTS["overdue"].teacher_id]  # still away on 19 July, the last day ended
    assert overdue["continuous_days"] == overdue["total_days"] == 190
    assert reply["units"] == {"dept-health": 1}


async def test_s9_a_meeting_80_km_away_with_8_teachers_and_no_sub_venue_needs_one(system):
    [found] = [v for v in system["found"] if v["rule"] == "VideoSubVenueRequired"]
    assert found["responsible_org_id"] == "edu-bureau"
    reply = await system["client"].query("edu-bureau", "compliance", "GetMeetings", {"semester": SPRING})
    assert reply["ok"], reply
    meetings = {m["meeting_id"]: m for m in reply["meetings"]}
    far = meetings[system["year"].meetings["far"]["meeting_id"]]
    assert far["distant_participants"] == 8
    assert meetings[system["year"].meetings["video"]["meeting_id"]]["sub_venue_ids"] == ["venue-edu-bureau"]


async def test_s10_a_meeting_of_a_unit_outside_education_about_no_teaching_is_charged(system):
    [found] = [v for v in system["found"] if v["rule"] == "NonEducationMeetingForTeachers"]
    assert found["responsible_org_id"] == "dept-culture-tourism"
    assert not [v for v in system["found"] if v["rule"] == "MeetingQuotaExceeded"]  # one such meeting each


async def test_s8_training_outside_the_plan_is_charged_and_planned_training_is_not(system):
    client, year = system["client"], system["year"]
    assert (year.plan["edition"], year.plan.get("before_semester", True)) == (1, True)
    reply = await client.query("teaching-research-office", "compliance", "GetTrainingSessions", {"semester": SPRING})
    assert reply["ok"], reply
    planned = {s["session_id"]: s["planned"] for s in reply["sessions"]}
    assert planned[year.sessions["planned_backbone"]["session_id"]] is True
    assert planned[year.sessions["planned_school"]["session_id"]] is True
    assert planned[year.sessions["unplanned"]["session_id"]] is False
    units = {v["responsible_org_id"] for v in system["found"] if v["rule"] in ("UnplannedTraining",
                                                                                "NonEducationTraining")}
    assert units == {"school-dwk-primary-3", "dept-emergency"}


async def test_g2_s7_s10_each_violation_is_reminded_once_schools_by_the_bureau(system):
    alerts, found = system["alerts"], system["found"]

    async def every_one():
        reminded = [a for s, a in alerts if s.split(".")[3] == "reminder"]
        return reminded if len(reminded) >= len(found) else None

    await eventually(every_one)
    await asyncio.sleep(1.0)  # a duplicate would arrive in this time
    reminded = [a for s, a in alerts if s.split(".")[3] == "reminder"]
    assert Counter(a["violation_id"] for a in reminded) == {v["violation_id"]: 1 for v in found}
    issuers = {a["responsible_org_id"]: a["issued_by"] for a in reminded}
    assert issuers.pop("school-dwk-primary-3") == "edu-bureau"
    assert set(issuers.values()) == {"supervision-office"}


async def test_s7_s10_a_rebuild_of_the_read_model_equals_the_live_one(system):
    """Every time-driven fact too: the days ended, the overdue run, the counters."""
    engine = make_engine(system["database_url"])
    try:
        result = await rebuild_read_model(engine, system["store"], switch=False)
    finally:
        await engine.dispose()
    assert result.matched is True, result


async def test_s7_s10_violations_name_their_teacher_by_id_and_are_found_by_it(system):
    """S7, S10: the register gives each violation about a teacher its ``teacher_id`` (the id the
    evidence names), null for the others, and GetViolations finds them by teacher."""
    about_teachers = [v for v in system["found"] if "teacher_id" in v["evidence"]]
    assert about_teachers and all(v["teacher_id"] == v["evidence"]["teacher_id"] for v in about_teachers)
    assert all(v["teacher_id"] is None for v in system["found"] if "teacher_id" not in v["evidence"])
    overdue = next(v for v in about_teachers if v["rule"] == "SecondmentOverdue")
    reply = await system["client"].query("supervision-office", "compliance", "GetViolations",
                                         {"teacher_id": overdue["teacher_id"]})
    assert reply["ok"] and overdue["violation_id"] in {v["violation_id"] for v in reply["violations"]}
    assert {v["teacher_id"] for v in reply["violations"]} == {overdue["teacher_id"]}
