"""The faster header parser of ``wire.py`` gives exactly what nats-py's own gives, for any
header block a publisher can send (issue 7: it is on the path of every message read)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from jianfu.events.wire import parse_header_lines, tolerate_malformed_messages
from nats.aio.client import Client

# Header-ish bytes: names and values with every kind of whitespace, colons, CRLFs, non-ASCII.
pieces = st.sampled_from([b"Nats-Msg-Id", b"Jf-Event-Type", b":", b": ", b"\r\n", b" ", b"\t", b"\x0b", b"\x1c",
                          b"\xe4\xb8\xad", b"\xff", b"value", b"a b", b"", b"NATS/1.0"])
blocks = st.lists(pieces, max_size=40).map(b"".join) | st.binary(max_size=200)


@given(blocks)
def test_the_header_parser_equals_nats_py_s(block):
    assert parse_header_lines(block) == Client._parse_header_lines(block)


def test_a_hardened_client_parses_headers_with_it():
    assert tolerate_malformed_messages(Client())._parse_header_lines is parse_header_lines
    assert parse_header_lines(b"Nats-Msg-Id: 1\r\nJf-Event-Type:ActivityRequested\r\nBad Name: x\r\n") == {
        "Nats-Msg-Id": "1", "Jf-Event-Type": "ActivityRequested"}
