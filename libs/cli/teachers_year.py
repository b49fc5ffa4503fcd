"""A year of teachers' time (S7–S10), walked after the inspection year: the district's teachers
registered by their schools, secondments (one refused by the bureau, one renewed past the half
year and refused automatically, one never returned and found overdue on its 184th day, one
normal with its 30-day notice, one started with only the bureau's consent), the teaching research
office's training plan with sessions inside and outside it, and meetings (one 80+ km away with no
sub-venue, one by a unit outside education about nothing to do with teaching).

``walk_teachers_year`` drives a running system only through commands, as an integrating system
would, and moves the clock file as the year goes; the compliance scheduler turns the clock into
``DayEnded`` events, which the sweeps react to. tests/e2e/test_teachers_time_year.py walks the
same year and checks every outcome.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from jianfu.cli.client import JianfuClient
from jianfu.cli.roster import Teacher, district_teachers, teacher_id
from jianfu.events.organisations import Directory

TEACHERS_YEAR = 2027
SPRING = "2027-spring"
BUREAU, APPROVER, PLANNER = "edu-bureau", "hr-bureau", "teaching-research-office"
TEACHERS_RULES = ("UnapprovedSecondment", "SecondmentOverdue", "UnplannedTraining", "NonEducationTraining",
                  "VideoSubVenueRequired", "NonEducationMeetingForTeachers", "MeetingQuotaExceeded")
REGISTRATIONS_AT_ONCE = 16


@dataclass(frozen=True)
class Borrowing:
    """One secondment of the walk: who borrows which teacher, for what, from when to when."""

    unit: str
    school_id: str
    number: int
    starts_on: date
    ends_on: date
    task: str

    @property
    def teacher_id(self) -> str:
        return teacher_id(self.school_id, self.number)


SECONDMENTS = {
    "refused": Borrowing("dept-publicity", "school-dwk-middle-1", 5, date(2027, 1, 18), date(2027, 6, 30),
                         "全国文明城市创建迎检资料整理"),
    "overdue": Borrowing("dept-health", "school-dwk-primary-2", 12, date(2027, 1, 11), date(2027, 5, 31),
                         "基本公共卫生服务项目督导"),
    "renewed": Borrowing("dept-emergency", "school-dwk-middle-2", 7, date(2027, 1, 11), date(2027, 6, 30),
                         "安全生产专项整治行动"),
    "renewal": Borrowing("dept-emergency", "school-dwk-middle-2", 7, date(2027, 7, 1), date(2027, 9, 30),
                         "安全生产专项整治行动（续借）"),
    "normal": Borrowing("dept-culture-sports", "school-dwk-primary-1", 21, date(2027, 3, 1), date(2027, 6, 30),
                        "全民健身运动会筹备"),
    "unapproved": Borrowing("dept-political-legal", "school-dwk-middle-3", 3, date(2027, 3, 1), date(2027, 4, 30),
                            "平安建设宣传月"),
}
OVERDUE_DAY = date(2027, 7, 13)  # the 184th day of the run that began on 11 January

PLAN = [  # S8: the spring plan of the teaching research office
    {"code": "BB-01", "title": "骨干教师课堂教学能力提升研修", "level": "backbone", "organiser_org_id": PLANNER,
     "months": [3, 4], "hours": 24},
    {"code": "SB-01", "title": "大单元教学设计校本研修", "level": "school_based",
     "organiser_org_id": "school-dwk-primary-1", "months": [3], "hours": 8},
    {"code": "SB-02", "title": "作业设计与分层教学", "level": "school_based", "organiser_org_id": "school-dwk-middle-1",
     "months": [4], "hours": 8},
]


@dataclass
class TeachersYear:
    """What the walk did, by a short name, for the test and the printed summary."""

    teachers: list[Teacher] = field(default_factory=list)
    registered: int = 0
    secondments: dict[str, str] = field(default_factory=dict)  # name -> secondment_id
    plan: dict[str, Any] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    meetings: dict[str, dict[str, Any]] = field(default_factory=dict)
    replies: dict[str, dict[str, Any]] = field(default_factory=dict)  # e.g. "consent:renewal"


def _command(**body: Any) -> dict[str, Any]:
    return {"command_id": str(uuid.uuid4()), **body}


async def _ok(reply_awaitable) -> dict[str, Any]:
    reply = await reply_awaitable
    if not reply.get("ok"):
        raise RuntimeError(f"demo command refused: {reply}")
    return reply


async def days_ended(client: JianfuClient, through: date, timeout: float = 120.0) -> None:
    """Wait until the read model has seen the ``DayEnded`` of ``through`` (the day before the
    clock's): the scheduler looks every second and appends every missed day in order."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        reply = await client.query(BUREAU, "compliance", "GetSecondmentCounters", {"year": through.year})
        if reply.get("last_day") and date.fromisoformat(reply["last_day"]) >= through:
            return
        if loop.time() > deadline:
            raise TimeoutError(f"the days up to {through} did not end in {timeout}s: {reply}")
        await asyncio.sleep(0.25)


async def settled(client: JianfuClient, through: date, quiet: float = 1.5, timeout: float = 120.0) -> None:
    """The days up to ``through`` ended, then the read model still for ``quiet`` seconds: the
    sweeps, the projector and the notifier have followed them."""
    await days_ended(client, through, timeout)
    loop = asyncio.get_running_loop()
    deadline, last, since = loop.time() + timeout, None, loop.time()
    while loop.time() < deadline:
        reply = await client.query(BUREAU, "compliance", "GetViolations", {"limit": 1})
        if reply.get("as_of_sequence") != last:
            last, since = reply.get("as_of_sequence"), loop.time()
        elif loop.time() - since >= quiet:
            return
        await asyncio.sleep(0.25)
    raise TimeoutError(f"the read model did not settle in {timeout}s")


async def register_teachers(client: JianfuClient, teachers: list[Teacher]) -> int:
    """Each school registers its own teachers (school_id left out), a few at a time."""
    gate = asyncio.Semaphore(REGISTRATIONS_AT_ONCE)

    async def register(teacher: Teacher) -> None:
        async with gate:
            await _ok(client.command(teacher.school_id, "requests", "RegisterTeacher", _command(
                teacher_id=teacher.teacher_id, name=teacher.name, subject=teacher.subject)))

    await asyncio.gather(*(register(teacher) for teacher in teachers))
    return len(teachers)


async def request(client: JianfuClient, year: TeachersYear, name: str) -> None:
    borrowing = SECONDMENTS[name]
    reply = await _ok(client.command(borrowing.unit, "requests", "RequestSecondment", _command(
        teacher_id=borrowing.teacher_id, task=borrowing.task, starts_on=borrowing.starts_on.isoformat(),
        ends_on=borrowing.ends_on.isoformat())))
    year.secondments[name] = reply["secondment_id"]
    year.replies[f"request:{name}"] = reply


async def decide(client: JianfuClient, year: TeachersYear, org: str, command: str, name: str, **extra: Any) -> None:
    reply = await _ok(client.command(org, "approvals", command, _command(
        teacher_id=SECONDMENTS[name].teacher_id, secondment_id=year.secondments[name], **extra)))
    year.replies[f"{command}:{name}"] = reply


async def leave(client: JianfuClient, year: TeachersYear, name: str, by_school: bool) -> None:
    """The departure, reported by the teacher's school (naming the unit) or by the unit itself."""
    borrowing = SECONDMENTS[name]
    body = _command(teacher_id=borrowing.teacher_id, left_on=borrowing.starts_on.isoformat())
    if by_school:
        body["borrowing_org_id"] = borrowing.unit
    reporter = borrowing.school_id if by_school else borrowing.unit
    year.replies[f"left:{name}"] = await _ok(client.command(reporter, "requests", "ReportTeacherSeconded", body))


async def come_back(client: JianfuClient, year: TeachersYear, name: str, returned_on: date) -> None:
    borrowing = SECONDMENTS[name]
    year.replies[f"returned:{name}"] = await _ok(client.command(borrowing.school_id, "requests", "ReportTeacherReturned",
                                                                _command(teacher_id=borrowing.teacher_id,
                                                                         returned_on=returned_on.isoformat())))


def participants(teachers: list[Teacher], schools: list[str], per_school: int, first: int = 1) -> list[dict[str, str]]:
    """``per_school`` teachers of each school (numbers from ``first``), as a meeting lists them."""
    chosen = [t for t in teachers if t.school_id in schools and first <= int(t.teacher_id[-3:]) < first + per_school]
    return [{"teacher_id": t.teacher_id, "school_id": t.school_id} for t in chosen]


def meetings(teachers: list[Teacher], schools: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
    """S9/S10: name -> (organiser, meeting); held in March of the spring semester."""
    return {
        # S9: in Yinchuan, 80+ km from every school, 8 teachers, no sub-venue offered.
        "far": (BUREAU, _command(title="全区中小学教学质量分析会", concerns_teaching=True, held_on="2027-03-16",
                                 mode="in_person", venue_id="venue-yinchuan",
                                 participants=participants(teachers, schools, 1, first=30))),
        # S9 as it should be: a video meeting with a sub-venue near the schools.
        "video": (BUREAU, _command(title="自治区基础教育工作视频会", concerns_teaching=True, held_on="2027-03-17",
                                   mode="video", venue_id="venue-yinchuan", sub_venue_ids=["venue-edu-bureau"],
                                   participants=participants(teachers, schools, 1, first=31))),
        # S10: a unit outside education, a meeting about nothing to do with teaching.
        "non_education": ("dept-culture-tourism", _command(
            title="全域旅游宣传推介动员会", concerns_teaching=False, held_on="2027-03-18", mode="in_person",
            venue_id="venue-district-hall", participants=participants(teachers, schools[:3], 2, first=32))),
    }


def sessions() -> dict[str, tuple[str, dict[str, Any]]]:
    """S8: name -> (reporter, session); held in March."""
    return {
        "planned_backbone": (PLANNER, _command(title="骨干教师课堂教学能力提升研修", held_on="2027-03-18",
                                               level="backbone", plan_code="BB-01", teachers_required=True,
                                               participants=60)),
        "planned_school": ("school-dwk-primary-1", _command(title="大单元教学设计校本研修", held_on="2027-03-17",
                                                            level="school_based", plan_code="SB-01",
                                                            teachers_required=True, participants=38)),
        # S8: a school's training the plan does not hold.
        "unplanned": ("school-dwk-primary-3", _command(title="课后服务课程开发培训", held_on="2027-03-18",
                                                       level="school_based", teachers_required=True,
                                                       participants=35)),
        # S8: a unit outside education requiring teachers, reported by the school that sent them.
        "non_education": ("school-dwk-middle-2", _command(title="应急救护技能培训", held_on="2027-03-19",
                                                          organiser_org_id="dept-emergency", teachers_required=True,
                                                          participants=40)),
    }


async def walk_teachers_year(client: JianfuClient, directory: Directory,
                             set_today: Callable[[date], None]) -> TeachersYear:
    """S7–S10 for 2027, only through commands, the clock moved as the year goes (see the module)."""
    year = TeachersYear(teachers=district_teachers(directory.school_ids))

    set_today(date(2027, 1, 4))  # the schools register their teachers
    year.registered = await register_teachers(client, year.teachers)

    set_today(date(2027, 1, 5))  # S7: three units ask to borrow a teacher each
    for name in ("refused", "overdue", "renewed"):
        await request(client, year, name)
    set_today(date(2027, 1, 6))  # the bureau refuses one, consents to two
    await decide(client, year, BUREAU, "RefuseSecondment", "refused", refusal_code="AFFECTS_TEACHING",
                 reason="该教师承担毕业班教学任务，借用将影响学校正常教育教学。")
    for name in ("overdue", "renewed"):
        await decide(client, year, BUREAU, "ConsentToSecondment", name)
    set_today(date(2027, 1, 7))  # the approver approves and files them
    for name in ("overdue", "renewed"):
        await decide(client, year, APPROVER, "ApproveSecondment", name)
    set_today(date(2027, 1, 11))  # the two teachers leave
    await leave(client, year, "overdue", by_school=True)
    await leave(client, year, "renewed", by_school=False)

    set_today(date(2027, 2, 10))  # S8: the plan, before the semester; two more secondments asked for
    year.plan = await _ok(client.command(PLANNER, "approvals", "PublishTrainingPlan",
                                         _command(semester=SPRING, sessions=PLAN)))
    for name in ("normal", "unapproved"):
        await request(client, year, name)
    set_today(date(2027, 2, 17))
    for name in ("normal", "unapproved"):
        await decide(client, year, BUREAU, "ConsentToSecondment", name)
    set_today(date(2027, 2, 18))  # only one of them is approved
    await decide(client, year, APPROVER, "ApproveSecondment", "normal")

    set_today(date(2027, 3, 1))  # both leave; one without the approver's approval (S7)
    await leave(client, year, "normal", by_school=True)
    await leave(client, year, "unapproved", by_school=False)

    set_today(date(2027, 3, 8))  # S9/S10: meetings scheduled
    for name, (organiser, body) in meetings(year.teachers, directory.school_ids).items():
        year.meetings[name] = await _ok(client.command(organiser, "requests", "ScheduleMeeting", body))

    set_today(date(2027, 3, 22))  # S8: sessions held, reported
    for name, (reporter, body) in sessions().items():
        year.sessions[name] = await _ok(client.command(reporter, "requests", "ReportTrainingSession", body))

    set_today(date(2027, 5, 2))  # the notice before 30 April was given on 31 March; the teacher is back
    await settled(client, date(2027, 5, 1))
    await come_back(client, year, "unapproved", date(2027, 5, 1))

    set_today(date(2027, 5, 20))  # S7: a renewal right after the end: 171 + 92 days, refused at consent
    await request(client, year, "renewal")
    set_today(date(2027, 5, 21))
    await decide(client, year, BUREAU, "ConsentToSecondment", "renewal")

    set_today(date(2027, 6, 1))  # the notices before 30 June go out on 31 May
    await settled(client, date(2027, 5, 31))
    set_today(date(2027, 7, 2))  # two teachers are back on 1 July; the third never comes back
    await settled(client, date(2027, 7, 1))
    for name in ("renewed", "normal"):
        await come_back(client, year, name, date(2027, 7, 1))

    set_today(date(2027, 7, 20))  # the days up to 19 July end: the 184th, 13 July, among them
    await settled(client, date(2027, 7, 19))
    return year


def found_in_year(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The S7–S10 violations among ``violations`` (every violation on record)."""
    return [v for v in violations if v["rule"] in TEACHERS_RULES]


def summary(year: TeachersYear, violations: list[dict[str, Any]]) -> dict[str, Any]:
    """What the year found, by rule; the summaries name teachers by id only, as violations do."""
    found = found_in_year(violations)
    by_rule: dict[str, int] = {}
    for violation in found:
        by_rule[violation["rule"]] = by_rule.get(violation["rule"], 0) + 1
    refusals = {name: year.replies[key]["refusal_code"] for name, key in
                (("refused", "RefuseSecondment:refused"), ("renewal", "ConsentToSecondment:renewal"))
                if key in year.replies}
    return {"ok": True, "clause": "S7-S10", "year": TEACHERS_YEAR, "teachers_registered": year.registered,
            "secondments_refused": refusals, "count": len(found), "by_rule": dict(sorted(by_rule.items())),
            "violations": [{"rule": v["rule"], "responsible_org_id": v["responsible_org_id"],
                            "school_id": v.get("school_id"), "summary": v["summary"]} for v in found]}


def headline(year: TeachersYear) -> str:
    """One line on what the walk did."""
    return (f"demo: teachers' year {TEACHERS_YEAR}: {year.registered} teachers registered, "
            f"{len(year.secondments)} secondments requested, training plan edition {year.plan.get('edition')} "
            f"published ({len(PLAN)} sessions), {len(year.sessions)} training sessions reported, "
            f"{len(year.meetings)} meetings scheduled, clock moved past the 184th day ({OVERDUE_DAY.isoformat()})")
