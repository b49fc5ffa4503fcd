"""End to end, G2: the four services as separate processes take one unit up the ladder over a year
and more, only through commands and the clock file (the compliance scheduler ends the days).

区住建局 (dept-housing) asks schools for data on too short a deadline (S2, ExcessivelyShortDeadline):

- March 2026: a reminder, then a warning (a repeat); it reports its rectification, the supervision
  office verifies it and the case closes.
- March 2027, more than 12 months on: a new case opens with a reminder (the old violations no longer
  repeat), a repeat's warning counts alone (the 2026 warning has fallen out of the window), its
  deadline passes: on that day's ``DayEnded`` the sweep decides it missed and a second warning
  follows, still no proposal; a third warning proposes an internal circulation, which the leading
  group office declines; the third warning's deadline passes too: a fourth warning proposes again,
  and a person of the office confirms it, numbered 大教减负通〔2027〕1号.
- The document is fetched by its number (HTML and PDF, the unit's name and the clause in the PDF's
  text); the case's history holds every event that led to it; a rebuild of the read model equals
  the live one and appends nothing to the log and sends no alert.
"""

from __future__ import annotations

import asyncio
import io
import uuid
from datetime import date, timedelta

import pytest
from jianfu.cli.g2_walk import case_history, save_documents, short_request
from jianfu.compliance.database import make_engine
from jianfu.compliance.rebuild import rebuild_read_model
from jianfu.events.provisioning import ALERT_STREAM
from jianfu.events.settings import Settings
from pypdf import PdfReader

from tests.e2e.fleet import running_system
from tests.e2e.test_semester_walk import eventually
from tests.factories import DIRECTORY

pytestmark = pytest.mark.e2e

UNIT, UNIT_NAME, RULE = "dept-housing", "区住建局", "ExcessivelyShortDeadline"
SUPERVISION, CONFIRMER, PERSON = "supervision-office", "leading-group-office", "张主任"
NUMBER = "大教减负通〔2027〕1号"


async def _ok(reply_awaitable) -> dict:
    reply = await reply_awaitable
    assert reply.get("ok"), reply
    return reply


async def the_case(client, until, timeout: float = 60.0) -> dict:
    """The unit's case as GetCases shows it, once ``until`` holds of it."""
    async def probe():
        reply = await _ok(client.query(SUPERVISION, "compliance", "GetCases", {"responsible_org_id": UNIT}))
        found = [c for c in reply["cases"] if c["rule"] == RULE]
        return found[0] if found and until(found[0]) else None
    return await eventually(probe, timeout)


async def circulations(client, year: int) -> list[dict]:
    reply = await _ok(client.query(CONFIRMER, "compliance", "GetCirculations", {"year": year, "limit": 100}))
    return [c for c in reply["circulations"] if c["responsible_org_id"] == UNIT]


async def violate(client, day: date, data_field: str, violations: int, warnings: int) -> dict:
    """A request too short for S2 on ``day``; the case once its step (a reminder, or the warning
    that brings the count in the window to ``warnings``) is projected."""
    await _ok(client.command(UNIT, "requests", "IssueDataRequest", short_request(day, data_field)))
    return await the_case(client, lambda c: c["violations"] >= violations and c["open"] and c["rectify_by"]
                          and c["warnings_in_window"] >= warnings and c["stage"] >= (2 if warnings else 1))


async def miss_deadline(system, client, missed: int, warnings: int) -> dict:
    """Move the clock past the case's current deadline: the scheduler ends that day, the sweep
    decides the deadline missed, the ladder takes the next step."""
    from jianfu.cli.teachers_year import settled

    case = await the_case(client, lambda c: c["rectify_by"] is not None)
    deadline = date.fromisoformat(str(case["rectify_by"])[:10])
    system.set_today()(deadline + timedelta(days=1))
    await settled(client, deadline)
    return await the_case(client, lambda c: c["deadlines_missed"] >= missed and c["warnings_in_window"] >= warnings)


async def stream_counts(nc) -> tuple[int, int]:
    js = nc.jetstream()
    events = await js.stream_info(Settings().stream)
    alerts = await js.stream_info(ALERT_STREAM)
    return events.state.last_seq, alerts.state.messages


@pytest.fixture(scope="module")
async def walked(tmp_path_factory):
    folder = tmp_path_factory.mktemp("e2e-g2")
    async with running_system(folder, "2026-03-02", "e2e_g2") as system:
        client, move, seen = system.client, system.set_today(), {}

        # 2026: a reminder, a repeat's warning, the rectification verified: the first case closes.
        await violate(client, date(2026, 3, 2), "住房安全排查表", 1, 0)
        move(date(2026, 3, 4))
        seen["2026 warned"] = await violate(client, date(2026, 3, 4), "校舍面积台账", 2, 1)
        report = await _ok(client.command(UNIT, "notifications", "ReportRectification", {
            "command_id": str(uuid.uuid4()), "escalation_id": seen["2026 warned"]["escalation_id"],
            "report": "已撤回通知并重新下发，给予学校不少于5个工作日。"}))
        await _ok(client.command(SUPERVISION, "notifications", "VerifyRectification", {
            "command_id": str(uuid.uuid4()), "escalation_id": report["escalation_id"],
            "report_id": report["report_id"], "note": "已整改到位。"}))
        seen["2026 closed"] = await the_case(client, lambda c: not c["open"])

        # 2027, more than 12 months on: a new case.
        move(date(2027, 3, 9))
        seen["2027 reminded"] = await violate(client, date(2027, 3, 9), "保障性住房入住学生数", 3, 0)
        move(date(2027, 3, 10))
        seen["2027 warned"] = await violate(client, date(2027, 3, 10), "学生家庭住址", 4, 1)
        seen["missed once"] = await miss_deadline(system, client, 1, 2)
        seen["proposals after missed once"] = await circulations(client, 2027)
        today = date.fromisoformat(system.clock.read_text().strip())  # the day after the missed deadline
        seen["third warning"] = await violate(client, today, "物业服务学校数", 5, 3)
        first = (await eventually(lambda: _first_proposal(client)))["proposal_id"]
        seen["declined"] = await _ok(client.command(CONFIRMER, "notifications", "DeclineCirculation", {
            "command_id": str(uuid.uuid4()), "proposal_id": first, "reason": "先由督查室约谈，暂不通报。"},
            person=PERSON))
        seen["missed twice"] = await miss_deadline(system, client, 2, 4)
        second = (await eventually(lambda: _pending(client, other_than=first)))["proposal_id"]
        seen["confirmed"] = await _ok(client.command(CONFIRMER, "notifications", "ConfirmCirculation", {
            "command_id": str(uuid.uuid4()), "proposal_id": second, "note": "同意通报批评。"}, person=PERSON))
        seen["circulated"] = await the_case(client, lambda c: c["stage"] == 3)
        url = system.nc.connected_url
        seen["documents"] = await save_documents(Settings(nats_url=f"nats://{url.hostname}:{url.port}"),
                                                 seen["confirmed"]["document_number"], folder / "circulations")
        seen["circulations"] = await circulations(client, 2027)
        seen["history"] = await case_history(client, seen["circulated"]["escalation_id"], reader=UNIT)
        yield {"system": system, "client": client, "seen": seen, "first": first, "second": second}


async def _first_proposal(client) -> dict | None:
    found = await circulations(client, 2027)
    return found[0] if found else None


async def _pending(client, other_than: str) -> dict | None:
    return next((c for c in await circulations(client, 2027)
                 if c["proposal_id"] != other_than and c["status"] == "proposed"), None)


async def test_g2_rectification_verified_closes_the_case_and_an_old_violation_no_longer_repeats(walked):
    seen = walked["seen"]
    assert seen["2026 warned"]["stage"] == 2 and seen["2026 warned"]["warnings_in_window"] == 1
    assert seen["2026 closed"]["open"] is False and seen["2026 closed"]["rectify_by"] is None
    reminded = seen["2027 reminded"]  # more than 12 months after the last violation: stage 1 again
    assert reminded["open"] is True and reminded["stage"] == 1 and reminded["cases"] == 2


async def test_g2_an_old_warning_no_longer_counts_and_a_missed_deadline_warns_without_a_proposal(walked):
    seen = walked["seen"]
    assert seen["2027 warned"]["warnings_in_window"] == 1  # the 2026 warning fell out of the window
    assert seen["missed once"]["warnings_in_window"] == 2 and seen["missed once"]["deadlines_missed"] == 1
    assert seen["proposals after missed once"] == []  # two warnings in 12 months: no circulation yet


async def test_g2_a_declined_proposal_and_a_later_one_confirmed_with_the_registers_number(walked):
    seen, first, second = walked["seen"], walked["first"], walked["second"]
    assert seen["third warning"]["warnings_in_window"] == 3
    assert seen["declined"]["decision"] == "declined"
    assert seen["confirmed"]["number"] == 1 and seen["confirmed"]["document_number"] == NUMBER
    by_id = {c["proposal_id"]: c for c in seen["circulations"]}
    assert set(by_id) == {first, second}
    assert by_id[first]["status"] == "declined" and by_id[first]["decided_by_person"] == PERSON
    assert by_id[first]["document_number"] is None
    assert by_id[second]["status"] == "confirmed" and by_id[second]["stage"] == 3
    assert by_id[second]["document_number"] == NUMBER and by_id[second]["decided_by_person"] == PERSON
    assert seen["circulated"]["warnings_in_window"] == 4 and seen["circulated"]["open"] is True


async def test_g2_circulation_alert_goes_to_every_organisation_once(walked):
    alerts, first, second = walked["system"].alerts, walked["first"], walked["second"]

    async def all_sent():
        sent = [s for s, _ in alerts if s.endswith(f".circulation.{second}")]
        return sent if len(sent) >= len(DIRECTORY.organisations) else None

    sent = await eventually(all_sent)
    assert sorted(s.split(".")[2] for s in sent) == sorted(o.org_id for o in DIRECTORY.organisations)
    assert not [s for s, _ in alerts if s.endswith(f".circulation.{first}")]  # declined: never circulated
    proposed = {s for s, _ in alerts if ".circulation_proposed." in s}
    assert proposed == {f"jf.alert.{CONFIRMER}.circulation_proposed.{p}" for p in (first, second)}


async def test_g2_the_document_is_fetched_by_number_as_html_and_pdf_naming_the_unit_and_the_clause(walked):
    documents = walked["seen"]["documents"]
    html = open(documents["html"], encoding="utf-8").read()
    assert NUMBER in html and UNIT_NAME in html and "S2" in html
    with open(documents["pdf"], "rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    text = "".join("".join(page.extract_text() for page in reader.pages).replace("\x00", "").split())
    assert UNIT_NAME in text and "S2" in text and NUMBER in text


async def test_g2_case_history_holds_every_event_that_led_to_the_circulation(walked):
    history = walked["seen"]["history"]
    steps = [(e["event_type"], e["data"].get("trigger")) for e in history]
    violation, warning = ("ViolationDetected", None), "WarningIssued"
    assert steps == [
        violation, ("ReminderIssued", None), violation, (warning, "repeat"),
        ("RectificationReported", None), ("RectificationVerified", None),
        violation, ("ReminderIssued", None), violation, (warning, "repeat"),
        ("RectificationDeadlineMissed", None), (warning, "deadline_missed"),
        violation, (warning, "repeat"), ("CirculationProposed", None), ("CirculationDeclined", None),
        ("RectificationDeadlineMissed", None), (warning, "deadline_missed"), ("CirculationProposed", None),
        ("CirculationNumberAssigned", None), ("CirculationConfirmed", None),
    ], steps
    for at, event in enumerate(history):  # each missed deadline is the current step's, and a warning follows it
        if event["event_type"] == "RectificationDeadlineMissed":
            step = next(e for e in reversed(history[:at]) if e["data"].get("rectify_by"))
            assert (event["data"]["step_event_id"], event["data"]["rectify_by"]) == (
                step["event_id"], step["data"]["rectify_by"])
            assert history[at + 1]["data"]["issued_on"] > event["data"]["rectify_by"]
    sequences = [e["sequence"] for e in history]
    assert sequences == sorted(sequences)
    assert all(e["data"]["evidence"]["working_days"] < 2 for e in history if e["event_type"] == "ViolationDetected")


async def test_g2_a_rebuild_after_all_of_it_sends_nothing_and_proposes_nothing_new(walked):
    """The rebuilt read model equals the live one, and the log and the alerts stream hold as many
    messages after the rebuild as before it."""
    system = walked["system"]
    from jianfu.cli.teachers_year import settled

    await settled(walked["client"], date.fromisoformat(system.clock.read_text().strip()) - timedelta(days=1))
    before = await stream_counts(system.nc)
    engine = make_engine(system.database_url)
    try:
        result = await rebuild_read_model(engine, system.store, switch=False)
    finally:
        await engine.dispose()
    assert result.matched is True, result
    await asyncio.sleep(1.0)  # anything a rebuild would wrongly cause would be stored by now
    assert await stream_counts(system.nc) == before
    assert len(await circulations(walked["client"], 2027)) == 2
