"""The compliance read models as SQLAlchemy Core tables, built for a table-name prefix.

The live tables carry ``LIVE_PREFIX``; a rebuild fills the same tables under ``REBUILD_PREFIX``
and then renames them in (see ``rebuild.py``), so both come from this one definition. Tables
have primary keys only, ordered for the queries they serve, and named constraints with the
prefix so a switch can rename them too. Every column comes from an event (sequences, event
times): nothing here depends on when or how often the log was projected, which is what lets a
rebuild equal the live model byte for byte. That holds for quarantined events too: whether an
event can be applied, and why not, depends only on the event, the code and the database; and
the chain heads are those of the log up to the checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import sqlalchemy as sa

LIVE_PREFIX = "compliance_"
REBUILD_PREFIX = "compliance_rebuild_"
PROJECTION = "compliance"


@dataclass(frozen=True)
class ReadModel:
    """The tables of one copy of the read model (live or rebuild), sharing one MetaData."""

    prefix: str
    metadata: sa.MetaData
    checkpoint: sa.Table
    applications: sa.Table
    application_schools: sa.Table
    semester_lists: sa.Table
    campus_entries: sa.Table
    campus_entry_items: sa.Table
    held_reports: sa.Table
    violations: sa.Table
    quarantined_events: sa.Table
    chain_heads: sa.Table

    @property
    def tables(self) -> list[sa.Table]:
        return [getattr(self, f.name) for f in fields(self) if f.name not in ("prefix", "metadata")]

    def unprefixed(self, table: sa.Table) -> str:
        return table.name[len(self.prefix):]


def _table(metadata: sa.MetaData, prefix: str, name: str, *columns: sa.Column, key: tuple[str, ...],
           indexes: tuple[tuple[str, ...], ...] = ()) -> sa.Table:
    """A table with a named primary key and named indexes (``<prefix><name>_ix<n>``): a rebuild
    renames them with the table, so the names must follow the prefix."""
    return sa.Table(f"{prefix}{name}", metadata, *columns, sa.PrimaryKeyConstraint(*key, name=f"{prefix}{name}_pkey"),
                    *(sa.Index(f"{prefix}{name}_ix{n}", *cols) for n, cols in enumerate(indexes, 1)))


def _s(length: int = 64) -> sa.String:
    return sa.String(length)


def build_tables(prefix: str = LIVE_PREFIX) -> ReadModel:
    """The read-model tables named ``<prefix><name>``, in a MetaData of their own."""
    md = sa.MetaData()
    seq = sa.BigInteger
    return ReadModel(
        prefix=prefix,
        metadata=md,
        # The last stream sequence applied; advanced in the same transaction as the effects.
        checkpoint=_table(md, prefix, "checkpoint",
                          sa.Column("projection", _s(), nullable=False),
                          sa.Column("last_sequence", seq, nullable=False),
                          key=("projection",)),
        # S3 applications (Attachment 4) and what became of them.
        applications=_table(md, prefix, "applications",
                            sa.Column("semester", _s(16), nullable=False),
                            sa.Column("activity_id", _s(36), nullable=False),
                            sa.Column("applicant_org_id", _s(), nullable=False),
                            sa.Column("title", sa.Text, nullable=False),
                            sa.Column("route", _s(16), nullable=False),
                            sa.Column("declaration_type", _s(16)),
                            sa.Column("in_window", sa.Boolean),
                            sa.Column("declared_on", sa.Date),
                            sa.Column("status", _s(16), nullable=False),
                            sa.Column("refusal_code", _s(40)),
                            sa.Column("refusal_reason", sa.Text),
                            sa.Column("automatic", sa.Boolean),
                            sa.Column("exempt_category", _s(40)),
                            sa.Column("requested_sequence", seq),
                            sa.Column("decided_sequence", seq),
                            key=("semester", "activity_id")),
        application_schools=_table(md, prefix, "application_schools",
                                   sa.Column("semester", _s(16), nullable=False),
                                   sa.Column("school_id", _s(), nullable=False),
                                   sa.Column("activity_id", _s(36), nullable=False),
                                   key=("semester", "school_id", "activity_id")),
        # Attachment 3: the latest edition published for each semester.
        semester_lists=_table(md, prefix, "semester_lists",
                              sa.Column("semester", _s(16), nullable=False),
                              sa.Column("edition", sa.Integer, nullable=False),
                              sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
                              sa.Column("item_count", sa.Integer, nullable=False),
                              sa.Column("items", sa.JSON, nullable=False),
                              sa.Column("event_id", _s(36), nullable=False),
                              sa.Column("sequence", seq, nullable=False),
                              key=("semester",)),
        # Counters per school and semester against the S3 cap.
        campus_entries=_table(md, prefix, "campus_entries",
                              sa.Column("semester", _s(16), nullable=False),
                              sa.Column("school_id", _s(), nullable=False),
                              sa.Column("certified_items", sa.Integer, nullable=False, default=0),
                              sa.Column("urgent_items", sa.Integer, nullable=False, default=0),
                              sa.Column("exempt_items", sa.Integer, nullable=False, default=0),
                              sa.Column("held_reports", sa.Integer, nullable=False, default=0),
                              sa.Column("held_items", sa.Integer, nullable=False, default=0),
                              sa.Column("unauthorised_entries", sa.Integer, nullable=False, default=0),
                              sa.Column("items_over_cap", sa.Integer, nullable=False, default=0),
                              key=("semester", "school_id")),
        # Distinct items held at a school (the unit the S3 cap counts).
        campus_entry_items=_table(md, prefix, "campus_entry_items",
                                  sa.Column("semester", _s(16), nullable=False),
                                  sa.Column("school_id", _s(), nullable=False),
                                  sa.Column("item_key", sa.String(300), nullable=False),
                                  sa.Column("ordinal", sa.Integer, nullable=False),
                                  sa.Column("organizer_org_id", _s(), nullable=False),
                                  sa.Column("title", sa.Text, nullable=False),
                                  sa.Column("first_report_id", _s(36), nullable=False),
                                  sa.Column("first_held_on", sa.Date, nullable=False),
                                  sa.Column("reports", sa.Integer, nullable=False),
                                  sa.Column("authorised", sa.Boolean, nullable=False),
                                  sa.Column("over_cap", sa.Boolean, nullable=False),
                                  key=("semester", "school_id", "item_key")),
        held_reports=_table(md, prefix, "held_reports",
                            sa.Column("semester", _s(16), nullable=False),
                            sa.Column("school_id", _s(), nullable=False),
                            sa.Column("report_id", _s(36), nullable=False),
                            sa.Column("organizer_org_id", _s(), nullable=False),
                            sa.Column("activity_id", _s(36)),
                            sa.Column("title", sa.Text, nullable=False),
                            sa.Column("held_on", sa.Date, nullable=False),
                            sa.Column("participants", sa.Integer, nullable=False),
                            sa.Column("teacher_hours", sa.Float, nullable=False),
                            sa.Column("item_key", sa.String(300), nullable=False),
                            sa.Column("authorised_by", _s(36)),
                            sa.Column("unauthorised_violation_id", _s(40)),
                            sa.Column("quota_violation_id", _s(40)),
                            sa.Column("event_id", _s(36), nullable=False),
                            sa.Column("sequence", seq, nullable=False),
                            key=("semester", "school_id", "report_id"),
                            # an earlier report of the same unauthorised entry, found per report
                            indexes=(("semester", "school_id", "unauthorised_violation_id"),)),
        # The violations register, from ViolationDetected events.
        violations=_table(md, prefix, "violations",
                          sa.Column("violation_id", _s(40), nullable=False),
                          sa.Column("rule", _s(), nullable=False),
                          sa.Column("clause", _s(8), nullable=False),
                          sa.Column("responsible_org_id", _s(), nullable=False),
                          sa.Column("school_id", _s()),
                          sa.Column("semester", _s(16)),
                          sa.Column("issue_key", sa.String(200), nullable=False),
                          sa.Column("summary", sa.Text, nullable=False),
                          sa.Column("evidence", sa.JSON, nullable=False),
                          sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
                          sa.Column("event_id", _s(36), nullable=False),
                          sa.Column("sequence", seq, nullable=False),
                          key=("violation_id",),
                          # GetViolations: newest first, by semester, by unit charged, by school
                          indexes=(("sequence",), ("semester", "sequence"), ("responsible_org_id", "sequence"),
                                   ("school_id", "sequence"))),
        # Events the projector could not apply and passed (see quarantine.py); texts are escaped.
        quarantined_events=_table(md, prefix, "quarantined_events",
                                  sa.Column("sequence", seq, nullable=False),
                                  sa.Column("subject", sa.Text, nullable=False),
                                  sa.Column("event_id", sa.Text),
                                  sa.Column("event_type", sa.Text),
                                  sa.Column("reason", sa.Text, nullable=False),
                                  key=("sequence",)),
        # The last good event of every aggregate seen: what its next event's prev_hash must be.
        chain_heads=_table(md, prefix, "chain_heads",
                           sa.Column("subject", sa.String(255), nullable=False),
                           sa.Column("sequence", seq, nullable=False),
                           sa.Column("hash", _s(64), nullable=False),
                           key=("subject",)),
    )


LIVE = build_tables(LIVE_PREFIX)
