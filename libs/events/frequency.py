"""How often an item may enter a school, read from the words lists publish it in (S3).

Published lists give frequency as free text: "每学期1次", "每年1-2次", "原则上每项每年不超过1次",
or a bare "1" beside a period of "全年". The text is kept as published; ``parse_frequency``
gives the structured maximum the detector checks entries against: per school year and per
semester, each ``None`` when the text does not say. A range gives its upper bound ("1-2次" allows
two); a maximum per year also bounds each semester.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_NUMERALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_COUNT = r"([0-9]+|[一二两三四五六七八九十])"
_RANGE = re.compile(rf"{_COUNT}\s*(?:[-~～至到]\s*{_COUNT})?\s*(?:次|场|期|项)?")
_PER_SEMESTER = re.compile(r"每(?:个)?学期")
_PER_YEAR = re.compile(r"每(?:个)?(?:学)?年|每年度|全年|年度")


@dataclass(frozen=True)
class Frequency:
    """The most entries per school an item may make: per school year and per semester."""

    per_year: int | None = None
    per_semester: int | None = None

    @property
    def semester_bound(self) -> int | None:
        """The most entries one semester allows: its own maximum, within the year's."""
        bounds = [n for n in (self.per_semester, self.per_year) if n is not None]
        return min(bounds) if bounds else None


def parse_frequency(text: str, period: str = "") -> Frequency:
    """The structured maximum a frequency text states (with the period column, when the count
    stands alone: "1" in a list whose period is "全年" is once a year)."""
    words = unicodedata.normalize("NFKC", text or "").replace(" ", "")
    count = _upper_bound(words)
    if count is None:
        return Frequency()
    if _PER_SEMESTER.search(words):
        return Frequency(per_semester=count)
    if _PER_YEAR.search(words) or _PER_YEAR.search(unicodedata.normalize("NFKC", period or "")):
        return Frequency(per_year=count)
    if words.isdigit():
        return Frequency(per_year=count)  # lists publish per school year when they give a bare count
    return Frequency()


def _upper_bound(words: str) -> int | None:
    match = _RANGE.search(words)
    if match is None:
        return None
    return _number(match.group(2) or match.group(1))


def _number(token: str) -> int:
    return int(token) if token.isdigit() else _NUMERALS[token]


def stated_frequency(text: str, per_year: int | None = None, per_semester: int | None = None) -> Frequency:
    """The maximum an application states: its structured values where given, the published text
    (``parse_frequency``) for what they leave open."""
    read = parse_frequency(text)
    return Frequency(per_year=read.per_year if per_year is None else per_year,
                     per_semester=read.per_semester if per_semester is None else per_semester)
