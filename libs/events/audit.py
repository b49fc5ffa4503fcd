"""The auditor's check: replay the whole log and verify every aggregate's hash chain.

A stored event whose ``prev_hash`` is not the hash of the aggregate's previous event means the
log was altered (or an event was written around the store). The report names the first
broken event of each aggregate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jianfu.events.catalogue import UnknownEventType, parse
from jianfu.events.envelope import GENESIS_HASH
from jianfu.events.store import EventStore


@dataclass
class AuditReport:
    events: int = 0
    aggregates: int = 0
    last_sequence: int = 0
    broken: list[dict] = field(default_factory=list)
    unreadable: list[dict] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.broken and not self.unreadable


async def verify_log(store: EventStore) -> AuditReport:
    report = AuditReport()
    last_hash: dict[str, str] = {}
    async for stored in store.replay(1):
        event = stored.envelope
        report.events += 1
        report.last_sequence = stored.sequence
        expected = last_hash.get(event.subject, GENESIS_HASH)
        if event.prev_hash != expected:
            report.broken.append({"sequence": stored.sequence, "subject": event.subject, "event_id": event.event_id})
        last_hash[event.subject] = event.hash()
        try:
            parse(event)
        except (UnknownEventType, ValueError) as error:
            report.unreadable.append({"sequence": stored.sequence, "event_type": event.event_type, "error": str(error)})
    report.aggregates = len(last_hash)
    return report
