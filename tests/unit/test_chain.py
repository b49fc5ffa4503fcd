"""The read-time chain check (issue 6, finding 4): given an aggregate's head, is a stored message
the aggregate's next event? Pure functions, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime

from jianfu.events.chain import MAX_SUBJECT, Head, Link, fold, judge
from jianfu.events.envelope import GENESIS_HASH, SYSTEM_ACTOR, Envelope

SUBJECT = "jf.ev.escalation.esc-a"


def event(n: int, prev_hash: str = GENESIS_HASH, aggregate_id: str = "esc-a") -> Envelope:
    moment = datetime(2026, 10, 21, tzinfo=UTC)
    return Envelope(event_id=f"e-{n}", event_type="ReminderIssued", aggregate_type="escalation",
                    aggregate_id=aggregate_id, occurred_at=moment, recorded_at=moment, actor=SYSTEM_ACTOR,
                    correlation_id="c", causation_id="c", policy_version="2026", prev_hash=prev_hash, data={"n": n})


def stored(sequence: int, envelope: Envelope, subject: str | None = None) -> Link:
    return Link(sequence, subject or envelope.subject, envelope, envelope.hash())


def test_the_first_event_of_an_aggregate_carries_genesis():
    assert judge(stored(1, event(1)), None) is None
    why = judge(stored(1, event(1, prev_hash="f" * 64)), None)
    assert why.startswith("prev_hash mismatch") and "GENESIS" in why


def test_the_next_event_carries_the_stored_hash_of_the_last_good_one():
    first = stored(1, event(1))
    assert judge(stored(2, event(2, first.stored_hash)), Head(1, first.stored_hash)) is None
    why = judge(stored(2, event(2)), Head(1, first.stored_hash))
    assert "event 1" in why and first.stored_hash in why


def test_an_event_stored_on_another_subject_than_its_aggregate_is_refused_whatever_its_hash():
    why = judge(stored(1, event(1), subject="jf.ev.elsewhere.x1"), None)
    assert why == f"subject mismatch: stored on jf.ev.elsewhere.x1, but the envelope's aggregate is {SUBJECT}"


def test_a_subject_no_aggregate_could_have_is_refused():
    assert "longer than" in judge(stored(1, event(1, aggregate_id="x" * MAX_SUBJECT)), None)
    assert "not printable" in judge(stored(1, event(1, aggregate_id="a\x01b")), None)


def test_the_head_stays_at_the_last_good_event_so_what_is_chained_onto_a_forgery_fails_too():
    first = stored(1, event(1))
    forged = stored(2, event(2, "f" * 64))
    onto_forgery = stored(3, event(3, forged.stored_hash))
    onto_first = stored(4, event(4, first.stored_hash))
    folded = fold({}, [first, forged, onto_forgery, onto_first])
    assert set(folded.breaks) == {2, 3}
    assert folded.heads == {SUBJECT: Head(4, onto_first.stored_hash)}


def test_a_fold_starts_from_the_heads_it_is_given_and_returns_only_those_that_moved():
    first = stored(1, event(1))
    other = stored(3, event(3, aggregate_id="esc-b"))
    folded = fold({SUBJECT: Head(1, first.stored_hash), "jf.ev.escalation.esc-c": Head(2, "c" * 64)},
                  [stored(4, event(2)), other])
    assert set(folded.breaks) == {4}
    assert folded.heads == {other.subject: Head(3, other.stored_hash)}
