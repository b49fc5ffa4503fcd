"""Chain heads and the seal over them: computed the same way by the sealer that appends
``LogSealed`` and by ``jianfu verify`` that recomputes every seal from the log.

A chain head is the hash of the exact bytes of the last message stored on a subject, readable or
not; the seals' own subject is left out (each seal names the previous one instead). The heads
hash is SHA-256 over the lines ``<subject> <head>\\n``, sorted by subject.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from jianfu.events.envelope import GENESIS_HASH, subject_for
from jianfu.events.schemas.seal import LogSealed

SEAL_AGGREGATE_TYPE = LogSealed.aggregate_type
SEAL_AGGREGATE_ID = "log"
SEAL_SUBJECT = subject_for(SEAL_AGGREGATE_TYPE, SEAL_AGGREGATE_ID)


def heads_hash(heads: Mapping[str, str]) -> str:
    """The hash a seal carries over all chain heads (subject -> hash of its last stored message)."""
    digest = hashlib.sha256()
    for subject in sorted(heads):
        digest.update(f"{subject} {heads[subject]}\n".encode())
    return digest.hexdigest()


@dataclass
class StoredHeads:
    """The hash of the last message stored on every subject, readable or not, as the log is read in
    stream order up to ``position``: what a seal covers. (Not ``heads.ChainHeads``, which follows
    each aggregate's last *good* event for a reaction's chain check.)"""

    heads: dict[str, str] = field(default_factory=dict)
    position: int = 0

    def add(self, sequence: int, subject: str, stored_hash: str) -> None:
        self.position = sequence
        if subject != SEAL_SUBJECT:
            self.heads[subject] = stored_hash

    def seal(self, number: int, previous_seal_hash: str, **reason: object) -> LogSealed:
        return LogSealed(seal_number=number, up_to_sequence=self.position, chains=len(self.heads),
                         heads_hash=heads_hash(self.heads), previous_seal_hash=previous_seal_hash, **reason)


@dataclass
class SealCheck:
    """Heads as of the last good seal plus what came after it, so a seal covering any sequence
    since then can be recomputed when it is read (it is stored after the sequence it covers)."""

    sealed: StoredHeads = field(default_factory=StoredHeads)
    later: list[tuple[int, str, str]] = field(default_factory=list)
    seals: int = 0
    last_seal_hash: str = GENESIS_HASH

    def add(self, sequence: int, subject: str, stored_hash: str) -> None:
        if subject != SEAL_SUBJECT:
            self.later.append((sequence, subject, stored_hash))

    def check(self, seal: LogSealed, sequence: int, stored_hash: str) -> str | None:
        """What does not hold about ``seal`` (stored at ``sequence``), or None. Every seal read
        counts for the numbering and the next seal's ``previous_seal_hash``; only a good one
        becomes the base the next one is recomputed from."""
        problem = self._problem(seal, sequence)
        self.seals, self.last_seal_hash = self.seals + 1, stored_hash
        return problem

    def _problem(self, seal: LogSealed, sequence: int) -> str | None:
        if seal.seal_number != self.seals + 1:
            return f"seal_number {seal.seal_number}, expected {self.seals + 1}"
        if seal.previous_seal_hash != self.last_seal_hash:
            return "previous_seal_hash is not the hash of the previous seal"
        if not self.sealed.position <= seal.up_to_sequence < sequence:
            return f"up_to_sequence {seal.up_to_sequence} outside {self.sealed.position}..{sequence - 1}"
        heads = StoredHeads(dict(self.sealed.heads), self.sealed.position)
        for entry in self.later:
            if entry[0] <= seal.up_to_sequence:
                heads.add(*entry)
        heads.position = seal.up_to_sequence
        if (len(heads.heads), heads_hash(heads.heads)) != (seal.chains, seal.heads_hash):
            return "heads_hash does not match the chain heads in the log: a chain was rewritten or removed"
        self.sealed, self.later = heads, [entry for entry in self.later if entry[0] > seal.up_to_sequence]
        return None
