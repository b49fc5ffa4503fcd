"""S3 read model: checkpoint, applications, semester lists, campus-entry counters, held reports,
violations register.

A frozen copy of ``read_model.build_tables("compliance_")`` as it was at this revision: later
changes to the tables get a revision of their own. A test compares head with the metadata.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

P = "compliance_"


def _pk(name: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*columns, name=f"{P}{name}_pkey")


def upgrade() -> None:
    s16, s36, s40, s64 = sa.String(16), sa.String(36), sa.String(40), sa.String(64)
    op.create_table(
        f"{P}checkpoint",
        sa.Column("projection", s64, nullable=False),
        sa.Column("last_sequence", sa.BigInteger, nullable=False),
        _pk("checkpoint", "projection"),
    )
    op.create_table(
        f"{P}applications",
        sa.Column("semester", s16, nullable=False),
        sa.Column("activity_id", s36, nullable=False),
        sa.Column("applicant_org_id", s64, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("route", s16, nullable=False),
        sa.Column("declaration_type", s16),
        sa.Column("in_window", sa.Boolean),
        sa.Column("declared_on", sa.Date),
        sa.Column("status", s16, nullable=False),
        sa.Column("refusal_code", s40),
        sa.Column("refusal_reason", sa.Text),
        sa.Column("automatic", sa.Boolean),
        sa.Column("exempt_category", s40),
        sa.Column("requested_sequence", sa.BigInteger),
        sa.Column("decided_sequence", sa.BigInteger),
        _pk("applications", "semester", "activity_id"),
    )
    op.create_table(
        f"{P}application_schools",
        sa.Column("semester", s16, nullable=False),
        sa.Column("school_id", s64, nullable=False),
        sa.Column("activity_id", s36, nullable=False),
        _pk("application_schools", "semester", "school_id", "activity_id"),
    )
    op.create_table(
        f"{P}semester_lists",
        sa.Column("semester", s16, nullable=False),
        sa.Column("edition", sa.Integer, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("item_count", sa.Integer, nullable=False),
        sa.Column("items", sa.JSON, nullable=False),
        sa.Column("event_id", s36, nullable=False),
        sa.Column("sequence", sa.BigInteger, nullable=False),
        _pk("semester_lists", "semester"),
    )
    op.create_table(
        f"{P}campus_entries",
        sa.Column("semester", s16, nullable=False),
        sa.Column("school_id", s64, nullable=False),
        *(sa.Column(name, sa.Integer, nullable=False) for name in (
            "certified_items", "urgent_items", "exempt_items", "held_reports", "held_items",
            "unauthorised_entries", "items_over_cap")),
        _pk("campus_entries", "semester", "school_id"),
    )
    op.create_table(
        f"{P}campus_entry_items",
        sa.Column("semester", s16, nullable=False),
        sa.Column("school_id", s64, nullable=False),
        sa.Column("item_key", sa.String(300), nullable=False),
        sa.Column("ordinal", sa.Integer, nullable=False),
        sa.Column("organizer_org_id", s64, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("first_report_id", s36, nullable=False),
        sa.Column("first_held_on", sa.Date, nullable=False),
        sa.Column("reports", sa.Integer, nullable=False),
        sa.Column("authorised", sa.Boolean, nullable=False),
        sa.Column("over_cap", sa.Boolean, nullable=False),
        _pk("campus_entry_items", "semester", "school_id", "item_key"),
    )
    op.create_table(
        f"{P}held_reports",
        sa.Column("semester", s16, nullable=False),
        sa.Column("school_id", s64, nullable=False),
        sa.Column("report_id", s36, nullable=False),
        sa.Column("organizer_org_id", s64, nullable=False),
        sa.Column("activity_id", s36),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("held_on", sa.Date, nullable=False),
        sa.Column("participants", sa.Integer, nullable=False),
        sa.Column("teacher_hours", sa.Float, nullable=False),
        sa.Column("item_key", sa.String(300), nullable=False),
        sa.Column("authorised_by", s36),
        sa.Column("unauthorised_violation_id", s40),
        sa.Column("quota_violation_id", s40),
        sa.Column("event_id", s36, nullable=False),
        sa.Column("sequence", sa.BigInteger, nullable=False),
        _pk("held_reports", "semester", "school_id", "report_id"),
    )
    op.create_table(
        f"{P}violations",
        sa.Column("violation_id", s40, nullable=False),
        sa.Column("rule", s64, nullable=False),
        sa.Column("clause", sa.String(8), nullable=False),
        sa.Column("responsible_org_id", s64, nullable=False),
        sa.Column("school_id", s64),
        sa.Column("semester", s16),
        sa.Column("issue_key", sa.String(200), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", s36, nullable=False),
        sa.Column("sequence", sa.BigInteger, nullable=False),
        _pk("violations", "violation_id"),
    )


def downgrade() -> None:
    for name in ("violations", "held_reports", "campus_entry_items", "campus_entries", "semester_lists",
                 "application_schools", "applications", "checkpoint"):
        op.drop_table(f"{P}{name}")
