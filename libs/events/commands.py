"""Commands and queries over NATS request-reply: ``jf.cmd.<org_id>.<context>.<command>`` and
``jf.q.<org_id>.<context>.<query>``.

``Router.dispatch`` turns any message into a reply and never raises: the org comes from the
subject (the broker's permissions tie it to the caller), the directory gives its kind, the
payload is checked for size, JSON and schema, and every refusal becomes
``{"ok": false, "error": {"code", "message", "field"?}}``, logged with the correlation id.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from jianfu.events.envelope import Actor
from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.logging import bind_correlation, unbind_correlation
from jianfu.events.organisations import Directory, Organisation, OrgKind
from jianfu.events.recording import CommandContext
from jianfu.events.store import ConcurrencyConflict
from pydantic import BaseModel, ValidationError

CORRELATION_HEADER = "Jf-Correlation-Id"
PERSON_HEADER = "Jf-Person"

log = structlog.get_logger("jianfu.commands")


@dataclass(frozen=True)
class Caller:
    """The organisation a command came from, as proven by its subject."""

    org: Organisation
    correlation_id: str
    person: str | None = None


Handler = Callable[[Any, Caller], Awaitable[Mapping[str, Any]]]


@dataclass(frozen=True)
class Route:
    name: str
    model: type[BaseModel]
    handler: Handler
    allowed_kinds: frozenset[OrgKind] | None
    description: str
    reply_model: type[BaseModel] | None = None


@dataclass
class Router:
    """The commands (``kind="cmd"``) or queries (``kind="q"``) of one bounded context."""

    context: str
    directory: Directory
    kind: str = "cmd"
    max_payload_bytes: int = 64 * 1024
    routes: dict[str, Route] = field(default_factory=dict)

    @property
    def subject(self) -> str:
        return f"jf.{self.kind}.*.{self.context}.*"

    def add(
        self,
        model: type[BaseModel],
        handler: Handler,
        allowed_kinds: Iterable[OrgKind] | None = None,
        reply_model: type[BaseModel] | None = None,
    ) -> None:
        name = model.__name__
        self.routes[name] = Route(
            name=name,
            model=model,
            handler=handler,
            allowed_kinds=frozenset(allowed_kinds) if allowed_kinds is not None else None,
            description=(model.__doc__ or "").strip(),
            reply_model=reply_model,
        )

    async def dispatch(self, subject: str, payload: bytes, headers: Mapping[str, str] | None = None) -> dict:
        headers = headers or {}
        correlation_id = headers.get(CORRELATION_HEADER) or str(uuid.uuid4())
        bind_correlation(correlation_id, subject=subject)
        started = time.perf_counter()
        try:
            reply = await self._dispatch(subject, payload, headers, correlation_id)
        finally:
            unbind_correlation("subject")
        reply["correlation_id"] = correlation_id
        elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
        if reply["ok"]:
            log.info("command_handled", elapsed_ms=elapsed_ms, correlation_id=correlation_id, subject=subject)
        else:
            log.warning("command_refused", elapsed_ms=elapsed_ms, correlation_id=correlation_id,
                        subject=subject, **{f"error_{k}": v for k, v in reply["error"].items() if k != "details"})
        return reply

    async def _dispatch(self, subject: str, payload: bytes, headers: Mapping[str, str], correlation_id: str) -> dict:
        try:
            route, caller, command = self._parse(subject, payload, headers, correlation_id)
            result = await route.handler(command, caller)
            return {"ok": True, **result}
        except Refused as refusal:
            return refusal.as_reply()
        except ConcurrencyConflict:
            return Refused(ErrorCode.CONCURRENCY_EXHAUSTED, "too many concurrent changes; retry the command").as_reply()
        except (TimeoutError, ConnectionError, OSError) as error:
            log.error("dependency_unavailable", error=repr(error))
            return Refused(ErrorCode.UNAVAILABLE, "a dependency did not answer; retry the command").as_reply()
        except Exception:  # noqa: BLE001 - the adapter must answer; the traceback is logged
            log.exception("command_failed")
            return Refused(ErrorCode.INTERNAL_ERROR, "internal error; it has been logged").as_reply()

    def _parse(self, subject: str, payload: bytes, headers: Mapping[str, str], correlation_id: str):
        parts = subject.split(".")
        if len(parts) != 5 or parts[1] != self.kind or parts[3] != self.context:
            raise Refused(ErrorCode.UNKNOWN_COMMAND, f"subject must be jf.{self.kind}.<org_id>.{self.context}.<name>")
        org_id, name = parts[2], parts[4]
        if len(payload) > self.max_payload_bytes:
            raise Refused(ErrorCode.PAYLOAD_TOO_LARGE, f"payload of {len(payload)} bytes exceeds {self.max_payload_bytes}")
        org = self.directory.get(org_id)
        if org is None:
            raise Refused(ErrorCode.UNKNOWN_ORG, f"organisation {org_id!r} is not in the directory", "org_id")
        route = self.routes.get(name)
        if route is None:
            known = ", ".join(sorted(self.routes))
            raise Refused(ErrorCode.UNKNOWN_COMMAND, f"{name!r} is not a {self.context} {self.kind}; known: {known}")
        if route.allowed_kinds is not None and org.kind not in route.allowed_kinds:
            allowed = ", ".join(sorted(route.allowed_kinds))
            raise Refused(ErrorCode.FORBIDDEN, f"{org.kind} may not {name}; allowed: {allowed}", "org_id")
        return route, Caller(org, correlation_id, headers.get(PERSON_HEADER)), _validate(route.model, payload)


def _validate(model: type[BaseModel], payload: bytes) -> BaseModel:
    try:
        body = json.loads(payload or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise Refused(ErrorCode.MALFORMED_JSON, f"payload is not valid JSON: {error}") from None
    if not isinstance(body, dict):
        raise Refused(ErrorCode.MALFORMED_JSON, "payload must be a JSON object")
    try:
        return model.model_validate(body)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        path = ".".join(str(part) for part in first["loc"]) or None
        raise Refused(ErrorCode.INVALID_FIELD, f"{path or 'payload'}: {first['msg']}", path) from None


def command_context(caller: Caller, command_id: object, policy_version: str, now: datetime) -> CommandContext:
    """The context every event of one command shares: actor, ids and policy version."""
    actor = Actor(org_id=caller.org.org_id, org_kind=caller.org.kind, person=caller.person)
    return CommandContext(actor, str(command_id), caller.correlation_id, policy_version, now)
