"""The S7 detector as a batch fold over state of its own, kept from the events it reads:

- each teacher's last departure with each unit (``secondment_away``, by teacher and unit): the
  run it belongs to (a departure with the same unit fewer than ``renewal_gap_days`` after the last
  return from that unit continues the run, its start carried over, whatever spell with another
  unit came between, as ``secondment_periods.run_of`` joins requested periods), its last day,
  whether the teacher is back; the teacher's latest departure is the one with the latest day;
- what is due on which day (``secondment_due``, by day): the first day beyond the half year of
  each run (``overdue``) and the day that gives notice before a departure's last day
  (``notice``), each a whole copy of the departure, so the sweep on a ``DayEnded`` needs nothing
  but the day;
- the last day ended (``days_ended``), to tell a departure reported late.

``UnapprovedSecondment`` is decided on the departure. ``SecondmentOverdue`` and
``SecondmentEndingSoon`` on the ``DayEnded`` of their day if the teacher is still away, or at
once on a departure reported when that day is already over. Nothing here reads a clock: a replay
meets the same days at the same places in the log and decides the same, with the same ids.
Rules are in ``teachers_time_rules.py``; each departure is judged by the policy version in
force on the day the teacher left (none before the plan).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date

from jianfu.compliance.domain import days_ended
from jianfu.compliance.domain.folding import Batch, Fact, Need, On, Projection, Row
from jianfu.compliance.domain.inspection_rules import require_storable
from jianfu.compliance.domain.teachers_time_rules import (
    Departure,
    limit_day,
    notice_day,
    over,
    run_start,
    secondment_ending_soon,
    secondment_overdue,
    unapproved_secondment,
)
from jianfu.events.policy import Policy
from jianfu.events.schemas.days import DayEnded
from jianfu.events.schemas.secondments import TeacherReturned, TeacherSeconded
from jianfu.events.working_days import BUSINESS_TIME, aware

AWAY, DUE, DAYS = "secondment_away", "secondment_due", "days_ended"
OVERDUE, NOTICE = "overdue", "notice"
KEYS = {
    AWAY: ("teacher_id", "borrowing_org_id"),
    DUE: ("day", "teacher_id", "kind"),
    DAYS: days_ended.KEY,
}
DEPARTURE_COLUMNS = ("teacher_id", "school_id", "borrowing_org_id", "secondment_id", "left_on", "ends_on",
                     "run_start", "event_id", "returned_on")


def s7_detection(policy: Policy, names: Mapping[str, str]) -> Projection:
    """The S7 detector for ``policy`` (with its earlier versions); ``names`` words the summaries."""

    def semester(day: date) -> str | None:
        """The semester of ``day`` in the school calendar; None where the calendar ends (year 9999)."""
        try:
            return policy.school_calendar.semester_of(day).id
        except (ValueError, OverflowError):
            return None

    def days_needs(fact: Fact):
        yield days_ended.need(DAYS)

    # The teacher leaves: judged at once, and what falls due is put under its day.

    def departure_needs(fact: Fact):
        yield Need(AWAY, (fact.data.teacher_id,))
        yield from days_needs(fact)

    def seconded(batch: Batch, fact: Fact) -> None:
        event: TeacherSeconded = fact.data
        require_storable(event.teacher_id, event.school_id, event.borrowing_org_id)
        in_force = policy.in_force_on(event.left_on)
        if in_force is None:
            return  # before the plan
        rules = in_force.secondment
        latest = _latest(batch, event.teacher_id)
        if latest is not None and latest["returned_on"] is None:
            _close(batch, latest, event.left_on)  # left one unit for another without a return reported
        before = _departure(batch[AWAY].get(event.teacher_id, event.borrowing_org_id))
        away = Departure(event.teacher_id, event.school_id, event.borrowing_org_id,
                         str(event.secondment_id) if event.secondment_id else None, event.left_on, event.ends_on,
                         run_start(event, before, rules.renewal_gap_days), fact.event_id)
        unapproved = unapproved_secondment(event, fact.event_id, semester(event.left_on), names)
        if unapproved is not None:
            batch.emit(unapproved, fact, in_force.version)
        last_ended, reported_on = days_ended.last_day(batch, DAYS), _business_day(fact)
        judged = {"max_days": rules.max_days, "policy_version": in_force.version}
        limit, limit_due = limit_day(away.run_start, rules.max_days), None
        if limit is not None and over(limit, last_ended, reported_on):
            batch.emit(secondment_overdue(away, limit, rules.max_days, semester(limit), names), fact, in_force.version)
        elif limit is not None:
            limit_due = limit
            _put_due(batch, limit, OVERDUE, away, judged)
        notice, notice_due = notice_day(away.ends_on, rules.notice_days_before_end), None
        if notice is not None and not over(away.ends_on, last_ended, reported_on):
            if over(notice, last_ended, reported_on):
                batch.emit(secondment_ending_soon(away, reported_on), fact, in_force.version)
            else:
                notice_due = notice
                _put_due(batch, notice, NOTICE, away, judged)
        batch[AWAY].put({**_columns(away), **judged, "limit_due": limit_due, "notice_due": notice_due})

    # The teacher is back: what falls due later finds the return.

    def returned(batch: Batch, fact: Fact) -> None:
        event: TeacherReturned = fact.data
        row = _latest(batch, event.teacher_id)
        if row is None or (row["left_on"], row["borrowing_org_id"]) != (event.left_on, event.borrowing_org_id):
            return  # a departure not judged (before the plan), or not the one on record
        _close(batch, row, event.returned_on)

    def _close(batch: Batch, row: Row, returned_on: date) -> None:
        """The departure of ``row`` is over from ``returned_on``: so are the days it has due."""
        away = replace(_departure(row), returned_on=returned_on)
        judged = {"max_days": row["max_days"], "policy_version": row["policy_version"]}
        batch[AWAY].update(row, returned_on=returned_on)
        for day, kind in ((row["limit_due"], OVERDUE), (row["notice_due"], NOTICE)):
            if day is not None:
                _put_due(batch, day, kind, away, judged)

    def return_needs(fact: Fact):
        yield Need(AWAY, (fact.data.teacher_id,))

    # A day ended: the sweep.

    def day_needs(fact: Fact):
        yield from days_needs(fact)
        yield Need(DUE, (fact.data.day,))

    def day_ended(batch: Batch, fact: Fact) -> None:
        day = fact.data.day
        days_ended.ended(batch, DAYS, day)
        for row in batch[DUE].group(day):
            away = _departure(row)
            if not away.away_on(day):
                continue
            if row["kind"] == OVERDUE:
                decision = secondment_overdue(away, day, row["max_days"], semester(day), names)
            else:
                decision = secondment_ending_soon(away, day)
            batch.emit(decision, fact, row["policy_version"])

    return Projection("s7_detection", KEYS, {
        TeacherSeconded.__name__: On(departure_needs, seconded),
        TeacherReturned.__name__: On(return_needs, returned),
        DayEnded.__name__: On(day_needs, day_ended),
    })


def _business_day(fact: Fact) -> date:
    """The day the fact was reported, in Asia/Shanghai (its UTC date in the last hours of year 9999)."""
    try:
        return aware(fact.occurred_at).astimezone(BUSINESS_TIME).date()
    except OverflowError:
        return fact.occurred_at.date()


def _latest(batch: Batch, teacher_id: str) -> Row | None:
    """The teacher's latest departure, with whichever unit (the latest day; a unit's id breaks a tie)."""
    return max(batch[AWAY].group(teacher_id), key=lambda row: (row["left_on"], row["borrowing_org_id"]), default=None)


def _columns(away: Departure) -> dict:
    return {column: getattr(away, column) for column in DEPARTURE_COLUMNS}


def _departure(row: Row | None) -> Departure | None:
    return None if row is None else Departure(**{column: row[column] for column in DEPARTURE_COLUMNS})


def _put_due(batch: Batch, day: date, kind: str, away: Departure, judged: dict) -> None:
    """The whole departure under the day it falls due (a blind put: the row is rewritten whole)."""
    batch[DUE].put({"day": day, "kind": kind, **_columns(away), **judged})
