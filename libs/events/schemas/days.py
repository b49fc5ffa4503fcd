"""Time as an event (DESIGN.md): one ``DayEnded`` per business day (Asia/Shanghai).

The compliance service's scheduler appends them, in order, on one aggregate
(``calendar.days``): each expects the one before, and its event id derives from the date, so two
schedulers or a restart append a day once. Rules that depend on time passing (a secondment past
its limit, a notice before an end, a year's end) react to ``DayEnded`` and never read a clock, so a
replay meets the same days in the same order and decides the same.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from jianfu.events.schemas.base import EventData

DAYS_AGGREGATE_ID = "days"


class DayEnded(EventData):
    """The business day ``day`` is over by the scheduler's clock: sweeps judge what the log holds at this point."""

    aggregate_type: ClassVar[str] = "calendar"

    day: date
