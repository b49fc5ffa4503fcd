"""G2 escalation: the ladder's steps as events (reminder, warning, circulation proposed and
confirmed or declined by a person), the rectification of a case, and the delivery of alerts. Also
the alerts units receive: a step of the ladder (``EscalationAlert``) or an S7 notice
(``SecondmentEndingAlert``)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar, Literal
from uuid import UUID

from jianfu.events.schemas.base import Command, EventData
from jianfu.events.schemas.text import Line, Text
from pydantic import BaseModel, ConfigDict, Field


class ReminderIssued(EventData):
    """Stage 1 (提醒/整改通知): a reminder to the unit's head, on the first violation of a case."""

    aggregate_type: ClassVar[str] = "escalation"

    violation_id: str
    issue_key: str
    stage: int = Field(1, ge=1, le=4)
    responsible_org_id: str
    issued_by_org_id: str = Field(description="Education bureau for schools, supervision office otherwise.")
    recipient: str = Field(description="Who in the unit receives it, e.g. the unit's head.")
    summary: str
    rectify_by: date | None = Field(None, description="The rectification deadline (reminders before issue 11 have none).")
    issued_on: date | None = Field(None, description="The business day it was issued (reminders before issue 11: "
                                   "the event's occurred_at).")


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


# G2 stages 2–4 and rectification (issue 11). Every event below is of the escalation of one unit
# and issue (``escalation.<escalation_id>``) unless it says otherwise; the actor of the system's
# steps is jianfu, of a person's decision that person's organisation.


class EscalationStep(StrEnum):
    REMINDER = "reminder"                          # 1 提醒/整改通知
    WARNING = "warning"                            # 2 约谈/警告
    INTERNAL_CIRCULATION = "internal_circulation"  # 3 通报批评
    PUBLIC_CIRCULATION = "public_circulation"      # 4 公开通报


class WarningTrigger(StrEnum):
    REPEAT = "repeat"                    # the same issue again within the repeat window
    DEADLINE_MISSED = "deadline_missed"  # the rectification deadline of the last step passed unrectified


class WarningIssued(EventData):
    """Stage 2 (约谈/警告), issued by the supervision office to the unit's principal leader."""

    aggregate_type: ClassVar[str] = "escalation"

    escalation_id: str
    responsible_org_id: str
    issue_key: str
    rule: str
    trigger: WarningTrigger
    violation_id: str | None = Field(None, description="The repeat that triggered it (trigger=repeat).")
    missed_deadline: date | None = Field(None, description="The deadline that passed (trigger=deadline_missed).")
    warnings_in_window: int = Field(ge=1, description="Warnings of this issue within the repeat window, this one included.")
    issued_by_org_id: str
    recipient: str = Field(description="`principal_leader` (单位主要负责人).")
    issued_on: date
    rectify_by: date = Field(description="The rectification deadline: working days from issued_on.")
    summary: str


class CirculationProposed(EventData):
    """Stage 3 (通报批评, to all units and schools) or 4 (公开通报, to the public), proposed by the
    system; a person of the leading group office confirms or declines it."""

    aggregate_type: ClassVar[str] = "escalation"

    proposal_id: str = Field(description="From the escalation and the step that led to it: proposed once.")
    escalation_id: str
    responsible_org_id: str
    issue_key: str
    rule: str
    stage: int = Field(ge=3, le=4)
    violation_ids: tuple[str, ...] = Field(description="The violations of the open case, oldest first.")
    warning_event_ids: tuple[str, ...] = Field(description="The warnings within the window it rests on.")
    proposed_on: date
    summary: str


class ConfirmCirculation(Command):
    """A person of the leading group office confirms a proposed circulation (G2)."""

    context: ClassVar[str] = "notifications"

    proposal_id: Line(1, 80)
    note: Text(0, 1000) = ""


class DeclineCirculation(Command):
    """A person of the leading group office declines a proposed circulation, with a reason (G2)."""

    context: ClassVar[str] = "notifications"

    proposal_id: Line(1, 80)
    reason: Text(2, 2000)


class CirculationNumberAssigned(EventData):
    """The year's register of circulations (``circulation_register.<year>``): numbers in order,
    one per confirmed proposal, so two confirmations never share a number."""

    aggregate_type: ClassVar[str] = "circulation_register"

    year: int
    number: int = Field(ge=1)
    document_number: str = Field(description="e.g. 大教减负通〔2026〕3号 (policy escalation.circulation_number_format).")
    proposal_id: str
    escalation_id: str


class CirculationConfirmed(EventData):
    aggregate_type: ClassVar[str] = "escalation"

    proposal_id: str
    escalation_id: str
    responsible_org_id: str
    stage: int = Field(ge=3, le=4)
    document_number: str
    year: int
    confirmed_by_org_id: str
    confirmed_by_person: str | None = Field(None, description="The person, from the command's Jf-Person header.")
    confirmed_on: date
    rectify_by: date
    note: str = ""


class CirculationDeclined(EventData):
    aggregate_type: ClassVar[str] = "escalation"

    proposal_id: str
    escalation_id: str
    stage: int = Field(ge=3, le=4)
    declined_by_org_id: str
    declined_by_person: str | None = None
    declined_on: date
    reason: str


class ReportRectification(Command):
    """The responsible unit reports how it rectified an issue (整改情况报告)."""

    context: ClassVar[str] = "notifications"

    escalation_id: Line(1, 80)
    report: Text(10, 4000)


class RectificationReported(EventData):
    aggregate_type: ClassVar[str] = "escalation"

    report_id: str
    escalation_id: str
    responsible_org_id: str
    report: str
    reported_on: date


class VerifyRectification(Command):
    """The issuer of the case's steps (the education bureau for schools, the supervision office
    otherwise) verifies a rectification report: the case for that issue closes."""

    context: ClassVar[str] = "notifications"

    escalation_id: Line(1, 80)
    report_id: Line(1, 80)
    note: Text(0, 1000) = ""


class RejectRectification(Command):
    context: ClassVar[str] = "notifications"

    escalation_id: Line(1, 80)
    report_id: Line(1, 80)
    reason: Text(2, 2000)


class RectificationVerified(EventData):
    """The case is closed: what fell due for it no longer escalates; a later violation opens a new case."""

    aggregate_type: ClassVar[str] = "escalation"

    report_id: str
    escalation_id: str
    verified_by_org_id: str
    verified_on: date
    closed_deadline: date | None = Field(None, description="The deadline the case had open, for the sweep.")
    note: str = ""


class RectificationRejected(EventData):
    aggregate_type: ClassVar[str] = "escalation"

    report_id: str
    escalation_id: str
    rejected_by_org_id: str
    rejected_on: date
    reason: str


class RectificationDeadlineMissed(EventData):
    """Decided by the compliance sweep on the ``DayEnded`` of a step's ``rectify_by`` when the case
    is still open (aggregate ``rectification_deadline.<deadline_id>``, appended once): the ladder
    escalates on it."""

    aggregate_type: ClassVar[str] = "rectification_deadline"

    deadline_id: str = Field(description="From the escalation and the step: one per step.")
    escalation_id: str
    responsible_org_id: str
    step_event_id: str
    rectify_by: date


class DeliveryChannel(StrEnum):
    NATS = "nats"
    WEBHOOK = "webhook"
    EMAIL = "email"


class AlertDelivered(EventData):
    """An alert reached one channel of its organisation (aggregate ``alert_delivery.<alert_id>``)."""

    aggregate_type: ClassVar[str] = "alert_delivery"

    alert_id: str
    org_id: str
    channel: DeliveryChannel
    target: str = Field(description="Where: the webhook's host, the address; never a secret.")
    attempts: int = Field(ge=1)
    delivered_at: datetime


class AlertDeliveryFailed(EventData):
    """One failed attempt; ``final`` when the delivery gave up (it stays visible, nothing is lost:
    the alert is still in the alerts stream)."""

    aggregate_type: ClassVar[str] = "alert_delivery"

    alert_id: str
    org_id: str
    channel: DeliveryChannel
    target: str
    attempt: int = Field(ge=1)
    error: str
    final: bool
    failed_at: datetime


class LadderAlert(BaseModel):
    """A step of the G2 ladder above stage 1 as staff systems receive it, on
    ``jf.alert.<org_id>.<kind>.<key>`` (stream ``JIANFU_ALERTS``): a warning to the unit
    (``warning``, key the warning's event id), a proposal to the confirmer
    (``circulation_proposed``, key the proposal id), and a confirmed circulation to every
    organisation of the directory (``circulation``, key the proposal id). Beside
    ``EscalationAlert``, whose subject names a violation that a deadline's warning does not have."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alert_id: str = Field(description="From the event it delivers and the organisation told; one alert per id.")
    kind: Literal["warning", "circulation_proposed", "circulation"] = Field(description="The subject's third token.")
    org_id: str = Field(description="The organisation told; the subject's second token.")
    key: str = Field(description="The warning's event id or the proposal id; the subject's last token.")
    escalation_id: str
    stage: int = Field(ge=2, le=4, description="G2 ladder stage: 2 warning, 3 internal, 4 public circulation.")
    clause: Literal["G2"] = "G2"
    responsible_org_id: str = Field(description="The unit the step is about.")
    issue_key: str
    rule: str
    issued_by: str = Field(description="Org id of who issued, proposed (jianfu) or confirmed the step.")
    recipient: str = Field(description="`principal_leader` for a warning; the confirmer or every unit otherwise.")
    violation_id: str | None = Field(None, description="The repeat that triggered a warning (trigger repeat).")
    proposal_id: str | None = None
    document_number: str | None = Field(None, description="A confirmed circulation's number, e.g. 大教减负通〔2026〕1号.")
    rectify_by: date | None = None
    summary: str
    issued_at: datetime = Field(description="The event's business time.")
    correlation_id: str
