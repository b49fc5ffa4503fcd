"""G2 rectification deadlines: which step of an escalation sets one, its id, and the decision
that it passed unrectified. Pure: no clock, no I/O (the sweep in ``g2_detection.py`` folds them)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from jianfu.events.schemas.base import EventData
from jianfu.events.schemas.escalation import (
    CirculationConfirmed,
    RectificationDeadlineMissed,
    ReminderIssued,
    WarningIssued,
)

DEADLINE_STEPS = (ReminderIssued, WarningIssued, CirculationConfirmed)


@dataclass(frozen=True)
class Deadline:
    """The rectification deadline one step of an escalation set (its ``rectify_by``)."""

    escalation_id: str
    responsible_org_id: str
    step_event_id: str
    rectify_by: date

    @property
    def deadline_id(self) -> str:
        return deadline_id(self.escalation_id, self.step_event_id)


def deadline_id(escalation_id: str, step_event_id: str) -> str:
    """One deadline per step of an escalation, as a subject-safe token: deciding it twice appends nothing."""
    digest = hashlib.sha256(f"{escalation_id}|{step_event_id}".encode()).hexdigest()
    return f"dl-{digest[:32]}"


def deadline_of(step: EventData, escalation_id: str, step_event_id: str) -> Deadline | None:
    """The deadline a step sets: a reminder, a warning, a confirmed circulation with ``rectify_by``.
    Reminders issued before issue 11 carry none: they set no deadline (and replace none)."""
    if not isinstance(step, DEADLINE_STEPS) or step.rectify_by is None:
        return None
    return Deadline(escalation_id, step.responsible_org_id, step_event_id, step.rectify_by)


def rectification_deadline_missed(deadline: Deadline) -> RectificationDeadlineMissed:
    """G2: the day of ``rectify_by`` ended with the case open and the step still its current one."""
    return RectificationDeadlineMissed(
        deadline_id=deadline.deadline_id, escalation_id=deadline.escalation_id,
        responsible_org_id=deadline.responsible_org_id, step_event_id=deadline.step_event_id,
        rectify_by=deadline.rectify_by)


def escalation_of(responsible_org_id: str, issue_key: str) -> str:
    """The escalation a violation belongs to: one per unit and issue. The same formula as the
    ladder's (``notifications/domain/escalation.py`` ``escalation_id``; a test holds them equal):
    compliance reads the ladder's events, it does not import the ladder."""
    digest = hashlib.sha256(f"{responsible_org_id}|{issue_key}".encode()).hexdigest()
    return f"esc-{digest[:32]}"
