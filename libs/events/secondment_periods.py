"""S7: back-to-back renewals count as one continuous period.

A secondment continues the one before it with the same borrowing unit when it starts fewer than
``gap_days`` days after that one's last day (the policy's ``renewal_gap_days``; back to back is a
gap of 0). The periods so joined form a *run*, counted from its first day to its last, the gaps
inside it included: a teacher lent out again within the gap never really went back. Periods with
another unit never join. The approvals service judges requested periods by it, the compliance
detector the departures and returns that happened.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True, order=True)
class Period:
    starts_on: date
    ends_on: date
    borrowing_org_id: str

    @property
    def days(self) -> int:
        """Both ends included."""
        return (self.ends_on - self.starts_on).days + 1


def continues(earlier: Period, later: Period, gap_days: int) -> bool:
    """Whether ``later`` continues ``earlier`` (same unit, starting fewer than ``gap_days`` days
    after it ended; overlapping periods continue too)."""
    if earlier.borrowing_org_id != later.borrowing_org_id:
        return False
    gap = (later.starts_on - earlier.ends_on).days - 1
    return gap < gap_days


def run_of(period: Period, others: Iterable[Period], gap_days: int) -> Period:
    """The run ``period`` belongs to among ``others`` (the teacher's other periods that count:
    requested and not refused, or that happened), as one period from its first day to its last."""
    same_unit = sorted({p for p in others if p.borrowing_org_id == period.borrowing_org_id} | {period})
    runs: list[Period] = []
    for p in same_unit:
        if runs and continues(runs[-1], p, gap_days):
            last = runs[-1]
            runs[-1] = Period(last.starts_on, max(last.ends_on, p.ends_on), last.borrowing_org_id)
        else:
            runs.append(p)
    return next(run for run in runs if run.starts_on <= period.starts_on and period.ends_on <= run.ends_on)


def limit_passed_on(run_start: date, max_days: int) -> date:
    """The first day away beyond the limit: with ``max_days`` 183, the 184th day of the run."""
    return run_start + timedelta(days=max_days)
