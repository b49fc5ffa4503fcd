"""Composition root of the requests service: ``faststream run jianfu.requests.app:app``."""

from __future__ import annotations

from functools import partial

from faststream import FastStream
from jianfu.events.commands import Router
from jianfu.events.dependencies import Deps
from jianfu.events.logging import configure_logging
from jianfu.events.organisations import DECLARING_KINDS, OrgKind
from jianfu.events.runtime import Interface, service_app
from jianfu.events.schemas.campus_entry import (
    ActivityHeldReported,
    ActivityRequested,
    CampusEntryRefused,
    RecordActivityHeld,
    RecordEntryRefused,
    RequestActivity,
)
from jianfu.events.schemas.inspections import (
    DataRequestIssued,
    InspectionItemProposed,
    InspectionVisitReported,
    IssueDataRequest,
    ProposeInspectionItem,
    ReportInspectionVisit,
)
from jianfu.events.schemas.meetings import MeetingScheduled, ScheduleMeeting
from jianfu.events.schemas.secondments import (
    ReportTeacherReturned,
    ReportTeacherSeconded,
    RequestSecondment,
    SecondmentRequested,
    TeacherReturned,
    TeacherSeconded,
)
from jianfu.events.schemas.teachers import RegisterTeacher, TeacherRegistered
from jianfu.events.schemas.training import ReportTrainingSession, TrainingSessionReported
from jianfu.events.settings import Settings
from jianfu.requests import handlers
from jianfu.requests.domain.inspections import UNIT_KINDS, VISIT_REPORTING_KINDS
from jianfu.requests.domain.meetings import SCHEDULING_KINDS
from jianfu.requests.domain.secondments import REPORTING_KINDS
from jianfu.requests.domain.teachers import REGISTERING_KINDS
from jianfu.requests.domain.training import ORGANISER_KINDS

TEACHER_LIST_MAX_PAYLOAD_BYTES = 512 * 1024
"""A meeting names up to 2,000 participants (teacher and school ids of up to 63 characters each,
some 330 KiB at most) and a training session up to 2,000 teacher ids: over the 64 KiB of other
commands; at 512 KiB the event still fits NATS's 1 MB payload."""


def interface(deps: Deps, settings: Settings) -> Interface:
    router = Router("requests", deps.directory, max_payload_bytes=settings.max_payload_bytes, ledger=deps.ledger)
    # S3: organs and mass organisations declare; schools report what was held on their campus.
    router.add(RequestActivity, partial(handlers.request_activity, deps=deps), DECLARING_KINDS)
    router.add(RecordActivityHeld, partial(handlers.record_activity_held, deps=deps), {OrgKind.SCHOOL})
    router.add(RecordEntryRefused, partial(handlers.record_entry_refused, deps=deps), {OrgKind.SCHOOL})
    # S1: units propose inspection items; the school or the visiting unit reports a visit.
    router.add(ProposeInspectionItem, partial(handlers.propose_inspection_item, deps=deps), UNIT_KINDS)
    router.add(ReportInspectionVisit, partial(handlers.report_inspection_visit, deps=deps), VISIT_REPORTING_KINDS)
    # S2: units ask schools for data.
    router.add(IssueDataRequest, partial(handlers.issue_data_request, deps=deps), UNIT_KINDS)
    # S7–S10: schools (and the education bureau) register teachers; units request a teacher, the
    # school or the unit reports departures and returns; training held; meetings scheduled.
    router.add(RegisterTeacher, partial(handlers.register_teacher, deps=deps), REGISTERING_KINDS)
    router.add(RequestSecondment, partial(handlers.request_secondment, deps=deps), UNIT_KINDS)
    router.add(ReportTeacherSeconded, partial(handlers.report_teacher_seconded, deps=deps), REPORTING_KINDS)
    router.add(ReportTeacherReturned, partial(handlers.report_teacher_returned, deps=deps), REPORTING_KINDS)
    router.add(ReportTrainingSession, partial(handlers.report_training_session, deps=deps), ORGANISER_KINDS,
               max_payload_bytes=TEACHER_LIST_MAX_PAYLOAD_BYTES)
    router.add(ScheduleMeeting, partial(handlers.schedule_meeting, deps=deps), SCHEDULING_KINDS,
               max_payload_bytes=TEACHER_LIST_MAX_PAYLOAD_BYTES)
    return Interface("requests", "Intake of what units and schools submit.", routers=(router,),
                     emits=(ActivityRequested, ActivityHeldReported, CampusEntryRefused, InspectionItemProposed,
                            InspectionVisitReported, DataRequestIssued, TeacherRegistered, SecondmentRequested,
                            TeacherSeconded, TeacherReturned, TrainingSessionReported, MeetingScheduled))


def build(settings: Settings) -> FastStream:
    return service_app(settings, interface)


settings = Settings()
configure_logging(settings.log_format, settings.log_level, "requests")
app = build(settings)
