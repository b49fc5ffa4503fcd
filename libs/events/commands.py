"""Commands and queries over NATS request-reply: ``jf.cmd.<org_id>.<context>.<command>`` and
``jf.q.<org_id>.<context>.<query>``.

``Router.dispatch`` turns any message into a reply and never raises: the org comes from the
subject (the broker's permissions tie it to the caller), the directory gives its kind, the
raw bytes are checked before any parser runs (``edge.py``), the body is validated strictly
against the route's model, and every refusal becomes
``{"ok": false, "error": {"code", "message", "field"?, "errors"?}}``, logged with the
correlation id.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from jianfu.events.edge import (
    CORRELATION_HEADER,
    PERSON_HEADER,
    HeaderRefused,
    Provenance,
    check_body,
    check_size,
    read_headers,
    shown,
)
from jianfu.events.envelope import Actor
from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.ledger import CommandLedger
from jianfu.events.logging import bind_correlation, unbind_correlation
from jianfu.events.organisations import Directory, Organisation, OrgKind
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.base import Command
from jianfu.events.store import ConcurrencyConflict, StoreUnavailable
from nats.errors import Error as NatsError
from pydantic import BaseModel, ValidationError

__all__ = ["CORRELATION_HEADER", "PERSON_HEADER", "Caller", "Router", "command_context", "validate"]

log = structlog.get_logger("jianfu.commands")

SERVED_CONTEXTS: dict[str, frozenset[str]] = {
    "cmd": frozenset({"requests", "approvals", "notifications"}),
    "q": frozenset({"compliance"}),
}
"""The bounded contexts that answer commands and queries; anything else is refused as unknown."""


@dataclass(frozen=True)
class Caller:
    """The organisation a command came from, as proven by its subject."""

    org: Organisation
    correlation_id: str
    person: str | None = None
    context: str = ""
    command: str = ""
    sent: BaseModel | None = field(default=None, repr=False, compare=False)
    """The validated command this caller sent, with its ``digest`` as the router computed it for
    the ledger: ``command_context`` reuses it for that very command instead of hashing again."""
    digest: str | None = None

    @property
    def scope(self) -> str:
        """Where a command id is unique: this organisation's command of this context."""
        return command_scope(self.org.org_id, self.context, self.command)


def command_scope(org_id: str, context: str, command: str) -> str:
    return f"{org_id}/{context}/{command}"


Handler = Callable[[Any, Caller], Awaitable[Mapping[str, Any]]]


@dataclass(frozen=True)
class Route:
    name: str
    model: type[BaseModel]
    handler: Handler
    allowed_kinds: frozenset[OrgKind] | None
    description: str
    reply_model: type[BaseModel] | None = None
    max_payload_bytes: int | None = None  # this command's own limit, else the router's


@dataclass
class Router:
    """The commands (``kind="cmd"``) or queries (``kind="q"``) of one bounded context."""

    context: str
    directory: Directory
    kind: str = "cmd"
    max_payload_bytes: int = 64 * 1024
    routes: dict[str, Route] = field(default_factory=dict)
    ledger: CommandLedger | None = None

    @property
    def subject(self) -> str:
        return f"jf.{self.kind}.*.{self.context}.*"

    @property
    def _largest_payload(self) -> int:
        """What any command may carry: checked before the body's route is known."""
        return max([self.max_payload_bytes, *(route.max_payload_bytes or 0 for route in self.routes.values())])

    def add(
        self,
        model: type[BaseModel],
        handler: Handler,
        allowed_kinds: Iterable[OrgKind] | None = None,
        reply_model: type[BaseModel] | None = None,
        max_payload_bytes: int | None = None,
    ) -> None:
        """``max_payload_bytes`` lets one command carry more than the router's limit (a whole catalogue)."""
        name = model.__name__
        self.routes[name] = Route(
            name=name,
            model=model,
            handler=handler,
            allowed_kinds=frozenset(allowed_kinds) if allowed_kinds is not None else None,
            description=(model.__doc__ or "").strip(),
            reply_model=reply_model,
            max_payload_bytes=max_payload_bytes,
        )

    async def dispatch(self, subject: str, payload: bytes, headers: Mapping[str, str] | None = None) -> dict:
        """The reply to one request, whatever it holds; never raises."""
        started = time.perf_counter()
        try:
            provenance = read_headers(headers)
        except HeaderRefused as refusal:
            provenance, reply = Provenance(refusal.fresh_correlation_id, None), refusal.as_reply()
        else:
            bind_correlation(provenance.correlation_id, subject=subject)
            try:
                reply = await self._dispatch(subject, payload, provenance)
            finally:
                unbind_correlation("subject")
        reply["correlation_id"] = provenance.correlation_id
        _log_outcome(reply, subject, round((time.perf_counter() - started) * 1000, 2))
        return reply

    async def _dispatch(self, subject: str, payload: bytes, provenance: Provenance) -> dict:
        try:
            route, caller, command = self._parse(subject, payload, provenance)
            if self.ledger is not None and caller.digest is not None:
                await self.ledger.claim(f"{caller.scope}/{command.command_id}", caller.digest)
            result = await route.handler(command, caller)
            return {"ok": True, **result}
        except Refused as refusal:
            return refusal.as_reply()
        except ConcurrencyConflict:
            return Refused(ErrorCode.CONCURRENCY_EXHAUSTED, "too many concurrent changes; retry the command").as_reply()
        except (TimeoutError, ConnectionError, OSError, StoreUnavailable, NatsError) as error:
            log.error("dependency_unavailable", error=repr(error))
            return Refused(ErrorCode.UNAVAILABLE, "a dependency did not answer; retry the command").as_reply()
        except Exception:  # noqa: BLE001 - the adapter must answer; the traceback is logged
            log.exception("command_failed")
            return Refused(ErrorCode.INTERNAL_ERROR, "internal error; it has been logged").as_reply()

    def _parse(self, subject: str, payload: bytes, provenance: Provenance):
        parts = subject.split(".")
        if len(parts) != 5 or parts[1] != self.kind or parts[3] != self.context:
            raise Refused(ErrorCode.UNKNOWN_COMMAND, f"subject must be jf.{self.kind}.<org_id>.{self.context}.<name>")
        org_id, name = parts[2], parts[4]
        check_size(payload, self._largest_payload)
        org = self.directory.get(org_id)
        if org is None:
            raise Refused(ErrorCode.UNKNOWN_ORG, f"organisation '{shown(org_id)}' is not in the directory", "org_id")
        route = self.routes.get(name)
        if route is None:
            known = ", ".join(sorted(self.routes))
            raise Refused(ErrorCode.UNKNOWN_COMMAND, f"'{shown(name)}' is not a {self.context} {self.kind}; known: {known}")
        if route.allowed_kinds is not None and org.kind not in route.allowed_kinds:
            allowed = ", ".join(sorted(route.allowed_kinds))
            raise Refused(ErrorCode.FORBIDDEN, f"{org.kind} may not {name}; allowed: {allowed}", "org_id")
        check_body(payload, route.max_payload_bytes or self.max_payload_bytes)
        command = validate(route.model, payload)
        scope = command_scope(org.org_id, self.context, name)
        digest = command_digest(scope, command) if isinstance(command, Command) else None
        caller = Caller(org, provenance.correlation_id, provenance.person, self.context, name, command, digest)
        return route, caller, command


MAX_ERRORS = 50


def validate(model: type[BaseModel], payload: bytes) -> BaseModel:
    """The command or query in ``payload`` (already past ``check_body``), validated strictly:
    a string is never taken for a number, a number never for a boolean, no NaN or Infinity.
    Every error is reported at once, the first one also as ``field``."""
    _refuse_duplicate_keys(payload)
    try:
        return model.model_validate_json(payload, strict=True)
    except ValidationError as error:
        raise _refusal(error) from None


def _refuse_duplicate_keys(payload: bytes) -> None:
    """JSON lets a key appear twice and parsers disagree on which one wins (ours takes the last,
    a proxy may read the first): such a body is ambiguous, so it is refused. Depth and number
    length were bounded before, so this parse is cheap and safe."""

    def no_duplicates(pairs: list[tuple[str, object]]) -> dict:
        found = dict(pairs)
        if len(found) != len(pairs):
            keys = [key for key, _ in pairs]
            twice = next(key for key in keys if keys.count(key) > 1)
            raise Refused(ErrorCode.MALFORMED_JSON, f"the key '{shown(twice)}' appears twice in one object")
        return found

    try:
        json.loads(payload, object_pairs_hook=no_duplicates)
    except ValueError:
        pass  # not JSON at all: the schema validation below says so


def _refusal(error: ValidationError) -> Refused:
    found = error.errors(include_url=False, include_input=False, include_context=False)
    if any(e["type"] == "json_invalid" for e in found):
        return Refused(ErrorCode.MALFORMED_JSON, f"payload is not valid JSON: {found[0]['msg']}")
    if found[0]["type"] == "model_type" and not found[0]["loc"]:
        return Refused(ErrorCode.MALFORMED_JSON, "payload must be a JSON object")
    errors = [{"field": shown(".".join(str(part) for part in e["loc"]), 200) or "payload", "message": e["msg"]}
              for e in found[:MAX_ERRORS]]
    first = errors[0]
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    return Refused(ErrorCode.INVALID_FIELD, f"{first['field']}: {first['message']}{more}", first["field"], errors)


def _log_outcome(reply: dict, subject: str, elapsed_ms: float) -> None:
    if reply["ok"]:
        log.info("command_handled", elapsed_ms=elapsed_ms, correlation_id=reply["correlation_id"], subject=subject)
        return
    details = {f"error_{k}": v for k, v in reply["error"].items() if k != "errors"}
    log.warning("command_refused", elapsed_ms=elapsed_ms, correlation_id=reply["correlation_id"], subject=subject,
                **details)


def command_context(caller: Caller, command: Command, policy_version: str, now: datetime) -> CommandContext:
    """The context every event of one command shares: actor, scoped ids, body digest, policy."""
    actor = Actor(org_id=caller.org.org_id, org_kind=caller.org.kind, person=caller.person)
    digest = caller.digest if caller.sent is command and caller.digest else command_digest(caller.scope, command)
    return CommandContext(actor, str(command.command_id), caller.correlation_id, policy_version, now,
                          scope=caller.scope, digest=digest)


def command_digest(scope: str, command: Command) -> str:
    """Scope and body, canonically: a retry of the same command gives the same digest."""
    body = command.model_dump(mode="json", exclude={"command_id"})
    canonical = json.dumps([scope, body], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
