"""Seals over chain heads, recomputed as verify does (sealing.py). No I/O."""

from __future__ import annotations

from jianfu.events.envelope import GENESIS_HASH
from jianfu.events.schemas.seal import SealReason
from jianfu.events.sealing import SEAL_SUBJECT, SealCheck, StoredHeads, heads_hash

A, B = "jf.ev.escalation.a", "jf.ev.escalation.b"
HASHES = {n: f"{n:064x}" for n in range(1, 10)}


def sealed_after(entries: list[tuple[int, str, str]], up_to: int, number: int = 1, previous: str = GENESIS_HASH):
    heads = StoredHeads()
    for entry in entries:
        if entry[0] <= up_to:
            heads.add(*entry)
    heads.position = up_to
    return heads.seal(number, previous, reason=SealReason.EVERY_N_EVENTS)


def test_the_heads_hash_depends_on_the_heads_not_on_the_order_they_were_met():
    assert heads_hash({A: HASHES[1], B: HASHES[2]}) == heads_hash({B: HASHES[2], A: HASHES[1]})
    assert heads_hash({A: HASHES[1], B: HASHES[2]}) != heads_hash({A: HASHES[2], B: HASHES[1]})


def test_a_seal_stored_after_later_events_is_recomputed_as_of_the_sequence_it_covers():
    entries = [(1, A, HASHES[1]), (2, B, HASHES[2]), (3, A, HASHES[3])]
    check = SealCheck()
    for entry in entries:
        check.add(*entry)
    assert check.check(sealed_after(entries, 2), 4, HASHES[4]) is None
    assert (check.sealed.position, check.later) == (2, [(3, A, HASHES[3])])


def test_a_changed_head_a_skipped_number_or_a_foreign_previous_seal_is_named():
    entries = [(1, A, HASHES[1]), (2, B, HASHES[2])]
    seal = sealed_after(entries, 2)
    for wrong, problem in ((seal.model_copy(update={"heads_hash": HASHES[9]}), "heads_hash"),
                           (seal.model_copy(update={"seal_number": 2}), "seal_number"),
                           (seal.model_copy(update={"previous_seal_hash": HASHES[9]}), "previous_seal_hash"),
                           (seal.model_copy(update={"up_to_sequence": 3}), "up_to_sequence")):
        check = SealCheck()
        for entry in entries:
            check.add(*entry)
        assert problem in check.check(wrong, 3, HASHES[3])


def test_the_seals_own_subject_is_no_chain_head():
    heads = StoredHeads()
    heads.add(1, A, HASHES[1])
    heads.add(2, SEAL_SUBJECT, HASHES[2])
    assert heads.heads == {A: HASHES[1]} and heads.position == 2
