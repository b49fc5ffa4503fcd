"""The sealer: a ``LogSealed`` over every chain head, every N events and at each business day's end.

Why here: the compliance service already reads every event in stream order; sealing is one more
reader of the same stream (an ordered consumer of its own, from sequence 1, the chain heads kept
in memory). One replica seals, the others wait on the advisory lock ``sealer`` as hot standby,
exactly like the projector (``standby.py``).

- **Every N events** (``JIANFU_SEAL_EVERY``): once N events other than seals are stored after the
  last seal's ``up_to_sequence``, a seal covers them, up to the N-th. The boundary follows from
  the log alone, so a sealer that restarts or takes over seals at the same sequence.
- **At each business day's end** (Asia/Shanghai): the sealer looks at the clock
  (``JIANFU_CLOCK``, injectable) every ``JIANFU_SEAL_TICK_SECONDS``. When the business day has
  changed, it reads on until it holds every event stored at that moment (or the log is idle) and
  seals up to there, ``reason=day_end`` and the day that ended. A day during which no sealer ran
  gets no day-end seal; the next seal covers its events.
- **Written once**: seals are one aggregate (``jf.ev.seal.log``), appended with the expected
  subject sequence of the previous seal and a deterministic event id (from the covered sequence,
  or from the day); a sealer that loses a race reloads and seals only what is not sealed yet.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import date

import structlog
from jianfu.compliance.standby import StillHeld, lead_for_ever
from jianfu.events.envelope import SYSTEM_ACTOR, Envelope, stored_hash
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.seal import LogSealed, SealReason
from jianfu.events.sealing import SEAL_AGGREGATE_ID, SEAL_AGGREGATE_TYPE, SEAL_SUBJECT, StoredHeads
from jianfu.events.settings import Clock
from jianfu.events.store import ALL_EVENTS, ConcurrencyConflict, EventStore, History
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import ConsumerConfig, DeliverPolicy
from sqlalchemy.ext.asyncio import AsyncEngine

log = structlog.get_logger("jianfu.compliance.sealer")

@dataclass(frozen=True)
class SealerOptions:
    every: int = 1000
    tick: float = 1.0
    standby_poll: float = 1.0
    retries: int = 10
    retry_initial: float = 0.5
    retry_max: float = 30.0


class Sealer:
    """Run with ``await sealer.run()`` (forever, until cancelled); one per process."""

    def __init__(self, engine: AsyncEngine, store: EventStore, clock: Clock, policy_version: str,
                 options: SealerOptions = SealerOptions()) -> None:
        self.engine, self.store, self.clock = engine, store, clock
        self.policy_version, self.options = policy_version, options
        self.history = History(SEAL_AGGREGATE_TYPE, SEAL_AGGREGATE_ID)

    async def run(self) -> None:
        await lead_for_ever(self.engine, "sealer", self._follow, poll_seconds=self.options.standby_poll,
                            retry_initial=self.options.retry_initial, retry_max=self.options.retry_max,
                            failed=self._failed)

    @staticmethod
    def _failed(error: Exception, retry_in: float) -> None:
        log.exception("sealer_restarting", error=repr(error), retry_in=retry_in)  # heads are rebuilt from the log

    async def _follow(self, still_held: StillHeld) -> None:
        self.history = await self.store.load(SEAL_AGGREGATE_TYPE, SEAL_AGGREGATE_ID)
        heads, unsealed, sealed_up_to = StoredHeads(), 0, self._sealed_up_to()
        day, day_end = self.clock.today(), None  # day_end: (the day that ended, sequence to read to)
        sub = await self.store.js.subscribe(ALL_EVENTS, stream=self.store.stream, ordered_consumer=True,
                                            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                                            config=ConsumerConfig(opt_start_seq=1))
        log.info("sealer_following", every=self.options.every, sealed_up_to=sealed_up_to)
        look_at = time.monotonic()
        try:
            while True:
                try:
                    msg = await sub.next_msg(timeout=self.options.tick)
                except NatsTimeoutError:
                    msg = None
                if msg is not None:
                    sequence = msg.metadata.sequence.stream
                    heads.add(sequence, msg.subject, stored_hash(msg.data))
                    if msg.subject != SEAL_SUBJECT and sequence > sealed_up_to:
                        unsealed += 1
                    if unsealed >= self.options.every:
                        await self._seal(heads, SealReason.EVERY_N_EVENTS)
                        unsealed, sealed_up_to = 0, self._sealed_up_to()
                if msg is None or time.monotonic() >= look_at:
                    await still_held()
                    look_at = time.monotonic() + self.options.tick
                    today = self.clock.today()
                    if today > day and day_end is None:
                        day_end = (day, await self.store.last_sequence())
                    day = today
                if day_end and (msg is None or heads.position >= day_end[1]):
                    await self._seal(heads, SealReason.DAY_END, day_end[0])
                    unsealed, day_end, sealed_up_to = 0, None, self._sealed_up_to()
        finally:
            await asyncio.shield(sub.unsubscribe())

    def _sealed_up_to(self) -> int:
        last = self._last_seal()
        return last.up_to_sequence if last else 0

    def _last_seal(self) -> LogSealed | None:
        for stored in reversed(self.history.events):
            if stored.envelope.event_type == LogSealed.__name__:
                return LogSealed.model_validate(stored.envelope.data)
        return None

    async def _seal(self, heads: StoredHeads, reason: SealReason, day: date | None = None) -> None:
        """Append the seal unless one already covers this point; on a lost race, reload and decide again."""
        for _ in range(self.options.retries):
            event = self._decide(heads, reason, day)
            if event is None:
                return
            try:
                [stored] = await self.store.append(self.history, [event])
            except ConcurrencyConflict:
                self.history = await self.store.load(SEAL_AGGREGATE_TYPE, SEAL_AGGREGATE_ID)
                continue
            log.info("log_sealed", sequence=stored.sequence, reason=reason.value, up_to_sequence=heads.position,
                     seal_number=stored.envelope.data["seal_number"], chains=len(heads.heads))
            return
        raise ConcurrencyConflict(SEAL_SUBJECT)

    def _decide(self, heads: StoredHeads, reason: SealReason, day: date | None) -> Envelope | None:
        last = self._last_seal()
        key = f"day-end-{day}" if reason is SealReason.DAY_END else f"up-to-{heads.position}"
        context = CommandContext(SYSTEM_ACTOR, f"seal-{key}", f"seal-{key}", self.policy_version, self.clock.now())
        seal = heads.seal(last.seal_number + 1 if last else 1, self.history.last_hash, reason=reason,
                          business_day=day)
        event = context.event(seal, SEAL_AGGREGATE_ID)
        already = last is not None and (last.up_to_sequence > heads.position or (
            reason is SealReason.EVERY_N_EVENTS and last.up_to_sequence == heads.position))
        return None if already or self.history.find(event.event_id) else event
