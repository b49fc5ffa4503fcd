"""The S7–S10 detector's state (issue 10): each teacher's last departure with its run, what falls
due on which day (the first day beyond the half year, the notice before a last day), the last day
ended, each semester's training plan in force, and the meetings of units outside education each
teacher was required at.

Frozen copies of the new tables at this revision. The detector's checkpoint may be past S7–S10
events already in the log: the command services that append them can be upgraded before this
service, and the detector before this revision passed over what it did not handle. So, as
0005-0007 and 0009, this revision empties the detector's state with its checkpoint, quarantine and
chain heads: it replays the log from sequence 1 on its next start and meets every departure,
return, session, meeting and DayEnded in log order. Violations and notices it had recorded are
found again under the same ids and appended nothing; the read model is left as it is.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

DETECTOR = "compliance_detector_"
EMPTIED = ("checkpoint", "quarantined_events", "chain_heads", "authorisations", "semester_lists",
           "semester_list_editions", "items", "sessions", "catalogue_editions", "catalogue_items",
           "inspection_items", "merged_sources", "merges", "checklists", "checklist_editions", "checklist_rows",
           "inspection_visits", "item_visits", "requested_fields")


def _s(length: int = 64) -> sa.String:
    return sa.String(length)


def _create(name: str, *columns: sa.Column, key: tuple[str, ...]) -> None:
    op.create_table(f"{DETECTOR}{name}", *columns, sa.PrimaryKeyConstraint(*key, name=f"{DETECTOR}{name}_pkey"))


def _departure() -> list[sa.Column]:
    return [sa.Column("teacher_id", _s(), nullable=False), sa.Column("school_id", _s(), nullable=False),
            sa.Column("borrowing_org_id", _s(), nullable=False), sa.Column("secondment_id", _s(36)),
            sa.Column("left_on", sa.Date, nullable=False), sa.Column("ends_on", sa.Date),
            sa.Column("run_start", sa.Date, nullable=False), sa.Column("event_id", _s(36), nullable=False),
            sa.Column("returned_on", sa.Date), sa.Column("max_days", sa.Integer, nullable=False),
            sa.Column("policy_version", _s(), nullable=False)]


def upgrade() -> None:
    _create("secondment_away", *_departure(), sa.Column("limit_due", sa.Date), sa.Column("notice_due", sa.Date),
            key=("teacher_id", "borrowing_org_id"))
    _create("secondment_due", sa.Column("day", sa.Date, nullable=False), sa.Column("kind", _s(16), nullable=False),
            *_departure(), key=("day", "teacher_id", "kind"))
    _create("days_ended", sa.Column("calendar", _s(16), nullable=False),
            sa.Column("last_day", sa.Date, nullable=False), key=("calendar",))
    _create("training_plans", sa.Column("semester", _s(16), nullable=False),
            sa.Column("edition", sa.Integer, nullable=False), sa.Column("event_id", _s(36), nullable=False),
            sa.Column("sessions", sa.JSON, nullable=False), key=("semester",))
    _create("teacher_meetings", sa.Column("semester", _s(16), nullable=False),
            sa.Column("teacher_id", _s(), nullable=False), sa.Column("meeting_id", _s(36), nullable=False),
            sa.Column("organiser_org_id", _s(), nullable=False), key=("semester", "teacher_id", "meeting_id"))
    for table in EMPTIED:
        op.execute(f"DELETE FROM {DETECTOR}{table}")


def downgrade() -> None:
    raise NotImplementedError("the detector's state before 0010 is rebuilt from the log, not migrated back")
