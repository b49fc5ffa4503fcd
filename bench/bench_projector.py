"""Compliance read model on PostgreSQL, two figures over S3 events (requests, certifications and
many held reports, as a busy semester has them):

- ``projector``: the live read-model projector (batch 256, checkpoint in the same transaction)
  applying a log, against a raw nats-py pull consumer over the same events that only acks
  (fetch 256); ``detector``: the S3 detector alone over the same log, against the same baseline;
- ``rebuild``: ``rebuild_read_model`` from sequence 1 over at least 100,000 events, against a raw
  nats-py ordered consumer reading the same stream.

The held reports are published straight to the stream, pipelined, as the store would write the
first event of a new aggregate (expected subject sequence 0): only the setup is fast this way."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import date

from jianfu.compliance.database import make_engine
from jianfu.compliance.detection import detector
from jianfu.compliance.migrations import migrate
from jianfu.compliance.projector import Projector, ProjectorOptions
from jianfu.compliance.rebuild import rebuild_read_model
from jianfu.compliance.standby import cancel_and_wait
from jianfu.events.schemas.campus_entry import ActivityHeldReported
from jianfu.events.settings import SystemClock
from jianfu.events.store import EventStore
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from bench.harness import Figure, fresh_nats, per_second
from tests.conftest import fresh_database
from tests.factories import SCHOOLS
from tests.s3_semester import DETECTION, S3Semester

BATCH = 256
REQUESTS = 100


async def declare(store: EventStore) -> S3Semester:
    """A semester's requests, some certified, through the store as the services write them."""
    semester = S3Semester(store)
    declared = await asyncio.gather(*(semester.request("dept-fire", [SCHOOLS[n % len(SCHOOLS)]])
                                      for n in range(REQUESTS)))
    for request in declared[:2 * len(SCHOOLS)]:
        await semester.certify(request)
    await semester.publish(*declared[:2 * len(SCHOOLS)])  # S3: the published list is what admits
    return semester


async def report(js, semester: S3Semester, count: int) -> None:
    """``count`` held reports (a few distinct titles per school), published pipelined."""
    for start in range(0, count, 2000):
        acks = []
        for n in range(start, min(start + 2000, count)):
            school = SCHOOLS[n % len(SCHOOLS)]
            held = ActivityHeldReported(
                report_id=uuid.uuid4(), school_id=school, organizer_org_id="dept-fire", activity_id=None,
                title=f"活动{n % 7}", held_on=date(semester.year, 10, 12), semester=semester.semester,
                participants=300, teacher_hours=1.0)
            event = semester._context(school).event(held, str(held.report_id))
            acks.append(await js.publish_async(event.subject, event.canonical_json(), headers={
                "Nats-Msg-Id": event.event_id, "Nats-Expected-Last-Subject-Sequence": "0",
                "Jf-Event-Type": event.event_type, "Jf-Correlation-Id": event.correlation_id}))
        await asyncio.gather(*acks)


async def fill(js, store: EventStore, at_least: int) -> int:
    """Append S3 semesters until the log holds ``at_least`` events; return its last sequence."""
    while (last := await store.last_sequence()) < at_least:
        semester = await declare(store)
        await report(js, semester, min(at_least - last, 20_000))
    return await store.last_sequence()


async def raw_pull(js, last: int) -> float:
    """Events per second a bare pull consumer receives and acks (the projector's ack policy)."""
    name = f"bench-raw-{uuid.uuid4().hex[:8]}"
    await js.add_consumer("JIANFU_EVENTS", ConsumerConfig(
        durable_name=name, deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.ALL,
        max_ack_pending=BATCH * 4, filter_subject="jf.ev.>"))
    sub = await js.pull_subscribe_bind(durable=name, stream="JIANFU_EVENTS")
    started, seen = time.perf_counter(), 0
    while seen < last:
        messages = await sub.fetch(BATCH, timeout=5)
        seen = messages[-1].metadata.sequence.stream
        await messages[-1].ack()
    rate = per_second(last, time.perf_counter() - started)
    await sub.unsubscribe()
    await js.delete_consumer("JIANFU_EVENTS", name)
    return rate


async def raw_read(js, last: int) -> float:
    """Events per second one bare ordered consumer delivers from sequence 1 to ``last``."""
    sub = await js.subscribe("jf.ev.>", ordered_consumer=True, deliver_policy=DeliverPolicy.ALL)
    started = time.perf_counter()
    while (await sub.next_msg(timeout=5)).metadata.sequence.stream < last:
        pass
    rate = per_second(last, time.perf_counter() - started)
    await sub.unsubscribe()
    return rate


async def projected(engine, js, store: EventStore, which: str) -> tuple[int, float]:
    """Run the read-model projector or the S3 detector alone over the whole log: (events, seconds)."""
    options = ProjectorOptions(durable=f"bench-{which}-{uuid.uuid4().hex[:6]}", batch=BATCH, fetch_timeout=0.2)
    follower = (Projector(engine, js, options) if which == "projector"
                else detector(engine, js, store, SystemClock(), DETECTION, options))
    started = time.perf_counter()
    task = asyncio.create_task(follower.run())
    try:
        last = await store.last_sequence()
        await follower.wait_for(last, timeout=600)
        return last, time.perf_counter() - started
    finally:
        await cancel_and_wait(task)


async def projector_figures(js, store: EventStore, events: int) -> list[Figure]:
    """The read-model projector and the detector, each alone, against one raw pull consumer."""
    last = await fill(js, store, events)
    figures = []
    for which in ("projector", "detector"):
        async with fresh_database(f"bench_{which}") as url:
            await migrate(url)
            engine = make_engine(url)
            count, seconds = await projected(engine, js, store, which)
            await engine.dispose()
        figures.append((which, count, seconds))
    baseline = await raw_pull(js, last)
    return [Figure(which, f"live {which}, PostgreSQL, batch {BATCH}, {count:,} events", per_second(count, seconds),
                   f"raw pull consumer, ack only, fetch {BATCH}", baseline) for which, count, seconds in figures]


async def rebuild_figure(js, store: EventStore, events: int) -> Figure:
    last = await fill(js, store, events)
    async with fresh_database("bench_rebuild") as url:
        await migrate(url)
        engine = make_engine(url)
        started = time.perf_counter()
        result = await rebuild_read_model(engine, store)
        seconds = time.perf_counter() - started
        await engine.dispose()
    return Figure("rebuild", f"rebuild_read_model from sequence 1, PostgreSQL, {result.last_sequence:,} events",
                  per_second(result.last_sequence, seconds), "raw ordered-consumer read",
                  await raw_read(js, last))


async def run(quick: bool = False) -> list[Figure]:
    async with fresh_nats() as (_, nc):
        js = nc.jetstream()
        store = EventStore(js)
        return [*await projector_figures(js, store, 2_000 if quick else 10_000),
                await rebuild_figure(js, store, 10_000 if quick else 100_000)]
