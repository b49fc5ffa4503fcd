"""Chain heads: the last good event of every aggregate the projector has seen (issue 6).

A frozen copy of the ``chain_heads`` table of ``read_model.build_tables("compliance_")`` as it
was at this revision. A read model projected before it has no heads, so the projector would
take the next event of every older aggregate for a forgery: after upgrading such a read model,
run ``jianfu rebuild``, which replays the log into fresh tables, heads included.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLE = "compliance_chain_heads"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("sequence", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("subject", name=f"{TABLE}_pkey"),
    )


def downgrade() -> None:
    op.drop_table(TABLE)
