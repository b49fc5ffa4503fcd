"""The whole detector (``detection(Settings())``) running over a test's log into a database of
its own, noting every decision it was given, appended or already in the log: what a replay of
the detector decides, compared with what the live one did."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from jianfu.compliance.detection import ViolationRecorder, decision_id, detection
from jianfu.compliance.projector import Projector, ProjectorOptions
from jianfu.compliance.read_model import DETECTOR
from jianfu.compliance.standby import cancel_and_wait
from jianfu.events.settings import Settings, SystemClock


class Seen:
    """The detector's recorder, noting every decision it was given (appended or already there)."""

    def __init__(self, recorder: ViolationRecorder) -> None:
        self.recorder, self.ids = recorder, []

    async def __call__(self, emitted) -> None:
        self.ids += [decision_id(e.decision) for e in emitted]
        await self.recorder(emitted)


@asynccontextmanager
async def detecting(engine, log, batch: int) -> AsyncIterator[tuple[Projector, Seen]]:
    """The detector over ``log`` in batches of ``batch``, on a durable consumer of its own."""
    seen = Seen(ViolationRecorder(log.store, SystemClock()))
    options = ProjectorOptions(durable=f"test-{uuid.uuid4().hex[:8]}", batch=batch, fetch_timeout=0.2,
                               standby_poll=0.1, retry_initial=0.1, retry_max=1.0)
    projector = Projector(engine, log.js, options, DETECTOR, detection(Settings()), seen)
    task = asyncio.create_task(projector.run())
    try:
        yield projector, seen
    finally:
        await cancel_and_wait(task)
