"""Pages and cursors without I/O: where a page ends, what a cursor accepts, and the worst-case
row sizes the compliance README states."""

from __future__ import annotations

import json
import re
import uuid
from datetime import date
from pathlib import Path

import pytest
from jianfu.compliance.database import plain
from jianfu.compliance.domain.teachers_time_rules import meeting_quota_exceeded
from jianfu.compliance.paging import PAGE_BYTES, page, read_cursor, row_bytes, write_cursor
from jianfu.events.errors import Refused
from jianfu.events.schemas.meetings import MeetingMode, MeetingScheduled, Participant
from jianfu.events.schemas.paging import CURSOR_MAX_LENGTH, CURSOR_PATTERN, MAX_PAGE_ROWS

from tests.large_rows import application_row, violation_row

README = Path(__file__).parents[2] / "services" / "compliance" / "README.md"
LAST_SEQUENCE = 2**63 - 1  # the longest stream sequence JetStream can give
ACTIVITY = "00000000-0000-0000-0000-000000000064"


def as_read(row: dict, **longest) -> dict:
    """A row as a query answers it, with its sequences at their longest."""
    return {key: plain(value) for key, value in row.items()} | longest


def largest_violation(title: str) -> dict:
    return as_read(violation_row(1, "2026-autumn", title), sequence=LAST_SEQUENCE,
                   occurred_at="2026-10-20T00:00:00.000001+00:00")


def largest_application(schools: int) -> dict:
    return as_read(application_row(1, ACTIVITY, "rejected"), applicant_org_id="d" * 63, requested_sequence=LAST_SEQUENCE,
                   decided_sequence=LAST_SEQUENCE, school_ids=["s" * 63] * schools)


def largest_teacher_violation(title: str) -> dict:
    """S10: the largest violation naming a teacher (``teacher_id`` in the row, the summary and the
    evidence): a meeting quota exceeded, with a 200-character title and every id at 63 characters."""
    organiser, teacher, school = "o" * 63, "t" * 63, "s" * 63
    meeting = MeetingScheduled(
        meeting_id=uuid.UUID(int=1), organiser_org_id=organiser, title=title, concerns_teaching=False,
        held_on=date(2026, 10, 20), semester="2026-autumn", mode=MeetingMode.IN_PERSON, venue_id="v" * 63,
        sub_venue_ids=(), participants=(Participant(teacher_id=teacher, school_id=school),),
        scheduled_on=date(2026, 10, 1))
    found = meeting_quota_exceeded(meeting, str(uuid.UUID(int=2)), teacher, school, [f"m-{n}" for n in range(99)],
                                   2, {organiser: "名" * 30})
    return as_read(found.model_dump(mode="json"), occurred_at="2026-10-20T00:00:00.000001+00:00",
                   event_id=str(uuid.UUID(int=3)), sequence=LAST_SEQUENCE)


WORST = {
    "violation, 200 CJK characters": largest_violation("进校园" * 66 + "活动"),
    "violation, outside the BMP": largest_violation("\U00020000" * 200),
    "violation, NFKC-expanding": largest_violation("\ufdfa" * 200),
    "violation naming a teacher, 200 CJK characters": largest_teacher_violation("安全工作部署会" * 28 + "会议会议"),
    "violation naming a teacher, outside the BMP": largest_teacher_violation("\U00020000" * 200),
    "application, 8 schools": largest_application(8),
    "application, 500 schools": largest_application(500),
}


def documented_sizes() -> list[tuple[int, int]]:
    """(bytes, rows in 512 KiB) of each row of the README's worst-case table, in order."""
    table = README.read_text(encoding="utf-8").split("The largest rows the schemas allow")[1].split("\n\n")[1]
    return [(int(size.replace(",", "")), int(rows))
            for size, rows in re.findall(r"\| ([\d,]+) \| (\d+)[^|]*\|$", table, re.MULTILINE)]


def test_the_readme_states_the_size_of_the_largest_rows_the_schemas_allow():
    assert documented_sizes() == [(row_bytes(row), PAGE_BYTES // row_bytes(row)) for row in WORST.values()]
    as_sent = json.dumps(WORST["violation, 200 CJK characters"], ensure_ascii=False, separators=(",", ":"))
    assert f"({len(as_sent.encode()):,} bytes for the first violation row)" in README.read_text(encoding="utf-8")


def test_s7_s10_every_violation_row_gives_its_teacher_and_none_outgrows_the_s3_rows():
    """S7, S10: the register's rows carry ``teacher_id`` (null for rules about no teacher); a row
    naming a teacher is smaller than the largest S3 row, so the page sizes stand."""
    named = WORST["violation naming a teacher, outside the BMP"]
    assert named["teacher_id"] == "t" * 63 and WORST["violation, outside the BMP"]["teacher_id"] is None
    assert row_bytes(named) < row_bytes(WORST["violation, outside the BMP"])
    assert row_bytes(WORST["violation naming a teacher, 200 CJK characters"]) < \
        row_bytes(WORST["violation, 200 CJK characters"])


def test_a_page_of_the_largest_cjk_violations_ends_by_bytes_within_the_page_budget():
    largest = WORST["violation, 200 CJK characters"]
    taken, cursor = page([largest] * (MAX_PAGE_ROWS + 1), MAX_PAGE_ROWS, "GetViolations", lambda row: (row["sequence"],))
    assert len(taken) == PAGE_BYTES // row_bytes(largest) < MAX_PAGE_ROWS and cursor
    assert len(taken) * row_bytes(largest) <= PAGE_BYTES < 1024 * 1024 // 2 + 1


def rows(n: int, size: int = 10) -> list[dict]:
    return [{"sequence": seq, "pad": "x" * size} for seq in range(n, 0, -1)]


def by_sequence(row: dict) -> tuple:
    return (row["sequence"],)


def test_a_page_ends_at_the_limit_and_names_the_row_after_which_the_next_begins():
    taken, cursor = page(rows(11), 10, "GetViolations", by_sequence)
    assert [r["sequence"] for r in taken] == list(range(11, 1, -1))
    assert read_cursor("GetViolations", cursor, (int,)) == (2,)


def test_the_last_page_has_no_cursor():
    taken, cursor = page(rows(10), 10, "GetViolations", by_sequence)
    assert len(taken) == 10 and cursor is None


def test_a_page_ends_early_when_its_rows_reach_the_budget_but_always_holds_one():
    big = rows(5, size=400)
    taken, cursor = page(big, 5, "GetViolations", by_sequence, budget=2 * row_bytes(big[0]))
    assert [r["sequence"] for r in taken] == [5, 4] and read_cursor("GetViolations", cursor, (int,)) == (4,)
    alone, cursor = page(big, 5, "GetViolations", by_sequence, budget=10)
    assert [r["sequence"] for r in alone] == [5] and cursor is not None


def test_a_cursor_reads_back_only_for_its_own_query_and_key_shape():
    cursor = write_cursor("GetApplications", (LAST_SEQUENCE, ACTIVITY))
    assert read_cursor("GetApplications", cursor, (int, str)) == (LAST_SEQUENCE, ACTIVITY)
    assert re.fullmatch(CURSOR_PATTERN, cursor) and len(cursor) <= CURSOR_MAX_LENGTH
    assert read_cursor("GetViolations", None, (int,)) is None
    for wrong_query, shape in (("GetViolations", (int,)), ("GetViolations", (int, str))):
        with pytest.raises(Refused) as refused:
            read_cursor(wrong_query, cursor, shape)
        assert (refused.value.code, refused.value.field) == ("INVALID_FIELD", "cursor")
