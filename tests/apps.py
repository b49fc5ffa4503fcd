"""Services started inside the test process, on the session's real nats-server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from jianfu.approvals.app import build as build_approvals
from jianfu.cli.client import JianfuClient
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


@asynccontextmanager
async def services_on(log, folder: Path, today: str) -> AsyncIterator[tuple[JianfuClient, Path]]:
    """requests and approvals on a log of a test's own (poison must never reach the session's
    log), with a clock file at ``today``: a client for them, and the clock file to move."""
    clock = folder / "today"
    clock.write_text(today)
    async with command_services(Settings(nats_url=log.url, clock=f"file:{clock}", log_level="WARNING")):
        yield JianfuClient(log.nc, timeout=5.0), clock
