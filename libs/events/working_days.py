"""The district's working days (DOMAIN.md): China's statutory holidays and adjusted working days
(调休), from the maintained ``chinesecalendar`` package, plus the days the policy file adds
(``[working_days]``: the district's own days off and working days). Business time is
Asia/Shanghai. Pure: no I/O beyond the package's tables.

Past the package's last year (1.11.0 covers 2004-2026) or before its first, the national
calendar is unknown: Monday to Friday are working days and weekends are not, and the policy
file's days still apply, so the district can enter the State Council's notice for a new year
there until the package is upgraded. ``covered`` says whether the national calendar knew a day,
so a decision can say which calendar it counted by.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

BUSINESS_TIME = ZoneInfo("Asia/Shanghai")
DAY = timedelta(days=1)
YEAR = 366 * DAY
_FIRST, _LAST = min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year


def aware(moment: datetime) -> datetime:
    """A stored time without a zone is UTC, as the schemas record times (never the machine's zone)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def covered(day: date) -> bool:
    """Whether the national calendar (the package) knows ``day``'s holidays and adjusted days."""
    return _FIRST <= day.year <= _LAST


class WorkingCalendar:
    """Which days are working days: the policy file's local days first, then the national
    calendar where it is known, else Monday to Friday."""

    def __init__(self, local_days_off=(), local_working_days=()) -> None:
        self.days_off = frozenset(local_days_off)
        self.working_days = frozenset(local_working_days)
        both = self.days_off & self.working_days
        if both:
            raise ValueError(f"a day cannot be both a local day off and a local working day: {sorted(both)}")

    @classmethod
    def of(cls, working_days) -> WorkingCalendar:
        """From the policy file's ``[working_days]`` (``Policy.working_days``)."""
        return cls(working_days.local_days_off, working_days.local_working_days)

    def add_working_days(self, day: date, count: int) -> date:
        """The ``count``-th working day after ``day`` (G2: a rectification deadline of 10 working
        days from the day a step is issued)."""
        while count > 0:
            day += timedelta(days=1)
            count -= self.is_working_day(day)
        return day

    def is_working_day(self, day: date) -> bool:
        if day in self.days_off:
            return False
        if day in self.working_days:
            return True
        if covered(day):
            return chinese_calendar.is_workday(day)
        return day.weekday() < 5

    def working_time(self, start: datetime, end: datetime, enough: timedelta | None = None) -> timedelta:
        """The time between ``start`` and ``end`` that falls on working days (Asia/Shanghai): a
        working day inside the span counts whole (24 hours), a working day the span begins or
        ends in counts by the hours of it inside the span, a day off not at all. Nothing when
        ``end`` is not after ``start``. Counting stops once ``enough`` is reached (a deadline
        years away is not walked day by day)."""
        start, end = aware(start), aware(end)
        if enough is not None and end - start > enough + YEAR:
            end = start + enough + YEAR  # far enough past any holiday; a deadline in year 9999 has no local time
        start, end = start.astimezone(BUSINESS_TIME), end.astimezone(BUSINESS_TIME)
        total = timedelta()
        day = start.date()
        while start < end and day <= end.date() and (enough is None or total < enough):
            opens = max(start, datetime.combine(day, time(), BUSINESS_TIME))
            closes = min(end, datetime.combine(day + DAY, time(), BUSINESS_TIME))
            if closes > opens and self.is_working_day(day):
                total += closes - opens
            day += DAY
        return total

    def working_days_between(self, start: datetime, end: datetime, at_least: int) -> float:
        """``working_time`` in days, counted up to ``at_least`` days (enough to compare with it)."""
        return self.working_time(start, end, enough=at_least * DAY) / DAY

    def all_covered(self, start: datetime, end: datetime) -> bool:
        """Whether the national calendar knew every day of the span (capped at a year past its start)."""
        first = aware(start).astimezone(BUSINESS_TIME).date()
        last = first + min(max(aware(end) - aware(start), timedelta()), YEAR)
        return covered(first) and covered(max(first, last))
