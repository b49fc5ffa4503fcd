"""Issue 10's S7–S10 surface attacked as a hostile integrator and auditor would, over real
request-reply (requests and approvals on the session's nats-server, the clock file setting the
business day): one org acting for another, decisions out of order, two departures of one
teacher raced against each other, renewal chains that would dodge the half-year rule, a command
id reused with another body, and dates the schemas take but no calendar can place. Every body
gets a structured reply; the rules are unit-tested in tests/unit/test_issue10_hostile.py."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date, timedelta

import pytest
from jianfu.compliance.app import interface
from jianfu.compliance.read_model import LIVE
from jianfu.events.dependencies import Deps
from jianfu.events.distances import DistanceTable
from jianfu.events.schemas.meetings import MEETING_MAX_PARTICIPANTS
from jianfu.events.settings import REFERENCE, Settings, SystemClock

from tests.apps import services_on
from tests.factories import DIRECTORY, POLICY, SCHOOLS
from tests.hostile import ask, refusal
from tests.inspection_year import append
from tests.s3_semester import running, settle
from tests.teachers_time import TeachersTime

TODAY = "2026-10-15"
BUREAU, HR, PUBLICITY, HEALTH = "edu-bureau", "hr-bureau", "dept-publicity", "dept-health"
PLANNER = "teaching-research-office"
SCHOOL, OTHER_SCHOOL = SCHOOLS[0], SCHOOLS[1]


@pytest.fixture
def today(services, clock_file):
    clock_file.write_text(TODAY)


def command(**fields) -> dict:
    return {"command_id": str(uuid.uuid4()), **fields}


async def cmd(nc, org: str, context: str, name: str, body: dict) -> dict:
    return await ask(nc, org, "cmd", context, name, body)


async def registered(nc, school: str = SCHOOL, teacher_id: str | None = None) -> str:
    teacher_id = teacher_id or f"t-{uuid.uuid4().hex[:12]}"
    reply = await cmd(nc, school, "requests", "RegisterTeacher",
                      command(teacher_id=teacher_id, name="张老师", subject="语文"))
    assert reply["ok"], reply
    return teacher_id


async def requested(nc, teacher_id: str, unit: str = PUBLICITY, starts_on: date = date(2026, 11, 1),
                    days: int = 90) -> str:
    reply = await cmd(nc, unit, "requests", "RequestSecondment", command(
        teacher_id=teacher_id, task="乡村振兴驻村工作", starts_on=starts_on.isoformat(),
        ends_on=(starts_on + timedelta(days=days - 1)).isoformat()))
    assert reply["ok"], reply
    return reply["secondment_id"]


async def decide(nc, org: str, name: str, teacher_id: str, secondment_id: str, **fields) -> dict:
    return await cmd(nc, org, "approvals", name, command(teacher_id=teacher_id, secondment_id=secondment_id, **fields))


async def approved(nc, teacher_id: str, secondment_id: str) -> None:
    for org, name in ((BUREAU, "ConsentToSecondment"), (HR, "ApproveSecondment")):
        reply = await decide(nc, org, name, teacher_id, secondment_id)
        assert reply["ok"] and reply["decision"] in ("consented", "approved"), reply


def refuse_body(**fields) -> dict:
    return {"refusal_code": "AFFECTS_TEACHING", "reason": "毕业班教学任务重", **fields}


async def events_of(store, aggregate_type: str, aggregate_id: str) -> list[str]:
    return [e.event_type for e in (await store.load(aggregate_type, aggregate_id)).envelopes]


# One org acting for another (S7).

async def test_s7_a_school_reports_no_departure_or_return_of_another_schools_teacher(nc, today, store):
    teacher_id = await registered(nc)
    reply = await cmd(nc, OTHER_SCHOOL, "requests", "ReportTeacherSeconded",
                      command(teacher_id=teacher_id, left_on="2026-10-08", borrowing_org_id=PUBLICITY))
    assert refusal(reply) == ("FORBIDDEN", "teacher_id")
    assert (await cmd(nc, PUBLICITY, "requests", "ReportTeacherSeconded",
                      command(teacher_id=teacher_id, left_on="2026-10-08")))["ok"]
    reply = await cmd(nc, OTHER_SCHOOL, "requests", "ReportTeacherReturned",
                      command(teacher_id=teacher_id, returned_on="2026-10-12"))
    assert refusal(reply) == ("FORBIDDEN", "teacher_id")
    assert await events_of(store, "secondment", teacher_id) == ["TeacherSeconded"]


async def test_s7_a_unit_returns_no_teacher_it_does_not_hold_and_names_no_other_borrower(nc, today, store):
    teacher_id = await registered(nc)
    assert (await cmd(nc, PUBLICITY, "requests", "ReportTeacherSeconded",
                      command(teacher_id=teacher_id, left_on="2026-10-08")))["ok"]
    reply = await cmd(nc, HEALTH, "requests", "ReportTeacherReturned",
                      command(teacher_id=teacher_id, returned_on="2026-10-12"))
    assert refusal(reply) == ("FORBIDDEN", "teacher_id")
    reply = await cmd(nc, HEALTH, "requests", "ReportTeacherSeconded",
                      command(teacher_id=teacher_id, left_on="2026-10-09", borrowing_org_id=PUBLICITY))
    assert refusal(reply) == ("INVALID_FIELD", "borrowing_org_id")
    assert await events_of(store, "secondment", teacher_id) == ["TeacherSeconded"]


async def test_s7_a_school_registers_no_teacher_into_another_school_nor_takes_one_over(nc, today):
    teacher_id = await registered(nc)
    reply = await cmd(nc, OTHER_SCHOOL, "requests", "RegisterTeacher",
                      command(teacher_id=f"t-{uuid.uuid4().hex[:12]}", name="李老师", subject="数学",
                              school_id=SCHOOL))
    assert refusal(reply) == ("INVALID_FIELD", "school_id")
    reply = await cmd(nc, OTHER_SCHOOL, "requests", "RegisterTeacher",
                      command(teacher_id=teacher_id, name="张老师", subject="语文"))
    assert refusal(reply) == ("INVALID_STATE", "teacher_id")


async def test_s7_a_unit_uses_no_other_units_secondment_for_its_departure(nc, today):
    teacher_id = await registered(nc)
    theirs = await requested(nc, teacher_id, HEALTH)
    reply = await cmd(nc, PUBLICITY, "requests", "ReportTeacherSeconded",
                      command(teacher_id=teacher_id, left_on="2026-10-08", secondment_id=theirs))
    assert refusal(reply) == ("INVALID_FIELD", "secondment_id")


@pytest.mark.parametrize("org,name,fields", [
    (HEALTH, "ConsentToSecondment", {}),
    (SCHOOL, "ConsentToSecondment", {}),
    (BUREAU, "ApproveSecondment", {}),
    (PUBLICITY, "RefuseSecondment", refuse_body()),
])
async def test_s7_only_the_bureau_and_the_approver_decide(nc, today, org, name, fields):
    teacher_id = await registered(nc)
    secondment_id = await requested(nc, teacher_id)
    assert refusal(await decide(nc, org, name, teacher_id, secondment_id, **fields))[0] == "FORBIDDEN"


async def test_s7_a_decision_naming_another_teachers_secondment_is_not_found(nc, today):
    teacher_id, other = await registered(nc), await registered(nc)
    secondment_id = await requested(nc, teacher_id)
    reply = await decide(nc, BUREAU, "ConsentToSecondment", other, secondment_id)
    assert refusal(reply) == ("NOT_FOUND", "secondment_id")


# Decisions and reports out of order (S7).

async def test_s7_no_consent_after_a_refusal_no_second_approval_no_refusal_after_approval(nc, today):
    teacher_id = await registered(nc)
    refused, approved_one = await requested(nc, teacher_id), await requested(nc, teacher_id, HEALTH,
                                                                             date(2027, 6, 1))
    assert (await decide(nc, BUREAU, "RefuseSecondment", teacher_id, refused, **refuse_body()))["ok"]
    assert refusal(await decide(nc, BUREAU, "ConsentToSecondment", teacher_id, refused)) == (
        "INVALID_STATE", "secondment_id")
    assert refusal(await decide(nc, HR, "ApproveSecondment", teacher_id, refused)) == (
        "INVALID_STATE", "secondment_id")
    await approved(nc, teacher_id, approved_one)
    assert refusal(await decide(nc, HR, "ApproveSecondment", teacher_id, approved_one)) == (
        "INVALID_STATE", "secondment_id")
    assert refusal(await decide(nc, HR, "RefuseSecondment", teacher_id, approved_one, **refuse_body())) == (
        "INVALID_STATE", "secondment_id")
    assert refusal(await decide(nc, BUREAU, "ConsentToSecondment", teacher_id, approved_one)) == (
        "INVALID_STATE", "secondment_id")


async def test_s7_a_departure_under_a_refused_secondment_is_recorded_as_unapproved(nc, today, store):
    """S7: the teacher left, whatever was decided: the fact is recorded, not approved, so the
    detector charges the unit (refusing the report would hide the breach)."""
    teacher_id = await registered(nc)
    secondment_id = await requested(nc, teacher_id, starts_on=date(2026, 10, 1))
    assert (await decide(nc, BUREAU, "ConsentToSecondment", teacher_id, secondment_id))["ok"]
    assert (await decide(nc, HR, "RefuseSecondment", teacher_id, secondment_id, **refuse_body()))["ok"]
    reply = await cmd(nc, SCHOOL, "requests", "ReportTeacherSeconded", command(
        teacher_id=teacher_id, left_on="2026-10-08", borrowing_org_id=PUBLICITY, secondment_id=secondment_id))
    assert reply["ok"] and (reply["consented"], reply["approved"]) == (True, False), reply
    default = await cmd(nc, PUBLICITY, "requests", "ReportTeacherSeconded",
                        command(teacher_id=teacher_id, left_on="2026-10-08"))
    assert default["already_reported"] is True and default["secondment_id"] == secondment_id


async def test_s7_no_return_before_a_departure_and_none_on_or_before_the_day_left(nc, today, store):
    teacher_id = await registered(nc)
    reply = await cmd(nc, SCHOOL, "requests", "ReportTeacherReturned",
                      command(teacher_id=teacher_id, returned_on="2026-10-12"))
    assert refusal(reply) == ("INVALID_STATE", "teacher_id")
    assert (await cmd(nc, PUBLICITY, "requests", "ReportTeacherSeconded",
                      command(teacher_id=teacher_id, left_on="2026-10-08")))["ok"]
    for day in ("2026-10-08", "2026-10-01"):
        reply = await cmd(nc, SCHOOL, "requests", "ReportTeacherReturned", command(teacher_id=teacher_id,
                                                                                   returned_on=day))
        assert refusal(reply) == ("INVALID_FIELD", "returned_on"), day
    reply = await cmd(nc, SCHOOL, "requests", "ReportTeacherReturned", command(teacher_id=teacher_id,
                                                                               returned_on="2026-10-16"))
    assert refusal(reply) == ("INVALID_FIELD", "returned_on")
    assert await events_of(store, "secondment", teacher_id) == ["TeacherSeconded"]


# Racing commands against the real service (S7).

async def test_s7_two_units_racing_to_report_one_teacher_away_record_one_departure(nc, today, store):
    """S7: a teacher is away with one unit at a time: of two departures reported at once by two
    units, one is recorded and the other refused for the state, whichever wins."""
    teacher_id = await registered(nc)
    replies = await asyncio.gather(*(cmd(nc, unit, "requests", "ReportTeacherSeconded",
                                         command(teacher_id=teacher_id, left_on="2026-10-08"))
                                     for unit in (PUBLICITY, HEALTH)))
    assert sorted(reply["ok"] for reply in replies) == [False, True], replies
    [lost] = [reply for reply in replies if not reply["ok"]]
    assert refusal(lost) == ("INVALID_STATE", "teacher_id")
    assert await events_of(store, "secondment", teacher_id) == ["TeacherSeconded"]


async def test_s7_one_departure_reported_at_once_by_school_and_unit_is_recorded_once(nc, today, store):
    teacher_id = await registered(nc)
    replies = await asyncio.gather(
        cmd(nc, PUBLICITY, "requests", "ReportTeacherSeconded", command(teacher_id=teacher_id, left_on="2026-10-08")),
        cmd(nc, SCHOOL, "requests", "ReportTeacherSeconded",
            command(teacher_id=teacher_id, left_on="2026-10-08", borrowing_org_id=PUBLICITY)))
    assert all(reply["ok"] for reply in replies), replies
    assert sorted(reply["already_reported"] for reply in replies) == [False, True]
    assert len({reply["sequence"] for reply in replies}) == 1
    assert await events_of(store, "secondment", teacher_id) == ["TeacherSeconded"]


async def test_s7_two_consents_raced_decide_once(nc, today, store):
    teacher_id = await registered(nc)
    secondment_id = await requested(nc, teacher_id)
    replies = await asyncio.gather(*(decide(nc, BUREAU, "ConsentToSecondment", teacher_id, secondment_id)
                                     for _ in range(2)))
    assert sorted(reply["ok"] for reply in replies) == [False, True], replies
    assert refusal(next(r for r in replies if not r["ok"])) == ("INVALID_STATE", "secondment_id")
    assert await events_of(store, "secondment", teacher_id) == ["SecondmentRequested", "SecondmentConsented"]


async def test_s7_an_approval_covers_the_days_of_its_period_only(nc, today):
    """S7: approved for November to January, the teacher who left on 8 October left unapproved;
    so does one who leaves again under an approval whose period is over."""
    teacher_id = await registered(nc)
    secondment_id = await requested(nc, teacher_id, starts_on=date(2026, 11, 1))
    await approved(nc, teacher_id, secondment_id)
    early = await cmd(nc, PUBLICITY, "requests", "ReportTeacherSeconded",
                      command(teacher_id=teacher_id, left_on="2026-10-08"))
    assert (early["secondment_id"], early["consented"], early["approved"]) == (secondment_id, False, False), early
    other = await registered(nc)
    past = await requested(nc, other, starts_on=date(2026, 9, 1), days=30)
    await approved(nc, other, past)
    late = await cmd(nc, SCHOOL, "requests", "ReportTeacherSeconded",
                     command(teacher_id=other, left_on="2026-10-08", borrowing_org_id=PUBLICITY))
    assert (late["secondment_id"], late["approved"]) == (past, False), late


async def test_s7_two_schools_racing_to_register_one_teacher_record_one_school(nc, today, store):
    """S7–S10 reference data: a teacher is registered at one school; of two schools registering
    the same new id at once, one records it and the other is refused for the state."""
    teacher_id = f"t-{uuid.uuid4().hex[:12]}"
    replies = await asyncio.gather(*(cmd(nc, school, "requests", "RegisterTeacher",
                                         command(teacher_id=teacher_id, name="张老师", subject="语文"))
                                     for school in (SCHOOL, OTHER_SCHOOL)))
    assert sorted(reply["ok"] for reply in replies) == [False, True], replies
    assert refusal(next(r for r in replies if not r["ok"])) == ("INVALID_STATE", "teacher_id")
    assert await events_of(store, "teacher", teacher_id) == ["TeacherRegistered"]


# Renewal chains (S7).

async def test_s7_back_filling_the_first_half_of_an_approved_run_is_refused_by_rule(nc, today):
    """S7 连续续借合并计算: the later 60 days approved first, the 150 days before them asked for
    afterwards make one run of 210 days: refused by rule at consent."""
    teacher_id = await registered(nc)
    later = await requested(nc, teacher_id, starts_on=date(2027, 3, 31), days=60)
    await approved(nc, teacher_id, later)
    earlier = await requested(nc, teacher_id, starts_on=date(2026, 11, 1), days=150)
    reply = await decide(nc, BUREAU, "ConsentToSecondment", teacher_id, earlier)
    assert reply["ok"] and (reply["decision"], reply["refusal_code"], reply["automatic"], reply["continuous_days"]) == (
        "refused", "OVER_HALF_YEAR", True, 210), reply


async def test_s7_renewals_29_days_apart_with_another_unit_between_are_one_run(nc, today):
    teacher_id = await registered(nc)
    first = await requested(nc, teacher_id, starts_on=date(2026, 11, 1), days=90)
    await approved(nc, teacher_id, first)
    between = await requested(nc, teacher_id, HEALTH, starts_on=date(2027, 1, 30), days=28)
    await approved(nc, teacher_id, between)
    back = await requested(nc, teacher_id, starts_on=date(2027, 2, 28), days=90)
    reply = await decide(nc, BUREAU, "ConsentToSecondment", teacher_id, back)
    assert (reply["decision"], reply["continuous_days"]) == ("refused", 209), reply


# The same command id with another body, and retries (S7–S10).

def bodies(teacher_id: str, secondment_id: str) -> list[tuple[str, str, str, dict, dict]]:
    """(org, context, command, body, another field value) for each issue-10 command."""
    return [
        (SCHOOL, "requests", "RegisterTeacher", command(teacher_id=teacher_id, name="张老师", subject="语文"),
         {"subject": "数学"}),
        (PUBLICITY, "requests", "RequestSecondment", command(teacher_id=teacher_id, task="乡村振兴驻村工作",
                                                             starts_on="2027-03-01", ends_on="2027-04-30"),
         {"ends_on": "2027-05-31"}),
        (PUBLICITY, "requests", "ReportTeacherSeconded", command(teacher_id=teacher_id, left_on="2026-10-08"),
         {"left_on": "2026-10-09"}),
        (PUBLICITY, "requests", "ReportTeacherReturned", command(teacher_id=teacher_id, returned_on="2026-10-12"),
         {"returned_on": "2026-10-13"}),
        (BUREAU, "approvals", "ConsentToSecondment", command(teacher_id=teacher_id, secondment_id=secondment_id),
         {"note": "同意借用"}),
        (HR, "approvals", "ApproveSecondment", command(teacher_id=teacher_id, secondment_id=secondment_id),
         {"note": "备案"}),
        (SCHOOL, "requests", "ReportTrainingSession", command(
            title=f"新课标校本研修{teacher_id}", held_on="2026-10-12", level="school_based", teachers_required=True,
            participants=40), {"participants": 41}),
        (HEALTH, "requests", "ScheduleMeeting", command(
            title="全区安全工作部署会", concerns_teaching=False, held_on="2026-11-05", mode="in_person",
            venue_id="venue-edu-bureau", participants=[{"teacher_id": teacher_id, "school_id": SCHOOL}]),
         {"concerns_teaching": True}),
        (PLANNER, "approvals", "PublishTrainingPlan", command(semester="2027-spring", sessions=[
            {"code": "BB-01", "title": "初中语文骨干教师培训", "level": "backbone", "organiser_org_id": PLANNER,
             "months": [3], "hours": 24}]), {"semester": "2027-autumn"}),
    ]


async def test_s7_to_s10_each_command_retried_answers_the_same_and_its_id_with_another_body_is_refused(
        nc, today):
    """S7–S10 idempotency: in the order a secondment runs, each command is sent, retried (the same
    answer, but its correlation id) and sent again under its id with one field changed
    (COMMAND_ID_REUSED, nothing else happens)."""
    teacher_id = f"t-{uuid.uuid4().hex[:12]}"
    secondment_id = None
    for org, context, name, body, changed in bodies(teacher_id, "00000000-0000-4000-8000-000000000000"):
        if secondment_id is not None and "secondment_id" in body:
            body = body | {"secondment_id": secondment_id}
        first = await cmd(nc, org, context, name, body)
        assert first["ok"], (name, first)
        retry = await cmd(nc, org, context, name, body)
        assert retry == first | {"correlation_id": retry["correlation_id"]}, name
        assert refusal(await cmd(nc, org, context, name, body | changed)) == ("COMMAND_ID_REUSED", "command_id"), name
        secondment_id = first.get("secondment_id", secondment_id) if name == "RequestSecondment" else secondment_id


# Dates the schemas take but no calendar places (S8, S9), ids and text at their bounds.

@pytest.mark.parametrize("org,context,name,body,field", [
    (HEALTH, "requests", "ScheduleMeeting", command(
        title="全区安全工作部署会", concerns_teaching=True, held_on="9999-12-31", mode="online",
        participants=[{"teacher_id": "t-1", "school_id": SCHOOL}]), "held_on"),
    (PLANNER, "approvals", "PublishTrainingPlan", command(semester="9999-autumn", sessions=[
        {"code": "BB-01", "title": "初中语文骨干教师培训", "level": "backbone", "organiser_org_id": PLANNER,
         "months": [3], "hours": 24}]), "semester"),
    (PLANNER, "approvals", "PublishTrainingPlan", command(semester="0000-spring", sessions=[
        {"code": "BB-01", "title": "初中语文骨干教师培训", "level": "backbone", "organiser_org_id": PLANNER,
         "months": [3], "hours": 24}]), "semester"),
    (PUBLICITY, "requests", "RequestSecondment", command(teacher_id="t-1", task="驻村\u0000工作",
                                                         starts_on="2026-11-01", ends_on="2026-11-30"), "task"),
    (SCHOOL, "requests", "ReportTrainingSession", command(title="校本\u0000研修", held_on="2026-10-12",
                                                          teachers_required=True, participants=1), "title"),
    (SCHOOL, "requests", "ReportTrainingSession", command(title="校本研修", held_on="9999-12-31",
                                                          teachers_required=True, participants=1), "held_on"),
    (PUBLICITY, "requests", "ReportTeacherSeconded", command(teacher_id="t-" + "x" * 62, left_on="2026-10-08"),
     "teacher_id"),
])
async def test_s8_s9_hostile_dates_and_text_are_refused_with_the_field_named(nc, today, org, context, name, body,
                                                                            field):
    assert refusal(await cmd(nc, org, context, name, body)) == ("INVALID_FIELD", field)


async def test_s7_a_teacher_id_at_its_longest_goes_through_a_whole_secondment(nc, today, store):
    """S7: 63 characters (a subject token's most) register, are requested, decided, leave and return."""
    teacher_id = await registered(nc, teacher_id="t-" + uuid.uuid4().hex + "x" * 29)
    assert len(teacher_id) == 63
    secondment_id = await requested(nc, teacher_id, starts_on=date(2026, 10, 1), days=183)
    await approved(nc, teacher_id, secondment_id)
    assert (await cmd(nc, PUBLICITY, "requests", "ReportTeacherSeconded",
                      command(teacher_id=teacher_id, left_on="2026-10-08")))["approved"] is True
    assert (await cmd(nc, SCHOOL, "requests", "ReportTeacherReturned",
                      command(teacher_id=teacher_id, returned_on="2026-10-15")))["ok"]
    assert await events_of(store, "secondment", teacher_id) == [
        "SecondmentRequested", "SecondmentConsented", "SecondmentApproved", "TeacherSeconded", "TeacherReturned"]


# What intake accepts, the read model projects and answers in replies that fit (S10).

def compliance_router(log, engine):
    deps = Deps(log.store, DIRECTORY, POLICY, SystemClock(), distances=DistanceTable.load(REFERENCE / "distances.csv"))
    return interface(deps, Settings(), engine).routers[0]


async def query(router, org: str, name: str, **payload) -> dict:
    return await router.dispatch(f"jf.q.{org}.compliance.{name}", json.dumps(payload).encode())


async def every_page(router, org: str, name: str, rows: str, **payload) -> list[dict]:
    found, cursor = [], None
    while True:
        reply = await query(router, org, name, **payload, limit=100, **({"cursor": cursor} if cursor else {}))
        assert reply["ok"], reply
        assert len(json.dumps(reply, ensure_ascii=False).encode()) < 1024 * 1024
        found += reply[rows]
        cursor = reply["next_cursor"]
        if cursor is None:
            return found


async def test_s10_two_meetings_of_2000_teachers_at_their_longest_ids_are_counted_page_by_page(log, engine):
    """S10: the largest meetings intake takes (2,000 participants, 63-character teacher ids) are
    projected; the bureau reads every teacher's counters page by page, each reply far under NATS's
    1 MB, and a school its own teachers only."""
    t, semester = TeachersTime(), "2026-autumn"
    people = tuple((f"t-{n:061d}", SCHOOLS[n % 2]) for n in range(MEETING_MAX_PARTICIPANTS))
    steps = [t.meeting(semester, HEALTH, title, date(2026, 11, day), people, concerns_teaching=False)
             for day, title in ((5, "全区安全工作部署会"), (6, "全区安全工作部署会（二）"))]
    await append(log.store, steps)
    async with running(engine, log.js, log.store) as compliance:
        await settle(compliance, log.store, timeout=60.0)
    router = compliance_router(log, engine)
    counted = await every_page(router, BUREAU, "GetMeetingCounters", "teachers", semester=semester)
    assert [row["teacher_id"] for row in counted] == sorted(teacher for teacher, _ in people)
    assert {(row["meetings"], row["non_education_meetings"]) for row in counted} == {(2, 2)}
    own = await every_page(router, SCHOOLS[1], "GetMeetingCounters", "teachers", semester=semester)
    assert len(own) == 1000 and {row["school_id"] for row in own} == {SCHOOLS[1]}
    [first, second] = await every_page(router, BUREAU, "GetMeetings", "meetings", semester=semester)
    assert (first["participants"], second["participants"]) == (2000, 2000)
    assert first["merge_with"] == [second["meeting_id"]], "S9: alike titles of one organiser in one week"


async def test_s10_meeting_counters_of_a_semester_of_40000_teachers_answer_a_page_not_an_internal_error(engine):
    """S10: twenty meetings of 2,000 made-up teachers each name 40,000 teachers in a semester;
    the counters answer one page at a time (unpaged, the read failed past 32,767 bind parameters
    with INTERNAL_ERROR, and the whole answer would be some 5 MB), and a cursor of another query
    or a forged one is refused on ``cursor``. The rows are written as the projector writes them."""
    semester, count = "2026-autumn", 40_000
    async with engine.begin() as conn:
        await conn.execute(LIVE.teacher_semesters.insert(), [
            {"semester": semester, "teacher_id": f"t-{n:061d}", "school_id": SCHOOLS[0], "meetings": 1,
             "quota_violations": 0} for n in range(count)])
        await conn.execute(LIVE.teacher_meetings.insert(), [
            {"semester": semester, "teacher_id": f"t-{n:061d}", "organiser_org_id": HEALTH, "meetings": 1}
            for n in range(count)])
    router = interface(Deps(None, DIRECTORY, POLICY, SystemClock()), Settings(), engine).routers[0]
    first = await query(router, BUREAU, "GetMeetingCounters", semester=semester)
    assert first["ok"] and len(first["teachers"]) == 50 and first["next_cursor"], first.get("error")
    then = await query(router, SCHOOLS[0], "GetMeetingCounters", semester=semester, limit=100,
                       cursor=first["next_cursor"])
    assert then["teachers"][0]["teacher_id"] == f"t-{50:061d}" and len(then["teachers"]) == 100
    meetings = await query(router, BUREAU, "GetMeetings", semester=semester, limit=1)
    for cursor in (meetings["next_cursor"] or "WyJHZXRNZWV0aW5ncyIsMV0", "not-a-cursor"):
        reply = await query(router, BUREAU, "GetMeetingCounters", semester=semester, cursor=cursor)
        assert refusal(reply) == ("INVALID_FIELD", "cursor")


async def test_s8_s9_the_largest_plan_and_odd_titles_intake_takes_are_projected_and_read_back(log, engine, tmp_path):
    """S8/S9: a plan of 500 sessions whose titles are 200 characters outside the BMP (four bytes
    each) and whose codes are 40 characters, and a meeting and a session titled with a
    zero-width joiner, a BOM and an astral character, go through intake and the projector
    unchanged; the plan is read back page by page, each reply under 1 MB."""
    odd = "👩\u200d🏫\ufeff教研\u200b会𠮷"
    sessions = [{"code": f"{n:03d}-" + "A" * 36, "title": "𠮷" * 197 + f"{n:03d}", "level": "backbone",
                 "organiser_org_id": PLANNER, "months": list(range(1, 13)), "hours": 200} for n in range(500)]
    async with services_on(log, tmp_path, "2026-10-15") as (client, _clock):
        plan = await client.command(PLANNER, "approvals", "PublishTrainingPlan",
                                    command(semester="2027-spring", sessions=sessions))
        meeting = await client.command(HEALTH, "requests", "ScheduleMeeting", command(
            title=odd, concerns_teaching=True, held_on="2026-11-05", mode="online",
            participants=[{"teacher_id": "t-" + "9" * 61, "school_id": SCHOOL}]))
        session = await client.command(SCHOOL, "requests", "ReportTrainingSession", command(
            title=odd, held_on="2026-10-12", teachers_required=True, participants=3))
    assert plan["ok"] and meeting["ok"] and session["ok"], (plan, meeting, session)
    async with running(engine, log.js, log.store) as compliance:
        await settle(compliance, log.store, timeout=60.0)
    router = compliance_router(log, engine)
    read = await every_page(router, HEALTH, "GetTrainingPlan", "sessions", semester="2027-spring")
    assert [s["code"] for s in read] == [s["code"] for s in sessions]
    assert [s["title"] for s in read] == [s["title"] for s in sessions]
    [scheduled] = await every_page(router, HEALTH, "GetMeetings", "meetings", semester="2026-autumn")
    assert scheduled["title"] == odd
    [held] = await every_page(router, HEALTH, "GetTrainingSessions", "sessions", semester="2026-autumn")
    assert held["title"] == odd


# Who reads what (S7): names and secondments stay with those the rules name.

async def test_s7_a_department_reads_no_names_and_no_other_units_secondments_and_extreme_dates_read_back(log, engine):
    """S7: a department reads teachers by id and subject only, and only the secondments it borrows
    (another unit's is FORBIDDEN; naming the teacher finds nothing); another school sees none of
    them; the supervision office sees all without names, the bureau and the approver with names.
    A period ending on 9999-12-31 and a teacher id of 63 characters, both taken by intake, are
    projected and read back."""
    t, teacher = TeachersTime(), "t-" + "7" * 61
    request = t.request(teacher, SCHOOL, PUBLICITY, date(2026, 11, 1), date(9999, 12, 31))
    steps = [t.register(teacher, SCHOOL, "王老师"), request, t.consent(request[1]),
             t.seconded(teacher, SCHOOL, PUBLICITY, date(2026, 10, 8), request[1], approved=False),
             t.day(date(2026, 10, 14))]
    await append(log.store, steps)
    async with running(engine, log.js, log.store) as compliance:
        await settle(compliance, log.store)
    router = compliance_router(log, engine)
    [row] = (await query(router, HEALTH, "GetTeachers", school_id=SCHOOL))["teachers"]
    assert (row["teacher_id"], row["name"]) == (teacher, None)
    assert (await query(router, HEALTH, "GetSecondments"))["secondments"] == []
    assert (await query(router, HEALTH, "GetSecondments", teacher_id=teacher))["secondments"] == []
    assert refusal(await query(router, HEALTH, "GetSecondments", borrowing_org_id=PUBLICITY)) == (
        "FORBIDDEN", "borrowing_org_id")
    assert (await query(router, OTHER_SCHOOL, "GetSecondments", teacher_id=teacher))["secondments"] == []
    health = await query(router, HEALTH, "GetSecondmentCounters", year=2026)  # a unit: what it borrows only
    assert (health["teachers"], health["units"]) == ([], [])
    assert refusal(await query(router, HEALTH, "GetSecondmentCounters", year=2026, borrowing_org_id=PUBLICITY)) == (
        "FORBIDDEN", "borrowing_org_id")
    other = await query(router, OTHER_SCHOOL, "GetSecondmentCounters", year=2026)
    assert (other["teachers"], other["units"]) == ([], [])
    names = {}
    for org in (PUBLICITY, "supervision-office", BUREAU, HR, SCHOOL):
        [listed] = (await query(router, org, "GetSecondments"))["secondments"]
        assert (listed["ends_on"], listed["status"]) == ("9999-12-31", "away"), org
        names[org] = listed["teacher_name"]
    assert names == {PUBLICITY: None, "supervision-office": None, BUREAU: "王老师", HR: "王老师", SCHOOL: "王老师"}
    counted = await query(router, BUREAU, "GetSecondmentCounters", year=2026, teacher_id=teacher)
    assert [(r["teacher_id"], r["total_days"], r["away"]) for r in counted["teachers"]] == [(teacher, 7, True)]
