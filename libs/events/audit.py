"""The auditor's check: read the whole log once, in stream order, as stored bytes, and name the
first break of each kind instead of stopping at it.

- ``gaps``: stream sequences that are missing (a message deleted with operator rights, or one the
  server no longer returns because its stored bytes were changed on disk);
- ``broken``: per aggregate, the first event whose ``prev_hash`` is not the hash of the exact
  bytes stored for the aggregate's previous event;
- ``misplaced``: an event stored on a subject that is not its aggregate's;
- ``unreadable``: a message that is not an envelope, or whose data fails its schema
  (``catalogue.parse``);
- ``bad_seals``: a ``LogSealed`` that does not match the chain heads recomputed from the log, or
  does not follow the previous seal (``sealing.SealCheck``);
- ``unknown_seals``: a seal hash the auditor kept from an earlier check that the log no longer
  holds (the whole log, seals included, was rewritten since).

Each list is in stream order and bounded (``LIMIT``); ``counts`` says how many there were.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from jianfu.events.catalogue import UnknownEventType, parse
from jianfu.events.envelope import GENESIS_HASH, Envelope, stored_hash
from jianfu.events.schemas.seal import LogSealed
from jianfu.events.sealing import SEAL_SUBJECT, SealCheck
from jianfu.events.store import ALL_EVENTS, EventStore, RawEvent, StoreUnavailable
from nats.errors import Error as NatsError
from nats.js.errors import NotFoundError
from pydantic import ValidationError

LIMIT = 50  # entries of each kind in a report: enough to find them, never a flood
KINDS = ("gaps", "broken", "misplaced", "unreadable", "bad_seals")


@dataclass
class AuditReport:
    events: int = 0
    aggregates: int = 0
    last_sequence: int = 0
    seals: int = 0
    sealed_up_to: int = 0
    last_seal: dict | None = None
    gaps: list[dict] = field(default_factory=list)
    broken: list[dict] = field(default_factory=list)
    misplaced: list[dict] = field(default_factory=list)
    unreadable: list[dict] = field(default_factory=list)
    bad_seals: list[dict] = field(default_factory=list)
    unknown_seals: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    incomplete: str | None = None

    @property
    def intact(self) -> bool:
        return not any(self.counts.values()) and not self.unknown_seals and self.incomplete is None

    @property
    def first_breaks(self) -> dict[str, dict]:
        """The first break of each kind found, in stream order."""
        return {kind: getattr(self, kind)[0] for kind in KINDS if getattr(self, kind)}

    def name(self, kind: str, entry: dict) -> None:
        self.counts[kind] += 1
        entries = getattr(self, kind)
        if len(entries) < LIMIT:
            entries.append(entry)

    def as_json(self) -> dict:
        fields = {name: value for name, value in self.__dict__.items()}
        return {"intact": self.intact, "first_breaks": self.first_breaks, **fields}


async def verify_log(store: EventStore, known_seals: Iterable[str] = ()) -> AuditReport:
    """Check everything stored up to the last sequence when the check began. A log that cannot be
    read to its end is reported ``incomplete`` (with why), never raised."""
    report = AuditReport()
    try:
        state = (await store.js.stream_info(store.stream)).state
    except NotFoundError:
        report.incomplete = f"stream {store.stream} not found"
        return report
    except (NatsError, TimeoutError, OSError) as error:
        report.incomplete = f"stream {store.stream} did not answer: {type(error).__name__}"
        return report
    audit = _Audit(report)
    if state.messages:
        try:
            async for raw in store.read_raw(ALL_EVENTS, 1, state.last_seq):
                audit.read(raw)
        except (NatsError, TimeoutError, OSError, StoreUnavailable) as error:
            report.incomplete = f"reading stopped after sequence {report.last_sequence}: {type(error).__name__}"
    if report.incomplete is None:
        audit.missing(audit.next_sequence, state.last_seq)
    report.unknown_seals = sorted(set(known_seals) - audit.seal_hashes)
    return report


class _Audit:
    """The checks of one pass, message by message."""

    def __init__(self, report: AuditReport) -> None:
        self.report = report
        self.next_sequence = 1
        self.last_hash: dict[str, str] = {}  # per stored subject, of its last readable event
        self.broken_subjects: set[str] = set()
        self.seal_check = SealCheck()
        self.seal_hashes: set[str] = set()

    def missing(self, first: int, last: int) -> None:
        if first <= last:
            self.report.name("gaps", {"first_missing": first, "last_missing": last})

    def read(self, raw: RawEvent) -> None:
        report = self.report
        report.events += 1
        report.last_sequence = raw.sequence
        self.missing(self.next_sequence, raw.sequence - 1)
        self.next_sequence = raw.sequence + 1
        hashed = stored_hash(raw.data)
        self.seal_check.add(raw.sequence, raw.subject, hashed)
        try:
            event = Envelope.model_validate_json(raw.data)
        except ValidationError as error:
            report.name("unreadable", {"sequence": raw.sequence, "subject": raw.subject, "error": _first_line(error)})
            return
        if event.subject != raw.subject:
            report.name("misplaced", {"sequence": raw.sequence, "subject": raw.subject, "event_id": event.event_id,
                                      "aggregate_subject": event.subject})
        self._chain(raw, event, hashed)
        report.aggregates = len(self.last_hash)
        try:
            data = parse(event)
        except (UnknownEventType, ValueError) as error:
            report.name("unreadable", {"sequence": raw.sequence, "subject": raw.subject,
                                       "event_type": event.event_type, "error": _first_line(error)})
            return
        if raw.subject == SEAL_SUBJECT or isinstance(data, LogSealed):
            self._seal(raw, data, hashed)

    def _chain(self, raw: RawEvent, event: Envelope, hashed: str) -> None:
        """Chains follow stored subjects: that is what the store appends to and loads."""
        expected = self.last_hash.get(raw.subject, GENESIS_HASH)
        if event.prev_hash != expected and raw.subject not in self.broken_subjects:
            self.broken_subjects.add(raw.subject)
            self.report.name("broken", {"sequence": raw.sequence, "subject": raw.subject, "event_id": event.event_id})
        self.last_hash[raw.subject] = hashed

    def _seal(self, raw: RawEvent, data: object, hashed: str) -> None:
        report = self.report
        if raw.subject != SEAL_SUBJECT or not isinstance(data, LogSealed):
            report.name("bad_seals", {"sequence": raw.sequence, "seal_number": None,
                                      "problem": f"only LogSealed events belong on {SEAL_SUBJECT}, and only there"})
            return
        problem = self.seal_check.check(data, raw.sequence, hashed)
        if problem:
            report.name("bad_seals", {"sequence": raw.sequence, "seal_number": data.seal_number, "problem": problem})
        self.seal_hashes.add(hashed)
        report.seals = self.seal_check.seals
        report.sealed_up_to = self.seal_check.sealed.position
        report.last_seal = {"sequence": raw.sequence, "seal_number": data.seal_number,
                            "up_to_sequence": data.up_to_sequence, "hash": hashed}


def _first_line(error: Exception) -> str:
    """The first problem, in one bounded line: what an auditor needs to find it."""
    if isinstance(error, ValidationError):
        first = error.errors(include_url=False)[0]
        return f"{'.'.join(str(part) for part in first['loc']) or 'message'}: {first['msg']}"[:300]
    return str(error).splitlines()[0][:300] if str(error) else type(error).__name__
