"""Builders shared by the compliance tests: S3 semesters appended to the real log as the services
would append them, and projectors running in-process."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, date, datetime

from jianfu.compliance.detection import detector
from jianfu.compliance.domain.folding import Projection
from jianfu.compliance.domain.s3_detection import s3_detection
from jianfu.compliance.projector import Projector, ProjectorOptions
from jianfu.compliance.standby import cancel_and_wait
from jianfu.events.envelope import Actor
from jianfu.events.errors import RefusalCode
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.base import EventData
from jianfu.events.schemas.campus_entry import (
    ActivityCertified,
    ActivityExemptionRecorded,
    ActivityHeldReported,
    ActivityRejected,
    ActivityRequested,
    ExemptCategory,
    ListedActivity,
    Route,
    SemesterListPublished,
)
from jianfu.events.settings import SystemClock
from jianfu.events.store import EventStore, StoredEvent, execute

from tests.factories import DIRECTORY, POLICY, application

NAMES = {org.org_id: org.name for org in DIRECTORY.organisations}
_years = itertools.count(random.randrange(2100, 2900, 50))


def unique_semester() -> str:
    """A semester no other test of the session writes to (the log is shared)."""
    return f"{next(_years)}-autumn"


DETECTION = s3_detection(POLICY, NAMES, "edu-bureau")  # as detection(settings) builds it


class Compliance:
    """The projector and the S3 detector, running side by side as the compliance service runs them."""

    def __init__(self, projector: Projector, detector: Projector) -> None:
        self.projector = projector
        self.detector = detector

    @property
    def checkpoint(self) -> int:
        return min(self.projector.checkpoint, self.detector.checkpoint)

    @property
    def active(self) -> bool:
        return self.projector.active

    async def wait_for(self, sequence: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        await self.projector.wait_for(sequence, timeout)
        await self.detector.wait_for(sequence, max(deadline - time.monotonic(), 0.1))


@asynccontextmanager
async def running(engine, js, store: EventStore, durable: str | None = None, batch: int = 64,
                  detection: Projection = DETECTION) -> AsyncIterator[Compliance]:
    """A projector and a detector running as tasks until the block ends."""
    durable = durable or f"test-{uuid.uuid4().hex[:8]}"
    options = ProjectorOptions(durable=durable, batch=batch, fetch_timeout=0.2, standby_poll=0.1, retry_initial=0.1,
                               retry_max=1.0)
    both = Compliance(Projector(engine, js, options),
                      detector(engine, js, store, SystemClock(), detection, replace(options, durable=f"{durable}-d")))
    tasks = [asyncio.create_task(both.projector.run()), asyncio.create_task(both.detector.run())]
    try:
        yield both
    finally:
        for task in tasks:
            await cancel_and_wait(task)


async def settle(compliance: Compliance, store: EventStore, timeout: float = 15.0) -> int:
    """Wait until the projector and the detector have applied the whole log, including the
    violations the detector appended (and the projector then projected)."""
    deadline = time.monotonic() + timeout
    while True:
        last = await store.last_sequence()
        await compliance.wait_for(last, max(deadline - time.monotonic(), 0.1))
        if await store.last_sequence() == last:
            return last


class S3Semester:
    """One semester's S3 events, appended to the real log as requests and approvals would."""

    def __init__(self, store: EventStore, semester: str | None = None) -> None:
        self.store = store
        self.semester = semester or unique_semester()
        self.year = int(self.semester[:4])
        self.correlation_id = str(uuid.uuid4())

    def _context(self, org_id: str) -> CommandContext:
        org = DIRECTORY.get(org_id)
        now = datetime(self.year, 7, 10, 9, tzinfo=UTC)
        return CommandContext(Actor(org_id=org_id, org_kind=org.kind), str(uuid.uuid4()), self.correlation_id,
                              POLICY.version, now)

    async def request(self, org: str, schools: Sequence[str], route: Route = Route.REGULAR,
                      title: str | None = None, **form_overrides) -> ActivityRequested:
        form = application(target_semester=self.semester, start_date=f"{self.year}-09-15",
                           end_date=f"{self.year}-12-15", scope={"school_ids": list(schools)},
                           title=title or f"进校园活动 {uuid.uuid4().hex[:6]}", **form_overrides)
        form.pop("command_id")
        if route is Route.URGENT:
            form.update(declaration_type="urgent", urgency_reason="突发公共卫生事件")
        if route is Route.EXEMPT:
            form["exemption_claim"] = {"category": "city_creation", "reference": "全国文明城市创建工作方案"}
        event = ActivityRequested(**form, activity_id=uuid.uuid4(), applicant_org_id=org, route=route,
                                  declared_on=date(self.year, 7, 10), in_window=route is Route.REGULAR,
                                  school_ids=tuple(sorted(schools)))
        await self._append(self._context(org).event(event, str(event.activity_id)))
        return event

    async def certify(self, request: ActivityRequested) -> None:
        await self._decide(ActivityCertified(activity_id=request.activity_id, applicant_org_id=request.applicant_org_id,
                                             listing=listing(request), semester=self.semester))

    async def exempt(self, request: ActivityRequested) -> None:
        await self._decide(ActivityExemptionRecorded(
            activity_id=request.activity_id, applicant_org_id=request.applicant_org_id,
            category=ExemptCategory.CITY_CREATION, reference="全国文明城市创建工作方案", listing=listing(request),
            semester=self.semester))

    async def reject(self, request: ActivityRequested, code: RefusalCode = RefusalCode.NOT_STUDENT_FOCUSED,
                     automatic: bool = False) -> None:
        await self._decide(ActivityRejected(activity_id=request.activity_id, applicant_org_id=request.applicant_org_id,
                                            refusal_code=code, reason="区教体局集中认定意见", automatic=automatic,
                                            semester=self.semester))

    async def publish(self, *admitted: ActivityRequested, edition: int = 1) -> None:
        await self._decide(SemesterListPublished(semester=self.semester, edition=edition,
                                                 items=tuple(listing(r) for r in admitted)))

    async def held(self, school: str, organizer: str, title: str, activity_id: uuid.UUID | None = None,
                   held_on: date | None = None) -> StoredEvent:
        report = ActivityHeldReported(
            report_id=uuid.uuid4(), school_id=school, organizer_org_id=organizer, activity_id=activity_id,
            title=title, held_on=held_on or date(self.year, 10, 20), semester=self.semester,
            participants=300, teacher_hours=1.0)
        return await self._append(self._context(school).event(report, str(report.report_id)))

    async def _decide(self, event: EventData) -> None:
        """A decision is an event of its activity; a publication one of the semester list."""
        activity_id = getattr(event, "activity_id", None)
        await self._append(self._context("edu-bureau").event(event, str(activity_id) if activity_id else self.semester))

    async def _append(self, envelope) -> StoredEvent:
        return (await execute(self.store, envelope.aggregate_type, envelope.aggregate_id, lambda h: [envelope]))[0]


def listing(request: ActivityRequested) -> ListedActivity:
    return ListedActivity(
        activity_id=request.activity_id, title=request.title, organizer_org_id=request.applicant_org_id,
        organizer_name=NAMES[request.applicant_org_id], route=request.route, form=request.form,
        frequency=request.frequency, start_date=request.start_date, end_date=request.end_date,
        school_ids=request.school_ids, policy_basis=request.policy_basis)
