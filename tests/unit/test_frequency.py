"""S3 (issue 8, "real published lists must fit"): frequency is published per year in free text;
the text is kept and a structured maximum per year and per semester read from it."""

from __future__ import annotations

import csv

import pytest
from jianfu.events.frequency import Frequency, parse_frequency, stated_frequency
from jianfu.events.settings import REFERENCE

with open(REFERENCE / "campus_entry_list_rows.csv", encoding="utf-8") as handle:
    ROWS = list(csv.DictReader(handle))

# What each frequency text of the published rows allows, read by a person.
PUBLISHED = {
    ("每年1-2次", ""): Frequency(per_year=2),
    ("每年1次", ""): Frequency(per_year=1),
    ("每年2次", ""): Frequency(per_year=2),
    ("1", "全年"): Frequency(per_year=1),
}


def test_s3_the_published_rows_use_the_texts_read_here():
    assert {(row["frequency"], row["period_or_time"]) for row in ROWS} == set(PUBLISHED)


@pytest.mark.parametrize("row", ROWS, ids=[f"{row['source']}:{row['item_name'][:12]}" for row in ROWS])
def test_s3_every_published_frequency_reads_as_a_maximum_per_school_year(row):
    assert parse_frequency(row["frequency"], row["period_or_time"]) == PUBLISHED[row["frequency"], row["period_or_time"]]


@pytest.mark.parametrize("text,expected", [
    ("每学期1次", Frequency(per_semester=1)),
    ("每学期两次", Frequency(per_semester=2)),
    ("每个学期1-3场", Frequency(per_semester=3)),
    ("原则上每项每年不超过1次", Frequency(per_year=1)),
    ("每学年２次", Frequency(per_year=2)),   # full-width digits
    ("每年一至二次", Frequency(per_year=2)),
    ("1", Frequency(per_year=1)),            # a bare count is per school year
    ("根据工作需要", Frequency()),
    ("", Frequency()),
])
def test_s3_frequency_texts_read_as_their_upper_bound(text, expected):
    assert parse_frequency(text) == expected


@pytest.mark.parametrize("frequency,bound", [
    (Frequency(per_year=2), 2), (Frequency(per_semester=1), 1), (Frequency(per_year=1, per_semester=2), 1),
    (Frequency(), None),
])
def test_s3_a_years_maximum_also_bounds_each_semester(frequency, bound):
    assert frequency.semester_bound == bound


def test_s3_structured_values_on_a_form_win_and_the_text_fills_the_rest():
    assert stated_frequency("每年1-2次", per_year=1) == Frequency(per_year=1)
    assert stated_frequency("每年1-2次", per_semester=1) == Frequency(per_year=2, per_semester=1)
    assert stated_frequency("根据工作需要") == Frequency()
