"""S7: back-to-back renewals with the same unit count as one continuous period."""

from datetime import date, timedelta

from jianfu.events.secondment_periods import Period, continues, limit_passed_on, run_of

START = date(2026, 9, 1)


def period(first_day: date, days: int, unit: str = "dept-health") -> Period:
    return Period(first_day, first_day + timedelta(days=days - 1), unit)


def test_s7_a_period_counts_both_its_first_and_last_day():
    assert period(START, 183).days == 183


def test_s7_183_days_followed_at_once_by_90_with_the_same_unit_is_one_run_of_273():
    first = period(START, 183)
    renewal = period(first.ends_on + timedelta(days=1), 90)
    assert run_of(renewal, [first], 30).days == 273


def test_s7_the_same_dates_with_another_unit_are_two_runs():
    first = period(START, 183)
    other = period(first.ends_on + timedelta(days=1), 90, "dept-justice")
    assert run_of(other, [first], 30) == other


def test_s7_a_gap_of_fewer_than_30_days_continues_the_run_and_its_days_count():
    first = period(START, 100)
    renewal = period(first.ends_on + timedelta(days=30), 50)  # 29 days in between
    assert continues(first, renewal, 30)
    assert run_of(renewal, [first], 30) == Period(first.starts_on, renewal.ends_on, "dept-health")


def test_s7_a_gap_of_30_days_starts_a_new_run():
    first = period(START, 100)
    later = period(first.ends_on + timedelta(days=31), 50)  # 30 days in between
    assert not continues(first, later, 30)
    assert run_of(later, [first], 30) == later


def test_s7_runs_join_through_every_renewal_whatever_order_they_are_given_in():
    a = period(START, 60)
    b = period(a.ends_on + timedelta(days=1), 60)
    c = period(b.ends_on + timedelta(days=10), 70)
    assert run_of(a, [c, b], 30) == run_of(c, [b, a], 30) == Period(a.starts_on, c.ends_on, "dept-health")


def test_s7_the_limit_is_passed_on_the_184th_day():
    assert limit_passed_on(START, 183) == START + timedelta(days=183)
    assert period(START, 184).ends_on == limit_passed_on(START, 183)
