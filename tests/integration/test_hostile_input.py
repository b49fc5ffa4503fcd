"""Hostile input over real request-reply: every request gets a structured reply at once, and
nothing the log could not hold for ever is accepted (issue 5, findings 1-5)."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
from jianfu.events.answering import serve
from jianfu.events.commands import CORRELATION_HEADER, PERSON_HEADER, Router
from jianfu.events.runtime import make_app, make_broker
from jianfu.events.schemas.campus_entry import GetSemesterList
from jianfu.events.settings import Settings
from jianfu.requests.app import build as build_requests

from tests.apps import command_services
from tests.factories import DIRECTORY, application

POLICE = "jf.cmd.dept-public-security.requests.RequestActivity"
REPLY_WITHIN = 1.0


@pytest.fixture(scope="module")
async def services(nats_server, nc, tmp_path_factory):
    clock: Path = tmp_path_factory.mktemp("clock") / "today"
    clock.write_text("2026-07-10")
    async with command_services(Settings(nats_url=nats_server.url, clock=f"file:{clock}", log_level="WARNING")):
        yield


async def ask(nc, subject: str, body: bytes, headers: dict | None = None) -> dict:
    started = time.monotonic()
    reply = json.loads((await nc.request(subject, body, timeout=REPLY_WITHIN, headers=headers)).data)
    assert time.monotonic() - started < REPLY_WITHIN
    return reply


def form(**overrides) -> bytes:
    return json.dumps(application(**overrides), ensure_ascii=False).encode()


def error(reply: dict) -> dict:
    assert reply["ok"] is False, reply
    return reply["error"]


async def still_serving(nc) -> None:
    assert (await ask(nc, POLICE, form()))["ok"] is True


# Finding 1: a NUL (or any control character) in text would stop the projector on PostgreSQL.
@pytest.mark.parametrize("field,value", [
    ("title", "法治进校园\u0000"), ("title", "two\nlines"), ("content", "bell\u0007"), ("form", "\u009b讲座"),
    ("safety_plan", "esc \u001b[31m"), ("title", "\u202e宣讲abc"), ("content", "正文\u2066隔离"), ("form", "a\u2028b"),
])
async def test_s3_control_characters_in_text_are_refused(services, nc, field, value):
    found = error(await ask(nc, POLICE, form(**{field: value})))
    assert found["code"] == "INVALID_FIELD" and found["field"] == field and "character U+" in found["message"]
    await still_serving(nc)


async def test_s3_line_breaks_are_allowed_in_multi_line_text(services, nc):
    assert (await ask(nc, POLICE, form(content="第一段\n第二段\t（附表）")))["ok"] is True


# Finding 2: a non-finite number was stored as null and poisoned the aggregate.
@pytest.mark.parametrize("raw", [b"Infinity", b"-Infinity", b"NaN", b"1e999", b"100000001"])
async def test_s3_non_finite_or_absurd_amounts_are_refused(services, nc, raw):
    body = form(budget={"amount_yuan": 0, "free_of_charge": True, "commercial_content": False})
    body = body.replace(b'"amount_yuan": 0', b'"amount_yuan": ' + raw)
    found = error(await ask(nc, POLICE, body))
    assert found["code"] == "INVALID_FIELD" and found["field"] == "budget.amount_yuan"


# Finding 3: input that used to get no reply at all.
@pytest.mark.parametrize("body,headers,code", [
    (b"[" * 1000 + b"]" * 1000, None, "MALFORMED_JSON"),
    (b"[" * 30000, None, "MALFORMED_JSON"),
    (b'{"command_id": ' + b"9" * 5000 + b"}", None, "INVALID_FIELD"),
    (b"{not json", {"content-type": "application/json"}, "MALFORMED_JSON"),
    (b"\xff\xfe\xfd", {"content-type": "text/plain"}, "MALFORMED_JSON"),
    (b"", None, "MALFORMED_JSON"),
    (b"   ", {"content-type": "application/json"}, "MALFORMED_JSON"),
])
async def test_bodies_no_parser_should_see_get_a_structured_refusal(services, nc, body, headers, code):
    assert error(await ask(nc, POLICE, body, headers))["code"] == code
    await still_serving(nc)


@pytest.mark.parametrize("subject", [
    "jf.cmd.dept-public-security.nowhere.RequestActivity",
    "jf.cmd.dept-public-security.requests.RequestActivity.extra",
    "jf.cmd.dept-public-security.requests",
    "jf.cmd.dept-public-security",
    "jf.q.edu-bureau.approvals.GetSemesterList",
])
async def test_subjects_no_router_serves_get_unknown_command_not_no_responders(services, nc, subject):
    assert error(await ask(nc, subject, form()))["code"] == "UNKNOWN_COMMAND"


# Finding 4: headers travel into every event, so they are bounded like fields.
@pytest.mark.parametrize("header,value,field", [
    (CORRELATION_HEADER, "x" * 600_000, "headers"), (CORRELATION_HEADER, "x" * 129, f"headers.{CORRELATION_HEADER}"),
    (CORRELATION_HEADER, "a b", f"headers.{CORRELATION_HEADER}"),
    (CORRELATION_HEADER, "id\u0000", f"headers.{CORRELATION_HEADER}"), (PERSON_HEADER, "p" * 300_000, "headers"),
    (PERSON_HEADER, "王\u0007", f"headers.{PERSON_HEADER}"), ("X-Big", "a" * 1_000_000, "headers"),
])
async def test_s3_oversized_or_odd_headers_are_refused_and_never_stored(services, nc, store, header, value, field):
    found = error(await ask(nc, POLICE, form(), {header: value}))
    assert found["code"] == "INVALID_FIELD" and found["field"] == field
    await still_serving(nc)


async def test_request_headers_are_not_copied_into_the_reply(services, nc):
    reply = await nc.request(POLICE, form(), timeout=REPLY_WITHIN, headers={"X-Echo": "e" * 3000})
    assert json.loads(reply.data)["ok"] is True and "X-Echo" not in (reply.headers or {})


async def raw_request(nats_server, wire: bytes, inbox: str) -> dict:
    """A request written on the wire by hand: what nats-py itself refuses to send."""
    import asyncio

    host, port = nats_server.url.removeprefix("nats://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    await reader.readline()  # INFO
    writer.write(b'CONNECT {"verbose":false,"headers":true,"protocol":1}\r\nSUB ' + inbox.encode() + b" 1\r\n" + wire)
    await writer.drain()
    try:
        while True:
            line = await asyncio.wait_for(reader.readline(), REPLY_WITHIN)
            if line.startswith((b"MSG", b"HMSG")):
                size = int(line.split()[-1])
                body = (await reader.readexactly(size + 2))[:-2]
                return json.loads(body[body.find(b"{"):])
            if line.startswith(b"PING"):
                writer.write(b"PONG\r\n")
    finally:
        writer.close()


@pytest.mark.parametrize("wire", [
    b"PUB jf.cmd.dept-public-security.requests.\xff _INBOX.r1 2\r\n{}\r\n",
    b"HPUB jf.cmd.dept-public-security.requests.RequestActivity _INBOX.r1 8 10\r\nNATS/1.0{}\r\n",
    b"HPUB jf.cmd.dept-public-security.requests.RequestActivity _INBOX.r1 18 20\r\nNATS/1.0 503 \xff\r\n\r\n{}\r\n",
    b"PUB jf.cmd.dept-public-security.requests.Request\x0bActivity _INBOX.r1 2\r\n{}\r\n",
])
async def test_messages_nats_py_could_not_parse_get_an_answer_and_cost_nothing_else(services, nats_server, nc, wire):
    reply = await raw_request(nats_server, wire, "_INBOX.r1")
    assert reply["ok"] is False and reply["error"]["code"] in ("UNKNOWN_COMMAND", "INVALID_FIELD")
    await still_serving(nc)


async def test_a_valid_correlation_id_and_person_reach_the_event(services, nc, store):
    reply = await ask(nc, POLICE, form(), {CORRELATION_HEADER: "oa-2026:0715/17", PERSON_HEADER: "王警官"})
    stored = (await store.load("activity", reply["activity_id"])).events[0].envelope
    assert stored.correlation_id == "oa-2026:0715/17" and stored.actor.person == "王警官"


# Finding 5: types are never coerced, and every error comes back at once.
@pytest.mark.parametrize("field,value", [
    ("occurrences", "1"), ("occurrences", True), ("occurrences", 1.5), ("teacher_hours", "1.5"),
    ("duration_minutes", "45"),
])
async def test_s3_coercible_values_of_the_wrong_type_are_refused(services, nc, field, value):
    found = error(await ask(nc, POLICE, form(**{field: value})))
    assert found["code"] == "INVALID_FIELD" and found["field"] == field


async def test_a_string_is_not_taken_for_a_boolean(services, nc):
    body = form(budget={"amount_yuan": 0, "free_of_charge": "yes", "commercial_content": False})
    assert error(await ask(nc, POLICE, body))["field"] == "budget.free_of_charge"


async def test_every_validation_error_is_returned_at_once(services, nc):
    body = {k: v for k, v in application().items() if k not in ("title", "content", "form")}
    found = error(await ask(nc, POLICE, json.dumps({**body, "occurrences": "x"}).encode()))
    fields = {e["field"] for e in found["errors"]}
    assert fields == {"title", "content", "form", "occurrences"} and found["field"] in fields


async def test_a_refused_command_records_nothing(services, nc, store):
    command_id = str(uuid.uuid4())
    error(await ask(nc, POLICE, form(command_id=command_id, title="x\u0000y")))
    accepted = await ask(nc, POLICE, form(command_id=command_id, title="  同一编号的正确申报  "))
    assert accepted["ok"] is True  # not COMMAND_ID_REUSED: the refused body left no trace
    [stored] = (await store.load("activity", accepted["activity_id"])).envelopes
    assert stored.data["title"] == "同一编号的正确申报"  # and surrounding spaces are trimmed


async def test_health_answers_ok_only_when_the_event_log_answers(services, nats_server, nc):
    reply = json.loads((await nc.request("jf.sys.health.requests", b"", timeout=REPLY_WITHIN)).data)
    assert reply["ok"] is True and reply["service"] == "requests"
    elsewhere = build_requests(Settings(nats_url=nats_server.url, stream="NO_SUCH_STREAM", log_level="WARNING"))
    await elsewhere.start()
    try:
        replies = []
        sub = await nc.subscribe("_INBOX.health.>")
        await nc.publish("jf.sys.health.requests", b"", reply="_INBOX.health.1")
        while len(replies) < 2:
            replies.append(json.loads((await sub.next_msg(timeout=REPLY_WITHIN)).data))
        await sub.unsubscribe()
    finally:
        await elsewhere.stop()
    assert sorted(r["ok"] for r in replies) == [False, True]
    assert next(r for r in replies if not r["ok"])["error"]["code"] == "UNAVAILABLE"


async def test_an_answer_too_large_for_the_broker_becomes_a_structured_error(services, nats_server, nc):
    async def huge(query, caller):
        return {"items": ["长" * 1000] * 1000}  # ~3 MB of JSON, over the broker's 1 MB limit

    router = Router("compliance", DIRECTORY, kind="q")
    router.add(GetSemesterList, huge)
    broker = make_broker(Settings(nats_url=nats_server.url))
    app = make_app(broker)
    serve(broker, router, "oversized-answers")
    await app.start()
    try:
        reply = await ask(nc, "jf.q.edu-bureau.compliance.GetSemesterList", b'{"semester": "2026-autumn"}')
    finally:
        await app.stop()
    assert error(reply)["code"] == "REPLY_TOO_LARGE" and reply["correlation_id"]


@pytest.mark.parametrize("semester", ["２０２６-autumn", "٢٠٢٦-autumn"])
async def test_s3_a_semester_is_written_in_ascii_digits_or_refused(services, nc, semester):
    found = error(await ask(nc, POLICE, form(target_semester=semester)))
    assert (found["code"], found["field"]) == ("INVALID_FIELD", "target_semester")


@pytest.mark.parametrize("reply_to", ["jf.ev.violation.v-planted", "jf.alert.edu-bureau.reminder.fake",
                                      "jf.cmd.edu-bureau.approvals.PublishSemesterList", "$JS.API.STREAM.INFO.X"])
async def test_a_reply_subject_outside_the_inboxes_is_never_answered(services, nc, js, reply_to):
    before = (await js.stream_info("JIANFU_EVENTS")).state.last_seq
    seen = await nc.subscribe(reply_to)
    await nc.publish("jf.cmd.dept-public-security.requests.RequestActivity", b"{}", reply=reply_to)
    await nc.publish("jf.q.dept-public-security.nowhere.X", b"{}", reply=reply_to)
    with pytest.raises(Exception):  # noqa: B017 - nothing arrives: nats' TimeoutError
        await seen.next_msg(timeout=0.5)
    await seen.unsubscribe()
    assert (await js.stream_info("JIANFU_EVENTS")).state.last_seq == before
    await still_serving(nc)


def hpub(headers: bytes, body: bytes = b"{}") -> bytes:
    block = b"NATS/1.0\r\n" + headers + b"\r\n"
    return (b"HPUB jf.cmd.dept-public-security.requests.RequestActivity _INBOX.r1 %d %d\r\n" % (
        len(block), len(block) + len(body))) + block + body + b"\r\n"


@pytest.mark.parametrize("headers,flaw", [
    (b"Jf-Correlation-Id: first\r\nJf-Correlation-Id: second\r\n", "given twice"),
    (b"X-Same: v\r\n" * 2000, "larger than"),
    (b"Jf-Person: \xff\xfe\r\n", "not UTF-8"),
])
async def test_header_blocks_nats_py_would_fold_silently_are_refused(services, nats_server, nc, headers, flaw):
    reply = await raw_request(nats_server, hpub(headers), "_INBOX.r1")
    assert reply["error"]["field"] == "headers" and flaw in reply["error"]["message"]


@pytest.mark.parametrize("person", ["王\u202e警官", "a\u2028b", "\u200b"])
async def test_s3_a_person_header_with_formatting_characters_is_refused(services, nc, person):
    found = error(await ask(nc, POLICE, form(), {PERSON_HEADER: person}))
    assert found["field"] == f"headers.{PERSON_HEADER}"


@pytest.mark.parametrize("field", ["title", "content"])
async def test_s3_text_of_nothing_visible_is_refused(services, nc, field):
    found = error(await ask(nc, POLICE, form(**{field: "\u200b\u200b\u200b"})))
    assert (found["field"], "visible") == (field, "visible" if "visible" in found["message"] else found["message"])


async def test_a_clock_file_that_holds_no_date_makes_commands_unavailable_not_internal_errors(tmp_path):
    from tests.poison import own_log  # a server of its own: no other requests replica may answer

    clock = tmp_path / "today"
    clock.write_text("not a date")
    async with own_log(tmp_path / "nats") as log, command_services(
            Settings(nats_url=log.url, clock=f"file:{clock}", log_level="ERROR")):
        broken = await ask(log.nc, POLICE, form())
        clock.write_text("2026-07-10")
        mended = await ask(log.nc, POLICE, form())
    assert error(broken)["code"] == "UNAVAILABLE" and mended["ok"] is True
