"""G2 escalation: the ladder's steps as events. This issue issues stage 1 (reminder) only."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from jianfu.events.schemas.base import EventData


class ReminderIssued(EventData):
    """Stage 1 (提醒/整改通知): first violation of an issue, to the unit's head."""

    aggregate_type: ClassVar[str] = "escalation"

    violation_id: str
    issue_key: str
    stage: int = Field(1, ge=1, le=4)
    responsible_org_id: str
    issued_by_org_id: str = Field(description="Education bureau for schools, supervision office otherwise.")
    recipient: str = Field(description="Who in the unit receives it, e.g. the unit's head.")
    summary: str
