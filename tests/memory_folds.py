"""A projection's tables in memory, folded batch by batch through only the rows each batch names
(what the projector does against the database), for unit tests of folds with no I/O."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from jianfu.compliance.domain.folding import Emitted, Fact, Projection


class InMemoryTables:
    def __init__(self, projection: Projection) -> None:
        self.projection = projection
        self.tables: dict[str, dict[tuple, dict]] = {name: {} for name in projection.keys}
        self.sequence = itertools.count(1)

    def fold_facts(self, facts: Sequence[Fact], batch: int = 1000) -> list[Emitted]:
        """Fold ``facts`` in batches of ``batch``, each loading only what it needs; the decisions, in order."""
        decided = []
        for start in range(0, len(facts), batch):
            chunk = facts[start:start + batch]
            rows = self.projection.empty_batch()
            for need in self.projection.needs(chunk):
                width = len(need.values)
                rows[need.table].load(row for key, row in self.tables[need.table].items() if key[:width] == need.values)
            self.projection.fold(rows, chunk)
            for name, table in rows.tables.items():
                self.tables[name].update(table.changed)
            decided += rows.emitted
        return decided
