"""Semesters are named ``<year>-autumn`` and ``<year>-spring``: the autumn semester starts in
September of its year and ends in January of the next; the spring semester runs February to
August of its year (DOMAIN.md: autumn ≈ Sep–Jan, spring ≈ Feb/Mar–Jul)."""

from __future__ import annotations

import re
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

    @classmethod
    def containing(cls, day: date) -> Semester:
        """The semester a school day belongs to; holidays count to the semester just ended."""
        if day.month >= 9:
            return cls(day.year, Term.AUTUMN)
        if day.month == 1:
            return cls(day.year - 1, Term.AUTUMN)
        return cls(day.year, Term.SPRING)

    def following(self) -> Semester:
        if self.term is Term.AUTUMN:
            return Semester(self.year + 1, Term.SPRING)
        return Semester(self.year, Term.AUTUMN)
