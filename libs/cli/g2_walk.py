"""G2 in the demo, walked after the teachers' year: one unit taken up the ladder to a confirmed
internal circulation (通报批评), and another unit's case closed by a verified rectification.

The violations are S2's: a data request giving schools less than the policy's working days
(``ExcessivelyShortDeadline``, charged to the requester). ``PLAN`` says what happens when:

- the circulated unit (区司法局) asks for data on too short a deadline → a reminder (stage 1);
- the next day again → a warning (stage 2, a repeat within 12 months);
- it lets the warning's rectification deadline (10 working days) pass: the compliance scheduler
  ends the day, the sweep decides the deadline missed → a second warning;
- once more → the third warning in 12 months, and an internal circulation proposed (stage 3);
- a person of the leading group office confirms it (``ConfirmCirculation``, ``Jf-Person``): it
  gets the year's number and its document (HTML and PDF, object store ``JIANFU_DOCUMENTS``);
- the rectified unit (区人民法院) is reminded once, reports its rectification and the supervision
  office verifies it: its case closes.

``walk_g2`` drives a running system only through commands and the clock file, as an integrating
system would; ``save_documents`` fetches the document by number as any organisation may.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from jianfu.cli.circulation import DocumentMissing, fetch
from jianfu.cli.client import JianfuClient
from jianfu.cli.teachers_year import settled
from jianfu.events.settings import BUSINESS_ZONE, Settings

SUPERVISION, CONFIRMER = "supervision-office", "leading-group-office"
CIRCULATED, RECTIFIED = "dept-justice", "dept-court"  # charged nowhere else in the demo
NAMES = {CIRCULATED: "区司法局", RECTIFIED: "区人民法院"}  # as the directory names them
RULE = "ExcessivelyShortDeadline"
CONFIRMING_PERSON = "王主任（区委教育工作领导小组办公室）"
SCHOOLS = ["school-dwk-primary-1", "school-dwk-middle-1"]


@dataclass(frozen=True)
class Step:
    """One thing the walk does: on ``day`` (None: the day after the deadline it waits for),
    ``unit`` does ``action``."""

    day: date | None
    unit: str
    action: str  # short_request | report | verify | miss_deadline | confirm
    expect: str  # what the ladder does (for the reader of the plan and its test)
    field: str = ""  # a short request's one data field, asked once only (no S2 duplicate besides)


PLAN = [
    Step(date(2027, 7, 21), CIRCULATED, "short_request", "reminder", "法治宣传活动场次"),
    Step(date(2027, 7, 21), RECTIFIED, "short_request", "reminder", "模拟法庭开展次数"),
    Step(date(2027, 7, 22), RECTIFIED, "report", "rectification reported"),
    Step(date(2027, 7, 22), SUPERVISION, "verify", "case closed"),
    Step(date(2027, 7, 22), CIRCULATED, "short_request", "warning (repeat)", "普法课时数"),
    Step(None, CIRCULATED, "miss_deadline", "warning (deadline missed)"),
    Step(None, CIRCULATED, "short_request", "warning (repeat) + circulation proposed", "法治副校长到校次数"),
    Step(None, CONFIRMER, "confirm", "circulation confirmed, numbered"),
]


@dataclass
class G2Walk:
    """What the walk did, for the test and the printed summary."""

    escalations: dict[str, str] = field(default_factory=dict)  # unit -> escalation_id
    steps: list[dict[str, Any]] = field(default_factory=list)  # the circulated unit's, from GetCaseHistory
    rectified_case: dict[str, Any] = field(default_factory=dict)
    confirmation: dict[str, Any] = field(default_factory=dict)
    documents: dict[str, str] = field(default_factory=dict)  # kind -> path

    @property
    def document_number(self) -> str:
        return self.confirmation.get("document_number", "")


def short_request(day: date, data_field: str) -> dict[str, Any]:
    """A data request due at noon the next day (Asia/Shanghai): less than S2's working days."""
    deadline = datetime.combine(day + timedelta(days=1), time(12), tzinfo=BUSINESS_ZONE)
    return {"command_id": str(uuid.uuid4()), "title": f"{data_field}统计", "fields": [data_field],
            "school_ids": SCHOOLS, "deadline": deadline.isoformat()}


async def _ok(reply_awaitable) -> dict[str, Any]:
    reply = await reply_awaitable
    if not reply.get("ok"):
        raise RuntimeError(f"demo command refused: {reply}")
    return reply


async def _case(client: JianfuClient, unit: str, until: Callable[[dict[str, Any]], bool],
                timeout: float = 60.0) -> dict[str, Any]:
    """The unit's case of ``RULE`` once ``until`` holds of it (the ladder and the projector follow)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        reply = await client.query(SUPERVISION, "compliance", "GetCases", {"responsible_org_id": unit})
        found = [c for c in reply.get("cases", []) if c["rule"] == RULE]
        if found and until(found[0]):
            return found[0]
        if loop.time() > deadline:
            raise TimeoutError(f"{unit}'s case did not get there in {timeout}s: {found}")
        await asyncio.sleep(0.25)


async def _pending_proposal(client: JianfuClient, escalation_id: str, year: int, timeout: float = 60.0) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        cursor, found = None, []
        while True:
            reply = await _ok(client.query(CONFIRMER, "compliance", "GetCirculations",
                                           {"year": year, **({"cursor": cursor} if cursor else {})}))
            found += [c for c in reply["circulations"] if c["escalation_id"] == escalation_id
                      and c["status"] == "proposed"]
            cursor = reply.get("next_cursor")
            if not cursor:
                break
        if found:
            return found[-1]["proposal_id"]
        if loop.time() > deadline:
            raise TimeoutError(f"no circulation proposed for {escalation_id} in {timeout}s")
        await asyncio.sleep(0.25)


async def case_history(client: JianfuClient, escalation_id: str, reader: str = SUPERVISION) -> list[dict[str, Any]]:
    """Every event of the escalation, in log order (all pages)."""
    events, cursor = [], None
    while True:
        reply = await _ok(client.query(reader, "compliance", "GetCaseHistory",
                                       {"escalation_id": escalation_id, **({"cursor": cursor} if cursor else {})}))
        events += reply["events"]
        cursor = reply.get("next_cursor")
        if not cursor:
            return events


def ladder_steps(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The history as a reader follows it: what happened, on which day."""
    def day(event: dict[str, Any]) -> str:
        data = event["data"]
        return str(data.get("issued_on") or data.get("proposed_on") or data.get("confirmed_on")
                   or data.get("declined_on") or data.get("missed_on") or data.get("rectify_by")
                   or datetime.fromisoformat(event["occurred_at"]).astimezone(BUSINESS_ZONE).date())
    return [{"event": e["event_type"], "day": day(e), "stage": e["stage"],
             **({"trigger": e["data"]["trigger"]} if "trigger" in e["data"] else {}),
             **({"rectify_by": e["data"]["rectify_by"]} if e["data"].get("rectify_by") else {})} for e in events]


async def walk_g2(client: JianfuClient, set_today: Callable[[date], None]) -> G2Walk:
    """``PLAN``, only through commands and the clock file (see the module)."""
    walk = G2Walk()
    today = None
    for step in PLAN:
        if step.day is not None and step.day != today:
            today = step.day
            set_today(today)
        if step.action == "short_request":
            await _ok(client.command(step.unit, "requests", "IssueDataRequest", short_request(today, step.field)))
            count = sum(1 for s in PLAN[:PLAN.index(step) + 1] if s.unit == step.unit and s.action == step.action)
            case = await _case(client, step.unit,  # the step too: a report needs the case open
                               lambda c, n=count: c["violations"] >= n and c["open"] and c["rectify_by"] is not None)
            walk.escalations[step.unit] = case["escalation_id"]
        elif step.action == "report":
            walk.rectified_case["report"] = await _ok(client.command(step.unit, "notifications", "ReportRectification", {
                "command_id": str(uuid.uuid4()), "escalation_id": walk.escalations[step.unit],
                "report": "已撤回该通知，重新下发并给予学校不少于5个工作日的报送时间，今后统一经教育部门汇总。"}))
        elif step.action == "verify":
            report = walk.rectified_case["report"]
            walk.rectified_case["verdict"] = await _ok(client.command(step.unit, "notifications", "VerifyRectification", {
                "command_id": str(uuid.uuid4()), "escalation_id": report["escalation_id"],
                "report_id": report["report_id"], "note": "经核实，已整改到位。"}))
            walk.rectified_case["case"] = await _case(client, RECTIFIED, lambda c: not c["open"])
        elif step.action == "miss_deadline":
            case = await _case(client, step.unit, lambda c: c["stage"] >= 2 and c["rectify_by"] is not None)
            deadline = date.fromisoformat(str(case["rectify_by"])[:10])
            today = deadline + timedelta(days=1)
            set_today(today)  # the scheduler ends the deadline's day; the sweep finds it missed
            await settled(client, deadline)
            await _case(client, step.unit, lambda c, n=case["deadlines_missed"] + 1: c["deadlines_missed"] >= n)
        elif step.action == "confirm":
            escalation_id = walk.escalations[CIRCULATED]
            proposal_id = await _pending_proposal(client, escalation_id, today.year)
            today = today + timedelta(days=1)
            set_today(today)
            walk.confirmation = await _ok(client.command(CONFIRMER, "notifications", "ConfirmCirculation", {
                "command_id": str(uuid.uuid4()), "proposal_id": proposal_id, "note": "同意通报批评。"},
                person=CONFIRMING_PERSON))
            await _case(client, CIRCULATED, lambda c: c["stage"] >= 3)
    walk.steps = ladder_steps(await case_history(client, walk.escalations[CIRCULATED]))
    return walk


async def save_documents(settings: Settings, number: str, folder: Path, timeout: float = 60.0) -> dict[str, str]:
    """The document's HTML and PDF fetched by number (as the organisation ``settings`` logs in as)
    once notifications has stored them, written into ``folder``: kind -> path."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            found = await fetch(settings, number, ("html", "pdf"))
            break
        except DocumentMissing:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.5)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for kind, content in found.items():
        path = folder / f"{number}.{kind}"
        path.write_bytes(content)
        written[kind] = str(path)
    return written


def summary(walk: G2Walk) -> dict[str, Any]:
    """What the walk did, for the demo's printout."""
    return {"ok": True, "clause": "G2", "unit": CIRCULATED, "rule": RULE,
            "escalation_id": walk.escalations.get(CIRCULATED), "steps": walk.steps,
            "document_number": walk.document_number, "confirmed_by_person": CONFIRMING_PERSON,
            "documents": walk.documents,
            "rectified": {"unit": RECTIFIED, "escalation_id": walk.escalations.get(RECTIFIED),
                          "open": walk.rectified_case.get("case", {}).get("open"),
                          "report_id": walk.rectified_case.get("report", {}).get("report_id")}}


STEP_WORDS = {"ViolationDetected": "violation", "ReminderIssued": "reminder (stage 1)",
              "WarningIssued": "warning (stage 2)", "RectificationDeadlineMissed": "rectification deadline missed",
              "CirculationProposed": "internal circulation proposed", "CirculationNumberAssigned": "number assigned",
              "CirculationConfirmed": "internal circulation confirmed (stage 3)",
              "CirculationDeclined": "circulation declined", "RectificationReported": "rectification reported",
              "RectificationVerified": "rectification verified, case closed"}


def report_lines(walk: G2Walk) -> list[str]:
    """The demo's short printout: the unit, its steps with dates, the number, the two paths, and
    the other unit's closed case."""
    lines = [f"demo: G2: {CIRCULATED} {NAMES[CIRCULATED]} ({RULE}) up the ladder to an internal circulation (通报批评):"]
    for step in walk.steps:
        extra = "".join(f", {key} {step[key]}" for key in ("trigger", "rectify_by") if key in step)
        lines.append(f"demo: G2:   {step['day']}  {STEP_WORDS.get(step['event'], step['event'])}{extra}")
    lines.append(f"demo: G2: document {walk.document_number}, confirmed by {CONFIRMING_PERSON}")
    lines += [f"demo: G2:   {kind.upper()}: {path}" for kind, path in sorted(walk.documents.items())]
    case = walk.rectified_case.get("case", {})
    lines.append(f"demo: G2: {RECTIFIED} {NAMES[RECTIFIED]} reminded, reported its rectification, the supervision office verified it: "
                 f"case {'open' if case.get('open') else 'closed'}")
    return lines
