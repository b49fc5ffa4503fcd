"""The command ledger: the body each command key was first accepted with.

A command id names one command of one organisation: the key is (org, context, command,
``command_id``) and the body is fingerprinted by ``commands.command_digest``. Before a command
reaches its handler the router claims its key here: the first claim stores the digest on a
subject of its own (``jf.cmdid.<sha256 of the key>``, stream ``JIANFU_COMMANDS``) with
``Nats-Expected-Last-Subject-Sequence: 0``, so only one claim per key is ever stored; a later
claim with the same digest is a retry and goes on to the handler (which answers from the events
the command caused), one with another digest is refused with ``COMMAND_ID_REUSED``. The events
a command causes carry the same digest (``Envelope.command_digest``), for the auditor.
"""

from __future__ import annotations

import hashlib

from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.provisioning import COMMAND_PREFIX, COMMAND_STREAM
from jianfu.events.store import WRONG_LAST_SEQUENCE
from nats.js.client import JetStreamContext
from nats.js.errors import APIError


class CommandLedger:
    """Claims command keys. ``js`` is bound when the app has connected."""

    def __init__(self, js: JetStreamContext | None = None, stream: str = COMMAND_STREAM, timeout: float = 5.0) -> None:
        self.js = js
        self.stream = stream
        self.timeout = timeout

    async def claim(self, key: str, digest: str) -> None:
        """Return when ``key`` is (now or already) bound to ``digest``; refuse another digest."""
        subject = f"{COMMAND_PREFIX}.{hashlib.sha256(key.encode()).hexdigest()}"
        try:
            await self.js.publish(subject, digest.encode(), stream=self.stream, timeout=self.timeout,
                                  headers={"Nats-Expected-Last-Subject-Sequence": "0"})
            return
        except APIError as error:
            if error.err_code != WRONG_LAST_SEQUENCE:
                raise
        first = await self.js.get_last_msg(self.stream, subject, direct=True)
        if first.data.decode() != digest:
            raise Refused(ErrorCode.COMMAND_ID_REUSED, "this command_id was used before for another command or "
                          "body; send a fresh UUID for a new command", "command_id")
