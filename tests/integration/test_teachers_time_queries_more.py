"""S7 and S10 queries at a district's scale, on a log and a PostgreSQL database of this module's
own: secondment counters of 250 teachers at their longest ids read page by page, by whoever may
read them, and one teacher's many violations found by ``teacher_id`` page by page."""

from __future__ import annotations

import json
from datetime import date

import pytest
from jianfu.compliance.app import interface
from jianfu.compliance.database import make_engine
from jianfu.compliance.migrations import migrate
from jianfu.events.dependencies import Deps
from jianfu.events.schemas.compliance import Rule
from jianfu.events.settings import Settings, SystemClock

from tests.conftest import fresh_database
from tests.factories import DIRECTORY, POLICY
from tests.hostile import refusal
from tests.inspection_year import append
from tests.poison import own_log
from tests.s3_semester import running, settle
from tests.teachers_time import TeachersTime

SCHOOL = "school-dwk-primary-1"
HOLDER, PAST, BYSTANDER = "dept-publicity", "dept-health", "dept-culture-sports"
BUREAU, APPROVER = "edu-bureau", "hr-bureau"
TEACHERS = 250
ONE = "t-" + "1" * 61  # the teacher whose violations are many
VIOLATIONS_OF_ONE = 120


def teacher(n: int) -> str:
    return f"t-{n:061d}"  # 63 characters, the longest id


def history(t: TeachersTime) -> list:
    """S7: 250 teachers of one school left on 2031-03-01, the even ones for HOLDER and still away,
    the odd ones for PAST and back on 2031-04-01; days ended up to 2031-05-10. S7/S10: 120
    violations of ONE (an unapproved departure each, charged to PAST, found at SCHOOL) and a few of
    another teacher."""
    steps = []
    for n in range(TEACHERS):
        unit = HOLDER if n % 2 == 0 else PAST
        left = t.seconded(teacher(n), SCHOOL, unit, date(2031, 3, 1))
        steps += [t.register(teacher(n), SCHOOL), left]
        if unit == PAST:
            steps.append(t.returned(left[1], date(2031, 4, 1)))
    steps.append(t.day(date(2031, 5, 10)))
    steps += [t.violation(Rule.UNAPPROVED_SECONDMENT, PAST, school=SCHOOL, teacher=ONE, n=str(n))
              for n in range(VIOLATIONS_OF_ONE)]
    steps += [t.violation(Rule.MEETING_QUOTA_EXCEEDED, HOLDER, school=SCHOOL, teacher=teacher(0), n=str(n),
                          semester="2031-spring") for n in range(3)]
    return steps


@pytest.fixture(scope="module")
async def world(pg_database, tmp_path_factory):
    async with own_log(tmp_path_factory.mktemp("nats")) as log, fresh_database("teachers_time_more") as url:
        await append(log.store, history(TeachersTime()))
        await migrate(url)
        engine = make_engine(url)
        try:
            async with running(engine, log.js, log.store) as projector:
                await settle(projector, log.store, timeout=120.0)
            router = interface(Deps(log.store, DIRECTORY, POLICY, SystemClock()), Settings(), engine).routers[0]
            yield {"router": router}
        finally:
            await engine.dispose()


async def ask(world, org: str, query: str, **payload) -> dict:
    return await world["router"].dispatch(f"jf.q.{org}.compliance.{query}", json.dumps(payload).encode())


async def counter_pages(world, org: str, limit: int, **payload) -> list[dict]:
    pages, cursor = [], None
    while True:
        page = await ask(world, org, "GetSecondmentCounters", year=2031, limit=limit, **payload,
                         **({"cursor": cursor} if cursor else {}))
        assert page["ok"], page
        assert len(json.dumps(page).encode()) < 1024 * 1024 // 2  # far below a NATS reply's 1 MB
        pages.append(page)
        cursor = page["next_cursor"]
        if cursor is None:
            return pages


def units_of(pages: list[dict]) -> dict[str, tuple[int, list[str]]]:
    """Each unit's ``teachers_held`` (the same on every page) and its ``teacher_ids`` of all pages."""
    units: dict[str, tuple[int, list[str]]] = {}
    for page in pages:
        on_page = {t["teacher_id"] for t in page["teachers"]}
        for unit in page["units"]:
            assert set(unit["teacher_ids"]) <= on_page
            held, ids = units.setdefault(unit["borrowing_org_id"], (unit["teachers_held"], []))
            assert held == unit["teachers_held"]
            ids += unit["teacher_ids"]
    return units


async def test_s7_counters_of_250_teachers_come_page_by_page_by_teacher_id(world):
    """S7: the bureau's pages of 100 hold every teacher once, by id; the units holding teachers
    now are HOLDER's 125 (PAST's are back), its ids made up by the pages."""
    pages = await counter_pages(world, BUREAU, 100)
    assert [len(page["teachers"]) for page in pages] == [100, 100, 50]
    seen = [t["teacher_id"] for page in pages for t in page["teachers"]]
    assert seen == [teacher(n) for n in range(TEACHERS)]
    held = [teacher(n) for n in range(0, TEACHERS, 2)]
    assert units_of(pages) == {HOLDER: (len(held), held)}
    by_id = {t["teacher_id"]: t for page in pages for t in page["teachers"]}
    assert (by_id[teacher(0)]["total_days"], by_id[teacher(0)]["away"]) == (71, True)  # 1 March to 10 May
    assert (by_id[teacher(1)]["total_days"], by_id[teacher(1)]["away"]) == (31, False)  # back on 1 April


async def test_s7_the_approver_pages_as_the_bureau_and_a_unit_only_through_its_own_teachers(world):
    """S7: the approver reads the bureau's pages; HOLDER the 125 it holds, PAST the 125 it held
    (back, so no unit holds them), a unit that borrowed none nothing; another unit's
    borrowing_org_id is FORBIDDEN whatever the page."""
    def answer(pages: list[dict]) -> list:
        return [{k: v for k, v in page.items() if k != "correlation_id"} for page in pages]

    assert answer(await counter_pages(world, APPROVER, 100)) == answer(await counter_pages(world, BUREAU, 100))
    holder = await counter_pages(world, HOLDER, 100)
    assert [t["teacher_id"] for page in holder for t in page["teachers"]] == \
        [teacher(n) for n in range(0, TEACHERS, 2)]
    past = await counter_pages(world, PAST, 100)
    assert [t["teacher_id"] for page in past for t in page["teachers"]] == [teacher(n) for n in range(1, TEACHERS, 2)]
    assert units_of(past) == {} and {t["away"] for page in past for t in page["teachers"]} == {False}
    [none] = await counter_pages(world, BYSTANDER, 100)
    assert (none["teachers"], none["units"], none["next_cursor"]) == ([], [], None)
    cursor = holder[0]["next_cursor"]
    assert refusal(await ask(world, HOLDER, "GetSecondmentCounters", year=2031, borrowing_org_id=PAST,
                             cursor=cursor)) == ("FORBIDDEN", "borrowing_org_id")
    assert refusal(await ask(world, SCHOOL, "GetSecondmentCounters", year=2031, cursor=cursor + "A"))[0] == \
        "INVALID_FIELD"


async def test_s7_s10_one_teachers_violations_come_page_by_page_and_only_theirs(world):
    """S7, S10: 120 violations of ONE read by ``teacher_id`` page by page, newest first, none of
    another teacher's; PAST (charged) and SCHOOL (found at it) read them all, HOLDER none."""
    for org in (BUREAU, PAST, SCHOOL):
        found, cursor = [], None
        while True:
            page = await ask(world, org, "GetViolations", teacher_id=ONE, limit=50,
                             **({"cursor": cursor} if cursor else {}))
            assert page["ok"] and page["count"] <= 50, page
            found += page["violations"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(found) == VIOLATIONS_OF_ONE and {v["teacher_id"] for v in found} == {ONE}, org
        assert [v["sequence"] for v in found] == sorted((v["sequence"] for v in found), reverse=True)
    assert (await ask(world, HOLDER, "GetViolations", teacher_id=ONE))["violations"] == []
    other = await ask(world, HOLDER, "GetViolations", teacher_id=teacher(0))
    assert [(v["rule"], v["teacher_id"]) for v in other["violations"]] == [("MeetingQuotaExceeded", teacher(0))] * 3
