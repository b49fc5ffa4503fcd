"""The region's catalogue (S3): the education bureau imports each publication as the next edition
of ``regional_catalogue.region``; load → decide → append, as a semester list is published."""

from __future__ import annotations

from jianfu.approvals.domain.regional_catalogue import RegionalCatalogue
from jianfu.events import catalogue
from jianfu.events.commands import Caller, command_context
from jianfu.events.dependencies import Deps
from jianfu.events.region_catalogue import rows_of, unknown_organisers
from jianfu.events.schemas.regional_catalogue import (
    CATALOGUE_AGGREGATE_ID,
    ImportRegionalCatalogue,
    RegionalCatalogueImported,
)
from jianfu.events.store import History, execute

CATALOGUE = RegionalCatalogueImported.aggregate_type
IMPORT_MAX_PAYLOAD_BYTES = 512 * 1024
"""An import carries a whole catalogue (up to 300 rows, hundreds of bytes each in CJK), well over
the 64 KiB of other commands; at 512 KiB its event, with what is read from each row, still fits
NATS's 1 MB payload."""


async def import_regional_catalogue(command: ImportRegionalCatalogue, caller: Caller, deps: Deps) -> dict:
    context = command_context(caller, command, deps.policy.version, deps.clock.now())

    def import_edition(history: History):
        return context.earlier_outcome(history.envelopes) or [context.event(
            RegionalCatalogue.from_events(_parsed(history)).import_edition(command, deps.directory),
            CATALOGUE_AGGREGATE_ID)]

    stored = await execute(deps.store, CATALOGUE, CATALOGUE_AGGREGATE_ID, import_edition, deps.retries)
    imported: RegionalCatalogueImported = catalogue.parse(stored[-1].envelope)
    return {"edition": imported.edition, "item_count": len(imported.items),
            "in_force_from": imported.in_force_from.isoformat(),
            "unknown_organisers": list(unknown_organisers(rows_of(imported.items), deps.directory)),
            "sequence": stored[-1].sequence}


def _parsed(history: History) -> list:
    return [catalogue.parse(envelope) for envelope in history.envelopes]
