"""Composition root of the compliance service: ``faststream run jianfu.compliance.app:app``.

It answers the compliance queries (queue group ``compliance``) and runs four background tasks
once the broker is up: the projector (the read models), the detector (a projector of its own
that appends violations and notices), the sealer (``sealer.py``) and the day scheduler
(``scheduler.py``: one ``DayEnded`` per business day). Every replica answers queries; one projects,
one detects, one seals and one schedules, the others wait on the locks as hot standby.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from functools import partial

from faststream import FastStream
from jianfu.compliance import handlers
from jianfu.compliance.database import make_engine
from jianfu.compliance.detection import detection, detector
from jianfu.compliance.migrations import migrate
from jianfu.compliance.projector import Projector, ProjectorOptions
from jianfu.compliance.scheduler import DayScheduler, SchedulerOptions
from jianfu.compliance.sealer import Sealer, SealerOptions
from jianfu.compliance.settings import ComplianceSettings
from jianfu.compliance.standby import cancel_and_wait
from jianfu.events.commands import Router
from jianfu.events.dependencies import Deps
from jianfu.events.logging import configure_logging
from jianfu.events.runtime import Interface, Lifeline, connected_deps, launch, make_app, make_broker
from jianfu.events.schemas import meetings, secondments, teachers, training
from jianfu.events.schemas.campus_entry import (
    GetApplications,
    GetCampusEntryCounters,
    GetSemesterList,
)
from jianfu.events.schemas.cases import GetAlertDeliveries, GetCaseHistory, GetCases, GetCirculations
from jianfu.events.schemas.compliance import GetViolations, ViolationDetected
from jianfu.events.schemas.days import DayEnded
from jianfu.events.schemas.directory import ListOrganisations
from jianfu.events.schemas.escalation import RectificationDeadlineMissed
from jianfu.events.schemas.inspections import GetInspectionChecklist, GetInspectionCounters, GetInspectionItems
from jianfu.events.schemas.seal import LogSealed
from jianfu.events.schemas.secondments import SecondmentEndingSoon
from jianfu.events.settings import Settings
from sqlalchemy.ext.asyncio import AsyncEngine


def interface(deps: Deps, settings: Settings, engine: AsyncEngine | None = None) -> Interface:
    reads = handlers.ReadDeps(engine or make_engine(settings.database_url), deps.directory, deps.policy,
                              distances=deps.distances)
    router = Router("compliance", deps.directory, kind="q", max_payload_bytes=settings.max_payload_bytes)
    router.add(ListOrganisations, partial(handlers.list_organisations, deps=reads))  # public
    router.add(GetSemesterList, partial(handlers.get_semester_list, deps=reads))  # S3: public
    router.add(GetApplications, partial(handlers.get_applications, deps=reads), handlers.APPLICATION_READERS)
    router.add(GetCampusEntryCounters, partial(handlers.get_campus_entry_counters, deps=reads),
               handlers.COUNTER_READERS)
    router.add(GetViolations, partial(handlers.get_violations, deps=reads))
    router.add(GetInspectionChecklist, partial(handlers.get_inspection_checklist, deps=reads))  # S1: public
    router.add(GetInspectionItems, partial(handlers.get_inspection_items, deps=reads), handlers.ITEM_READERS)
    router.add(GetInspectionCounters, partial(handlers.get_inspection_counters, deps=reads),
               handlers.COUNTER_READERS)
    router.add(teachers.GetTeachers, partial(handlers.get_teachers, deps=reads))  # ids for all, names for few
    router.add(secondments.GetSecondments, partial(handlers.get_secondments, deps=reads), handlers.SECONDMENT_READERS)
    router.add(secondments.GetSecondmentCounters, partial(handlers.get_secondment_counters, deps=reads),
               handlers.SECONDMENT_READERS)
    router.add(training.GetTrainingPlan, partial(handlers.get_training_plan, deps=reads))  # S8: public
    router.add(training.GetTrainingSessions, partial(handlers.get_training_sessions, deps=reads))  # S8: public
    router.add(meetings.GetMeetings, partial(handlers.get_meetings, deps=reads), handlers.MEETING_READERS)
    router.add(meetings.GetMeetingCounters, partial(handlers.get_meeting_counters, deps=reads), handlers.COUNTER_READERS)
    router.add(GetCases, partial(handlers.get_cases, deps=reads), handlers.G2_READERS)  # G2
    router.add(GetCaseHistory, partial(handlers.get_case_history, deps=reads), handlers.G2_READERS)
    router.add(GetCirculations, partial(handlers.get_circulations, deps=reads), handlers.G2_READERS)
    router.add(GetAlertDeliveries, partial(handlers.get_alert_deliveries, deps=reads), handlers.G2_READERS)
    return Interface("compliance", "Read models of the log (lists, counters, violations), the detector, the log's "
                     "seals and the days ended.", routers=(router,),
                     emits=(ViolationDetected, LogSealed, DayEnded, SecondmentEndingSoon, RectificationDeadlineMissed), projected=("jf.ev.>",))


def build(settings: ComplianceSettings) -> FastStream:
    lifeline = Lifeline()
    broker = make_broker(settings, lifeline)
    app = make_app(broker, lifeline)
    deps = connected_deps(app, broker, settings)
    engine = make_engine(settings.database_url)
    launch(broker, settings, interface(deps, settings, engine))
    tasks: list[asyncio.Task] = []

    @app.on_startup
    async def migrate_schema() -> None:
        if settings.migrate_on_start:
            await migrate(settings.database_url)

    @app.after_startup
    async def start_projector() -> None:
        js = broker.connection.jetstream()
        options = ProjectorOptions(durable=settings.projector_durable, stream=settings.stream,
                                   batch=settings.projector_batch, standby_poll=settings.standby_poll_seconds)
        projector = Projector(engine, js, options)
        tasks.append(asyncio.create_task(projector.run(), name="compliance-projector"))
        s3 = detector(engine, js, deps.store, deps.clock, detection(settings),
                      replace(options, durable=settings.detector_durable))
        tasks.append(asyncio.create_task(s3.run(), name="compliance-detector"))
        sealer = Sealer(engine, deps.store, deps.clock, settings.policy.version, SealerOptions(
            every=settings.seal_every, tick=settings.seal_tick_seconds, standby_poll=settings.standby_poll_seconds))
        tasks.append(asyncio.create_task(sealer.run(), name="compliance-sealer"))
        days = DayScheduler(engine, deps.store, deps.clock, settings.policy.version, SchedulerOptions(
            tick=settings.day_tick_seconds, standby_poll=settings.standby_poll_seconds),
            not_before=settings.policy.plan_in_force_from)
        tasks.append(asyncio.create_task(days.run(), name="compliance-day-scheduler"))

    @app.on_shutdown
    async def stop_projector() -> None:
        for task in tasks:
            await cancel_and_wait(task)
        await engine.dispose()

    return app


settings = ComplianceSettings()
configure_logging(settings.log_format, settings.log_level, "compliance")
app = build(settings)
