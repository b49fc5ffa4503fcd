"""G2 ladder against a real nats-server through the notifications app: violations appended to the
store flow to reminders, warnings, a circulation proposal and their alerts; people confirm or
decline circulations and report, verify or reject rectifications over ``jf.cmd.<org>.notifications``
with permissions checked; a missed deadline (appended here as the compliance sweep would) escalates;
a replay through new durables appends and sends nothing new. One nats-server for the module, so
the app sees only this module's events; each test takes units of its own."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, date, datetime

import pytest
from jianfu.events.envelope import SYSTEM_ACTOR
from jianfu.events.organisations import Directory, Organisation, OrgKind
from jianfu.events.provisioning import ALERT_STREAM
from jianfu.events.recording import CommandContext
from jianfu.events.runtime import Lifeline, connected_deps, launch, make_app, make_broker
from jianfu.events.schemas.compliance import Rule, ViolationDetected, violation_id
from jianfu.events.schemas.escalation import RectificationDeadlineMissed
from jianfu.events.settings import Settings
from jianfu.events.working_days import WorkingCalendar
from jianfu.notifications.alerts import AlertChannel
from jianfu.notifications.app import interface
from jianfu.notifications.domain.escalation import escalation_id

from tests.factories import DIRECTORY, POLICY
from tests.poison import own_log

RULE = Rule.UNAUTHORIZED_CAMPUS_ENTRY
LEADERS, OFFICE, BUREAU = "leading-group-office", "supervision-office", "edu-bureau"
WARNING_DAYS = (date(2026, 1, 5), date(2026, 2, 2), date(2026, 3, 2), date(2026, 4, 1))


@pytest.fixture(scope="module")
def units() -> list[str]:
    return [f"dept-g2{uuid.uuid4().hex[:6]}-{n}" for n in range(9)]


@pytest.fixture(scope="module")
def directory(units) -> Directory:
    extra = [Organisation(org_id=unit, kind=OrgKind.DEPARTMENT, name=f"区测试局{n}") for n, unit in enumerate(units)]
    return Directory(district=DIRECTORY.district, organisations=[*DIRECTORY.organisations, *extra])


@pytest.fixture(scope="module")
async def ladder_log(tmp_path_factory):
    async with own_log(tmp_path_factory.mktemp("g2-nats")) as own:
        yield own


def started(settings: Settings, suffix: str):
    """The notifications app as ``build`` makes it, with durables of its own (a replay's)."""
    lifeline = Lifeline()
    broker = make_broker(settings, lifeline)
    app = make_app(broker, lifeline)
    deps = connected_deps(app, broker, settings)
    alerts = AlertChannel()
    launch(broker, settings, interface(deps, settings, alerts, durable=f"ladder-{suffix}",
                                       notices_durable=f"notices-{suffix}", deadlines_durable=f"deadlines-{suffix}",
                                       circulations_durable=f"circulations-{suffix}"))

    @app.on_startup
    async def bind_alerts() -> None:
        await broker.connect()
        alerts.js = broker.connection.jetstream()

    return app


@pytest.fixture(scope="module")
def settings(ladder_log, directory, tmp_path_factory) -> Settings:
    path = tmp_path_factory.mktemp("g2-directory") / "organisations.json"
    path.write_text(directory.model_dump_json(), encoding="utf-8")
    return Settings(nats_url=ladder_log.url, directory_path=path, log_level="WARNING")


@pytest.fixture(scope="module")
async def service(settings):
    app = started(settings, "live")
    await app.start()
    yield
    await app.stop()


async def detected(store, unit: str, day: date):
    """A violation appended as the compliance detector appends it, on ``day`` (business time)."""
    evidence = uuid.uuid4().hex
    found = ViolationDetected(
        violation_id=violation_id(RULE, unit, evidence), rule=RULE, clause="S3", responsible_org_id=unit,
        school_id=None, semester="2025-autumn", issue_key=f"{unit}:{RULE.value}",
        summary=f"{unit}未经认定开展进校园活动。", evidence={"report_event_id": evidence})
    context = CommandContext(SYSTEM_ACTOR, found.violation_id, str(uuid.uuid4()), POLICY.version,
                             datetime(day.year, day.month, day.day, 4, tzinfo=UTC))
    return await store.append_once(context.event(found, found.violation_id))


async def steps(store, unit: str, count: int, timeout: float = 15.0) -> list:
    """The escalation's events once it holds ``count`` of them (the app works asynchronously)."""
    aggregate = escalation_id(unit, f"{unit}:{RULE.value}")
    deadline = time.monotonic() + timeout
    while True:
        events = [e.envelope for e in (await store.load("escalation", aggregate)).events]
        if len(events) >= count or time.monotonic() > deadline:
            return events
        await asyncio.sleep(0.05)


async def alerts_on(js, subject: str, expected: int | None = None, timeout: float = 15.0) -> int:
    """Alerts stored under ``subject``; with ``expected``, once that many are (sent asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        info = await js.stream_info(ALERT_STREAM, subjects_filter=subject)
        count = sum((info.state.subjects or {}).values())
        if expected is None or count >= expected or time.monotonic() > deadline:
            return count
        await asyncio.sleep(0.05)


async def command(nc, org: str, name: str, body: dict, person: str | None = None) -> dict:
    body = {"command_id": str(uuid.uuid4()), **body}
    headers = {"Jf-Person": person} if person else None
    reply = await nc.request(f"jf.cmd.{org}.notifications.{name}", json.dumps(body, ensure_ascii=False).encode(),
                             timeout=10, headers=headers)
    return json.loads(reply.data)


async def proposed(ladder_log, unit: str) -> str:
    """Four violations within a year: a reminder, three warnings, an internal circulation proposal."""
    for day in WARNING_DAYS:
        await detected(ladder_log.store, unit, day)
    events = await steps(ladder_log.store, unit, 5)
    assert [e.event_type for e in events] == ["ReminderIssued", "WarningIssued", "WarningIssued", "WarningIssued",
                                              "CirculationProposed"]
    return events[-1].data["proposal_id"]


async def test_g2_violations_flow_to_a_reminder_three_warnings_a_proposal_and_their_alerts(ladder_log, service, units):
    unit = units[0]
    proposal = await proposed(ladder_log, unit)
    events = await steps(ladder_log.store, unit, 5)
    assert [e.data["warnings_in_window"] for e in events[1:4]] == [1, 2, 3]
    assert events[0].data["rectify_by"] == "2026-01-19" and events[0].data["issued_on"] == "2026-01-05"
    js = ladder_log.js
    assert await alerts_on(js, f"jf.alert.{unit}.reminder.>") == 1
    assert await alerts_on(js, f"jf.alert.{unit}.warning.>") == 3
    assert await alerts_on(js, f"jf.alert.{LEADERS}.circulation_proposed.{proposal}") == 1


async def test_g2_circulation_is_confirmed_by_the_leading_group_office_only_and_a_retry_answers_the_same(
    ladder_log, service, units, directory
):
    nc, unit = ladder_log.nc, units[1]
    proposal = await proposed(ladder_log, unit)
    refused = await command(nc, unit, "ConfirmCirculation", {"proposal_id": proposal})
    assert refused["error"]["code"] == "FORBIDDEN"
    unknown = await command(nc, LEADERS, "ConfirmCirculation", {"proposal_id": proposal[:-4] + "0000"})
    assert unknown["error"]["code"] == "NOT_FOUND"
    assert (await command(nc, LEADERS, "ConfirmCirculation", {"proposal_id": "no such"}))["error"]["code"] == "NOT_FOUND"

    body = {"command_id": str(uuid.uuid4()), "proposal_id": proposal, "note": "同意通报"}
    first = await command(nc, LEADERS, "ConfirmCirculation", body, person="王主任")
    again = await command(nc, LEADERS, "ConfirmCirculation", body, person="王主任")
    assert first["ok"] and {k: v for k, v in first.items() if k != "correlation_id"} == {
        k: v for k, v in again.items() if k != "correlation_id"}
    year = datetime.now(UTC).year
    assert first["document_number"] == f"大教减负通〔{year}〕{first['number']}号" and first["stage"] == 3
    confirmed = (await steps(ladder_log.store, unit, 6))[-1]
    assert (confirmed.event_type, confirmed.data["confirmed_by_person"]) == ("CirculationConfirmed", "王主任")
    later = await command(nc, LEADERS, "ConfirmCirculation", {"proposal_id": proposal})
    assert later["error"]["code"] == "INVALID_STATE"
    organisations = len(directory.organisations)
    assert await alerts_on(ladder_log.js, f"jf.alert.*.circulation.{proposal}", organisations) == organisations


async def test_g2_two_confirmations_at_once_never_share_a_number(ladder_log, service, units):
    proposals = [await proposed(ladder_log, unit) for unit in units[2:4]]
    replies = await asyncio.gather(*(command(ladder_log.nc, LEADERS, "ConfirmCirculation", {"proposal_id": p})
                                     for p in proposals))
    assert all(reply["ok"] for reply in replies)
    assert len({reply["number"] for reply in replies}) == 2
    assert len({reply["document_number"] for reply in replies}) == 2
    register = await ladder_log.store.load("circulation_register", str(replies[0]["year"]))
    numbers = [e.envelope.data["number"] for e in register.events]
    assert numbers == list(range(1, len(numbers) + 1))  # in order, no gap, none twice


async def test_g2_a_declined_proposal_is_settled_and_a_later_warning_proposes_again(ladder_log, service, units):
    nc, unit = ladder_log.nc, units[4]
    proposal = await proposed(ladder_log, unit)
    declined = await command(nc, LEADERS, "DeclineCirculation", {"proposal_id": proposal, "reason": "先行约谈整改"})
    assert declined["decision"] == "declined"
    again = await command(nc, LEADERS, "DeclineCirculation", {"proposal_id": proposal, "reason": "先行约谈整改"})
    assert again["error"]["code"] == "INVALID_STATE"
    await detected(ladder_log.store, unit, date(2026, 4, 20))
    events = await steps(ladder_log.store, unit, 8)
    assert [e.event_type for e in events[-2:]] == ["WarningIssued", "CirculationProposed"]
    assert events[-1].data["proposal_id"] != proposal


async def test_g2_rectification_is_reported_by_the_unit_and_verified_by_the_issuer_closing_the_case(
    ladder_log, service, units
):
    nc, unit = ladder_log.nc, units[5]
    await detected(ladder_log.store, unit, date(2026, 5, 6))
    await steps(ladder_log.store, unit, 1)
    escalation = escalation_id(unit, f"{unit}:{RULE.value}")
    text = "已停止未经认定的进校园活动，并建立审批台账。"
    assert (await command(nc, units[6], "ReportRectification", {"escalation_id": escalation, "report": text})
            )["error"]["code"] == "NOT_FOUND"  # another's case answers as none: which units have one is not told
    assert (await command(nc, unit, "ReportRectification", {"escalation_id": "esc-" + "0" * 32, "report": text})
            )["error"]["code"] == "NOT_FOUND"
    first = await command(nc, unit, "ReportRectification", {"escalation_id": escalation, "report": text})
    review = {"escalation_id": escalation, "report_id": first["report_id"]}
    assert (await command(nc, units[6], "VerifyRectification", review))["error"]["code"] == "FORBIDDEN"  # wrong kind
    assert (await command(nc, BUREAU, "VerifyRectification", review))["error"]["code"] == "FORBIDDEN"  # wrong issuer
    assert (await command(nc, OFFICE, "VerifyRectification", {**review, "report_id": "rect-unknown"})
            )["error"]["code"] == "NOT_FOUND"
    assert (await command(nc, OFFICE, "RejectRectification", {**review, "reason": "整改材料不全"}))["decision"] == "rejected"
    assert (await command(nc, OFFICE, "VerifyRectification", review))["error"]["code"] == "INVALID_STATE"
    second = await command(nc, unit, "ReportRectification", {"escalation_id": escalation, "report": text + "补充材料。"})
    verified = await command(nc, OFFICE, "VerifyRectification", {**review, "report_id": second["report_id"]})
    deadline = WorkingCalendar.of(POLICY.working_days).add_working_days(date(2026, 5, 6), 10)  # 9 May is 调休
    assert (verified["decision"], verified["closed_deadline"]) == ("verified", deadline.isoformat())
    closed = await command(nc, unit, "ReportRectification", {"escalation_id": escalation, "report": text})
    assert closed["error"]["code"] == "INVALID_STATE"


async def missed(store, unit: str, step) -> None:
    """What the compliance sweep appends on the DayEnded of the step's deadline."""
    data = RectificationDeadlineMissed(
        deadline_id=f"dl-{uuid.uuid4().hex[:12]}", escalation_id=step.aggregate_id, responsible_org_id=unit,
        step_event_id=step.event_id, rectify_by=date.fromisoformat(step.data["rectify_by"]))
    end = date.fromisoformat(step.data["rectify_by"])
    context = CommandContext(SYSTEM_ACTOR, data.deadline_id, str(uuid.uuid4()), POLICY.version,
                             datetime(end.year, end.month, end.day, 16, tzinfo=UTC))
    await store.append_once(context.event(data, data.deadline_id))


async def test_g2_a_missed_deadline_escalates_to_a_warning_and_a_stale_one_does_nothing(ladder_log, service, units):
    unit = units[7]
    await detected(ladder_log.store, unit, date(2026, 6, 1))
    [reminder] = await steps(ladder_log.store, unit, 1)
    await missed(ladder_log.store, unit, reminder)
    events = await steps(ladder_log.store, unit, 2)
    assert (events[-1].event_type, events[-1].data["trigger"], events[-1].data["missed_deadline"]) == (
        "WarningIssued", "deadline_missed", reminder.data["rectify_by"])
    await missed(ladder_log.store, unit, reminder)  # stale: the warning's deadline replaced it
    await missed(ladder_log.store, unit, events[-1])  # current: a second warning, behind the stale one in the log
    events = await steps(ladder_log.store, unit, 3)
    assert [e.event_type for e in events] == ["ReminderIssued", "WarningIssued", "WarningIssued"]
    assert await alerts_on(ladder_log.js, f"jf.alert.{unit}.warning.>") == 2


async def test_g2_a_replay_through_new_durables_appends_and_sends_nothing_new(ladder_log, service, settings, units,
                                                                             directory):
    js, unit = ladder_log.js, units[8]
    proposal = await proposed(ladder_log, unit)  # this test's own steps, proposal and circulation to replay
    assert (await command(ladder_log.nc, LEADERS, "ConfirmCirculation", {"proposal_id": proposal}))["ok"]
    organisations = len(directory.organisations)
    assert await alerts_on(js, f"jf.alert.*.circulation.{proposal}", organisations) == organisations
    before_events = (await js.stream_info("JIANFU_EVENTS")).state.messages
    before_alerts = (await js.stream_info(ALERT_STREAM)).state.messages
    suffix = uuid.uuid4().hex[:8]
    app = started(settings, suffix)
    await app.start()
    try:
        last = (await js.stream_info("JIANFU_EVENTS")).state.last_seq
        for durable in (f"ladder-{suffix}", f"deadlines-{suffix}", f"circulations-{suffix}"):
            deadline = time.monotonic() + 30
            while True:
                info = await js.consumer_info("JIANFU_EVENTS", durable)
                if info.num_pending == 0 and info.num_ack_pending == 0 and info.delivered.stream_seq <= last:
                    break
                assert time.monotonic() < deadline, f"{durable} did not catch up"
                await asyncio.sleep(0.05)
    finally:
        await app.stop()
    assert (await js.stream_info("JIANFU_EVENTS")).state.messages == before_events
    assert (await js.stream_info(ALERT_STREAM)).state.messages == before_alerts


async def raw(nc, subject: str, payload: bytes) -> dict:
    return json.loads((await nc.request(subject, payload, timeout=10)).data)


@pytest.mark.parametrize(("org", "name", "payload", "code"), [
    ("no-such-org", "ConfirmCirculation", b'{"command_id": "c1", "proposal_id": "p"}', "UNKNOWN_ORG"),
    (LEADERS, "ConfirmCirculation", b'{"command_id": "', "MALFORMED_JSON"),
    (LEADERS, "ConfirmCirculation", json.dumps({"command_id": str(uuid.uuid4()), "proposal_id": "p" * 81}).encode(),
     "INVALID_FIELD"),
    (LEADERS, "DeclineCirculation", json.dumps({"command_id": str(uuid.uuid4()), "proposal_id": "p",
                                                "reason": "x" * 5000}).encode(), "INVALID_FIELD"),
    (LEADERS, "ConfirmCirculation", json.dumps({"command_id": str(uuid.uuid4()), "proposal_id": "p",
                                                "extra": [1] * 1000}).encode(), "INVALID_FIELD"),
    (OFFICE, "VerifyRectification", json.dumps({"command_id": str(uuid.uuid4()), "escalation_id": "esc-.>*",
                                                "report_id": "r"}).encode(), "NOT_FOUND"),
    (OFFICE, "CloseEverything", b"{}", "UNKNOWN_COMMAND"),
])
async def test_g2_hostile_commands_get_a_structured_refusal(ladder_log, service, org, name, payload, code):
    reply = await raw(ladder_log.nc, f"jf.cmd.{org}.notifications.{name}", payload)
    assert reply["ok"] is False and reply["error"]["code"] == code
