"""The S7–S10 read model (issue 10): teachers, secondments and departures, the last day ended,
the training plans and sessions, meetings by semester and by week, and per teacher and semester
the meetings required at; the violations register gains ``teacher_id`` (S7, S10), indexed for
``GetViolations`` by teacher.

Frozen copies of the new tables at this revision. As 0008, it empties the read model with its
checkpoint, quarantine and chain heads, so the projector replays the log from sequence 1 on its
next start and folds the S7–S10 events (and the ``DayEnded`` days) it passed by before; the
detector's state (``compliance_detector_*``) is left as it is.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

LIVE = "compliance_"
EMPTIED = ("checkpoint", "quarantined_events", "chain_heads", "applications", "application_schools",
           "authorisations", "semester_lists", "semester_list_editions", "semester_list_items", "campus_entries",
           "campus_entry_items", "held_reports", "refused_entries", "violations", "inspection_items",
           "inspection_item_units", "inspection_checklists", "inspection_checklist_editions",
           "inspection_checklist_rows", "inspection_visits", "inspection_school_years", "data_requests",
           "data_request_schools", "requested_fields")
SEQ, JSON, DAY, FLAG, COUNT = sa.BigInteger, sa.JSON, sa.Date, sa.Boolean, sa.Integer


def _s(length: int = 64) -> sa.String:
    return sa.String(length)


def _create(name: str, *columns: sa.Column, key: tuple[str, ...], indexes: tuple[tuple[str, ...], ...] = ()) -> None:
    op.create_table(f"{LIVE}{name}", *columns, sa.PrimaryKeyConstraint(*key, name=f"{LIVE}{name}_pkey"))
    for n, columns_of_index in enumerate(indexes, 1):
        op.create_index(f"{LIVE}{name}_ix{n}", f"{LIVE}{name}", list(columns_of_index))


def _teachers_and_secondments() -> None:
    _create("teachers",
            sa.Column("teacher_id", _s(), nullable=False), sa.Column("school_id", _s(), nullable=False),
            sa.Column("name", sa.Text, nullable=False), sa.Column("subject", sa.Text, nullable=False),
            sa.Column("previous_school_id", _s()), sa.Column("registrations", COUNT, nullable=False),
            sa.Column("first_sequence", SEQ, nullable=False), sa.Column("sequence", SEQ, nullable=False),
            key=("teacher_id",), indexes=(("school_id", "teacher_id"),))
    _create("secondments",
            sa.Column("teacher_id", _s(), nullable=False), sa.Column("entry_id", _s(), nullable=False),
            sa.Column("secondment_id", _s(36)), sa.Column("school_id", _s(), nullable=False),
            sa.Column("borrowing_org_id", _s(), nullable=False), sa.Column("task", sa.Text),
            sa.Column("starts_on", DAY), sa.Column("ends_on", DAY), sa.Column("days", COUNT),
            sa.Column("requested_on", DAY), sa.Column("status", _s(16), nullable=False),
            sa.Column("consented_by_org_id", _s()), sa.Column("approved_by_org_id", _s()),
            sa.Column("continuous_days", COUNT), sa.Column("refusal_stage", _s(16)),
            sa.Column("refused_by_org_id", _s()), sa.Column("refusal_code", _s(40)),
            sa.Column("refusal_reason", sa.Text), sa.Column("automatic", FLAG), sa.Column("left_on", DAY),
            sa.Column("returned_on", DAY), sa.Column("departures", COUNT, nullable=False),
            sa.Column("first_sequence", SEQ, nullable=False), sa.Column("decided_sequence", SEQ),
            key=("teacher_id", "entry_id"),
            indexes=(("first_sequence",), ("borrowing_org_id", "first_sequence"), ("school_id", "first_sequence")))
    _create("departures",
            sa.Column("teacher_id", _s(), nullable=False), sa.Column("left_on", DAY, nullable=False),
            sa.Column("entry_id", _s(), nullable=False), sa.Column("secondment_id", _s(36)),
            sa.Column("school_id", _s(), nullable=False), sa.Column("borrowing_org_id", _s(), nullable=False),
            sa.Column("consented", FLAG, nullable=False), sa.Column("approved", FLAG, nullable=False),
            sa.Column("ends_on", DAY), sa.Column("returned_on", DAY),
            sa.Column("reported_by_org_id", _s(), nullable=False), sa.Column("returned_by_org_id", _s()),
            sa.Column("sequence", SEQ, nullable=False), sa.Column("returned_sequence", SEQ),
            key=("teacher_id", "left_on"), indexes=(("borrowing_org_id", "returned_on"),))
    _create("calendar_days",
            sa.Column("calendar", _s(16), nullable=False), sa.Column("last_day", DAY, nullable=False),
            sa.Column("sequence", SEQ, nullable=False), key=("calendar",))


def _training() -> None:
    def edition() -> tuple[sa.Column, ...]:
        return (sa.Column("published_on", DAY, nullable=False), sa.Column("before_semester", FLAG, nullable=False),
                sa.Column("session_count", COUNT, nullable=False), sa.Column("event_id", _s(36), nullable=False),
                sa.Column("sequence", SEQ, nullable=False))

    _create("training_plans", sa.Column("semester", _s(16), nullable=False),
            sa.Column("edition", COUNT, nullable=False), *edition(), key=("semester",))
    _create("training_plan_editions", sa.Column("semester", _s(16), nullable=False),
            sa.Column("edition", COUNT, nullable=False), *edition(),
            key=("semester", "edition"))
    _create("training_plan_sessions",
            sa.Column("semester", _s(16), nullable=False), sa.Column("edition", COUNT, nullable=False),
            sa.Column("position", COUNT, nullable=False), sa.Column("code", _s(40), nullable=False),
            sa.Column("session", JSON, nullable=False), key=("semester", "edition", "position"))
    _create("training_sessions",
            sa.Column("semester", _s(16), nullable=False), sa.Column("session_id", _s(36), nullable=False),
            sa.Column("organiser_org_id", _s(), nullable=False), sa.Column("title", sa.Text, nullable=False),
            sa.Column("held_on", DAY, nullable=False), sa.Column("level", _s(16)), sa.Column("plan_code", _s(40)),
            sa.Column("teachers_required", FLAG, nullable=False), sa.Column("teachers_named", COUNT, nullable=False),
            sa.Column("participants", COUNT, nullable=False), sa.Column("reported_by_org_id", _s(), nullable=False),
            sa.Column("reports", COUNT, nullable=False), sa.Column("unplanned_violation_id", _s(40)),
            sa.Column("non_education_violation_id", _s(40)), sa.Column("event_id", _s(36), nullable=False),
            sa.Column("sequence", SEQ, nullable=False),
            key=("semester", "session_id"),
            indexes=(("semester", "sequence"), ("semester", "organiser_org_id", "sequence")))


def _meetings() -> None:
    _create("meetings",
            sa.Column("meeting_id", _s(36), nullable=False), sa.Column("semester", _s(16), nullable=False),
            sa.Column("organiser_org_id", _s(), nullable=False), sa.Column("title", sa.Text, nullable=False),
            sa.Column("concerns_teaching", FLAG, nullable=False), sa.Column("held_on", DAY, nullable=False),
            sa.Column("week", _s(8), nullable=False), sa.Column("mode", _s(16), nullable=False),
            sa.Column("venue_id", _s()), sa.Column("sub_venue_ids", JSON, nullable=False),
            sa.Column("participants", COUNT, nullable=False), sa.Column("schools", JSON, nullable=False),
            sa.Column("scheduled_on", DAY, nullable=False), sa.Column("sub_venue_violation_id", _s(40)),
            sa.Column("non_education_violation_id", _s(40)), sa.Column("quota_violations", COUNT, nullable=False),
            sa.Column("event_id", _s(36), nullable=False), sa.Column("sequence", SEQ, nullable=False),
            key=("meeting_id",), indexes=(("semester", "sequence"), ("semester", "organiser_org_id", "sequence")))
    _create("meeting_weeks",
            sa.Column("organiser_org_id", _s(), nullable=False), sa.Column("week", _s(8), nullable=False),
            sa.Column("meeting_id", _s(36), nullable=False), sa.Column("title_key", sa.Text, nullable=False),
            sa.Column("merge_with", JSON, nullable=False), key=("organiser_org_id", "week", "meeting_id"))
    _create("teacher_meetings",
            sa.Column("semester", _s(16), nullable=False), sa.Column("teacher_id", _s(), nullable=False),
            sa.Column("organiser_org_id", _s(), nullable=False), sa.Column("meetings", COUNT, nullable=False),
            key=("semester", "teacher_id", "organiser_org_id"))
    _create("teacher_semesters",
            sa.Column("semester", _s(16), nullable=False), sa.Column("teacher_id", _s(), nullable=False),
            sa.Column("school_id", _s(), nullable=False), sa.Column("meetings", COUNT, nullable=False),
            sa.Column("quota_violations", COUNT, nullable=False),
            key=("semester", "teacher_id"), indexes=(("semester", "school_id"),))


def _violations_by_teacher() -> None:
    """S7, S10: the teacher a violation concerns (emptied above, so the replay fills it)."""
    op.add_column(f"{LIVE}violations", sa.Column("teacher_id", _s()))
    op.create_index(f"{LIVE}violations_ix5", f"{LIVE}violations", ["teacher_id", "sequence"])


def upgrade() -> None:
    for table in EMPTIED:
        op.execute(f"DELETE FROM {LIVE}{table}")
    _violations_by_teacher()
    _teachers_and_secondments()
    _training()
    _meetings()


def downgrade() -> None:
    raise NotImplementedError("the read model before 0011 is rebuilt from the log, not migrated back")
