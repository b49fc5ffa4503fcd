"""Composition root of the approvals service: ``faststream run jianfu.approvals.app:app``."""

from __future__ import annotations

from functools import partial

from faststream import FastStream
from jianfu.approvals import catalogue_handlers, handlers, inspection_handlers, secondment_handlers, training_handlers
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
from jianfu.events.schemas.inspections import (
    ApproveInspectionItem,
    InspectionApproved,
    InspectionChecklistPublished,
    InspectionItemFiled,
    InspectionItemMerged,
    InspectionItemProposed,
    InspectionItemRejected,
    InspectionItemsMerged,
    MergeInspectionItems,
    PublishInspectionChecklist,
    RejectInspectionItem,
)
from jianfu.events.schemas.regional_catalogue import ImportRegionalCatalogue, RegionalCatalogueImported
from jianfu.events.schemas.secondments import (
    ApproveSecondment,
    ConsentToSecondment,
    RefuseSecondment,
    SecondmentApproved,
    SecondmentConsented,
    SecondmentRefused,
)
from jianfu.events.schemas.training import PublishTrainingPlan, TrainingPlanPublished
from jianfu.events.settings import Settings

BUREAU = {OrgKind.EDUCATION_BUREAU}  # S3: only the education bureau certifies and publishes
SUPERVISION = {OrgKind.SUPERVISION_OFFICE}  # S1: it approves or rejects other units' inspection items


def interface(deps: Deps, settings: Settings) -> Interface:
    router = Router("approvals", deps.directory, max_payload_bytes=settings.max_payload_bytes, ledger=deps.ledger)
    router.add(CertifyActivity, partial(handlers.certify_activity, deps=deps), BUREAU)
    router.add(DecideCertificationRound, partial(handlers.decide_certification_round, deps=deps), BUREAU)
    router.add(RejectActivity, partial(handlers.reject_activity, deps=deps), BUREAU)
    router.add(PublishSemesterList, partial(handlers.publish_semester_list, deps=deps), BUREAU)
    router.add(ImportRegionalCatalogue, partial(catalogue_handlers.import_regional_catalogue, deps=deps), BUREAU,
               max_payload_bytes=catalogue_handlers.IMPORT_MAX_PAYLOAD_BYTES)
    router.add(ApproveInspectionItem, partial(inspection_handlers.approve_inspection_item, deps=deps), SUPERVISION)
    router.add(RejectInspectionItem, partial(inspection_handlers.reject_inspection_item, deps=deps), SUPERVISION)
    router.add(MergeInspectionItems, partial(inspection_handlers.merge_inspection_items, deps=deps), BUREAU)
    router.add(PublishInspectionChecklist, partial(inspection_handlers.publish_inspection_checklist, deps=deps), BUREAU)
    approver = {deps.policy.secondment.approver_kind}  # S7: the policy names who approves and files (人社部门)
    router.add(ConsentToSecondment, partial(secondment_handlers.consent_to_secondment, deps=deps), BUREAU)
    router.add(ApproveSecondment, partial(secondment_handlers.approve_secondment, deps=deps), approver)
    router.add(RefuseSecondment, partial(secondment_handlers.refuse_secondment, deps=deps), BUREAU | approver)
    router.add(PublishTrainingPlan, partial(training_handlers.publish_training_plan, deps=deps),
               {deps.policy.training.planner_kind}, max_payload_bytes=training_handlers.PUBLISH_PLAN_MAX_PAYLOAD_BYTES)
    screening = Subscription("jf.ev.activity.>", "approvals-screening",
                             partial(handlers.screen_request, deps=deps), (ActivityRequested,))
    inspection_screening = Subscription("jf.ev.inspection_item.>", "approvals-inspection-screening",
                                        partial(inspection_handlers.screen_proposal, deps=deps), (InspectionItemProposed,))
    return Interface(
        "approvals", "The education bureau's decisions and the semester list; S7 secondment decisions (the bureau's "
        "consent, the approver's approval); S8 the training plan.", routers=(router,),
        subscriptions=(screening, inspection_screening),
        emits=(CertificationRoundDecided, ActivityCertified, ActivityRejected, ActivityExemptionRecorded, CampusEntrySlotTaken,
               SemesterListPublished, RegionalCatalogueImported, InspectionItemFiled, InspectionApproved,
               InspectionItemRejected, InspectionItemsMerged, InspectionItemMerged, InspectionChecklistPublished,
               SecondmentConsented, SecondmentApproved, SecondmentRefused, TrainingPlanPublished),
    )


def build(settings: Settings) -> FastStream:
    return service_app(settings, interface)


settings = Settings()
configure_logging(settings.log_format, settings.log_level, "approvals")
app = build(settings)
