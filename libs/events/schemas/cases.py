"""G2 read side (compliance): the escalation cases, each one's history, the circulations of a
year and the deliveries of alerts, each answered page by page. The overseers (the education
bureau, the supervision office, the leading group office) read every row; any other organisation
those of which it is the responsible unit (its own alerts, for deliveries). The filters only
narrow what the caller may see."""

from __future__ import annotations

from typing import ClassVar

from jianfu.events.schemas.paging import PagedQuery
from jianfu.events.schemas.text import OrgId
from pydantic import Field

TOKEN_PATTERN = r"^[A-Za-z0-9_-]+$"  # escalation and alert ids are subject-safe tokens


class GetCases(PagedQuery):
    """Per escalation (unit and issue): its rule, the stage reached in its current case, open or
    closed, the current rectification deadline, its violations and the warnings within the
    window; the escalation first seen last comes first."""

    context: ClassVar[str] = "compliance"

    stage: int | None = Field(None, ge=1, le=4, description="The stage reached: 1 reminder … 4 public circulation.")
    responsible_org_id: OrgId | None = Field(None, description="The unit charged.")
    open: bool | None = Field(None, description="Only cases still open (true) or closed (false).")


class GetCaseHistory(PagedQuery):
    """One escalation's events in log order: the violations (with their evidence), each step,
    circulation decision, rectification report and verdict, and every missed deadline."""

    context: ClassVar[str] = "compliance"

    escalation_id: str = Field(min_length=1, max_length=80, pattern=TOKEN_PATTERN)


class GetCirculations(PagedQuery):
    """A year's circulations (通报), proposed, confirmed (with the register's number and document
    number) or declined, in the order they were proposed."""

    context: ClassVar[str] = "compliance"

    year: int = Field(ge=2021, le=2100)


class GetAlertDeliveries(PagedQuery):
    """Per alert and channel (by alert id): delivered, the failed attempts, or the final failure."""

    context: ClassVar[str] = "compliance"

    org_id: OrgId | None = Field(None, description="The organisation the alerts were for.")
    alert_id: str | None = Field(None, min_length=1, max_length=80, pattern=TOKEN_PATTERN)
