"""AsyncAPI 3.0 documents of every service, generated from the code: the routers' command and
query models, the subscriptions and the events each service emits (``jianfu asyncapi``)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from jianfu.events.commands import Router
from jianfu.events.dependencies import Deps
from jianfu.events.envelope import Envelope
from jianfu.events.runtime import Interface
from jianfu.events.settings import Settings, SystemClock
from jianfu.events.store import EventStore
from pydantic import BaseModel

SERVICES = ("requests", "approvals", "compliance", "notifications")


def interfaces(settings: Settings) -> list[Interface]:
    """Each service's interface, wired to a store that is never connected: docs only."""
    deps = Deps(EventStore(None, settings.stream), settings.directory, settings.policy, SystemClock())
    found = []
    for name in SERVICES:
        module = importlib.import_module(f"jianfu.{name}.app")
        found.append(module.interface(deps, settings))
    return found


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


def _reply_schema() -> dict[str, Any]:
    error = {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"}, "field": {"type": "string"}}}
    return {"type": "object", "required": ["ok", "correlation_id"], "properties": {
        "ok": {"type": "boolean"}, "correlation_id": {"type": "string"}, "error": error},
        "additionalProperties": True}


def document(interface: Interface) -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {"Reply": {"name": "Reply", "payload": _reply_schema()}}
    for router in interface.routers:
        _add_routes(router, channels, operations, messages)
    for sub in interface.subscriptions:
        key = sub.durable
        channels[key] = {"address": sub.subject, "description": f"durable consumer `{sub.durable}`",
                         "messages": {t.__name__: {"$ref": f"#/components/messages/{t.__name__}"} for t in sub.event_types}}
        operations[f"consume_{key}"] = {"action": "receive", "channel": {"$ref": f"#/channels/{key}"}}
        for event_type in sub.event_types:
            messages[event_type.__name__] = _event_message(event_type)
    for n, subject in enumerate(interface.projected):
        key = f"projection_{n}"
        channels[key] = {"address": subject, "description": "read in stream order by the projector: a durable "
                         "pull consumer whose checkpoint is kept in the read-model database"}
        operations[key] = {"action": "receive", "channel": {"$ref": f"#/channels/{key}"}}
    for address, model in interface.sends:
        key = f"send_{model.__name__}"
        channels[key] = {"address": address, "messages": {model.__name__: {"$ref": f"#/components/messages/{model.__name__}"}}}
        operations[key] = {"action": "send", "channel": {"$ref": f"#/channels/{key}"}}
        messages[model.__name__] = {"name": model.__name__, "payload": _schema(model)}
    for event_type in interface.emits:
        key = f"emit_{event_type.__name__}"
        channels[key] = {"address": f"jf.ev.{event_type.aggregate_type}.{{aggregate_id}}",
                         "parameters": {"aggregate_id": {"description": "The aggregate's id."}},
                         "messages": {event_type.__name__: {"$ref": f"#/components/messages/{event_type.__name__}"}}}
        operations[key] = {"action": "send", "channel": {"$ref": f"#/channels/{key}"}}
        messages[event_type.__name__] = _event_message(event_type)
    return {
        "asyncapi": "3.0.0",
        "info": {"title": f"jianfu {interface.service}", "version": "1", "description": interface.description},
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def _add_routes(router: Router, channels: dict, operations: dict, messages: dict) -> None:
    for route in router.routes.values():
        key = f"{router.kind}_{route.name}"
        channels[key] = {
            "address": f"jf.{router.kind}.{{org_id}}.{router.context}.{route.name}",
            "description": route.description,
            "parameters": {"org_id": {"description": "The calling organisation; its NATS user may publish only here."}},
            "messages": {route.name: {"$ref": f"#/components/messages/{route.name}"}},
        }
        allowed = sorted(route.allowed_kinds) if route.allowed_kinds is not None else ["any"]
        operations[key] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{key}"},
            "description": f"Allowed organisation kinds: {', '.join(allowed)}.",
            "reply": {"address": {"location": "$message.header#/reply_to"},
                      "messages": [{"$ref": "#/components/messages/Reply"}]},
        }
        messages[route.name] = {"name": route.name, "payload": _schema(route.model)}


def _event_message(event_type) -> dict[str, Any]:
    envelope = _schema(Envelope)
    envelope["properties"] = {**envelope["properties"], "data": _schema(event_type)}
    return {"name": event_type.__name__, "title": event_type.__name__,
            "summary": (event_type.__doc__ or "").strip().splitlines()[0] if event_type.__doc__ else "",
            "payload": envelope}


def write_documents(out_dir: Path, settings: Settings | None = None) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for interface in interfaces(settings or Settings()):
        path = out_dir / f"{interface.service}.json"
        path.write_text(json.dumps(document(interface), ensure_ascii=False, indent=2, default=str) + "\n")
        written.append(path)
    return written
