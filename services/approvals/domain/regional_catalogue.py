"""The autonomous region's catalogue and its editions (aggregate ``regional_catalogue.region``):
the higher level's list whose items are exempt from declaration (S3).

The education bureau imports each publication as it stands; each import is the next edition and
replaces the one before from its ``in_force_from``. A claim of a day is checked against the
edition in force on that day, so a correction never rewrites what was judged before it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.organisations import Directory
from jianfu.events.region_catalogue import items_from_rows, rows_of
from jianfu.events.schemas.regional_catalogue import ImportRegionalCatalogue, RegionalCatalogueImported


class RegionalCatalogue:
    def __init__(self) -> None:
        self.editions: list[RegionalCatalogueImported] = []

    @classmethod
    def from_events(cls, events: Iterable[object]) -> RegionalCatalogue:
        catalogue = cls()
        for event in events:
            if isinstance(event, RegionalCatalogueImported):
                catalogue.apply(event)
        return catalogue

    def apply(self, event: RegionalCatalogueImported) -> None:
        self.editions.append(event)

    @property
    def latest(self) -> RegionalCatalogueImported | None:
        return max(self.editions, key=lambda edition: edition.edition, default=None)

    def import_edition(self, command: ImportRegionalCatalogue, directory: Directory) -> RegionalCatalogueImported:
        """The next edition, read with the directory of today; the same publication imported
        again (title, date in force and every row alike) is refused: it would change nothing."""
        latest = self.latest
        if latest is not None and _same_publication(latest, command):
            raise Refused(ErrorCode.INVALID_STATE, f"edition {latest.edition} already holds this catalogue", "rows")
        edition = (latest.edition if latest else 0) + 1
        return RegionalCatalogueImported(edition=edition, title=command.title, in_force_from=command.in_force_from,
                                         items=items_from_rows(command.rows, edition, directory))

    def in_force_on(self, day: date) -> RegionalCatalogueImported | None:
        """The latest edition in force on ``day``: a later import in force from an earlier day
        (a correction) takes over from that day."""
        in_force = [edition for edition in self.editions if edition.in_force_from <= day]
        return max(in_force, key=lambda edition: edition.edition, default=None)


def _same_publication(edition: RegionalCatalogueImported, command: ImportRegionalCatalogue) -> bool:
    return (edition.title == command.title and edition.in_force_from == command.in_force_from
            and rows_of(edition.items) == tuple(command.rows))
