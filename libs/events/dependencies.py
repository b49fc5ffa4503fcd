"""What command and event handlers need, passed by name: no handler reaches for a global."""

from __future__ import annotations

from dataclasses import dataclass, field

from jianfu.events.distances import DistanceTable
from jianfu.events.ledger import CommandLedger
from jianfu.events.organisations import Directory
from jianfu.events.policy import Policy
from jianfu.events.settings import Clock
from jianfu.events.store import EventStore


@dataclass(frozen=True)
class Deps:
    store: EventStore
    directory: Directory
    policy: Policy
    clock: Clock
    retries: int = 10
    ledger: CommandLedger | None = None  # binds command ids to bodies; None where no broker is (docs, unit tests)
    distances: DistanceTable = field(default_factory=DistanceTable)  # S9: school to venue, from Settings.distances
