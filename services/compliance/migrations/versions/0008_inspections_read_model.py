"""The S1/S2 read model (issue 9): the year's checklist (Attachment 2), the items of the annual
plans by status, visits per school and year, data requests and the fields asked of each school.

Frozen copies of the new tables at this revision. The live read model's checkpoint is past the
S1/S2 events already in the log, which the projector skipped before this revision (it had no use
for them); so, as 0005-0007, this revision empties the read model with its checkpoint, quarantine
and chain heads, and the projector replays the log from sequence 1 on its next start. The
detector's state (``compliance_detector_*``) is left as it is.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

LIVE = "compliance_"
EMPTIED = ("checkpoint", "quarantined_events", "chain_heads", "applications", "application_schools",
           "authorisations", "semester_lists", "semester_list_editions", "semester_list_items", "campus_entries",
           "campus_entry_items", "held_reports", "refused_entries", "violations")
SCHOOL_COUNTERS = ("visits", "unplanned_visits", "disguised_visits", "over_frequency_visits", "data_requests",
                   "requested_fields", "distinct_fields", "duplicate_requests", "short_deadline_requests")


def _s(length: int = 64) -> sa.String:
    return sa.String(length)


def _create(name: str, *columns: sa.Column, key: tuple[str, ...]) -> None:
    op.create_table(f"{LIVE}{name}", *columns, sa.PrimaryKeyConstraint(*key, name=f"{LIVE}{name}_pkey"))


def _items() -> None:
    seq = sa.BigInteger
    _create("inspection_items",
            sa.Column("item_id", _s(36), nullable=False), sa.Column("year", sa.Integer, nullable=False),
            sa.Column("lead_org_id", _s()), sa.Column("title", sa.Text), sa.Column("sub_item", sa.Text),
            sa.Column("category", _s(16)), sa.Column("policy_basis", sa.Text), sa.Column("target", sa.JSON),
            sa.Column("method", sa.Text), sa.Column("indicators", sa.Integer),
            sa.Column("frequency_per_year", sa.Integer), sa.Column("planned_months", sa.JSON),
            sa.Column("data_fields", sa.JSON), sa.Column("archive_sets", sa.Integer),
            sa.Column("urgency_reason", sa.Text), sa.Column("late", sa.Boolean), sa.Column("proposed_on", sa.Date),
            sa.Column("status", _s(16), nullable=False), sa.Column("refusal_code", _s(40)),
            sa.Column("refusal_reason", sa.Text), sa.Column("automatic", sa.Boolean),
            sa.Column("approved_by_org_id", _s()), sa.Column("note", sa.Text), sa.Column("merged_item_ids", sa.JSON),
            sa.Column("into_item_id", _s(36)), sa.Column("unauthorized_setter_violation_id", _s(40)),
            sa.Column("first_sequence", seq, nullable=False), sa.Column("decided_sequence", seq),
            key=("item_id",))
    op.create_index(f"{LIVE}inspection_items_ix1", f"{LIVE}inspection_items", ["year", "first_sequence", "item_id"])
    _create("inspection_item_units",
            sa.Column("org_id", _s(), nullable=False), sa.Column("year", sa.Integer, nullable=False),
            sa.Column("item_id", _s(36), nullable=False), sa.Column("role", _s(8), nullable=False),
            key=("org_id", "year", "item_id"))


def _checklist() -> None:
    seq, at = sa.BigInteger, sa.DateTime(timezone=True)
    _create("inspection_checklists",
            sa.Column("year", sa.Integer, nullable=False), sa.Column("edition", sa.Integer, nullable=False),
            sa.Column("published_at", at, nullable=False), sa.Column("row_count", sa.Integer, nullable=False),
            sa.Column("event_id", _s(36), nullable=False), sa.Column("sequence", seq, nullable=False), key=("year",))
    _create("inspection_checklist_editions",
            sa.Column("year", sa.Integer, nullable=False), sa.Column("edition", sa.Integer, nullable=False),
            sa.Column("parts", sa.Integer, nullable=False), sa.Column("parts_received", sa.Integer, nullable=False),
            sa.Column("row_count", sa.Integer, nullable=False), sa.Column("published_at", at, nullable=False),
            sa.Column("event_id", _s(36), nullable=False), sa.Column("sequence", seq, nullable=False),
            key=("year", "edition"))
    _create("inspection_checklist_rows",
            sa.Column("year", sa.Integer, nullable=False), sa.Column("edition", sa.Integer, nullable=False),
            sa.Column("position", sa.Integer, nullable=False), sa.Column("item_id", _s(36), nullable=False),
            sa.Column("row", sa.JSON, nullable=False), key=("year", "edition", "position"))


def _visits_and_requests() -> None:
    seq = sa.BigInteger
    _create("inspection_visits",
            sa.Column("school_id", _s(), nullable=False), sa.Column("visit_id", _s(36), nullable=False),
            sa.Column("year", sa.Integer, nullable=False), sa.Column("visited_on", sa.Date, nullable=False),
            sa.Column("visiting_org_id", _s(), nullable=False), sa.Column("item_id", _s(36)),
            sa.Column("label", _s(16), nullable=False), sa.Column("graded", sa.Boolean, nullable=False),
            sa.Column("grading", sa.Text, nullable=False), sa.Column("reported_by_org_id", _s(), nullable=False),
            sa.Column("reports", sa.Integer, nullable=False), sa.Column("unplanned_violation_id", _s(40)),
            sa.Column("disguised_violation_id", _s(40)), sa.Column("over_frequency_violation_id", _s(40)),
            sa.Column("event_id", _s(36), nullable=False), sa.Column("sequence", seq, nullable=False),
            key=("school_id", "visit_id"))
    _create("inspection_school_years",
            sa.Column("school_id", _s(), nullable=False), sa.Column("year", sa.Integer, nullable=False),
            *(sa.Column(name, sa.Integer, nullable=False) for name in SCHOOL_COUNTERS), key=("school_id", "year"))
    _create("data_requests",
            sa.Column("request_id", _s(36), nullable=False), sa.Column("year", sa.Integer, nullable=False),
            sa.Column("requester_org_id", _s(), nullable=False), sa.Column("title", sa.Text, nullable=False),
            sa.Column("fields", sa.JSON, nullable=False), sa.Column("school_count", sa.Integer, nullable=False),
            sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("deadline", sa.DateTime(timezone=True), nullable=False), sa.Column("item_id", _s(36)),
            sa.Column("short_deadline_violation_id", _s(40)), sa.Column("event_id", _s(36), nullable=False),
            sa.Column("sequence", seq, nullable=False), key=("request_id",))
    _create("data_request_schools",
            sa.Column("school_id", _s(), nullable=False), sa.Column("request_id", _s(36), nullable=False),
            sa.Column("year", sa.Integer, nullable=False), sa.Column("fields", sa.Integer, nullable=False),
            sa.Column("new_fields", sa.Integer, nullable=False), sa.Column("duplicate_violation_id", _s(40)),
            sa.Column("short_deadline_violation_id", _s(40)), sa.Column("sequence", seq, nullable=False),
            key=("school_id", "request_id"))
    _create("requested_fields",
            sa.Column("school_id", _s(), nullable=False), sa.Column("year", sa.Integer, nullable=False),
            sa.Column("field_key", _s(40), nullable=False), sa.Column("field", sa.Text, nullable=False),
            sa.Column("first_request_id", _s(36), nullable=False),
            sa.Column("first_requester_org_id", _s(), nullable=False), sa.Column("requests", sa.Integer, nullable=False),
            key=("school_id", "year", "field_key"))


def upgrade() -> None:
    for table in EMPTIED:
        op.execute(f"DELETE FROM {LIVE}{table}")
    _items()
    _checklist()
    _visits_and_requests()


def downgrade() -> None:
    raise NotImplementedError("the read model before 0008 is rebuilt from the log, not migrated back")
