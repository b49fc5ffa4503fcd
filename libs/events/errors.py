"""Errors as values at the edge: the domain raises ``Refused`` with a code, the command adapter
turns it into ``{"ok": false, "error": {"code", "message", "field"}}``."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Codes of structured error replies that are not policy refusals."""

    MALFORMED_JSON = "MALFORMED_JSON"
    INVALID_FIELD = "INVALID_FIELD"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNKNOWN_COMMAND = "UNKNOWN_COMMAND"
    UNKNOWN_ORG = "UNKNOWN_ORG"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    INVALID_STATE = "INVALID_STATE"
    COMMAND_ID_REUSED = "COMMAND_ID_REUSED"
    REPLY_TOO_LARGE = "REPLY_TOO_LARGE"
    CONCURRENCY_EXHAUSTED = "CONCURRENCY_EXHAUSTED"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL_ERROR = "INTERNAL_ERROR"


class RefusalCode(StrEnum):
    """S3 refusal reasons for campus-entry applications (DOMAIN.md)."""

    OUTSIDE_WINDOW_NO_URGENCY = "OUTSIDE_WINDOW_NO_URGENCY"
    COMMERCIAL_OR_FEE = "COMMERCIAL_OR_FEE"
    ALREADY_IN_CURRICULUM = "ALREADY_IN_CURRICULUM"
    NOT_STUDENT_FOCUSED = "NOT_STUDENT_FOCUSED"
    DUPLICATES_HIGHER_LEVEL = "DUPLICATES_HIGHER_LEVEL"
    UNSUITABLE_OR_TOO_LONG = "UNSUITABLE_OR_TOO_LONG"
    SCOPE_TOO_BROAD = "SCOPE_TOO_BROAD"
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    NOT_ON_LIST = "NOT_ON_LIST"  # a school turns away an entry the published list does not admit
    EXEMPTION_UNSUPPORTED = "EXEMPTION_UNSUPPORTED"  # the claimed exemption is not in the catalogue, or not this unit's


class Refused(Exception):
    """A command the rules do not allow. ``code`` is an ErrorCode or a RefusalCode."""

    def __init__(self, code: str, message: str, field: str | None = None, errors: list[dict] | None = None) -> None:
        super().__init__(message)
        self.code = str(code)
        self.message = message
        self.field = field
        self.errors = errors

    def as_reply(self) -> dict:
        error: dict = {"code": self.code, "message": self.message}
        if self.field:
            error["field"] = self.field
        if self.errors:
            error["errors"] = self.errors  # every validation error at once, each with field and message
        return {"ok": False, "error": error}
