"""S7 secondment decisions through the running approvals service (real nats-server): the education
bureau consents, the HR bureau (the policy's approver) approves and files, either refuses at its
own stage, and a run over half a year is refused by rule with the days it would have made.

Requests are given as stored events (as the requests service stores them), so these tests stand
on the approvals side alone; each test has teachers of its own, so none reads another's periods.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from jianfu.cli.client import JianfuClient
from jianfu.events.envelope import Actor
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.secondments import SecondmentRequested

from tests.factories import DIRECTORY, POLICY

BUREAU, HR, PUBLICITY, STREET, SCHOOL = "edu-bureau", "hr-bureau", "dept-publicity", "street-chaoyang", "school-dwk-primary-1"
SECONDMENT = "secondment"
START = date(2027, 3, 1)


@pytest.fixture
def client(nc, services, clock_file) -> JianfuClient:
    clock_file.write_text("2027-02-01")
    return JianfuClient(nc, timeout=5.0)


def new_teacher() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


async def request(store, teacher_id: str, starts_on: date = START, days: int = 90, unit: str = PUBLICITY) -> str:
    """A secondment as the requests service stores it, on the teacher's aggregate."""
    secondment_id = uuid.uuid4()
    requested = SecondmentRequested(
        secondment_id=secondment_id, teacher_id=teacher_id, school_id=SCHOOL, borrowing_org_id=unit,
        task="全区文明城市创建迎检材料整理", starts_on=starts_on, ends_on=starts_on + timedelta(days=days - 1),
        days=days, requested_on=starts_on - timedelta(days=30))
    context = CommandContext(Actor(org_id=unit, org_kind=DIRECTORY.get(unit).kind), str(uuid.uuid4()),
                             str(uuid.uuid4()), POLICY.version, datetime.now(UTC))
    await store.append(await store.load(SECONDMENT, teacher_id), [context.event(requested, teacher_id)])
    return str(secondment_id)


def command(teacher_id: str, secondment_id: str, **fields) -> dict:
    return {"command_id": str(uuid.uuid4()), "teacher_id": teacher_id, "secondment_id": secondment_id, **fields}


def refusal(reason: str = "毕业班教学任务重", code: str = "AFFECTS_TEACHING") -> dict:
    return {"refusal_code": code, "reason": reason}


async def decisions(store, teacher_id: str) -> list:
    return [e for e in (await store.load(SECONDMENT, teacher_id)).envelopes if e.event_type != "SecondmentRequested"]


async def test_s7_consent_then_approval_each_by_its_own_unit_once(client, store):
    teacher = new_teacher()
    secondment = await request(store, teacher, days=183)
    body = command(teacher, secondment, note="同意借用")
    for unit in (HR, PUBLICITY, SCHOOL):
        assert (await client.command(unit, "approvals", "ConsentToSecondment", body))["error"]["code"] == "FORBIDDEN"
    consent = await client.command(BUREAU, "approvals", "ConsentToSecondment", body)
    assert (consent["ok"], consent["decision"], consent["continuous_days"], consent["secondment_id"]) == (
        True, "consented", 183, secondment), consent
    retry = await client.command(BUREAU, "approvals", "ConsentToSecondment", body)
    assert {**retry, "correlation_id": ""} == {**consent, "correlation_id": ""}
    twice = await client.command(BUREAU, "approvals", "ConsentToSecondment", command(teacher, secondment))
    assert (twice["error"]["code"], twice["error"]["field"]) == ("INVALID_STATE", "secondment_id")
    approval = command(teacher, secondment, note="审批备案")
    assert (await client.command(BUREAU, "approvals", "ApproveSecondment", approval))["error"]["code"] == "FORBIDDEN"
    approved = await client.command(HR, "approvals", "ApproveSecondment", approval)
    assert (approved["decision"], approved["continuous_days"]) == ("approved", 183), approved
    stored = await decisions(store, teacher)
    assert [(e.event_type, e.actor.org_id) for e in stored] == [("SecondmentConsented", BUREAU),
                                                                 ("SecondmentApproved", HR)]


async def test_s7_the_same_command_id_with_another_body_is_refused(client, store):
    teacher = new_teacher()
    first, second = await request(store, teacher), await request(store, teacher, START + timedelta(days=200))
    body = command(teacher, first)
    assert (await client.command(BUREAU, "approvals", "ConsentToSecondment", body))["decision"] == "consented"
    reused = await client.command(BUREAU, "approvals", "ConsentToSecondment", {**body, "secondment_id": second})
    assert reused["error"]["code"] == "COMMAND_ID_REUSED", reused
    assert len(await decisions(store, teacher)) == 1


async def test_s7_a_seven_month_secondment_is_refused_by_rule_at_consent(client, store):
    teacher = new_teacher()
    secondment = await request(store, teacher, days=212)
    reply = await client.command(BUREAU, "approvals", "ConsentToSecondment", command(teacher, secondment))
    assert (reply["ok"], reply["decision"], reply["refusal_code"], reply["automatic"], reply["continuous_days"]) == (
        True, "refused", "OVER_HALF_YEAR", True, 212), reply
    [stored] = await decisions(store, teacher)
    assert (stored.event_type, stored.data["stage"], stored.data["automatic"]) == ("SecondmentRefused", "consent", True)
    late = await client.command(HR, "approvals", "ApproveSecondment", command(teacher, secondment))
    assert late["error"]["code"] == "INVALID_STATE"


async def test_s7_a_renewal_at_once_with_the_same_unit_is_refused_with_another_unit_it_is_not(client, store):
    teacher = new_teacher()
    first = await request(store, teacher, days=183)
    assert (await client.command(BUREAU, "approvals", "ConsentToSecondment", command(teacher, first)))["ok"]
    assert (await client.command(HR, "approvals", "ApproveSecondment", command(teacher, first)))["ok"]
    renewal = await request(store, teacher, START + timedelta(days=183), days=90)
    refused = await client.command(BUREAU, "approvals", "ConsentToSecondment", command(teacher, renewal))
    assert (refused["decision"], refused["continuous_days"]) == ("refused", 273), refused
    other = new_teacher()
    await request(store, other, days=183)
    elsewhere = await request(store, other, START + timedelta(days=183), days=90, unit=STREET)
    consent = await client.command(BUREAU, "approvals", "ConsentToSecondment", command(other, elsewhere))
    assert (consent["decision"], consent["continuous_days"]) == ("consented", 90), consent


async def test_s7_an_earlier_period_requested_after_consent_refuses_the_approval(client, store):
    teacher = new_teacher()
    later = await request(store, teacher, START + timedelta(days=160), days=60)
    assert (await client.command(BUREAU, "approvals", "ConsentToSecondment", command(teacher, later)))["ok"]
    await request(store, teacher, days=150)  # ends 10 days before the later one: one run of 220
    reply = await client.command(HR, "approvals", "ApproveSecondment", command(teacher, later))
    assert (reply["decision"], reply["stage"], reply["refusal_code"], reply["continuous_days"]) == (
        "refused", "approval", "OVER_HALF_YEAR", 220), reply


async def test_s7_a_renewal_requested_after_consent_does_not_refuse_the_period_it_continues(client, store):
    teacher = new_teacher()
    first = await request(store, teacher, days=150)
    assert (await client.command(BUREAU, "approvals", "ConsentToSecondment", command(teacher, first)))["ok"]
    renewal = await request(store, teacher, START + timedelta(days=160), days=60)
    reply = await client.command(HR, "approvals", "ApproveSecondment", command(teacher, first))
    assert (reply["decision"], reply["continuous_days"]) == ("approved", 150), reply
    refused = await client.command(BUREAU, "approvals", "ConsentToSecondment", command(teacher, renewal))
    assert (refused["decision"], refused["continuous_days"]) == ("refused", 220), refused


async def test_s7_approval_before_consent_is_invalid_state(client, store):
    teacher = new_teacher()
    secondment = await request(store, teacher)
    reply = await client.command(HR, "approvals", "ApproveSecondment", command(teacher, secondment))
    assert (reply["error"]["code"], reply["error"]["field"]) == ("INVALID_STATE", "secondment_id")
    assert await decisions(store, teacher) == []


async def test_s7_the_bureau_refuses_before_consent_the_approver_after_it(client, store):
    teacher = new_teacher()
    early, late = await request(store, teacher), await request(store, teacher, START + timedelta(days=200))
    wrong_stage = await client.command(HR, "approvals", "RefuseSecondment", command(teacher, early, **refusal()))
    assert wrong_stage["error"]["code"] == "INVALID_STATE"
    stranger = await client.command(PUBLICITY, "approvals", "RefuseSecondment", command(teacher, early, **refusal()))
    assert stranger["error"]["code"] == "FORBIDDEN"
    refused = await client.command(BUREAU, "approvals", "RefuseSecondment", command(teacher, early, **refusal()))
    assert (refused["decision"], refused["stage"], refused["automatic"], refused["refusal_code"]) == (
        "refused", "consent", False, "AFFECTS_TEACHING"), refused
    assert (await client.command(BUREAU, "approvals", "ConsentToSecondment", command(teacher, late)))["ok"]
    after = await client.command(BUREAU, "approvals", "RefuseSecondment", command(teacher, late, **refusal()))
    assert after["error"]["code"] == "INVALID_STATE"
    by_hr = await client.command(HR, "approvals", "RefuseSecondment", command(
        teacher, late, **refusal("非重大决策部署任务", "NOT_A_MAJOR_TASK")))
    assert (by_hr["decision"], by_hr["stage"], by_hr["refusal_code"]) == ("refused", "approval", "NOT_A_MAJOR_TASK")


async def test_s7_an_unknown_secondment_or_one_of_another_teacher_is_not_found(client, store):
    teacher, other = new_teacher(), new_teacher()
    secondment = await request(store, teacher)
    await request(store, other)
    for who, key in ((other, secondment), (teacher, str(uuid.uuid4())), (new_teacher(), secondment)):
        reply = await client.command(BUREAU, "approvals", "ConsentToSecondment", command(who, key))
        assert (reply["error"]["code"], reply["error"]["field"]) == ("NOT_FOUND", "secondment_id"), reply
    assert await decisions(store, other) == [] and await decisions(store, teacher) == []


@pytest.mark.parametrize(("name", "fields", "field"), [
    ("ConsentToSecondment", {"teacher_id": "T 1/>"}, "teacher_id"),
    ("ConsentToSecondment", {"secondment_id": "not-a-uuid"}, "secondment_id"),
    ("ApproveSecondment", {"teacher_id": "t-" + "x" * 100}, "teacher_id"),
    ("RefuseSecondment", {"refusal_code": "BECAUSE"}, "refusal_code"),
    ("RefuseSecondment", {"reason": ""}, "reason"),
])
async def test_s7_malformed_decisions_are_refused_on_their_field(client, name, fields, field):
    body = {**command(new_teacher(), str(uuid.uuid4()), **refusal()), **fields}
    if name != "RefuseSecondment":
        body = {k: v for k, v in body.items() if k not in ("refusal_code", "reason")}
    unit = HR if name == "ApproveSecondment" else BUREAU
    reply = await client.command(unit, "approvals", name, body)
    assert reply["error"]["code"] == "INVALID_FIELD", reply
    assert field in str(reply["error"]), reply


async def test_s7_two_consents_at_once_store_one_decision(client, store):
    """Each decision expects the teacher's last sequence: of two consents sent together (two
    command ids) one is stored, the other finds it and is refused for the state."""
    teacher = new_teacher()
    secondment = await request(store, teacher)
    replies = await asyncio.gather(*(client.command(BUREAU, "approvals", "ConsentToSecondment",
                                                    command(teacher, secondment)) for _ in range(2)))
    assert sorted(reply.get("decision") or reply["error"]["code"] for reply in replies) == ["INVALID_STATE", "consented"]
    assert [e.event_type for e in await decisions(store, teacher)] == ["SecondmentConsented"]


async def test_s7_a_secondment_requested_through_intake_is_decided_then_the_departure_carries_both(client, clock_file):
    """The two services on one aggregate: the school registers its teacher, a department asks to
    borrow them (requests), the bureau consents and the HR bureau approves (approvals), and the
    departure reported afterwards is recorded as consented and approved."""
    clock_file.write_text("2027-02-01")
    teacher = new_teacher()
    registered = await client.command(SCHOOL, "requests", "RegisterTeacher", {
        "command_id": str(uuid.uuid4()), "teacher_id": teacher, "name": "王老师", "subject": "语文"})
    assert registered["ok"], registered
    asked = await client.command(PUBLICITY, "requests", "RequestSecondment", {
        "command_id": str(uuid.uuid4()), "teacher_id": teacher, "task": "全区文明城市创建迎检材料整理",
        "starts_on": "2027-03-01", "ends_on": "2027-06-30"})
    assert asked["ok"], asked
    consent = await client.command(BUREAU, "approvals", "ConsentToSecondment", command(teacher, asked["secondment_id"]))
    approval = await client.command(HR, "approvals", "ApproveSecondment", command(teacher, asked["secondment_id"]))
    assert (consent["decision"], approval["decision"], approval["continuous_days"]) == ("consented", "approved", 122)
    clock_file.write_text("2027-03-01")
    left = await client.command(PUBLICITY, "requests", "ReportTeacherSeconded", {
        "command_id": str(uuid.uuid4()), "teacher_id": teacher, "left_on": "2027-03-01"})
    assert (left["secondment_id"], left["consented"], left["approved"]) == (asked["secondment_id"], True, True), left
