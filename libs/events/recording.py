"""Turning a handled command into envelopes: who, why, when, under which policy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from jianfu.events.envelope import Actor, Envelope, deterministic_event_id
from jianfu.events.schemas.base import EventData


@dataclass(frozen=True)
class CommandContext:
    """What every event caused by one command shares.

    ``command_id`` is the client's idempotency key; event ids derive from it, so the same
    command handled twice yields the same event ids and the store appends nothing new.
    """

    actor: Actor
    command_id: str
    correlation_id: str
    policy_version: str
    now: datetime

    def event(
        self, data: EventData, aggregate_id: str, *, occurred_at: datetime | None = None, key: str = ""
    ) -> Envelope:
        event_type = type(data).__name__
        return Envelope(
            event_id=deterministic_event_id(self.command_id, data.aggregate_type, aggregate_id, event_type, key),
            event_type=event_type,
            schema_version=type(data).schema_version,
            aggregate_type=data.aggregate_type,
            aggregate_id=aggregate_id,
            occurred_at=occurred_at or self.now,
            recorded_at=self.now,
            actor=self.actor,
            correlation_id=self.correlation_id,
            causation_id=self.command_id,
            policy_version=self.policy_version,
            data=data.model_dump(mode="json"),
        )
