"""The G2 deadline sweep's state (issue 11): each escalation's current rectification deadline,
what falls due on which day, and the last day ended.

Frozen copies of the new tables at this revision. The detector's checkpoint may be past escalation
steps with ``rectify_by`` and ``DayEnded`` events already in the log: notifications can be
upgraded before this service, and the detector before this revision passed over what it did not
handle. So, as 0005-0007, 0009 and 0010, this revision empties the detector's state with its
checkpoint, quarantine and chain heads: it replays the log from sequence 1 on its next start and
meets every step, verification and DayEnded in log order. Violations, notices and missed deadlines
it had recorded are found again under the same ids and appended nothing; the read model is left
as it is.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

DETECTOR = "compliance_detector_"
EMPTIED = ("checkpoint", "quarantined_events", "chain_heads", "authorisations", "semester_lists",
           "semester_list_editions", "items", "sessions", "catalogue_editions", "catalogue_items",
           "inspection_items", "merged_sources", "merges", "checklists", "checklist_editions", "checklist_rows",
           "inspection_visits", "item_visits", "requested_fields", "secondment_away", "secondment_due",
           "days_ended", "training_plans", "teacher_meetings")


def _s(length: int = 64) -> sa.String:
    return sa.String(length)


def _create(name: str, *columns: sa.Column, key: tuple[str, ...]) -> None:
    op.create_table(f"{DETECTOR}{name}", *columns, sa.PrimaryKeyConstraint(*key, name=f"{DETECTOR}{name}_pkey"))


def _deadline() -> list[sa.Column]:
    return [sa.Column("escalation_id", _s(), nullable=False),
            sa.Column("responsible_org_id", sa.String(200), nullable=False),
            sa.Column("step_event_id", _s(36), nullable=False),
            sa.Column("rectify_by", sa.Date, nullable=False)]


def upgrade() -> None:
    _create("rectification_deadlines", *_deadline(), sa.Column("due", sa.Date), key=("escalation_id",))
    _create("rectification_due", sa.Column("day", sa.Date, nullable=False), *_deadline(),
            sa.Column("current", sa.Boolean, nullable=False), key=("day", "escalation_id"))
    _create("rectification_days_ended", sa.Column("calendar", _s(16), nullable=False),
            sa.Column("last_day", sa.Date, nullable=False), key=("calendar",))
    for table in EMPTIED:
        op.execute(f"DELETE FROM {DETECTOR}{table}")


def downgrade() -> None:
    raise NotImplementedError("the detector's state before 0012 is rebuilt from the log, not migrated back")
