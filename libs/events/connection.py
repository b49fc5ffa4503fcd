"""A plain nats-py connection from settings, for tools outside the FastStream apps (the CLI,
the rebuild): the same servers and the same credentials the services use."""

from __future__ import annotations

import nats
from jianfu.events.settings import Settings
from nats.aio.client import Client


async def connect(settings: Settings) -> Client:
    credentials = {"user": settings.nats_user, "password": settings.nats_password or ""} if settings.nats_user else {}
    return await nats.connect(settings.nats_servers, **credentials)
