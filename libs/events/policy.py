"""Policy parameters, loaded from a versioned TOML file (``reference/policy.toml``).

Every number the rules use lives here and nowhere else; each field cites its clause. The file's
top level is the version in force now; earlier versions stay in it as ``[[previous]]`` tables,
because a fact is judged by the version in force on the day it happened (DOMAIN.md: parameters
are versioned per year).
"""

from __future__ import annotations

import tomllib
from datetime import date
from functools import cached_property
from itertools import pairwise
from pathlib import Path

from jianfu.events.organisations import OrgKind
from jianfu.events.semesters import SchoolCalendar, Semester, Span, Term
from pydantic import BaseModel, ConfigDict, Field, model_validator


class CampusEntryPolicy(BaseModel):
    """S3: social affairs entering campus."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    autumn_declaration_month: int = Field(7, ge=1, le=12, description="S3: July, for autumn")
    spring_declaration_month: int = Field(12, ge=1, le=12, description="S3: December, for spring")
    items_per_school_per_semester: int = Field(4, ge=1, description="S3: cap per school")
    city_creation_per_school_year: int = Field(1, ge=0, description="S3: city-creation entries per school and school "
                                               "year (exempt from declaration, not from this count)")
    exempt_categories: tuple[str, ...] = Field(
        ("city_creation", "central_government_work", "regional_catalogue"),
        description="S3: recorded without declaration or certification, but counted",
    )

    def window_target(self, declared_on: date) -> Semester | None:
        """The semester a regular declaration made on this day is for, or None outside the window."""
        if declared_on.month == self.autumn_declaration_month:
            return Semester(declared_on.year, Term.AUTUMN)
        if declared_on.month == self.spring_declaration_month:
            return Semester(declared_on.year + 1, Term.SPRING)
        return None


class SchoolYear(BaseModel):
    """One school year of the district's calendar: each semester's first and last school day."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    year: int = Field(ge=2000, le=2200, description="The autumn's year: 2026 is the school year 2026–2027.")
    autumn: tuple[date, date]
    spring: tuple[date, date]

    @model_validator(mode="after")
    def _in_order(self) -> SchoolYear:
        (autumn_first, autumn_last), (spring_first, spring_last) = self.autumn, self.spring
        if not autumn_first <= autumn_last < spring_first <= spring_last:
            raise ValueError(f"school year {self.year}: autumn and spring must each run forward, autumn first")
        if autumn_first.year != self.year or spring_last.year != self.year + 1:
            raise ValueError(f"school year {self.year} runs from its autumn in {self.year} to its spring in {self.year + 1}")
        return self

    def spans(self) -> dict[str, Span]:
        return {f"{self.year}-autumn": Span(*self.autumn), f"{self.year + 1}-spring": Span(*self.spring)}


class InspectionPolicy(BaseModel):
    """S1 inspections and S2 data requests."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    filing_days_ahead: int = Field(30, ge=0, description="S1: an item is proposed this many days before its first "
                                   "planned month, or goes the urgent route with a reason")
    data_request_min_working_days: int = Field(2, ge=0, description="S2: a data request gives schools at least "
                                               "this many working days")


class SecondmentPolicy(BaseModel):
    """S7: borrowing teachers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_days: int = Field(183, ge=1, description="S7: at most half a year, counted over back-to-back renewals")
    renewal_gap_days: int = Field(30, ge=0, description="S7: a secondment with the same unit starting fewer than "
                                  "this many days after the last one ended continues it")
    approver_kind: OrgKind = Field(OrgKind.HR_BUREAU, description="S7: who approves and files (人社部门审批备案)")
    notice_days_before_end: int = Field(30, ge=1, description="S7: the borrowing unit is told this many days "
                                        "before a secondment's last day")


class TrainingPolicy(BaseModel):
    """S8: the teaching research office publishes the semester's training plan in advance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    planner_kind: OrgKind = Field(OrgKind.TEACHING_RESEARCH_OFFICE, description="S8: who publishes the plan")


class MeetingPolicy(BaseModel):
    """S9, S10: meetings teachers are required at."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sub_venue_beyond_km: float = Field(50, gt=0, allow_inf_nan=False, description="S9: participants further than "
                                       "this from the venue are distant")
    sub_venue_above_participants: int = Field(5, ge=0, description="S9: more distant participants than this "
                                              "need a video sub-venue")
    non_education_per_teacher_per_semester: int = Field(2, ge=0, description="S10: meetings by units outside "
                                                        "education a teacher may be required at per semester")


class WorkingDays(BaseModel):
    """The district's own days off and working days, beside China's statutory holidays and
    adjusted working days (调休) that a maintained package supplies (DOMAIN.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    local_days_off: tuple[date, ...] = ()
    local_working_days: tuple[date, ...] = ()


class EscalationPolicy(BaseModel):
    """G2: the escalation ladder."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    warnings_before_circulation: int = Field(3, ge=1, description="G2: warnings on one issue within the window "
                                             "before an internal circulation is proposed")
    repeat_window_months: int = Field(12, ge=1, description="G2: a repeat within this many months is warned; "
                                      "older warnings fall out of the count")
    rectification_working_days: int = Field(10, ge=1, description="G2: each step's rectification deadline, in "
                                            "working days from the day it is issued")
    circulation_confirmer_kind: OrgKind = Field(OrgKind.LEADING_GROUP_OFFICE, description="G2: who confirms or "
                                                "declines a proposed circulation")
    circulation_number_format: str = Field("大教减负通〔{year}〕{number}号", description="G2: a confirmed "
                                           "circulation's document number; {year} and {number} are filled in")


class Policy(BaseModel):
    """The version in force now, with the earlier versions it replaced (``previous``, oldest first).

    Services use the current version for new commands; ``in_force_on`` gives the version a fact
    of a given day is judged by.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(description="Recorded as `policy_version` on every event.")
    in_force_from: date = Field(date(2021, 8, 20), description="The day this version took effect. The earliest "
                                "version's is the day the plan took effect: what happened before it is not "
                                "reported to or judged by this system.")
    campus_entry: CampusEntryPolicy = CampusEntryPolicy()
    inspections: InspectionPolicy = InspectionPolicy()
    secondment: SecondmentPolicy = SecondmentPolicy()
    training: TrainingPolicy = TrainingPolicy()
    meetings: MeetingPolicy = MeetingPolicy()
    escalation: EscalationPolicy = EscalationPolicy()
    calendar: tuple[SchoolYear, ...] = Field((), description="The school calendar, per school year (DOMAIN.md: the "
                                             "semester calendar is data). Years not listed take `default_span`. "
                                             "It belongs to the file, not to a version: only the top level holds it.")
    working_days: WorkingDays = Field(WorkingDays(), description="The district's days off and working days beyond "
                                      "the national calendar. Like the calendar, it belongs to the file.")
    previous: tuple[Policy, ...] = Field((), description="Earlier versions, oldest first, each whole "
                                         "(a missing section takes the defaults) and without `previous` of its own.")

    @model_validator(mode="after")
    def _versions_form_one_timeline(self) -> Policy:
        """Refuse a file whose versions do not say unambiguously which one was in force on a day."""
        for earlier in self.previous:
            if earlier.previous:
                raise ValueError(f"previous version {earlier.version!r} holds a `previous` of its own: "
                                 "list every earlier version as a top-level [[previous]] table")
            if earlier.calendar:
                raise ValueError(f"previous version {earlier.version!r} holds a calendar: the school calendar "
                                 "is kept once, as top-level [[calendar]] tables")
            if earlier.working_days != WorkingDays():
                raise ValueError(f"previous version {earlier.version!r} holds working days: the district's days "
                                 "off are kept once, in the top-level [working_days] table")
        years = [school_year.year for school_year in self.calendar]
        if years != sorted(set(years)):
            raise ValueError("[[calendar]] school years must be listed once each, in order")
        for earlier, later in pairwise(self.calendar):
            if later.year == earlier.year + 1 and later.autumn[0] <= earlier.spring[1]:
                raise ValueError(f"school year {later.year} starts before school year {earlier.year} ends")
        names = [v.version for v in self.versions]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"version names must be unique, and {', '.join(map(repr, duplicates))} appears "
                             "more than once: every event records its version by name")
        for earlier, later in pairwise(self.versions):
            if earlier.in_force_from >= later.in_force_from:
                raise ValueError(_order_refusal(earlier, later, current=later is self))
        return self

    @property
    def versions(self) -> tuple[Policy, ...]:
        """Every version, oldest first; the last is the current one."""
        return (*self.previous, self)

    @cached_property
    def school_calendar(self) -> SchoolCalendar:
        """The calendar semesters are judged by (``semester_of(day)``, ``span(semester)``)."""
        return SchoolCalendar({key: span for year in self.calendar for key, span in year.spans().items()})

    @property
    def plan_in_force_from(self) -> date:
        """The day the plan took effect: the earliest version's ``in_force_from``."""
        return self.versions[0].in_force_from

    def in_force_on(self, day: date) -> Policy | None:
        """The version in force on ``day``: the latest one in force from that day or earlier.

        None before the earliest version: nothing that happened before the plan is judged.
        """
        return next((v for v in reversed(self.versions) if v.in_force_from <= day), None)

    @classmethod
    def load(cls, path: Path) -> Policy:
        return cls.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))


def _order_refusal(earlier: Policy, later: Policy, *, current: bool) -> str:
    dates = (f"{earlier.version!r} is in force from {earlier.in_force_from}, "
             f"{later.version!r} from {later.in_force_from}")
    if current:
        return f"the current (top-level) version must be the latest, in force after every previous one: {dates}"
    return f"previous versions must be listed oldest first, each in force strictly before the next: {dates}"
