"""S7–S10 through the running detector on a real log (nats-server) and real state (PostgreSQL):
the facts appended as the command services would, the days appended by the day scheduler, the
decisions appended by the detector. Then a fresh detector over the same log (a database of its
own, from sequence 1) appends nothing new and decides the same ids: a rebuild reproduces every
time-driven violation."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, date, datetime, timedelta

from jianfu.compliance.database import make_engine
from jianfu.compliance.migrations import migrate
from jianfu.compliance.projector import Projector
from jianfu.compliance.scheduler import DayScheduler, SchedulerOptions
from jianfu.compliance.standby import cancel_and_wait
from jianfu.events.envelope import Actor
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.compliance import Rule, ViolationDetected
from jianfu.events.schemas.meetings import MeetingMode, MeetingScheduled, Participant
from jianfu.events.schemas.secondments import SecondmentEndingSoon, TeacherReturned, TeacherSeconded
from jianfu.events.schemas.training import TrainingSessionReported
from jianfu.events.settings import BUSINESS_ZONE, FileClock
from jianfu.events.store import execute

from tests.conftest import fresh_database
from tests.detecting import detecting
from tests.factories import DIRECTORY, POLICY, SCHOOLS

LEFT = date(2026, 3, 2)
DAY_184 = LEFT + timedelta(days=POLICY.secondment.max_days)
UNIT, SCHOOL = "dept-publicity", SCHOOLS[0]
OPTIONS = SchedulerOptions(tick=0.05, standby_poll=0.05, retry_initial=0.05, retry_max=0.5)


async def append(store, org: str, data, aggregate_id: str, day: date) -> str:
    moment = datetime(day.year, day.month, day.day, 10, tzinfo=BUSINESS_ZONE).astimezone(UTC)
    context = CommandContext(Actor(org_id=org, org_kind=DIRECTORY.get(org).kind), str(uuid.uuid4()),
                             str(uuid.uuid4()), POLICY.version, moment)
    envelope = context.event(data, aggregate_id)
    return (await execute(store, envelope.aggregate_type, envelope.aggregate_id, lambda h: [envelope]))[0].envelope.event_id


def seconded(teacher: str, approved: bool = True, ends_on: date | None = None) -> TeacherSeconded:
    return TeacherSeconded(teacher_id=teacher, school_id=SCHOOL, borrowing_org_id=UNIT, left_on=LEFT,
                           secondment_id=uuid.uuid4(), consented=True, approved=approved,
                           ends_on=ends_on or LEFT + timedelta(days=300), reported_by_org_id=UNIT)


async def settle(projector: Projector, store, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        last = await store.last_sequence()
        await projector.wait_for(last, max(deadline - time.monotonic(), 0.1))
        if await store.last_sequence() == last:
            return


async def decided(store) -> dict[str, list]:
    """Every violation and notice in the log, by rule (notices under their event type)."""
    found: dict[str, list] = {}
    async for stored in store.replay():
        if stored.envelope.event_type == ViolationDetected.__name__:
            violation = ViolationDetected.model_validate(stored.envelope.data)
            found.setdefault(violation.rule.value, []).append(violation)
        elif stored.envelope.event_type == SecondmentEndingSoon.__name__:
            found.setdefault(SecondmentEndingSoon.__name__, []).append(
                SecondmentEndingSoon.model_validate(stored.envelope.data))
    return found


async def scheduled(engine, store, path, day: date) -> None:
    """A day scheduler runs on ``day`` until yesterday is on record, then stops."""
    FileClock.move_to(path, day)
    scheduler = DayScheduler(engine, store, FileClock(path), POLICY.version, OPTIONS)
    task = asyncio.create_task(scheduler.run())
    try:
        while True:
            history = await store.load("calendar", "days")
            if history.envelopes and history.envelopes[-1].data["day"] == (day - timedelta(days=1)).isoformat():
                return
            await asyncio.sleep(0.05)
    finally:
        await cancel_and_wait(task)


async def test_s7_s10_live_and_rebuilt_the_same_violations_the_184th_day_once_across_a_scheduler_restart(
        engine, log, tmp_path):
    """S7: overdue on the 184th day once (the scheduler restarting that day), notice once,
    unapproved; S8, S9, S10 on their facts; then a fresh detector over the same log appends
    nothing and decides the same ids."""
    store, clock = log.store, tmp_path / "today"
    await append(store, UNIT, seconded("t-away"), "t-away", LEFT)
    await append(store, UNIT, seconded("t-unapproved", approved=False, ends_on=LEFT + timedelta(days=20)),
                 "t-unapproved", LEFT)
    await append(store, UNIT, TeacherReturned(teacher_id="t-unapproved", school_id=SCHOOL, borrowing_org_id=UNIT,
                                              secondment_id=None, left_on=LEFT, returned_on=LEFT + timedelta(days=10),
                                              reported_by_org_id=SCHOOL), "t-unapproved", LEFT + timedelta(days=10))
    await append(store, UNIT, seconded("t-ending", ends_on=LEFT + timedelta(days=60)), "t-ending", LEFT)
    held = date(2026, 4, 20)
    session = TrainingSessionReported(session_id=uuid.uuid4(), organiser_org_id="dept-emergency", title="安全生产培训",
                                      held_on=held, semester="2026-spring",
                                      level=None, plan_code=None, teachers_required=True, teacher_ids=(),
                                      participants=30, reported_by_org_id="dept-emergency")
    await append(store, "dept-emergency", session, str(session.session_id), held)
    meetings = [MeetingScheduled(meeting_id=uuid.uuid4(), organiser_org_id=unit, title="工作部署会",
                                 concerns_teaching=unit == "edu-bureau", held_on=held, semester="2026-spring",
                                 mode=MeetingMode.IN_PERSON, venue_id="venue-yinchuan", sub_venue_ids=(),
                                 participants=tuple(Participant(teacher_id=f"t-m{n}", school_id=SCHOOLS[n])
                                                    for n in range(6)), scheduled_on=held)
                for unit in ("edu-bureau", "dept-health", "dept-fire", "dept-justice")]
    for meeting in meetings:
        await append(store, meeting.organiser_org_id, meeting, str(meeting.meeting_id), held)

    async with detecting(engine, log, batch=32) as (projector, seen):
        await scheduled(engine, store, clock, DAY_184)  # the days up to the 183rd
        await settle(projector, store)
        assert Rule.SECONDMENT_OVERDUE.value not in await decided(store)
        await scheduled(engine, store, clock, DAY_184 + timedelta(days=1))  # the 184th day ends ...
        await scheduled(engine, store, clock, DAY_184 + timedelta(days=1))  # ... and the scheduler restarts that day
        await settle(projector, store)
        live_ids = list(seen.ids)
    found = await decided(store)
    assert {rule: len(items) for rule, items in found.items()} == {
        Rule.UNAPPROVED_SECONDMENT.value: 1, Rule.SECONDMENT_OVERDUE.value: 2, SecondmentEndingSoon.__name__: 2,
        Rule.NON_EDUCATION_TRAINING.value: 1, Rule.VIDEO_SUB_VENUE_REQUIRED.value: 4,
        Rule.NON_EDUCATION_MEETING_FOR_TEACHERS.value: 3, Rule.MEETING_QUOTA_EXCEEDED.value: 6}
    overdue = {v.teacher_id: v for v in found[Rule.SECONDMENT_OVERDUE.value]}
    assert overdue["t-away"].evidence["limit_passed_on"] == DAY_184.isoformat()
    assert set(overdue) == {"t-away", "t-ending"}  # t-ending's last day passed unreported: still away
    # t-ending on the DayEnded 30 days before its last day; t-unapproved (20 days) at once, on its report
    assert {n.teacher_id: n.noticed_on for n in found[SecondmentEndingSoon.__name__]} == {
        "t-ending": LEFT + timedelta(days=30), "t-unapproved": LEFT}
    assert {v.responsible_org_id for v in found[Rule.MEETING_QUOTA_EXCEEDED.value]} == {"dept-justice"}

    last = await store.last_sequence()
    async with fresh_database("rebuild") as url:
        await migrate(url)
        rebuilt = make_engine(url)
        try:
            async with detecting(rebuilt, log, batch=32) as (projector, seen):
                await settle(projector, store)
                assert await store.last_sequence() == last  # nothing new appended
                assert set(seen.ids) == set(live_ids)
        finally:
            await rebuilt.dispose()
