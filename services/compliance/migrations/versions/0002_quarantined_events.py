"""Quarantined events: those the projector could not apply and passed (issue 5).

A frozen copy of the ``quarantined_events`` table of ``read_model.build_tables("compliance_")``
as it was at this revision.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLE = "compliance_quarantined_events"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("sequence", sa.BigInteger, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("event_id", sa.Text),
        sa.Column("event_type", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("sequence", name=f"{TABLE}_pkey"),
    )


def downgrade() -> None:
    op.drop_table(TABLE)
