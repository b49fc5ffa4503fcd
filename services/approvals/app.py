"""Composition root of the approvals service: ``faststream run jianfu.approvals.app:app``."""

from __future__ import annotations

from functools import partial

from faststream import FastStream
from jianfu.approvals import catalogue_handlers, handlers
from jianfu.events.commands import Router
from jianfu.events.dependencies import Deps
from jianfu.events.logging import configure_logging
from jianfu.events.organisations import OrgKind
from jianfu.events.runtime import Interface, Subscription, service_app
from jianfu.events.schemas.campus_entry import (
    ActivityCertified,
    ActivityExemptionRecorded,
    ActivityRejected,
    ActivityRequested,
    CampusEntrySlotTaken,
    CertificationRoundDecided,
    CertifyActivity,
    DecideCertificationRound,
    PublishSemesterList,
    RejectActivity,
    SemesterListPublished,
)
from jianfu.events.schemas.regional_catalogue import ImportRegionalCatalogue, RegionalCatalogueImported
from jianfu.events.settings import Settings

BUREAU = {OrgKind.EDUCATION_BUREAU}  # S3: only the education bureau certifies and publishes


def interface(deps: Deps, settings: Settings) -> Interface:
    router = Router("approvals", deps.directory, max_payload_bytes=settings.max_payload_bytes, ledger=deps.ledger)
    router.add(CertifyActivity, partial(handlers.certify_activity, deps=deps), BUREAU)
    router.add(DecideCertificationRound, partial(handlers.decide_certification_round, deps=deps), BUREAU)
    router.add(RejectActivity, partial(handlers.reject_activity, deps=deps), BUREAU)
    router.add(PublishSemesterList, partial(handlers.publish_semester_list, deps=deps), BUREAU)
    router.add(ImportRegionalCatalogue, partial(catalogue_handlers.import_regional_catalogue, deps=deps), BUREAU,
               max_payload_bytes=catalogue_handlers.IMPORT_MAX_PAYLOAD_BYTES)
    screening = Subscription("jf.ev.activity.>", "approvals-screening",
                             partial(handlers.screen_request, deps=deps), (ActivityRequested,))
    return Interface(
        "approvals", "The education bureau's decisions and the semester list.", routers=(router,),
        subscriptions=(screening,),
        emits=(CertificationRoundDecided, ActivityCertified, ActivityRejected, ActivityExemptionRecorded, CampusEntrySlotTaken,
               SemesterListPublished, RegionalCatalogueImported),
    )


def build(settings: Settings) -> FastStream:
    return service_app(settings, interface)


settings = Settings()
configure_logging(settings.log_format, settings.log_level, "approvals")
app = build(settings)
