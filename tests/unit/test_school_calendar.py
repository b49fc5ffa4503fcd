"""S3 (issue 8, finding 7): the semester calendar is data, per school year, in the policy file;
a day of a holiday belongs to the semester that follows it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from jianfu.events.policy import Policy
from jianfu.events.semesters import SchoolCalendar, Semester, Span, Term

from tests.factories import POLICY

CALENDAR = POLICY.school_calendar
DEFAULT = SchoolCalendar()


@pytest.mark.parametrize("calendar", [CALENDAR, DEFAULT], ids=["listed", "default"])
@pytest.mark.parametrize("day", [date(2026, 8, 20), date(2026, 8, 28), date(2026, 8, 31)])
def test_s3_late_august_is_the_autumns(calendar, day):
    assert calendar.semester_of(day) == Semester(2026, Term.AUTUMN)


@pytest.mark.parametrize("calendar", [CALENDAR, DEFAULT], ids=["listed", "default"])
def test_s3_a_winter_holiday_day_is_the_springs(calendar):
    assert calendar.semester_of(date(2027, 2, 5)) == Semester(2027, Term.SPRING)


def test_s3_a_listed_years_dates_win_over_the_default():
    """The policy file ends the 2025 autumn on 2026-01-16 and the 2026-2027 spring on 2027-07-09;
    by default the autumn would run to 20 January and the spring to 10 July."""
    assert CALENDAR.span(Semester(2026, Term.AUTUMN)) == Span(date(2026, 8, 31), date(2027, 1, 22))
    assert CALENDAR.semester_of(date(2026, 1, 18)) == Semester(2026, Term.SPRING)
    assert DEFAULT.semester_of(date(2026, 1, 18)) == Semester(2025, Term.AUTUMN)
    assert CALENDAR.semester_of(date(2027, 7, 10)) == Semester(2027, Term.AUTUMN)
    assert DEFAULT.semester_of(date(2027, 7, 10)) == Semester(2027, Term.SPRING)


def test_s3_a_year_the_file_does_not_list_takes_the_default_span():
    assert CALENDAR.span(Semester(2031, Term.SPRING)) == Span(date(2031, 2, 20), date(2031, 7, 10))


def test_s3_every_day_of_a_semester_span_belongs_to_it():
    span = CALENDAR.span(Semester(2026, Term.AUTUMN))
    assert {CALENDAR.semester_of(day) for day in (span.first, span.last)} == {Semester(2026, Term.AUTUMN)}


HEADER = 'version = "test"\nin_force_from = 2021-08-20\n'


def load(tmp_path: Path, calendar: str) -> Policy:
    path = tmp_path / "policy.toml"
    path.write_text(HEADER + calendar, encoding="utf-8")
    return Policy.load(path)


def year(n: int, autumn: tuple[str, str], spring: tuple[str, str]) -> str:
    return f"[[calendar]]\nyear = {n}\nautumn = [{autumn[0]}, {autumn[1]}]\nspring = [{spring[0]}, {spring[1]}]\n"


def test_s3_the_policy_file_loads_its_calendar(tmp_path):
    policy = load(tmp_path, year(2030, ("2030-08-26", "2031-01-17"), ("2031-02-24", "2031-07-04")))
    assert policy.school_calendar.semester_of(date(2030, 8, 26)) == Semester(2030, Term.AUTUMN)
    assert policy.school_calendar.semester_of(date(2031, 7, 5)) == Semester(2031, Term.AUTUMN)


@pytest.mark.parametrize("calendar", [
    # overlapping: the 2031 autumn starts before the 2030-2031 spring ends
    year(2030, ("2030-09-01", "2031-01-17"), ("2031-02-24", "2031-09-05"))
    + year(2031, ("2031-09-01", "2032-01-16"), ("2032-02-23", "2032-07-09")),
    # misordered years
    year(2031, ("2031-09-01", "2032-01-16"), ("2032-02-23", "2032-07-09"))
    + year(2030, ("2030-09-01", "2031-01-17"), ("2031-02-24", "2031-07-04")),
    # a year listed twice
    year(2030, ("2030-09-01", "2031-01-17"), ("2031-02-24", "2031-07-04")) * 2,
    # spring before autumn within a year
    year(2030, ("2030-09-01", "2031-03-17"), ("2031-02-24", "2031-07-04")),
    # a semester that runs backwards
    year(2030, ("2030-09-01", "2030-08-01"), ("2031-02-24", "2031-07-04")),
    # dates of another school year
    year(2030, ("2029-09-01", "2030-01-17"), ("2030-02-24", "2030-07-04")),
], ids=["overlapping", "misordered", "twice", "spring-first", "backwards", "wrong-year"])
def test_s3_the_policy_file_refuses_a_calendar_that_does_not_say_which_semester_a_day_is(tmp_path, calendar):
    with pytest.raises(ValueError):
        load(tmp_path, calendar)
