"""Services started inside the test process, on the session's real nats-server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from jianfu.approvals.app import build as build_approvals
from jianfu.events.settings import Settings
from jianfu.requests.app import build as build_requests


@asynccontextmanager
async def command_services(settings: Settings) -> AsyncIterator[None]:
    """requests and approvals, started with ``settings`` and stopped after."""
    apps = [build_requests(settings), build_approvals(settings)]
    for app in apps:
        await app.start()
    try:
        yield
    finally:
        for app in apps:
            await app.stop()
