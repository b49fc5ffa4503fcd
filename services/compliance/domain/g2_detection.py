"""The G2 rectification deadline sweep as a batch fold over state of its own, kept from the
escalation events it reads:

- each escalation's current deadline (``rectification_deadlines``, by escalation): the latest
  step that set one (``ReminderIssued``, ``WarningIssued``, ``CirculationConfirmed`` with
  ``rectify_by``), the day it is due under (none once decided or closed);
- what is due on which day (``rectification_due``, by day and escalation): a whole copy of the
  deadline and whether it is still the case's current one, rewritten blindly when a later step
  supersedes it or a ``RectificationVerified`` closes the case, so the sweep on a ``DayEnded``
  needs nothing but the day;
- the last day ended (``rectification_days_ended``), to tell a step whose deadline is already over.

``RectificationDeadlineMissed`` is decided on the ``DayEnded`` of ``rectify_by`` if the deadline
is still the current one of an open case, or at once on a step folded when that day is already
over. Nothing here reads a clock: a replay meets the same days at the same places in the log and
decides the same, with the same ids. Rules are in ``g2_rules.py``.
"""

from __future__ import annotations

from datetime import date

from jianfu.compliance.domain import days_ended
from jianfu.compliance.domain.folding import Batch, Fact, Need, On, Projection, Row
from jianfu.compliance.domain.g2_rules import Deadline, deadline_of, rectification_deadline_missed
from jianfu.compliance.domain.inspection_rules import require_storable
from jianfu.events.policy import Policy
from jianfu.events.schemas.days import DayEnded
from jianfu.events.schemas.escalation import (
    CirculationConfirmed,
    RectificationVerified,
    ReminderIssued,
    WarningIssued,
)

CURRENT, DUE, DAYS = "rectification_deadlines", "rectification_due", "rectification_days_ended"
KEYS = {
    CURRENT: ("escalation_id",),
    DUE: ("day", "escalation_id"),
    DAYS: days_ended.KEY,
}
DEADLINE_COLUMNS = ("escalation_id", "responsible_org_id", "step_event_id", "rectify_by")


def g2_detection(policy: Policy) -> Projection:
    """The G2 deadline sweep; each decision is judged by the policy version in force on its deadline."""

    def version(day: date) -> str:
        return (policy.in_force_on(day) or policy).version

    def step_needs(fact: Fact):
        yield Need(CURRENT, (fact.aggregate_id,))
        yield days_ended.need(DAYS)

    def step(batch: Batch, fact: Fact) -> None:
        """A step of the ladder: its deadline replaces the case's current one."""
        deadline = deadline_of(fact.data, fact.aggregate_id, fact.event_id)
        if deadline is None:
            return  # a reminder from before issue 11: no deadline
        require_storable(deadline.escalation_id, deadline.responsible_org_id)
        _release(batch, batch[CURRENT].get(deadline.escalation_id))
        last_ended = days_ended.last_day(batch, DAYS)
        if last_ended is not None and deadline.rectify_by <= last_ended:
            batch.emit(rectification_deadline_missed(deadline), fact, version(deadline.rectify_by))
            due = None
        else:
            due = deadline.rectify_by
            batch[DUE].put({"day": due, **_columns(deadline), "current": True})
        batch[CURRENT].put({**_columns(deadline), "due": due})

    def verified_needs(fact: Fact):
        yield Need(CURRENT, (fact.aggregate_id,))

    def verified(batch: Batch, fact: Fact) -> None:
        """The case closed: its deadline no longer falls due."""
        current = batch[CURRENT].get(fact.aggregate_id)
        if current is not None:
            _release(batch, current)
            batch[CURRENT].update(current, due=None)

    def day_needs(fact: Fact):
        yield days_ended.need(DAYS)
        yield Need(DUE, (fact.data.day,))

    def day_ended(batch: Batch, fact: Fact) -> None:
        """The sweep: every deadline of the day still current in an open case was missed."""
        day = fact.data.day
        days_ended.ended(batch, DAYS, day)
        for row in batch[DUE].group(day):
            if row["current"]:
                batch.emit(rectification_deadline_missed(_deadline(row)), fact, version(day))

    return Projection("g2_detection", KEYS, {
        ReminderIssued.__name__: On(step_needs, step),
        WarningIssued.__name__: On(step_needs, step),
        CirculationConfirmed.__name__: On(step_needs, step),
        RectificationVerified.__name__: On(verified_needs, verified),
        DayEnded.__name__: On(day_needs, day_ended),
    })


def _release(batch: Batch, current: Row | None) -> None:
    """The deadline of ``current`` is no longer the case's: its due row is rewritten as such (a blind put)."""
    if current is not None and current["due"] is not None:
        batch[DUE].put({"day": current["due"], **_columns(_deadline(current)), "current": False})


def _columns(deadline: Deadline) -> dict:
    return {column: getattr(deadline, column) for column in DEADLINE_COLUMNS}


def _deadline(row: Row) -> Deadline:
    return Deadline(**{column: row[column] for column in DEADLINE_COLUMNS})
