"""The S7 read model as a batch fold: the registered teachers, the secondments with their
decisions, departures and returns, and the last business day the log has ended.

It records, it never decides: a secondment's status is what its events say, and the days a
teacher was away are counted from the departures and returns on record (``days_seconded``, a
pure function the queries call with the policy's renewal gap), up to the last ``DayEnded`` for
one still away. The verdicts (``UnapprovedSecondment``, ``SecondmentOverdue``) are the
detector's, in the violations register.

A row of ``secondments`` is one requested secondment (``entry_id`` = its id) or one departure
with no secondment on record (``entry_id`` = ``departure:<left_on>``): the list shows both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from jianfu.compliance.domain.folding import Batch, Fact, Need, On, Projection, Row
from jianfu.events.schemas.days import DayEnded
from jianfu.events.schemas.secondments import (
    SecondmentApproved,
    SecondmentConsented,
    SecondmentRefused,
    SecondmentRequested,
    TeacherReturned,
    TeacherSeconded,
)
from jianfu.events.schemas.teachers import TeacherRegistered
from jianfu.events.secondment_periods import Period, continues

STATUSES = ("requested", "consented", "approved", "refused", "away", "returned")
CALENDAR = "days"  # the one row of ``calendar_days``
SECONDMENT = dict.fromkeys((
    "secondment_id", "school_id", "borrowing_org_id", "task", "starts_on", "ends_on", "days", "requested_on",
    "consented_by_org_id", "approved_by_org_id", "continuous_days", "refusal_stage", "refused_by_org_id",
    "refusal_code", "refusal_reason", "automatic", "left_on", "returned_on", "decided_sequence"))

KEYS = {
    "teachers": ("teacher_id",),
    "secondments": ("teacher_id", "entry_id"),
    "departures": ("teacher_id", "left_on"),
    "calendar_days": ("calendar",),
}


def entry_of(secondment_id: object, left_on: date) -> str:
    """The list row a departure belongs to: its secondment, or a row of its own."""
    return str(secondment_id) if secondment_id else f"departure:{left_on.isoformat()}"


def status_of(row: Row) -> str:
    """Where a secondment stands: a departure says more than any decision (the teacher left)."""
    if row["left_on"] is not None:
        return "returned" if row["returned_on"] is not None else "away"
    if row["refusal_code"] is not None:
        return "refused"
    if row["approved_by_org_id"] is not None:
        return "approved"
    return "consented" if row["consented_by_org_id"] is not None else "requested"


def _put(batch: Batch, row: Row, **changes: object) -> None:
    changed = {**row, **changes}
    batch["secondments"].put({**changed, "status": status_of(changed)})


# TeacherRegistered: the register of teachers (S7-S10 count per teacher).

def _teacher_needs(fact: Fact):
    return (Need("teachers", (fact.data.teacher_id,)),)


def _teacher(batch: Batch, fact: Fact) -> None:
    event: TeacherRegistered = fact.data
    row = batch["teachers"].get(event.teacher_id)
    batch["teachers"].put({
        "teacher_id": event.teacher_id, "school_id": event.school_id, "name": event.name, "subject": event.subject,
        "previous_school_id": event.previous_school_id if event.previous_school_id else
        (row["previous_school_id"] if row else None),
        "registrations": (row["registrations"] if row else 0) + 1,
        "first_sequence": row["first_sequence"] if row else fact.sequence, "sequence": fact.sequence})


# Secondments and their decisions (S7).

def _secondment_needs(fact: Fact):
    return (Need("secondments", (fact.data.teacher_id, str(fact.data.secondment_id))),)


def _requested(batch: Batch, fact: Fact) -> None:
    event: SecondmentRequested = fact.data
    entry = str(event.secondment_id)
    if batch["secondments"].get(event.teacher_id, entry) is not None:
        return  # recorded already
    _put(batch, {
        "teacher_id": event.teacher_id, "entry_id": entry, **SECONDMENT, "secondment_id": entry,
        "school_id": event.school_id, "borrowing_org_id": event.borrowing_org_id, "task": event.task,
        "starts_on": event.starts_on, "ends_on": event.ends_on, "days": event.days,
        "requested_on": event.requested_on, "departures": 0, "first_sequence": fact.sequence})


def _decided(batch: Batch, fact: Fact) -> None:
    event: SecondmentConsented | SecondmentApproved | SecondmentRefused = fact.data
    row = batch["secondments"].get(event.teacher_id, str(event.secondment_id))
    if row is None:
        return  # a decision on a request this view never saw: nothing to show it on
    changes: dict[str, object] = {"decided_sequence": fact.sequence}
    if isinstance(event, SecondmentConsented):
        changes.update(consented_by_org_id=event.consented_by_org_id, continuous_days=event.continuous_days)
    elif isinstance(event, SecondmentApproved):
        changes.update(approved_by_org_id=event.approved_by_org_id, continuous_days=event.continuous_days)
    else:
        changes.update(refusal_stage=event.stage.value, refused_by_org_id=event.refused_by_org_id,
                       refusal_code=event.refusal_code.value, refusal_reason=event.reason,
                       automatic=event.automatic, continuous_days=event.continuous_days or row["continuous_days"])
    _put(batch, row, **changes)


# Departures and returns: what happened (S7).

def _departure_needs(fact: Fact):
    event: TeacherSeconded | TeacherReturned = fact.data
    return (Need("departures", (event.teacher_id, event.left_on)),
            Need("secondments", (event.teacher_id, entry_of(event.secondment_id, event.left_on))))


def _seconded(batch: Batch, fact: Fact) -> None:
    event: TeacherSeconded = fact.data
    if batch["departures"].get(event.teacher_id, event.left_on) is not None:
        return  # one departure however often reported
    entry = entry_of(event.secondment_id, event.left_on)
    batch["departures"].put({
        "teacher_id": event.teacher_id, "left_on": event.left_on, "entry_id": entry,
        "secondment_id": str(event.secondment_id) if event.secondment_id else None, "school_id": event.school_id,
        "borrowing_org_id": event.borrowing_org_id, "consented": event.consented, "approved": event.approved,
        "ends_on": event.ends_on, "returned_on": None, "reported_by_org_id": event.reported_by_org_id,
        "returned_by_org_id": None, "sequence": fact.sequence, "returned_sequence": None})
    row = batch["secondments"].get(event.teacher_id, entry) or {
        "teacher_id": event.teacher_id, "entry_id": entry, **SECONDMENT,
        "secondment_id": str(event.secondment_id) if event.secondment_id else None, "school_id": event.school_id,
        "borrowing_org_id": event.borrowing_org_id, "ends_on": event.ends_on, "departures": 0,
        "first_sequence": fact.sequence}
    _put(batch, row, left_on=event.left_on, returned_on=None, departures=row["departures"] + 1)


def _returned(batch: Batch, fact: Fact) -> None:
    event: TeacherReturned = fact.data
    departure = batch["departures"].get(event.teacher_id, event.left_on)
    if departure is None or departure["returned_on"] is not None:
        return  # a return of a departure never seen, or repeated
    batch["departures"].update(departure, returned_on=event.returned_on, returned_by_org_id=event.reported_by_org_id,
                               returned_sequence=fact.sequence)
    row = batch["secondments"].get(event.teacher_id, departure["entry_id"])
    if row is not None and row["left_on"] == event.left_on:
        _put(batch, row, returned_on=event.returned_on)


# DayEnded: how far the log has counted days (an absence still running counts up to it).

def _day_needs(fact: Fact):
    return (Need("calendar_days", (CALENDAR,)),)


def _day(batch: Batch, fact: Fact) -> None:
    event: DayEnded = fact.data
    row = batch["calendar_days"].get(CALENDAR)
    if row is None or row["last_day"] < event.day:
        batch["calendar_days"].put({"calendar": CALENDAR, "last_day": event.day, "sequence": fact.sequence})


TEACHERS_VIEW = Projection("teachers", KEYS, {
    TeacherRegistered.__name__: On(_teacher_needs, _teacher),
    SecondmentRequested.__name__: On(_secondment_needs, _requested),
    SecondmentConsented.__name__: On(_secondment_needs, _decided),
    SecondmentApproved.__name__: On(_secondment_needs, _decided),
    SecondmentRefused.__name__: On(_secondment_needs, _decided),
    TeacherSeconded.__name__: On(_departure_needs, _seconded),
    TeacherReturned.__name__: On(_departure_needs, _returned),
    DayEnded.__name__: On(_day_needs, _day),
})


# Days seconded per calendar year (S7), counted from the departures on record when asked.

@dataclass(frozen=True)
class Away:
    """One departure as the counters see it: from ``left_on`` to ``returned_on`` (the first day
    back; None while away)."""

    left_on: date
    returned_on: date | None
    borrowing_org_id: str


@dataclass(frozen=True)
class YearDays:
    year: int
    continuous_days: int  # the longest run's days within the year
    total_days: int       # every day away within the year
    longest_run: Period | None  # that run whole (it may begin or end in another year)
    away: bool            # still away at the last day counted


def _overlap(period: Period, first: date, last: date) -> int:
    return max((min(period.ends_on, last) - max(period.starts_on, first)).days + 1, 0)


def days_seconded(departures: Iterable[Away], year: int, last_day: date | None,
                  gap_days: Callable[[date], int]) -> YearDays:
    """S7: a teacher's days away in ``year``: in all, and in the longest run, renewals with the
    same unit joined as ``secondment_periods`` joins them (``gap_days(day)``: the renewal gap of
    the policy in force on the day a departure began). A departure still running counts up to
    ``last_day`` (the last ``DayEnded`` on record); one that began after it counts nothing yet."""
    departures = sorted(departures, key=lambda d: d.left_on)
    periods = []
    for away in departures:
        ends_on = away.returned_on - timedelta(days=1) if away.returned_on else last_day
        if ends_on is not None and ends_on >= away.left_on:
            periods.append(Period(away.left_on, ends_on, away.borrowing_org_id))
    runs: list[Period] = []
    for period in periods:
        joined = next((i for i in range(len(runs) - 1, -1, -1)
                       if continues(runs[i], period, gap_days(period.starts_on))), None)
        if joined is None:
            runs.append(period)
        else:
            run = runs[joined]
            runs[joined] = Period(run.starts_on, max(run.ends_on, period.ends_on), run.borrowing_org_id)
    first, last = date(year, 1, 1), date(year, 12, 31)
    total = sum(_overlap(period, first, last) for period in periods)
    longest = max(runs, key=lambda run: (_overlap(run, first, last), run.starts_on), default=None)
    continuous = _overlap(longest, first, last) if longest else 0
    still_away = any(away.returned_on is None for away in departures)
    return YearDays(year, continuous, total, longest if continuous else None, still_away)
