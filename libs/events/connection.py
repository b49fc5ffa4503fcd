"""A plain nats-py connection from settings, for tools outside the FastStream apps (the CLI,
the rebuild): the same servers and the same credentials the services use.

A user's replies arrive under an inbox prefix of its own, ``_INBOX_<user>``: the broker lets
each user read only its own inbox, so no organisation can read replies meant for another."""

from __future__ import annotations

import nats
from jianfu.events.settings import Settings
from nats.aio.client import Client

DEFAULT_INBOX = "_INBOX"


def inbox_prefix(user: str | None) -> str:
    """Where ``user``'s replies arrive (``_INBOX_dept-fire``); NATS's default without a user."""
    return f"{DEFAULT_INBOX}_{user}" if user else DEFAULT_INBOX


async def connect(settings: Settings, **options) -> Client:
    credentials = {"user": settings.nats_user, "password": settings.nats_password or ""} if settings.nats_user else {}
    return await nats.connect(settings.nats_servers, inbox_prefix=inbox_prefix(settings.nats_user),
                              **credentials, **options)
