"""The published list admits (issue 8): authorisations kept per list edition, outside units,
schools' refusals, and the detector's sessions and catalogue.

- ``authorisations`` (read model and detector) are rows per edition of the semester list (0 for
  an exemption), with the dates, the day admitted and the sessions allowed; the detector keeps
  the list editions too (``semester_lists``, ``semester_list_editions``) to know which is in force.
- ``held_reports`` may name a unit outside the directory (``organizer_org_id`` null, its
  ``organizer_name``) and the exemption the school claimed; ``campus_entry_items.organizer`` holds
  an org id or ``unregistered unit: <name>``; ``violations.responsible_org_id`` likewise, with
  ``routed_to``; ``refused_entries`` and the ``refused_entries`` counter are new.
- the detector keeps ``sessions`` (days each item was held: what its frequency counts), the
  category of each item (city creation has a yearly allowance) and the region's catalogue.

Frozen copies of the changed tables at this revision. As 0005 and 0006, it empties the read model
and the detector's state with their checkpoints: both replay the log from sequence 1 on their next
start. The detector judges every report again by the rules of this revision; violations it had
recorded are found again under the same ids and appended nothing, and a report the published
list does not admit is charged now even if an earlier revision let it pass.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

LIVE, DETECTOR = "compliance_", "compliance_detector_"
REPLACED = {
    LIVE: ("authorisations", "campus_entry_items", "held_reports", "campus_entries", "violations"),
    DETECTOR: ("authorisations", "items"),
}
EMPTIED = {
    LIVE: ("checkpoint", "quarantined_events", "chain_heads", "applications", "application_schools",
           "semester_lists", "semester_list_editions", "semester_list_items"),
    DETECTOR: ("checkpoint", "quarantined_events", "chain_heads"),
}
COUNTERS = ("certified_items", "urgent_items", "exempt_items", "held_reports", "held_items",
            "unauthorised_entries", "items_over_cap", "refused_entries")
VIOLATION_INDEXES = (("sequence",), ("semester", "sequence"), ("responsible_org_id", "sequence"),
                     ("school_id", "sequence"))


def _s(length: int = 64) -> sa.String:
    return sa.String(length)


def _create(name: str, *columns: sa.Column, key: tuple[str, ...]) -> None:
    op.create_table(name, *columns, sa.PrimaryKeyConstraint(*key, name=f"{name}_pkey"))


def _admitting(prefix: str, *, with_lists: bool) -> None:
    seq = sa.BigInteger
    if with_lists:
        _create(f"{prefix}semester_lists",
                sa.Column("semester", _s(16), nullable=False), sa.Column("edition", sa.Integer, nullable=False),
                sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("item_count", sa.Integer, nullable=False), sa.Column("event_id", _s(36), nullable=False),
                sa.Column("sequence", seq, nullable=False), key=("semester",))
        _create(f"{prefix}semester_list_editions",
                sa.Column("semester", _s(16), nullable=False), sa.Column("edition", sa.Integer, nullable=False),
                sa.Column("parts", sa.Integer, nullable=False), sa.Column("parts_received", sa.Integer, nullable=False),
                sa.Column("item_count", sa.Integer, nullable=False),
                sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("event_id", _s(36), nullable=False), sa.Column("sequence", seq, nullable=False),
                key=("semester", "edition"))
    _create(f"{prefix}authorisations",
            sa.Column("semester", _s(16), nullable=False), sa.Column("school_id", _s(), nullable=False),
            sa.Column("organizer_org_id", _s(), nullable=False), sa.Column("activity_id", _s(36), nullable=False),
            sa.Column("edition", sa.Integer, nullable=False), sa.Column("title", sa.Text, nullable=False),
            sa.Column("start_date", sa.Date, nullable=False), sa.Column("end_date", sa.Date, nullable=False),
            sa.Column("admitted_on", sa.Date, nullable=False), sa.Column("sessions_allowed", sa.Integer),
            sa.Column("exempt_category", _s(40)), sa.Column("decided_sequence", seq, nullable=False),
            key=("semester", "school_id", "organizer_org_id", "activity_id", "edition"))


def _live() -> None:
    seq = sa.BigInteger
    _admitting(LIVE, with_lists=False)
    _create(f"{LIVE}campus_entries",
            sa.Column("semester", _s(16), nullable=False), sa.Column("school_id", _s(), nullable=False),
            *(sa.Column(name, sa.Integer, nullable=False) for name in COUNTERS), key=("semester", "school_id"))
    _create(f"{LIVE}campus_entry_items",
            sa.Column("semester", _s(16), nullable=False), sa.Column("school_id", _s(), nullable=False),
            sa.Column("item_key", sa.String(300), nullable=False), sa.Column("ordinal", sa.Integer, nullable=False),
            sa.Column("organizer", sa.String(200), nullable=False), sa.Column("title", sa.Text, nullable=False),
            sa.Column("first_report_id", _s(36), nullable=False), sa.Column("first_held_on", sa.Date, nullable=False),
            sa.Column("reports", sa.Integer, nullable=False), sa.Column("quota_violation_id", _s(40)),
            key=("semester", "school_id", "item_key"))
    _create(f"{LIVE}held_reports",
            sa.Column("semester", _s(16), nullable=False), sa.Column("school_id", _s(), nullable=False),
            sa.Column("report_id", _s(36), nullable=False), sa.Column("organizer_org_id", _s()),
            sa.Column("organizer_name", sa.Text, nullable=False), sa.Column("exempt_category", _s(40)),
            sa.Column("activity_id", _s(36)), sa.Column("title", sa.Text, nullable=False),
            sa.Column("held_on", sa.Date, nullable=False), sa.Column("participants", sa.Integer, nullable=False),
            sa.Column("teacher_hours", sa.Float, nullable=False), sa.Column("item_key", sa.String(300), nullable=False),
            sa.Column("unauthorised_violation_id", _s(40)), sa.Column("quota_violation_id", _s(40)),
            sa.Column("event_id", _s(36), nullable=False), sa.Column("sequence", seq, nullable=False),
            key=("semester", "school_id", "report_id"))
    _create(f"{LIVE}refused_entries",
            sa.Column("semester", _s(16), nullable=False), sa.Column("school_id", _s(), nullable=False),
            sa.Column("report_id", _s(36), nullable=False), sa.Column("organizer_org_id", _s()),
            sa.Column("organizer_name", sa.Text, nullable=False), sa.Column("title", sa.Text, nullable=False),
            sa.Column("refused_on", sa.Date, nullable=False), sa.Column("refusal_code", _s(40), nullable=False),
            sa.Column("note", sa.Text, nullable=False), sa.Column("event_id", _s(36), nullable=False),
            sa.Column("sequence", seq, nullable=False), key=("semester", "school_id", "report_id"))
    _create(f"{LIVE}violations",
            sa.Column("violation_id", _s(40), nullable=False), sa.Column("rule", _s(), nullable=False),
            sa.Column("clause", _s(8), nullable=False), sa.Column("responsible_org_id", sa.String(200), nullable=False),
            sa.Column("school_id", _s()), sa.Column("semester", _s(16)),
            sa.Column("issue_key", sa.String(200), nullable=False), sa.Column("summary", sa.Text, nullable=False),
            sa.Column("evidence", sa.JSON, nullable=False), sa.Column("routed_to", _s()),
            sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("event_id", _s(36), nullable=False), sa.Column("sequence", seq, nullable=False),
            key=("violation_id",))
    for n, columns in enumerate(VIOLATION_INDEXES, 1):
        op.create_index(f"{LIVE}violations_ix{n}", f"{LIVE}violations", list(columns))


def _detector() -> None:
    _admitting(DETECTOR, with_lists=True)
    _create(f"{DETECTOR}items",
            sa.Column("semester", _s(16), nullable=False), sa.Column("school_id", _s(), nullable=False),
            sa.Column("item_key", sa.String(300), nullable=False), sa.Column("first_report_id", _s(36), nullable=False),
            sa.Column("exempt_category", _s(40)), key=("semester", "school_id", "item_key"))
    _create(f"{DETECTOR}sessions",
            sa.Column("semester", _s(16), nullable=False), sa.Column("school_id", _s(), nullable=False),
            sa.Column("item_key", sa.String(300), nullable=False), sa.Column("held_on", sa.Date, nullable=False),
            key=("semester", "school_id", "item_key", "held_on"))
    _create(f"{DETECTOR}catalogue_editions",
            sa.Column("catalogue", _s(16), nullable=False), sa.Column("edition", sa.Integer, nullable=False),
            sa.Column("in_force_from", sa.Date, nullable=False), key=("catalogue", "edition"))
    _create(f"{DETECTOR}catalogue_items",
            sa.Column("catalogue", _s(16), nullable=False), sa.Column("lookup", _s(40), nullable=False),
            sa.Column("edition", sa.Integer, nullable=False), sa.Column("item", sa.JSON, nullable=False),
            key=("catalogue", "lookup", "edition"))


def upgrade() -> None:
    for n in range(1, len(VIOLATION_INDEXES) + 1):
        op.drop_index(f"{LIVE}violations_ix{n}", table_name=f"{LIVE}violations")
    for prefix, tables in REPLACED.items():
        for table in tables:
            op.drop_table(f"{prefix}{table}")
    for prefix, tables in EMPTIED.items():
        for table in tables:
            op.execute(f"DELETE FROM {prefix}{table}")
    _live()
    _detector()


def downgrade() -> None:
    raise NotImplementedError("the read model before 0007 is rebuilt from the log, not migrated back")
