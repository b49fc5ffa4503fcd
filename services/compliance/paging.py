"""Pages of answers that grow with the log (the violations register, a semester's applications).

A NATS reply larger than the broker's ``max_payload`` (1 MB by default) is refused by the server,
and the caller times out without a word. So a growing answer comes in pages: at most ``limit``
rows and at most ``PAGE_BYTES`` of JSON, whichever is reached first, with an opaque
``next_cursor`` that resumes after the last row (null on the last page).

The cursor is a keyset position (stream sequences, never an offset), so rows appended while a
client pages through never shift a row into a page it has read or out of one it has yet to read.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from jianfu.events.errors import ErrorCode, Refused

# Half of NATS's default max_payload: room for the rest of the reply and any JSON encoding.
PAGE_BYTES = 512 * 1024

Key = tuple[Any, ...]

# Cursor kinds and their key shapes: a cursor of one query is refused by another.
VIOLATIONS, VIOLATION_KEY = "GetViolations", (int,)  # stream sequence of the last row
APPLICATIONS, APPLICATION_KEY = "GetApplications", (int, str)  # requested sequence (0 if none), activity id
SEMESTER_LIST, SEMESTER_LIST_KEY = "GetSemesterList", (int, int)  # edition, position of the last item in it
INSPECTION_CHECKLIST, CHECKLIST_KEY = "GetInspectionChecklist", (int, int)  # edition, position of the last row
INSPECTION_ITEMS, INSPECTION_ITEM_KEY = "GetInspectionItems", (int, str)  # first sequence, item id
TEACHERS, TEACHER_KEY = "GetTeachers", (str,)  # teacher id of the last row
SECONDMENTS, SECONDMENT_KEY = "GetSecondments", (int,)  # sequence of the event that first named the last row
SECONDMENT_COUNTERS, SECONDMENT_COUNTER_KEY = "GetSecondmentCounters", (str,)  # teacher id of the last row
TRAINING_PLAN, TRAINING_PLAN_KEY = "GetTrainingPlan", (int, int)  # edition, position of the last session in it
TRAINING_SESSIONS, TRAINING_SESSION_KEY = "GetTrainingSessions", (int,)  # stream sequence of the last row
MEETINGS, MEETING_KEY = "GetMeetings", (int,)  # stream sequence of the last row
MEETING_COUNTERS, MEETING_COUNTER_KEY = "GetMeetingCounters", (str,)  # teacher id of the last row
CASES, CASE_KEY = "GetCases", (int,)  # sequence of the event that first named the last escalation
CASE_HISTORY, CASE_HISTORY_KEY = "GetCaseHistory", (int,)  # stream sequence of the last event
CIRCULATIONS, CIRCULATION_KEY = "GetCirculations", (int,)  # sequence of the last row's proposal
ALERT_DELIVERIES, ALERT_DELIVERY_KEY = "GetAlertDeliveries", (str, str)  # alert id, channel of the last row
INTEGER = 2**31  # the bound of an INTEGER column (a list's edition and positions)


def row_bytes(row: dict) -> int:
    """A row's size as ASCII-escaped JSON (``\\uXXXX`` for every non-ASCII character): no JSON
    encoder makes it larger, so the budget holds however the reply is finally encoded."""
    return len(json.dumps(row, ensure_ascii=True))


def write_cursor(kind: str, key: Key) -> str:
    """The opaque cursor of a position: base64url (no padding) of ``[kind, *key]``."""
    raw = json.dumps([kind, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_cursor(kind: str, cursor: str | None, shape: Sequence[type], below: int = 2**63) -> Key | None:
    """The position a cursor of ``kind`` names, or None for the first page. Anything that is not
    exactly a cursor this service wrote for this query is refused on the field ``cursor``; so is
    a number the column it is compared with cannot hold (``below``: BIGINT by default)."""
    if cursor is None:
        return None
    try:
        body = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):  # ValueError covers bad UTF-8 and bad JSON
        body = None
    if (not isinstance(body, list) or len(body) != len(shape) + 1 or body[0] != kind
            or not all(type(value) is expected for value, expected in zip(body[1:], shape, strict=True))
            or any(isinstance(value, int) and not 0 <= value < below for value in body[1:])
            or write_cursor(kind, tuple(body[1:])) != cursor):
        raise Refused(ErrorCode.INVALID_FIELD, "cursor: not a next_cursor of this query; pass it back unchanged",
                      "cursor")
    return tuple(body[1:])


def page(rows: Iterable[dict], limit: int, kind: str, key: Callable[[dict], Key],
         budget: int = PAGE_BYTES) -> tuple[list[dict], str | None]:
    """The rows of one page and the cursor of the next (None when nothing follows).

    ``rows`` are the candidates in order, fetched with one more than ``limit`` so the last page
    is known without a second query. A page always holds its first row, so paging always moves on.
    """
    taken: list[dict] = []
    size, more = 0, False
    for row in rows:
        size += row_bytes(row)
        if len(taken) == limit or (taken and size > budget):
            more = True
            break
        taken.append(row)
    return taken, write_cursor(kind, key(taken[-1])) if more else None
