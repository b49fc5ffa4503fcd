"""Projections combined (issue 9): each keeps its own tables; an event two of them handle gets
both needs and both folds, in order."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from jianfu.compliance.domain.folding import Batch, Fact, Need, On, Projection, combine


def fact(event_type: str) -> Fact:
    return Fact(1, str(uuid.uuid4()), event_type, "aggregate", datetime(2026, 1, 1, tzinfo=UTC), "c", None)


def counting(table: str, *event_types: str) -> Projection:
    def needs(f: Fact):
        yield Need(table, (f.event_type,))

    def fold(batch: Batch, f: Fact) -> None:
        rows = batch[table]
        row = rows.get(f.event_type) or {"event_type": f.event_type, "seen": 0}
        rows.put({**row, "seen": row["seen"] + 1})

    return Projection(table, {table: ("event_type",)}, {t: On(needs, fold) for t in event_types})


def test_a_shared_event_type_gets_every_projections_needs_and_folds_in_order():
    both = combine("both", counting("first", "A", "B"), counting("second", "B", "C"))
    assert set(both.keys) == {"first", "second"} and set(both.on) == {"A", "B", "C"}
    assert list(both.needs([fact("B")])) == [Need("first", ("B",)), Need("second", ("B",))]
    batch = both.fold(both.empty_batch(), [fact("A"), fact("B"), fact("C")])
    assert batch["first"].get("B")["seen"] == batch["second"].get("B")["seen"] == 1
    assert batch["first"].get("C") is None and batch["second"].get("A") is None


def test_two_projections_may_not_share_a_table():
    with pytest.raises(AssertionError, match="reuses the tables"):
        combine("clash", counting("same", "A"), counting("same", "B"))
