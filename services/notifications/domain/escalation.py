"""The G2 escalation ladder of one unit and one issue (aggregate ``escalation.<escalation_id>``).

Every violation of an issue by a unit lands on the same escalation, so the later stages (a
warning for a repeat within 12 months, circulation after three warnings) can count what came
before, also across any calendar boundary. The log of an escalation keeps growing; its loads stay
bounded by snapshots of the state below (``to_document``/``from_document``, ``SCHEMA_VERSION``),
which keeps per reminded violation only its id and stage. Stage 1 is implemented: each violation gets one reminder (提醒/整改通知), issued by the
education bureau when the unit is a school and by the supervision office otherwise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from enum import IntEnum
from typing import Any

from jianfu.events.organisations import Directory, Organisation, OrgKind
from jianfu.events.policy import EscalationPolicy
from jianfu.events.schemas.base import EventData
from jianfu.events.schemas.compliance import UNREGISTERED_PREFIX, ViolationDetected
from jianfu.events.schemas.escalation import ReminderIssued

SCHEMA_VERSION = 1  # of the state document a snapshot holds; change it whenever that shape changes
UNIT_HEAD = "unit_head"  # G2 stage 1 goes to the unit's head (单位负责人)


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


def reminder_issuer(responsible_org_id: str, directory: Directory) -> Organisation:
    """G2 stage 1: the education bureau reminds schools, the supervision office every other unit
    of the directory (and one the directory does not know by id, so no violation goes without a
    reminder). A unit outside the directory by name (``unregistered unit: <name>``, S3) is the
    education bureau's to act on: it admits units to campus."""
    unit = directory.get(responsible_org_id)
    school = unit is not None and unit.kind is OrgKind.SCHOOL
    outside = responsible_org_id.startswith(UNREGISTERED_PREFIX)
    kind = OrgKind.EDUCATION_BUREAU if school or outside else OrgKind.SUPERVISION_OFFICE
    issuers = sorted(directory.of_kind(kind), key=lambda org: org.org_id)
    if not issuers:
        raise IssuerMissing(f"the directory has no {kind.value} to issue reminders")
    return issuers[0]


class Escalation:
    """Ladder state of one unit and issue, changed only by applying its events."""

    def __init__(self, escalation_id: str) -> None:
        self.escalation_id = escalation_id
        self.responsible_org_id: str | None = None
        self.issue_key: str | None = None
        self.stage = 0  # highest rung reached; 0 before the first step
        self.reminders: dict[str, int] = {}  # violation id -> stage of its step

    @classmethod
    def from_events(cls, escalation_id: str, events: Iterable[EventData]) -> Escalation:
        escalation = cls(escalation_id)
        for event in events:
            escalation.apply(event)
        return escalation

    def apply(self, event: EventData) -> None:
        if isinstance(event, ReminderIssued):
            self.responsible_org_id, self.issue_key = event.responsible_org_id, event.issue_key
            self.reminders[event.violation_id] = event.stage
            self.stage = max(self.stage, event.stage)

    def to_document(self) -> dict[str, Any]:
        """The state as JSON (a snapshot's ``state``), read back by ``from_document``."""
        return {"responsible_org_id": self.responsible_org_id, "issue_key": self.issue_key, "stage": self.stage,
                "reminders": dict(self.reminders)}

    @classmethod
    def from_document(cls, escalation_id: str, document: dict[str, Any]) -> Escalation:
        escalation = cls(escalation_id)
        escalation.responsible_org_id = document["responsible_org_id"]
        escalation.issue_key = document["issue_key"]
        escalation.stage = int(document["stage"])
        escalation.reminders = {str(violation): int(stage) for violation, stage in document["reminders"].items()}
        return escalation

    def reminded(self, violation_id: str) -> bool:
        return violation_id in self.reminders

    @property
    def violation_count(self) -> int:
        return len(self.reminders)


def decide_reminder(
    escalation: Escalation, violation: ViolationDetected, directory: Directory, policy: EscalationPolicy
) -> ReminderIssued | None:
    """G2 stage 1: the reminder a violation calls for, or None when it already has one.

    Until stage 2 exists every violation of the issue is reminded; a repeat within the window
    will then be a warning instead.
    """
    if escalation_id(violation.responsible_org_id, violation.issue_key) != escalation.escalation_id:
        raise ValueError(f"violation {violation.violation_id} belongs to another escalation")
    if escalation.reminded(violation.violation_id):
        return None
    issuer = reminder_issuer(violation.responsible_org_id, directory)
    return ReminderIssued(
        violation_id=violation.violation_id,
        issue_key=violation.issue_key,
        stage=int(Stage.REMINDER),
        responsible_org_id=violation.responsible_org_id,
        issued_by_org_id=issuer.org_id,
        recipient=UNIT_HEAD,
        summary=(
            f"【整改通知】{violation.summary}"
            f"请于{policy.rectification_working_days}个工作日内整改并向{issuer.name}报告整改情况（G2）。"
        ),
    )
