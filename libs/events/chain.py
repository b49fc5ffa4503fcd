"""The read-time check every consumer makes before it acts on an event: pure functions, no I/O.

A stored message belongs to its aggregate's chain when

- it is stored where its envelope says: the message's subject is the envelope's
  ``jf.ev.<aggregate_type>.<aggregate_id>`` (an event written on ``jf.ev.elsewhere.x1`` claiming a
  semester is no event of that semester), a subject short and printable enough to be an
  aggregate's, and
- its ``prev_hash`` continues the chain: it is the stored hash of the aggregate's previous good
  event (``GENESIS_HASH`` for the first).

An event that fails is quarantined and never acted on, and the chain's *head* stays at the last
good event: a forged event cannot move the head on, so whatever an attacker chains onto it fails
too. A consumer keeps the heads of the aggregates it tracks (the projector in its read model,
reactions in memory and from the log) and folds each event through ``judge`` or ``fold``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from jianfu.events.envelope import GENESIS_HASH, Envelope

MAX_SUBJECT = 255  # longer than any aggregate's subject jianfu writes; what a heads table can key on
_SHOWN = 64  # of a prev_hash in a reason: an attacker's field may be any length


@dataclass(frozen=True)
class Link:
    """A stored message as the chain sees it: where it is, what it claims, the hash of its bytes."""

    sequence: int
    subject: str
    envelope: Envelope
    stored_hash: str


@dataclass(frozen=True)
class Head:
    """The last good event of an aggregate: what its next event must carry as ``prev_hash``."""

    sequence: int
    hash: str


@dataclass
class Folded:
    """What a run of events did to the chains: why each broken one broke, and the moved heads."""

    breaks: dict[int, str] = field(default_factory=dict)
    heads: dict[str, Head] = field(default_factory=dict)


def judge(link: Link, head: Head | None) -> str | None:
    """Why ``link`` is not the next event of its aggregate after ``head`` (None: no event yet);
    None when it is."""
    claimed = link.envelope.subject
    if link.subject != claimed:
        return f"subject mismatch: stored on {link.subject}, but the envelope's aggregate is {claimed}"
    if len(link.subject) > MAX_SUBJECT or not link.subject.isprintable():
        return f"subject is not an aggregate's: longer than {MAX_SUBJECT} characters or not printable"
    expected = head.hash if head is not None else GENESIS_HASH
    if link.envelope.prev_hash != expected:
        after = f"event {head.sequence}" if head is not None else "no event (GENESIS)"
        return (f"prev_hash mismatch: {link.envelope.prev_hash[:_SHOWN]} does not continue the chain of "
                f"{link.subject}, whose last good event is {after} with hash {expected}")
    return None


def fold(heads: Mapping[str, Head], links: Iterable[Link]) -> Folded:
    """Judge ``links`` in stream order against ``heads`` (subject -> head, a subject missing has no
    event yet); the result holds the breaks and every head that moved."""
    folded = Folded()
    for link in links:
        head = folded.heads.get(link.subject) or heads.get(link.subject)
        why = judge(link, head)
        if why is None:
            folded.heads[link.subject] = Head(link.sequence, link.stored_hash)
        else:
            folded.breaks[link.sequence] = why
    return folded
