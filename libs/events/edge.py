"""Checks on the raw bytes of a request, before any parser runs.

A stored event can never be removed, so whatever a client sends is bounded here first: size,
UTF-8, nesting depth, number length and the headers that travel into events. Each check is a
linear scan with an early exit, so hostile input costs microseconds, never a recursion limit
or a quadratic parse, and is answered with a structured refusal.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from jianfu.events.errors import ErrorCode, Refused

CORRELATION_HEADER = "Jf-Correlation-Id"
PERSON_HEADER = "Jf-Person"
MALFORMED_HEADERS = "Jf-Malformed-Headers"
"""Set by ``wire.py`` in place of a header block that does not parse."""

MAX_DEPTH = 8
"""Deepest JSON a command may have; the deepest real one (``scope.school_ids``) has 3 levels."""
MAX_NUMBER_CHARS = 24
"""Longest number literal; every bound of every schema fits in far fewer characters."""
MAX_CORRELATION_ID = 128
MAX_PERSON = 100
MAX_HEADER_BYTES = 4096
"""All headers of a request together; ours need a few hundred bytes."""

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")
_LONG_NUMBER = re.compile(rb"[-+0-9.eE]{%d,}" % (MAX_NUMBER_CHARS + 1))
_CORRELATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+=-]*")


def check_body(payload: bytes, max_bytes: int) -> None:
    """Refuse a body that no parser should see: too large, empty, not UTF-8, too deep, or with
    a number too long to be any field's value."""
    check_size(payload, max_bytes)
    if not payload.strip():
        raise Refused(ErrorCode.MALFORMED_JSON, "the body is empty; send a JSON object")
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Refused(ErrorCode.MALFORMED_JSON, f"the body is not UTF-8 (byte {error.start})") from None
    outside_strings = _STRING.sub(b'""', payload)
    if _too_deep(outside_strings):
        raise Refused(ErrorCode.MALFORMED_JSON, f"the body nests deeper than {MAX_DEPTH} levels")
    if _LONG_NUMBER.search(outside_strings):
        raise Refused(ErrorCode.INVALID_FIELD, f"a number is longer than {MAX_NUMBER_CHARS} characters")


def check_size(payload: bytes, max_bytes: int) -> None:
    if len(payload) > max_bytes:
        raise Refused(ErrorCode.PAYLOAD_TOO_LARGE, f"payload of {len(payload)} bytes exceeds {max_bytes}")


def _too_deep(outside_strings: bytes) -> bool:
    depth = 0
    for bracket in _BRACKET.finditer(outside_strings):
        depth += 1 if bracket.group() in (b"[", b"{") else -1
        if depth > MAX_DEPTH:
            return True
    return False


def shown(value: str, limit: int = 64) -> str:
    """Text as it may appear in a reply, a log line, an alert or a table: control and formatting
    characters and lone surrogates escaped (no NUL, no right-to-left override), at most ``limit``
    characters, an ellipsis marking the cut."""
    visible = "".join(char if char.isprintable() else f"\\u{ord(char):04x}" for char in value[:limit])
    return visible if len(visible) <= limit and len(value) <= limit else visible[: limit - 1] + "…"


@dataclass(frozen=True)
class Provenance:
    """The request's correlation id and the person who sent it, as they will be stored in events."""

    correlation_id: str
    person: str | None


def read_headers(headers: Mapping[str, str] | None) -> Provenance:
    """The headers that reach events, validated; a fresh correlation id when none was sent.

    Raises ``Refused`` (with a fresh correlation id in ``provenance``) when a header is
    malformed: a header is stored in every event of the command, so it is bounded like a field.
    """
    headers = headers or {}
    if MALFORMED_HEADERS in headers:
        raise HeaderRefused("headers", f"a well-formed NATS header block: this one is {headers[MALFORMED_HEADERS]}",
                            field="headers")
    if sum(len(name) + len(value) + 4 for name, value in headers.items()) > MAX_HEADER_BYTES:
        raise HeaderRefused("headers", f"at most {MAX_HEADER_BYTES} bytes in all", field="headers")
    correlation_id = headers.get(CORRELATION_HEADER) or None
    person = headers.get(PERSON_HEADER) or None
    if correlation_id is not None and not _valid_correlation_id(correlation_id):
        raise HeaderRefused(CORRELATION_HEADER, f"1-{MAX_CORRELATION_ID} characters of A-Z a-z 0-9 . _ : / + = -")
    if person is not None and (len(person) > MAX_PERSON or not person.strip() or not person.isprintable()):
        raise HeaderRefused(PERSON_HEADER, f"1-{MAX_PERSON} printable characters (no control or formatting characters)")
    return Provenance(correlation_id or str(uuid.uuid4()), person.strip() if person else None)


def _valid_correlation_id(value: str) -> bool:
    return len(value) <= MAX_CORRELATION_ID and _CORRELATION_ID.fullmatch(value) is not None


class HeaderRefused(Refused):
    """A malformed header; the reply carries a fresh correlation id instead of the bad one."""

    def __init__(self, header: str, expected: str, field: str | None = None) -> None:
        super().__init__(ErrorCode.INVALID_FIELD, f"{header} must be {expected}", field or f"headers.{header}")
        self.fresh_correlation_id = str(uuid.uuid4())
