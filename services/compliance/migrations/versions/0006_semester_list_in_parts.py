"""The semester list in parts (issue 7): an edition's items are rows of their own, received part
by part, so neither an event nor a reply nears NATS's 1 MB payload limit however large the district.

``compliance_semester_lists`` keeps the latest edition published whole, without its items;
``compliance_semester_list_editions`` counts the parts of each edition received;
``compliance_semester_list_items`` holds the items. Frozen copies of the tables at this revision.
As 0005, it empties every read-model table and the checkpoint: the projector replays the log on
its next start.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

LIVE = "compliance_"
EMPTIED = ("checkpoint", "quarantined_events", "chain_heads", "applications", "application_schools",
           "authorisations", "campus_entries", "campus_entry_items", "held_reports", "violations")


def _s(length: int = 64) -> sa.String:
    return sa.String(length)


def upgrade() -> None:
    op.drop_table(f"{LIVE}semester_lists")
    for table in EMPTIED:
        op.execute(f"DELETE FROM {LIVE}{table}")
    op.create_table(f"{LIVE}semester_lists",
                    sa.Column("semester", _s(16), nullable=False), sa.Column("edition", sa.Integer, nullable=False),
                    sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
                    sa.Column("item_count", sa.Integer, nullable=False), sa.Column("event_id", _s(36), nullable=False),
                    sa.Column("sequence", sa.BigInteger, nullable=False),
                    sa.PrimaryKeyConstraint("semester", name=f"{LIVE}semester_lists_pkey"))
    op.create_table(f"{LIVE}semester_list_editions",
                    sa.Column("semester", _s(16), nullable=False), sa.Column("edition", sa.Integer, nullable=False),
                    sa.Column("parts", sa.Integer, nullable=False), sa.Column("parts_received", sa.Integer, nullable=False),
                    sa.Column("item_count", sa.Integer, nullable=False),
                    sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
                    sa.Column("event_id", _s(36), nullable=False), sa.Column("sequence", sa.BigInteger, nullable=False),
                    sa.PrimaryKeyConstraint("semester", "edition", name=f"{LIVE}semester_list_editions_pkey"))
    op.create_table(f"{LIVE}semester_list_items",
                    sa.Column("semester", _s(16), nullable=False), sa.Column("edition", sa.Integer, nullable=False),
                    sa.Column("position", sa.Integer, nullable=False), sa.Column("activity_id", _s(36), nullable=False),
                    sa.Column("item", sa.JSON, nullable=False),
                    sa.PrimaryKeyConstraint("semester", "edition", "position", name=f"{LIVE}semester_list_items_pkey"))


def downgrade() -> None:
    raise NotImplementedError("the read model before 0006 is rebuilt from the log, not migrated back")
