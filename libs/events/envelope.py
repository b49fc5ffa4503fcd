"""The envelope every event travels in, and the per-aggregate hash chain auditors verify.

Each event carries ``prev_hash``: the SHA-256 of the exact bytes stored for the aggregate's
previous event (``GENESIS_HASH`` for the first). The store writes an envelope as its canonical
JSON, so for what it wrote ``Envelope.hash()`` equals ``stored_hash`` of the stored bytes; a
reader hashes the bytes it read, so any change to a stored message, even one a parser would
smooth over (an extra key, other spacing), breaks the chain from that point on.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from jianfu.events.organisations import SYSTEM_ACTOR_ORG_ID, OrgKind
from pydantic import BaseModel, ConfigDict, Field

GENESIS_HASH = "0" * 64
EVENT_ID_NAMESPACE = uuid.UUID("6f1c8f2e-52a4-4c1e-9f0e-6a3b8d2f0a11")
SUBJECT_PREFIX = "jf.ev"


class Actor(BaseModel):
    """Who caused the event: an organisation, optionally a named person in it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    org_id: str = Field(description="Organisation id from the directory, e.g. `edu-bureau`.")
    org_kind: OrgKind = Field(description="The organisation's kind (see DOMAIN.md).")
    person: str | None = Field(default=None, description="Optional name or staff id of the person.")


SYSTEM_ACTOR = Actor(org_id=SYSTEM_ACTOR_ORG_ID, org_kind=OrgKind.SYSTEM)
"""jianfu itself: the actor of decisions no person made (screening, violations, reminders)."""


class Envelope(BaseModel):
    """One event as stored in the log. ``data`` holds the event's own schema as JSON."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str
    event_type: str
    schema_version: int = 1
    aggregate_type: str
    aggregate_id: str
    occurred_at: datetime = Field(description="Business time: when it happened in the world.")
    recorded_at: datetime = Field(description="When the system recorded it.")
    actor: Actor
    correlation_id: str
    causation_id: str
    command_digest: str | None = Field(
        default=None, description="SHA-256 of the client's command (scope and body) that caused it; none for "
        "jianfu's own decisions. The same command_id with another body is refused (COMMAND_ID_REUSED).")
    policy_version: str
    prev_hash: str = GENESIS_HASH
    data: dict[str, Any]

    @property
    def subject(self) -> str:
        return subject_for(self.aggregate_type, self.aggregate_id)

    def canonical_json(self) -> bytes:
        """Stable serialisation: sorted keys, no whitespace, UTC ISO timestamps."""
        return json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()

    def hash(self) -> str:
        """The chain hash of this envelope as the store writes it."""
        return stored_hash(self.canonical_json())


def stored_hash(data: bytes) -> str:
    """The chain hash of a stored event: SHA-256 of its exact bytes in the stream."""
    return hashlib.sha256(data).hexdigest()


def subject_for(aggregate_type: str, aggregate_id: str) -> str:
    return f"{SUBJECT_PREFIX}.{aggregate_type}.{aggregate_id}"


def deterministic_event_id(*parts: str) -> str:
    """An event id derived from what caused it, so a retried command appends nothing new."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, "|".join(parts)))


def verify_chain(events: list[Envelope]) -> int | None:
    """Return the index of the first event whose ``prev_hash`` does not match, else None."""
    expected = GENESIS_HASH
    for index, event in enumerate(events):
        if event.prev_hash != expected:
            return index
        expected = event.hash()
    return None
