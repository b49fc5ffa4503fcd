"""The day scheduler: one ``DayEnded`` per business day (Asia/Shanghai), so that rules which
depend on time passing (S7: a secondment past its limit, a notice before its end) react to the
log and never read a clock; a replay meets the same days in the same order.

- **Consecutive, none skipped**: after the last day on record comes the next; with none on record
  the first is the business day on which the log's first event was recorded, or the day the plan
  took effect if that is later (``not_before``: no rule judges a day before it, and a log whose
  first event was stored with a time in year 1 must not cost two thousand years of days). The
  last day appended is yesterday by the clock (``JIANFU_CLOCK``); after downtime every missed day
  is appended, in order, on the next look.
- **Once**: the days are one aggregate (``jf.ev.calendar.days``); each ``DayEnded`` is appended
  expecting the one before (optimistic concurrency) and its event id derives from the date. Its
  bytes derive from the date alone too (``occurred_at`` and ``recorded_at`` are the moment the day
  ended), so two schedulers writing the same day write the same event: the store's duplicate
  answer then leaves a history with the right chain hash.
- **Hot standby**: one replica schedules, holding the advisory lock ``day-scheduler``, the others
  wait on it as the sealer's and the projector's standbys do (``standby.py``). A second scheduler
  would be harmless (the two rules above), the lock only spares the log the lost races.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import structlog
from jianfu.compliance.standby import StillHeld, lead_for_ever
from jianfu.events.envelope import SYSTEM_ACTOR, Envelope
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.days import DAYS_AGGREGATE_ID, DayEnded
from jianfu.events.settings import BUSINESS_ZONE, Clock
from jianfu.events.store import ConcurrencyConflict, EventStore, History
from nats.js.errors import NotFoundError
from pydantic import ValidationError

log = structlog.get_logger("jianfu.compliance.scheduler")

LOCK = "day-scheduler"
FIRST_EVENT_TRIES = 100  # messages looked at for the log's first readable event


@dataclass(frozen=True)
class SchedulerOptions:
    tick: float = 1.0
    standby_poll: float = 1.0
    retries: int = 10
    retry_initial: float = 0.5
    retry_max: float = 30.0


def day_end(day: date) -> datetime:
    """The moment the business day ``day`` ended: midnight after it in Asia/Shanghai."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=BUSINESS_ZONE)


def day_ended_event(day: date, policy_version: str) -> Envelope:
    """The ``DayEnded`` of ``day``: everything in it (ids, times) follows from the date."""
    key = f"day-ended-{day.isoformat()}"
    context = CommandContext(SYSTEM_ACTOR, key, key, policy_version, day_end(day))
    return context.event(DayEnded(day=day), DAYS_AGGREGATE_ID)


def last_day(history: History) -> date | None:
    """The last day on record (unreadable events of the aggregate passed over)."""
    for stored in reversed(history.events):
        if stored.envelope.event_type == DayEnded.__name__:
            try:
                return DayEnded.model_validate(stored.envelope.data).day
            except ValidationError:
                continue
    return None


class DayScheduler:
    """Run with ``await scheduler.run()`` (forever, until cancelled); one per process."""

    def __init__(self, engine, store: EventStore, clock: Clock, policy_version: str,
                 options: SchedulerOptions = SchedulerOptions(), not_before: date | None = None) -> None:
        self.engine, self.store, self.clock = engine, store, clock
        self.policy_version, self.options, self.not_before = policy_version, options, not_before
        self._on_record: date | None = None  # the last day known to be on record

    async def run(self) -> None:
        await lead_for_ever(self.engine, LOCK, self._follow, poll_seconds=self.options.standby_poll,
                            retry_initial=self.options.retry_initial, retry_max=self.options.retry_max,
                            failed=self._failed)

    @staticmethod
    def _failed(error: Exception, retry_in: float) -> None:
        log.exception("day_scheduler_restarting", error=repr(error), retry_in=retry_in)

    async def _follow(self, still_held: StillHeld) -> None:
        self._on_record = None  # another replica may have appended while this one waited
        while True:
            await still_held()
            await self.catch_up()
            await asyncio.sleep(self.options.tick)

    async def catch_up(self) -> list[date]:
        """Append every day not on record up to yesterday, in order; return the days appended."""
        yesterday = self.clock.today() - timedelta(days=1)
        if self._on_record is not None and self._on_record >= yesterday:
            return []
        appended: list[date] = []
        conflicts, previous = 0, None
        while conflicts < self.options.retries:
            history = await self.store.load(DayEnded.aggregate_type, DAYS_AGGREGATE_ID)
            day = await self._first_missing(history)
            if day is None:
                return appended  # an empty log: no day has begun yet
            # A lost race after which the days on record moved on is progress, not a failure:
            # another scheduler appended, and there are only so many days up to yesterday.
            conflicts, previous = (conflicts if previous is None or day > previous else conflicts + 1), day
            try:
                while day <= yesterday:
                    [stored] = await self.store.append(history, [day_ended_event(day, self.policy_version)])
                    log.info("day_ended", day=day.isoformat(), sequence=stored.sequence)
                    appended.append(day)
                    day += timedelta(days=1)
            except ConcurrencyConflict:
                continue  # reload and go on after the last day on record
            self._on_record = day - timedelta(days=1)
            return appended
        raise ConcurrencyConflict(f"{DayEnded.aggregate_type}.{DAYS_AGGREGATE_ID}")

    async def _first_missing(self, history: History) -> date | None:
        on_record = last_day(history)
        if on_record is not None:
            return on_record + timedelta(days=1)
        first = await self._first_business_day()
        return first if first is None or self.not_before is None else max(first, self.not_before)

    async def _first_business_day(self) -> date | None:
        """The business day the log's first (readable) event was recorded, or None for an empty log."""
        state = (await self.store.js.stream_info(self.store.stream)).state
        if not state.messages:
            return None
        for sequence in range(state.first_seq, min(state.last_seq, state.first_seq + FIRST_EVENT_TRIES) + 1):
            try:
                msg = await self.store.js.get_msg(self.store.stream, seq=sequence)
                envelope = Envelope.model_validate_json(msg.data)
            except (NotFoundError, ValidationError, ValueError) as error:  # deleted, or not an envelope
                log.warning("day_scheduler_passes_over", sequence=sequence, error=repr(error))
                continue
            recorded = envelope.recorded_at if envelope.recorded_at.tzinfo else envelope.recorded_at.replace(tzinfo=UTC)
            try:
                return recorded.astimezone(BUSINESS_ZONE).date()
            except OverflowError:  # the last hours of year 9999 have no date in Beijing
                return recorded.date()
        return None
