"""The G2 escalation ladder of one unit and one issue (aggregate ``escalation.<escalation_id>``).

Every violation of an issue by a unit lands on the same escalation, so the later stages (a
warning for a repeat within 12 months, circulation after three warnings) can count what came
before, also across any calendar boundary. A *case* is the open stretch of an escalation: it
opens with a step on a violation when none is open and closes with ``RectificationVerified``; a
later violation opens a new one. The decisions are in ``ladder.py``; this is the state they read.

The log of an escalation keeps growing; its loads stay bounded by snapshots of the state below
(``to_document``/``from_document``, ``SCHEMA_VERSION``): per handled violation its stage and day,
the warnings' days, and the open case.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from enum import IntEnum
from typing import Any

from jianfu.events.organisations import Directory, Organisation, OrgKind
from jianfu.events.policy import EscalationPolicy
from jianfu.events.schemas.base import EventData
from jianfu.events.schemas.compliance import UNREGISTERED_PREFIX, ViolationDetected
from jianfu.events.schemas.escalation import (
    CirculationConfirmed,
    CirculationDeclined,
    CirculationProposed,
    RectificationRejected,
    RectificationReported,
    RectificationVerified,
    ReminderIssued,
    WarningIssued,
)

SCHEMA_VERSION = 2  # of the state document a snapshot holds; change it whenever that shape changes
UNIT_HEAD = "unit_head"  # G2 stage 1 goes to the unit's head (单位负责人)
PRINCIPAL_LEADER = "principal_leader"  # G2 stage 2 goes to the unit's principal leader (主要负责人)

PENDING, CONFIRMED, DECLINED = "pending", "confirmed", "declined"


class Stage(IntEnum):
    """G2: the rungs of the ladder."""

    REMINDER = 1  # 提醒/整改通知
    WARNING = 2  # 约谈/警告
    INTERNAL_CIRCULATION = 3  # 通报批评
    PUBLIC_CIRCULATION = 4  # 公开通报


class IssuerMissing(LookupError):
    """The directory has no organisation of the kind that must issue this step."""


def escalation_id(responsible_org_id: str, issue_key: str) -> str:
    """One escalation per unit and issue, as a subject-safe token (no '.', '*', '>' or spaces)."""
    digest = hashlib.sha256(f"{responsible_org_id}|{issue_key}".encode()).hexdigest()
    return f"esc-{digest[:32]}"


def first_of_kind(directory: Directory, kind: OrgKind) -> Organisation:
    issuers = sorted(directory.of_kind(kind), key=lambda org: org.org_id)
    if not issuers:
        raise IssuerMissing(f"the directory has no {kind.value} to issue this step")
    return issuers[0]


def reminder_issuer(responsible_org_id: str, directory: Directory) -> Organisation:
    """G2 stage 1: the education bureau reminds schools, the supervision office every other unit
    of the directory (and one the directory does not know by id, so no violation goes without a
    reminder). A unit outside the directory by name (``unregistered unit: <name>``, S3) is the
    education bureau's to act on: it admits units to campus."""
    unit = directory.get(responsible_org_id)
    school = unit is not None and unit.kind is OrgKind.SCHOOL
    outside = responsible_org_id.startswith(UNREGISTERED_PREFIX)
    return first_of_kind(directory, OrgKind.EDUCATION_BUREAU if school or outside else OrgKind.SUPERVISION_OFFICE)


def warning_issuer(directory: Directory) -> Organisation:
    """G2 stage 2: warnings (约谈/警告) are the supervision office's, whatever the unit."""
    return first_of_kind(directory, OrgKind.SUPERVISION_OFFICE)


@dataclass
class Proposal:
    """A circulation proposed in a case, and what a person made of it."""

    stage: int
    case: int
    status: str = PENDING
    document_number: str | None = None


@dataclass
class Case:
    """The open stretch of an escalation: its violations, its current deadline, its proposals."""

    number: int
    violation_ids: list[str] = field(default_factory=list)
    issuer_org_id: str | None = None  # of the latest step: verifies or rejects rectification reports
    deadline_step: str | None = None  # event id of the latest step with a deadline
    deadline: date | None = None
    internal: str | None = None  # proposal id of the stage-3 proposal pending or confirmed, if any
    internal_confirmed: bool = False
    public: str | None = None  # proposal id of the stage-4 proposal (once per case)
    pending_report: str | None = None  # report id awaiting verification
    open: bool = True
    # step event id -> [its rectify_by, the day a later step replaced it] (ISO days): a deadline
    # missed before it was replaced was missed while current, whenever the ladder hears of it
    superseded: dict[str, list[str]] = field(default_factory=dict)
    missed_deadlines: list[str] = field(default_factory=list)  # ISO days a deadline-missed warning escalated

    def replace_deadline(self, step_event_id: str, rectify_by: date, day: date | None) -> None:
        if self.deadline_step is not None and self.deadline is not None and day is not None:
            self.superseded[self.deadline_step] = [self.deadline.isoformat(), day.isoformat()]
        self.deadline_step, self.deadline = step_event_id, rectify_by

    def missed_while_current(self, step_event_id: str, rectify_by: date) -> bool:
        """G2: whether the deadline of this step was the case's current one when it passed — it
        still is, or a later step replaced it only after ``rectify_by``. A replacement on or before
        the deadline makes it stale. Decided by the days, not by the order the ladder hears of a
        missed deadline and of a later violation (two consumers, redeliveries, two replicas)."""
        if step_event_id == self.deadline_step:
            return True
        replaced = self.superseded.get(step_event_id)
        return (replaced is not None and replaced[0] == rectify_by.isoformat()
                and date.fromisoformat(replaced[1]) > rectify_by and replaced[0] not in self.missed_deadlines)


class Escalation:
    """Ladder state of one unit and issue, changed only by applying its events.

    ``apply`` takes the event's id (steps and proposals are referred to by it) and the business
    day it happened on (for reminders stored before issue 11, which carry no ``issued_on``)."""

    def __init__(self, escalation_id: str) -> None:
        self.escalation_id = escalation_id
        self.responsible_org_id: str | None = None
        self.issue_key: str | None = None
        self.rule: str | None = None
        self.stage = 0  # highest rung reached; 0 before the first step
        self.reminders: dict[str, int] = {}  # handled violation id -> stage of its step
        self.violation_days: dict[str, date] = {}  # handled violation id -> the day of its step
        self.warnings: dict[str, date] = {}  # warning event id -> issued_on
        self.proposals: dict[str, Proposal] = {}
        self.reports: set[str] = set()  # every rectification report id, to tell unknown from settled
        self.cases = 0
        self.case: Case | None = None  # the latest case, open or closed

    @classmethod
    def from_events(cls, escalation_id: str, events: Iterable[EventData | tuple[str, EventData, date | None]]
                    ) -> Escalation:
        """From events alone (ids and days then come from the events) or ``(event_id, event, day)``."""
        escalation = cls(escalation_id)
        for number, item in enumerate(events):
            if isinstance(item, tuple):
                escalation.apply(item[1], item[0], item[2])
            else:
                escalation.apply(item, f"event-{number}")
        return escalation

    @property
    def open_case(self) -> Case | None:
        return self.case if self.case is not None and self.case.open else None

    def apply(self, event: EventData, event_id: str = "", day: date | None = None) -> None:
        if isinstance(event, ReminderIssued):
            self.responsible_org_id, self.issue_key = event.responsible_org_id, event.issue_key
            self._step(event_id, event.violation_id, event.stage, event.issued_on or day, event.rectify_by,
                       event.issued_by_org_id)
        elif isinstance(event, WarningIssued):
            self.responsible_org_id, self.issue_key, self.rule = event.responsible_org_id, event.issue_key, event.rule
            self.warnings[event_id] = event.issued_on
            self._step(event_id, event.violation_id, int(Stage.WARNING), event.issued_on, event.rectify_by,
                       event.issued_by_org_id)
            if event.missed_deadline is not None:  # a deadline escalates once, in whatever order heard of
                self.case.missed_deadlines.append(event.missed_deadline.isoformat())
        elif isinstance(event, CirculationProposed):
            self.rule = event.rule
            case = self.case.number if self.case else 0
            self.proposals[event.proposal_id] = Proposal(event.stage, case)
            if self.case is not None:
                if event.stage == Stage.INTERNAL_CIRCULATION:
                    self.case.internal = event.proposal_id
                else:
                    self.case.public = event.proposal_id
        elif isinstance(event, CirculationConfirmed):
            self._confirm(event, event_id)
        elif isinstance(event, CirculationDeclined):
            self._decline(event)
        elif isinstance(event, RectificationReported):
            self.reports.add(event.report_id)
            if self.case is not None:
                self.case.pending_report = event.report_id
        elif isinstance(event, RectificationRejected):
            if self.case is not None and self.case.pending_report == event.report_id:
                self.case.pending_report = None
        elif isinstance(event, RectificationVerified):
            if self.case is not None:
                self.case.pending_report, self.case.open = None, False

    def _step(self, event_id: str, violation_id: str | None, stage: int, day: date | None, rectify_by: date | None,
              issuer: str) -> None:
        if self.open_case is None:
            self.cases += 1
            self.case = Case(self.cases)
        case = self.case
        if violation_id is not None:
            self.reminders[violation_id] = stage
            case.violation_ids.append(violation_id)
            if day is not None:
                self.violation_days[violation_id] = day
        case.issuer_org_id = issuer
        if rectify_by is not None:
            case.replace_deadline(event_id, rectify_by, day)
        self.stage = max(self.stage, stage)

    def _confirm(self, event: CirculationConfirmed, event_id: str) -> None:
        proposal = self.proposals.get(event.proposal_id)
        if proposal is not None:
            proposal.status, proposal.document_number = CONFIRMED, event.document_number
        if self.case is not None and self.case.open:
            if event.stage == Stage.INTERNAL_CIRCULATION:
                self.case.internal_confirmed = True
            self.case.replace_deadline(event_id, event.rectify_by, event.confirmed_on)
        self.stage = max(self.stage, event.stage)

    def _decline(self, event: CirculationDeclined) -> None:
        proposal = self.proposals.get(event.proposal_id)
        if proposal is not None:
            proposal.status = DECLINED
        if self.case is not None and self.case.internal == event.proposal_id:
            self.case.internal = None  # a later trigger may propose again

    def to_document(self) -> dict[str, Any]:
        """The state as JSON (a snapshot's ``state``), read back by ``from_document``."""
        case = None
        if self.case is not None:
            case = {**asdict(self.case), "deadline": _day(self.case.deadline)}
        return {"responsible_org_id": self.responsible_org_id, "issue_key": self.issue_key, "rule": self.rule,
                "stage": self.stage, "reminders": dict(self.reminders),
                "violation_days": {k: v.isoformat() for k, v in self.violation_days.items()},
                "warnings": {k: v.isoformat() for k, v in self.warnings.items()},
                "proposals": {k: asdict(v) for k, v in self.proposals.items()}, "reports": sorted(self.reports),
                "cases": self.cases, "case": case}

    @classmethod
    def from_document(cls, escalation_id: str, document: dict[str, Any]) -> Escalation:
        escalation = cls(escalation_id)
        escalation.responsible_org_id = document["responsible_org_id"]
        escalation.issue_key = document["issue_key"]
        escalation.rule = document["rule"]
        escalation.stage = int(document["stage"])
        escalation.reminders = {str(violation): int(stage) for violation, stage in document["reminders"].items()}
        escalation.violation_days = {k: date.fromisoformat(v) for k, v in document["violation_days"].items()}
        escalation.warnings = {k: date.fromisoformat(v) for k, v in document["warnings"].items()}
        escalation.proposals = {k: Proposal(**v) for k, v in document["proposals"].items()}
        escalation.reports = set(document["reports"])
        escalation.cases = int(document["cases"])
        case = document["case"]
        if case is not None:
            deadline = case["deadline"]
            escalation.case = Case(**{**case, "deadline": date.fromisoformat(deadline) if deadline else None})
        return escalation

    def reminded(self, violation_id: str) -> bool:
        """Whether the violation got its step already (a reminder or a warning)."""
        return violation_id in self.reminders

    @property
    def violation_count(self) -> int:
        return len(self.reminders)


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def decide_reminder(escalation: Escalation, violation: ViolationDetected, directory: Directory,
                    policy: EscalationPolicy, day: date | None = None, rectify_by: date | None = None
                    ) -> ReminderIssued | None:
    """G2 stage 1: the reminder for a violation, or None when it already has its step."""
    if escalation_id(violation.responsible_org_id, violation.issue_key) != escalation.escalation_id:
        raise ValueError(f"violation {violation.violation_id} belongs to another escalation")
    if escalation.reminded(violation.violation_id):
        return None
    issuer = reminder_issuer(violation.responsible_org_id, directory)
    return ReminderIssued(
        violation_id=violation.violation_id, issue_key=violation.issue_key, stage=int(Stage.REMINDER),
        responsible_org_id=violation.responsible_org_id, issued_by_org_id=issuer.org_id, recipient=UNIT_HEAD,
        summary=(f"【整改通知】{violation.summary}"
                 f"请于{policy.rectification_working_days}个工作日内整改并向{issuer.name}报告整改情况（G2）。"),
        rectify_by=rectify_by, issued_on=day,
    )
