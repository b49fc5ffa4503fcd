"""S8 training: "schools do school-based training, the district does backbone training"; the
teaching research office publishes each semester's plan in advance, in editions
(``training_plan.<semester>``). Units report the sessions they held (``training_session.<id>``,
the id from organiser, day and title: reported twice it is one session). The compliance detector
finds sessions outside the plan in force (``UnplannedTraining``) and sessions that require
teachers organised outside the education system (``NonEducationTraining``).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID

from jianfu.events.schemas.base import Command, EventData
from jianfu.events.schemas.paging import PagedQuery
from jianfu.events.schemas.teachers import TeacherId
from jianfu.events.schemas.text import Line, OrgId, SemesterId
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

PlanCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,39}$")]
"""A planned session's code, unique within a semester's plan, e.g. ``2026A-BB-03``."""

TRAINING_PLAN_MAX_SESSIONS = 500


class TrainingLevel(StrEnum):
    SCHOOL_BASED = "school_based"  # 校本培训: organised by the school
    BACKBONE = "backbone"          # 骨干培训: organised by the district (teaching research office, bureau)


class PlannedTraining(BaseModel):
    """One session of the plan."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False)

    code: PlanCode
    title: Line(2, 200)
    level: TrainingLevel
    organiser_org_id: OrgId = Field(description="A school for school-based training; the teaching research "
                                    "office or the education bureau for backbone training.")
    months: tuple[int, ...] = Field(min_length=1, max_length=12, description="Months (1-12) it is held in.")
    hours: int = Field(ge=1, le=200, description="Teaching hours (学时).")

    @model_validator(mode="after")
    def _months(self) -> PlannedTraining:
        if any(not 1 <= month <= 12 for month in self.months) or len(set(self.months)) != len(self.months):
            raise ValueError("months are 1 to 12, each once")
        return self


class PublishTrainingPlan(Command):
    """The teaching research office publishes (a new edition of) a semester's training plan,
    before the semester starts; a later edition replaces the earlier one from its publication."""

    context: ClassVar[str] = "approvals"

    semester: SemesterId
    sessions: tuple[PlannedTraining, ...] = Field(min_length=1, max_length=TRAINING_PLAN_MAX_SESSIONS)


class TrainingPlanPublished(EventData):
    aggregate_type: ClassVar[str] = "training_plan"

    semester: str
    edition: int = Field(ge=1)
    sessions: tuple[PlannedTraining, ...]
    published_on: date
    before_semester: bool = Field(description="Published before the semester's first day (S8: in advance).")


class ReportTrainingSession(Command):
    """A session that was held: reported by its organiser, or by a school naming the organiser."""

    context: ClassVar[str] = "requests"

    title: Line(2, 200)
    held_on: date
    level: TrainingLevel | None = Field(None, description="Its level, when it is teacher training of the plan's kinds.")
    plan_code: PlanCode | None = Field(None, description="The planned session it is, if it names one.")
    organiser_org_id: OrgId | None = Field(None, description="The organiser; the organiser reporting leaves it out.")
    teachers_required: bool = Field(description="Teachers were required (not invited) to attend.")
    teacher_ids: tuple[TeacherId, ...] = Field((), max_length=2000, description="The teachers who attended, if known.")
    participants: int = Field(ge=0, le=100_000, description="How many teachers attended.")


class TrainingSessionReported(EventData):
    aggregate_type: ClassVar[str] = "training_session"

    session_id: UUID
    organiser_org_id: str
    title: str
    held_on: date
    semester: str
    level: TrainingLevel | None
    plan_code: str | None
    teachers_required: bool
    teacher_ids: tuple[str, ...]
    participants: int
    reported_by_org_id: str


class GetTrainingPlan(PagedQuery):
    """A semester's training plan as last published, session by session (public)."""

    context: ClassVar[str] = "compliance"

    semester: SemesterId


class GetTrainingSessions(PagedQuery):
    """Sessions held in a semester, each marked planned or not, newest first."""

    context: ClassVar[str] = "compliance"

    semester: SemesterId
    organiser_org_id: OrgId | None = None
