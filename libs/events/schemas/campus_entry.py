"""S3 social affairs entering campus: the application form (Attachment 4), certification,
the semester list (Attachment 3) and schools' reports of activities held."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from jianfu.events.errors import RefusalCode
from jianfu.events.schemas.base import Command, EventData, Query
from jianfu.events.schemas.paging import PagedQuery
from jianfu.events.schemas.text import ORG_ID_PATTERN, SEMESTER_PATTERN, Line, OrgId, SemesterId, Text
from pydantic import BaseModel, ConfigDict, Field, model_validator

SEMESTER_ID = SEMESTER_PATTERN
ORG_ID = ORG_ID_PATTERN


class DeclarationType(StrEnum):
    REGULAR = "regular"
    URGENT = "urgent"


class Route(StrEnum):
    """How an activity reaches a campus: the July/December window, the simplified urgent route,
    or an exempt category that needs no declaration (S3)."""

    REGULAR = "regular"
    URGENT = "urgent"
    EXEMPT = "exempt"


class ExemptCategory(StrEnum):
    CITY_CREATION = "city_creation"
    CENTRAL_GOVERNMENT_WORK = "central_government_work"
    REGIONAL_CATALOGUE = "regional_catalogue"


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: Line(1, 50)
    phone: str = Field(min_length=5, max_length=30, pattern=r"^[0-9+\- ]+$")


class Budget(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    amount_yuan: float = Field(0, ge=0, le=100_000_000, description="Budget of the activity in yuan.")
    free_of_charge: bool = Field(description="True when students and schools pay nothing.")
    commercial_content: bool = Field(description="Advertising, sales or sponsorship content.")


class ExemptionClaim(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    category: ExemptCategory
    reference: Line(1, 200) = Field(description="Document or catalogue entry.")


class Scope(BaseModel):
    """Which schools and grades: ``all_schools`` or an explicit list of school org ids."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    all_schools: bool = False
    school_ids: tuple[OrgId, ...] = Field(default=(), max_length=500)
    grades: tuple[Line(1, 20), ...] = Field(default=(), max_length=12, description="e.g. 初一, 四年级")

    @model_validator(mode="after")
    def _some_schools(self) -> Scope:
        if self.all_schools == bool(self.school_ids):
            raise ValueError("give either all_schools=true or a non-empty school_ids list")
        return self


class ApplicationForm(BaseModel):
    """Attachment 4: 大武口区进校园活动申报表."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False)

    contact: Contact
    declaration_type: DeclarationType
    target_semester: SemesterId = Field(description="e.g. 2026-autumn")
    title: Line(2, 200)
    policy_basis: Text(2, 1000) = Field(description="Document the activity rests on.")
    content: Text(2, 4000)
    form: Line(1, 200) = Field(description="讲座、主题班队会 ...")
    scope: Scope
    start_date: date
    end_date: date
    frequency: Line(1, 100) = Field(description="e.g. 每学期1次")
    occurrences: int = Field(ge=1, le=100, description="How many times it enters each school.")
    duration_minutes: int = Field(ge=1, le=24 * 60)
    expected_participants: int = Field(ge=0, le=1_000_000)
    teachers_needed: int = Field(ge=0, le=10_000)
    teacher_hours: float = Field(ge=0, le=100_000)
    budget: Budget
    safety_plan: Text(2, 4000)
    exemption_claim: ExemptionClaim | None = None
    urgency_reason: Text(1, 1000) | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> ApplicationForm:
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class RequestActivity(ApplicationForm, Command):
    """A unit declares a campus-entry activity (S3). The applicant is the org of the subject."""

    context: ClassVar[str] = "requests"


class RecordActivityHeld(Command):
    """A school reports that a social activity took place on its campus (S3)."""

    context: ClassVar[str] = "requests"

    organizer_org_id: OrgId = Field(description="The unit that came onto campus.")
    activity_id: UUID | None = Field(default=None, description="The application, if one was named.")
    title: Line(2, 200)
    held_on: date
    participants: int = Field(default=0, ge=0, le=100_000)
    teacher_hours: float = Field(default=0, ge=0, le=10_000)


class CertifyActivity(Command):
    """The education bureau certifies an application (集中认定, S3)."""

    context: ClassVar[str] = "approvals"

    activity_id: UUID
    note: Text(0, 1000) = ""


class RejectActivity(Command):
    """The education bureau refuses an application with a refusal code (S3)."""

    context: ClassVar[str] = "approvals"

    activity_id: UUID
    refusal_code: RefusalCode
    reason: Text(2, 2000)


class PublishSemesterList(Command):
    """The education bureau publishes the certified list of a semester (Attachment 3)."""

    context: ClassVar[str] = "approvals"

    semester: SemesterId


class GetSemesterList(PagedQuery):
    """Attachment 3 as last published, its items page by page in the edition's order."""

    context: ClassVar[str] = "compliance"
    semester: SemesterId


class GetApplications(PagedQuery):
    """A semester's applications in the order they were requested, page by page."""

    context: ClassVar[str] = "compliance"
    semester: SemesterId
    status: str | None = Field(default=None, pattern=r"^(requested|certified|rejected|exempt)$")


class GetCampusEntryCounters(Query):
    context: ClassVar[str] = "compliance"
    semester: SemesterId
    school_id: OrgId | None = None


class ActivityRequested(ApplicationForm, EventData):
    aggregate_type: ClassVar[str] = "activity"

    activity_id: UUID
    applicant_org_id: str
    route: Route
    declared_on: date
    in_window: bool = Field(description="Declared in the July/December window for its semester.")
    school_ids: tuple[str, ...] = Field(description="The scope resolved to school ids.")


class ListedActivity(BaseModel):
    """One row of Attachment 3."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    activity_id: UUID
    title: str
    organizer_org_id: str
    organizer_name: str
    route: Route
    form: str
    frequency: str
    start_date: date
    end_date: date
    school_ids: tuple[str, ...]
    policy_basis: str


DECIDED_SEMESTER = Field(
    None, description="The semester decided for. Decisions are events of the activity (`activity.<id>`); "
    "those recorded before that carry none and were stored on `campus_entry_semester.<semester>`.")


class RefusedSchool(BaseModel):
    """A school an activity was not certified for, and why (S3: certified per school)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    school_id: str
    refusal_code: RefusalCode
    reason: str


class ActivityCertified(EventData):
    aggregate_type: ClassVar[str] = "activity"

    activity_id: UUID
    applicant_org_id: str
    listing: ListedActivity = Field(description="The row this activity takes in the semester list; its "
                                    "`school_ids` are the schools it is certified for.")
    note: str = ""
    semester: str | None = DECIDED_SEMESTER
    refused_schools: tuple[RefusedSchool, ...] = Field(
        (), description="Schools of the application it is not certified for (a full school), with the reason.")


class ActivityRejected(EventData):
    aggregate_type: ClassVar[str] = "activity"

    activity_id: UUID
    applicant_org_id: str
    refusal_code: RefusalCode
    reason: str
    automatic: bool = Field(description="Refused by a hard rule rather than by a person.")
    semester: str | None = DECIDED_SEMESTER


class ActivityExemptionRecorded(EventData):
    aggregate_type: ClassVar[str] = "activity"

    activity_id: UUID
    applicant_org_id: str
    category: ExemptCategory
    reference: str
    listing: ListedActivity
    semester: str | None = DECIDED_SEMESTER


class CampusEntrySlotTaken(EventData):
    """One of a school's S3 slots for a semester, taken by an admitted activity. Appended in one
    atomic batch with the certification (or exemption) that takes it, so the cap is guarded per
    school (aggregate `campus_entry_quota.<semester>.<school_id>`) and no aggregate spans the district."""

    aggregate_type: ClassVar[str] = "campus_entry_quota"

    semester: str
    school_id: str
    activity_id: UUID
    organizer_org_id: str
    route: Route


LIST_PART_ITEMS = 100
"""Items per part of a published list: about 100 KB, far below NATS's 1 MB payload limit however
large the district (an edition of 2,000 items is 20 parts)."""


class SemesterListPublished(EventData):
    """One part of an edition of Attachment 3. An edition is published as ``parts`` events in a
    row, part 1 to ``parts``, each with up to ``LIST_PART_ITEMS`` items starting at ``offset`` in
    the edition's order; it is published once its last part is stored. Editions recorded before
    lists came in parts are one part of every item."""

    aggregate_type: ClassVar[str] = "campus_entry_semester"

    semester: str
    edition: int = Field(ge=1, description="1 for the first publication; urgent additions republish.")
    # No bound here: editions recorded in one part hold every item, and the log stays readable.
    items: tuple[ListedActivity, ...]
    part: int = Field(1, ge=1, description="This part's number, 1 to `parts`.")
    parts: int = Field(1, ge=1, description="How many parts the edition has.")
    offset: int = Field(0, ge=0, description="The position of this part's first item in the edition.")
    item_count: int | None = Field(None, ge=0, description="Items in the whole edition (none: this part's).")

    @model_validator(mode="after")
    def _part_of_the_edition(self) -> SemesterListPublished:
        if self.part > self.parts:
            raise ValueError(f"part {self.part} of {self.parts}")
        return self


class ActivityHeldReported(EventData):
    aggregate_type: ClassVar[str] = "campus_entry_report"

    report_id: UUID
    school_id: str
    organizer_org_id: str
    activity_id: UUID | None
    title: str
    held_on: date
    semester: str
    participants: int
    teacher_hours: float
