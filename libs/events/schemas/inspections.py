"""S1 inspections (督查检查考核评比) and S2 data requests: the annual plan and its approval or
filing, the checklist (Attachment 2), visits that happened and data requested of schools.

An item (aggregate ``inspection_item.<item_id>``) is proposed by a unit for a year; the education
bureau's own items are filed (报备), every other unit's is approved (``InspectionApproved``) or
rejected by the supervision office, then coordinated by the education bureau, which may merge
similar items and publishes the year's checklist (aggregate ``inspection_checklist.<year>``) in
editions and parts, as the campus-entry list. Schools (or the visiting unit) report visits
(``inspection_visit.<visit_id>``: one visit however often it is reported); units issue data
requests (``data_request.<request_id>``).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from jianfu.events.schemas.base import Command, EventData, Query
from jianfu.events.schemas.paging import PagedQuery
from jianfu.events.schemas.text import Line, OrgId, Text
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

YEAR = Field(ge=2021, le=2100, description="The calendar year the item is planned for.")


class InspectionCategory(StrEnum):
    """What kind of item (S1: 督查 / 检查 / 评比 / 考核, and 创建示范)."""

    SUPERVISION = "supervision"      # 督查
    INSPECTION = "inspection"        # 检查
    APPRAISAL = "appraisal"          # 评比
    ASSESSMENT = "assessment"        # 考核
    DEMONSTRATION = "demonstration"  # 创建示范


class VisitLabel(StrEnum):
    """What a visit called itself. The last four are not inspections by name; one that grades or
    ranks the school is a disguised inspection (S1)."""

    SUPERVISION = "supervision"  # 督查
    INSPECTION = "inspection"    # 检查
    RESEARCH = "research"        # 调研
    EVALUATION = "evaluation"    # 评估
    GUIDANCE = "guidance"        # 指导
    MONITORING = "monitoring"    # 监测


SOFT_LABELS = frozenset({VisitLabel.RESEARCH, VisitLabel.EVALUATION, VisitLabel.GUIDANCE, VisitLabel.MONITORING})


class InspectionRefusalCode(StrEnum):
    """Why the supervision office (or the rules) refuse an item (S1)."""

    NOT_NECESSARY = "NOT_NECESSARY"                    # 无必要：可由日常工作或已有渠道解决
    DUPLICATES_EXISTING_ITEM = "DUPLICATES_EXISTING_ITEM"  # 与已有事项重复（应合并）
    EXCESSIVE_MATERIALS = "EXCESSIVE_MATERIALS"        # 一项工作一套档案、表格材料过多 (S2)
    TOO_FREQUENT = "TOO_FREQUENT"                      # 频次过高
    LATE_FILING = "LATE_FILING"                        # 未提前报批、无紧急理由
    NOT_APPROVED = "NOT_APPROVED"                      # 非教育部门事项未经督查室审批


class InspectionTarget(BaseModel):
    """Whom the item is aimed at: every school, named schools, a sample share of schools, and/or
    teachers."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    all_schools: bool = False
    school_ids: tuple[OrgId, ...] = Field((), max_length=500)
    sample_share: float | None = Field(None, gt=0, le=1, description="A sample of the schools in scope (e.g. 0.05).")
    teachers: bool = Field(False, description="Aimed at teachers too (or only, with no schools).")

    @model_validator(mode="after")
    def _someone(self) -> InspectionTarget:
        if self.all_schools and self.school_ids:
            raise ValueError("give all_schools=true or school_ids, not both")
        if not (self.all_schools or self.school_ids or self.teachers):
            raise ValueError("aim the item at schools (all_schools or school_ids) or teachers")
        return self


class InspectionItemForm(BaseModel):
    """An item of the annual plan as proposed (the columns of Attachment 2 and what S2 limits)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False)

    year: int = YEAR
    title: Line(2, 200)
    sub_item: Line(0, 200) = ""
    category: InspectionCategory
    joint_org_ids: tuple[OrgId, ...] = Field((), max_length=20, description="Units inspecting with the lead unit.")
    policy_basis: Text(2, 1000)
    target: InspectionTarget
    method: Line(1, 200) = Field(description="实地检查、查阅材料、表格调查 ...")
    indicators: int = Field(ge=0, le=1000, description="Number of indicators the schools are assessed on.")
    frequency_per_year: int = Field(ge=1, le=52, description="Visits to one school under this item, per year.")
    planned_months: tuple[int, ...] = Field(min_length=1, max_length=12, description="Months (1-12) it runs in.")
    data_fields: tuple[Line(1, 100), ...] = Field((), max_length=200, description="Data and materials it asks of "
                                                 "schools, one field each (S2).")
    archive_sets: int = Field(0, ge=0, le=100, description="Archive sets schools keep for it (S2: few).")
    urgency_reason: Text(1, 1000) | None = Field(None, description="Proposed later than the filing deadline: why.")

    @model_validator(mode="after")
    def _months(self) -> InspectionItemForm:
        if any(not 1 <= month <= 12 for month in self.planned_months):
            raise ValueError("planned_months are 1 to 12")
        if len(set(self.planned_months)) != len(self.planned_months):
            raise ValueError("planned_months name each month once")
        return self


class ProposeInspectionItem(InspectionItemForm, Command):
    """A unit proposes an item of its annual plan (S1). The lead unit is the org of the subject."""

    context: ClassVar[str] = "requests"


class InspectionItemProposed(InspectionItemForm, EventData):
    aggregate_type: ClassVar[str] = "inspection_item"

    item_id: UUID
    lead_org_id: str
    proposed_on: date
    late: bool = Field(description="Proposed less than the filing lead time before its first planned month.")
    school_ids: tuple[str, ...] = Field(description="The target resolved to school ids.")


class ApproveInspectionItem(Command):
    """The supervision office approves another unit's item (S1)."""

    context: ClassVar[str] = "approvals"

    item_id: UUID
    note: Text(0, 1000) = ""


class RejectInspectionItem(Command):
    """The supervision office refuses an item, with a code (S1)."""

    context: ClassVar[str] = "approvals"

    item_id: UUID
    refusal_code: InspectionRefusalCode
    reason: Text(2, 2000)


class MergeInspectionItems(Command):
    """The education bureau coordinates: similar items become one (S1: 统筹协调). The merged item
    keeps every unit and both histories."""

    context: ClassVar[str] = "approvals"

    item_ids: tuple[UUID, ...] = Field(min_length=2, max_length=20)
    title: Line(2, 200)
    note: Text(0, 1000) = ""


class PublishInspectionChecklist(Command):
    """The education bureau publishes the year's checklist (Attachment 2)."""

    context: ClassVar[str] = "approvals"

    year: int = YEAR


class InspectionItemFiled(EventData):
    """The education bureau's own item, filed (报备): in the plan without approval (S1)."""

    aggregate_type: ClassVar[str] = "inspection_item"

    item_id: UUID
    lead_org_id: str
    year: int


class InspectionApproved(EventData):
    """The supervision office approved another unit's item (S1); the education bureau coordinates it."""

    aggregate_type: ClassVar[str] = "inspection_item"

    item_id: UUID
    lead_org_id: str
    year: int
    approved_by_org_id: str
    note: str = ""


class InspectionItemRejected(EventData):
    aggregate_type: ClassVar[str] = "inspection_item"

    item_id: UUID
    lead_org_id: str
    year: int
    refusal_code: InspectionRefusalCode
    reason: str
    automatic: bool = Field(description="Refused by a rule (late without a reason) rather than by a person.")


class InspectionItemsMerged(EventData):
    """The merged item (a new aggregate): what the items it replaces asked, together."""

    aggregate_type: ClassVar[str] = "inspection_item"

    item_id: UUID
    year: int
    title: str
    merged_item_ids: tuple[UUID, ...]
    lead_org_ids: tuple[str, ...] = Field(description="Every unit of the merged items, leads and joint.")
    category: InspectionCategory
    target_school_ids: tuple[str, ...]
    teachers: bool
    frequency_per_year: int
    planned_months: tuple[int, ...]
    data_fields: tuple[str, ...]
    note: str = ""


class InspectionItemMerged(EventData):
    """An item replaced by a merged one: it goes on as part of ``into_item_id``."""

    aggregate_type: ClassVar[str] = "inspection_item"

    item_id: UUID
    into_item_id: UUID
    year: int


class ChecklistRow(BaseModel):
    """One row of Attachment 2, with every column real checklists carry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    item_id: UUID
    item_name: str
    sub_item: str = ""
    target: str = Field(description="Whom, in words: 全区中小学校, named schools, a sample, teachers.")
    category: InspectionCategory
    method: str
    sample_ratio_or_frequency: str = Field(description="e.g. 抽查比例5%，每年1次")
    time_window: str = Field(description="e.g. 9-10月")
    inspecting_units: tuple[str, ...] = Field(description="Org ids of the lead and joint units.")
    inspecting_unit_names: tuple[str, ...]
    school_ids: tuple[str, ...]
    teachers: bool = False
    frequency_per_year: int
    planned_months: tuple[int, ...]
    data_fields: tuple[str, ...] = ()
    merged_item_ids: tuple[UUID, ...] = ()


CHECKLIST_PART_ROWS = 100


class InspectionChecklistPublished(EventData):
    """One part of an edition of Attachment 2 for a year (as SemesterListPublished)."""

    aggregate_type: ClassVar[str] = "inspection_checklist"

    year: int
    edition: int = Field(ge=1)
    rows: tuple[ChecklistRow, ...]
    part: int = Field(1, ge=1)
    parts: int = Field(1, ge=1)
    offset: int = Field(0, ge=0)
    row_count: int = Field(ge=0)


class ReportInspectionVisit(Command):
    """A visit that happened (S1): reported by the school, or by the visiting unit naming the school."""

    context: ClassVar[str] = "requests"

    visited_on: date
    school_id: OrgId | None = Field(None, description="The school visited; a school reporting leaves it out.")
    visiting_org_id: OrgId | None = Field(None, description="The unit that came; the unit reporting leaves it out.")
    item_id: UUID | None = Field(None, description="The checklist item it came under, if it named one.")
    label: VisitLabel
    graded: bool = Field(description="It graded or ranked the school (优秀/合格/不合格, a ranking, a score).")
    grading: Line(0, 200) = Field("", description="What it gave, in words.")


class InspectionVisitReported(EventData):
    """A visit, identified by school, unit and day: reported twice (school and unit) it is one visit."""

    aggregate_type: ClassVar[str] = "inspection_visit"

    visit_id: UUID
    school_id: str
    visiting_org_id: str
    visited_on: date
    year: int
    item_id: UUID | None
    label: VisitLabel
    graded: bool
    grading: str = ""
    reported_by_org_id: str


class IssueDataRequest(Command):
    """A unit asks schools for data or materials (S2): the field list, the schools, the deadline."""

    context: ClassVar[str] = "requests"

    title: Line(2, 200)
    fields: tuple[Line(1, 100), ...] = Field(min_length=1, max_length=200)
    school_ids: tuple[OrgId, ...] = Field(default=(), max_length=500)
    all_schools: bool = False
    deadline: AwareDatetime = Field(description="When schools must answer, with its UTC offset.")
    item_id: UUID | None = Field(None, description="The checklist item it serves, if any.")

    @model_validator(mode="after")
    def _some_schools(self) -> IssueDataRequest:
        if self.all_schools == bool(self.school_ids):
            raise ValueError("give either all_schools=true or a non-empty school_ids list")
        return self


class DataRequestIssued(EventData):
    aggregate_type: ClassVar[str] = "data_request"

    request_id: UUID
    requester_org_id: str
    title: str
    fields: tuple[str, ...]
    school_ids: tuple[str, ...]
    issued_at: datetime = Field(description="When it was issued (the command's time), UTC.")
    deadline: datetime
    year: int = Field(description="The calendar year it was issued in (Asia/Shanghai).")
    item_id: UUID | None = None


class GetInspectionChecklist(PagedQuery):
    """Attachment 2 for a year as last published, row by row."""

    context: ClassVar[str] = "compliance"
    year: int = YEAR


class GetInspectionItems(PagedQuery):
    """A year's items by status (proposed, filed, approved, rejected, merged), page by page."""

    context: ClassVar[str] = "compliance"
    year: int = YEAR
    status: str | None = Field(None, pattern=r"^(proposed|filed|approved|rejected|merged)$")


class GetInspectionCounters(Query):
    """Per school and year: visits (planned, unplanned), data requests and fields asked; per year:
    items against the year before (S1: the aim is to halve them)."""

    context: ClassVar[str] = "compliance"
    year: int = YEAR
    school_id: OrgId | None = None
