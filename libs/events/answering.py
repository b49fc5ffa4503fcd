"""The request-reply side of a service: routers answered in queue groups, the catch-all for
subjects no router serves, and the health subject. Every reply is published without the
request's headers and never exceeds what the broker can carry."""

from __future__ import annotations

import asyncio
import json
import os
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping

import structlog
from faststream.nats import NatsBroker, NatsMessage
from jianfu.events.commands import SERVED_CONTEXTS, Router
from jianfu.events.edge import shown
from jianfu.events.errors import ErrorCode, Refused

log = structlog.get_logger("jianfu.answering")

UNROUTED_QUEUE = "jf-unrouted"
INBOX = re.compile(r"_INBOX(_[a-z0-9][a-z0-9-]{0,62})?\.")
"""Reply subjects answered: NATS's default ``_INBOX.`` or an organisation's ``_INBOX_<org_id>.``."""
REPLY_HEADROOM = 4096  # bytes left for the reply's subject and headers
HEALTH_TIMEOUT = 2.0


def serve(broker: NatsBroker, router: Router, service: str, max_workers: int = 16) -> None:
    """Answer the router's subjects in the queue group ``service``, so replicas share them."""

    @broker.subscriber(
        router.subject,
        queue=service,
        max_workers=max_workers,
        decoder=raw_body,
        no_reply=True,
        title=f"{service}:{router.kind}",
        description=f"{router.context} {'commands' if router.kind == 'cmd' else 'queries'}",
    )
    async def answer(msg: NatsMessage) -> None:
        reply = await router.dispatch(msg.raw_message.subject, msg.raw_message.data, msg.headers)
        await respond(broker, msg, reply)


async def raw_body(msg: NatsMessage) -> bytes:
    """FastStream's decoder, replaced: it would parse JSON (or text) by content type before the
    router sees the bytes, and a failure there leaves the caller without any reply."""
    return msg.body


async def respond(broker: NatsBroker, msg: NatsMessage, reply: dict) -> None:
    """Send the reply unless the broker could not carry it: then a structured error instead of
    a message the server would refuse (and close the connection over)."""
    if not msg.raw_message.reply:
        return
    if not INBOX.match(msg.raw_message.reply):
        # A requester chooses the reply subject; answering on jf.ev.* or jf.alert.* would write the
        # answer into a stream for ever. Replies go to inboxes only.
        log.warning("reply_subject_refused", reply_subject=shown(msg.raw_message.reply, 200),
                    correlation_id=reply.get("correlation_id"))
        return
    body = json.dumps(reply, ensure_ascii=False, separators=(",", ":")).encode()
    limit = broker.connection.max_payload - REPLY_HEADROOM
    if len(body) > limit:
        log.error("reply_too_large", size=len(body), limit=limit, correlation_id=reply.get("correlation_id"))
        body = json.dumps(Refused(ErrorCode.REPLY_TOO_LARGE, f"the answer of {len(body)} bytes exceeds the "
                                  f"broker's limit of {limit}; ask for a smaller page (limit, cursor)").as_reply()
                          | {"correlation_id": reply.get("correlation_id")}).encode()
    # Not ``Msg.respond``: it would copy the request's headers into the reply, so a large header
    # would make the reply exceed the broker's limit and cost the service its connection.
    await broker.connection.publish(msg.raw_message.reply, body)


def unrouted(broker: NatsBroker, contexts: Mapping[str, frozenset[str]] = SERVED_CONTEXTS) -> None:
    """Answer what no router serves (an unknown context, a token too many or too few) with a
    structured ``UNKNOWN_COMMAND`` instead of leaving the caller with "no responders".

    Every service joins one queue group on ``jf.cmd.>`` and ``jf.q.>``, so each request reaches
    one of them; it stays silent for subjects a router serves (that router answers)."""
    for kind, served in contexts.items():
        broker.subscriber(f"jf.{kind}.>", queue=UNROUTED_QUEUE, decoder=raw_body, no_reply=True,
                          title=f"unrouted:{kind}")(_refuser(broker, kind, served))


def _refuser(broker: NatsBroker, kind: str, served: frozenset[str]):
    known = ", ".join(f"jf.{kind}.<org_id>.{context}.<name>" for context in sorted(served))

    async def refuse(msg: NatsMessage) -> None:
        parts = msg.raw_message.subject.split(".")
        if len(parts) == 5 and parts[3] in served:
            return  # a router of that context answers
        refusal = Refused(ErrorCode.UNKNOWN_COMMAND, f"no such subject '{shown(msg.raw_message.subject, 200)}'; "
                          f"known: {known}")
        await respond(broker, msg, {**refusal.as_reply(), "correlation_id": str(uuid.uuid4())})

    return refuse


def health(broker: NatsBroker, service: str, ready: Callable[[], Awaitable[None]] | None = None) -> None:
    """Answer ``jf.sys.health.<service>`` so operators and the launcher can see a replica is up.
    Every replica answers (no queue group); a request takes the first reply. ``ready`` raises
    when the replica cannot serve (its store or database unreachable): it then answers
    ``ok: false`` with ``UNAVAILABLE``."""

    @broker.subscriber(f"jf.sys.health.{service}", title=f"{service}:health", decoder=raw_body, no_reply=True)
    async def alive(msg: NatsMessage) -> None:
        reply = {"ok": True, "service": service, "pid": os.getpid()}
        try:
            if ready is not None:
                await asyncio.wait_for(ready(), HEALTH_TIMEOUT)
        except Exception as error:  # noqa: BLE001 - any failure means "not ready", and says why
            log.warning("not_ready", service=service, error=repr(error))
            reply = {**reply, "ok": False, "error": {"code": ErrorCode.UNAVAILABLE.value, "message": repr(error)}}
        await respond(broker, msg, reply)
