"""Teachers' time at intake (issue 10, S7–S10) through real request-reply: the requests service
running against real NATS, the clock file setting the business day. Each command's happy path,
its retry (same command id: the same answer), the same id with another body (COMMAND_ID_REUSED)
and hostile input answered with a structured error. The rules themselves are unit-tested in
tests/unit/test_teachers_time_intake.py."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from jianfu.cli.client import JianfuClient
from jianfu.events.envelope import Actor
from jianfu.events.organisations import OrgKind
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.meetings import MEETING_MAX_PARTICIPANTS
from jianfu.events.schemas.secondments import SecondmentApproved, SecondmentConsented

from tests.factories import POLICY, SCHOOLS
from tests.hostile import ask, refusal

TODAY = "2026-10-15"
BUREAU, HR, PUBLICITY, HEALTH = "edu-bureau", "hr-bureau", "dept-publicity", "dept-health"
SCHOOL, OTHER_SCHOOL = SCHOOLS[0], SCHOOLS[1]
VENUE, SUB_VENUE = "venue-edu-bureau", "venue-district-hall"  # both in the bundled distance table


@pytest.fixture
def client(nc, services, clock_file) -> JianfuClient:
    clock_file.write_text(TODAY)
    return JianfuClient(nc, timeout=5.0)


def fresh_teacher() -> str:
    """A teacher id of this test's own: the session's log is shared by every module."""
    return f"t-{uuid.uuid4().hex[:12]}"


async def events_of(store, aggregate_type: str, aggregate_id: str) -> list[tuple[str, dict]]:
    return [(e.event_type, e.data) for e in (await store.load(aggregate_type, aggregate_id)).envelopes]


def registration(teacher_id: str, **overrides) -> dict:
    return {"command_id": str(uuid.uuid4()), "teacher_id": teacher_id, "name": "张老师", "subject": "语文"} | overrides


async def registered(client: JianfuClient, school: str = SCHOOL) -> str:
    teacher_id = fresh_teacher()
    reply = await client.command(school, "requests", "RegisterTeacher", registration(teacher_id))
    assert reply["ok"], reply
    return teacher_id


# --- RegisterTeacher ---------------------------------------------------------------------------------

async def test_s7_a_school_registers_a_teacher_once_and_a_retry_answers_the_same(client, store):
    teacher_id = fresh_teacher()
    body = registration(teacher_id)
    first = await client.command(SCHOOL, "requests", "RegisterTeacher", body)
    retry = await client.command(SCHOOL, "requests", "RegisterTeacher", body)
    again = await client.command(SCHOOL, "requests", "RegisterTeacher", registration(teacher_id))
    assert first["ok"] and retry["ok"] and again["ok"], (first, retry, again)
    assert (first["school_id"], first["already_registered"], first["previous_school_id"]) == (SCHOOL, False, None)
    assert retry == first | {"correlation_id": retry["correlation_id"]}
    assert again["already_registered"] is True and again["sequence"] == first["sequence"]
    assert [kind for kind, _ in await events_of(store, "teacher", teacher_id)] == ["TeacherRegistered"]


async def test_s7_the_same_command_id_with_another_body_is_refused(client):
    teacher_id = fresh_teacher()
    body = registration(teacher_id)
    assert (await client.command(SCHOOL, "requests", "RegisterTeacher", body))["ok"]
    reply = await client.command(SCHOOL, "requests", "RegisterTeacher", body | {"subject": "数学"})
    assert refusal(reply) == ("COMMAND_ID_REUSED", "command_id")


async def test_s7_only_the_bureau_moves_a_teacher_and_it_names_a_school(client, store):
    teacher_id = await registered(client)
    reply = await client.command(OTHER_SCHOOL, "requests", "RegisterTeacher", registration(teacher_id))
    assert refusal(reply) == ("INVALID_STATE", "teacher_id")
    reply = await client.command(BUREAU, "requests", "RegisterTeacher", registration(teacher_id))
    assert refusal(reply) == ("INVALID_FIELD", "school_id")
    reply = await client.command(BUREAU, "requests", "RegisterTeacher", registration(teacher_id, school_id=HEALTH))
    assert refusal(reply) == ("INVALID_FIELD", "school_id")
    moved = await client.command(BUREAU, "requests", "RegisterTeacher",
                                 registration(teacher_id, school_id=OTHER_SCHOOL))
    assert moved["ok"] and (moved["school_id"], moved["previous_school_id"]) == (OTHER_SCHOOL, SCHOOL), moved
    assert len(await events_of(store, "teacher", teacher_id)) == 2
    request = await client.command(PUBLICITY, "requests", "RequestSecondment", secondment_request(teacher_id))
    assert request["school_id"] == OTHER_SCHOOL, "S7: a secondment records the teacher's school now"


async def test_s7_a_department_registers_no_teacher_and_a_school_names_no_other_school(client):
    reply = await client.command(HEALTH, "requests", "RegisterTeacher",
                                 registration(fresh_teacher(), school_id=SCHOOL))
    assert refusal(reply) == ("FORBIDDEN", "org_id")
    reply = await client.command(SCHOOL, "requests", "RegisterTeacher",
                                 registration(fresh_teacher(), school_id=OTHER_SCHOOL))
    assert refusal(reply) == ("INVALID_FIELD", "school_id")


async def test_s7_a_teacher_id_that_is_no_subject_token_is_refused(client):
    for teacher_id in ("T 1", "t.1", "t>", "t" * 64, ""):
        reply = await client.command(SCHOOL, "requests", "RegisterTeacher", registration(teacher_id))
        assert refusal(reply) == ("INVALID_FIELD", "teacher_id"), teacher_id


# --- RequestSecondment ---------------------------------------------------------------------------------

def secondment_request(teacher_id: str, **overrides) -> dict:
    return {"command_id": str(uuid.uuid4()), "teacher_id": teacher_id, "task": "乡村振兴驻村工作",
            "starts_on": "2026-11-01", "ends_on": "2027-01-31"} | overrides


async def test_s7_a_unit_requests_a_teacher_and_each_request_is_a_secondment_of_the_teacher(client, store):
    teacher_id = await registered(client)
    body = secondment_request(teacher_id)
    first = await client.command(PUBLICITY, "requests", "RequestSecondment", body)
    retry = await client.command(PUBLICITY, "requests", "RequestSecondment", body)
    second = await client.command(HEALTH, "requests", "RequestSecondment",
                                  secondment_request(teacher_id, starts_on="2027-03-01", ends_on="2027-10-31"))
    assert first["ok"] and retry["ok"] and second["ok"], (first, retry, second)
    assert (first["school_id"], first["days"]) == (SCHOOL, 92)
    assert (retry["secondment_id"], retry["sequence"]) == (first["secondment_id"], first["sequence"])
    assert second["days"] == 245, "S7: an over-long period is recorded; approvals refuses it"
    events = await events_of(store, "secondment", teacher_id)
    assert [(kind, data["secondment_id"], data["borrowing_org_id"]) for kind, data in events] == [
        ("SecondmentRequested", first["secondment_id"], PUBLICITY),
        ("SecondmentRequested", second["secondment_id"], HEALTH)]
    reused = await client.command(PUBLICITY, "requests", "RequestSecondment", body | {"task": "其他任务安排"})
    assert refusal(reused) == ("COMMAND_ID_REUSED", "command_id")


async def test_s7_schools_request_no_secondment_and_an_unknown_teacher_is_not_found(client):
    teacher_id = await registered(client)
    reply = await client.command(SCHOOL, "requests", "RequestSecondment", secondment_request(teacher_id))
    assert refusal(reply) == ("FORBIDDEN", "org_id")
    reply = await client.command(PUBLICITY, "requests", "RequestSecondment", secondment_request(fresh_teacher()))
    assert refusal(reply) == ("NOT_FOUND", "teacher_id")


async def test_s7_a_secondment_before_the_plan_or_ending_before_it_starts_is_refused(client):
    teacher_id = await registered(client)
    reply = await client.command(PUBLICITY, "requests", "RequestSecondment",
                                 secondment_request(teacher_id, starts_on="2021-08-19"))
    assert refusal(reply) == ("INVALID_FIELD", "starts_on")
    reply = await client.command(PUBLICITY, "requests", "RequestSecondment",
                                 secondment_request(teacher_id, ends_on="2026-10-31"))
    assert refusal(reply)[0] == "INVALID_FIELD"


# --- ReportTeacherSeconded / ReportTeacherReturned ---------------------------------------------------

def departure(teacher_id: str, left_on: str = "2026-10-08", **overrides) -> dict:
    return {"command_id": str(uuid.uuid4()), "teacher_id": teacher_id, "left_on": left_on} | overrides


def back(teacher_id: str, returned_on: str = "2026-10-12", **overrides) -> dict:
    return {"command_id": str(uuid.uuid4()), "teacher_id": teacher_id, "returned_on": returned_on} | overrides


async def decided(store, teacher_id: str, secondment_id: str, *, approve: bool) -> None:
    """The decisions approvals would append to the teacher's secondments (consent, approval)."""
    def context(org_id: str, kind: OrgKind) -> CommandContext:
        return CommandContext(Actor(org_id=org_id, org_kind=kind), str(uuid.uuid4()), str(uuid.uuid4()),
                              POLICY.version, datetime(2026, 10, 2, 9, tzinfo=UTC))

    events = [context(BUREAU, OrgKind.EDUCATION_BUREAU).event(SecondmentConsented(
        secondment_id=secondment_id, teacher_id=teacher_id, consented_by_org_id=BUREAU, continuous_days=92),
        teacher_id)]
    if approve:
        events.append(context(HR, OrgKind.HR_BUREAU).event(SecondmentApproved(
            secondment_id=secondment_id, teacher_id=teacher_id, approved_by_org_id=HR, continuous_days=92),
            teacher_id))
    await store.append(await store.load("secondment", teacher_id), events)


async def test_s7_a_departure_records_the_decisions_taken_by_then_and_is_recorded_once(client, store):
    teacher_id = await registered(client)
    request = await client.command(PUBLICITY, "requests", "RequestSecondment",
                                   secondment_request(teacher_id, starts_on="2026-10-08", ends_on="2026-12-31"))
    await decided(store, teacher_id, request["secondment_id"], approve=False)
    body = departure(teacher_id)
    first = await client.command(PUBLICITY, "requests", "ReportTeacherSeconded", body)
    retry = await client.command(PUBLICITY, "requests", "ReportTeacherSeconded", body)
    by_school = await client.command(SCHOOL, "requests", "ReportTeacherSeconded",
                                     departure(teacher_id, "2026-10-09", borrowing_org_id=PUBLICITY))
    assert first["ok"] and retry["ok"] and by_school["ok"], (first, retry, by_school)
    assert (first["secondment_id"], first["consented"], first["approved"], first["ends_on"]) == (
        request["secondment_id"], True, False, "2026-12-31"), "S7: left with the bureau's consent only"
    assert (first["already_reported"], retry["already_reported"], by_school["already_reported"]) == (False, False, True)
    assert retry["sequence"] == by_school["sequence"] == first["sequence"]
    assert by_school["left_on"] == "2026-10-08", "answered with the departure on record"
    kinds = [kind for kind, _ in await events_of(store, "secondment", teacher_id)]
    assert kinds == ["SecondmentRequested", "SecondmentConsented", "TeacherSeconded"]
    reused = await client.command(PUBLICITY, "requests", "ReportTeacherSeconded", body | {"left_on": "2026-10-07"})
    assert refusal(reused) == ("COMMAND_ID_REUSED", "command_id")


async def test_s7_a_departure_under_both_decisions_is_approved(client, store):
    teacher_id = await registered(client)
    request = await client.command(HEALTH, "requests", "RequestSecondment",
                                   secondment_request(teacher_id, starts_on="2026-10-01"))  # holds left_on
    await decided(store, teacher_id, request["secondment_id"], approve=True)
    reply = await client.command(SCHOOL, "requests", "ReportTeacherSeconded",
                                 departure(teacher_id, borrowing_org_id=HEALTH))
    assert reply["ok"] and (reply["consented"], reply["approved"]) == (True, True), reply
    assert reply["borrowing_org_id"] == HEALTH


async def test_s7_a_teacher_away_with_one_unit_cannot_leave_for_another(client):
    teacher_id = await registered(client)
    assert (await client.command(PUBLICITY, "requests", "ReportTeacherSeconded", departure(teacher_id)))["ok"]
    reply = await client.command(HEALTH, "requests", "ReportTeacherSeconded", departure(teacher_id, "2026-10-10"))
    assert refusal(reply) == ("INVALID_STATE", "teacher_id")
    reply = await client.command(SCHOOL, "requests", "ReportTeacherSeconded",
                                 departure(teacher_id, "2026-10-10", borrowing_org_id=HEALTH))
    assert refusal(reply) == ("INVALID_STATE", "teacher_id")


async def test_s7_hostile_departures_are_refused_with_the_field(client):
    teacher_id = await registered(client)
    cases = [
        (PUBLICITY, departure(teacher_id, "2026-10-16"), ("INVALID_FIELD", "left_on")),  # after today
        (PUBLICITY, departure(teacher_id, "2021-08-19"), ("INVALID_FIELD", "left_on")),  # before the plan
        (PUBLICITY, departure(fresh_teacher()), ("NOT_FOUND", "teacher_id")),
        (PUBLICITY, departure(teacher_id, borrowing_org_id=HEALTH), ("INVALID_FIELD", "borrowing_org_id")),
        (PUBLICITY, departure(teacher_id, secondment_id=str(uuid.uuid4())), ("INVALID_FIELD", "secondment_id")),
        (SCHOOL, departure(teacher_id), ("INVALID_FIELD", "borrowing_org_id")),
        (SCHOOL, departure(teacher_id, borrowing_org_id="dept-nowhere"), ("UNKNOWN_ORG", "borrowing_org_id")),
        (SCHOOL, departure(teacher_id, borrowing_org_id=OTHER_SCHOOL), ("INVALID_FIELD", "borrowing_org_id")),
        (OTHER_SCHOOL, departure(teacher_id, borrowing_org_id=PUBLICITY), ("FORBIDDEN", "teacher_id")),
        (PUBLICITY, departure(teacher_id, left_on="2026-13-01"), ("INVALID_FIELD", "left_on")),
    ]
    for org, body, expected in cases:
        assert refusal(await client.command(org, "requests", "ReportTeacherSeconded", body)) == expected, body


async def test_s7_a_return_only_while_away_by_the_school_or_the_unit_holding_the_teacher(client, store):
    teacher_id = await registered(client)
    reply = await client.command(SCHOOL, "requests", "ReportTeacherReturned", back(teacher_id))
    assert refusal(reply) == ("INVALID_STATE", "teacher_id"), "S7: not away, nothing to return from"
    assert (await client.command(PUBLICITY, "requests", "ReportTeacherSeconded", departure(teacher_id)))["ok"]
    for org, body, expected in [
        (HEALTH, back(teacher_id), ("FORBIDDEN", "teacher_id")),
        (OTHER_SCHOOL, back(teacher_id), ("FORBIDDEN", "teacher_id")),
        (SCHOOL, back(teacher_id, "2026-10-08"), ("INVALID_FIELD", "returned_on")),  # not after left_on
        (SCHOOL, back(teacher_id, "2026-10-16"), ("INVALID_FIELD", "returned_on")),  # after today
    ]:
        assert refusal(await client.command(org, "requests", "ReportTeacherReturned", body)) == expected, (org, body)
    body = back(teacher_id)
    first = await client.command(SCHOOL, "requests", "ReportTeacherReturned", body)
    retry = await client.command(SCHOOL, "requests", "ReportTeacherReturned", body)
    by_unit = await client.command(PUBLICITY, "requests", "ReportTeacherReturned", back(teacher_id))
    assert first["ok"] and retry["ok"] and by_unit["ok"], (first, retry, by_unit)
    assert (first["borrowing_org_id"], first["left_on"], first["returned_on"]) == (PUBLICITY, "2026-10-08",
                                                                                    "2026-10-12")
    assert (first["already_reported"], retry["already_reported"], by_unit["already_reported"]) == (False, False, True)
    assert first["sequence"] == retry["sequence"] == by_unit["sequence"]
    reused = await client.command(SCHOOL, "requests", "ReportTeacherReturned", body | {"returned_on": "2026-10-11"})
    assert refusal(reused) == ("COMMAND_ID_REUSED", "command_id")
    other_day = await client.command(SCHOOL, "requests", "ReportTeacherReturned", back(teacher_id, "2026-10-13"))
    assert refusal(other_day) == ("INVALID_STATE", "teacher_id")
    kinds = [kind for kind, _ in await events_of(store, "secondment", teacher_id)]
    assert kinds == ["TeacherSeconded", "TeacherReturned"]
    left_again = await client.command(HEALTH, "requests", "ReportTeacherSeconded", departure(teacher_id, "2026-10-14"))
    assert left_again["ok"] and left_again["borrowing_org_id"] == HEALTH, "back home, the teacher may leave again"


async def test_s7_an_unknown_teacher_has_no_return(client):
    reply = await client.command(SCHOOL, "requests", "ReportTeacherReturned", back(fresh_teacher()))
    assert refusal(reply) == ("NOT_FOUND", "teacher_id")


# --- ReportTrainingSession ------------------------------------------------------------------------------

def session(title: str, **overrides) -> dict:
    return {"command_id": str(uuid.uuid4()), "title": title, "held_on": "2026-10-12", "teachers_required": True,
            "participants": 30} | overrides


async def test_s8_a_session_reported_twice_is_one_session(client, store):
    title = f"防溺水安全培训 {uuid.uuid4().hex[:8]}"
    body = session(title)
    first = await client.command(HEALTH, "requests", "ReportTrainingSession", body)
    retry = await client.command(HEALTH, "requests", "ReportTrainingSession", body)
    by_school = await client.command(SCHOOL, "requests", "ReportTrainingSession",
                                     session(title.replace(" ", "  "), organiser_org_id=HEALTH, participants=31))
    assert first["ok"] and retry["ok"] and by_school["ok"], (first, retry, by_school)
    assert (first["semester"], first["organiser_org_id"], first["already_reported"]) == ("2026-autumn", HEALTH, False)
    assert retry["already_reported"] is False and retry["sequence"] == first["sequence"]
    assert by_school["session_id"] == first["session_id"] and by_school["already_reported"] is True
    assert by_school["differs"] == ["title", "participants"] and by_school["reported_by_org_id"] == HEALTH
    [(kind, data)] = await events_of(store, "training_session", first["session_id"])
    assert (kind, data["participants"], data["teachers_required"]) == ("TrainingSessionReported", 30, True)
    reused = await client.command(HEALTH, "requests", "ReportTrainingSession", body | {"participants": 3})
    assert refusal(reused) == ("COMMAND_ID_REUSED", "command_id")


async def test_s8_hostile_training_reports_are_refused_with_the_field(client):
    cases = [
        (HEALTH, session("培训", held_on="2026-10-16"), ("INVALID_FIELD", "held_on")),
        (HEALTH, session("培训", held_on="2021-08-19"), ("INVALID_FIELD", "held_on")),
        (HEALTH, session("培训", organiser_org_id=BUREAU), ("INVALID_FIELD", "organiser_org_id")),
        (SCHOOL, session("培训", organiser_org_id="dept-nowhere"), ("UNKNOWN_ORG", "organiser_org_id")),
        (SCHOOL, session("培训", teacher_ids=["t-1", "t-2"], participants=1), ("INVALID_FIELD", "participants")),
        (SCHOOL, session("培训", teacher_ids=[f"t-{n}" for n in range(2001)], participants=2001),
         ("INVALID_FIELD", "teacher_ids")),
        (SCHOOL, session("培训", level="district"), ("INVALID_FIELD", "level")),
    ]
    for org, body, expected in cases:
        assert refusal(await client.command(org, "requests", "ReportTrainingSession", body)) == expected, expected


async def test_s8_a_session_with_2000_teachers_fits(client):
    body = session(f"全员培训 {uuid.uuid4().hex[:8]}", teacher_ids=[f"t-{n:060d}" for n in range(2000)],
                   participants=2000)
    assert len(json.dumps(body)) > 64 * 1024
    reply = await client.command(BUREAU, "requests", "ReportTrainingSession", body)
    assert reply["ok"], reply


# --- ScheduleMeeting ------------------------------------------------------------------------------------

def participants(count: int, school: str = SCHOOL) -> list[dict]:
    return [{"teacher_id": f"t-{n:060d}", "school_id": school} for n in range(count)]


def meeting(**overrides) -> dict:
    return {"command_id": str(uuid.uuid4()), "title": "全区安全工作部署会", "concerns_teaching": False,
            "held_on": "2026-11-05", "mode": "video", "venue_id": VENUE, "sub_venue_ids": [SUB_VENUE],
            "participants": participants(2)} | overrides


async def test_s9_a_meeting_is_scheduled_under_its_own_id_and_a_retry_answers_the_same(client, store):
    body = meeting()
    first = await client.command(HEALTH, "requests", "ScheduleMeeting", body)
    retry = await client.command(HEALTH, "requests", "ScheduleMeeting", body)
    assert first["ok"] and (first["semester"], first["participants"]) == ("2026-autumn", 2), first
    assert (retry["meeting_id"], retry["sequence"]) == (first["meeting_id"], first["sequence"])
    [(kind, data)] = await events_of(store, "meeting", first["meeting_id"])
    assert (kind, data["organiser_org_id"], data["scheduled_on"], data["sub_venue_ids"]) == (
        "MeetingScheduled", HEALTH, TODAY, [SUB_VENUE])
    reused = await client.command(HEALTH, "requests", "ScheduleMeeting", body | {"title": "另一个会议"})
    assert refusal(reused) == ("COMMAND_ID_REUSED", "command_id")
    by_school = await client.command(SCHOOL, "requests", "ScheduleMeeting", meeting(mode="online", venue_id=None,
                                                                                    sub_venue_ids=[]))
    assert by_school["ok"], by_school


async def test_s10_a_meeting_of_2000_participants_fits_and_2001_are_refused(client):
    body = meeting(participants=participants(MEETING_MAX_PARTICIPANTS))
    assert len(json.dumps(body)) > 64 * 1024
    reply = await client.command(HEALTH, "requests", "ScheduleMeeting", body)
    assert reply["ok"] and reply["participants"] == 2000, reply
    reply = await client.command(HEALTH, "requests", "ScheduleMeeting",
                                 meeting(participants=participants(MEETING_MAX_PARTICIPANTS + 1)))
    assert refusal(reply) == ("INVALID_FIELD", "participants")


async def test_s9_hostile_meetings_are_refused_with_the_field(client):
    mixed = [*participants(1), {"teacher_id": "t-x", "school_id": HEALTH}]
    cases = [
        (meeting(venue_id="venue-nowhere"), ("INVALID_FIELD", "venue_id")),
        (meeting(sub_venue_ids=[SUB_VENUE, "venue-nowhere"]), ("INVALID_FIELD", "sub_venue_ids.1")),
        (meeting(sub_venue_ids=[VENUE]), ("INVALID_FIELD", "sub_venue_ids.0")),
        (meeting(participants=mixed), ("INVALID_FIELD", "participants.1.school_id")),
        (meeting(participants=[{"teacher_id": "t-x", "school_id": "school-nowhere"}]),
         ("INVALID_FIELD", "participants.0.school_id")),
        (meeting(held_on="2021-08-19"), ("INVALID_FIELD", "held_on")),
        (meeting(mode="online"), ("INVALID_FIELD", None)),
        (meeting(participants=[]), ("INVALID_FIELD", "participants")),
        (meeting(participants=participants(1) * 2), ("INVALID_FIELD", None)),
    ]
    for body, (code, field) in cases:
        got = refusal(await client.command(HEALTH, "requests", "ScheduleMeeting", body))
        assert got[0] == code and (field is None or got[1] == field), (got, code, field)


# --- who may send ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["RegisterTeacher", "RequestSecondment", "ReportTeacherSeconded",
                                  "ReportTeacherReturned", "ReportTrainingSession", "ScheduleMeeting"])
async def test_s7_to_s10_an_organisation_the_directory_does_not_know_is_refused(nc, services, name):
    reply = await ask(nc, "dept-nowhere", "cmd", "requests", name, {"command_id": str(uuid.uuid4())})
    assert refusal(reply) == ("UNKNOWN_ORG", "org_id")


@pytest.mark.parametrize("name", ["RegisterTeacher", "RequestSecondment", "ReportTeacherSeconded",
                                  "ReportTeacherReturned", "ReportTrainingSession", "ScheduleMeeting"])
async def test_s7_to_s10_malformed_bodies_get_a_structured_reply(nc, services, name):
    for body in (b"", b"null", b"[]", b'{"command_id": "x"}', b"\xff\xfe"):
        reply = await ask(nc, HEALTH, "cmd", "requests", name, body)
        assert reply["ok"] is False and reply["error"]["code"] in {"MALFORMED_JSON", "INVALID_FIELD", "FORBIDDEN"}
