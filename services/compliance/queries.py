"""Reads of the compliance read model, as JSON-ready dicts. Who may see what is decided by the
query handlers (``handlers.py``); these functions take the scope they are given."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import sqlalchemy as sa
from jianfu.compliance import paging
from jianfu.compliance.checkpoint import read_checkpoint
from jianfu.compliance.database import plain
from jianfu.compliance.domain.campus_entry_view import COUNTERS
from jianfu.compliance.domain.inspection_view import IN_PLAN, SCHOOL_COUNTERS, STATUSES
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
                     rule: str | None, visible_to: str | None, after: paging.Key | None, limit: int) -> dict:
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
