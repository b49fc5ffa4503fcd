"""Chain heads for event reactions: kept in memory, read from the log on a miss.

A reaction (approvals' screening, notifications' ladder) gets its events at least once, in no
guaranteed order, from a durable consumer its replicas share: the event before this one on its
subject may have gone to another process, or to this one before a restart. So for each subject
it keeps what it has read of the log itself: every message up to a stream sequence
(``covered``), the head among them, and the verdict on each. An event above ``covered`` is judged
after reading the subject's messages in between with JetStream direct gets (``next_by_subj``):
no request when the event follows ``covered`` at once, one when nothing lies between (the usual
case), one more per message between. After a restart that is at most the aggregate's length
once, then one request per event. An event at or below ``covered`` (a redelivery) is answered
from the verdicts. At most ``capacity`` subjects are kept; the least recently used is dropped,
and a later event on it is judged from sequence 1 again.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field

from jianfu.events.chain import Head, Link, judge
from jianfu.events.envelope import Envelope, stored_hash
from nats.js.client import JetStreamContext
from pydantic import ValidationError

UNREADABLE = "unreadable envelope: not in any aggregate's chain"


class ChainBroken(ValueError):
    """The event is not where its envelope says, or does not continue its aggregate's chain: it
    fails the same way on every delivery (a ValueError, so reactions quarantine it at once)."""


@dataclass
class _Subject:
    """What a reaction has read of one subject's messages."""

    covered: int = 0
    head: Head | None = None
    verdicts: dict[int, str | None] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def fold(self, sequence: int, subject: str, data: bytes, envelope: Envelope | None = None) -> None:
        """Judge the message; ``envelope`` is its parsed form when the caller has it already."""
        try:
            envelope = envelope or Envelope.model_validate_json(data)
        except ValidationError:
            self.verdicts[sequence] = UNREADABLE  # the store passes it over too
        else:
            chain_hash = stored_hash(data)
            why = judge(Link(sequence, subject, envelope, chain_hash), self.head)
            self.verdicts[sequence] = why
            if why is None:
                self.head = Head(sequence, chain_hash)
        self.covered = sequence


class ChainHeads:
    """The chain check of one reaction: ``await heads.check(js, sequence, subject, data)``."""

    def __init__(self, stream: str, capacity: int = 4096) -> None:
        self.stream = stream
        self.capacity = capacity
        self._subjects: OrderedDict[str, _Subject] = OrderedDict()

    async def check(self, js: JetStreamContext, sequence: int, subject: str, data: bytes,
                    envelope: Envelope | None = None) -> None:
        """Raise ChainBroken unless the message at ``sequence`` on ``subject`` continues its chain."""
        why = await self.verdict(js, sequence, subject, data, envelope)
        if why is not None:
            raise ChainBroken(why)

    async def verdict(self, js: JetStreamContext, sequence: int, subject: str, data: bytes,
                      envelope: Envelope | None = None) -> str | None:
        """Why the message breaks its aggregate's chain, or None."""
        tracked = self._tracked(subject)
        async with tracked.lock:
            if sequence <= tracked.covered and sequence not in tracked.verdicts:
                tracked.covered, tracked.head, tracked.verdicts = 0, None, {}  # cannot happen; start over
            if sequence > tracked.covered:
                await self._read_between(js, tracked, subject, sequence)
                tracked.fold(sequence, subject, data, envelope)
            return tracked.verdicts[sequence]

    async def _read_between(self, js: JetStreamContext, tracked: _Subject, subject: str, sequence: int) -> None:
        """Fold the subject's messages after ``covered`` and before ``sequence``, from the log."""
        after = tracked.covered + 1
        while after < sequence:
            stored = await js.get_msg(self.stream, seq=after, subject=subject, direct=True, next=True)
            if stored.seq >= sequence:
                return
            tracked.fold(stored.seq, subject, stored.data or b"")
            after = stored.seq + 1

    def _tracked(self, subject: str) -> _Subject:
        tracked = self._subjects.get(subject)
        if tracked is None:
            tracked = self._subjects[subject] = _Subject()
            while len(self._subjects) > self.capacity:
                self._subjects.popitem(last=False)
        else:
            self._subjects.move_to_end(subject)
        return tracked
