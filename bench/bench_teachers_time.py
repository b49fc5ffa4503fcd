"""Compliance over teachers' time (issue 10, S7–S10) on PostgreSQL, two figures over one log of a
district's year:

- ``teachers_detector``: the whole detector (``detection(settings)``: S3, S1/S2, S7, S8–S10) over
  the log, appending what it finds as it goes;
- ``teachers_projector``: the live read-model projector (the combined ``VIEW``, with the S7–S10
  views) over the same log, the detector's violations included;

each against a raw nats-py pull consumer over the same events that only acks (fetch 256), in
the same run. The log: 2,000 teachers registered, secondments (requested, consented or refused,
approved, left, returned; some unapproved, renewed or overdue), a year of ``DayEnded``, training
plans and sessions, and two semesters of meetings, some with hundreds to 2,000 participants (one in
ten by a unit outside education, of 10–60 teachers). It
is published straight to the stream, pipelined, each aggregate's hash chain made as the store
makes it: only the setup is fast this way.

Each figure also counts the statements (round trips to PostgreSQL) a batch sends, folding the
same log into fresh databases as batches of 1 and of 256 (``statements_per_batch``)."""

from __future__ import annotations

import asyncio
import itertools
import random
import statistics
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from jianfu.compliance.checkpoint import Delivered, ensure_checkpoint, project
from jianfu.compliance.database import make_engine
from jianfu.compliance.detection import detection, detector
from jianfu.compliance.migrations import migrate
from jianfu.compliance.projector import Projector, ProjectorOptions
from jianfu.compliance.read_model import DETECTOR, LIVE, ReadModel
from jianfu.compliance.standby import cancel_and_wait
from jianfu.events.envelope import Envelope
from jianfu.events.organisations import SYSTEM_ACTOR_ORG_ID
from jianfu.events.schemas.days import DAYS_AGGREGATE_ID, DayEnded
from jianfu.events.schemas.meetings import MeetingMode, MeetingScheduled, Participant
from jianfu.events.schemas.secondments import (
    SecondmentApproved,
    SecondmentConsented,
    SecondmentRefusalCode,
    SecondmentRefused,
    SecondmentRequested,
    SecondmentStage,
    TeacherReturned,
    TeacherSeconded,
)
from jianfu.events.schemas.teachers import TeacherRegistered
from jianfu.events.schemas.training import (
    PlannedTraining,
    TrainingLevel,
    TrainingPlanPublished,
    TrainingSessionReported,
)
from jianfu.events.settings import REFERENCE, Settings, SystemClock
from jianfu.events.store import EventStore

from bench.bench_projector import BATCH, raw_pull
from bench.harness import Figure, fresh_nats, per_second
from tests.conftest import fresh_database
from tests.factories import DIRECTORY, SCHOOLS
from tests.inspection_year import Step, chained
from tests.teachers_time import APPROVER, BUREAU, PLANNER

YEAR = 2031
REPEATS = 3
"""Each figure and the baseline are the median of three runs, each on a fresh server with the same log."""
SEMESTERS = {f"{YEAR}-spring": (date(YEAR, 2, 24), date(YEAR, 7, 4)),
             f"{YEAR}-autumn": (date(YEAR, 9, 1), date(YEAR, 12, 31))}
UNITS = sorted(org.org_id for org in DIRECTORY.organisations if org.kind in ("department", "street_office"))
EDUCATION = (BUREAU, PLANNER, *SCHOOLS[:4])


@dataclass
class Log:
    """The year's events in log order, and what they hold."""

    steps: list[Step]
    held: Counter

    @property
    def participants(self) -> int:
        return self.held["participants"]


class Year:
    """A district's year of teachers' time, with seeded randomness so every run builds the same log."""

    def __init__(self, teachers: int, secondments: int, meetings_per_week: int, sessions: int) -> None:
        self.random = random.Random(10)
        self.teachers = [(f"t-{n:04d}", SCHOOLS[n % len(SCHOOLS)]) for n in range(teachers)]
        self.secondments, self.meetings_per_week, self.sessions = secondments, meetings_per_week, sessions
        self.on: dict[date, list[Step]] = {}
        self.held: Counter = Counter()
        self._ids = 0

    def _id(self) -> uuid.UUID:
        self._ids += 1
        return uuid.UUID(int=(10 << 96) + self._ids)

    def at(self, day: date, step: Step) -> None:
        self.on.setdefault(day, []).append(step)
        self.held[type(step[1]).__name__] += 1

    def log(self) -> Log:
        first = date(YEAR, 1, 1)
        steps = [(school, TeacherRegistered(teacher_id=t, school_id=school, name=f"教师{n}", subject="语文"), t)
                 for n, (t, school) in enumerate(self.teachers)]
        self.held["TeacherRegistered"] += len(steps)
        self.secondment_year()
        self.training_year()
        self.meeting_year()
        for offset in range(365):
            day = first + timedelta(days=offset)
            steps += self.on.get(day, [])
            steps.append((SYSTEM_ACTOR_ORG_ID, DayEnded(day=day), DAYS_AGGREGATE_ID))
            self.held["DayEnded"] += 1
        return Log(steps, self.held)

    # S7
    def secondment_year(self) -> None:
        """Most secondments consented, approved, left and returned; some refused over the half
        year, some left with the bureau's consent only, some renewed, some staying past the limit."""
        for n in range(self.secondments):
            teacher, school = self.teachers[n]
            unit = UNITS[n % len(UNITS)]
            starts = date(YEAR, 1, 10) + timedelta(days=self.random.randrange(0, 170))
            kind = n % 10
            if kind == 0:  # refused: over half a year
                self._request(teacher, school, unit, starts, 200, refused=True)
            elif kind == 1:  # left with the consent only: unapproved
                self._request(teacher, school, unit, starts, 90, approved=False, back_after=90)
            elif kind == 2:  # still away past the limit: overdue
                self._request(teacher, school, unit, starts, 180, back_after=None)
            elif kind == 3:  # renewed with the same unit at once
                requested = self._request(teacher, school, unit, starts, 120, back_after=None)
                self._request(teacher, school, unit, requested.ends_on + timedelta(days=1), 60, back_after=60,
                              departed=False)
            else:
                self._request(teacher, school, unit, starts, self.random.randrange(30, 150),
                              back_after=self.random.randrange(20, 150))

    def _request(self, teacher: str, school: str, unit: str, starts: date, days: int, refused: bool = False,
                 approved: bool = True, back_after: int | None = 0, departed: bool = True) -> SecondmentRequested:
        ends = starts + timedelta(days=days - 1)
        asked = starts - timedelta(days=14)
        requested = SecondmentRequested(secondment_id=self._id(), teacher_id=teacher, school_id=school,
                                        borrowing_org_id=unit, task="重大决策部署专项工作", starts_on=starts,
                                        ends_on=ends, days=days, requested_on=asked)
        self.at(asked, (unit, requested, teacher))
        ids = {"secondment_id": requested.secondment_id, "teacher_id": teacher}
        if refused:
            self.at(asked + timedelta(days=2), (BUREAU, SecondmentRefused(
                **ids, stage=SecondmentStage.CONSENT, refused_by_org_id=BUREAU, automatic=True,
                refusal_code=SecondmentRefusalCode.OVER_HALF_YEAR, reason="借用期限超过半年",
                continuous_days=days), teacher))
            return requested
        self.at(asked + timedelta(days=2), (BUREAU, SecondmentConsented(
            **ids, consented_by_org_id=BUREAU, continuous_days=days), teacher))
        if approved:
            self.at(asked + timedelta(days=5), (APPROVER, SecondmentApproved(
                **ids, approved_by_org_id=APPROVER, continuous_days=days), teacher))
        if not departed:
            return requested
        left = TeacherSeconded(teacher_id=teacher, school_id=school, borrowing_org_id=unit, left_on=starts,
                               secondment_id=requested.secondment_id, consented=True, approved=approved,
                               ends_on=ends, reported_by_org_id=unit)
        self.at(starts, (unit, left, teacher))
        if back_after is not None:
            back = starts + timedelta(days=back_after)
            if back.year == YEAR:
                self.at(back, (school, TeacherReturned(
                    teacher_id=teacher, school_id=school, borrowing_org_id=unit,
                    secondment_id=requested.secondment_id, left_on=starts, returned_on=back,
                    reported_by_org_id=school), teacher))
        return requested

    # S8
    def training_year(self) -> None:
        """Each semester's plan in two editions; sessions reported, most planned, some not, some
        by units outside education."""
        for semester, (first, last) in SEMESTERS.items():
            planned = [(f"{semester[:4]}{semester[5].upper()}-{n:03d}", f"骨干教师培训第{n}期",
                        PLANNER if n % 3 == 0 else SCHOOLS[n % len(SCHOOLS)]) for n in range(60)]
            for edition, sessions in ((1, planned[:40]), (2, planned)):
                published = first - timedelta(days=20 - 10 * edition)
                self.at(published, (PLANNER, TrainingPlanPublished(
                    semester=semester, edition=edition, published_on=published, before_semester=True,
                    sessions=tuple(PlannedTraining(
                        code=code, title=title, organiser_org_id=organiser, months=(first.month,), hours=24,
                        level=TrainingLevel.BACKBONE if organiser == PLANNER else TrainingLevel.SCHOOL_BASED)
                        for code, title, organiser in sessions)), semester))
            for n in range(self.sessions // 2):
                held_on = first + timedelta(days=self.random.randrange(0, (last - first).days))
                code, title, organiser = planned[n % len(planned)]
                if n % 10 == 0:  # not in the plan
                    code, title = None, f"临时培训{n}"
                if n % 25 == 0:  # outside education, requiring teachers
                    code, title, organiser = None, f"业务培训{n}", UNITS[n % len(UNITS)]
                teachers = self.random.sample(self.teachers, self.random.randrange(5, 60))
                reported = TrainingSessionReported(
                    session_id=self._id(), organiser_org_id=organiser, title=title, held_on=held_on,
                    semester=semester, level=None, plan_code=code, teachers_required=True,
                    teacher_ids=tuple(t for t, _ in teachers), participants=len(teachers),
                    reported_by_org_id=organiser)
                self.at(held_on, (organiser, reported, str(reported.session_id)))

    # S9, S10
    def meeting_year(self) -> None:
        """``meetings_per_week`` meetings each school week of both semesters: most of 10–60
        teachers, some of hundreds, a few of 1,000 to 2,000; recurring titles per organiser (alike
        meetings in one week), some far away without sub-venues, some by units outside education."""
        for semester, (first, last) in SEMESTERS.items():
            week = first
            while week <= last:
                for n in range(self.meetings_per_week):
                    self._meeting(semester, week + timedelta(days=n % 5), n)
                week += timedelta(days=7)

    def _meeting(self, semester: str, held_on: date, n: int) -> None:
        """One meeting in ten by a unit outside education (10–60 teachers); the rest by the bureau,
        the research office or a school: most of 10–60 teachers, the large ones the bureau's or
        the office's."""
        roll = self.random.random()
        if n % 10 == 9:
            organiser, size = UNITS[n % 6], self.random.randrange(10, 60)
        elif roll < 0.7:
            organiser, size = EDUCATION[n % len(EDUCATION)], self.random.randrange(10, 60)
        else:
            organiser = EDUCATION[n % 2]
            size = (self.random.randrange(100, 500) if roll < 0.92 else self.random.randrange(1000, 2000)
                    if roll < 0.98 else 2000)
        chosen = self.random.sample(self.teachers, min(size, len(self.teachers)))
        mode = (MeetingMode.ONLINE, MeetingMode.IN_PERSON, MeetingMode.VIDEO)[n % 3]
        venue = None if mode is MeetingMode.ONLINE else VENUE_CYCLE[n % len(VENUE_CYCLE)]
        meeting = MeetingScheduled(
            meeting_id=self._id(), organiser_org_id=organiser, title=f"工作部署会议（{n % 4}）",
            concerns_teaching=n % 4 != 1, held_on=held_on, semester=semester, mode=mode, venue_id=venue,
            sub_venue_ids=() if mode is not MeetingMode.VIDEO or n % 2 else ("venue-edu-bureau",),
            scheduled_on=held_on - timedelta(days=3),
            participants=tuple(Participant(teacher_id=t, school_id=s) for t, s in chosen))
        self.at(meeting.scheduled_on, (organiser, meeting, str(meeting.meeting_id)))
        self.held["participants"] += len(chosen)


def _venues() -> tuple[str, ...]:
    """The venues of the district's distance table."""
    rows = (REFERENCE / "distances.csv").read_text(encoding="utf-8").splitlines()[1:]
    return tuple(sorted({row.split(",")[0] for row in rows if row}))


VENUE_CYCLE = _venues()


def build(quick: bool) -> Log:
    if quick:
        return Year(teachers=400, secondments=60, meetings_per_week=3, sessions=40).log()
    return Year(teachers=2000, secondments=300, meetings_per_week=20, sessions=200).log()


async def publish(js, envelopes: list[Envelope]) -> int:
    """The envelopes published pipelined, each expecting its subject's last sequence as the store
    would; returns the stream's last sequence."""
    info = await js.stream_info("JIANFU_EVENTS")
    sequence, last_on = info.state.last_seq, {}
    for start in range(0, len(envelopes), 1000):
        acks = []
        for event in envelopes[start:start + 1000]:
            sequence += 1
            acks.append(await js.publish_async(event.subject, event.canonical_json(), headers={
                "Nats-Msg-Id": event.event_id, "Jf-Event-Type": event.event_type,
                "Nats-Expected-Last-Subject-Sequence": str(last_on.get(event.subject, 0)),
                "Jf-Correlation-Id": event.correlation_id}))
            last_on[event.subject] = sequence
        await asyncio.gather(*acks)
    return sequence


async def followed(engine, js, store: EventStore, which: str) -> tuple[int, float]:
    """The detector or the read-model projector over the whole log: (events, seconds)."""
    options = ProjectorOptions(durable=f"bench-tt-{which}-{uuid.uuid4().hex[:6]}", batch=BATCH, fetch_timeout=0.2)
    follower = (Projector(engine, js, options) if which == "projector"
                else detector(engine, js, store, SystemClock(), detection(Settings()), options))
    started = time.perf_counter()
    task = asyncio.create_task(follower.run())
    try:
        last = await store.last_sequence()
        await follower.wait_for(last, timeout=1200)
        return last, time.perf_counter() - started
    finally:
        await cancel_and_wait(task)


FAMILIES = {"teachers": ("TeacherRegistered",),
            "S7": ("SecondmentRequested", "SecondmentConsented", "SecondmentRefused", "SecondmentApproved",
                   "TeacherSeconded", "TeacherReturned"),
            "days": ("DayEnded",), "S8": ("TrainingPlanPublished", "TrainingSessionReported"),
            "S9/S10": ("MeetingScheduled",)}
"""Event kinds whose aggregates hold no other kind: each family folds alone with its chains whole."""


async def statements(model: ReadModel, envelopes: list[Envelope], projection, singles: int) -> str:
    """Statements (round trips) a batch sends to PostgreSQL, per family of events folded alone
    and over the whole log: per chunk of ``BATCH`` events, its first ``singles`` events as batches
    of one (into one database), against every chunk as one batch (into another). Shown as
    ``family 1→256`` with the most statements any batch of that size sent."""
    families = {name: [e for e in envelopes if e.event_type in kinds] for name, kinds in FAMILIES.items()}
    most: dict[tuple[str, bool], int] = {}
    for runs, split in itertools.product((families, {"whole log": envelopes}), (True, False)):
        async with fresh_database("bench_tt_statements") as url:
            engine = make_engine(url)
            try:
                async with engine.begin() as conn:
                    await conn.run_sync(model.metadata.create_all)
                    await ensure_checkpoint(conn, model)
                sent: list[str] = []
                sa.event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
                sequence = 0

                async def emit(_decided) -> None:
                    pass

                async def batch(name: str, events: list[Envelope], counted: bool = True) -> None:
                    nonlocal sequence
                    before = len(sent)
                    await project(engine, model, [Delivered(sequence + n, e) for n, e in enumerate(events, 1)],
                                  projection, emit if projection else None)
                    sequence += len(events)
                    if counted:
                        most[name, split] = max(most.get((name, split), 0), len(sent) - before)

                for name, events in runs.items():
                    for start in range(0, len(events), BATCH):
                        chunk = events[start:start + BATCH]
                        if split:
                            for n in range(min(singles, len(chunk))):
                                await batch(name, chunk[n:n + 1])
                            if chunk[singles:]:
                                await batch(name, chunk[singles:], counted=False)
                        else:
                            await batch(name, chunk)
            finally:
                await engine.dispose()
    return ", ".join(f"{name} {most[name, True]}→{most[name, False]}" for name in (*families, "whole log"))


async def run(quick: bool = False) -> list[Figure]:
    log = build(quick)
    envelopes = chained(log.steps)
    held = (f"{log.held['TeacherRegistered']:,} teachers, {log.held['SecondmentRequested']:,} secondments, "
            f"{log.held['MeetingScheduled']:,} meetings of {log.participants:,} participants, "
            f"{log.held['TrainingSessionReported']:,} training sessions, {log.held['DayEnded']} days")
    measured: dict[str, list[tuple[int, float]]] = {"detector": [], "projector": []}
    baselines = []
    for _ in range(REPEATS):  # each on a fresh server: the detector's first run appends its violations
        async with fresh_nats() as (_, nc):
            js = nc.jetstream()
            store = EventStore(js)
            await publish(js, envelopes)
            for which, runs in measured.items():
                async with fresh_database(f"bench_tt_{which}") as url:
                    await migrate(url)
                    engine = make_engine(url)
                    runs.append(await followed(engine, js, store, which))
                    await engine.dispose()
            baselines.append(await raw_pull(js, await store.last_sequence()))
    baseline = statistics.median(baselines)
    singles = 4 if quick else 16
    counted = {"detector": await statements(DETECTOR, envelopes, detection(Settings()), singles),
               "projector": await statements(LIVE, envelopes, None, singles)}
    return [Figure(f"teachers_{which}",
                   f"live {'detector, detection(settings)' if which == 'detector' else 'read-model projector, VIEW'}"
                   f", PostgreSQL, batch {BATCH}, {count:,} events ({held})",
                   per_second(count, seconds), f"raw pull consumer, ack only, fetch {BATCH}", baseline,
                   {"seconds": seconds, "statements_per_batch_1_to_256": counted[which],
                    "tables": len((DETECTOR if which == "detector" else LIVE).tables)})
            for which, (count, seconds) in ((which, _median(runs)) for which, runs in measured.items())]


def _median(runs: list[tuple[int, float]]) -> tuple[int, float]:
    """The run of median rate."""
    return sorted(runs, key=lambda run: run[1] / run[0])[len(runs) // 2]
