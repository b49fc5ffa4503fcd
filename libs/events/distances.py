"""The district's distance table (S9): how far each school is from each meeting venue.

Data, not code: ``reference/distances.csv`` (``venue_id, venue_name, school_id, km``), one row per
venue and school, replaced by a district's own file (``JIANFU_DISTANCES_PATH``). The bundled
figures are approximate road distances for the demo district (大武口区) and its neighbours. A
school with no row for a venue has no known distance: it is never counted as far.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from jianfu.events.organisations import ORG_ID_PATTERN


class DistanceTableInvalid(ValueError):
    """A row of the distance table cannot be used; the message names the row."""


@dataclass(frozen=True)
class DistanceTable:
    venues: Mapping[str, str] = field(default_factory=dict)  # venue id -> name
    distances: Mapping[tuple[str, str], float] = field(default_factory=dict)  # (school id, venue id) -> km

    def km(self, school_id: str, venue_id: str) -> float | None:
        return self.distances.get((school_id, venue_id))

    def knows(self, venue_id: str) -> bool:
        return venue_id in self.venues

    def far(self, school_id: str, venue_id: str, beyond_km: float) -> bool:
        """Strictly more than ``beyond_km`` away (S9: 50 公里以上 read as over 50)."""
        distance = self.km(school_id, venue_id)
        return distance is not None and distance > beyond_km

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, str]]) -> DistanceTable:
        venues: dict[str, str] = {}
        distances: dict[tuple[str, str], float] = {}
        for number, row in enumerate(rows, start=2):  # row 1 is the header
            venue_id, school_id = (row.get("venue_id") or "").strip(), (row.get("school_id") or "").strip()
            name = (row.get("venue_name") or "").strip()
            for label, value in (("venue_id", venue_id), ("school_id", school_id)):
                if not ORG_ID_PATTERN.match(value):
                    raise DistanceTableInvalid(f"row {number}: {label} {value!r} is not an id")
            try:
                km = float(row.get("km") or "")
            except ValueError:
                raise DistanceTableInvalid(f"row {number}: km {row.get('km')!r} is not a number") from None
            if not math.isfinite(km) or km < 0:
                raise DistanceTableInvalid(f"row {number}: km must be a finite distance of 0 or more")
            if venues.setdefault(venue_id, name) != name:
                raise DistanceTableInvalid(f"row {number}: venue {venue_id} has two names")
            if distances.setdefault((school_id, venue_id), km) != km:
                raise DistanceTableInvalid(f"row {number}: {school_id} to {venue_id} is given twice")
        return cls(venues, distances)

    @classmethod
    def load(cls, path: Path) -> DistanceTable:
        with path.open(encoding="utf-8", newline="") as handle:
            return cls.from_rows(csv.DictReader(handle))
