"""Hardening of the nats-py client against messages any organisation can publish.

nats-py 2.16 decodes every delivered subject as UTF-8 and parses header blocks with the email
parser; when either raises, its read loop ends while the connection still reports itself
connected: the service stays up and hears nothing again (no reconnect, no closed callback).
And its protocol regexes split on every ASCII whitespace byte, so a subject holding a vertical
tab, which the server accepts, is taken for a protocol error and drops the connection.

``tolerate_malformed_messages`` also parses header lines without nats-py's per-character
generator (``parse_header_lines``), and makes one bad message cost only itself: a subject that is not
UTF-8 is decoded with replacement characters (the router then refuses it as unknown), a header
block that cannot be parsed becomes ``{MALFORMED_HEADERS: ...}`` (the router refuses it), and
anything else that fails while one message is handed over is logged and that message dropped.
The parser has already moved past the message when it is handed over, so dropping is safe.
"""

from __future__ import annotations

import re

import structlog
from jianfu.events.edge import MALFORMED_HEADERS, MAX_HEADER_BYTES
from nats.aio.client import Client
from nats.protocol import parser

log = structlog.get_logger("jianfu.wire")

# The server separates the arguments of MSG and HMSG by spaces and tabs only.
_TOKEN = rb"[^ \t\r\n]+"
_MSG_RE = re.compile(rb"\AMSG[ \t]+(%s)[ \t]+(%s)[ \t]+((%s)[ \t]+)?(\d+)\r\n" % (_TOKEN, _TOKEN, _TOKEN))
_HMSG_RE = re.compile(rb"\AHMSG[ \t]+(%s)[ \t]+(%s)[ \t]+((%s)[ \t]+)?(\d+)[ \t]+(\d+)\r\n" % (_TOKEN, _TOKEN, _TOKEN))


def tolerate_malformed_messages(nc: Client) -> Client:
    """Harden ``nc`` (idempotent); returns it."""
    if getattr(nc, "_jianfu_tolerant", False):
        return nc
    parser.MSG_RE, parser.HMSG_RE = _MSG_RE, _HMSG_RE
    process_headers, build_message, process_msg = nc._process_headers, nc._build_message, nc._process_msg

    async def headers_or_marker(headers):
        flaw = header_block_flaw(headers)
        if flaw:
            return {MALFORMED_HEADERS: flaw}
        try:
            return await process_headers(headers)
        except Exception as error:  # noqa: BLE001 - any parse failure means "malformed"
            return {MALFORMED_HEADERS: f"does not parse ({type(error).__name__})"}

    def build_with_readable_subjects(sid, subject: bytes, reply: bytes, data, headers):
        return build_message(sid, _readable(subject), _readable(reply), data, headers)

    async def process_or_drop(sid, subject, reply, data, headers):
        try:
            await process_msg(sid, subject, reply, data, headers)
        except Exception as error:  # noqa: BLE001 - one message must never end the read loop
            log.error("malformed_message_dropped", subject=bytes(subject[:200]).decode("utf-8", "replace"),
                      error=repr(error))

    nc._process_headers = headers_or_marker
    nc._parse_header_lines = parse_header_lines
    nc._build_message = build_with_readable_subjects
    nc._process_msg = process_or_drop
    nc._jianfu_tolerant = True
    return nc


_WHITESPACE = re.compile(r"\s")  # in a str pattern: exactly the characters str.isspace() accepts


def parse_header_lines(raw: bytes) -> dict[str, str]:
    """nats-py's ``Client._parse_header_lines``, with the same result, without a generator per
    header name: its ``any(c.isspace() for c in key)`` ran once per character of every header of
    every message and was the largest single cost of reading the log (58 % of loading an
    aggregate of 200 events, 2 s of an 18 s rebuild profile: docs/benchmarks.md)."""
    out: dict[str, str] = {}
    for line in raw.split(b"\r\n"):
        if not line:
            continue
        name, sep, value = line.partition(b":")
        if not sep:
            continue
        try:
            key = name.strip().decode("ascii")
        except UnicodeDecodeError:
            continue
        if _WHITESPACE.search(key):
            continue
        out[key] = value.strip().decode("utf-8", "replace")
    return out


def header_block_flaw(block: bytes | None) -> str | None:
    """What is wrong with a raw header block before nats-py folds it into a dict, where a
    repeated header would silently keep its last value, bytes that are not UTF-8 would become
    replacement characters, and a thousand repeated lines would shrink to one."""
    if not block:
        return None
    if len(block) > MAX_HEADER_BYTES:
        return f"larger than {MAX_HEADER_BYTES} bytes"
    try:
        lines = block.decode("utf-8").split("\r\n")[1:]
    except UnicodeDecodeError:
        return "not UTF-8"
    names = [line.split(":", 1)[0].strip().lower() for line in lines if ":" in line]
    repeated = sorted({name for name in names if name.startswith("jf-") and names.count(name) > 1})
    return f"{repeated[0]} given twice" if repeated else None


def _readable(subject: bytes) -> bytes:
    try:
        subject.decode("utf-8")
        return subject
    except UnicodeDecodeError:
        return subject.decode("utf-8", "replace").encode("utf-8")
