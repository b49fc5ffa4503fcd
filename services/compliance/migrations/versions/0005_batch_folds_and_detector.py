"""Batch-folded projections and a detector of its own (issue 7).

The read model no longer runs the S3 rules: its violation columns come from ``ViolationDetected``
events, and what each organizer may bring into each school is a table of its own
(``compliance_authorisations``), read by key. The detector keeps its own state in
``compliance_detector_*`` with its own checkpoint. Frozen copies of the tables as they were at
this revision.

The old read model's rows were made under other rules (violation columns from the projector's
own judgement), so this revision empties every read-model table and its checkpoint: on start the
projector replays the log from sequence 1, as a rebuild would. The detector starts at 1 too and
finds every violation already in the log (each appended once: the ids follow from the facts).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

LIVE, DETECTOR = "compliance_", "compliance_detector_"
EMPTIED = ("checkpoint", "quarantined_events", "chain_heads", "applications", "application_schools",
           "semester_lists", "campus_entries", "violations")


def _s(length: int = 64) -> sa.String:
    return sa.String(length)


def _create(name: str, *columns: sa.Column, key: tuple[str, ...]) -> None:
    op.create_table(name, *columns, sa.PrimaryKeyConstraint(*key, name=f"{name}_pkey"))


def _authorisations(prefix: str) -> None:
    _create(f"{prefix}authorisations",
            sa.Column("semester", _s(16), nullable=False), sa.Column("school_id", _s(), nullable=False),
            sa.Column("organizer_org_id", _s(), nullable=False), sa.Column("activity_id", _s(36), nullable=False),
            sa.Column("title", sa.Text, nullable=False), sa.Column("decided_sequence", sa.BigInteger, nullable=False),
            key=("semester", "school_id", "organizer_org_id", "activity_id"))


def _bookkeeping(prefix: str) -> None:
    _create(f"{prefix}checkpoint", sa.Column("projection", _s(), nullable=False),
            sa.Column("last_sequence", sa.BigInteger, nullable=False), key=("projection",))
    _create(f"{prefix}quarantined_events", sa.Column("sequence", sa.BigInteger, nullable=False),
            sa.Column("subject", sa.Text, nullable=False), sa.Column("event_id", sa.Text),
            sa.Column("event_type", sa.Text), sa.Column("reason", sa.Text, nullable=False), key=("sequence",))
    _create(f"{prefix}chain_heads", sa.Column("subject", sa.String(255), nullable=False),
            sa.Column("sequence", sa.BigInteger, nullable=False), sa.Column("hash", _s(64), nullable=False),
            key=("subject",))


def upgrade() -> None:
    op.drop_index(f"{LIVE}held_reports_ix1", table_name=f"{LIVE}held_reports")
    op.drop_table(f"{LIVE}held_reports")
    op.drop_table(f"{LIVE}campus_entry_items")
    for table in EMPTIED:
        op.execute(f"DELETE FROM {LIVE}{table}")
    _authorisations(LIVE)
    _create(f"{LIVE}campus_entry_items",
            sa.Column("semester", _s(16), nullable=False), sa.Column("school_id", _s(), nullable=False),
            sa.Column("item_key", sa.String(300), nullable=False), sa.Column("ordinal", sa.Integer, nullable=False),
            sa.Column("organizer_org_id", _s(), nullable=False), sa.Column("title", sa.Text, nullable=False),
            sa.Column("first_report_id", _s(36), nullable=False), sa.Column("first_held_on", sa.Date, nullable=False),
            sa.Column("reports", sa.Integer, nullable=False), sa.Column("quota_violation_id", _s(40)),
            key=("semester", "school_id", "item_key"))
    _create(f"{LIVE}held_reports",
            sa.Column("semester", _s(16), nullable=False), sa.Column("school_id", _s(), nullable=False),
            sa.Column("report_id", _s(36), nullable=False), sa.Column("organizer_org_id", _s(), nullable=False),
            sa.Column("activity_id", _s(36)), sa.Column("title", sa.Text, nullable=False),
            sa.Column("held_on", sa.Date, nullable=False), sa.Column("participants", sa.Integer, nullable=False),
            sa.Column("teacher_hours", sa.Float, nullable=False), sa.Column("item_key", sa.String(300), nullable=False),
            sa.Column("unauthorised_violation_id", _s(40)), sa.Column("quota_violation_id", _s(40)),
            sa.Column("event_id", _s(36), nullable=False), sa.Column("sequence", sa.BigInteger, nullable=False),
            key=("semester", "school_id", "report_id"))
    _bookkeeping(DETECTOR)
    _authorisations(DETECTOR)
    _create(f"{DETECTOR}items",
            sa.Column("semester", _s(16), nullable=False), sa.Column("school_id", _s(), nullable=False),
            sa.Column("item_key", sa.String(300), nullable=False), sa.Column("first_report_id", _s(36), nullable=False),
            key=("semester", "school_id", "item_key"))


def downgrade() -> None:
    raise NotImplementedError("the read model before 0005 is rebuilt from the log, not migrated back")
