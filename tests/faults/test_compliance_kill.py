"""Fault: the compliance service killed with SIGKILL in the middle of projecting a semester's
worth of events, then restarted. Afterwards the live read model must equal a rebuild from the
log, with nothing lost and no violation recorded or counted twice (DESIGN.md, Tests)."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from datetime import date

import nats
import pytest
import sqlalchemy as sa
from jianfu.cli.embedded_nats import EmbeddedNats
from jianfu.cli.supervisor import ServiceProcess, service_env
from jianfu.compliance.database import make_engine
from jianfu.compliance.migrations import migrate
from jianfu.compliance.read_model import LIVE
from jianfu.compliance.rebuild import rebuild_read_model
from jianfu.events.errors import RefusalCode
from jianfu.events.provisioning import provision
from jianfu.events.schemas.campus_entry import (
    ActivityCertified,
    ActivityExemptionRecorded,
    ActivityRejected,
    ExemptCategory,
)
from jianfu.events.store import EventStore

from tests.conftest import fresh_database
from tests.factories import DIRECTORY, SCHOOLS
from tests.s3_semester import S3Semester, listing

pytestmark = pytest.mark.faults

UNITS = [o.org_id for o in DIRECTORY.organisations if o.kind.value in ("department", "street_office", "mass_org")]
REFUSALS = [RefusalCode.ALREADY_IN_CURRICULUM, RefusalCode.SCOPE_TOO_BROAD, RefusalCode.NOT_STUDENT_FOCUSED]


async def load_semester(store, rng: random.Random, requests: int = 240, reports: int = 1500) -> S3Semester:
    """About 2000 events: declarations, the bureau's decisions (4 admitted per school, the rest
    refused), the list, and reports of activities held — authorised, unauthorised (many reported
    more than once) and refused ones held anyway, which also push schools over the cap."""
    s = S3Semester(store)
    declared = []
    for start in range(0, requests, 60):
        declared += await asyncio.gather(*(
            s.request(UNITS[i % len(UNITS)], [SCHOOLS[i % len(SCHOOLS)]]) for i in range(start, min(start + 60, requests))))
    admitted = declared[:4 * len(SCHOOLS)]
    bureau, semester = s._context("edu-bureau"), {"semester": s.semester}
    decisions = [ActivityCertified(activity_id=r.activity_id, applicant_org_id=r.applicant_org_id, listing=listing(r),
                                   **semester) for r in admitted[:3 * len(SCHOOLS)]]
    decisions += [ActivityExemptionRecorded(activity_id=r.activity_id, applicant_org_id=r.applicant_org_id,
                                            category=ExemptCategory.CITY_CREATION, reference="创城方案",
                                            listing=listing(r), **semester) for r in admitted[3 * len(SCHOOLS):]]
    refused = declared[len(admitted):]
    decisions += [ActivityRejected(activity_id=r.activity_id, applicant_org_id=r.applicant_org_id,
                                   refusal_code=REFUSALS[n % 3], reason="集中认定意见", automatic=False, **semester)
                  for n, r in enumerate(refused)]
    for start in range(0, len(decisions), 60):  # each decision is an event of its activity
        await asyncio.gather(*(s._append(bureau.event(d, str(d.activity_id))) for d in decisions[start:start + 60]))
    await s.publish(*admitted)

    def report(n: int):
        school = SCHOOLS[n % len(SCHOOLS)]
        day = date(s.year, 10, 10 + n % 3)
        kind = rng.random()
        if kind < 0.5:
            activity = rng.choice([r for r in admitted if school in r.school_ids])
            return s.held(school, activity.applicant_org_id, activity.title, activity.activity_id, day)
        if kind < 0.8:
            organizer = UNITS[n % 5]
            return s.held(school, organizer, f"未申报进校园活动{n % 5}", None, day)
        activity = rng.choice([r for r in refused[:24] if school in r.school_ids])
        return s.held(school, activity.applicant_org_id, activity.title, activity.activity_id, day)

    for start in range(0, reports, 100):
        await asyncio.gather(*(report(n) for n in range(start, min(start + 100, reports))))
    return s


async def checkpoint(engine) -> int:
    async with engine.connect() as conn:
        t = LIVE.checkpoint
        return await conn.scalar(sa.select(t.c.last_sequence)) or 0


async def wait_until(predicate, timeout: float, what: str, interval: float = 0.005):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await predicate()
        if found:
            return found
        await asyncio.sleep(interval)
    raise TimeoutError(f"{what} within {timeout}s")


@pytest.fixture
async def log(tmp_path):
    """A nats-server and stream of this test's own: its load stays out of the session's log."""
    server = EmbeddedNats(tmp_path / "nats").start()
    nc = await nats.connect(server.url)
    try:
        await provision(nc.jetstream())
        yield server, EventStore(nc.jetstream())
    finally:
        await nc.close()
        server.stop()


async def test_killed_mid_batch_and_restarted_the_read_model_equals_a_rebuild(log, pg_database, tmp_path):
    nats_server, store = log
    semester = await load_semester(store, random.Random(20210820))
    loaded = await store.last_sequence()

    async with fresh_database("kill") as url:
        await migrate(url)
        engine = make_engine(url)
        env = service_env(nats_server.url, url, JIANFU_PROJECTOR_BATCH="40",
                          JIANFU_PROJECTOR_DURABLE=f"kill-{uuid.uuid4().hex[:6]}", JIANFU_LOG_LEVEL="INFO")
        first, second = ServiceProcess("compliance", env, tmp_path), ServiceProcess("compliance", env, tmp_path)
        try:
            first.start()

            async def in_the_middle():
                if not first.running:
                    raise RuntimeError(f"the service exited; see {first.log_path}")
                return await checkpoint(engine) > 300

            await wait_until(in_the_middle, 30, "the projector did not reach the middle of the load")
            first.kill()  # SIGKILL: no shutdown hook, a transaction possibly open, acks outstanding
            at_kill = await checkpoint(engine)
            assert 0 < at_kill < loaded, "killed too late to be in the middle"

            second.start()

            async def caught_up():
                last = await store.last_sequence()
                return await checkpoint(engine) == last and await store.last_sequence() == last

            await wait_until(caught_up, 60, "the restarted projector did not catch up", interval=0.1)
        finally:
            first.kill()
            second.kill()

        try:
            audit = await rebuild_read_model(engine, store, switch=False)
            assert audit.matched is True, "the live read model differs from a rebuild of the log"
            await assert_no_violation_counted_twice(engine, store, semester.semester, loaded)
        finally:
            await engine.dispose()


async def assert_no_violation_counted_twice(engine, store, semester: str, after: int) -> None:
    in_log = Counter()
    async for stored in store.replay(after + 1):
        if stored.envelope.event_type == "ViolationDetected" and stored.envelope.data["semester"] == semester:
            in_log[stored.envelope.aggregate_id] += 1
    assert in_log and set(in_log.values()) == {1}, "a violation was appended twice"

    async with engine.connect() as conn:
        v, c = LIVE.violations, LIVE.campus_entries
        rules = Counter(dict((await conn.execute(
            sa.select(v.c.rule, sa.func.count()).where(v.c.semester == semester).group_by(v.c.rule))).all()))
        ids = set(await conn.scalars(sa.select(v.c.violation_id).where(v.c.semester == semester)))
        totals = (await conn.execute(sa.select(
            sa.func.sum(c.c.unauthorised_entries), sa.func.sum(c.c.items_over_cap), sa.func.sum(c.c.held_reports),
        ).where(c.c.semester == semester))).one()
        held = await conn.scalar(sa.select(sa.func.count()).select_from(LIVE.held_reports)
                                 .where(LIVE.held_reports.c.semester == semester))
    assert ids == set(in_log)
    assert (totals[0], totals[1]) == (rules["UnauthorizedCampusEntry"], rules["CampusEntryQuotaExceeded"])
    assert totals[2] == held == 1500
