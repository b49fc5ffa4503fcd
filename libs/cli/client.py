"""A small client for integrators and the demo: send a command or query, get the reply dict.

Equivalent to what any NATS client in any language does: a request on
``jf.cmd.<org_id>.<context>.<Command>`` with a JSON body, optionally with a
``Jf-Correlation-Id`` header, and a JSON reply. An organisation's connection logs in as its own
user and receives replies under its own inbox prefix, ``_INBOX_<org_id>``
(``jianfu.events.connection``); the broker lets it read nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from jianfu.events.commands import CORRELATION_HEADER, PERSON_HEADER
from jianfu.events.connection import connect
from jianfu.events.settings import Settings
from nats.aio.client import Client

Login = Callable[[str], Awaitable[Client]]
"""Opens a connection logged in as an organisation."""


def organisation_login(nats_url: str, password: Callable[[str], str]) -> Login:
    """Log in as each organisation with its own user and inbox prefix (the demo speaks for many)."""

    async def login(org_id: str) -> Client:
        return await connect(Settings(nats_url=nats_url, nats_user=org_id, nats_password=password(org_id)))

    return login


class JianfuClient:
    """Requests on one connection (``nc``: an integrator's, logged in as its organisation, or
    any connection to a server without accounts), or on one connection per organisation opened
    by ``login`` when it speaks for several."""

    def __init__(self, nc: Client | None = None, timeout: float = 5.0, login: Login | None = None) -> None:
        if (nc is None) == (login is None):
            raise ValueError("give either a connection (nc) or a login, exactly one")
        self.nc = nc
        self.timeout = timeout
        self.login = login
        self.sessions: dict[str, Client] = {}

    async def command(self, org_id: str, context: str, name: str, payload: dict[str, Any] | bytes,
                      correlation_id: str | None = None, person: str | None = None) -> dict[str, Any]:
        """``person``: who at the organisation decides (``Jf-Person``), where a command records one."""
        return await self._request(org_id, f"jf.cmd.{org_id}.{context}.{name}", payload, correlation_id, person)

    async def query(self, org_id: str, context: str, name: str, payload: dict[str, Any] | bytes,
                    correlation_id: str | None = None) -> dict[str, Any]:
        return await self._request(org_id, f"jf.q.{org_id}.{context}.{name}", payload, correlation_id)

    async def close(self) -> None:
        """Close the connections ``login`` opened (a connection given by the caller stays open)."""
        for session in self.sessions.values():
            await session.close()
        self.sessions.clear()

    async def _connection(self, org_id: str) -> Client:
        if self.login is None:
            return self.nc
        if org_id not in self.sessions:
            self.sessions[org_id] = await self.login(org_id)
        return self.sessions[org_id]

    async def _request(self, org_id: str, subject: str, payload: dict[str, Any] | bytes,
                       correlation_id: str | None, person: str | None = None) -> dict[str, Any]:
        body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
        headers = {name: value for name, value in ((CORRELATION_HEADER, correlation_id), (PERSON_HEADER, person))
                   if value} or None
        nc = await self._connection(org_id)
        reply = await nc.request(subject, body, timeout=self.timeout, headers=headers)
        return json.loads(reply.data)
