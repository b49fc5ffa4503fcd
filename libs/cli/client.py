"""A small client for integrators and the demo: send a command or query, get the reply dict.

Equivalent to what any NATS client in any language does: a request on
``jf.cmd.<org_id>.<context>.<Command>`` with a JSON body, optionally with a
``Jf-Correlation-Id`` header, and a JSON reply.
"""

from __future__ import annotations

import json
from typing import Any

from jianfu.events.commands import CORRELATION_HEADER
from nats.aio.client import Client


class JianfuClient:
    def __init__(self, nc: Client, timeout: float = 5.0) -> None:
        self.nc = nc
        self.timeout = timeout

    async def command(self, org_id: str, context: str, name: str, payload: dict[str, Any] | bytes,
                      correlation_id: str | None = None) -> dict[str, Any]:
        return await self._request(f"jf.cmd.{org_id}.{context}.{name}", payload, correlation_id)

    async def query(self, org_id: str, context: str, name: str, payload: dict[str, Any] | bytes,
                    correlation_id: str | None = None) -> dict[str, Any]:
        return await self._request(f"jf.q.{org_id}.{context}.{name}", payload, correlation_id)

    async def _request(self, subject: str, payload: dict[str, Any] | bytes, correlation_id: str | None) -> dict[str, Any]:
        body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
        headers = {CORRELATION_HEADER: correlation_id} if correlation_id else None
        reply = await self.nc.request(subject, body, timeout=self.timeout, headers=headers)
        return json.loads(reply.data)
