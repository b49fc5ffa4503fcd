"""The projector's SQL, built once per read model and dialect and executed with parameters.

Building a SQLAlchemy statement costs more than running it on a local database, and a school
report takes six of them; prebuilt statements keep a rebuild of a year's log fast. Upserts use
``INSERT ... ON CONFLICT``, spelled the same by PostgreSQL and SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sqlalchemy as sa
from jianfu.compliance.read_model import ReadModel
from sqlalchemy.dialects import postgresql, sqlite

REQUEST_FIELDS = ("applicant_org_id", "title", "route", "declaration_type", "in_window", "declared_on",
                  "requested_sequence")
ADMISSION_FIELDS = ("status", "decided_sequence", "exempt_category")
REFUSAL_FIELDS = ("status", "refusal_code", "refusal_reason", "automatic", "decided_sequence")
COUNTERS = ("certified_items", "urgent_items", "exempt_items", "held_reports", "held_items",
            "unauthorised_entries", "items_over_cap")
AUTHORISED = ("certified", "exempt")


@dataclass(frozen=True)
class Statements:
    request: sa.Executable
    admission: sa.Executable
    refusal: sa.Executable
    status: sa.Executable
    school: sa.Executable
    bump: sa.Executable
    semester_list: sa.Executable
    report_seen: sa.Executable
    authorisations: sa.Executable
    items_held: sa.Executable
    report: sa.Executable
    new_item: sa.Executable
    item_again: sa.Executable
    violation: sa.Executable


def _updating(insert, table: sa.Table, key: tuple[str, ...], fields: tuple[str, ...]):
    statement = insert(table)
    return statement.on_conflict_do_update(index_elements=list(key),
                                           set_={name: statement.excluded[name] for name in fields})


@lru_cache(maxsize=16)
def statements(model: ReadModel, dialect: str) -> Statements:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    a, s, c, r, i, lists = (model.applications, model.application_schools, model.campus_entries,
                            model.held_reports, model.campus_entry_items, model.semester_lists)
    application_key = ("semester", "activity_id")
    p = sa.bindparam
    bump = insert(c)
    # The inserted values are the increments: a new row starts at them, an existing one adds them.
    bump = bump.on_conflict_do_update(index_elements=["semester", "school_id"],
                                      set_={name: c.c[name] + bump.excluded[name] for name in COUNTERS})
    return Statements(
        request=_updating(insert, a, application_key, REQUEST_FIELDS),
        admission=_updating(insert, a, application_key, ADMISSION_FIELDS),
        refusal=_updating(insert, a, application_key, REFUSAL_FIELDS),
        status=sa.select(a.c.status).where(a.c.semester == p("p_semester"), a.c.activity_id == p("p_activity_id")),
        school=insert(s).on_conflict_do_nothing(index_elements=["semester", "school_id", "activity_id"]),
        bump=bump,
        semester_list=_updating(insert, lists, ("semester",), tuple(
            col.name for col in lists.columns if col.name != "semester")),
        # The report itself (already applied?) and any earlier report of the same unauthorised entry.
        report_seen=sa.select(r.c.report_id, r.c.unauthorised_violation_id).where(
            r.c.semester == p("p_semester"), r.c.school_id == p("p_school_id"),
            sa.or_(r.c.report_id == p("p_report_id"), r.c.unauthorised_violation_id == p("p_violation_id"))),
        authorisations=sa.select(a.c.activity_id, a.c.title)
        .join(s, sa.and_(s.c.semester == a.c.semester, s.c.activity_id == a.c.activity_id))
        .where(s.c.semester == p("p_semester"), s.c.school_id == p("p_school_id"),
               a.c.applicant_org_id == p("p_organizer"), a.c.status.in_(AUTHORISED))
        .order_by(a.c.decided_sequence, a.c.activity_id),
        items_held=sa.select(i.c.item_key).where(i.c.semester == p("p_semester"), i.c.school_id == p("p_school_id")),
        report=r.insert(),
        new_item=i.insert(),
        item_again=i.update().where(
            i.c.semester == p("p_semester"), i.c.school_id == p("p_school_id"), i.c.item_key == p("p_item_key"),
        ).values(reports=i.c.reports + 1, authorised=sa.or_(i.c.authorised, p("p_authorised", type_=sa.Boolean))),
        violation=insert(model.violations).on_conflict_do_nothing(index_elements=["violation_id"]),
    )


def counters(**increments: int) -> dict[str, int]:
    """Parameters of ``bump``: every counter, zero unless given."""
    return {name: increments.get(name, 0) for name in COUNTERS}
