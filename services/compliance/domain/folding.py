"""Batch folds: how a projection turns a batch of events into row changes, in memory.

A projection is plain Python: for each event type it handles, one function that names the rows
the event needs (``Need``) and one that folds the event into those rows. The projector (an
adapter) asks every event of a batch for its needs, loads them all with one query per table and
key shape, folds the whole batch in stream order against the loaded rows, then writes every row
that changed with one statement per table. So the database sees a constant number of round
trips per batch, whatever its size, and folding one event at a time or a thousand gives the same
rows: a fold sees exactly what the events before it left, whether they were in its batch or not.

A projection may also *decide* (the detector): what it emits goes to the log, never to a table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from jianfu.events.schemas.base import EventData

Key = tuple[Any, ...]
Row = Mapping[str, Any]


@dataclass(frozen=True)
class Fact:
    """One event as a projection sees it: where it stands in the log and its typed data."""

    sequence: int
    event_id: str
    event_type: str
    aggregate_id: str
    occurred_at: datetime
    correlation_id: str
    data: EventData


def utc(moment: datetime) -> datetime:
    """An event's time as stored in the read models: UTC, whatever zone it was read in."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class Need:
    """The rows of ``table`` whose first key columns equal ``values``: the whole key names one row,
    a prefix of it names a group (every item held at one school, say)."""

    table: str
    values: Key


class Rows:
    """The rows of one table that a batch has loaded or written, by key.

    ``get`` and ``group`` answer only for what was needed (and for what the batch wrote): a fold
    must name its needs. Rows are read-only mappings; ``put`` replaces a whole row and marks it
    changed, so the projector writes it back.
    """

    def __init__(self, key: tuple[str, ...]) -> None:
        self.key = key
        self._rows: dict[Key, Row] = {}
        self._groups: dict[Key, set[Key]] = {}
        self.changed: dict[Key, Row] = {}

    def key_of(self, row: Row) -> Key:
        return tuple(row[column] for column in self.key)

    def load(self, rows: Iterable[Row]) -> None:
        for row in rows:
            self._remember(self.key_of(row), dict(row))

    def get(self, *key: Any) -> Row | None:
        return self._rows.get(key)

    def group(self, *prefix: Any) -> list[Row]:
        """Every row whose key starts with ``prefix``, in key order."""
        return [self._rows[key] for key in sorted(self._groups.get(prefix, ()))]

    def put(self, row: Row) -> Row:
        key = self.key_of(row)
        self._remember(key, dict(row))
        self.changed[key] = self._rows[key]
        return self._rows[key]

    def update(self, row: Row, **changes: Any) -> Row:
        """``row`` with ``changes``, put."""
        return self.put({**row, **changes})

    def _remember(self, key: Key, row: Row) -> None:
        self._rows[key] = row
        for length in range(1, len(key)):
            self._groups.setdefault(key[:length], set()).add(key)


@dataclass
class Batch:
    """The rows a batch works on, table by table, and what it decided."""

    tables: dict[str, Rows]
    emitted: list[Emitted] = field(default_factory=list)

    def __getitem__(self, table: str) -> Rows:
        return self.tables[table]

    def emit(self, decision: EventData, cause: Fact, policy_version: str) -> None:
        self.emitted.append(Emitted(decision, cause, policy_version))


@dataclass(frozen=True)
class Emitted:
    """A decision to append to the log: caused by ``cause``, judged by ``policy_version``."""

    decision: EventData
    cause: Fact
    policy_version: str


@dataclass(frozen=True)
class On:
    """What a projection does with one event type: the rows it needs, and the fold."""

    needs: Callable[[Fact], Iterable[Need]]
    fold: Callable[[Batch, Fact], None]


@dataclass(frozen=True)
class Projection:
    """A named set of tables (name → key columns) and what each event type does to them."""

    name: str
    keys: Mapping[str, tuple[str, ...]]
    on: Mapping[str, On]

    def handles(self, event_type: str) -> bool:
        return event_type in self.on

    def needs(self, facts: Iterable[Fact]) -> Iterator[Need]:
        for fact in facts:
            yield from self.on[fact.event_type].needs(fact)

    def empty_batch(self) -> Batch:
        return Batch({table: Rows(key) for table, key in self.keys.items()})

    def fold(self, batch: Batch, facts: Iterable[Fact]) -> Batch:
        """Fold ``facts`` (events it handles, in stream order) into ``batch``."""
        for fact in facts:
            self.on[fact.event_type].fold(batch, fact)
        return batch


def combine(name: str, *projections: Projection) -> Projection:
    """One projection of several, each with tables of its own: an event type more than one of
    them handles gets every one's needs, and is folded by each in the order given. So a clause
    adds its view (or its detector) beside the others without touching them."""
    keys: dict[str, tuple[str, ...]] = {}
    for projection in projections:
        shared = set(keys) & set(projection.keys)
        assert not shared, f"{projection.name} reuses the tables {sorted(shared)}"
        keys.update(projection.keys)
    on: dict[str, On] = {}
    for event_type in dict.fromkeys(t for p in projections for t in p.on):
        handlers = [p.on[event_type] for p in projections if event_type in p.on]
        on[event_type] = handlers[0] if len(handlers) == 1 else _in_turn(handlers)
    return Projection(name, keys, on)


def _in_turn(handlers: list[On]) -> On:
    def needs(fact: Fact) -> Iterator[Need]:
        for handler in handlers:
            yield from handler.needs(fact)

    def fold(batch: Batch, fact: Fact) -> None:
        for handler in handlers:
            handler.fold(batch, fact)

    return On(needs, fold)
