"""Generated hostile requests over real NATS (issue 5): the requests, approvals and compliance
services run in-process against the session's nats-server and PostgreSQL; random subjects under
``jf.cmd.>`` and ``jf.q.>``, random bodies and header blocks are sent byte for byte; every
request is answered within a second with structured JSON, and afterwards the services still serve.

Requests go out on a connection that writes the NATS protocol itself: nats-py refuses to send a
subject that is not UTF-8 or a malformed header block, but a hostile client need not use nats-py,
and the broker delivers both.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from jianfu.approvals.app import interface as approvals_interface
from jianfu.compliance.app import build as build_compliance
from jianfu.compliance.settings import ComplianceSettings
from jianfu.events.commands import CORRELATION_HEADER, PERSON_HEADER
from jianfu.events.edge import MAX_CORRELATION_ID
from jianfu.events.errors import ErrorCode, RefusalCode
from jianfu.events.runtime import Interface, connected_deps, launch, make_app, make_broker
from jianfu.events.settings import Settings
from jianfu.notifications.app import ladder_router
from jianfu.requests.app import interface as requests_interface

from tests.conftest import fresh_database
from tests.factories import DIRECTORY, application
from tests.hostile import SEEDS, Abridged, abridged, any_body, correlation_ids, persons

REPLY_WITHIN = 1.0
POLICE = b"jf.cmd.dept-public-security.requests.RequestActivity"
CODES = {*ErrorCode, *RefusalCode}


@pytest.fixture(scope="module")
async def services(nats_server, tmp_path_factory):
    clock: Path = tmp_path_factory.mktemp("clock") / "today"
    clock.write_text("2026-07-10")
    settings = Settings(nats_url=nats_server.url, clock=f"file:{clock}", log_level="WARNING")
    async with fresh_database("fuzz") as url:
        compliance = ComplianceSettings(nats_url=nats_server.url, database_url=url, clock=f"file:{clock}",
                                        log_level="WARNING", projector_durable=f"fuzz-{uuid.uuid4().hex[:8]}")
        apps = [serving(settings, requests_interface), serving(settings, approvals_interface), build_compliance(compliance),
                serving(settings, notifications_commands)]
        for app in apps:
            await app.start()
        yield
        for app in apps:
            await app.stop()


def notifications_commands(deps, settings: Settings) -> Interface:
    """Notifications' G2 commands alone: its consumers would act on the session log's violations."""
    return Interface("notifications", "G2 commands", routers=(ladder_router(deps, settings),))


def serving(settings: Settings, interface):
    """The service as ``service_app`` builds it, but without its exit on a connection closed for
    good: an input that closes one must fail this test, not end the whole test run."""
    broker = make_broker(settings)
    app = make_app(broker)
    launch(broker, settings, interface(connected_deps(app, broker, settings), settings))
    return app


class RawClient:
    """Writes the NATS protocol itself, so subjects and header blocks reach the broker as given."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, url: str) -> RawClient:
        address = urlparse(url)
        reader, writer = await asyncio.open_connection(address.hostname, address.port)
        await reader.readline()  # INFO
        writer.write(b'CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\n')
        return cls(reader, writer)

    async def publish(self, subject: bytes, reply: bytes, header_block: bytes | None, body: bytes) -> None:
        """Publish, then wait for the broker's PONG: it took the message and passed it on."""
        if header_block is None:
            command = b"PUB %s %s %d\r\n" % (subject, reply, len(body))
        else:
            command = b"HPUB %s %s %d %d\r\n" % (subject, reply, len(header_block), len(header_block) + len(body))
            body = header_block + body
        self.writer.write(command + body + b"\r\nPING\r\n")
        await self.writer.drain()
        while (answer := await asyncio.wait_for(self.reader.readline(), REPLY_WITHIN)) == b"PING\r\n":
            self.writer.write(b"PONG\r\n")  # the broker checks on its clients too
        assert answer == b"PONG\r\n", f"the broker refused the message: {answer!r}"

    def close(self) -> None:
        self.writer.close()


async def ask(raw: RawClient, nc, subject: bytes, header_block: bytes | None, body: bytes) -> dict:
    inbox = nc.new_inbox()
    answers = await nc.subscribe(inbox, max_msgs=1)
    await nc.flush()
    started = time.monotonic()
    await raw.publish(subject, inbox.encode(), header_block, body)
    try:
        reply = await answers.next_msg(timeout=REPLY_WITHIN)
    except TimeoutError:
        await answers.unsubscribe()
        raise AssertionError(f"no reply within {REPLY_WITHIN} s") from None
    assert time.monotonic() - started < REPLY_WITHIN
    return json.loads(reply.data)


def assert_structured(reply: dict) -> None:
    shown = str(reply)[:500]
    assert isinstance(reply, dict) and isinstance(reply["ok"], bool), shown
    assert isinstance(reply["correlation_id"], str) and len(reply["correlation_id"]) <= MAX_CORRELATION_ID, shown
    assert reply["ok"] or reply["error"]["code"] in CODES, shown


# Subjects: any token the broker delivers (no whitespace, no empty token; a '.' only between
# tokens), known and unknown organisations, contexts and names (SEEDS names every command and
# query), too few or too many tokens.
WORDS = sorted({*SEEDS, *(org.org_id for org in DIRECTORY.organisations),
                "requests", "approvals", "compliance", "notifications", "nowhere", "*", ">"})


def deliverable(token: bytes) -> bool:
    return not set(token) & set(b" \t\r\n.")


tokens = st.one_of(st.sampled_from(WORDS).map(str.encode), st.binary(min_size=1, max_size=12).filter(deliverable),
                   st.text(min_size=1, max_size=8).map(str.encode).filter(deliverable))
subjects = st.builds(lambda kind, tail: b".".join([b"jf", kind, *tail]), st.sampled_from([b"cmd", b"q"]),
                     st.one_of(st.lists(tokens, min_size=1, max_size=6),
                               st.tuples(tokens, st.sampled_from(WORDS).map(str.encode), tokens).map(list)))


def header_line(name: str, value: bytes) -> bytes:
    return name.encode() + b": " + value + b"\r\n"


LINE_SAFE = st.binary(max_size=40).filter(lambda value: b"\r" not in value and b"\n" not in value)
header_values = st.one_of(LINE_SAFE, st.one_of(correlation_ids, persons).map(
    lambda value: value.encode("utf-8", "surrogatepass").replace(b"\r", b"").replace(b"\n", b"")))
header_blocks = st.one_of(
    st.none(),
    st.lists(st.tuples(st.sampled_from([CORRELATION_HEADER, PERSON_HEADER, "content-type", "X-Odd"]),
                       header_values), max_size=3)
    .map(lambda lines: abridged(b"NATS/1.0\r\n" + b"".join(header_line(*line) for line in lines) + b"\r\n")),
    st.binary(min_size=1, max_size=12),  # a block the broker passes on but no header parser expects
    LINE_SAFE.map(lambda status: b"NATS/1.0 " + status + b"\r\n\r\n"),
)
BROKER_LIMIT = 1_000_000  # below the broker's max_payload, which counts headers too
requests = st.tuples(subjects, header_blocks, st.sampled_from(sorted(SEEDS)).flatmap(lambda n: any_body(SEEDS[n]))) \
    .filter(lambda request: len(request[1] or b"") + len(request[2]) < BROKER_LIMIT)

HUGE_CORRELATION_ID = Abridged(b"NATS/1.0\r\n" + header_line(CORRELATION_HEADER, b"x" * 600_000) + b"\r\n")
FUZZ = settings(max_examples=150, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large,
                                       HealthCheck.large_base_example])


async def still_serving(nc) -> None:
    reply = json.loads((await nc.request(POLICE.decode(), json.dumps(application()).encode(), timeout=2)).data)
    assert reply["ok"] is True, reply


async def test_every_hostile_request_is_answered_and_the_services_still_serve(services, nats_server, nc):
    loop = asyncio.get_running_loop()
    raw = await RawClient.connect(nats_server.url)

    @FUZZ
    @given(request=requests)
    # Bodies no parser should see, a context nobody serves, headers no event may hold:
    # unanswered or fatal before the strict edge (issue 5, findings 3 and 4).
    @example(request=(POLICE, None, Abridged(b"[" * 30000)))
    @example(request=(b"jf.cmd.dept-public-security.nowhere.RequestActivity", None, b"{}"))
    @example(request=(POLICE + b".extra", b"NATS/1.0\r\ncontent-type: application/json\r\n\r\n", b"{not json"))
    @example(request=(POLICE, HUGE_CORRELATION_ID, b"{}"))
    # Unanswered today, so kept until the runtime copes: nats-py (the services' client) stops
    # reading for good, the connection still "connected", on a subject or a header status that is
    # not UTF-8 or on a header block of 8 bytes or fewer; a vertical tab in a subject drops the
    # connection until it reconnects.
    @example(request=(b"jf.cmd.dept-public-security.requests.\xff", None, b"{}"))
    @example(request=(b"jf.cmd.dept-public-security.requests.Request\x0bActivity", None, b"{}"))
    @example(request=(POLICE, b"NATS/1.0", b"{}"))
    @example(request=(POLICE, b"NATS/1.0 503 \xff\r\n\r\n", b"{}"))
    def exchange(request):
        subject, header_block, body = request
        reply = asyncio.run_coroutine_threadsafe(ask(raw, nc, subject, header_block, body), loop)
        assert_structured(reply.result(timeout=REPLY_WITHIN * 3))

    try:
        await asyncio.to_thread(exchange)
    finally:
        raw.close()
    await still_serving(nc)
