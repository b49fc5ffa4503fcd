"""Indexes for every filter the queries offer and for the projector's check for an earlier
report of the same unauthorised entry (issue 7): without them each page sorted the whole
violations table and each school report read every earlier report of its school.

Names follow ``read_model._table``: ``<table>_ix<n>``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

INDEXES = {
    "compliance_held_reports": (("semester", "school_id", "unauthorised_violation_id"),),
    "compliance_violations": (("sequence",), ("semester", "sequence"), ("responsible_org_id", "sequence"),
                              ("school_id", "sequence")),
}


def upgrade() -> None:
    for table, indexes in INDEXES.items():
        for n, columns in enumerate(indexes, 1):
            op.create_index(f"{table}_ix{n}", table, list(columns))


def downgrade() -> None:
    for table, indexes in INDEXES.items():
        for n in range(1, len(indexes) + 1):
            op.drop_index(f"{table}_ix{n}", table_name=table)
