"""G2 escalation: the ladder's steps as events. This issue issues stage 1 (reminder) only. Also the
alerts units receive: a step of the ladder (``EscalationAlert``) or an S7 notice (``SecondmentEndingAlert``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from jianfu.events.schemas.base import EventData
from pydantic import BaseModel, ConfigDict, Field


class ReminderIssued(EventData):
    """Stage 1 (提醒/整改通知): a reminder to the unit's head for each violation of an issue (this release)."""

    aggregate_type: ClassVar[str] = "escalation"

    violation_id: str
    issue_key: str
    stage: int = Field(1, ge=1, le=4)
    responsible_org_id: str
    issued_by_org_id: str = Field(description="Education bureau for schools, supervision office otherwise.")
    recipient: str = Field(description="Who in the unit receives it, e.g. the unit's head.")
    summary: str


class EscalationAlert(BaseModel):
    """The message staff systems receive on ``jf.alert.<responsible_org_id>.<stage_name>.<violation_id>``
    (stream ``JIANFU_ALERTS``). Built from the escalation event and the violation it answers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alert_id: str = Field(description="The id of the escalation event this alert delivers; one alert per id.")
    escalation_id: str = Field(description="The escalation (unit and issue) the step belongs to.")
    stage: int = Field(ge=1, le=4, description="G2 ladder stage: 1 reminder, 2 warning, 3-4 circulation.")
    stage_name: str = Field(description="`reminder` (提醒/整改通知) for stage 1.")
    violation_id: str
    rule: str = Field(description="The violated rule, e.g. `UnauthorizedCampusEntry`.")
    clause: str = Field(description="Clause of the plan, S1..S10, G1, G2.")
    issued_by: str = Field(description="Org id of the issuer: education bureau for schools, supervision office otherwise.")
    recipient: str = Field(description="Who in the responsible unit receives it, e.g. `unit_head`.")
    responsible_org_id: str = Field(description="The unit reminded; also the second token of the subject.")
    school_id: str | None = Field(default=None, description="The school where it happened, if any.")
    semester: str | None = Field(default=None, description="e.g. 2026-autumn")
    summary: str
    issued_at: datetime = Field(description="When the step was issued (the event's business time).")
    correlation_id: str = Field(description="Traces back to the report the violation was found in.")


class SecondmentEndingAlert(BaseModel):
    """S7: the notice a borrowing unit receives ``notice_days_before_end`` days before a running
    secondment's last day, on ``jf.alert.<borrowing_org_id>.secondment_ending.<notice_id>`` (stream
    ``JIANFU_ALERTS``). Not a step of the G2 ladder (nothing was violated): an alert of its own kind,
    built from the ``SecondmentEndingSoon`` the compliance sweep appended. Teachers by id only."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alert_id: str = Field(description="The id of the SecondmentEndingSoon event this alert delivers; one alert per id.")
    kind: Literal["secondment_ending"] = Field("secondment_ending", description="Also the third token of the subject.")
    clause: Literal["S7"] = "S7"
    notice_id: str = Field(description="One notice per departure and last day; the subject's last token.")
    borrowing_org_id: str = Field(description="The unit told; also the second token of the subject.")
    teacher_id: str = Field(description="The teacher, by id only (no names in alerts).")
    school_id: str = Field(description="The school the teacher is to return to.")
    secondment_id: UUID | None = Field(None, description="The secondment the teacher left under, if any was on record.")
    left_on: date
    ends_on: date = Field(description="The secondment's last day.")
    noticed_on: date = Field(description="The business day whose end gave the notice.")
    days_left: int = Field(description="Days from noticed_on to ends_on.")
    summary: str
    issued_at: datetime = Field(description="When the notice was decided (the event's business time).")
    correlation_id: str = Field(description="Traces back to the departure the notice is about.")
