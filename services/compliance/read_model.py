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

from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from jianfu.compliance.domain.campus_entry_view import CAMPUS_ENTRY_VIEW, COUNTERS
from jianfu.compliance.domain.folding import Projection, combine
from jianfu.compliance.domain.g2_detection import KEYS as G2_DETECTION_KEYS
from jianfu.compliance.domain.g2_view import G2_VIEW
from jianfu.compliance.domain.inspection_view import INSPECTION_VIEW, SCHOOL_COUNTERS
from jianfu.compliance.domain.meeting_view import MEETING_VIEW
from jianfu.compliance.domain.s1s2_detection import KEYS as S1S2_DETECTION_KEYS
from jianfu.compliance.domain.s3_detection import KEYS as S3_DETECTION_KEYS
from jianfu.compliance.domain.s7_detection import KEYS as S7_DETECTION_KEYS
from jianfu.compliance.domain.s8_s10_detection import KEYS as S8_S10_DETECTION_KEYS
from jianfu.compliance.domain.teachers_view import TEACHERS_VIEW
from jianfu.compliance.domain.training_view import TRAINING_VIEW

LIVE_PREFIX = "compliance_"
REBUILD_PREFIX = "compliance_rebuild_"
DETECTOR_PREFIX = "compliance_detector_"
PROJECTION = "compliance"
VIEW = combine(PROJECTION, CAMPUS_ENTRY_VIEW, INSPECTION_VIEW,  # S3, then S1/S2: each with tables of its own
               TEACHERS_VIEW, TRAINING_VIEW, MEETING_VIEW,  # S7, S8, S9/S10
               G2_VIEW)  # G2: cases, their history, circulations, alert deliveries


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one object per copy
class ReadModel:
    """The tables of one copy of a projection (live or rebuild), sharing one MetaData: the
    projection's own tables and the bookkeeping every projector keeps (the checkpoint, the
    quarantined events, the chain heads). ``model.<name>`` is the table ``<prefix><name>``."""

    prefix: str
    metadata: sa.MetaData
    keys: Mapping[str, tuple[str, ...]]
    by_name: Mapping[str, sa.Table]
    projection: Projection | None = None  # None: given at run time (the detector's depends on the policy)

    def __getattr__(self, name: str) -> sa.Table:
        if name == "by_name":  # not set yet (copying): no table lookup before it exists
            raise AttributeError(name)
        try:
            return self.by_name[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def tables(self) -> list[sa.Table]:
        return list(self.by_name.values())

    @property
    def own_tables(self) -> dict[str, sa.Table]:
        """The projection's tables, by unprefixed name (what its folds read and write)."""
        return {name: table for name, table in self.by_name.items() if name in self.keys}

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


def _model(prefix: str, md: sa.MetaData, keys: Mapping[str, tuple[str, ...]], projection: Projection | None,
           **tables: sa.Table) -> ReadModel:
    """The projection's tables with the bookkeeping every projector keeps beside them."""
    seq = sa.BigInteger
    bookkeeping = {
        # The last stream sequence applied; advanced in the same transaction as the effects.
        "checkpoint": _table(md, prefix, "checkpoint",
                             sa.Column("projection", _s(), nullable=False),
                             sa.Column("last_sequence", seq, nullable=False),
                             key=("projection",)),
        # Events the projector could not apply and passed (see quarantine.py); texts are escaped.
        "quarantined_events": _table(md, prefix, "quarantined_events",
                                     sa.Column("sequence", seq, nullable=False),
                                     sa.Column("subject", sa.Text, nullable=False),
                                     sa.Column("event_id", sa.Text),
                                     sa.Column("event_type", sa.Text),
                                     sa.Column("reason", sa.Text, nullable=False),
                                     key=("sequence",)),
        # The last good event of every aggregate seen: what its next event's prev_hash must be.
        "chain_heads": _table(md, prefix, "chain_heads",
                              sa.Column("subject", sa.String(255), nullable=False),
                              sa.Column("sequence", seq, nullable=False),
                              sa.Column("hash", _s(64), nullable=False),
                              key=("subject",)),
    }
    for name, table in tables.items():
        key = tuple(column.name for column in table.primary_key.columns)
        assert keys.get(name) == key, f"{table.name}: the projection keys it by {keys.get(name)}"
    assert set(keys) == set(tables), "every table of the projection, and only those"
    return ReadModel(prefix, md, keys, {**bookkeeping, **tables}, projection)


def _admitting(md: sa.MetaData, prefix: str) -> dict[str, sa.Table]:
    """What admits each organizer at each school (S3), kept by the read model and the detector
    alike (``domain/authorisations.py``): the list editions received, the one in force per
    semester, and the items of each edition and each exemption, per school."""
    seq = sa.BigInteger
    return {
        # Attachment 3: the latest edition published whole for each semester ...
        "semester_lists": _table(md, prefix, "semester_lists",
                                 sa.Column("semester", _s(16), nullable=False),
                                 sa.Column("edition", sa.Integer, nullable=False),
                                 sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
                                 sa.Column("item_count", sa.Integer, nullable=False),
                                 sa.Column("event_id", _s(36), nullable=False),
                                 sa.Column("sequence", seq, nullable=False),
                                 key=("semester",)),
        # ... and the parts of each edition received so far.
        "semester_list_editions": _table(md, prefix, "semester_list_editions",
                                         sa.Column("semester", _s(16), nullable=False),
                                         sa.Column("edition", sa.Integer, nullable=False),
                                         sa.Column("parts", sa.Integer, nullable=False),
                                         sa.Column("parts_received", sa.Integer, nullable=False),
                                         sa.Column("item_count", sa.Integer, nullable=False),
                                         sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
                                         sa.Column("event_id", _s(36), nullable=False),
                                         sa.Column("sequence", seq, nullable=False),
                                         key=("semester", "edition")),
        "authorisations": _table(md, prefix, "authorisations",
                                 sa.Column("semester", _s(16), nullable=False),
                                 sa.Column("school_id", _s(), nullable=False),
                                 sa.Column("organizer_org_id", _s(), nullable=False),
                                 sa.Column("activity_id", _s(36), nullable=False),
                                 sa.Column("edition", sa.Integer, nullable=False),  # 0: an exemption
                                 sa.Column("title", sa.Text, nullable=False),
                                 sa.Column("start_date", sa.Date, nullable=False),
                                 sa.Column("end_date", sa.Date, nullable=False),
                                 sa.Column("admitted_on", sa.Date, nullable=False),
                                 sa.Column("sessions_allowed", sa.Integer),
                                 sa.Column("exempt_category", _s(40)),
                                 sa.Column("decided_sequence", seq, nullable=False),
                                 key=("semester", "school_id", "organizer_org_id", "activity_id", "edition")),
    }


def _inspections(md: sa.MetaData, prefix: str) -> dict[str, sa.Table]:
    """S1 inspections and S2 data requests (``domain/inspection_view.py``)."""
    seq = sa.BigInteger
    json = sa.JSON
    return {
        # The items of the annual plans, one row each, and what became of them.
        "inspection_items": _table(md, prefix, "inspection_items",
                                   sa.Column("item_id", _s(36), nullable=False),
                                   sa.Column("year", sa.Integer, nullable=False),
                                   sa.Column("lead_org_id", _s()),
                                   sa.Column("title", sa.Text),
                                   sa.Column("sub_item", sa.Text),
                                   sa.Column("category", _s(16)),
                                   sa.Column("policy_basis", sa.Text),
                                   sa.Column("target", json),
                                   sa.Column("method", sa.Text),
                                   sa.Column("indicators", sa.Integer),
                                   sa.Column("frequency_per_year", sa.Integer),
                                   sa.Column("planned_months", json),
                                   sa.Column("data_fields", json),
                                   sa.Column("archive_sets", sa.Integer),
                                   sa.Column("urgency_reason", sa.Text),
                                   sa.Column("late", sa.Boolean),
                                   sa.Column("proposed_on", sa.Date),
                                   sa.Column("status", _s(16), nullable=False),
                                   sa.Column("refusal_code", _s(40)),
                                   sa.Column("refusal_reason", sa.Text),
                                   sa.Column("automatic", sa.Boolean),
                                   sa.Column("approved_by_org_id", _s()),
                                   sa.Column("note", sa.Text),
                                   sa.Column("merged_item_ids", json),
                                   sa.Column("into_item_id", _s(36)),
                                   sa.Column("unauthorized_setter_violation_id", _s(40)),
                                   sa.Column("first_sequence", seq, nullable=False),
                                   sa.Column("decided_sequence", seq),
                                   key=("item_id",),
                                   # GetInspectionItems: a year's items in the order they came
                                   indexes=(("year", "first_sequence", "item_id"),)),
        # The units each item belongs to (lead, joint, or every unit of a merged item).
        "inspection_item_units": _table(md, prefix, "inspection_item_units",
                                        sa.Column("org_id", _s(), nullable=False),
                                        sa.Column("year", sa.Integer, nullable=False),
                                        sa.Column("item_id", _s(36), nullable=False),
                                        sa.Column("role", _s(8), nullable=False),
                                        key=("org_id", "year", "item_id")),
        # Attachment 2: the edition in force for each year, the parts received, the rows of each.
        "inspection_checklists": _table(md, prefix, "inspection_checklists",
                                        sa.Column("year", sa.Integer, nullable=False),
                                        sa.Column("edition", sa.Integer, nullable=False),
                                        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
                                        sa.Column("row_count", sa.Integer, nullable=False),
                                        sa.Column("event_id", _s(36), nullable=False),
                                        sa.Column("sequence", seq, nullable=False),
                                        key=("year",)),
        "inspection_checklist_editions": _table(md, prefix, "inspection_checklist_editions",
                                                sa.Column("year", sa.Integer, nullable=False),
                                                sa.Column("edition", sa.Integer, nullable=False),
                                                sa.Column("parts", sa.Integer, nullable=False),
                                                sa.Column("parts_received", sa.Integer, nullable=False),
                                                sa.Column("row_count", sa.Integer, nullable=False),
                                                sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
                                                sa.Column("event_id", _s(36), nullable=False),
                                                sa.Column("sequence", seq, nullable=False),
                                                key=("year", "edition")),
        "inspection_checklist_rows": _table(md, prefix, "inspection_checklist_rows",
                                            sa.Column("year", sa.Integer, nullable=False),
                                            sa.Column("edition", sa.Integer, nullable=False),
                                            sa.Column("position", sa.Integer, nullable=False),
                                            sa.Column("item_id", _s(36), nullable=False),
                                            sa.Column("row", json, nullable=False),
                                            key=("year", "edition", "position")),
        # Visits that happened, one per visit however often reported; the ids of the violations naming it.
        "inspection_visits": _table(md, prefix, "inspection_visits",
                                    sa.Column("school_id", _s(), nullable=False),
                                    sa.Column("visit_id", _s(36), nullable=False),
                                    sa.Column("year", sa.Integer, nullable=False),
                                    sa.Column("visited_on", sa.Date, nullable=False),
                                    sa.Column("visiting_org_id", _s(), nullable=False),
                                    sa.Column("item_id", _s(36)),
                                    sa.Column("label", _s(16), nullable=False),
                                    sa.Column("graded", sa.Boolean, nullable=False),
                                    sa.Column("grading", sa.Text, nullable=False),
                                    sa.Column("reported_by_org_id", _s(), nullable=False),
                                    sa.Column("reports", sa.Integer, nullable=False),
                                    sa.Column("unplanned_violation_id", _s(40)),
                                    sa.Column("disguised_violation_id", _s(40)),
                                    sa.Column("over_frequency_violation_id", _s(40)),
                                    sa.Column("event_id", _s(36), nullable=False),
                                    sa.Column("sequence", seq, nullable=False),
                                    key=("school_id", "visit_id")),
        # Counters per school and year (S1 visits, S2 requests); the violation ones count ViolationDetected.
        "inspection_school_years": _table(md, prefix, "inspection_school_years",
                                          sa.Column("school_id", _s(), nullable=False),
                                          sa.Column("year", sa.Integer, nullable=False),
                                          *(sa.Column(name, sa.Integer, nullable=False) for name in SCHOOL_COUNTERS),
                                          key=("school_id", "year")),
        # Data requests (S2), each school they went to, and every field asked of a school in a year.
        "data_requests": _table(md, prefix, "data_requests",
                                sa.Column("request_id", _s(36), nullable=False),
                                sa.Column("year", sa.Integer, nullable=False),
                                sa.Column("requester_org_id", _s(), nullable=False),
                                sa.Column("title", sa.Text, nullable=False),
                                sa.Column("fields", json, nullable=False),
                                sa.Column("school_count", sa.Integer, nullable=False),
                                sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
                                sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
                                sa.Column("item_id", _s(36)),
                                sa.Column("short_deadline_violation_id", _s(40)),
                                sa.Column("event_id", _s(36), nullable=False),
                                sa.Column("sequence", seq, nullable=False),
                                key=("request_id",)),
        "data_request_schools": _table(md, prefix, "data_request_schools",
                                       sa.Column("school_id", _s(), nullable=False),
                                       sa.Column("request_id", _s(36), nullable=False),
                                       sa.Column("year", sa.Integer, nullable=False),
                                       sa.Column("fields", sa.Integer, nullable=False),
                                       sa.Column("new_fields", sa.Integer, nullable=False),
                                       sa.Column("duplicate_violation_id", _s(40)),
                                       sa.Column("short_deadline_violation_id", _s(40)),
                                       sa.Column("sequence", seq, nullable=False),
                                       key=("school_id", "request_id")),
        "requested_fields": _table(md, prefix, "requested_fields",
                                   sa.Column("school_id", _s(), nullable=False),
                                   sa.Column("year", sa.Integer, nullable=False),
                                   sa.Column("field_key", _s(40), nullable=False),  # s1s2_detection.field_key
                                   sa.Column("field", sa.Text, nullable=False),  # as first asked
                                   sa.Column("first_request_id", _s(36), nullable=False),
                                   sa.Column("first_requester_org_id", _s(), nullable=False),
                                   sa.Column("requests", sa.Integer, nullable=False),
                                   key=("school_id", "year", "field_key")),
    }


def _teachers_time(md: sa.MetaData, prefix: str) -> dict[str, sa.Table]:
    """S7 teachers and secondments, S8 training, S9/S10 meetings (``domain/teachers_view.py``,
    ``training_view.py``, ``meeting_view.py``)."""
    seq, json, day, flag, count = sa.BigInteger, sa.JSON, sa.Date, sa.Boolean, sa.Integer

    def plan_edition() -> tuple[sa.Column, ...]:
        """An edition of a semester's training plan: the one in force, and each one received."""
        return (sa.Column("semester", _s(16), nullable=False), sa.Column("edition", count, nullable=False),
                sa.Column("published_on", day, nullable=False), sa.Column("before_semester", flag, nullable=False),
                sa.Column("session_count", count, nullable=False), sa.Column("event_id", _s(36), nullable=False),
                sa.Column("sequence", seq, nullable=False))

    return {
        # The register of teachers (S7-S10 count per teacher); names are shown to few.
        "teachers": _table(md, prefix, "teachers",
                           sa.Column("teacher_id", _s(), nullable=False),
                           sa.Column("school_id", _s(), nullable=False),
                           sa.Column("name", sa.Text, nullable=False),
                           sa.Column("subject", sa.Text, nullable=False),
                           sa.Column("previous_school_id", _s()),
                           sa.Column("registrations", count, nullable=False),
                           sa.Column("first_sequence", seq, nullable=False),
                           sa.Column("sequence", seq, nullable=False),
                           key=("teacher_id",), indexes=(("school_id", "teacher_id"),)),
        # S7: each secondment requested (or departure with none on record), its decisions and
        # its latest departure; GetSecondments pages them newest first.
        "secondments": _table(md, prefix, "secondments",
                              sa.Column("teacher_id", _s(), nullable=False),
                              sa.Column("entry_id", _s(), nullable=False),
                              sa.Column("secondment_id", _s(36)),
                              sa.Column("school_id", _s(), nullable=False),
                              sa.Column("borrowing_org_id", _s(), nullable=False),
                              sa.Column("task", sa.Text),
                              sa.Column("starts_on", day), sa.Column("ends_on", day),
                              sa.Column("days", count), sa.Column("requested_on", day),
                              sa.Column("status", _s(16), nullable=False),
                              sa.Column("consented_by_org_id", _s()), sa.Column("approved_by_org_id", _s()),
                              sa.Column("continuous_days", count),
                              sa.Column("refusal_stage", _s(16)), sa.Column("refused_by_org_id", _s()),
                              sa.Column("refusal_code", _s(40)), sa.Column("refusal_reason", sa.Text),
                              sa.Column("automatic", flag),
                              sa.Column("left_on", day), sa.Column("returned_on", day),
                              sa.Column("departures", count, nullable=False),
                              sa.Column("first_sequence", seq, nullable=False),
                              sa.Column("decided_sequence", seq),
                              key=("teacher_id", "entry_id"),
                              indexes=(("first_sequence",), ("borrowing_org_id", "first_sequence"),
                                       ("school_id", "first_sequence"))),
        # S7: every departure and its return, what the days seconded are counted from.
        "departures": _table(md, prefix, "departures",
                             sa.Column("teacher_id", _s(), nullable=False),
                             sa.Column("left_on", day, nullable=False),
                             sa.Column("entry_id", _s(), nullable=False),
                             sa.Column("secondment_id", _s(36)),
                             sa.Column("school_id", _s(), nullable=False),
                             sa.Column("borrowing_org_id", _s(), nullable=False),
                             sa.Column("consented", flag, nullable=False),
                             sa.Column("approved", flag, nullable=False),
                             sa.Column("ends_on", day),
                             sa.Column("returned_on", day),
                             sa.Column("reported_by_org_id", _s(), nullable=False),
                             sa.Column("returned_by_org_id", _s()),
                             sa.Column("sequence", seq, nullable=False),
                             sa.Column("returned_sequence", seq),
                             key=("teacher_id", "left_on"), indexes=(("borrowing_org_id", "returned_on"),)),
        # The last business day ended (DayEnded): an absence still running counts up to it.
        "calendar_days": _table(md, prefix, "calendar_days",
                                sa.Column("calendar", _s(16), nullable=False),
                                sa.Column("last_day", day, nullable=False),
                                sa.Column("sequence", seq, nullable=False),
                                key=("calendar",)),
        # S8: the plan as last published per semester, every edition received, its sessions.
        "training_plans": _table(md, prefix, "training_plans", *plan_edition(), key=("semester",)),
        "training_plan_editions": _table(md, prefix, "training_plan_editions", *plan_edition(),
                                         key=("semester", "edition")),
        "training_plan_sessions": _table(md, prefix, "training_plan_sessions",
                                         sa.Column("semester", _s(16), nullable=False),
                                         sa.Column("edition", count, nullable=False),
                                         sa.Column("position", count, nullable=False),
                                         sa.Column("code", _s(40), nullable=False),
                                         sa.Column("session", json, nullable=False),
                                         key=("semester", "edition", "position")),
        # S8: sessions held, one however often reported; the detector's verdicts on them.
        "training_sessions": _table(md, prefix, "training_sessions",
                                    sa.Column("semester", _s(16), nullable=False),
                                    sa.Column("session_id", _s(36), nullable=False),
                                    sa.Column("organiser_org_id", _s(), nullable=False),
                                    sa.Column("title", sa.Text, nullable=False),
                                    sa.Column("held_on", day, nullable=False),
                                    sa.Column("level", _s(16)),
                                    sa.Column("plan_code", _s(40)),
                                    sa.Column("teachers_required", flag, nullable=False),
                                    sa.Column("teachers_named", count, nullable=False),
                                    sa.Column("participants", count, nullable=False),
                                    sa.Column("reported_by_org_id", _s(), nullable=False),
                                    sa.Column("reports", count, nullable=False),
                                    sa.Column("unplanned_violation_id", _s(40)),
                                    sa.Column("non_education_violation_id", _s(40)),
                                    sa.Column("event_id", _s(36), nullable=False),
                                    sa.Column("sequence", seq, nullable=False),
                                    key=("semester", "session_id"),
                                    indexes=(("semester", "sequence"), ("semester", "organiser_org_id", "sequence"))),
        # S9/S10: meetings, the schools their participants come from, the verdicts on them.
        "meetings": _table(md, prefix, "meetings",
                           sa.Column("meeting_id", _s(36), nullable=False),
                           sa.Column("semester", _s(16), nullable=False),
                           sa.Column("organiser_org_id", _s(), nullable=False),
                           sa.Column("title", sa.Text, nullable=False),
                           sa.Column("concerns_teaching", flag, nullable=False),
                           sa.Column("held_on", day, nullable=False),
                           sa.Column("week", _s(8), nullable=False),
                           sa.Column("mode", _s(16), nullable=False),
                           sa.Column("venue_id", _s()),
                           sa.Column("sub_venue_ids", json, nullable=False),
                           sa.Column("participants", count, nullable=False),
                           sa.Column("schools", json, nullable=False),
                           sa.Column("scheduled_on", day, nullable=False),
                           sa.Column("sub_venue_violation_id", _s(40)),
                           sa.Column("non_education_violation_id", _s(40)),
                           sa.Column("quota_violations", count, nullable=False),
                           sa.Column("event_id", _s(36), nullable=False),
                           sa.Column("sequence", seq, nullable=False),
                           key=("meeting_id",),
                           indexes=(("semester", "sequence"), ("semester", "organiser_org_id", "sequence"))),
        # S9: each organiser's meetings by ISO week, and the alike ones to merge with.
        "meeting_weeks": _table(md, prefix, "meeting_weeks",
                                sa.Column("organiser_org_id", _s(), nullable=False),
                                sa.Column("week", _s(8), nullable=False),
                                sa.Column("meeting_id", _s(36), nullable=False),
                                sa.Column("title_key", sa.Text, nullable=False),
                                sa.Column("merge_with", json, nullable=False),
                                key=("organiser_org_id", "week", "meeting_id")),
        # S10: per teacher and semester, the meetings required at (in all, and per organiser).
        "teacher_meetings": _table(md, prefix, "teacher_meetings",
                                   sa.Column("semester", _s(16), nullable=False),
                                   sa.Column("teacher_id", _s(), nullable=False),
                                   sa.Column("organiser_org_id", _s(), nullable=False),
                                   sa.Column("meetings", count, nullable=False),
                                   key=("semester", "teacher_id", "organiser_org_id")),
        "teacher_semesters": _table(md, prefix, "teacher_semesters",
                                    sa.Column("semester", _s(16), nullable=False),
                                    sa.Column("teacher_id", _s(), nullable=False),
                                    sa.Column("school_id", _s(), nullable=False),
                                    sa.Column("meetings", count, nullable=False),
                                    sa.Column("quota_violations", count, nullable=False),
                                    key=("semester", "teacher_id"), indexes=(("semester", "school_id"),)),
    }


def _g2(md: sa.MetaData, prefix: str) -> dict[str, sa.Table]:
    """G2 escalation cases, their history, circulations and alert deliveries (``domain/g2_view.py``)."""
    seq, day, count, unit, ids = sa.BigInteger, sa.Date, sa.Integer, sa.String(200), _s(80)
    return {
        # Per escalation (unit and issue): the current case. GetCases: newest escalation first.
        "g2_cases": _table(md, prefix, "g2_cases",
                           sa.Column("escalation_id", ids, nullable=False),
                           sa.Column("responsible_org_id", unit, nullable=False),
                           sa.Column("issue_key", sa.String(200), nullable=False),
                           sa.Column("rule", _s(), nullable=False),
                           sa.Column("stage", count, nullable=False),
                           sa.Column("open", sa.Boolean, nullable=False),
                           sa.Column("cases", count, nullable=False),
                           sa.Column("rectify_by", day),
                           sa.Column("violations", count, nullable=False),
                           sa.Column("case_violations", count, nullable=False),
                           sa.Column("warnings_in_window", count, nullable=False),
                           sa.Column("deadlines_missed", count, nullable=False),
                           sa.Column("first_sequence", seq, nullable=False),
                           sa.Column("sequence", seq, nullable=False),
                           key=("escalation_id",),
                           indexes=(("first_sequence",), ("responsible_org_id", "first_sequence"))),
        # Every event of each escalation in log order, its data whole (violations with their evidence).
        "g2_history": _table(md, prefix, "g2_history",
                             sa.Column("escalation_id", ids, nullable=False),
                             sa.Column("sequence", seq, nullable=False),
                             sa.Column("event_id", _s(36), nullable=False),
                             sa.Column("event_type", _s(), nullable=False),
                             sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
                             sa.Column("stage", count),
                             sa.Column("data", sa.JSON, nullable=False),
                             key=("escalation_id", "sequence")),
        # Circulations proposed, numbered, confirmed or declined. GetCirculations: a year's, in order.
        "g2_circulations": _table(md, prefix, "g2_circulations",
                                  sa.Column("proposal_id", ids, nullable=False),
                                  sa.Column("year", count, nullable=False),
                                  sa.Column("number", count),
                                  sa.Column("document_number", _s(80)),
                                  sa.Column("escalation_id", ids, nullable=False),
                                  sa.Column("responsible_org_id", unit, nullable=False),
                                  sa.Column("issue_key", sa.String(200), nullable=False),
                                  sa.Column("rule", _s(), nullable=False),
                                  sa.Column("stage", count, nullable=False),
                                  sa.Column("status", _s(16), nullable=False),
                                  sa.Column("proposed_on", day, nullable=False),
                                  sa.Column("decided_on", day),
                                  sa.Column("decided_by_org_id", _s()),
                                  sa.Column("decided_by_person", sa.Text),
                                  sa.Column("reason", sa.Text),
                                  sa.Column("proposed_sequence", seq, nullable=False),
                                  sa.Column("sequence", seq, nullable=False),
                                  key=("proposal_id",), indexes=(("year", "proposed_sequence"),)),
        # Per alert and channel: delivered, failed attempts, the final failure.
        "g2_alert_deliveries": _table(md, prefix, "g2_alert_deliveries",
                                      sa.Column("alert_id", ids, nullable=False),
                                      sa.Column("channel", _s(16), nullable=False),
                                      sa.Column("org_id", unit, nullable=False),
                                      sa.Column("target", sa.Text, nullable=False),
                                      sa.Column("status", _s(16), nullable=False),
                                      sa.Column("failed_attempts", count, nullable=False),
                                      sa.Column("attempts", count, nullable=False),
                                      sa.Column("last_error", sa.Text),
                                      sa.Column("delivered_at", sa.DateTime(timezone=True)),
                                      sa.Column("last_failed_at", sa.DateTime(timezone=True)),
                                      sa.Column("first_sequence", seq, nullable=False),
                                      sa.Column("sequence", seq, nullable=False),
                                      key=("alert_id", "channel"), indexes=(("org_id", "alert_id", "channel"),)),
    }


def build_tables(prefix: str = LIVE_PREFIX) -> ReadModel:
    """The read-model tables named ``<prefix><name>``, in a MetaData of their own."""
    md = sa.MetaData()
    seq = sa.BigInteger
    return _model(
        prefix, md, VIEW.keys, VIEW,
        **_inspections(md, prefix),
        **_teachers_time(md, prefix),
        **_g2(md, prefix),
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
        **_admitting(md, prefix),
        # The items of each edition of Attachment 3, one row each, in the edition's order
        # (GetSemesterList pages them).
        semester_list_items=_table(md, prefix, "semester_list_items",
                                   sa.Column("semester", _s(16), nullable=False),
                                   sa.Column("edition", sa.Integer, nullable=False),
                                   sa.Column("position", sa.Integer, nullable=False),
                                   sa.Column("activity_id", _s(36), nullable=False),
                                   sa.Column("item", sa.JSON, nullable=False),
                                   key=("semester", "edition", "position")),
        # Counters per school and semester against the S3 cap; the last two count ViolationDetected.
        campus_entries=_table(md, prefix, "campus_entries",
                              sa.Column("semester", _s(16), nullable=False),
                              sa.Column("school_id", _s(), nullable=False),
                              *(sa.Column(name, sa.Integer, nullable=False, default=0) for name in COUNTERS),
                              key=("semester", "school_id")),
        # Distinct items held at a school (the unit the S3 cap counts).
        campus_entry_items=_table(md, prefix, "campus_entry_items",
                                  sa.Column("semester", _s(16), nullable=False),
                                  sa.Column("school_id", _s(), nullable=False),
                                  sa.Column("item_key", sa.String(300), nullable=False),
                                  sa.Column("ordinal", sa.Integer, nullable=False),
                                  sa.Column("organizer", sa.String(200), nullable=False),  # org id or outside unit
                                  sa.Column("title", sa.Text, nullable=False),
                                  sa.Column("first_report_id", _s(36), nullable=False),
                                  sa.Column("first_held_on", sa.Date, nullable=False),
                                  sa.Column("reports", sa.Integer, nullable=False),
                                  sa.Column("quota_violation_id", _s(40)),
                                  key=("semester", "school_id", "item_key")),
        # Schools' reports; the violation ids come from the ViolationDetected naming the report.
        held_reports=_table(md, prefix, "held_reports",
                            sa.Column("semester", _s(16), nullable=False),
                            sa.Column("school_id", _s(), nullable=False),
                            sa.Column("report_id", _s(36), nullable=False),
                            sa.Column("organizer_org_id", _s()),  # none: a unit outside the directory
                            sa.Column("organizer_name", sa.Text, nullable=False),
                            sa.Column("exempt_category", _s(40)),  # the exemption the school claimed
                            sa.Column("activity_id", _s(36)),
                            sa.Column("title", sa.Text, nullable=False),
                            sa.Column("held_on", sa.Date, nullable=False),
                            sa.Column("participants", sa.Integer, nullable=False),
                            sa.Column("teacher_hours", sa.Float, nullable=False),
                            sa.Column("item_key", sa.String(300), nullable=False),
                            sa.Column("unauthorised_violation_id", _s(40)),
                            sa.Column("quota_violation_id", _s(40)),
                            sa.Column("event_id", _s(36), nullable=False),
                            sa.Column("sequence", seq, nullable=False),
                            key=("semester", "school_id", "report_id")),
        # Entries schools turned away (S3: NOT_ON_LIST and the like).
        refused_entries=_table(md, prefix, "refused_entries",
                               sa.Column("semester", _s(16), nullable=False),
                               sa.Column("school_id", _s(), nullable=False),
                               sa.Column("report_id", _s(36), nullable=False),
                               sa.Column("organizer_org_id", _s()),
                               sa.Column("organizer_name", sa.Text, nullable=False),
                               sa.Column("title", sa.Text, nullable=False),
                               sa.Column("refused_on", sa.Date, nullable=False),
                               sa.Column("refusal_code", _s(40), nullable=False),
                               sa.Column("note", sa.Text, nullable=False),
                               sa.Column("event_id", _s(36), nullable=False),
                               sa.Column("sequence", seq, nullable=False),
                               key=("semester", "school_id", "report_id")),
        # The violations register, from ViolationDetected events.
        violations=_table(md, prefix, "violations",
                          sa.Column("violation_id", _s(40), nullable=False),
                          sa.Column("rule", _s(), nullable=False),
                          sa.Column("clause", _s(8), nullable=False),
                          sa.Column("responsible_org_id", sa.String(200), nullable=False),
                          sa.Column("school_id", _s()),
                          sa.Column("teacher_id", _s()),  # S7, S10: the teacher it concerns, by id only
                          sa.Column("semester", _s(16)),
                          sa.Column("issue_key", sa.String(200), nullable=False),
                          sa.Column("summary", sa.Text, nullable=False),
                          sa.Column("evidence", sa.JSON, nullable=False),
                          sa.Column("routed_to", _s()),
                          sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
                          sa.Column("event_id", _s(36), nullable=False),
                          sa.Column("sequence", seq, nullable=False),
                          key=("violation_id",),
                          # GetViolations: newest first, by semester, by unit charged, by school, by teacher
                          indexes=(("sequence",), ("semester", "sequence"), ("responsible_org_id", "sequence"),
                                   ("school_id", "sequence"), ("teacher_id", "sequence"))),
    )


def _detecting_inspections(md: sa.MetaData, prefix: str) -> dict[str, sa.Table]:
    """The S1/S2 detector's state (``domain/s1s2_detection.py``)."""
    item, json = _s(36), sa.JSON
    return {
        # Items of the annual plans: who set each, filed or approved, charged once as unapproved.
        "inspection_items": _table(md, prefix, "inspection_items",
                                   sa.Column("item_id", item, nullable=False),
                                   sa.Column("lead_org_id", _s(), nullable=False),
                                   sa.Column("title", sa.Text, nullable=False),
                                   sa.Column("by_education", sa.Boolean, nullable=False),
                                   sa.Column("approved", sa.Boolean, nullable=False),
                                   sa.Column("proposed_event_id", _s(36)),
                                   sa.Column("setter_charged", sa.Boolean, nullable=False),
                                   key=("item_id",)),
        # Merges both ways, through mergers of mergers: what went into each merged item, and the
        # items each went on in (approved: the source is approved through it).
        "merged_sources": _table(md, prefix, "merged_sources",
                                 sa.Column("merged_item_id", item, nullable=False),
                                 sa.Column("item_id", item, nullable=False),
                                 key=("merged_item_id", "item_id")),
        "merges": _table(md, prefix, "merges",
                         sa.Column("item_id", item, nullable=False),
                         sa.Column("merged_item_id", item, nullable=False),
                         sa.Column("approved", sa.Boolean, nullable=False),
                         key=("item_id", "merged_item_id")),
        # Attachment 2: the edition in force per year, the parts received, the rows by school.
        "checklists": _table(md, prefix, "checklists",
                             sa.Column("year", sa.Integer, nullable=False),
                             sa.Column("edition", sa.Integer, nullable=False),
                             sa.Column("event_id", _s(36), nullable=False),
                             key=("year",)),
        "checklist_editions": _table(md, prefix, "checklist_editions",
                                     sa.Column("year", sa.Integer, nullable=False),
                                     sa.Column("edition", sa.Integer, nullable=False),
                                     sa.Column("parts", sa.Integer, nullable=False),
                                     sa.Column("parts_received", sa.Integer, nullable=False),
                                     key=("year", "edition")),
        "checklist_rows": _table(md, prefix, "checklist_rows",
                                 sa.Column("year", sa.Integer, nullable=False),
                                 sa.Column("school_id", _s(), nullable=False),
                                 sa.Column("edition", sa.Integer, nullable=False),
                                 sa.Column("item_id", item, nullable=False),
                                 sa.Column("units", json, nullable=False),
                                 sa.Column("months", json, nullable=False),
                                 sa.Column("frequency_per_year", sa.Integer, nullable=False),
                                 sa.Column("merged_item_ids", json, nullable=False),
                                 key=("year", "school_id", "edition", "item_id")),
        # Visits judged (one however often reported), and those counted under each row at each school.
        "inspection_visits": _table(md, prefix, "inspection_visits",
                                    sa.Column("visit_id", item, nullable=False),
                                    sa.Column("event_id", _s(36), nullable=False),
                                    key=("visit_id",)),
        "item_visits": _table(md, prefix, "item_visits",
                              sa.Column("year", sa.Integer, nullable=False),
                              sa.Column("school_id", _s(), nullable=False),
                              sa.Column("item_id", item, nullable=False),
                              sa.Column("visit_id", item, nullable=False),
                              key=("year", "school_id", "item_id", "visit_id")),
        # S2: the first request that asked each school each year for each field (normalised, hashed).
        "requested_fields": _table(md, prefix, "requested_fields",
                                   sa.Column("year", sa.Integer, nullable=False),
                                   sa.Column("school_id", _s(), nullable=False),
                                   sa.Column("field_key", _s(40), nullable=False),
                                   sa.Column("field", sa.Text, nullable=False),
                                   sa.Column("request_id", item, nullable=False),
                                   sa.Column("event_id", _s(36), nullable=False),
                                   sa.Column("requester_org_id", _s(), nullable=False),
                                   sa.Column("sequence", sa.BigInteger, nullable=False),
                                   key=("year", "school_id", "field_key")),
    }


def _detecting_teachers_time(md: sa.MetaData, prefix: str) -> dict[str, sa.Table]:
    """The S7–S10 detector's state (``domain/s7_detection.py``, ``domain/s8_s10_detection.py``)."""
    teacher, ids = _s(), _s(36)

    def departure() -> list[sa.Column]:
        return [sa.Column("teacher_id", teacher, nullable=False), sa.Column("school_id", _s(), nullable=False),
                sa.Column("borrowing_org_id", _s(), nullable=False), sa.Column("secondment_id", ids),
                sa.Column("left_on", sa.Date, nullable=False), sa.Column("ends_on", sa.Date),
                sa.Column("run_start", sa.Date, nullable=False), sa.Column("event_id", ids, nullable=False),
                sa.Column("returned_on", sa.Date), sa.Column("max_days", sa.Integer, nullable=False),
                sa.Column("policy_version", _s(), nullable=False)]

    return {
        # S7: each teacher's last departure, its run and the days it has due.
        "secondment_away": _table(md, prefix, "secondment_away", *departure(),
                                  sa.Column("limit_due", sa.Date), sa.Column("notice_due", sa.Date),
                                  key=("teacher_id", "borrowing_org_id")),
        # S7: what the sweep of each day looks at (overdue, notice), a whole copy of the departure.
        "secondment_due": _table(md, prefix, "secondment_due",
                                 sa.Column("day", sa.Date, nullable=False), sa.Column("kind", _s(16), nullable=False),
                                 *departure(), key=("day", "teacher_id", "kind")),
        # The last DayEnded folded: a departure reported after its day is judged at once.
        "days_ended": _table(md, prefix, "days_ended",
                             sa.Column("calendar", _s(16), nullable=False),
                             sa.Column("last_day", sa.Date, nullable=False), key=("calendar",)),
        # S8: each semester's plan as last published (the edition in force).
        "training_plans": _table(md, prefix, "training_plans",
                                 sa.Column("semester", _s(16), nullable=False),
                                 sa.Column("edition", sa.Integer, nullable=False),
                                 sa.Column("event_id", ids, nullable=False),
                                 sa.Column("sessions", sa.JSON, nullable=False), key=("semester",)),
        # S10: the meetings of units outside education each teacher was required at, per semester.
        "teacher_meetings": _table(md, prefix, "teacher_meetings",
                                   sa.Column("semester", _s(16), nullable=False),
                                   sa.Column("teacher_id", teacher, nullable=False),
                                   sa.Column("meeting_id", ids, nullable=False),
                                   sa.Column("organiser_org_id", _s(), nullable=False),
                                   key=("semester", "teacher_id", "meeting_id")),
    }


def _detecting_g2(md: sa.MetaData, prefix: str) -> dict[str, sa.Table]:
    """The G2 deadline sweep's state (``domain/g2_detection.py``)."""

    def deadline() -> list[sa.Column]:
        return [sa.Column("escalation_id", _s(), nullable=False),
                sa.Column("responsible_org_id", sa.String(200), nullable=False),
                sa.Column("step_event_id", _s(36), nullable=False),
                sa.Column("rectify_by", sa.Date, nullable=False)]

    return {
        # Each escalation's current deadline and the day it is due under (none: decided or closed).
        "rectification_deadlines": _table(md, prefix, "rectification_deadlines", *deadline(),
                                          sa.Column("due", sa.Date), key=("escalation_id",)),
        # What the sweep of each day looks at: a whole copy of the deadline, still current or not.
        "rectification_due": _table(md, prefix, "rectification_due", sa.Column("day", sa.Date, nullable=False),
                                    *deadline(), sa.Column("current", sa.Boolean, nullable=False),
                                    key=("day", "escalation_id")),
        # The last DayEnded folded: a step whose deadline is already over is decided at once.
        "rectification_days_ended": _table(md, prefix, "rectification_days_ended",
                                           sa.Column("calendar", _s(16), nullable=False),
                                           sa.Column("last_day", sa.Date, nullable=False), key=("calendar",)),
    }


def build_detector_tables(prefix: str = DETECTOR_PREFIX) -> ReadModel:
    """The detector's own state (S3, S1/S2, S7–S10, G2), beside the read model: never digested, never rebuilt."""
    md = sa.MetaData()
    return _model(
        prefix, md, {**S3_DETECTION_KEYS, **S1S2_DETECTION_KEYS, **S7_DETECTION_KEYS, **S8_S10_DETECTION_KEYS,
                     **G2_DETECTION_KEYS}, None,
        **_admitting(md, prefix),
        **_detecting_inspections(md, prefix),
        **_detecting_teachers_time(md, prefix),
        **_detecting_g2(md, prefix),
        # Distinct admitted items each school held: what the cap counts.
        items=_table(md, prefix, "items",
                     sa.Column("semester", _s(16), nullable=False),
                     sa.Column("school_id", _s(), nullable=False),
                     sa.Column("item_key", sa.String(300), nullable=False),
                     sa.Column("first_report_id", _s(36), nullable=False),
                     sa.Column("exempt_category", _s(40)),
                     key=("semester", "school_id", "item_key")),
        # The days each admitted item was held at each school: what its frequency counts.
        sessions=_table(md, prefix, "sessions",
                        sa.Column("semester", _s(16), nullable=False),
                        sa.Column("school_id", _s(), nullable=False),
                        sa.Column("item_key", sa.String(300), nullable=False),
                        sa.Column("held_on", sa.Date, nullable=False),
                        key=("semester", "school_id", "item_key", "held_on")),
        # The region's catalogue: its editions, and each item under its id and its name.
        catalogue_editions=_table(md, prefix, "catalogue_editions",
                                  sa.Column("catalogue", _s(16), nullable=False),
                                  sa.Column("edition", sa.Integer, nullable=False),
                                  sa.Column("in_force_from", sa.Date, nullable=False),
                                  key=("catalogue", "edition")),
        catalogue_items=_table(md, prefix, "catalogue_items",
                               sa.Column("catalogue", _s(16), nullable=False),
                               sa.Column("lookup", _s(40), nullable=False),
                               sa.Column("edition", sa.Integer, nullable=False),
                               sa.Column("item", sa.JSON, nullable=False),
                               key=("catalogue", "lookup", "edition")),
    )


LIVE = build_tables(LIVE_PREFIX)
DETECTOR = build_detector_tables(DETECTOR_PREFIX)
