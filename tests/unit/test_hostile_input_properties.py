"""Hostile input, generated, against every command and query of every service (issue 5): each
request gets a structured reply, and whatever the edge accepts can be stored for ever.

The routers are the services' own (``interfaces()``) with each handler replaced by a recorder of
what the edge let through, so the properties need no broker and no store and run in seconds.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, note, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from jianfu.cli.asyncapi import interfaces
from jianfu.events.commands import CORRELATION_HEADER, MAX_ERRORS, PERSON_HEADER, Router
from jianfu.events.edge import MAX_CORRELATION_ID, MAX_PERSON, shown
from jianfu.events.errors import ErrorCode
from jianfu.events.schemas.text import TEXT_PATTERN
from jianfu.events.settings import Settings

from tests.factories import DIRECTORY
from tests.hostile import (
    SEEDS,
    Abridged,
    Mutated,
    Raw,
    Repeated,
    any_body,
    as_bytes,
    body_bytes,
    correlation_ids,
    dotted,
    mutated,
    persons,
)

CORRELATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+=-]*")
IN_LINES = re.compile(r"[\x00-\x1f\x7f-\x9f]")
IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
BOUNDED = settings(max_examples=150, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example])


@dataclass
class Recorder:
    """A handler that keeps what the edge let through instead of acting on it."""

    received: list = field(default_factory=list)

    async def __call__(self, command, caller) -> dict:
        self.received.append((command, caller))
        return {}


def recording(router: Router) -> tuple[Router, Recorder]:
    recorder = Recorder()
    routes = {name: replace(route, handler=recorder) for name, route in router.routes.items()}
    return replace(router, routes=routes), recorder


ROUTERS = {name: recording(router) for interface in interfaces(Settings()) for router in interface.routers
           for name in router.routes}
NAMES = sorted(ROUTERS)
ORG_IDS = [org.org_id for org in DIRECTORY.organisations]


def allowed_org(name: str) -> str:
    route = ROUTERS[name][0].routes[name]
    return next(org.org_id for org in DIRECTORY.organisations
                if route.allowed_kinds is None or org.kind in route.allowed_kinds)


def subject_of(name: str, org: str | None = None) -> str:
    router = ROUTERS[name][0]
    return f"jf.{router.kind}.{org or allowed_org(name)}.{router.context}.{name}"


async def dispatch(name: str, subject: str, body: bytes, headers: dict | None) -> tuple[dict, list]:
    router, recorder = ROUTERS[name]
    recorder.received.clear()
    reply = await router.dispatch(subject, body, headers)
    return reply, list(recorder.received)


def assert_structured(reply: dict) -> None:
    """What every caller may rely on, whatever it sent: ok, a short clean correlation id, and on
    refusal a documented code; and a reply the service can send as JSON."""
    if currently_in_test_context():
        event("accepted" if reply.get("ok") else f"refused: {reply.get('error', {}).get('code')}")
    shown = str(reply)[:500]
    assert isinstance(reply, dict) and isinstance(reply["ok"], bool), shown
    assert clean_correlation_id(reply["correlation_id"]), shown
    if not reply["ok"]:
        assert reply["error"]["code"] in set(ErrorCode) and isinstance(reply["error"]["message"], str), shown
    json.dumps(reply, ensure_ascii=False, allow_nan=False).encode("utf-8")


def text_fields(model) -> set[tuple[str, ...]]:
    """Where the model holds ``Text`` (tabs and line breaks allowed); lists as ``*``."""
    schema = model.model_json_schema()
    found: set[tuple[str, ...]] = set()

    def walk(node: dict, path: tuple[str, ...]) -> None:
        if "$ref" in node:
            return walk(schema["$defs"][node["$ref"].rsplit("/", 1)[1]], path)
        if node.get("pattern") == TEXT_PATTERN:
            found.add(path)
        for branch in node.get("anyOf", []):
            walk(branch, path)
        for key, sub in node.get("properties", {}).items():
            walk(sub, (*path, key))
        if isinstance(node.get("items"), dict):
            walk(node["items"], (*path, "*"))

    walk(schema, ())
    return found


def leaves(value: Any, path: tuple[str, ...] = ()):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from leaves(inner, (*path, key))
    elif isinstance(value, list | tuple):
        for inner in value:
            yield from leaves(inner, (*path, "*"))
    else:
        yield path, value


def assert_storable(command, caller) -> None:
    """Storable for ever: finite numbers, no control characters (but tab, CR, LF in ``Text``),
    valid UTF-8 JSON; and the headers that travel into its events bounded and clean."""
    json.dumps(command.model_dump(mode="json"), ensure_ascii=False, allow_nan=False).encode("utf-8")
    texts = text_fields(type(command))
    for path, value in leaves(command.model_dump()):
        assert not isinstance(value, float) or math.isfinite(value), path
        if isinstance(value, str):
            assert not (IN_TEXT if path in texts else IN_LINES).search(value), (path, value[:200])
    assert clean_correlation_id(caller.correlation_id), caller.correlation_id[:200]
    person = caller.person
    clean_person = person is None or (0 < len(person) <= MAX_PERSON and not IN_LINES.search(person))
    assert clean_person, person[:200]


def clean_correlation_id(value: str) -> bool:
    return len(value) <= MAX_CORRELATION_ID and CORRELATION_ID.fullmatch(value) is not None


@pytest.mark.parametrize("name", NAMES)
async def test_every_command_and_query_has_a_valid_body_the_edge_accepts(name):
    reply, received = await dispatch(name, subject_of(name), json.dumps(SEEDS[name]).encode(), None)
    assert reply["ok"] is True and len(received) == 1, reply
    assert_structured(reply)
    assert_storable(*received[0])


def test_every_route_of_every_service_is_fuzzed():
    assert set(NAMES) == set(SEEDS) and {"cmd", "q"} == {router.kind for router, _ in ROUTERS.values()}


def subjects(name: str) -> st.SearchStrategy[str]:
    router = ROUTERS[name][0]
    token = st.one_of(st.text(max_size=12), st.sampled_from([*NAMES, *ORG_IDS, "requests", "*", ">"]))
    org = st.one_of(st.just(allowed_org(name)), st.sampled_from(ORG_IDS), token)
    return st.one_of(
        st.just(subject_of(name)),
        st.builds(lambda o, n: f"jf.{router.kind}.{o}.{router.context}.{n}", org, st.one_of(st.just(name), token)),
        st.lists(token, max_size=7).map(".".join).map(lambda tail: f"jf.{router.kind}.{tail}"),
        st.lists(token, max_size=7).map(".".join),
    )


def headers() -> st.SearchStrategy[dict | None]:
    return st.one_of(st.none(), st.fixed_dictionaries({}, optional={
        CORRELATION_HEADER: correlation_ids, PERSON_HEADER: persons,
        "content-type": st.sampled_from(["application/json", "text/plain", "application/octet-stream"])}))


requests = st.sampled_from(NAMES).flatmap(
    lambda name: st.tuples(st.just(name), subjects(name), any_body(SEEDS[name]), headers()))


@BOUNDED
@given(request=requests)
@example(request=("RequestActivity", subject_of("RequestActivity"), b"{}",
                  {CORRELATION_HEADER: Repeated("x" * 600_000)}))
@example(request=("RequestActivity", subject_of("RequestActivity"), Abridged(b"[" * 30000), None))
@example(request=("GetViolations", "jf.q.edu-bureau.compliance.GetViolations.extra", b"", None))
async def test_every_request_gets_a_structured_reply(request):
    """Whatever the subject tokens, body bytes or headers: never an exception, never a bare value."""
    name, subject, body, sent_headers = request
    reply, received = await dispatch(name, subject, body, sent_headers)
    assert_structured(reply)
    for command, caller in received:
        assert_storable(command, caller)


bodies = st.sampled_from(NAMES).flatmap(lambda name: mutated(SEEDS[name]).flatmap(
    lambda body: st.tuples(st.just(name), st.just(body), body_bytes(body.document))))


def case(name: str, document: dict, fields: dict | None = None, reasons: dict | None = None):
    return name, Mutated(document, fields or {}, {**(fields or {}), **(reasons or {})}), as_bytes(document)


FORM = SEEDS["RequestActivity"]


@BOUNDED
@given(request=bodies)
@example(request=case("RequestActivity", {**FORM, "title": "法治进校园\u0000"}, reasons={("title",): "NUL"}))
@example(request=case("RequestActivity", {**FORM, "budget": {**FORM["budget"], "amount_yuan": Raw("Infinity")}},
                      reasons={("budget", "amount_yuan"): "Infinity"}))
@example(request=case("RequestActivity", {**FORM, "occurrences": "1", "teachers_needed": True},
                      fields={("occurrences",): "a string", ("teachers_needed",): "a boolean"}))
@example(request=case("PublishSemesterList", {**SEEDS["PublishSemesterList"], "x-": None},
                      fields={("x-",): "a key the schema does not have"}))
async def test_whatever_is_accepted_can_be_stored_for_ever_and_nothing_is_coerced(request):
    """A valid body with hostile values mixed in: what holds a value no field may hold, or a value
    of another JSON type than its field's, is refused, each such field named in ``errors``."""
    name, body, encoded = request
    note(f"must be refused for: {body.reasons}")
    reply, received = await dispatch(name, subject_of(name), encoded, None)
    assert_structured(reply)
    if reply["ok"]:
        assert not body.reasons, f"accepted although it holds {body.reasons}"
        assert_storable(*received[0])
        return
    error = reply["error"]
    if error["code"] == ErrorCode.INVALID_FIELD and error.get("errors") and len(error["errors"]) < MAX_ERRORS:
        reported = {e["field"] for e in error["errors"]}
        assert {shown(dotted(path), 200) for path in body.fields} <= reported, "every error at once"


@BOUNDED
@given(name=st.sampled_from(NAMES), sent=headers())
@example(name="RecordActivityHeld", sent={PERSON_HEADER: "王\u0007"})
async def test_headers_that_reach_events_are_validated_and_bounded(name, sent):
    """The correlation id and the person travel into every event: a valid body with any headers is
    either accepted with both clean and bounded, or refused for a header."""
    reply, received = await dispatch(name, subject_of(name), json.dumps(SEEDS[name]).encode(), sent)
    assert_structured(reply)
    if reply["ok"]:
        assert_storable(*received[0])
        sent_id = (sent or {}).get(CORRELATION_HEADER)
        assert reply["correlation_id"] == sent_id or not sent_id, "a valid correlation id is kept"
    else:
        field = reply["error"]["field"]
        assert reply["error"]["code"] == ErrorCode.INVALID_FIELD and (field == "headers" or field.startswith("headers."))
