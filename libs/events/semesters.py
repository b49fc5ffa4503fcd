"""Semesters are named ``<year>-autumn`` and ``<year>-spring``: the autumn semester starts in
(late August or) September of its year and ends in January of the next; the spring semester
runs February or March to July of its year (DOMAIN.md: autumn ≈ Sep–Jan, spring ≈ Feb/Mar–Jul).
Which semester a day belongs to is data, the school calendar (``SchoolCalendar``), loaded with
the policy file per school year."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import total_ordering

SEMESTER_PATTERN = re.compile(r"^([0-9]{4})-(autumn|spring)$")  # not \d: it takes "２０２６" too


class Term(StrEnum):
    AUTUMN = "autumn"
    SPRING = "spring"


@total_ordering
@dataclass(frozen=True)
class Semester:
    year: int
    term: Term

    @property
    def ordinal(self) -> int:
        """Chronological position: spring comes before autumn within a year."""
        return self.year * 2 + (1 if self.term is Term.AUTUMN else 0)

    def __lt__(self, other: Semester) -> bool:
        return self.ordinal < other.ordinal

    @property
    def id(self) -> str:
        return f"{self.year}-{self.term.value}"

    def __str__(self) -> str:
        return self.id

    @classmethod
    def parse(cls, text: str) -> Semester:
        match = SEMESTER_PATTERN.match(text)
        if not match:
            raise ValueError(f"not a semester id: {text!r} (expected e.g. 2026-autumn)")
        return cls(int(match.group(1)), Term(match.group(2)))

    def following(self) -> Semester:
        if self.term is Term.AUTUMN:
            return Semester(self.year + 1, Term.SPRING)
        return Semester(self.year, Term.AUTUMN)

    def preceding(self) -> Semester:
        if self.term is Term.AUTUMN:
            return Semester(self.year, Term.SPRING)
        return Semester(self.year - 1, Term.AUTUMN)

    @property
    def school_year(self) -> int:
        """The school year it belongs to, named by its autumn's year: 2026-autumn and 2027-spring
        are the school year 2026 (2026–2027)."""
        return self.year if self.term is Term.AUTUMN else self.year - 1


@dataclass(frozen=True)
class Span:
    """A semester's first and last school day."""

    first: date
    last: date


class SchoolCalendar:
    """Which semester a day belongs to: the one whose span holds it, and in a holiday the one
    that follows (late August is the autumn's, the winter holiday the spring's). ``spans`` gives
    the semesters the district published, by id; any other semester takes ``default_span``."""

    def __init__(self, spans: Mapping[str, Span] | None = None) -> None:
        self.spans = dict(spans or {})

    def span(self, semester: Semester) -> Span:
        return self.spans.get(semester.id) or default_span(semester)

    def semester_of(self, day: date) -> Semester:
        semester = Semester(day.year - 1, Term.AUTUMN)
        while self.span(semester).last < day:
            semester = semester.following()
        return semester


def default_span(semester: Semester) -> Span:
    """A semester the calendar does not list: autumn 1 September to 20 January, spring
    20 February to 10 July, near the dates Ningxia's schools keep."""
    if semester.term is Term.AUTUMN:
        return Span(date(semester.year, 9, 1), date(semester.year + 1, 1, 20))
    return Span(date(semester.year, 2, 20), date(semester.year, 7, 10))
