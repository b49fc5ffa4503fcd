"""A demo semester, built from real published campus-entry lists
(``reference/campus_entry_list_rows.csv``): the region's catalogue imported from those rows as
published, declarations in July, the certification round and the list in August, activities held
in October — some never certified, one exempt and checked against the catalogue, one whose claim
the catalogue does not bear out, one by a unit outside the directory — and the reminders that follow.

``walk_semester`` drives a running system only through commands, exactly as an integrating
system would; the end-to-end test walks the same semester and checks every outcome.
"""

from __future__ import annotations

import asyncio
import csv
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from jianfu.cli.catalogue import import_payload, read_rows
from jianfu.cli.client import JianfuClient
from jianfu.events.organisations import Directory
from jianfu.events.settings import REFERENCE

BUREAU = "edu-bureau"
SEMESTER = "2026-autumn"


@dataclass(frozen=True)
class Plan:
    """What happens to one row of the list in the demo."""

    row: int
    scope: str  # all | primary | middle
    outcome: str  # certify | exempt | a refusal code the bureau gives
    basis_level: str | None = None  # the round's priority where a school is full


PLANS = [
    Plan(0, "all", "certify", "national"),
    Plan(1, "all", "certify", "national"),
    Plan(2, "primary", "certify", "regional"),
    Plan(3, "all", "exempt"),
    Plan(4, "primary", "certify", "district"),  # the round fills primary schools' 4 places first: refused
    Plan(5, "middle", "certify", "city"),
    Plan(6, "middle", "certify", "district"),  # likewise at middle schools
    Plan(7, "all", "ALREADY_IN_CURRICULUM"),
    Plan(8, "primary", "DUPLICATES_HIGHER_LEVEL"),
    Plan(9, "all", "SCOPE_TOO_BROAD"),
]


@dataclass
class DemoSemester:
    """Ids of what the demo created, by title, for the test and the printed summary."""

    activities: dict[str, str] = field(default_factory=dict)
    decisions: dict[str, str] = field(default_factory=dict)
    reports: list[dict[str, Any]] = field(default_factory=list)
    published_edition: int = 0
    catalogue: dict[str, Any] = field(default_factory=dict)


CATALOGUE_TITLE = "自治区中小学进校园活动目录（演示：各地公开清单）"
OUTSIDER = "某某教育科技有限公司"  # a private firm, not in the district's directory


def template_rows() -> list[dict[str, str]]:
    with open(REFERENCE / "campus_entry_list_rows.csv", encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if row["source"] == "XX区模板"]


def organizer_id(organizers: str, directory: Directory) -> str:
    """The first organizer named in a list row that the district's directory knows."""
    by_name = {org.name: org.org_id for org in directory.organisations}
    for name in organizers.replace("，", "、").split("、"):
        if name.strip() in by_name:
            return by_name[name.strip()]
    raise LookupError(f"no organizer of {organizers!r} is in the directory")


def schools(scope: str, directory: Directory) -> dict[str, Any]:
    if scope == "all":
        return {"all_schools": True}
    return {"school_ids": [s for s in directory.school_ids if scope in s]}


def application(title: str, scope: dict, row: dict[str, str] | None = None, **overrides: Any) -> dict[str, Any]:
    row = row or {}
    form = {
        "command_id": str(uuid.uuid4()),
        "contact": {"name": "联络员", "phone": "0952-2010000"},
        "declaration_type": "regular",
        "target_semester": SEMESTER,
        "title": title,
        "policy_basis": row.get("basis") or "区委、区政府年度工作安排",
        "content": row.get("content") or title,
        "form": row.get("form") or "讲座",
        "scope": scope,
        "start_date": "2026-09-15",
        "end_date": "2026-12-31",
        "frequency": row.get("frequency") or "每学期1次",
        "occurrences": 1,
        "duration_minutes": 45,
        "expected_participants": 500,
        "teachers_needed": 1,
        "teacher_hours": 1.0,
        "budget": {"amount_yuan": 0, "free_of_charge": True, "commercial_content": False},
        "safety_plan": "学校安排场地，主办单位负责现场安全。",
    }
    form.update(overrides)
    return form


async def _ok(reply_awaitable) -> dict[str, Any]:
    reply = await reply_awaitable
    if not reply.get("ok"):
        raise RuntimeError(f"demo command refused: {reply}")
    return reply


async def _until_screened(client: JianfuClient, total: int, pending: int, timeout: float = 30.0) -> None:
    """Wait until the bureau's application list shows every automatic decision, as a person
    would look at the list before certifying."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        reply = await client.query(BUREAU, "compliance", "GetApplications", {"semester": SEMESTER})
        counts = reply.get("counts", {})
        if counts.get("total") == total and counts.get("by_status", {}).get("requested", 0) == pending:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"applications not screened in {timeout}s: {counts}")
        await asyncio.sleep(0.2)


async def _applications(client: JianfuClient) -> dict[str, dict[str, Any]]:
    """The semester's applications as the bureau's list shows them, by activity id."""
    found, cursor = {}, None
    while True:
        reply = await _ok(client.query(BUREAU, "compliance", "GetApplications",
                                       {"semester": SEMESTER, **({"cursor": cursor} if cursor else {})}))
        found |= {row["activity_id"]: row for row in reply["applications"]}
        cursor = reply.get("next_cursor")
        if not cursor:
            return found


def catalogue_import() -> dict[str, Any]:
    """The reference rows, every one as published, as the region's catalogue in force from 1 July."""
    rows, _ = read_rows(REFERENCE / "campus_entry_list_rows.csv")
    return import_payload(rows, CATALOGUE_TITLE, date(2026, 7, 1))


def held(organizer: str, title: str, activity_id: str | None = None, **extra: Any) -> dict[str, Any]:
    """A school's report of an entry on 20 October, by a directory unit (org id) or any unit (name)."""
    who = {"organizer_name": organizer} if organizer == OUTSIDER else {"organizer_org_id": organizer}
    return {"command_id": str(uuid.uuid4()), **who, "title": title, "held_on": "2026-10-20", "participants": 300,
            "teacher_hours": 1.0, **({"activity_id": activity_id} if activity_id else {}), **extra}


def regional(item: str) -> dict[str, Any]:
    return {"exemption_claim": {"category": "regional_catalogue", "reference": item}}


async def walk_semester(client: JianfuClient, directory: Directory, set_today: Callable[[date], None]) -> DemoSemester:
    demo = DemoSemester()
    rows = template_rows()

    set_today(date(2026, 7, 1))  # S3: the region's catalogue, whose items need no declaration
    demo.catalogue = await _ok(client.command(BUREAU, "approvals", "ImportRegionalCatalogue", catalogue_import()))

    set_today(date(2026, 7, 6))  # S3: July is the declaration window for the autumn semester
    for plan in PLANS:
        row = rows[plan.row]
        extra = {"basis_level": plan.basis_level}
        if plan.outcome == "exempt":
            extra["exemption_claim"] = {"category": "city_creation", "reference": "《全国文明城市创建工作方案》"}
        reply = await _ok(client.command(organizer_id(row["organizer"], directory), "requests", "RequestActivity",
                                         application(row["item_name"], schools(plan.scope, directory), row, **extra)))
        demo.activities[row["item_name"]] = reply["activity_id"]
    promo = await _ok(client.command("street-changsheng", "requests", "RequestActivity", application(
        "保险知识推介讲座", schools("middle", directory),
        budget={"amount_yuan": 2000, "free_of_charge": True, "commercial_content": True})))
    demo.activities["保险知识推介讲座"] = promo["activity_id"]

    set_today(date(2026, 8, 12))  # outside the window, not urgent: refused automatically
    late = await _ok(client.command("dept-culture-tourism", "requests", "RequestActivity",
                                    application("冰雪运动进校园", schools("primary", directory))))
    demo.activities["冰雪运动进校园"] = late["activity_id"]

    set_today(date(2026, 8, 20))  # 集中认定, once screening has refused and recorded what it can
    pending = sum(1 for plan in PLANS if plan.outcome != "exempt")
    await _until_screened(client, len(demo.activities), pending)
    rejections = [{"activity_id": demo.activities[rows[plan.row]["item_name"]], "refusal_code": plan.outcome,
                   "reason": "区教体局集中认定意见"} for plan in PLANS if plan.outcome not in ("certify", "exempt")]
    await _ok(client.command(BUREAU, "approvals", "DecideCertificationRound", {
        "command_id": str(uuid.uuid4()), "semester": SEMESTER, "rejections": rejections}))
    await _until_screened(client, len(demo.activities), 0)
    decided = await _applications(client)
    for plan in PLANS:
        title = rows[plan.row]["item_name"]
        if plan.outcome != "exempt":
            application_row = decided[demo.activities[title]]
            demo.decisions[title] = application_row["refusal_code"] or application_row["status"]
    published = await _ok(client.command(BUREAU, "approvals", "PublishSemesterList",
                                         {"command_id": str(uuid.uuid4()), "semester": SEMESTER}))
    demo.published_edition = published["edition"]

    set_today(date(2026, 10, 21))  # schools report what came onto their campus
    legal, vision, culture = rows[0]["item_name"], rows[4]["item_name"], rows[5]["item_name"]
    reports = [
        ("school-dwk-primary-1", held("dept-public-security", legal, demo.activities[legal])),
        ("school-dwk-middle-1", held("dept-publicity", culture, demo.activities[culture])),
        ("school-dwk-primary-2", held("dept-health", vision, demo.activities[vision])),
        ("school-dwk-middle-2", held("street-changsheng", "保险知识推介讲座")),
        ("school-changsheng-primary", held("dept-culture-tourism", "冰雪运动进校园")),
        ("school-changsheng-primary", held("dept-culture-tourism", "冰雪运动进校园")),  # reported twice
        # Exempt, never declared: the catalogue holds the item and names the unit, so it is recorded ...
        ("school-dwk-middle-2", held("dept-housing", "垃圾分类主题班会", **regional("垃圾分类进校园"))),
        # ... this claim it does not bear out: no such item in the catalogue.
        ("school-dwk-primary-3", held("dept-fire", "消防器材推广", **regional("消防器材推广进校园"))),
        ("school-dwk-primary-3", held(OUTSIDER, "升学规划讲座")),  # a firm outside the directory
    ]
    for school, body in reports:
        reply = await _ok(client.command(school, "requests", "RecordActivityHeld", body))
        organizer = body.get("organizer_org_id") or body["organizer_name"]
        demo.reports.append({"school": school, "organizer": organizer, "title": body["title"], **reply})
    return demo
