"""S3 social affairs entering campus: the application form (Attachment 4), certification,
the semester list (Attachment 3) and schools' reports of activities held."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from jianfu.events.errors import RefusalCode
from jianfu.events.organisations import SchoolStage
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


class UrgencyCategory(StrEnum):
    """Why an activity cannot wait for the next window (S3: 即时性、突发性的活动)."""

    SUDDEN_EVENT = "sudden_event"              # 突发事件: a disaster, an epidemic, an accident
    SUPERIOR_DIRECTIVE = "superior_directive"  # 上级临时部署: a task a higher level set at short notice
    TIME_BOUND = "time_bound"                  # 时效性工作: a date fixed outside the district


class DeliveryMode(StrEnum):
    """How an item reaches students. Only an entry brings the unit's people onto campus; a
    school-run item costs teachers' time but is no outside entry (real lists: "牵头单位提供资源，
    学校自行组织")."""

    ENTRY = "entry"
    SCHOOL_RUN = "school_run"
    ONLINE = "online"


class BasisLevel(StrEnum):
    """The level of the document an activity rests on; a round certifies higher levels first."""

    NATIONAL = "national"
    REGIONAL = "regional"
    CITY = "city"
    DISTRICT = "district"


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
    reference: Line(1, 200) = Field(description="The document; for `regional_catalogue`, the catalogue item's id "
                                    "or its name as imported.")


class Scope(BaseModel):
    """Which schools and grades: ``all_schools`` (of some ``stages`` only, if given) or an explicit
    list of school org ids (named pilot schools), optionally a ``sample_share`` of them."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    all_schools: bool = False
    school_ids: tuple[OrgId, ...] = Field(default=(), max_length=500)
    grades: tuple[Line(1, 20), ...] = Field(default=(), max_length=12, description="e.g. 初一, 四年级")
    stages: tuple[SchoolStage, ...] = Field(default=(), max_length=2, description="With all_schools: only schools "
                                            "of these stages (primary, middle).")
    sample_share: float | None = Field(default=None, gt=0, le=1, description="A sample of the schools in scope, "
                                       "drawn reproducibly from the activity id (e.g. 0.3 for 30 %).")

    @model_validator(mode="after")
    def _some_schools(self) -> Scope:
        if self.all_schools == bool(self.school_ids):
            raise ValueError("give either all_schools=true or a non-empty school_ids list")
        if self.stages and not self.all_schools:
            raise ValueError("stages narrow all_schools; name the schools in school_ids instead")
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
    urgency_category: UrgencyCategory | None = Field(None, description="Urgent route: why it cannot wait.")
    delivery: DeliveryMode = DeliveryMode.ENTRY
    basis_level: BasisLevel | None = Field(None, description="Level of the document in `policy_basis`.")
    max_per_year: int | None = Field(None, ge=1, le=100, description="Most entries per school and school year; "
                                     "read from `frequency` when not given.")
    max_per_semester: int | None = Field(None, ge=1, le=100, description="Most entries per school and semester; "
                                         "read from `frequency` when not given.")

    @model_validator(mode="after")
    def _dates_in_order(self) -> ApplicationForm:
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class RequestActivity(ApplicationForm, Command):
    """A unit declares a campus-entry activity (S3). The applicant is the org of the subject."""

    context: ClassVar[str] = "requests"


class Organizer(BaseModel):
    """Who came onto campus: a unit of the directory by id, or any unit by name (a provincial
    body, a trade union, the Red Cross, a private firm)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    organizer_org_id: OrgId | None = Field(default=None, description="The unit, when the directory has it.")
    organizer_name: Line(2, 100) | None = Field(default=None, description="The unit's name, when it has no org id.")

    @model_validator(mode="after")
    def _one_organizer(self):
        if (self.organizer_org_id is None) == (self.organizer_name is None):
            raise ValueError("name the unit by organizer_org_id or by organizer_name, not both")
        return self


class RecordActivityHeld(Organizer, Command):
    """A school reports that a social activity took place on its campus (S3)."""

    context: ClassVar[str] = "requests"

    activity_id: UUID | None = Field(default=None, description="The application, if one was named.")
    title: Line(2, 200)
    held_on: date
    participants: int = Field(default=0, ge=0, le=100_000)
    teacher_hours: float = Field(default=0, ge=0, le=10_000)
    exemption_claim: ExemptionClaim | None = Field(default=None, description="The entry was exempt from "
                                                   "declaration (无须申报): recorded, checked and counted.")


class RecordEntryRefused(Organizer, Command):
    """A school records that it turned an entry away (S3: e.g. `NOT_ON_LIST`)."""

    context: ClassVar[str] = "requests"

    title: Line(2, 200)
    refused_on: date
    refusal_code: RefusalCode = RefusalCode.NOT_ON_LIST
    note: Text(0, 1000) = ""


class CertifyActivity(Command):
    """The education bureau certifies an urgent application on its own (S3: the simplified
    route); regular ones are certified together, in the semester's round."""

    context: ClassVar[str] = "approvals"

    activity_id: UUID
    note: Text(0, 1000) = ""
    urgency_confirmed: bool = Field(False, description="The bureau confirms the reason is urgent; required.")


class RoundRejection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    activity_id: UUID
    refusal_code: RefusalCode
    reason: Text(2, 2000)


class DecideCertificationRound(Command):
    """集中认定 (S3): after the window closes, the bureau decides all of a semester's regular
    declarations together. Those it names in ``rejections`` are refused; the rest are certified
    by priority where a school would exceed its cap."""

    context: ClassVar[str] = "approvals"

    semester: SemesterId
    rejections: tuple[RoundRejection, ...] = Field((), max_length=500)
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
    """One row of Attachment 3, with every column real published lists carry. Rows recorded
    before a column existed take its default."""

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
    content: str = ""
    scope: str = Field("", description="The scope in words: all schools, a stage, named pilot schools, a sample.")
    grades: tuple[str, ...] = ()
    delivery: DeliveryMode = DeliveryMode.ENTRY
    occurrences: int | None = Field(None, description="Entries per school the application asked for.")
    max_per_year: int | None = None
    max_per_semester: int | None = None
    exempt_category: ExemptCategory | None = None
    catalogue_item_id: str | None = Field(None, description="The regional catalogue item an exemption rests on.")


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
    urgency_confirmed: bool = Field(False, description="An urgent application: the bureau confirmed the urgency.")
    in_round: bool = Field(False, description="Decided in the semester's certification round.")


class ActivityRejected(EventData):
    aggregate_type: ClassVar[str] = "activity"

    activity_id: UUID
    applicant_org_id: str
    refusal_code: RefusalCode
    reason: str
    automatic: bool = Field(description="Refused by a hard rule rather than by a person.")
    semester: str | None = DECIDED_SEMESTER
    in_round: bool = Field(False, description="Decided in the semester's certification round.")


class ActivityExemptionRecorded(EventData):
    aggregate_type: ClassVar[str] = "activity"

    activity_id: UUID
    applicant_org_id: str
    category: ExemptCategory
    reference: str
    listing: ListedActivity
    semester: str | None = DECIDED_SEMESTER
    refused_schools: tuple[RefusedSchool, ...] = Field(
        (), description="Schools it is not recorded at (full, or its city-creation entry of the year taken).")


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
    exempt_category: ExemptCategory | None = Field(None, description="An exemption's category (city creation is "
                                                   "also capped per school year).")


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
    organizer_org_id: str | None = Field(description="None: a unit outside the directory, named in `organizer_name`.")
    activity_id: UUID | None
    title: str
    held_on: date
    semester: str
    participants: int
    teacher_hours: float
    organizer_name: str = Field("", description="The unit's name (as the school gave it, for one outside the directory).")
    exemption_claim: ExemptionClaim | None = None


class CampusEntryRefused(EventData):
    """A school turned an entry away (S3): on the record, not an entry."""

    aggregate_type: ClassVar[str] = "campus_entry_report"

    report_id: UUID
    school_id: str
    organizer_org_id: str | None
    organizer_name: str
    title: str
    refused_on: date
    semester: str
    refusal_code: RefusalCode
    note: str = ""


class RoundPlace(BaseModel):
    """An application's place in a certification round: higher priorities take a full school's
    last places first (S3 集中认定)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    activity_id: UUID
    rank: int = Field(ge=1, description="1 is decided first.")
    priority: str = Field(description="What placed it: its basis level, or `other`.")
    rejected_by_bureau: bool = False


ROUND_PART_PLACES = 1000
"""Places per part of a certification round: about 120 KB, far below NATS's 1 MB payload limit
however many declarations a window holds (a round of 20,000 candidates is 20 parts)."""


class CertificationRoundDecided(EventData):
    """One part of the semester's round (aggregate ``campus_entry_round.<semester>``): which regular
    declarations it decided and in what order. A round is stored as ``parts`` events, part 1 to
    ``parts``, appended together (all or none), each with up to ``ROUND_PART_PLACES`` places
    starting at ``offset`` in rank order. Each decision follows as an event of its activity.
    Rounds recorded before rounds came in parts are one part of every place."""

    aggregate_type: ClassVar[str] = "campus_entry_round"

    semester: str
    decided_on: date
    # No bound here: rounds recorded in one part hold every place, and the log stays readable.
    places: tuple[RoundPlace, ...]
    note: str = ""
    part: int = Field(1, ge=1, description="This part's number, 1 to `parts`.")
    parts: int = Field(1, ge=1, description="How many parts the round has.")
    offset: int = Field(0, ge=0, description="The position of this part's first place in the round.")
    place_count: int | None = Field(None, ge=0, description="Places in the whole round (none: this part's).")

    @model_validator(mode="after")
    def _part_of_the_round(self) -> CertificationRoundDecided:
        if self.part > self.parts:
            raise ValueError(f"part {self.part} of {self.parts}")
        return self
