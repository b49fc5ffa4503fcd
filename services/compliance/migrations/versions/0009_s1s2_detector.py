"""The S1/S2 detector's state (issue 9): items and their approvals and merges, the checklist
(Attachment 2) by edition with its rows by school, the visits judged and counted, and the fields
already asked of each school each year.

Frozen copies of the new tables at this revision. The detector's checkpoint is past the S1/S2
events already in the log (it had no use for them before this revision), so, as 0005-0007, this
revision empties the detector's state with its checkpoint, quarantine and chain heads: it replays
the log from sequence 1 on its next start. Violations it had recorded are found again under the
same ids and appended nothing; the read model is left as it is.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

DETECTOR = "compliance_detector_"
EMPTIED = ("checkpoint", "quarantined_events", "chain_heads", "authorisations", "semester_lists",
           "semester_list_editions", "items", "sessions", "catalogue_editions", "catalogue_items")


def _s(length: int = 64) -> sa.String:
    return sa.String(length)


def _create(name: str, *columns: sa.Column, key: tuple[str, ...]) -> None:
    op.create_table(f"{DETECTOR}{name}", *columns, sa.PrimaryKeyConstraint(*key, name=f"{DETECTOR}{name}_pkey"))


def upgrade() -> None:
    item, json = _s(36), sa.JSON
    _create("inspection_items",
            sa.Column("item_id", item, nullable=False), sa.Column("lead_org_id", _s(), nullable=False),
            sa.Column("title", sa.Text, nullable=False), sa.Column("by_education", sa.Boolean, nullable=False),
            sa.Column("approved", sa.Boolean, nullable=False), sa.Column("proposed_event_id", _s(36)),
            sa.Column("setter_charged", sa.Boolean, nullable=False), key=("item_id",))
    _create("merged_sources",
            sa.Column("merged_item_id", item, nullable=False), sa.Column("item_id", item, nullable=False),
            key=("merged_item_id", "item_id"))
    _create("merges",
            sa.Column("item_id", item, nullable=False), sa.Column("merged_item_id", item, nullable=False),
            sa.Column("approved", sa.Boolean, nullable=False), key=("item_id", "merged_item_id"))
    _create("checklists",
            sa.Column("year", sa.Integer, nullable=False), sa.Column("edition", sa.Integer, nullable=False),
            sa.Column("event_id", _s(36), nullable=False), key=("year",))
    _create("checklist_editions",
            sa.Column("year", sa.Integer, nullable=False), sa.Column("edition", sa.Integer, nullable=False),
            sa.Column("parts", sa.Integer, nullable=False), sa.Column("parts_received", sa.Integer, nullable=False),
            key=("year", "edition"))
    _create("checklist_rows",
            sa.Column("year", sa.Integer, nullable=False), sa.Column("school_id", _s(), nullable=False),
            sa.Column("edition", sa.Integer, nullable=False), sa.Column("item_id", item, nullable=False),
            sa.Column("units", json, nullable=False), sa.Column("months", json, nullable=False),
            sa.Column("frequency_per_year", sa.Integer, nullable=False),
            sa.Column("merged_item_ids", json, nullable=False), key=("year", "school_id", "edition", "item_id"))
    _create("inspection_visits",
            sa.Column("visit_id", item, nullable=False), sa.Column("event_id", _s(36), nullable=False),
            key=("visit_id",))
    _create("item_visits",
            sa.Column("year", sa.Integer, nullable=False), sa.Column("school_id", _s(), nullable=False),
            sa.Column("item_id", item, nullable=False), sa.Column("visit_id", item, nullable=False),
            key=("year", "school_id", "item_id", "visit_id"))
    _create("requested_fields",
            sa.Column("year", sa.Integer, nullable=False), sa.Column("school_id", _s(), nullable=False),
            sa.Column("field_key", _s(40), nullable=False), sa.Column("field", sa.Text, nullable=False),
            sa.Column("request_id", item, nullable=False), sa.Column("event_id", _s(36), nullable=False),
            sa.Column("requester_org_id", _s(), nullable=False), sa.Column("sequence", sa.BigInteger, nullable=False),
            key=("year", "school_id", "field_key"))
    for table in EMPTIED:
        op.execute(f"DELETE FROM {DETECTOR}{table}")


def downgrade() -> None:
    raise NotImplementedError("the detector's state before 0009 is rebuilt from the log, not migrated back")
