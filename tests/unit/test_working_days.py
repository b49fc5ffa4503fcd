"""Working days (DOMAIN.md: China's statutory holidays and adjusted working days from the
chinesecalendar package, plus the district's own days in the policy file), as S2's
data-request deadline counts them. No I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from jianfu.events.policy import WorkingDays
from jianfu.events.working_days import BUSINESS_TIME, WorkingCalendar, covered

from tests.factories import POLICY

CALENDAR = WorkingCalendar()


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BUSINESS_TIME)


@pytest.mark.parametrize("year", range(2021, 2027))
def test_s2_the_national_calendar_covers_every_year_the_tests_and_demo_use(year):
    """2021-2026: National Day (1 October) is a holiday in each, so the package knows the year."""
    assert covered(date(year, 1, 1)) and covered(date(year, 12, 31))
    assert not CALENDAR.is_working_day(date(year, 10, 1))


def test_s2_statutory_holidays_and_adjusted_working_days_come_from_the_national_calendar():
    assert not CALENDAR.is_working_day(date(2026, 10, 5))   # a Monday of the National Day holiday
    assert CALENDAR.is_working_day(date(2026, 10, 10))      # a Saturday worked in its place (调休)
    assert CALENDAR.is_working_day(date(2026, 9, 20))       # a Sunday worked in its place
    assert not CALENDAR.is_working_day(date(2026, 11, 28))  # an ordinary Saturday
    assert CALENDAR.is_working_day(date(2026, 11, 27))      # an ordinary Friday


def test_s2_the_district_file_adds_its_own_days_off_and_working_days():
    local = WorkingCalendar.of(WorkingDays(local_days_off=(date(2026, 11, 27),),
                                           local_working_days=(date(2026, 11, 28),)))
    assert not local.is_working_day(date(2026, 11, 27)) and local.is_working_day(date(2026, 11, 28))


def test_s2_a_day_cannot_be_both_a_local_day_off_and_a_local_working_day():
    with pytest.raises(ValueError, match="both"):
        WorkingCalendar((date(2026, 11, 27),), (date(2026, 11, 27),))


def test_s2_the_shipped_policy_file_has_no_local_days_yet():
    assert WorkingCalendar.of(POLICY.working_days).days_off == frozenset()


def test_s2_past_the_packages_last_year_weekdays_are_working_days_and_local_days_still_apply():
    """2027 is beyond chinesecalendar 1.11.0: Monday to Friday count, weekends do not, and the
    district may enter the new year's holidays in the policy file until the package is upgraded."""
    assert not covered(date(2027, 10, 1))
    assert CALENDAR.is_working_day(date(2027, 10, 1))      # a Friday: the package does not know it
    assert not CALENDAR.is_working_day(date(2027, 10, 2))  # a Saturday
    assert not WorkingCalendar((date(2027, 10, 1),)).is_working_day(date(2027, 10, 1))


def test_s2_partial_days_count_by_their_hours_and_days_off_not_at_all():
    thursday = date(2026, 11, 26)
    friday, monday = thursday + timedelta(days=1), thursday + timedelta(days=4)
    assert CALENDAR.working_time(at(thursday, 15), at(friday, 17)) == timedelta(hours=9 + 17)
    assert CALENDAR.working_time(at(thursday, 15), at(monday, 17)) == timedelta(hours=9 + 24 + 17)
    assert CALENDAR.working_time(at(friday, 17), at(thursday, 15)) == timedelta()


def test_s2_counting_a_deadline_years_away_stops_once_enough_is_counted():
    start = at(date(2026, 11, 26), 15)
    assert 2 <= CALENDAR.working_days_between(start, start.replace(year=9999), 2) < 3


def test_s2_a_stored_time_without_a_zone_is_utc_and_year_9999_needs_no_local_time():
    thursday = at(date(2026, 11, 26), 15)
    naive = thursday.astimezone(UTC).replace(tzinfo=None)
    assert CALENDAR.working_time(naive, at(date(2026, 11, 27), 17)) == timedelta(hours=26)
    assert CALENDAR.working_days_between(thursday, datetime(9999, 12, 31, 23, tzinfo=UTC), 2) >= 2


def test_g2_a_rectification_deadline_counts_working_days_across_national_day():
    """G2: 10 working days from 30 September 2026 skip the National Day holiday (1–7 October) and
    count the adjusted working Saturday (10 October): 20 October."""
    calendar = WorkingCalendar()
    assert calendar.add_working_days(date(2026, 9, 30), 10) == date(2026, 10, 20)
    assert calendar.add_working_days(date(2027, 3, 1), 10) == date(2027, 3, 15)  # weekdays past the package
    assert WorkingCalendar(local_days_off=[date(2027, 3, 2)]).add_working_days(date(2027, 3, 1), 10) == date(2027, 3, 16)
