"""Text types for every string a client may send: bounded, trimmed, free of control characters.

A NUL stored in an event cannot be written to PostgreSQL, other control characters break logs
and documents downstream, direction overrides make a title read other than it is stored, and a
title of zero-width spaces shows nothing; a stored event can never be removed, so all of these
are refused at the edge. ``Line`` is one line (titles, names); ``Text`` may hold line breaks and tabs (contents,
plans). The pattern is published in the JSON schema so integrators see the rule too.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

_BIDI = r"\u202a-\u202e\u2066-\u2069"  # embeddings, overrides, isolates: text that reads other than it is stored
_LINE_FORBIDDEN = rf"\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI}"
_TEXT_FORBIDDEN = rf"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029{_BIDI}"
LINE_PATTERN = rf"^[^{_LINE_FORBIDDEN}]*$"
TEXT_PATTERN = rf"^[^{_TEXT_FORBIDDEN}]*$"
ORG_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
SEMESTER_PATTERN = r"^[0-9]{4}-(autumn|spring)$"  # [0-9], not \d: \d takes "２０２６" too


def _refuse(forbidden: str):
    pattern = re.compile(f"[{forbidden}]")

    def check(value: str) -> str:
        found = pattern.search(value)
        if found:
            raise ValueError(f"must not contain the control or direction character U+{ord(found.group()):04X}")
        if value and not any(char.isprintable() and not char.isspace() for char in value):
            raise ValueError("must contain a visible character")
        return value

    return check


_no_controls_in_line = _refuse(_LINE_FORBIDDEN)
_no_controls_in_text = _refuse(_TEXT_FORBIDDEN)


def Line(min_length: int = 1, max_length: int = 200):  # noqa: N802 - used like a type
    """One line of text: trimmed, ``min_length``..``max_length`` characters, no control characters."""
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
                     AfterValidator(_no_controls_in_line), Field(json_schema_extra={"pattern": LINE_PATTERN})]


def Text(min_length: int = 1, max_length: int = 4000):  # noqa: N802 - used like a type
    """Text that may span lines (tab, CR and LF allowed), otherwise as ``Line``."""
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
                     AfterValidator(_no_controls_in_text), Field(json_schema_extra={"pattern": TEXT_PATTERN})]


OrgId = Annotated[str, StringConstraints(pattern=ORG_ID_PATTERN)]
SemesterId = Annotated[str, StringConstraints(pattern=SEMESTER_PATTERN)]


REASON_MIN_VISIBLE = 10
"""The fewest visible characters a reason of substance has: an urgent declaration's (S3), a late
inspection item's (S1). Checked in the domain, never in an event schema, since stored events may
hold shorter ones."""


def visible_length(text: str) -> int:
    """Characters that show: no spaces, no zero-width or other invisible ones."""
    return sum(1 for char in text if char.isprintable() and not char.isspace())


def of_substance(reason: str | None) -> bool:
    """Whether a reason says something: at least ``REASON_MIN_VISIBLE`` visible characters."""
    return visible_length(reason or "") >= REASON_MIN_VISIBLE
