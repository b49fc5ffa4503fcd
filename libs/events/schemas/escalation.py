"""G2 escalation: the ladder's steps as events. This issue issues stage 1 (reminder) only."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

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
