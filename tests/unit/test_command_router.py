"""The command router: checks in order, structured errors, correlation ids in replies and logs."""

from __future__ import annotations

import io
import json
import uuid
from contextlib import redirect_stderr

import pytest
import structlog
from jianfu.events.commands import CORRELATION_HEADER, Router
from jianfu.events.errors import Refused
from jianfu.events.logging import configure_logging
from jianfu.events.organisations import OrgKind
from jianfu.events.schemas.campus_entry import PublishSemesterList

from tests.factories import DIRECTORY

SUBJECT = "jf.cmd.edu-bureau.approvals.PublishSemesterList"


def router(handler=None) -> Router:
    async def ok(command, caller):
        return {"semester": command.semester, "org": caller.org.org_id}

    r = Router("approvals", DIRECTORY, max_payload_bytes=1024)
    r.add(PublishSemesterList, handler or ok, {OrgKind.EDUCATION_BUREAU})
    return r


def body(**fields) -> bytes:
    return json.dumps({"command_id": str(uuid.uuid4()), "semester": "2026-autumn", **fields}).encode()


async def test_valid_command_reaches_the_handler_with_the_org_from_the_subject():
    reply = await router().dispatch(SUBJECT, body())
    assert reply["ok"] and reply["org"] == "edu-bureau" and reply["semester"] == "2026-autumn"


async def test_reply_carries_the_callers_correlation_id():
    reply = await router().dispatch(SUBJECT, body(), {CORRELATION_HEADER: "corr-1"})
    assert reply["correlation_id"] == "corr-1"


@pytest.mark.parametrize("subject,code", [
    ("jf.cmd.edu-bureau.approvals", "UNKNOWN_COMMAND"),
    ("jf.cmd.edu-bureau.requests.PublishSemesterList", "UNKNOWN_COMMAND"),
    ("jf.cmd.nobody.approvals.PublishSemesterList", "UNKNOWN_ORG"),
    ("jf.cmd.dept-fire.approvals.PublishSemesterList", "FORBIDDEN"),
])
async def test_subject_org_and_kind_are_checked_before_the_payload(subject, code):
    reply = await router().dispatch(subject, b"not even json")
    assert reply["error"]["code"] == code


async def test_size_is_checked_before_anything_is_parsed():
    reply = await router().dispatch(SUBJECT, b"x" * 2048)
    assert reply["error"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_refusal_from_the_domain_becomes_a_structured_reply():
    async def refuse(command, caller):
        raise Refused("INVALID_STATE", "nothing changed since edition 1", "semester")

    reply = await router(refuse).dispatch(SUBJECT, body())
    assert reply == {"ok": False, "error": {"code": "INVALID_STATE", "message": "nothing changed since edition 1",
                                            "field": "semester"}, "correlation_id": reply["correlation_id"]}


async def test_a_bug_in_a_handler_answers_internal_error_and_is_logged_with_the_correlation_id():
    async def crash(command, caller):
        raise KeyError("boom")

    stream = io.StringIO()
    try:
        with redirect_stderr(stream):
            configure_logging("json", "INFO", "approvals")
            structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=stream))
            reply = await router(crash).dispatch(SUBJECT, body(), {CORRELATION_HEADER: "corr-crash"})
    finally:
        configure_logging("console", "WARNING")
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    assert reply["error"]["code"] == "INTERNAL_ERROR"
    failed = next(line for line in lines if line["event"] == "command_failed")
    assert failed["correlation_id"] == "corr-crash" and "KeyError" in failed["exception"]
    assert failed["service"] == "approvals"
    refused = next(line for line in lines if line["event"] == "command_refused")
    assert refused["error_code"] == "INTERNAL_ERROR"


async def test_correlation_id_is_unbound_after_the_command():
    await router().dispatch(SUBJECT, body(), {CORRELATION_HEADER: "corr-2"})
    assert "correlation_id" not in structlog.contextvars.get_contextvars()


async def test_a_store_that_does_not_deliver_answers_unavailable_so_the_caller_retries():
    """Issue 6, finding 5: StoreUnavailable reached callers as INTERNAL_ERROR."""
    from jianfu.events.store import StoreUnavailable

    async def stalled(command, caller):
        raise StoreUnavailable("no event up to 17 on jf.ev.activity.x")

    reply = await router(stalled).dispatch(SUBJECT, body())
    assert reply["error"]["code"] == "UNAVAILABLE"
