"""S7 secondment (抽调借用): a unit borrows a teacher with the education bureau's consent and the
approval and filing of the approver the policy names (the HR bureau), for at most half a year.

All secondments of one teacher are one aggregate (``secondment.<teacher_id>``): the rules that
count back-to-back renewals as one period, and that a teacher is away for one unit at a time,
are decided where every period of that teacher is at hand, and no aggregate holds more than one
teacher's history. A secondment is requested (requests), consented to or refused by the education
bureau, then approved (and filed) or refused by the approver (approvals). ``TeacherSeconded`` is
the fact that the teacher left, reported by the school or the borrowing unit; ``TeacherReturned``
that the teacher is back. The compliance detector finds what left without both decisions and what
stays past the limit (on ``DayEnded``), and gives notice before an end (``SecondmentEndingSoon``).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from jianfu.events.schemas.base import Command, EventData
from jianfu.events.schemas.paging import PagedQuery
from jianfu.events.schemas.teachers import TeacherId
from jianfu.events.schemas.text import OrgId, Text
from pydantic import Field, model_validator


class SecondmentRefusalCode(StrEnum):
    """Why a secondment is refused (S7)."""

    OVER_HALF_YEAR = "OVER_HALF_YEAR"          # 借用期限超过半年（连续续借合并计算）: by rule, automatic
    AFFECTS_TEACHING = "AFFECTS_TEACHING"      # 影响学校正常教育教学
    NOT_A_MAJOR_TASK = "NOT_A_MAJOR_TASK"      # 非贯彻落实党和国家重大决策部署任务
    OTHER = "OTHER"


class SecondmentStage(StrEnum):
    CONSENT = "consent"    # 教体局同意
    APPROVAL = "approval"  # 人社部门审批备案


class RequestSecondment(Command):
    """A unit asks to borrow a teacher for a task, from ``starts_on`` to ``ends_on`` (both included)."""

    context: ClassVar[str] = "requests"

    teacher_id: TeacherId
    task: Text(2, 1000) = Field(description="What the teacher is needed for (贯彻落实重大决策部署任务).")
    starts_on: date
    ends_on: date

    @model_validator(mode="after")
    def _forward(self) -> RequestSecondment:
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on is on or after starts_on")
        return self


class SecondmentRequested(EventData):
    aggregate_type: ClassVar[str] = "secondment"

    secondment_id: UUID
    teacher_id: str
    school_id: str = Field(description="The teacher's school when it was requested.")
    borrowing_org_id: str
    task: str
    starts_on: date
    ends_on: date
    days: int = Field(ge=1, description="ends_on - starts_on + 1.")
    requested_on: date


class _Decide(Command):
    context: ClassVar[str] = "approvals"

    teacher_id: TeacherId
    secondment_id: UUID


class ConsentToSecondment(_Decide):
    """The education bureau consents (教体局同意). Over the limit, counting renewals, it is refused instead."""

    note: Text(0, 1000) = ""


class ApproveSecondment(_Decide):
    """The approver the policy names approves and files it (报人社部门审批备案), after the bureau's
    consent. Over the limit, counting renewals, it is refused instead."""

    note: Text(0, 1000) = ""


class RefuseSecondment(_Decide):
    """The education bureau (before consenting) or the approver (before approving) refuses."""

    refusal_code: SecondmentRefusalCode
    reason: Text(2, 2000)


class SecondmentConsented(EventData):
    aggregate_type: ClassVar[str] = "secondment"

    secondment_id: UUID
    teacher_id: str
    consented_by_org_id: str
    continuous_days: int = Field(ge=1, description="The period with the renewals it continues, as judged.")
    note: str = ""


class SecondmentApproved(EventData):
    """Approved and filed (审批备案): with the consent before it, the teacher may leave."""

    aggregate_type: ClassVar[str] = "secondment"

    secondment_id: UUID
    teacher_id: str
    approved_by_org_id: str
    continuous_days: int = Field(ge=1)
    note: str = ""


class SecondmentRefused(EventData):
    aggregate_type: ClassVar[str] = "secondment"

    secondment_id: UUID
    teacher_id: str
    stage: SecondmentStage
    refused_by_org_id: str
    refusal_code: SecondmentRefusalCode
    reason: str
    automatic: bool = Field(description="Refused by the half-year rule rather than by a person.")
    continuous_days: int | None = Field(None, description="For OVER_HALF_YEAR: the period it would have made.")


class ReportTeacherSeconded(Command):
    """The teacher left for the borrowing unit on ``left_on``: reported by the teacher's school
    (naming the borrowing unit) or by the borrowing unit. Reported twice, it is one departure."""

    context: ClassVar[str] = "requests"

    teacher_id: TeacherId
    left_on: date
    borrowing_org_id: OrgId | None = Field(None, description="The borrowing unit; the unit reporting leaves it out.")
    secondment_id: UUID | None = Field(None, description="The secondment it is under; by default the borrowing "
                                       "unit's latest one requested for the teacher and not refused.")


class TeacherSeconded(EventData):
    """The teacher left (S7). ``secondment_id`` is None when no secondment of that unit was on record."""

    aggregate_type: ClassVar[str] = "secondment"

    teacher_id: str
    school_id: str
    borrowing_org_id: str
    left_on: date
    secondment_id: UUID | None
    consented: bool = Field(description="The bureau had consented when the teacher left.")
    approved: bool = Field(description="The approver had approved and filed it when the teacher left.")
    ends_on: date | None = Field(None, description="The approved (or requested) last day, if any.")
    reported_by_org_id: str


class ReportTeacherReturned(Command):
    """The teacher is back at school from ``returned_on`` (the first day back): reported by the
    school or the borrowing unit."""

    context: ClassVar[str] = "requests"

    teacher_id: TeacherId
    returned_on: date


class TeacherReturned(EventData):
    aggregate_type: ClassVar[str] = "secondment"

    teacher_id: str
    school_id: str
    borrowing_org_id: str
    secondment_id: UUID | None
    left_on: date
    returned_on: date
    reported_by_org_id: str


class SecondmentEndingSoon(EventData):
    """Decided by the compliance sweep on the ``DayEnded`` that is ``notice_days_before_end`` days
    before a running secondment's last day: the borrowing unit is told (an alert of its own kind)."""

    aggregate_type: ClassVar[str] = "secondment_notice"

    notice_id: str = Field(description="From the departure and the last day: one notice each.")
    teacher_id: str
    school_id: str
    borrowing_org_id: str
    secondment_id: UUID | None
    left_on: date
    ends_on: date
    noticed_on: date = Field(description="The business day whose end gave the notice.")


class GetSecondments(PagedQuery):
    """Secondments with their decisions and departures, newest first. The education bureau, the
    approver and the supervision office see all; a unit those it borrows; a school its teachers'."""

    context: ClassVar[str] = "compliance"

    teacher_id: TeacherId | None = None
    borrowing_org_id: OrgId | None = None
    status: str | None = Field(None, pattern=r"^(requested|consented|approved|refused|away|returned)$")


class GetSecondmentCounters(PagedQuery):
    """Per teacher and calendar year: days seconded, continuous (the longest period, renewals with
    the same unit joined) and total; per unit: the teachers it holds now. By teacher id, page by
    page: a district registers more teachers than one reply can hold. The overseers and the
    approver read every teacher; a school its teachers; a borrowing unit those it holds and held."""

    context: ClassVar[str] = "compliance"

    year: int = Field(ge=2021, le=2100)
    teacher_id: TeacherId | None = None
    borrowing_org_id: OrgId | None = None
