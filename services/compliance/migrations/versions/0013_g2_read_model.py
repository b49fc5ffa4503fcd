"""The G2 read model (issue 11): the escalation cases, each escalation's history, the
circulations by year and the deliveries of alerts.

Frozen copies of the new tables at this revision. The read model's checkpoint may be past
escalation steps, violations and alert deliveries already in the log (notifications can be
upgraded before this service, and the projector before this revision passed over what it did not
handle). So, as 0008 and 0011, it empties the read model with its checkpoint, quarantine and
chain heads: the projector replays the log from sequence 1 on its next start and folds them into
the new tables in log order. The detector's state (``compliance_detector_*``) is left as it is.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

LIVE = "compliance_"
EMPTIED = ("checkpoint", "quarantined_events", "chain_heads", "applications", "application_schools",
           "authorisations", "semester_lists", "semester_list_editions", "semester_list_items", "campus_entries",
           "campus_entry_items", "held_reports", "refused_entries", "violations", "inspection_items",
           "inspection_item_units", "inspection_checklists", "inspection_checklist_editions",
           "inspection_checklist_rows", "inspection_visits", "inspection_school_years", "data_requests",
           "data_request_schools", "requested_fields", "teachers", "secondments", "departures", "calendar_days",
           "training_plans", "training_plan_editions", "training_plan_sessions", "training_sessions", "meetings",
           "meeting_weeks", "teacher_meetings", "teacher_semesters")
SEQ, DAY, COUNT, UNIT = sa.BigInteger, sa.Date, sa.Integer, sa.String(200)


def _s(length: int = 64) -> sa.String:
    return sa.String(length)


def _create(name: str, *columns: sa.Column, key: tuple[str, ...], indexes: tuple[tuple[str, ...], ...] = ()) -> None:
    op.create_table(f"{LIVE}{name}", *columns, sa.PrimaryKeyConstraint(*key, name=f"{LIVE}{name}_pkey"))
    for n, columns_of_index in enumerate(indexes, 1):
        op.create_index(f"{LIVE}{name}_ix{n}", f"{LIVE}{name}", list(columns_of_index))


def upgrade() -> None:
    for table in EMPTIED:
        op.execute(f"DELETE FROM {LIVE}{table}")
    _create("g2_cases",
            sa.Column("escalation_id", _s(80), nullable=False), sa.Column("responsible_org_id", UNIT, nullable=False),
            sa.Column("issue_key", sa.String(200), nullable=False), sa.Column("rule", _s(), nullable=False),
            sa.Column("stage", COUNT, nullable=False), sa.Column("open", sa.Boolean, nullable=False),
            sa.Column("cases", COUNT, nullable=False), sa.Column("rectify_by", DAY),
            sa.Column("violations", COUNT, nullable=False), sa.Column("case_violations", COUNT, nullable=False),
            sa.Column("warnings_in_window", COUNT, nullable=False),
            sa.Column("deadlines_missed", COUNT, nullable=False),
            sa.Column("first_sequence", SEQ, nullable=False), sa.Column("sequence", SEQ, nullable=False),
            key=("escalation_id",), indexes=(("first_sequence",), ("responsible_org_id", "first_sequence")))
    _create("g2_history",
            sa.Column("escalation_id", _s(80), nullable=False), sa.Column("sequence", SEQ, nullable=False),
            sa.Column("event_id", _s(36), nullable=False), sa.Column("event_type", _s(), nullable=False),
            sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False), sa.Column("stage", COUNT),
            sa.Column("data", sa.JSON, nullable=False), key=("escalation_id", "sequence"))
    _create("g2_circulations",
            sa.Column("proposal_id", _s(80), nullable=False), sa.Column("year", COUNT, nullable=False),
            sa.Column("number", COUNT), sa.Column("document_number", _s(80)),
            sa.Column("escalation_id", _s(80), nullable=False), sa.Column("responsible_org_id", UNIT, nullable=False),
            sa.Column("issue_key", sa.String(200), nullable=False), sa.Column("rule", _s(), nullable=False),
            sa.Column("stage", COUNT, nullable=False), sa.Column("status", _s(16), nullable=False),
            sa.Column("proposed_on", DAY, nullable=False), sa.Column("decided_on", DAY),
            sa.Column("decided_by_org_id", _s()), sa.Column("decided_by_person", sa.Text),
            sa.Column("reason", sa.Text), sa.Column("proposed_sequence", SEQ, nullable=False),
            sa.Column("sequence", SEQ, nullable=False),
            key=("proposal_id",), indexes=(("year", "proposed_sequence"),))
    _create("g2_alert_deliveries",
            sa.Column("alert_id", _s(80), nullable=False), sa.Column("channel", _s(16), nullable=False),
            sa.Column("org_id", UNIT, nullable=False), sa.Column("target", sa.Text, nullable=False),
            sa.Column("status", _s(16), nullable=False), sa.Column("failed_attempts", COUNT, nullable=False),
            sa.Column("attempts", COUNT, nullable=False), sa.Column("last_error", sa.Text),
            sa.Column("delivered_at", sa.DateTime(timezone=True)),
            sa.Column("last_failed_at", sa.DateTime(timezone=True)),
            sa.Column("first_sequence", SEQ, nullable=False), sa.Column("sequence", SEQ, nullable=False),
            key=("alert_id", "channel"), indexes=(("org_id", "alert_id", "channel"),))


def downgrade() -> None:
    raise NotImplementedError("the read model before 0013 is rebuilt from the log, not migrated back")
