"""The last business day a sweep has seen end (the latest ``DayEnded`` it folded), kept in a
one-row table of the sweep's own (key ``calendar``): a fact whose day is already over when it is
folded is judged at once, not left for a sweep that has passed. The S7 and G2 sweeps each keep one."""

from __future__ import annotations

from datetime import date

from jianfu.compliance.domain.folding import Batch, Need
from jianfu.events.schemas.days import DAYS_AGGREGATE_ID

KEY = ("calendar",)


def need(table: str) -> Need:
    return Need(table, (DAYS_AGGREGATE_ID,))


def last_day(batch: Batch, table: str) -> date | None:
    row = batch[table].get(DAYS_AGGREGATE_ID)
    return row["last_day"] if row else None


def ended(batch: Batch, table: str, day: date) -> None:
    """``day`` is over: the last day ended, unless a later one already is."""
    last = last_day(batch, table)
    if last is None or last < day:
        batch[table].put({"calendar": DAYS_AGGREGATE_ID, "last_day": day})
