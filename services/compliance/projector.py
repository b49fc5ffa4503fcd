"""A projector: ``jf.ev.>`` in stream order through one projection (``domain/folding.py``) into
its tables: the read model's (``compliance-projector``) or the S3 detector's own state
(``compliance-detector``, which also appends what it decides: ``detection.py``).

A durable pull consumer made with nats-py (FastStream would process a pull batch concurrently
and could not be told where to start). On taking the lead it deletes and re-creates the durable
consumer at checkpoint + 1, because settings given in code never change an existing durable
consumer. Each fetched batch is applied in one transaction with the checkpoint (see
``checkpoint.py``), committed, then acked with one ack (``AckPolicy.ALL``). A transient failure
(a lost connection, a timeout) rolls the transaction back and starts over from the committed
checkpoint, so nothing is lost, nothing is applied twice and nothing is applied out of order.
An event that cannot be applied, or that is not where its envelope says or does not continue
its aggregate's chain (the heads are kept in the read model, ``heads.py``), is quarantined in
that transaction instead (``quarantine.py``); once it is committed, each quarantined event is
logged and alerted on ``jf.sys.alert.compliance.quarantine``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import structlog
from jianfu.compliance.checkpoint import (
    Delivered,
    Emit,
    Projected,
    ensure_checkpoint,
    project,
    read,
    read_checkpoint,
)
from jianfu.compliance.domain.folding import Projection
from jianfu.compliance.read_model import LIVE, ReadModel
from jianfu.compliance.standby import StillHeld, cancel_and_wait, lead_for_ever
from jianfu.events import quarantine
from jianfu.events.store import ALL_EVENTS
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy.ext.asyncio import AsyncEngine

log = structlog.get_logger("jianfu.compliance.projector")


@dataclass(frozen=True)
class ProjectorOptions:
    durable: str = "compliance-projector"
    stream: str = "JIANFU_EVENTS"
    batch: int = 256
    # nats-py's fetch, once a first event has come, waits up to this long for the batch to fill:
    # it bounds how long a lone event waits to be projected (a whole batch never waits).
    fetch_timeout: float = 0.05
    standby_poll: float = 1.0
    ack_wait: float = 60.0
    retry_initial: float = 0.5
    retry_max: float = 30.0


class Projector:
    """Run with ``await projector.run()`` (forever, until cancelled); one per process."""

    def __init__(self, engine: AsyncEngine, js: JetStreamContext, options: ProjectorOptions = ProjectorOptions(),
                 model: ReadModel = LIVE, projection: Projection | None = None, emit: Emit | None = None) -> None:
        self.engine = engine
        self.js = js
        self.options = options
        self.model = model
        self.projection = projection or model.projection
        self.emit = emit
        self.checkpoint = 0
        self.active = False
        self._lock_checked = 0.0

    async def run(self) -> None:
        await lead_for_ever(self.engine, f"projector:{self.model.prefix}", self._lead,
                            poll_seconds=self.options.standby_poll, retry_initial=self.options.retry_initial,
                            retry_max=self.options.retry_max, failed=self._failed)

    async def _lead(self, still_held: StillHeld) -> None:
        self.active = True
        try:
            await self._follow(still_held)
        finally:
            self.active = False

    def _failed(self, error: Exception, retry_in: float) -> None:
        log.exception("projector_restarting", error=repr(error), retry_in=retry_in, checkpoint=self.checkpoint)

    async def wait_for(self, sequence: int, timeout: float = 10.0) -> None:
        """Return once the committed checkpoint reached ``sequence`` (for tests and tools)."""
        deadline = time.monotonic() + timeout
        while self.checkpoint < sequence:
            if time.monotonic() > deadline:
                raise TimeoutError(f"checkpoint {self.checkpoint} did not reach {sequence} in {timeout}s")
            await asyncio.sleep(0.02)

    async def _follow(self, still_held: StillHeld) -> None:
        async with self.engine.begin() as conn:
            await ensure_checkpoint(conn, self.model)
            self.checkpoint = await read_checkpoint(conn, self.model)
        await self._warn_if_ahead_of_the_log()
        sub = await self._consumer(self.checkpoint + 1)
        log.info("projector_following", start_sequence=self.checkpoint + 1, durable=self.options.durable,
                 projection=self.projection.name)
        # The next batch is fetched and read while this one is in the database.
        upcoming = asyncio.create_task(self._fetch(sub))
        try:
            while True:
                messages, delivered = await upcoming
                upcoming = asyncio.create_task(self._fetch(sub))
                await self._still_leading(still_held)
                if not messages:
                    continue  # idle, or a fetch that ended with a status instead of messages
                started = time.perf_counter()
                projected = await project(self.engine, self.model, delivered, self.projection, self.emit)
                await messages[-1].ack()  # AckPolicy.ALL: acks the whole batch
                await self._report(projected)
                # Only now: whoever waits for this checkpoint (wait_for) finds the batch's alerts out too.
                self.checkpoint = projected.checkpoint
                log.info("batch_projected", events=len(messages), checkpoint=self.checkpoint,
                         quarantined=len(projected.quarantined),
                         elapsed_ms=round((time.perf_counter() - started) * 1000, 1))
        finally:
            await cancel_and_wait(upcoming)
            try:
                await asyncio.shield(sub.unsubscribe())
            except Exception as error:  # noqa: BLE001 - the connection may already be gone
                log.warning("unsubscribe_failed", error=repr(error))

    async def _still_leading(self, still_held: StillHeld) -> None:
        """Check the lock's connection at most once per standby poll, not on every fetch."""
        now = time.monotonic()
        if now - self._lock_checked >= self.options.standby_poll:
            await still_held()
            self._lock_checked = now

    async def _fetch(self, sub: JetStreamContext.PullSubscription) -> tuple[list, list[Delivered]]:
        """The next batch as messages (to ack) and as read (to project); nothing when idle."""
        try:
            messages = await sub.fetch(self.options.batch, timeout=self.options.fetch_timeout)
        except (TimeoutError, NatsTimeoutError):  # nats-py raises either on an idle fetch
            return [], []
        return messages, [_delivered(message) for message in messages]

    async def _report(self, projected: Projected) -> None:
        """Log and alert each event the committed batch quarantined (after the commit: the table
        row is the record; an alert that cannot be stored is logged and the projector goes on)."""
        for row in projected.quarantined:
            await quarantine.report(self.js, row.alert(self.options.durable, self.options.stream))

    async def _consumer(self, start: int) -> JetStreamContext.PullSubscription:
        """Delete and re-create the durable consumer so it starts exactly at ``start``."""
        name, stream = self.options.durable, self.options.stream
        try:
            await self.js.delete_consumer(stream, name)
        except NotFoundError:
            pass
        await self.js.add_consumer(stream, ConsumerConfig(
            durable_name=name,
            description="compliance projector; re-created at checkpoint + 1 whenever a projector takes the lead",
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=start,
            ack_policy=AckPolicy.ALL,
            ack_wait=self.options.ack_wait,
            max_deliver=-1,
            max_ack_pending=self.options.batch * 4,
            filter_subject=ALL_EVENTS,
        ))
        return await self.js.pull_subscribe_bind(durable=name, stream=stream)

    async def _warn_if_ahead_of_the_log(self) -> None:
        last = (await self.js.stream_info(self.options.stream)).state.last_seq
        if self.checkpoint > last:
            log.warning("read_model_ahead_of_log", checkpoint=self.checkpoint, stream_last_sequence=last,
                        hint="wrong database or stream? rebuild the read model")


def _delivered(message):
    return read(message.metadata.sequence.stream, message.subject, message.data)
