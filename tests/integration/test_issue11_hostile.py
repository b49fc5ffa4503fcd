"""Issue 11's G2 commands attacked over real request-reply, as a hostile integrator, unit and
auditor would: the notifications app on a nats-server of this module's own (tests/poison.own_log),
violations appended as the compliance detector appends them. Another escalation's proposal or
report under a right-shaped id, a unit acting on another's escalation, double and racing
confirmations, confirm against decline, a verdict given twice, a command id reused with another
body: every one gets a structured reply, never INTERNAL_ERROR. The ladder's rules are unit-tested
in tests/unit/test_issue11_hostile.py."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime

import pytest
from aiosmtpd.controller import Controller
from jianfu.compliance.domain.g2_rules import escalation_of
from jianfu.events.envelope import Actor
from jianfu.events.organisations import Channels, Directory, Organisation, OrgKind
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.compliance import Rule
from jianfu.events.schemas.escalation import CirculationNumberAssigned
from jianfu.events.settings import Settings
from jianfu.notifications.delivery import Alert, DeliveryError, DeliverySettings, EmailSender
from jianfu.notifications.domain.escalation import escalation_id

from tests.factories import DIRECTORY, POLICY
from tests.hostile import ask, refusal
from tests.integration.test_alert_delivery import free_port
from tests.integration.test_g2_ladder_commands import WARNING_DAYS, detected, started, steps
from tests.integration.test_g2_queries import HEALTH_ESCALATION, UNIT, world  # noqa: F401 - the module's fixture
from tests.integration.test_g2_queries import ask as case_query
from tests.poison import own_log

RULE = Rule.UNAUTHORIZED_CAMPUS_ENTRY
LEADERS, OFFICE, BUREAU = "leading-group-office", "supervision-office", "edu-bureau"
WITHIN = 10.0  # a confirmation takes two appends; the bound only keeps a lost reply from hanging


@pytest.fixture(scope="module")
def units() -> list[str]:
    return [f"dept-h11{uuid.uuid4().hex[:6]}-{n}" for n in range(10)]


@pytest.fixture(scope="module")
def directory(units) -> Directory:
    extra = [Organisation(org_id=unit, kind=OrgKind.DEPARTMENT, name=f"区<b>测试</b>局{n}") for n, unit in enumerate(units)]
    return Directory(district=DIRECTORY.district, organisations=[*DIRECTORY.organisations, *extra])


@pytest.fixture(scope="module")
async def hostile_log(tmp_path_factory):
    async with own_log(tmp_path_factory.mktemp("g2-hostile-nats")) as own:
        yield own


@pytest.fixture(scope="module")
async def service(hostile_log, directory, tmp_path_factory):
    path = tmp_path_factory.mktemp("g2-hostile-directory") / "organisations.json"
    path.write_text(directory.model_dump_json(), encoding="utf-8")
    app = started(Settings(nats_url=hostile_log.url, directory_path=path, log_level="WARNING"), "hostile")
    await app.start()
    yield
    await app.stop()


async def cmd(nc, org: str, name: str, body: dict, command_id: str | None = None) -> dict:
    reply = await ask(nc, org, "cmd", "notifications", name, {"command_id": command_id or str(uuid.uuid4()), **body},
                      within=WITHIN)
    assert reply["ok"] or reply["error"]["code"] != "INTERNAL_ERROR", reply
    return reply


async def proposed(log, unit: str) -> str:
    for day in WARNING_DAYS:
        await detected(log.store, unit, day)
    events = await steps(log.store, unit, 5)
    assert events[-1].event_type == "CirculationProposed", [e.event_type for e in events]
    return events[-1].data["proposal_id"]


def escalation_of_unit(unit: str) -> str:
    return escalation_id(unit, f"{unit}:{RULE.value}")


async def test_g2_another_escalations_proposal_under_this_escalations_id_is_not_found(hostile_log, service, units):
    """G2: a proposal id is the escalation id and a digest; splicing one escalation's prefix onto
    another's digest names nothing, and a unit cannot confirm even its own escalation's proposal."""
    nc = hostile_log.nc
    mine, theirs = await proposed(hostile_log, units[0]), await proposed(hostile_log, units[1])
    spliced = escalation_of_unit(units[0]) + theirs[36:]
    assert refusal(await cmd(nc, LEADERS, "ConfirmCirculation", {"proposal_id": spliced}))[0] == "NOT_FOUND"
    assert refusal(await cmd(nc, LEADERS, "DeclineCirculation", {"proposal_id": spliced, "reason": "先行约谈"}))[0] == (
        "NOT_FOUND")
    assert refusal(await cmd(nc, units[0], "ConfirmCirculation", {"proposal_id": mine}))[0] == "FORBIDDEN"
    for shaped in (mine.upper(), mine + "0", mine[:-1], "esc-" + "g" * 32 + mine[36:], mine.replace("-", ".", 1)):
        assert refusal(await cmd(nc, LEADERS, "ConfirmCirculation", {"proposal_id": shaped}))[0] in (
            "NOT_FOUND", "INVALID_FIELD")


async def test_g2_racing_confirmations_of_one_proposal_confirm_once_with_one_number(hostile_log, service, units):
    """G2: five confirmations of one proposal at once (asyncio.gather, five command ids): one
    confirms, the rest find it confirmed; the register holds one number for it."""
    proposal = await proposed(hostile_log, units[2])
    replies = await asyncio.gather(*(cmd(hostile_log.nc, LEADERS, "ConfirmCirculation", {"proposal_id": proposal})
                                     for _ in range(5)))
    confirmed = [r for r in replies if r["ok"]]
    assert len(confirmed) == 1, replies
    assert {refusal(r)[0] for r in replies if not r["ok"]} == {"INVALID_STATE"}
    register = await hostile_log.store.load("circulation_register", str(confirmed[0]["year"]))
    assert [e.envelope.data["number"] for e in register.events if e.envelope.data["proposal_id"] == proposal] == [
        confirmed[0]["number"]]
    events = await steps(hostile_log.store, units[2], 6)
    assert [e.event_type for e in events].count("CirculationConfirmed") == 1
    again = await cmd(hostile_log.nc, LEADERS, "DeclineCirculation", {"proposal_id": proposal, "reason": "撤回"})
    assert refusal(again)[0] == "INVALID_STATE"  # decline after confirm


async def test_g2_confirm_racing_decline_settles_the_proposal_one_way(hostile_log, service, units):
    """G2: a confirmation and a decline of one proposal at once: exactly one wins, the other is
    INVALID_STATE, and the escalation holds one verdict."""
    proposal = await proposed(hostile_log, units[3])
    confirm, decline = await asyncio.gather(
        cmd(hostile_log.nc, LEADERS, "ConfirmCirculation", {"proposal_id": proposal}),
        cmd(hostile_log.nc, LEADERS, "DeclineCirculation", {"proposal_id": proposal, "reason": "先行约谈"}))
    assert [confirm["ok"], decline["ok"]].count(True) == 1, (confirm, decline)
    loser = decline if confirm["ok"] else confirm
    assert refusal(loser)[0] == "INVALID_STATE"
    events = [e.event_type for e in await steps(hostile_log.store, units[3], 6)]
    assert events.count("CirculationConfirmed") + events.count("CirculationDeclined") == 1
    after = await cmd(hostile_log.nc, LEADERS, "ConfirmCirculation", {"proposal_id": proposal})
    assert refusal(after)[0] == "INVALID_STATE"  # confirm after decline (or twice)


async def test_g2_a_command_id_reused_with_another_body_is_refused(hostile_log, service, units):
    """G2: the same command id, same organisation, another proposal or another reason: refused,
    COMMAND_ID_REUSED; the same body again answers as before."""
    nc = hostile_log.nc
    first, second = await proposed(hostile_log, units[4]), await proposed(hostile_log, units[5])
    command_id = str(uuid.uuid4())
    declined = await cmd(nc, LEADERS, "DeclineCirculation", {"proposal_id": first, "reason": "先行约谈"}, command_id)
    assert declined["ok"], declined
    for body in ({"proposal_id": second, "reason": "先行约谈"}, {"proposal_id": first, "reason": "另一个理由"}):
        assert refusal(await cmd(nc, LEADERS, "DeclineCirculation", body, command_id))[0] == "COMMAND_ID_REUSED"
    same = await cmd(nc, LEADERS, "DeclineCirculation", {"proposal_id": first, "reason": "先行约谈"}, command_id)
    assert same["ok"] and same["sequence"] == declined["sequence"]
    reused = await cmd(nc, LEADERS, "ConfirmCirculation", {"proposal_id": second}, command_id)
    assert reused["ok"] or refusal(reused)[0] == "COMMAND_ID_REUSED"  # another command: its own key


async def test_g2_reports_and_verdicts_across_escalations_and_after_the_case_closed(hostile_log, service, units):
    """G2: a unit reports only on its own escalation; another escalation's report id is NOT_FOUND
    under this one; verified twice, or reported after the close, is INVALID_STATE; the wrong
    issuer is FORBIDDEN."""
    nc, unit, other = hostile_log.nc, units[6], units[7]
    for u in (unit, other):
        await detected(hostile_log.store, u, date(2026, 6, 1))
        await steps(hostile_log.store, u, 1)
    mine, theirs = escalation_of_unit(unit), escalation_of_unit(other)
    text = "已停止未经认定的进校园活动。"
    assert refusal(await cmd(nc, unit, "ReportRectification", {"escalation_id": theirs, "report": text}))[0] == (
        "NOT_FOUND")  # which other units have a case is not told
    reported = await cmd(nc, unit, "ReportRectification", {"escalation_id": mine, "report": text})
    their_report = await cmd(nc, other, "ReportRectification", {"escalation_id": theirs, "report": text})
    assert reported["ok"] and their_report["ok"]
    assert refusal(await cmd(nc, unit, "ReportRectification", {"escalation_id": mine, "report": text}))[0] == (
        "INVALID_STATE")  # one awaits review already
    crossed = {"escalation_id": mine, "report_id": their_report["report_id"]}
    assert refusal(await cmd(nc, OFFICE, "VerifyRectification", crossed))[0] == "NOT_FOUND"
    review = {"escalation_id": mine, "report_id": reported["report_id"]}
    assert refusal(await cmd(nc, unit, "VerifyRectification", review))[0] == "FORBIDDEN"  # not its own verdict
    assert refusal(await cmd(nc, BUREAU, "VerifyRectification", review))[0] == "FORBIDDEN"  # not the issuer
    twice = await asyncio.gather(*(cmd(nc, OFFICE, "VerifyRectification", review) for _ in range(3)))
    assert [r["ok"] for r in twice].count(True) == 1, twice
    assert {refusal(r)[0] for r in twice if not r["ok"]} == {"INVALID_STATE"}
    assert refusal(await cmd(nc, OFFICE, "RejectRectification", {**review, "reason": "材料不全"}))[0] == "INVALID_STATE"
    assert refusal(await cmd(nc, unit, "ReportRectification", {"escalation_id": mine, "report": text}))[0] == (
        "INVALID_STATE")
    events = [e.event_type for e in await steps(hostile_log.store, unit, 3)]
    assert events.count("RectificationVerified") == 1


@pytest.mark.parametrize("body", [
    {"proposal_id": None}, {"proposal_id": 7}, {"proposal_id": ["esc-"]}, {"proposal_id": "esc-" + "0" * 32 + "-" + "0" * 16},
    {"proposal_id": "x", "note": "n" * 100_000}, {"proposal_id": "esc-*.>"},
])
async def test_g2_wrong_kinds_and_shapes_in_a_confirmation_get_a_structured_refusal(hostile_log, service, body):
    code, _ = refusal(await cmd(hostile_log.nc, LEADERS, "ConfirmCirculation", body))
    assert code in ("INVALID_FIELD", "NOT_FOUND", "MALFORMED_JSON", "PAYLOAD_TOO_LARGE")


async def test_g2_a_unit_cannot_tell_anothers_case_from_none(world):  # noqa: F811 - the imported fixture
    """G2 read model: an escalation id is a hash of unit and issue anyone can compute; a unit asking
    for one not its own is FORBIDDEN whether or not the other unit has a case (NOT_FOUND for the
    unknown one would tell it which units were caught). The overseers still get NOT_FOUND."""
    caught = await case_query(world, UNIT, "GetCaseHistory", escalation_id=HEALTH_ESCALATION)
    never = await case_query(world, UNIT, "GetCaseHistory", escalation_id=escalation_of("dept-fire", "dept-fire:X"))
    assert refusal(caught) == refusal(never) == ("FORBIDDEN", "escalation_id")
    assert refusal(await case_query(world, OFFICE, "GetCaseHistory", escalation_id="esc-unknown")) == (
        "NOT_FOUND", "escalation_id")
    own = await case_query(world, UNIT, "GetAlertDeliveries", alert_id="a-of-another-unit", limit=1000)
    assert refusal(own)[0] == "INVALID_FIELD" or own["deliveries"] == []


async def test_g2_a_confirmation_refused_for_a_closed_case_takes_no_number(hostile_log, service, units):
    """G2 register: the case of a pending proposal closed (rectification verified); confirming it is
    INVALID_STATE and leaves no number taken, so the year's register keeps no gap for it."""
    nc, unit = hostile_log.nc, units[8]
    later = await proposed(hostile_log, unit)
    reported = await cmd(nc, unit, "ReportRectification", {"escalation_id": escalation_of_unit(unit),
                                                           "report": "已全面整改并建立台账。"})
    verified = await cmd(nc, OFFICE, "VerifyRectification", {"escalation_id": escalation_of_unit(unit),
                                                              "report_id": reported["report_id"]})
    assert verified["ok"], verified
    refused = await cmd(nc, LEADERS, "ConfirmCirculation", {"proposal_id": later})
    assert refusal(refused)[0] == "INVALID_STATE"
    for year in (2026, 2027):
        register = await hostile_log.store.load("circulation_register", str(year))
        assert later not in [e.envelope.data["proposal_id"] for e in register.events]



async def test_g2_a_confirmation_retried_after_new_year_keeps_the_number_it_took(hostile_log, service, units):
    """G2 register: a confirmation took its number on 31 December and died before confirming; its
    retry in January finds that number in last year's register instead of taking a second one in
    this year's (two numbers for one circulation, a gap in last year's)."""
    nc, unit = hostile_log.nc, units[9]
    proposal = await proposed(hostile_log, unit)
    year = datetime.now(UTC).year - 1
    taken = CirculationNumberAssigned(year=year, number=977, document_number=f"大教减负通〔{year}〕977号",
                                      proposal_id=proposal, escalation_id=escalation_of_unit(unit))
    office = Actor(org_id=LEADERS, org_kind=OrgKind.LEADING_GROUP_OFFICE, person="王主任")
    context = CommandContext(office, str(uuid.uuid4()), str(uuid.uuid4()), POLICY.version,
                             datetime(year, 12, 31, 8, tzinfo=UTC))
    await hostile_log.store.append_once(context.event(taken, str(year), key=proposal))
    confirmed = await cmd(nc, LEADERS, "ConfirmCirculation", {"proposal_id": proposal})
    assert confirmed["ok"], confirmed
    assert (confirmed["year"], confirmed["number"], confirmed["document_number"]) == (
        year, 977, f"大教减负通〔{year}〕977号")
    this_year = await hostile_log.store.load("circulation_register", str(year + 1))
    assert proposal not in [e.envelope.data["proposal_id"] for e in this_year.events]


class _Mailbox:
    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        return "250 OK"


@pytest.mark.parametrize("emails", [("duty@fire.example", "not an address"), ("<>",), ("duty@fire.example\x00",)])
async def test_g2_an_address_smtp_cannot_carry_fails_for_good(emails):
    """G2 delivery: aiosmtplib refuses such an address with a ValueError, which no DeliveryError
    caught: the alert was redelivered every few seconds, for ever, and never recorded. Now the
    failure is final (recorded with final=true) at once. A real SMTP server (aiosmtpd) listens."""
    port = free_port()
    controller = Controller(_Mailbox(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        alert = Alert("jf.alert.dept-fire.warning.a-1", b"{}", "a-1", "dept-fire",
                      {"alert_id": "a-1", "kind": "warning", "summary": "【警告】请整改。"})
        target = Organisation(org_id="dept-fire", kind=OrgKind.DEPARTMENT, name="区消防大队",
                              channels=Channels(emails=emails))
        with pytest.raises(DeliveryError) as refused:
            await EmailSender(DeliverySettings(smtp_host="127.0.0.1", smtp_port=port))(alert, target)
        assert refused.value.permanent
    finally:
        controller.stop()
