"""Reads of the compliance read model, as JSON-ready dicts. Who may see what is decided by the
query handlers (``handlers.py``); these functions take the scope they are given."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date

import sqlalchemy as sa
from jianfu.compliance import paging
from jianfu.compliance.checkpoint import read_checkpoint
from jianfu.compliance.database import plain
from jianfu.compliance.domain.campus_entry_view import COUNTERS
from jianfu.compliance.domain.inspection_view import IN_PLAN, SCHOOL_COUNTERS, STATUSES
from jianfu.compliance.domain.teachers_view import CALENDAR, Away, days_seconded
from jianfu.compliance.domain.teachers_view import STATUSES as SECONDMENT_STATUSES
from jianfu.compliance.read_model import ReadModel
from sqlalchemy.ext.asyncio import AsyncConnection


def _row(row: sa.Row) -> dict:
    return {key: plain(value) for key, value in row._mapping.items()}


async def as_of(conn: AsyncConnection, model: ReadModel) -> int:
    """The stream sequence the read model reflects: answers are as fresh as this."""
    return await read_checkpoint(conn, model)


async def semester_list(conn: AsyncConnection, model: ReadModel, semester: str, after: paging.Key | None,
                        limit: int) -> dict:
    """Attachment 3 as last published whole: one page of the edition's items, in its order. The
    first page is of the latest edition; a cursor goes on through the edition it started with,
    even when a newer one is published meanwhile (its items stay in the table)."""
    found, items, next_cursor = await _edition_page(
        conn, (model.semester_lists, model.semester_list_editions, model.semester_list_items), "semester", semester,
        "item", paging.SEMESTER_LIST, after, limit)
    if found is None:
        return {"semester": semester, "published": False, "edition": None, "published_at": None,
                "item_count": 0, "items": [], "next_cursor": None}
    return {"semester": semester, "published": True, "edition": found["edition"], "published_at": found["published_at"],
            "item_count": found["item_count"], "items": items, "next_cursor": next_cursor}


async def _edition_page(conn: AsyncConnection, tables: tuple[sa.Table, sa.Table, sa.Table], key: str, value: object,
                        column: str, kind: str, after: paging.Key | None,
                        limit: int) -> tuple[dict | None, list[dict], str | None]:
    """A list published in editions (Attachment 3, Attachment 2): the edition in force (or the
    one a cursor started in) and one page of its entries in order, with the next cursor; no
    edition (None) when nothing was published. ``tables`` are the edition in force per ``key``,
    every edition received, and the entries (``position``, the JSON ``column``)."""
    current, editions, entries = tables
    if after is None:
        row = (await conn.execute(sa.select(current).where(current.c[key] == value))).first()
    else:
        row = (await conn.execute(sa.select(editions).where(editions.c[key] == value,
                                                             editions.c.edition == after[0]))).first()
    if row is None:
        return None, [], None
    found = _row(row)
    edition = found["edition"]
    where = [entries.c[key] == value, entries.c.edition == edition] + (
        [entries.c.position > after[1]] if after else [])
    rows = await conn.execute(sa.select(entries.c.position, entries.c[column]).where(*where)
                              .order_by(entries.c.position).limit(limit + 1))
    listed, next_cursor = paging.page(({"position": r.position, **r._mapping[column]} for r in rows), limit, kind,
                                      lambda entry: (edition, entry["position"]))
    return found, [{k: v for k, v in entry.items() if k != "position"} for entry in listed], next_cursor


async def applications(conn: AsyncConnection, model: ReadModel, semester: str, applicant: str | None,
                       status: str | None, after: paging.Key | None, limit: int) -> dict:
    """One page of a semester's applications (of one applicant, or all) in the order they were
    requested, with counts by status and refusal code over everything the caller may see that
    semester. An application seen only through its decision (its request not projected) sorts first."""
    a, s = model.applications, model.application_schools
    scope = [a.c.semester == semester] + ([a.c.applicant_org_id == applicant] if applicant else [])
    requested = sa.func.coalesce(a.c.requested_sequence, 0)
    where = [*scope] + ([a.c.status == status] if status else [])
    if after is not None:
        where.append(sa.or_(requested > after[0], sa.and_(requested == after[0], a.c.activity_id > after[1])))
    rows = [_row(r) for r in await conn.execute(
        sa.select(a).where(*where).order_by(requested, a.c.activity_id).limit(limit + 1))]
    schools: dict[str, list[str]] = {}
    for activity_id, school_id in await conn.execute(
            sa.select(s.c.activity_id, s.c.school_id).where(
                s.c.semester == semester, s.c.activity_id.in_([r["activity_id"] for r in rows])).order_by(s.c.school_id)):
        schools.setdefault(activity_id, []).append(school_id)
    listed, next_cursor = paging.page(
        ({**r, "school_ids": schools.get(r["activity_id"], [])} for r in rows), limit, paging.APPLICATIONS,
        _application_position)
    return {"semester": semester, "applications": listed, "next_cursor": next_cursor,
            "counts": await _application_counts(conn, model, scope)}


def _application_position(row: dict) -> paging.Key:
    return (row["requested_sequence"] or 0, row["activity_id"])


async def _application_counts(conn: AsyncConnection, model: ReadModel, scope: list) -> dict:
    a = model.applications
    by = (await conn.execute(sa.select(a.c.status, a.c.refusal_code, sa.func.count()).where(*scope)
                             .group_by(a.c.status, a.c.refusal_code))).all()
    by_status: Counter[str] = Counter()
    by_refusal_code: Counter[str] = Counter()
    for status, refusal_code, count in by:
        by_status[status] += count
        if refusal_code:
            by_refusal_code[refusal_code] += count
    return {"total": sum(by_status.values()), "by_status": dict(sorted(by_status.items())),
            "by_refusal_code": dict(sorted(by_refusal_code.items()))}


async def campus_entry_counters(conn: AsyncConnection, model: ReadModel, semester: str, school_ids: Iterable[str],
                                cap: int, names: dict[str, str]) -> dict:
    """Per school: authorised items by route, reports held, distinct items, unauthorised
    entries and items over the S3 cap. Schools with nothing yet show zeros."""
    t = model.campus_entries
    wanted = list(school_ids)
    found = {r.school_id: _row(r) for r in await conn.execute(
        sa.select(t).where(t.c.semester == semester, t.c.school_id.in_(wanted)))}
    schools = []
    for school_id in wanted:
        counts = {name: found.get(school_id, {}).get(name, 0) for name in COUNTERS}
        authorised = counts["certified_items"] + counts["urgent_items"] + counts["exempt_items"]
        schools.append({"school_id": school_id, "name": names.get(school_id, school_id), **counts,
                        "authorised_items": authorised, "remaining_items": max(cap - authorised, 0)})
    return {"semester": semester, "cap": cap, "schools": schools}


async def violations(conn: AsyncConnection, model: ReadModel, *, semester: str | None, responsible_org_id: str | None,
                     rule: str | None, visible_to: str | None, after: paging.Key | None, limit: int,
                     teacher_id: str | None) -> dict:
    """One page of the violations register, newest first (keyset on the stream sequence, so a
    violation found while a client pages through appears on no page it has yet to read);
    ``visible_to`` keeps those charged to, or found at, that organisation."""
    t = model.violations
    where = []
    if semester:
        where.append(t.c.semester == semester)
    if responsible_org_id:
        where.append(t.c.responsible_org_id == responsible_org_id)
    if rule:
        where.append(t.c.rule == rule)
    if teacher_id:
        where.append(t.c.teacher_id == teacher_id)
    if visible_to:
        where.append(sa.or_(t.c.responsible_org_id == visible_to, t.c.school_id == visible_to))
    if after is not None:
        where.append(t.c.sequence < after[0])
    rows = [_row(r) for r in await conn.execute(
        sa.select(t).where(*where).order_by(t.c.sequence.desc()).limit(limit + 1))]
    listed, next_cursor = paging.page(rows, limit, paging.VIOLATIONS, _violation_position)
    return {"violations": listed, "count": len(listed), "next_cursor": next_cursor}


def _violation_position(row: dict) -> paging.Key:
    return (row["sequence"],)


async def inspection_checklist(conn: AsyncConnection, model: ReadModel, year: int, after: paging.Key | None,
                               limit: int) -> dict:
    """S1 Attachment 2 for a year as last published whole: one page of its rows, in order. A
    cursor goes on through the edition it started with, even when a newer one is published."""
    found, rows, next_cursor = await _edition_page(
        conn, (model.inspection_checklists, model.inspection_checklist_editions, model.inspection_checklist_rows),
        "year", year, "row", paging.INSPECTION_CHECKLIST, after, limit)
    if found is None:
        return {"year": year, "published": False, "edition": None, "published_at": None, "row_count": 0,
                "rows": [], "next_cursor": None}
    return {"year": year, "published": True, "edition": found["edition"], "published_at": found["published_at"],
            "row_count": found["row_count"], "rows": rows, "next_cursor": next_cursor}


async def inspection_items(conn: AsyncConnection, model: ReadModel, year: int, org_id: str | None, status: str | None,
                           after: paging.Key | None, limit: int) -> dict:
    """One page of a year's items (of one unit, lead, joint or merged in, or all) in the order they
    came into the log, with counts by status over everything the caller may see that year."""
    i, u = model.inspection_items, model.inspection_item_units
    scope = [i.c.year == year]
    if org_id:
        scope.append(i.c.item_id.in_(sa.select(u.c.item_id).where(u.c.org_id == org_id, u.c.year == year)))
    where = [*scope] + ([i.c.status == status] if status else [])
    if after is not None:
        where.append(sa.or_(i.c.first_sequence > after[0],
                            sa.and_(i.c.first_sequence == after[0], i.c.item_id > after[1])))
    rows = [_row(r) for r in await conn.execute(
        sa.select(i).where(*where).order_by(i.c.first_sequence, i.c.item_id).limit(limit + 1))]
    listed, next_cursor = paging.page(rows, limit, paging.INSPECTION_ITEMS,
                                      lambda row: (row["first_sequence"], row["item_id"]))
    counted = dict((await conn.execute(sa.select(i.c.status, sa.func.count()).where(*scope)
                                       .group_by(i.c.status))).all())
    by_status = {status: counted.get(status, 0) for status in STATUSES}
    return {"year": year, "items": listed, "next_cursor": next_cursor,
            "counts": {"total": sum(by_status.values()), "by_status": by_status}}


async def inspection_counters(conn: AsyncConnection, model: ReadModel, year: int, school_ids: Iterable[str],
                              names: dict[str, str]) -> dict:
    """S1/S2 per school: visits (planned, unplanned, disguised, beyond frequency), data requests,
    fields asked (in all, distinct), duplicate requests and short deadlines; and the items in the
    year's plan (filed or approved; a merged item once) against the year before (S1: the aim is to
    halve them). Schools with nothing yet show zeros."""
    t, i = model.inspection_school_years, model.inspection_items
    wanted = list(school_ids)
    found = {r.school_id: _row(r) for r in await conn.execute(
        sa.select(t).where(t.c.year == year, t.c.school_id.in_(wanted)))}
    schools = []
    for school_id in wanted:
        counts = {name: found.get(school_id, {}).get(name, 0) for name in SCHOOL_COUNTERS}
        schools.append({"school_id": school_id, "name": names.get(school_id, school_id), **counts,
                        "planned_visits": counts["visits"] - counts["unplanned_visits"]})
    in_plan = dict((await conn.execute(
        sa.select(i.c.year, sa.func.count()).where(i.c.year.in_([year, year - 1]), i.c.status.in_(IN_PLAN))
        .group_by(i.c.year))).all())
    items, previous = in_plan.get(year, 0), in_plan.get(year - 1, 0)
    return {"year": year, "schools": schools, "items": {
        "year": items, "previous_year": previous,
        "aim": previous / 2 if previous else None,  # S1: half the previous year's items
        "halved": items * 2 <= previous if previous else None}}


# S7-S10 (issue 10): teachers, secondments, training, meetings.

async def teachers(conn: AsyncConnection, model: ReadModel, school_id: str | None, after: paging.Key | None,
                   limit: int) -> dict:
    """One page of the registered teachers (of one school, or all), by id. Names are in the rows:
    the handler takes them out for whoever may not read them."""
    t = model.teachers
    where = ([t.c.school_id == school_id] if school_id else []) + ([t.c.teacher_id > after[0]] if after else [])
    rows = [_row(r) for r in await conn.execute(
        sa.select(t.c.teacher_id, t.c.school_id, t.c.name, t.c.subject, t.c.previous_school_id)
        .where(*where).order_by(t.c.teacher_id).limit(limit + 1))]
    listed, next_cursor = paging.page(rows, limit, paging.TEACHERS, lambda row: (row["teacher_id"],))
    return {"school_id": school_id, "teachers": listed, "next_cursor": next_cursor}


async def teacher_names(conn: AsyncConnection, model: ReadModel, teacher_ids: Iterable[str]) -> dict[str, str]:
    t = model.teachers
    return dict((await conn.execute(sa.select(t.c.teacher_id, t.c.name)
                                    .where(t.c.teacher_id.in_(sorted(set(teacher_ids)))))).all())


async def secondments(conn: AsyncConnection, model: ReadModel, *, scope: dict[str, str], status: str | None,
                      after: paging.Key | None, limit: int) -> dict:
    """S7: one page of secondments (and departures with none on record), newest first, with
    counts by status over everything in ``scope`` (column: value, e.g. the caller's own)."""
    s = model.secondments
    within = [s.c[column] == value for column, value in scope.items()]
    where = [*within] + ([s.c.status == status] if status else []) + (
        [s.c.first_sequence < after[0]] if after else [])
    rows = [_row(r) for r in await conn.execute(
        sa.select(s).where(*where).order_by(s.c.first_sequence.desc()).limit(limit + 1))]
    listed, next_cursor = paging.page(rows, limit, paging.SECONDMENTS, lambda row: (row["first_sequence"],))
    counted = dict((await conn.execute(sa.select(s.c.status, sa.func.count()).where(*within)
                                       .group_by(s.c.status))).all())
    by_status = {name: counted.get(name, 0) for name in SECONDMENT_STATUSES}
    return {"secondments": listed, "next_cursor": next_cursor,
            "counts": {"total": sum(by_status.values()), "by_status": by_status}}


async def secondment_counters(conn: AsyncConnection, model: ReadModel, year: int, *, scope: dict[str, str],
                              gap_days: Callable[[date], int], after: paging.Key | None, limit: int) -> dict:
    """S7: one page of the teachers away in ``year`` (within ``scope``: a teacher, a unit, a
    school), by id: the days seconded in the longest run and in all, counted up to the last
    ``DayEnded`` for one still away; and the units holding this page's teachers now (a departure
    with no return on record), each with every teacher of the year it holds, on any page."""
    d, days = model.departures, model.calendar_days
    last_day = await conn.scalar(sa.select(days.c.last_day).where(days.c.calendar == CALENDAR))
    within = [d.c[column] == value for column, value in scope.items()]
    first, last = date(year, 1, 1), date(year, 12, 31)
    in_year = [*within, d.c.left_on <= last, sa.or_(d.c.returned_on.is_(None), d.c.returned_on > first)]
    page_ids = list(await conn.scalars(
        sa.select(d.c.teacher_id).distinct().where(*in_year, *([d.c.teacher_id > after[0]] if after else []))
        .order_by(d.c.teacher_id).limit(limit + 1)))
    departures: dict[str, list[dict]] = {}
    for r in await conn.execute(sa.select(d).where(*within, d.c.left_on <= last, d.c.teacher_id.in_(page_ids))
                                .order_by(d.c.teacher_id, d.c.left_on)):
        departures.setdefault(r.teacher_id, []).append(dict(r._mapping))  # dates as dates: they are counted
    listed, next_cursor = paging.page(
        (_seconded_days(teacher_id, departures[teacher_id], year, last_day, gap_days) for teacher_id in page_ids),
        limit, paging.SECONDMENT_COUNTERS, lambda row: (row["teacher_id"],))
    return {"year": year, "last_day": plain(last_day), "teachers": listed, "next_cursor": next_cursor,
            "units": await _units_holding(conn, model, within, in_year, [row["teacher_id"] for row in listed])}


def _seconded_days(teacher_id: str, rows: list[dict], year: int, last_day: date | None,
                   gap_days: Callable[[date], int]) -> dict:
    counted = days_seconded((Away(r["left_on"], r["returned_on"], r["borrowing_org_id"]) for r in rows),
                            year, last_day, gap_days)
    run = counted.longest_run
    return {"teacher_id": teacher_id, "school_id": rows[-1]["school_id"], "continuous_days": counted.continuous_days,
            "total_days": counted.total_days, "away": counted.away,
            "longest_run": {"starts_on": run.starts_on.isoformat(), "ends_on": run.ends_on.isoformat(),
                            "days": run.days, "borrowing_org_id": run.borrowing_org_id} if run else None}


async def _units_holding(conn: AsyncConnection, model: ReadModel, within: list, in_year: list,
                         teacher_ids: list[str]) -> list[dict]:
    """S7: the units holding the page's teachers now, with the page's teachers they hold
    (``teacher_ids``) and every teacher away in the year they hold (``teachers_held``), so the
    pages' ``teacher_ids`` together make up each unit's ``teachers_held``."""
    d = model.departures
    held: dict[str, list[str]] = {}
    for org_id, teacher_id in await conn.execute(
            sa.select(d.c.borrowing_org_id, d.c.teacher_id).distinct()
            .where(*within, d.c.returned_on.is_(None), d.c.teacher_id.in_(teacher_ids))
            .order_by(d.c.borrowing_org_id, d.c.teacher_id)):
        held.setdefault(org_id, []).append(teacher_id)
    counted = dict((await conn.execute(
        sa.select(d.c.borrowing_org_id, sa.func.count(sa.distinct(d.c.teacher_id)))
        .where(*within, d.c.returned_on.is_(None), d.c.borrowing_org_id.in_(list(held)),
               d.c.teacher_id.in_(sa.select(d.c.teacher_id).where(*in_year)))
        .group_by(d.c.borrowing_org_id))).all()) if held else {}
    return [{"borrowing_org_id": org_id, "teachers_held": counted[org_id], "teacher_ids": ids}
            for org_id, ids in held.items()]


async def training_plan(conn: AsyncConnection, model: ReadModel, semester: str, after: paging.Key | None,
                        limit: int) -> dict:
    """S8: a semester's training plan as last published, one page of its sessions in order; a
    cursor goes on through the edition it started with."""
    found, sessions, next_cursor = await _edition_page(
        conn, (model.training_plans, model.training_plan_editions, model.training_plan_sessions), "semester",
        semester, "session", paging.TRAINING_PLAN, after, limit)
    if found is None:
        return {"semester": semester, "published": False, "edition": None, "published_on": None,
                "before_semester": None, "session_count": 0, "sessions": [], "next_cursor": None}
    return {"semester": semester, "published": True, "edition": found["edition"],
            "published_on": found["published_on"], "before_semester": found["before_semester"],
            "session_count": found["session_count"], "sessions": sessions, "next_cursor": next_cursor}


async def training_sessions(conn: AsyncConnection, model: ReadModel, semester: str, organiser: str | None,
                            after: paging.Key | None, limit: int) -> dict:
    """S8: one page of a semester's sessions held, newest first."""
    t = model.training_sessions
    where = [t.c.semester == semester] + ([t.c.organiser_org_id == organiser] if organiser else []) + (
        [t.c.sequence < after[0]] if after else [])
    rows = [_row(r) for r in await conn.execute(
        sa.select(t).where(*where).order_by(t.c.sequence.desc()).limit(limit + 1))]
    listed, next_cursor = paging.page(rows, limit, paging.TRAINING_SESSIONS, lambda row: (row["sequence"],))
    return {"semester": semester, "sessions": listed, "next_cursor": next_cursor}


async def meetings(conn: AsyncConnection, model: ReadModel, semester: str, organiser: str | None,
                   after: paging.Key | None, limit: int, distant: Callable[[dict], int]) -> dict:
    """S9: one page of a semester's meetings, newest first, each with its distant participants
    (``distant``: counted from the distance table) and ``merge_with``: the alike meetings of its
    organiser that week."""
    m, w = model.meetings, model.meeting_weeks
    where = [m.c.semester == semester] + ([m.c.organiser_org_id == organiser] if organiser else []) + (
        [m.c.sequence < after[0]] if after else [])
    rows = [_row(r) for r in await conn.execute(
        sa.select(m).where(*where).order_by(m.c.sequence.desc()).limit(limit + 1))]
    merge_with = dict((await conn.execute(sa.select(w.c.meeting_id, w.c.merge_with).where(
        w.c.meeting_id.in_([row["meeting_id"] for row in rows])))).all())
    listed, next_cursor = paging.page(
        ({**row, "distant_participants": distant(row), "merge_with": merge_with.get(row["meeting_id"], [])}
         for row in rows), limit, paging.MEETINGS, lambda row: (row["sequence"],))
    return {"semester": semester, "meetings": listed, "next_cursor": next_cursor}


async def meeting_counters(conn: AsyncConnection, model: ReadModel, semester: str, *, scope: dict[str, str],
                           outside_education: Callable[[str], bool], cap: int, after: paging.Key | None,
                           limit: int) -> dict:
    """S10: one page of teachers (within ``scope``), by id: the semester's meetings required at,
    those scheduled by units outside education against the cap, and the ``MeetingQuotaExceeded``
    found. Paged because meetings name up to 2,000 teachers each, unchecked against the register."""
    t, by = model.teacher_semesters, model.teacher_meetings
    where = [t.c.semester == semester] + [t.c[column] == value for column, value in scope.items()] + (
        [t.c.teacher_id > after[0]] if after else [])
    rows = [_row(r) for r in await conn.execute(
        sa.select(t).where(*where).order_by(t.c.teacher_id).limit(limit + 1))]
    outside: Counter[str] = Counter()
    for teacher_id, organiser, count in await conn.execute(
            sa.select(by.c.teacher_id, by.c.organiser_org_id, by.c.meetings).where(
                by.c.semester == semester, by.c.teacher_id.in_([row["teacher_id"] for row in rows]))):
        if outside_education(organiser):
            outside[teacher_id] += count
    listed, next_cursor = paging.page(({
        "teacher_id": row["teacher_id"], "school_id": row["school_id"], "meetings": row["meetings"],
        "non_education_meetings": outside[row["teacher_id"]],
        "over_cap": max(outside[row["teacher_id"]] - cap, 0), "quota_violations": row["quota_violations"]}
        for row in rows), limit, paging.MEETING_COUNTERS, lambda row: (row["teacher_id"],))
    return {"semester": semester, "cap": cap, "teachers": listed, "next_cursor": next_cursor}


# G2 (issue 11): escalation cases, their history, circulations, alert deliveries.

async def case(conn: AsyncConnection, model: ReadModel, escalation_id: str) -> dict | None:
    row = (await conn.execute(sa.select(model.g2_cases).where(model.g2_cases.c.escalation_id == escalation_id))).first()
    return None if row is None else _row(row)


async def cases(conn: AsyncConnection, model: ReadModel, *, stage: int | None, responsible_org_id: str | None,
                open_: bool | None, after: paging.Key | None, limit: int) -> dict:
    """G2: one page of the escalations, newest first (keyset on the sequence that first named each)."""
    t = model.g2_cases
    where = [column == value for column, value in ((t.c.stage, stage), (t.c.responsible_org_id, responsible_org_id),
                                                   (t.c.open, open_)) if value is not None]
    if after is not None:
        where.append(t.c.first_sequence < after[0])
    rows = [_row(r) for r in await conn.execute(
        sa.select(t).where(*where).order_by(t.c.first_sequence.desc()).limit(limit + 1))]
    listed, next_cursor = paging.page(rows, limit, paging.CASES, lambda row: (row["first_sequence"],))
    return {"cases": listed, "count": len(listed), "next_cursor": next_cursor}


async def case_history(conn: AsyncConnection, model: ReadModel, escalation_id: str, after: paging.Key | None,
                       limit: int) -> dict:
    """G2: one page of an escalation's events in log order."""
    t = model.g2_history
    where = [t.c.escalation_id == escalation_id] + ([t.c.sequence > after[0]] if after else [])
    rows = [_row(r) for r in await conn.execute(sa.select(t).where(*where).order_by(t.c.sequence).limit(limit + 1))]
    listed, next_cursor = paging.page(rows, limit, paging.CASE_HISTORY, lambda row: (row["sequence"],))
    return {"escalation_id": escalation_id, "events": listed, "next_cursor": next_cursor}


async def circulations(conn: AsyncConnection, model: ReadModel, year: int, responsible_org_id: str | None,
                       after: paging.Key | None, limit: int) -> dict:
    """G2: one page of a year's circulations, in the order they were proposed."""
    t = model.g2_circulations
    where = [t.c.year == year] + ([t.c.responsible_org_id == responsible_org_id] if responsible_org_id else []) + (
        [t.c.proposed_sequence > after[0]] if after else [])
    rows = [_row(r) for r in await conn.execute(
        sa.select(t).where(*where).order_by(t.c.proposed_sequence).limit(limit + 1))]
    listed, next_cursor = paging.page(rows, limit, paging.CIRCULATIONS, lambda row: (row["proposed_sequence"],))
    return {"year": year, "circulations": listed, "next_cursor": next_cursor}


async def alert_deliveries(conn: AsyncConnection, model: ReadModel, org_id: str | None, alert_id: str | None,
                           after: paging.Key | None, limit: int) -> dict:
    """G2: one page of the deliveries, by alert and channel."""
    t = model.g2_alert_deliveries
    where = [column == value for column, value in ((t.c.org_id, org_id), (t.c.alert_id, alert_id)) if value]
    if after is not None:
        where.append(sa.or_(t.c.alert_id > after[0], sa.and_(t.c.alert_id == after[0], t.c.channel > after[1])))
    rows = [_row(r) for r in await conn.execute(
        sa.select(t).where(*where).order_by(t.c.alert_id, t.c.channel).limit(limit + 1))]
    listed, next_cursor = paging.page(rows, limit, paging.ALERT_DELIVERIES,
                                      lambda row: (row["alert_id"], row["channel"]))
    return {"deliveries": listed, "next_cursor": next_cursor}
