"""Turning a handled command into envelopes: who, why, when, under which policy."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from jianfu.events.envelope import Actor, Envelope, deterministic_event_id
from jianfu.events.schemas.base import EventData


@dataclass(frozen=True)
class CommandContext:
    """What every event caused by one command shares.

    ``command_id`` is the client's idempotency key. For a client's command it is scoped by
    ``scope`` (org, context, command name): event ids and the ids of what the command creates
    derive from ``key``, so the same command handled twice yields the same ids and the store
    appends nothing new, while two organisations that send the same id never meet. ``digest``
    fingerprints the command's scope and body and travels in every event it causes, so a retry
    finds what it caused (``earlier_outcome``). Decisions jianfu takes itself (screening,
    violations, reminders) have no scope and no digest.
    """

    actor: Actor
    command_id: str
    correlation_id: str
    policy_version: str
    now: datetime
    scope: str = ""
    digest: str | None = None

    @property
    def key(self) -> str:
        return f"{self.scope}/{self.command_id}" if self.scope else self.command_id

    def earlier_outcome(self, history: Iterable[Envelope]) -> list[Envelope]:
        """The events this very command caused already, so a retry answers from them: same
        command id, organisation and digest. The same id for another command of the organisation
        is another command (its key differs); the same key with another body never gets here,
        the command ledger refuses it (``ledger.py``)."""
        return [e for e in history if e.causation_id == self.command_id and e.actor.org_id == self.actor.org_id
                and e.command_digest == self.digest]

    def event(
        self, data: EventData, aggregate_id: str, *, occurred_at: datetime | None = None, key: str = ""
    ) -> Envelope:
        event_type = type(data).__name__
        return Envelope(
            event_id=deterministic_event_id(self.key, data.aggregate_type, aggregate_id, event_type, key),
            event_type=event_type,
            schema_version=type(data).schema_version,
            aggregate_type=data.aggregate_type,
            aggregate_id=aggregate_id,
            occurred_at=occurred_at or self.now,
            recorded_at=self.now,
            actor=self.actor,
            correlation_id=self.correlation_id,
            causation_id=self.command_id,
            command_digest=self.digest,
            policy_version=self.policy_version,
            data=data.model_dump(mode="json"),
        )
