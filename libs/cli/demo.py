"""A demo semester, built from real published campus-entry lists
(``reference/campus_entry_list_rows.csv``): the region's catalogue imported from those rows as
published, declarations in July, the certification round and the list in August, activities held
in October — some never certified, one exempt and checked against the catalogue, one whose claim
the catalogue does not bear out, one by a unit outside the directory — and the reminders that follow.

``walk_semester`` drives a running system only through commands, exactly as an integrating
system would; the end-to-end test walks the same semester and checks every outcome.

``walk_inspection_year`` then walks the 2026 inspection year (S1/S2) the same way, from October on:
items proposed, filed, approved, refused and merged, the checklist published, visits in December
and data requests in November, each violation rule met once (tests/e2e/test_inspection_year.py).

Then ``jianfu.cli.teachers_year.walk_teachers_year`` walks a year of teachers' time (S7–S10) in
2027 with the district's generated teachers (``jianfu.cli.roster``), moving the clock so that the
compliance scheduler ends each day (tests/e2e/test_teachers_time_year.py). Last,
``jianfu.cli.g2_walk.walk_g2`` takes one unit up G2's ladder to a confirmed internal circulation
and closes another unit's case by a verified rectification (tests/e2e/test_g2_escalation.py walks
the ladder at length).
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


# S1/S2: an inspection year, walked after the semester (its clock moves on from October 2026).

YEAR = 2026
SUPERVISION = "supervision-office"
S1S2_RULES = ("UnplannedInspection", "UnauthorizedInspectionSetter", "DisguisedInspection",
              "InspectionOverFrequency", "DuplicateDataRequest", "ExcessivelyShortDeadline")
SHANGHAI = "+08:00"


@dataclass
class DemoYear:
    """Ids of what the inspection year created, by a short name, for the test and the summary."""

    items: dict[str, str] = field(default_factory=dict)
    merged_item_id: str = ""
    checklist: dict[str, Any] = field(default_factory=dict)
    visits: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: dict[str, dict[str, Any]] = field(default_factory=dict)
    replies: dict[str, dict[str, Any]] = field(default_factory=dict)  # e.g. "approve:health", "report:health:dept-health"


def inspection_item(title: str, category: str, months: list[int], frequency: int = 1, **extra: Any) -> dict[str, Any]:
    """A proposal for the demo year, aimed at every school unless ``extra`` says otherwise."""
    return {"command_id": str(uuid.uuid4()), "year": YEAR, "title": title, "category": category,
            "policy_basis": "《中小学教师减负清单》及本单位年度工作要点", "target": {"all_schools": True},
            "method": "实地检查、查阅资料", "indicators": 10, "frequency_per_year": frequency,
            "planned_months": months, **extra}


# name: (lead unit, form); proposed on 22 October, 30+ days before December, so none is late
PROPOSALS = {
    "safety": ("edu-bureau", inspection_item("校园安全专项督查", "supervision", [12])),
    "after_school": ("edu-bureau", inspection_item("课后服务工作督查", "supervision", [12])),
    "health": ("dept-health", inspection_item("学校卫生与传染病防控检查", "inspection", [12],
                                              data_fields=["在校学生数", "近视率"])),
    "fire": ("dept-fire", inspection_item("校园消防安全检查", "inspection", [12])),
    "contest": ("dept-fire", inspection_item("消防知识竞赛评比", "appraisal", [12])),
}


def visit(day: str, label: str, *, graded: bool = False, grading: str = "", item_id: str | None = None,
          **side: str) -> dict[str, Any]:
    """A visit report: ``side`` is ``visiting_org_id`` (the school reports) or ``school_id`` (the unit)."""
    return {"command_id": str(uuid.uuid4()), "visited_on": day, "label": label, "graded": graded,
            "grading": grading, **({"item_id": item_id} if item_id else {}), **side}


def data_request(title: str, fields: list[str], school_ids: list[str], deadline: str) -> dict[str, Any]:
    return {"command_id": str(uuid.uuid4()), "title": title, "fields": fields, "school_ids": school_ids,
            "deadline": deadline}


async def _until_items(client: JianfuClient, by_status: dict[str, int], timeout: float = 30.0) -> None:
    """Wait until the year's items show these statuses (screening files the bureau's own items)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        reply = await client.query(SUPERVISION, "compliance", "GetInspectionItems", {"year": YEAR})
        found = reply.get("counts", {}).get("by_status", {})
        if all(found.get(status) == count for status, count in by_status.items()):
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"inspection items not screened in {timeout}s: {found}")
        await asyncio.sleep(0.2)


async def walk_inspection_year(client: JianfuClient, directory: Directory,
                               set_today: Callable[[date], None]) -> DemoYear:
    """S1/S2 for 2026, only through commands, as an integrating system would: proposals from three
    units (the education bureau's two, filed; dept-health's and one of dept-fire's, approved by
    the supervision office; dept-fire's other, refused), the bureau's merger of its safety item with
    dept-fire's, the checklist, visits planned and not (one reported by the school and the unit),
    and data requests (one repeating a field, one issued on a Thursday due Friday 17:00)."""
    year = DemoYear()
    set_today(date(2026, 10, 22))  # S1: items for December, proposed 30+ days before it
    for name, (unit, form) in PROPOSALS.items():
        reply = await _ok(client.command(unit, "requests", "ProposeInspectionItem", form))
        year.items[name] = reply["item_id"]
        year.replies[f"propose:{name}"] = reply
    await _until_items(client, {"filed": 2, "proposed": 3})

    set_today(date(2026, 10, 26))  # S1: the supervision office decides the other units' items
    for name in ("health", "fire"):
        year.replies[f"approve:{name}"] = await _ok(client.command(
            SUPERVISION, "approvals", "ApproveInspectionItem", {"command_id": str(uuid.uuid4()), "item_id": year.items[name]}))
    year.replies["reject:contest"] = await _ok(client.command(SUPERVISION, "approvals", "RejectInspectionItem", {
        "command_id": str(uuid.uuid4()), "item_id": year.items["contest"], "refusal_code": "NOT_NECESSARY",
        "reason": "可由日常消防宣传解决，不另设评比"}))

    set_today(date(2026, 10, 28))  # S1: the bureau merges the two safety items and publishes the checklist
    merged = await _ok(client.command(BUREAU, "approvals", "MergeInspectionItems", {
        "command_id": str(uuid.uuid4()), "item_ids": [year.items["safety"], year.items["fire"]],
        "title": "校园安全综合督查"}))
    year.merged_item_id = merged["item_id"]
    year.replies["merge"] = merged
    year.checklist = await _ok(client.command(BUREAU, "approvals", "PublishInspectionChecklist",
                                              {"command_id": str(uuid.uuid4()), "year": YEAR}))

    requests = [  # S2: (day, unit, name, request)
        (date(2026, 11, 2), BUREAU, "statistics", data_request(
            "学校基本情况统计", ["在校学生数", "专任教师数"], ["school-dwk-primary-1", "school-dwk-primary-2"],
            f"2026-11-13T17:00:00{SHANGHAI}")),
        (date(2026, 11, 9), "dept-health", "duplicate", data_request(  # 在校学生数 again: a duplicate
            "学生视力健康调查", ["在校学生数", "近视率"], ["school-dwk-primary-1"], f"2026-11-20T17:00:00{SHANGHAI}")),
        (date(2026, 11, 19), "dept-emergency", "short", data_request(  # a Thursday, due Friday 17:00
            "应急演练开展情况", ["应急演练次数"], ["school-dwk-middle-1"], f"2026-11-20T17:00:00{SHANGHAI}")),
    ]
    for day, unit, name, body in requests:
        set_today(day)
        reply = await _ok(client.command(unit, "requests", "IssueDataRequest", body))
        year.requests[name] = {"requester": unit, **reply}

    set_today(date(2026, 12, 10))  # S1: visits in December, reported by the schools or the units
    visits = [  # (name, reporter, report)
        ("health", "school-dwk-primary-1", visit("2026-12-03", "inspection", item_id=year.items["health"],
                                                 visiting_org_id="dept-health")),
        ("health", "dept-health", visit("2026-12-03", "inspection", item_id=year.items["health"],
                                        school_id="school-dwk-primary-1")),  # the same visit, reported again
        ("fire", "dept-fire", visit("2026-12-04", "inspection", item_id=year.items["fire"],
                                    school_id="school-dwk-middle-1")),  # under the merged item
        ("unplanned", "school-dwk-primary-2", visit("2026-12-07", "inspection", visiting_org_id="dept-public-security")),
        ("disguised", "school-dwk-middle-2", visit("2026-12-08", "research", graded=True, grading="评定等次：优秀/合格/不合格",
                                                   visiting_org_id="dept-culture-sports")),
        ("refused_item", "school-dwk-middle-3", visit("2026-12-09", "inspection", item_id=year.items["contest"],
                                                      visiting_org_id="dept-fire")),
        ("again", "school-dwk-primary-1", visit("2026-12-10", "inspection", item_id=year.items["health"],
                                                visiting_org_id="dept-health")),  # a second visit, once a year allowed
    ]
    for name, reporter, body in visits:
        reply = await _ok(client.command(reporter, "requests", "ReportInspectionVisit", body))
        year.visits.setdefault(name, {"reports": 0, **reply})["reports"] += 1
        year.replies[f"report:{name}:{reporter}"] = reply
    return year
