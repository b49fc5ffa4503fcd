"""The auditor's check: replay the whole log and verify every aggregate's hash chain.

A stored event whose ``prev_hash`` is not the hash of the aggregate's previous event means the
log was altered (or an event was written around the store). The report names the first
broken event of each aggregate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jianfu.events.catalogue import UnknownEventType, parse
from jianfu.events.envelope import GENESIS_HASH, Envelope, stored_hash
from jianfu.events.store import ALL_EVENTS, EventStore
from pydantic import ValidationError


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
    """Read every stored message once; a message that is not an envelope is named as
    unreadable (with its sequence and subject) and the check goes on."""
    report = AuditReport()
    last_hash: dict[str, str] = {}
    async for raw in store.read_raw(ALL_EVENTS, 1, await store.last_sequence()):
        report.events += 1
        report.last_sequence = raw.sequence
        try:
            event = Envelope.model_validate_json(raw.data)
        except ValidationError as error:
            report.unreadable.append({"sequence": raw.sequence, "subject": raw.subject, "error": _first_line(error)})
            continue
        expected = last_hash.get(event.subject, GENESIS_HASH)
        if event.prev_hash != expected:
            report.broken.append({"sequence": raw.sequence, "subject": event.subject, "event_id": event.event_id})
        last_hash[event.subject] = stored_hash(raw.data)
        try:
            parse(event)
        except (UnknownEventType, ValueError) as error:
            report.unreadable.append({"sequence": raw.sequence, "subject": raw.subject, "event_type": event.event_type,
                                      "error": _first_line(error)})
    report.aggregates = len(last_hash)
    return report


def _first_line(error: Exception) -> str:
    """The first problem, in one bounded line: what an auditor needs to find it."""
    if isinstance(error, ValidationError):
        first = error.errors(include_url=False)[0]
        return f"{'.'.join(str(part) for part in first['loc']) or 'message'}: {first['msg']}"[:300]
    return str(error).splitlines()[0][:300] if str(error) else type(error).__name__
