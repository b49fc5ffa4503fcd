"""S7–S10 compliance queries on a log and a PostgreSQL database of this module's own: events
appended to the real store, the projector run over JetStream, then every query answered, with
who may read what (teachers' names to their school, the bureau and the approver; a unit its own
secondments and meetings; a school its own teachers' counters), page by page, and hostile
bodies answered with a structured refusal."""

from __future__ import annotations

from datetime import date

import pytest
from jianfu.compliance.app import interface
from jianfu.compliance.database import make_engine
from jianfu.compliance.migrations import migrate
from jianfu.compliance.read_model import LIVE
from jianfu.compliance.rebuild import read_model_digest, rebuild_with
from jianfu.events.dependencies import Deps
from jianfu.events.distances import DistanceTable
from jianfu.events.schemas.compliance import Rule
from jianfu.events.schemas.meetings import MeetingMode
from jianfu.events.settings import REFERENCE, Settings, SystemClock

from tests import query_router
from tests.conftest import fresh_database
from tests.factories import DIRECTORY, POLICY
from tests.hostile import refusal
from tests.inspection_year import append
from tests.poison import own_log
from tests.s3_semester import running, settle
from tests.teachers_time import PLANNER, TeachersTime

SCHOOL, OTHER = "school-dwk-primary-1", "school-dwk-middle-2"
UNIT, ELSEWHERE = "dept-publicity", "dept-health"
BUREAU, APPROVER, OFFICE = "edu-bureau", "hr-bureau", "supervision-office"
SEMESTER = "2031-spring"
FAR = "venue-yinchuan"  # over 80 km from every school of the district: every participant is distant (S9)


def far_people(n: int, school: str = SCHOOL, start: int = 0) -> tuple[tuple[str, str], ...]:
    return tuple((f"t-{start + k}", school) for k in range(n))


def history(t: TeachersTime) -> tuple[list, dict]:
    """Three teachers (two at SCHOOL, one at OTHER); S7: a secondment consented and approved,
    the teacher away since 2030-10-01 and back 2031-04-01 (a run across the year's end), a renewal
    with the same unit from 2031-04-20 still running; another teacher gone to another unit without
    a request; days ended up to 2031-05-10. S8: the plan in two editions, one session planned and
    one unplanned. S9/S10: three meetings of one unit in one week (two alike), a meeting with six
    distant participants."""
    steps = [t.register("t-1", SCHOOL, "李老师"), t.register("t-2", SCHOOL, "赵老师"),
             t.register("t-3", OTHER, "王老师")]
    first = t.request("t-1", SCHOOL, UNIT, date(2030, 10, 1), date(2031, 3, 31))
    renewal = t.request("t-1", SCHOOL, UNIT, date(2031, 4, 20), date(2031, 6, 30))
    refused = t.request("t-2", SCHOOL, ELSEWHERE, date(2031, 1, 1), date(2031, 9, 30))
    steps += [first, t.consent(first[1]), t.approve(first[1]), refused, t.refuse(refused[1])]
    left = t.seconded("t-1", SCHOOL, UNIT, date(2030, 10, 1), first[1])
    steps += [left, t.day(date(2030, 12, 31)), t.returned(left[1], date(2031, 4, 1)), renewal,
              t.consent(renewal[1], 254), t.approve(renewal[1], 254),
              t.seconded("t-1", SCHOOL, UNIT, date(2031, 4, 20), renewal[1]),
              t.seconded("t-3", OTHER, ELSEWHERE, date(2031, 5, 1)), t.day(date(2031, 5, 10)),
              t.violation(Rule.UNAPPROVED_SECONDMENT, ELSEWHERE, school=OTHER, teacher="t-3")]
    steps += [t.plan(SEMESTER, 1, ("A-1", "语文骨干教师培训", PLANNER)),
              t.plan(SEMESTER, 2, ("A-1", "语文骨干教师培训", PLANNER), ("B-1", "校本研修", SCHOOL),
                     ("B-2", "班主任培训", OTHER))]
    unplanned = t.session(SEMESTER, SCHOOL, "信息技术培训", date(2031, 3, 20))
    outside = t.session(SEMESTER, ELSEWHERE, "卫生健康知识培训", date(2031, 3, 22))
    planned = t.session(SEMESTER, PLANNER, "语文骨干教师培训", date(2031, 3, 21), plan_code="A-1")
    steps += [unplanned, planned, outside,
              t.violation(Rule.UNPLANNED_TRAINING, SCHOOL, semester=SEMESTER, session_id=str(unplanned[1].session_id)),
              t.violation(Rule.NON_EDUCATION_TRAINING, ELSEWHERE, semester=SEMESTER,
                          session_id=str(outside[1].session_id))]
    people = (("t-1", SCHOOL), ("t-3", OTHER))
    alike = [t.meeting(SEMESTER, UNIT, "安全生产工作会", date(2031, 3, 17), people, concerns_teaching=False),
             t.meeting(SEMESTER, UNIT, "安全生产工作会（第二次）", date(2031, 3, 19), people, concerns_teaching=False),
             t.meeting(SEMESTER, UNIT, "安全生产工作会", date(2031, 3, 20), people, concerns_teaching=False)]
    distant = t.meeting(SEMESTER, BUREAU, "全区教学工作会", date(2031, 3, 25), far_people(6, start=10), venue=FAR)
    online = t.meeting(SEMESTER, BUREAU, "网上教研", date(2031, 3, 26), (("t-1", SCHOOL),), venue=None,
                       mode=MeetingMode.ONLINE)
    steps += [*alike, distant, online,
              t.violation(Rule.MEETING_QUOTA_EXCEEDED, UNIT, school=SCHOOL, teacher="t-1", semester=SEMESTER,
                          meeting_id=str(alike[2][1].meeting_id)),
              t.violation(Rule.VIDEO_SUB_VENUE_REQUIRED, BUREAU, semester=SEMESTER,
                          meeting_id=str(distant[1].meeting_id))]
    return steps, {"first": first[1], "renewal": renewal[1], "refused": refused[1], "alike": [m[1] for m in alike],
                   "distant": distant[1], "online": online[1], "unplanned": unplanned[1], "planned": planned[1],
                   "outside": outside[1]}


@pytest.fixture(scope="module")
async def world(pg_database, tmp_path_factory):
    """The history on a log of the module's own, projected into a database of its own."""
    async with own_log(tmp_path_factory.mktemp("nats")) as log, fresh_database("teachers_time") as url:
        steps, facts = history(TeachersTime())
        await append(log.store, steps)
        await migrate(url)
        engine = make_engine(url)
        try:
            async with running(engine, log.js, log.store) as projector:
                await settle(projector, log.store)
            deps = Deps(log.store, DIRECTORY, POLICY, SystemClock(), distances=DistanceTable.load(
                REFERENCE / "distances.csv"))
            router = interface(deps, Settings(), engine).routers[0]
            yield {"router": router, "engine": engine, "log": log, "url": url, **facts}
        finally:
            await engine.dispose()


async def ask(world, org: str, query: str, **payload) -> dict:
    return await query_router.ask(world["router"], org, query, **payload)


async def every_page(world, org: str, query: str, rows: str, **payload) -> list[dict]:
    return await query_router.every_page(world["router"], org, query, rows, **payload)


# S7: teachers and secondments

async def test_s7_teacher_names_only_for_their_school_the_bureau_and_the_approver(world):
    listed = await ask(world, BUREAU, "GetTeachers")
    assert listed["ok"] and [t["teacher_id"] for t in listed["teachers"]] == ["t-1", "t-2", "t-3"]
    assert {t["name"] for t in listed["teachers"]} == {"李老师", "赵老师", "王老师"}
    assert {t["name"] for t in (await ask(world, APPROVER, "GetTeachers"))["teachers"]} == {"李老师", "赵老师", "王老师"}
    by_school = {t["teacher_id"]: t["name"] for t in (await ask(world, SCHOOL, "GetTeachers"))["teachers"]}
    assert by_school == {"t-1": "李老师", "t-2": "赵老师", "t-3": None}  # another school's teacher: id only
    for org in (UNIT, OFFICE):
        seen = await ask(world, org, "GetTeachers", school_id=SCHOOL)
        assert seen["ok"] and [t["name"] for t in seen["teachers"]] == [None, None]  # ids and subjects only
    assert [t["teacher_id"] for t in await every_page(world, BUREAU, "GetTeachers", "teachers")] == ["t-1", "t-2", "t-3"]


async def test_s7_secondments_newest_first_with_status_and_names_for_those_allowed(world):
    listed = await ask(world, BUREAU, "GetSecondments")
    assert listed["ok"] and listed["counts"]["total"] == 4
    rows = {row["secondment_id"] or row["entry_id"]: row for row in listed["secondments"]}
    assert rows[str(world["first"].secondment_id)]["status"] == "returned"
    assert rows[str(world["renewal"].secondment_id)]["status"] == "away"
    refused = rows[str(world["refused"].secondment_id)]
    assert (refused["status"], refused["refusal_code"], refused["automatic"]) == ("refused", "OVER_HALF_YEAR", True)
    assert rows["departure:2031-05-01"]["status"] == "away"  # left with no request on record
    assert [r["first_sequence"] for r in listed["secondments"]] == sorted(
        (r["first_sequence"] for r in listed["secondments"]), reverse=True)
    assert rows[str(world["first"].secondment_id)]["teacher_name"] == "李老师"
    for org in (APPROVER, OFFICE):
        assert (await ask(world, org, "GetSecondments"))["counts"]["total"] == 4
    office = await ask(world, OFFICE, "GetSecondments")
    assert {row["teacher_name"] for row in office["secondments"]} == {None}  # the office reads ids only
    away = await ask(world, BUREAU, "GetSecondments", status="away")
    assert len(away["secondments"]) == 2 and away["counts"]["total"] == 4
    paged = await every_page(world, BUREAU, "GetSecondments", "secondments")
    assert [r["entry_id"] for r in paged] == [r["entry_id"] for r in listed["secondments"]]


async def test_s7_a_unit_reads_only_its_own_secondments_and_no_teacher_names(world):
    own = await ask(world, UNIT, "GetSecondments")
    assert own["ok"] and {r["borrowing_org_id"] for r in own["secondments"]} == {UNIT} and own["counts"]["total"] == 2
    assert {r["teacher_name"] for r in own["secondments"]} == {None}
    assert refusal(await ask(world, UNIT, "GetSecondments", borrowing_org_id=ELSEWHERE)) == \
        ("FORBIDDEN", "borrowing_org_id")
    by_teacher = await ask(world, ELSEWHERE, "GetSecondments", teacher_id="t-1")  # not its own: nothing
    assert by_teacher["ok"] and by_teacher["secondments"] == []
    school = await ask(world, OTHER, "GetSecondments")
    assert [r["teacher_id"] for r in school["secondments"]] == ["t-3"] and school["secondments"][0]["teacher_name"] \
        == "王老师"


async def test_s7_counters_days_seconded_per_year_across_the_year_end_and_units_holding_teachers_now(world):
    """S7 counters: t-1 away 2030-10-01..2031-03-31 (92 days in 2030, 90 in 2031), back 19 days,
    away again from 2031-04-20 with the same unit (a renewal within 30 days: one run) up to the
    last day ended, 2031-05-10; t-3 away since 2031-05-01 with another unit."""
    before = await ask(world, BUREAU, "GetSecondmentCounters", year=2030)
    assert before["ok"] and before["last_day"] == "2031-05-10"
    assert [(t["teacher_id"], t["continuous_days"], t["total_days"]) for t in before["teachers"]] == [("t-1", 92, 92)]
    now = await ask(world, BUREAU, "GetSecondmentCounters", year=2031)
    counted = {t["teacher_id"]: t for t in now["teachers"]}
    run_in_2031 = (date(2031, 5, 10) - date(2031, 1, 1)).days + 1
    assert (counted["t-1"]["continuous_days"], counted["t-1"]["total_days"]) == (run_in_2031, 90 + 21)
    assert counted["t-1"]["longest_run"] == {"starts_on": "2030-10-01", "ends_on": "2031-05-10",
                                             "days": 222, "borrowing_org_id": UNIT}
    assert counted["t-1"]["away"] and (counted["t-3"]["continuous_days"], counted["t-3"]["total_days"]) == (10, 10)
    assert {u["borrowing_org_id"]: u["teacher_ids"] for u in now["units"]} == {UNIT: ["t-1"], ELSEWHERE: ["t-3"]}
    school = await ask(world, SCHOOL, "GetSecondmentCounters", year=2031)
    assert [t["teacher_id"] for t in school["teachers"]] == ["t-1"] and [u["teacher_ids"] for u in school["units"]] \
        == [["t-1"]]
    one_unit = await ask(world, BUREAU, "GetSecondmentCounters", year=2031, borrowing_org_id=ELSEWHERE)
    assert [t["teacher_id"] for t in one_unit["teachers"]] == ["t-3"]
    own = await ask(world, UNIT, "GetSecondmentCounters", year=2031)  # a borrowing unit: its own teachers
    assert [t["teacher_id"] for t in own["teachers"]] == ["t-1"] and [u["borrowing_org_id"] for u in own["units"]] \
        == [UNIT]


async def test_s7_counters_page_by_teacher_id_and_the_pages_make_up_the_units_held(world):
    """S7: page by page by teacher id (limit 1: t-1, then t-3); each page names the units holding
    its teachers now, ``teachers_held`` counting them all, so the pages' ``teacher_ids`` together
    are the whole; a cursor of another query is refused."""
    seen, units, cursor = [], {}, None
    while True:
        page = await ask(world, BUREAU, "GetSecondmentCounters", year=2031, limit=1,
                         **({"cursor": cursor} if cursor else {}))
        assert page["ok"] and len(page["teachers"]) == 1 and page["last_day"] == "2031-05-10", page
        seen += page["teachers"]
        for unit in page["units"]:
            assert set(unit["teacher_ids"]) <= {t["teacher_id"] for t in page["teachers"]}
            held, ids = units.setdefault(unit["borrowing_org_id"], (unit["teachers_held"], []))
            assert held == unit["teachers_held"]
            ids += unit["teacher_ids"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    whole = await ask(world, BUREAU, "GetSecondmentCounters", year=2031)
    assert seen == whole["teachers"] and [t["teacher_id"] for t in seen] == ["t-1", "t-3"]
    assert units == {UNIT: (1, ["t-1"]), ELSEWHERE: (1, ["t-3"])} and whole["next_cursor"] is None
    other = await ask(world, BUREAU, "GetMeetingCounters", semester=SEMESTER, limit=1)
    assert refusal(await ask(world, BUREAU, "GetSecondmentCounters", year=2031, cursor=other["next_cursor"])) == \
        ("INVALID_FIELD", "cursor")


async def test_s7_the_approver_reads_every_teachers_days_and_a_borrowing_unit_only_its_own(world):
    """S7: the approver (policy.secondment.approver_kind, the HR bureau) reads what the bureau
    reads; a borrowing unit the teachers it holds and has held, counted from its own departures
    only (t-1's 2030 days with UNIT, returned since); another unit's borrowing_org_id is FORBIDDEN,
    and naming another unit's teacher finds nothing."""
    def answer(reply: dict) -> dict:
        return {k: v for k, v in reply.items() if k != "correlation_id"}

    for year in (2030, 2031):
        everyone = await ask(world, BUREAU, "GetSecondmentCounters", year=year)
        assert answer(await ask(world, APPROVER, "GetSecondmentCounters", year=year)) == answer(everyone)
        assert everyone["teachers"]
    held = await ask(world, UNIT, "GetSecondmentCounters", year=2030)
    assert [(t["teacher_id"], t["total_days"]) for t in held["teachers"]] == [("t-1", 92)]
    elsewhere = await ask(world, ELSEWHERE, "GetSecondmentCounters", year=2031)
    assert [(t["teacher_id"], t["total_days"]) for t in elsewhere["teachers"]] == [("t-3", 10)]
    assert elsewhere["units"] == [{"borrowing_org_id": ELSEWHERE, "teachers_held": 1, "teacher_ids": ["t-3"]}]
    assert (await ask(world, ELSEWHERE, "GetSecondmentCounters", year=2030))["teachers"] == []
    assert (await ask(world, ELSEWHERE, "GetSecondmentCounters", year=2031, teacher_id="t-1"))["teachers"] == []
    assert answer(await ask(world, UNIT, "GetSecondmentCounters", year=2031, borrowing_org_id=UNIT)) == \
        answer(await ask(world, UNIT, "GetSecondmentCounters", year=2031))
    assert refusal(await ask(world, UNIT, "GetSecondmentCounters", year=2031, borrowing_org_id=ELSEWHERE)) == \
        ("FORBIDDEN", "borrowing_org_id")
    assert refusal(await ask(world, "teacher-nobody", "GetSecondmentCounters", year=2031))[0] in (
        "FORBIDDEN", "NOT_FOUND", "UNKNOWN_ORG")


# S7, S10: the violations register names teachers by id.

async def test_s7_s10_violations_give_the_teacher_and_filter_by_it_within_what_the_caller_sees(world):
    """S7 (UnapprovedSecondment of t-3, charged to ELSEWHERE, found at OTHER) and S10
    (MeetingQuotaExceeded of t-1, charged to UNIT, found at SCHOOL): each row gives ``teacher_id``
    (null for rules about no teacher); the filter narrows what the caller may see: the overseers
    every violation, a school those found at it, a unit those charged to it."""
    every = await ask(world, BUREAU, "GetViolations")
    assert every["ok"] and {(v["rule"], v["teacher_id"]) for v in every["violations"]} == {
        ("UnapprovedSecondment", "t-3"), ("MeetingQuotaExceeded", "t-1"), ("UnplannedTraining", None),
        ("NonEducationTraining", None), ("VideoSubVenueRequired", None)}

    async def rules(org: str, teacher: str) -> list[str]:
        reply = await ask(world, org, "GetViolations", teacher_id=teacher)
        assert reply["ok"] and {v["teacher_id"] for v in reply["violations"]} <= {teacher}, reply
        return [v["rule"] for v in reply["violations"]]

    for org in (BUREAU, OFFICE):
        assert await rules(org, "t-3") == ["UnapprovedSecondment"] and await rules(org, "t-1") == \
            ["MeetingQuotaExceeded"]
    assert await rules(OTHER, "t-3") == ["UnapprovedSecondment"] and await rules(OTHER, "t-1") == []
    assert await rules(ELSEWHERE, "t-3") == ["UnapprovedSecondment"] and await rules(ELSEWHERE, "t-1") == []
    assert await rules(SCHOOL, "t-1") == ["MeetingQuotaExceeded"] and await rules(SCHOOL, "t-3") == []
    assert await rules(UNIT, "t-1") == ["MeetingQuotaExceeded"] and await rules(UNIT, "t-3") == []
    assert await rules(BUREAU, "t-nobody") == [] and await rules(BUREAU, "t-2") == []
    mixed = await ask(world, BUREAU, "GetViolations", teacher_id="t-1", rule="UnapprovedSecondment")
    assert mixed["violations"] == []
    paged = await every_page(world, BUREAU, "GetViolations", "violations", teacher_id="t-3")
    assert [v["violation_id"] for v in paged] == [v["violation_id"] for v in every["violations"]
                                                  if v["teacher_id"] == "t-3"]


# S8: the plan and the sessions

async def test_s8_the_plan_as_last_published_is_public_and_paged(world):
    for org in (UNIT, SCHOOL, BUREAU):
        plan = await ask(world, org, "GetTrainingPlan", semester=SEMESTER)
        assert plan["ok"] and (plan["published"], plan["edition"], plan["session_count"]) == (True, 2, 3)
        assert [s["code"] for s in plan["sessions"]] == ["A-1", "B-1", "B-2"]
    assert [s["code"] for s in await every_page(world, UNIT, "GetTrainingPlan", "sessions", semester=SEMESTER)] == \
        ["A-1", "B-1", "B-2"]
    none = await ask(world, UNIT, "GetTrainingPlan", semester="2040-autumn")
    assert none["ok"] and none["published"] is False and none["sessions"] == []


async def test_s8_sessions_are_planned_unless_an_unplanned_training_violation_names_them(world):
    listed = await ask(world, SCHOOL, "GetTrainingSessions", semester=SEMESTER)
    planned = {row["session_id"]: row["planned"] for row in listed["sessions"]}
    assert planned == {str(world["unplanned"].session_id): False, str(world["planned"].session_id): True,
                       str(world["outside"].session_id): None}  # outside education: not the plan's to hold
    outside = next(r for r in listed["sessions"] if r["session_id"] == str(world["outside"].session_id))
    assert outside["non_education_violation_id"]
    own = await ask(world, SCHOOL, "GetTrainingSessions", semester=SEMESTER, organiser_org_id=PLANNER)
    assert [r["session_id"] for r in own["sessions"]] == [str(world["planned"].session_id)]
    assert len(await every_page(world, UNIT, "GetTrainingSessions", "sessions", semester=SEMESTER)) == 3


# S9/S10: meetings

async def test_s9_meetings_with_distant_participants_and_the_alike_ones_to_merge(world):
    listed = await ask(world, BUREAU, "GetMeetings", semester=SEMESTER)
    rows = {row["meeting_id"]: row for row in listed["meetings"]}
    first, second, third = (str(m.meeting_id) for m in world["alike"])
    assert rows[first]["merge_with"] == sorted([second, third]) and rows[second]["merge_with"] == sorted([first, third])
    distant = rows[str(world["distant"].meeting_id)]
    assert (distant["participants"], distant["distant_participants"]) == (6, 6)  # S9: 80+ km, no sub-venue
    assert distant["sub_venue_violation_id"] and distant["merge_with"] == []
    assert rows[first]["distant_participants"] == 0 and rows[str(world["online"].meeting_id)]["distant_participants"] \
        == 0
    assert [r["meeting_id"] for r in await every_page(world, OFFICE, "GetMeetings", "meetings", semester=SEMESTER)] \
        == [r["meeting_id"] for r in listed["meetings"]]


async def test_s9_an_organiser_reads_its_own_meetings_only(world):
    own = await ask(world, UNIT, "GetMeetings", semester=SEMESTER)
    assert own["ok"] and {r["organiser_org_id"] for r in own["meetings"]} == {UNIT} and len(own["meetings"]) == 3
    assert refusal(await ask(world, UNIT, "GetMeetings", semester=SEMESTER, organiser_org_id=BUREAU)) == \
        ("FORBIDDEN", "organiser_org_id")
    assert (await ask(world, SCHOOL, "GetMeetings", semester=SEMESTER))["meetings"] == []


async def test_s10_meeting_counters_per_teacher_against_the_cap(world):
    """S10: t-1 was required at three meetings of a unit outside education (cap 2: one over) and
    one of the bureau; the quota violation the detector found is counted."""
    counters = await ask(world, BUREAU, "GetMeetingCounters", semester=SEMESTER)
    assert counters["ok"] and counters["cap"] == POLICY.meetings.non_education_per_teacher_per_semester == 2
    t1 = next(t for t in counters["teachers"] if t["teacher_id"] == "t-1")
    assert (t1["meetings"], t1["non_education_meetings"], t1["over_cap"], t1["quota_violations"]) == (4, 3, 1, 1)
    school = await ask(world, OTHER, "GetMeetingCounters", semester=SEMESTER)
    assert [(t["teacher_id"], t["non_education_meetings"]) for t in school["teachers"]] == [("t-3", 3)]
    assert refusal(await ask(world, OTHER, "GetMeetingCounters", semester=SEMESTER, school_id=SCHOOL)) == \
        ("FORBIDDEN", "school_id")
    assert refusal(await ask(world, UNIT, "GetMeetingCounters", semester=SEMESTER))[0] == "FORBIDDEN"


# Hostile bodies: a structured refusal, the field named.

@pytest.mark.parametrize("org,query,payload,expected", [
    (BUREAU, "GetTeachers", {"school_id": "school-nowhere"}, ("NOT_FOUND", "school_id")),
    (BUREAU, "GetTeachers", {"school_id": UNIT}, ("NOT_FOUND", "school_id")),
    (BUREAU, "GetTeachers", {"limit": 10_000}, ("INVALID_FIELD", "limit")),
    (BUREAU, "GetTeachers", {"limit": "1"}, ("INVALID_FIELD", "limit")),
    (BUREAU, "GetTeachers", {"cursor": "not-a-cursor"}, ("INVALID_FIELD", "cursor")),
    (BUREAU, "GetSecondments", {"status": "lost"}, ("INVALID_FIELD", "status")),
    (BUREAU, "GetSecondments", {"teacher_id": "T 1"}, ("INVALID_FIELD", "teacher_id")),
    (BUREAU, "GetSecondments", {"teacher_id": "t-" * 100}, ("INVALID_FIELD", "teacher_id")),
    (BUREAU, "GetSecondmentCounters", {"year": 1999}, ("INVALID_FIELD", "year")),
    (BUREAU, "GetSecondmentCounters", {"year": "2031"}, ("INVALID_FIELD", "year")),
    (BUREAU, "GetSecondmentCounters", {}, ("INVALID_FIELD", "year")),
    (BUREAU, "GetSecondmentCounters", {"year": 2031, "limit": 0}, ("INVALID_FIELD", "limit")),
    (BUREAU, "GetSecondmentCounters", {"year": 2031, "cursor": "not-a-cursor"}, ("INVALID_FIELD", "cursor")),
    (BUREAU, "GetSecondmentCounters", {"year": 2031, "teacher_id": "t-" * 100}, ("INVALID_FIELD", "teacher_id")),
    (UNIT, "GetSecondmentCounters", {"year": 2031, "borrowing_org_id": "dept-nowhere"},
     ("FORBIDDEN", "borrowing_org_id")),
    (BUREAU, "GetViolations", {"teacher_id": "T 1"}, ("INVALID_FIELD", "teacher_id")),
    (BUREAU, "GetViolations", {"teacher_id": ["t-1"]}, ("INVALID_FIELD", "teacher_id")),
    (BUREAU, "GetViolations", {"teacher_id": "t-" * 100}, ("INVALID_FIELD", "teacher_id")),
    (SCHOOL, "GetViolations", {"teacher_id": 1}, ("INVALID_FIELD", "teacher_id")),
    (BUREAU, "GetTrainingPlan", {"semester": "2031-summer"}, ("INVALID_FIELD", "semester")),
    (BUREAU, "GetTrainingSessions", {"semester": SEMESTER, "extra": 1}, ("INVALID_FIELD", "extra")),
    (BUREAU, "GetMeetings", {"semester": "2031-13-01"}, ("INVALID_FIELD", "semester")),
    (BUREAU, "GetMeetingCounters", {"semester": SEMESTER, "teacher_id": ["t-1"] * 3}, ("INVALID_FIELD", "teacher_id")),
    (BUREAU, "GetMeetingCounters", {"semester": SEMESTER, "teacher_id": ["t-1"] * 100_000}, ("PAYLOAD_TOO_LARGE", None)),
])
async def test_s7_s10_hostile_query_bodies_get_a_structured_refusal(world, org, query, payload, expected):
    assert refusal(await ask(world, org, query, **payload)) == expected


async def test_s7_s10_a_cursor_of_another_query_or_body_that_is_not_json_is_refused(world):
    page = await ask(world, BUREAU, "GetTeachers", limit=1)
    assert refusal(await ask(world, BUREAU, "GetSecondments", cursor=page["next_cursor"])) == \
        ("INVALID_FIELD", "cursor")
    reply = await world["router"].dispatch(f"jf.q.{BUREAU}.compliance.GetMeetings", b"{not json")
    assert reply["ok"] is False and reply["error"]["code"]
    unknown = await world["router"].dispatch("jf.q.nobody.compliance.GetTeachers", b"{}")
    assert unknown["ok"] is False and unknown["error"]["code"] in ("FORBIDDEN", "NOT_FOUND", "UNKNOWN_ORG")


async def test_s7_s10_the_rebuild_equals_the_live_read_model_with_the_new_tables_digested(world):
    """The S7–S10 tables are in the digest, and replaying the log gives the same."""
    async with world["engine"].connect() as conn:
        for name in ("teachers", "secondments", "departures", "calendar_days", "training_plans",
                     "training_sessions", "meetings", "meeting_weeks", "teacher_meetings", "teacher_semesters"):
            assert await conn.scalar(LIVE.by_name[name].select().with_only_columns(
                LIVE.by_name[name].c[LIVE.keys[name][0]]).limit(1)) is not None, name
    live = await read_model_digest(world["engine"])
    result = await rebuild_with(Settings(nats_url=world["log"].url, database_url=world["url"]), switch=False)
    assert result.matched and result.digest == live


async def test_s7_s10_one_event_per_batch_projects_the_same_read_model_as_batches_of_64(world):
    """Needs from the fact alone: PostgreSQL folded one event per transaction equals the module's
    read model folded 64 at a time, digest for digest."""
    async with fresh_database("teachers_time_one") as url:
        await migrate(url)
        engine = make_engine(url)
        try:
            async with running(engine, world["log"].js, world["log"].store, batch=1) as projector:
                await settle(projector, world["log"].store)
            assert await read_model_digest(engine) == await read_model_digest(world["engine"])
            async with engine.begin() as conn:  # the S7–S10 tables are in the digest: a changed row shows
                await conn.execute(LIVE.meeting_weeks.update().values(merge_with=[]))
            assert await read_model_digest(engine) != await read_model_digest(world["engine"])
        finally:
            await engine.dispose()


async def test_s7_s10_the_embedded_sqlite_read_model_equals_the_postgresql_one_and_answers_alike(world, tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'compliance.db'}"
    await migrate(url)
    engine = make_engine(url)
    try:
        async with running(engine, world["log"].js, world["log"].store) as projector:
            await settle(projector, world["log"].store)
        assert await read_model_digest(engine) == await read_model_digest(world["engine"])
        lite = {**world, "router": interface(Deps(world["log"].store, DIRECTORY, POLICY, SystemClock(),
                                                  distances=DistanceTable.load(REFERENCE / "distances.csv")),
                                             Settings(), engine).routers[0]}
        for org, query, payload in ((BUREAU, "GetSecondmentCounters", {"year": 2031}),
                                    (BUREAU, "GetSecondments", {"status": "away"}),
                                    (OFFICE, "GetMeetings", {"semester": SEMESTER}),
                                    (SCHOOL, "GetMeetingCounters", {"semester": SEMESTER})):
            on_pg, on_sqlite = await ask(world, org, query, **payload), await ask(lite, org, query, **payload)
            assert on_pg["ok"] and {k: v for k, v in on_pg.items() if k != "correlation_id"} == \
                {k: v for k, v in on_sqlite.items() if k != "correlation_id"}
    finally:
        await engine.dispose()


async def test_s7_s10_unknown_teachers_and_semesters_read_as_nothing(world):
    for query, payload, rows in (("GetSecondments", {"teacher_id": "t-nobody"}, "secondments"),
                                 ("GetSecondmentCounters", {"year": 2031, "teacher_id": "t-nobody"}, "teachers"),
                                 ("GetMeetingCounters", {"semester": SEMESTER, "teacher_id": "t-nobody"}, "teachers"),
                                 ("GetMeetings", {"semester": "2099-autumn"}, "meetings"),
                                 ("GetTrainingSessions", {"semester": "2099-autumn"}, "sessions")):
        reply = await ask(world, BUREAU, query, **payload)
        assert reply["ok"] and reply[rows] == [], (query, reply)
