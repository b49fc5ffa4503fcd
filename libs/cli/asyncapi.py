"""AsyncAPI 3.0 documents of every service, generated from the code: the routers' command and
query models, the subscriptions and the events each service emits (``jianfu asyncapi``).

Every model's schema lives once under ``components/schemas`` and is referenced from the document
root, so AsyncAPI's own parser, generators and Studio can resolve each ``$ref``."""

from __future__ import annotations

import copy
import importlib
import json
from pathlib import Path
from typing import Any

from jianfu.events.commands import Router
from jianfu.events.dependencies import Deps
from jianfu.events.envelope import Envelope
from jianfu.events.errors import ErrorCode
from jianfu.events.runtime import Interface
from jianfu.events.settings import Settings, SystemClock
from jianfu.events.store import EventStore
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

SERVICES = ("requests", "approvals", "compliance", "notifications")
SCHEMA_REF = "#/components/schemas/{model}"


def interfaces(settings: Settings) -> list[Interface]:
    """Each service's interface, wired to a store that is never connected: docs only."""
    deps = Deps(EventStore(None, settings.stream), settings.directory, settings.policy, SystemClock())
    found = []
    for name in SERVICES:
        module = importlib.import_module(f"jianfu.{name}.app")
        found.append(module.interface(deps, settings))
    return found


class SharedSchemas:
    """The schemas of all models of one document, generated together so that pydantic gives two
    models of the same name distinct keys, and every nested model is defined once at the root."""

    def __init__(self, models: list[type[BaseModel]]) -> None:
        refs, definitions = models_json_schema([(m, "validation") for m in models], ref_template=SCHEMA_REF)
        self.refs = {model: ref for (model, _), ref in refs.items()}
        self.components: dict[str, Any] = definitions.get("$defs", {})

    def ref(self, model: type[BaseModel]) -> dict[str, Any]:
        return dict(self.refs[model])

    def event_payload(self, event_type: type[BaseModel]) -> dict[str, Any]:
        """The envelope as stored in the log, with ``data`` narrowed to this event's schema."""
        envelope = copy.deepcopy(self._definition(Envelope))
        envelope["properties"]["data"] = self.ref(event_type)
        return envelope

    def _definition(self, model: type[BaseModel]) -> dict[str, Any]:
        return self.components[self.refs[model]["$ref"].rsplit("/", 1)[1]]


def _models(interface: Interface) -> list[type[BaseModel]]:
    """Every model the document names, each once, in the order the document meets them."""
    found: list[type[BaseModel]] = [Envelope]
    found += [route.model for router in interface.routers for route in router.routes.values()]
    found += [event_type for sub in interface.subscriptions for event_type in sub.event_types]
    found += [model for _, model in interface.sends]
    found += list(interface.emits)
    return list(dict.fromkeys(found))


def _reply_schema() -> dict[str, Any]:
    each = {"type": "object", "required": ["field", "message"],
            "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}
    error = {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string", "enum": [code.value for code in ErrorCode]}, "message": {"type": "string"},
        "field": {"type": "string", "description": "The first field at fault, e.g. `scope.school_ids.1`."},
        "errors": {"type": "array", "items": each, "description": "Every validation error at once."}}}
    return {"type": "object", "required": ["ok", "correlation_id"], "properties": {
        "ok": {"type": "boolean"}, "correlation_id": {"type": "string"}, "error": error},
        "additionalProperties": True}


def document(interface: Interface) -> dict[str, Any]:
    schemas = SharedSchemas(_models(interface))
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {"Reply": {"name": "Reply", "payload": _reply_schema()}}
    for router in interface.routers:
        _add_routes(router, schemas, channels, operations, messages)
    for sub in interface.subscriptions:
        key = sub.durable
        channels[key] = {"address": sub.subject, "description": f"durable consumer `{sub.durable}`",
                         "messages": {t.__name__: _message_ref(t) for t in sub.event_types}}
        operations[f"consume_{key}"] = {"action": "receive", "channel": {"$ref": f"#/channels/{key}"}}
        for event_type in sub.event_types:
            messages[event_type.__name__] = _event_message(event_type, schemas)
    for n, subject in enumerate(interface.projected):
        key = f"projection_{n}"
        channels[key] = {"address": subject, "description": "read in stream order by the projector: a durable "
                         "pull consumer whose checkpoint is kept in the read-model database"}
        operations[key] = {"action": "receive", "channel": {"$ref": f"#/channels/{key}"}}
    for address, model in interface.sends:
        key = f"send_{model.__name__}"
        channels[key] = {"address": address, "messages": {model.__name__: _message_ref(model)}}
        operations[key] = {"action": "send", "channel": {"$ref": f"#/channels/{key}"}}
        messages[model.__name__] = {"name": model.__name__, "payload": schemas.ref(model)}
    for event_type in interface.emits:
        key = f"emit_{event_type.__name__}"
        channels[key] = {"address": f"jf.ev.{event_type.aggregate_type}.{{aggregate_id}}",
                         "parameters": {"aggregate_id": {"description": "The aggregate's id."}},
                         "messages": {event_type.__name__: _message_ref(event_type)}}
        operations[key] = {"action": "send", "channel": {"$ref": f"#/channels/{key}"}}
        messages[event_type.__name__] = _event_message(event_type, schemas)
    return {
        "asyncapi": "3.0.0",
        "info": {"title": f"jianfu {interface.service}", "version": "1", "description": interface.description},
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas.components, "messages": messages},
    }


def _message_ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/messages/{model.__name__}"}


def _add_routes(router: Router, schemas: SharedSchemas, channels: dict, operations: dict, messages: dict) -> None:
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
        messages[route.name] = {"name": route.name, "payload": schemas.ref(route.model)}


def _event_message(event_type: type[BaseModel], schemas: SharedSchemas) -> dict[str, Any]:
    return {"name": event_type.__name__, "title": event_type.__name__,
            "summary": (event_type.__doc__ or "").strip().splitlines()[0] if event_type.__doc__ else "",
            "payload": schemas.event_payload(event_type)}


def write_documents(out_dir: Path, settings: Settings | None = None) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for interface in interfaces(settings or Settings()):
        path = out_dir / f"{interface.service}.json"
        path.write_text(json.dumps(document(interface), ensure_ascii=False, indent=2, default=str) + "\n")
        written.append(path)
    return written
