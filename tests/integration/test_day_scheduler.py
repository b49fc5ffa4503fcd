"""The day scheduler on a real log (nats-server) and real locks (PostgreSQL): one ``DayEnded``
per business day, consecutive from the log's first day to yesterday by the clock, each once
whoever appends it, whenever it restarts."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from jianfu.cli.supervisor import ServiceProcess, service_env
from jianfu.compliance.database import lock_key
from jianfu.compliance.scheduler import LOCK, DayScheduler, SchedulerOptions, day_ended_event
from jianfu.compliance.standby import cancel_and_wait
from jianfu.events.envelope import Actor, verify_chain
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.days import DAYS_AGGREGATE_ID, DayEnded
from jianfu.events.schemas.teachers import TeacherRegistered
from jianfu.events.settings import FileClock, FixedClock
from jianfu.events.store import EventStore, execute

from tests.factories import DIRECTORY, POLICY, SCHOOLS

OPTIONS = SchedulerOptions(tick=0.05, standby_poll=0.05, retry_initial=0.05, retry_max=0.5)


async def first_event(store, recorded: datetime) -> None:
    """Any event, recorded at ``recorded``: the log's first."""
    school = SCHOOLS[0]
    context = CommandContext(Actor(org_id=school, org_kind=DIRECTORY.get(school).kind), str(uuid.uuid4()),
                             str(uuid.uuid4()), POLICY.version, recorded)
    teacher = f"t-{uuid.uuid4().hex[:8]}"
    data = TeacherRegistered(teacher_id=teacher, school_id=school, name="张老师", subject="语文")
    envelope = context.event(data, teacher)
    await execute(store, envelope.aggregate_type, envelope.aggregate_id, lambda history: [envelope])


async def days_on_record(store) -> list[date]:
    history = await store.load(DayEnded.aggregate_type, DAYS_AGGREGATE_ID)
    assert verify_chain(history.envelopes) is None
    return [DayEnded.model_validate(e.data).day for e in history.envelopes]


def span(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


async def until(predicate, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "not reached in time"
        await asyncio.sleep(0.05)


async def test_days_are_appended_consecutively_from_the_logs_first_day_to_yesterday_once(engine, log):
    store = log.store
    assert await DayScheduler(engine, store, FixedClock(date(2026, 3, 9)), POLICY.version, OPTIONS).catch_up() == []
    await first_event(store, datetime(2026, 2, 28, 17, 30, tzinfo=UTC))  # 1 March, 01:30 in Beijing
    scheduler = DayScheduler(engine, store, FixedClock(date(2026, 3, 6)), POLICY.version, OPTIONS)
    assert await scheduler.catch_up() == span(date(2026, 3, 1), date(2026, 3, 5))
    assert await scheduler.catch_up() == []
    assert await DayScheduler(engine, store, FixedClock(date(2026, 3, 6)), POLICY.version, OPTIONS).catch_up() == []
    later = DayScheduler(engine, store, FixedClock(date(2026, 3, 9)), POLICY.version, OPTIONS)
    assert await later.catch_up() == span(date(2026, 3, 6), date(2026, 3, 8))
    assert await days_on_record(store) == span(date(2026, 3, 1), date(2026, 3, 8))
    history = await store.load(DayEnded.aggregate_type, DAYS_AGGREGATE_ID)
    assert [e.event_id for e in history.envelopes] == [
        day_ended_event(day, POLICY.version).event_id for day in span(date(2026, 3, 1), date(2026, 3, 8))]
    first = history.envelopes[0]  # its times: the moment 1 March ended in Beijing, whenever it was appended
    assert first.occurred_at == first.recorded_at == datetime(2026, 3, 1, 16, tzinfo=UTC)


async def test_no_day_before_the_plan_took_effect_nor_for_a_log_begun_in_year_one(engine, log):
    store = log.store
    await first_event(store, datetime(1, 1, 1, 2, tzinfo=UTC))
    plan = POLICY.plan_in_force_from
    scheduler = DayScheduler(engine, store, FixedClock(plan + timedelta(days=3)), POLICY.version, OPTIONS,
                             not_before=plan)
    assert await scheduler.catch_up() == span(plan, plan + timedelta(days=2))


async def test_a_log_begun_in_the_last_hours_of_year_9999_has_no_day_ended_yet(engine, log):
    await first_event(log.store, datetime(9999, 12, 31, 20, tzinfo=UTC))  # no date in Beijing
    assert await DayScheduler(engine, log.store, FixedClock(date(2026, 3, 1)), POLICY.version,
                              OPTIONS).catch_up() == []


async def test_two_schedulers_at_once_append_each_day_once(engine, log):
    """Without the lock between them (both catch up at the same moment): the expected sequence and
    the ids from the date leave one chain of days, each once."""
    store = log.store
    await first_event(store, datetime(2026, 1, 1, 2, tzinfo=UTC))
    clock = FixedClock(date(2026, 2, 15))
    both = [DayScheduler(engine, store, clock, POLICY.version, OPTIONS) for _ in range(2)]
    appended = await asyncio.gather(*(scheduler.catch_up() for scheduler in both))
    assert sorted(appended[0] + appended[1]) == span(date(2026, 1, 1), date(2026, 2, 14))
    assert await days_on_record(store) == span(date(2026, 1, 1), date(2026, 2, 14))


async def test_two_running_schedulers_one_leads_and_each_day_is_appended_once(engine, log, tmp_path):
    store = log.store
    await first_event(store, datetime(2026, 4, 1, 2, tzinfo=UTC))
    path = tmp_path / "today"
    FileClock.move_to(path, date(2026, 4, 5))
    tasks = [asyncio.create_task(DayScheduler(engine, store, FileClock(path), POLICY.version, OPTIONS).run())
             for _ in range(2)]
    try:
        await until(lambda: _reached(store, date(2026, 4, 4)))
        async with engine.connect() as conn:  # one of them leads: the lock is taken
            assert not await conn.scalar(sa.select(sa.func.pg_try_advisory_lock(lock_key(LOCK))))
        FileClock.move_to(path, date(2026, 4, 8))
        await until(lambda: _reached(store, date(2026, 4, 7)))
    finally:
        for task in tasks:
            await cancel_and_wait(task)
    assert await days_on_record(store) == span(date(2026, 4, 1), date(2026, 4, 7))


async def test_a_restart_on_the_same_day_appends_nothing_twice(engine, log):
    store = log.store
    await first_event(store, datetime(2026, 5, 1, 2, tzinfo=UTC))
    clock = FixedClock(date(2026, 5, 4))
    first = asyncio.create_task(DayScheduler(engine, store, clock, POLICY.version, OPTIONS).run())
    await until(lambda: _reached(store, date(2026, 5, 3)))
    await cancel_and_wait(first)
    restarted = DayScheduler(engine, store, clock, POLICY.version, OPTIONS)
    assert await restarted.catch_up() == []
    second = asyncio.create_task(restarted.run())
    await asyncio.sleep(0.3)  # several ticks of the restarted scheduler (nothing to wait for: it must append nothing)
    await cancel_and_wait(second)
    assert await days_on_record(store) == span(date(2026, 5, 1), date(2026, 5, 3))


class StopsAfter(EventStore):
    """The log's store, except that the ``n``-th append hangs (until cancelled) once it is stored:
    a scheduler cancelled there is cut off in the middle of a catch-up, wherever the machine is."""

    def __init__(self, store: EventStore, n: int) -> None:
        super().__init__(store.js, store.stream)
        self.n, self.reached = n, asyncio.Event()

    async def append(self, history, events):
        stored = await super().append(history, events)
        self.n -= 1
        if self.n == 0:
            self.reached.set()
            await asyncio.Event().wait()
        return stored


async def test_a_scheduler_cancelled_mid_catch_up_is_continued_by_the_next_without_a_gap_or_a_repeat(engine, log):
    """Three years of downtime: the first scheduler is cancelled after 20 days, the next goes on
    after the last day on record."""
    store = log.store
    await first_event(store, datetime(2023, 1, 1, 2, tzinfo=UTC))
    clock, stopping = FixedClock(date(2026, 1, 1)), StopsAfter(store, 20)
    first = asyncio.create_task(DayScheduler(engine, stopping, clock, POLICY.version, OPTIONS).run())
    await asyncio.wait_for(stopping.reached.wait(), 30)
    await cancel_and_wait(first)
    assert await days_on_record(store) == span(date(2023, 1, 1), date(2023, 1, 20))
    assert await DayScheduler(engine, store, clock, POLICY.version, OPTIONS).catch_up() == span(
        date(2023, 1, 21), date(2025, 12, 31))
    assert await days_on_record(store) == span(date(2023, 1, 1), date(2025, 12, 31))


async def _reached(store, day: date) -> bool:
    on_record = await days_on_record(store)
    return bool(on_record) and on_record[-1] >= day


async def test_a_compliance_process_killed_mid_catch_up_leaves_days_the_next_scheduler_continues(engine, log,
                                                                                                tmp_path):
    """kill -9 of the compliance service while it appends two centuries of days: what it appended
    is consecutive and once, from the day the plan took effect (the log's first event is older),
    and the next scheduler goes on after the last day on record."""
    store = log.store
    await first_event(store, datetime(1920, 1, 1, 2, tzinfo=UTC))
    env = service_env(log.url, engine.url.render_as_string(hide_password=False), clock="fixed:2200-01-01",
                      JIANFU_LOG_LEVEL="WARNING")
    process = ServiceProcess("compliance", env, tmp_path).start()
    try:
        async def some_days() -> bool:
            assert process.running, f"the service exited; see {process.log_path}"
            return len(await days_on_record(store)) >= 300

        await until(some_days, 60)
    finally:
        process.kill()  # SIGKILL: no shutdown hook, appends possibly in flight
    cut = await days_on_record(store)
    plan = POLICY.plan_in_force_from
    assert cut == span(plan, cut[-1]) and cut[-1] < date(2199, 12, 31), "killed too late"
    resumed = cut[-1] + timedelta(days=30)
    appended = await DayScheduler(engine, store, FixedClock(resumed + timedelta(days=1)), POLICY.version,
                                  OPTIONS).catch_up()
    assert appended == span(appended[0], resumed) and appended[0] > cut[-1]  # (an append in flight may have landed)
    assert await days_on_record(store) == span(plan, resumed)
