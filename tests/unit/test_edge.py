"""Raw-byte checks of the command edge (issue 5): bounded before any parser runs."""

from __future__ import annotations

import json

import pytest
from jianfu.events.commands import command_digest, validate
from jianfu.events.edge import (
    CORRELATION_HEADER,
    MAX_DEPTH,
    PERSON_HEADER,
    HeaderRefused,
    check_body,
    read_headers,
)
from jianfu.events.errors import Refused
from jianfu.events.schemas.campus_entry import CertifyActivity, PublishSemesterList

LIMIT = 64 * 1024


def refusal(payload: bytes) -> Refused:
    with pytest.raises(Refused) as caught:
        check_body(payload, LIMIT)
    return caught.value


@pytest.mark.parametrize("payload,code", [
    (b"", "MALFORMED_JSON"), (b" \n\t", "MALFORMED_JSON"), (b"\xc3\x28", "MALFORMED_JSON"),
    (b"[" * (MAX_DEPTH + 1), "MALFORMED_JSON"), (b'{"a":' * 10000, "MALFORMED_JSON"),
    (b'{"n": 1' + b"0" * 30 + b"}", "INVALID_FIELD"), (b'{"n": 1e' + b"9" * 40 + b"}", "INVALID_FIELD"),
    (b"x" * (LIMIT + 1), "PAYLOAD_TOO_LARGE"),
])
def test_bodies_no_parser_should_see_are_refused(payload, code):
    assert refusal(payload).code == code


def test_brackets_and_digits_inside_strings_do_not_count():
    check_body(json.dumps({"title": "[" * 100 + "9" * 100, "n": [[[1]]]}).encode(), LIMIT)


def test_the_deepest_real_command_passes():
    check_body(b'{"scope": {"school_ids": ["a"]}, "budget": {"amount_yuan": 12345678.5}}', LIMIT)


def test_headers_give_the_correlation_id_and_person_or_a_fresh_id():
    given = read_headers({CORRELATION_HEADER: "oa:2026/07/15-17", PERSON_HEADER: " 王警官 "})
    assert given.correlation_id == "oa:2026/07/15-17" and given.person == "王警官"
    fresh = read_headers({})
    assert len(fresh.correlation_id) == 36 and fresh.person is None


@pytest.mark.parametrize("headers", [
    {CORRELATION_HEADER: "x" * 129}, {CORRELATION_HEADER: "has space"}, {CORRELATION_HEADER: "-leading"},
    {CORRELATION_HEADER: "nul\x00"}, {PERSON_HEADER: "p" * 101}, {PERSON_HEADER: "bell\x07"}, {PERSON_HEADER: "   "},
])
def test_malformed_headers_are_refused_with_a_fresh_correlation_id(headers):
    with pytest.raises(HeaderRefused) as caught:
        read_headers(headers)
    assert caught.value.field == f"headers.{next(iter(headers))}" and len(caught.value.fresh_correlation_id) == 36


def test_strict_validation_reports_every_error_with_its_field():
    with pytest.raises(Refused) as caught:
        validate(CertifyActivity, b'{"command_id": "nope", "activity_id": 7, "note": "a\\u0000b", "extra": 1}')
    fields = [e["field"] for e in caught.value.errors]
    assert caught.value.code == "INVALID_FIELD" and caught.value.field == fields[0]
    assert sorted(fields) == ["activity_id", "command_id", "extra", "note"]


def test_the_digest_covers_scope_and_body_but_not_the_command_id():
    one = validate(PublishSemesterList, b'{"command_id": "7d0c5a52-3c57-4d3c-9a43-4f8d0b7c2a11", "semester": "2026-autumn"}')
    two = one.model_copy(update={"command_id": "6f1c8f2e-52a4-4c1e-9f0e-6a3b8d2f0a11"})
    other = one.model_copy(update={"semester": "2027-spring"})
    scope = "edu-bureau/approvals/PublishSemesterList"
    assert command_digest(scope, one) == command_digest(scope, two)
    assert command_digest(scope, one) != command_digest(scope, other)
    assert command_digest(scope, one) != command_digest("edu-bureau/approvals/Other", one)


def test_what_a_client_sent_is_shown_escaped_and_bounded_in_replies():
    with pytest.raises(Refused) as caught:
        validate(PublishSemesterList, json.dumps({"semester": "2026-autumn", "x\u0000\u202e": 1}).encode())
    fields = [e["field"] for e in caught.value.errors]
    assert "x\\u0000\\u202e" in fields and not any("\u0000" in f or "\u202e" in f for f in fields)


async def test_a_long_or_odd_org_id_is_not_echoed_whole():
    from jianfu.events.commands import Router
    from jianfu.events.organisations import OrgKind

    from tests.factories import DIRECTORY

    router = Router("approvals", DIRECTORY)
    router.add(PublishSemesterList, None, {OrgKind.EDUCATION_BUREAU})
    reply = await router.dispatch("jf.cmd." + "o" * 3900 + ".approvals.PublishSemesterList", b"{}")
    assert reply["error"]["code"] == "UNKNOWN_ORG" and len(reply["error"]["message"]) < 200


@pytest.mark.parametrize("payload", [
    b'{"semester": "2026-autumn", "semester": "2027-spring", "command_id": "7d0c5a52-3c57-4d3c-9a43-4f8d0b7c2a11"}',
    b'{"command_id": "7d0c5a52-3c57-4d3c-9a43-4f8d0b7c2a11", "semester": "2026-autumn", "x": {"a": 1, "a": 2}}',
])
def test_a_key_twice_in_one_object_is_ambiguous_and_refused(payload):
    with pytest.raises(Refused) as caught:
        validate(PublishSemesterList, payload)
    assert caught.value.code == "MALFORMED_JSON" and "twice" in caught.value.message
