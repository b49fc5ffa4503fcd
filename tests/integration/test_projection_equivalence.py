"""Batch folds decide nothing by batch size (issue 7): random valid S3 histories, projected one
event per batch and in batches of random sizes, give identical read models and identical
violations. On the embedded SQLite, through the real adapter (keyed loads, bulk upserts,
checkpoint, chain heads), so a fold that reads a row it did not name as a need shows up as a
difference between batchings."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jianfu.compliance.checkpoint import Delivered, ensure_checkpoint, project
from jianfu.compliance.database import make_engine, plain
from jianfu.compliance.detection import ViolationRecorder
from jianfu.compliance.domain.folding import Emitted, Fact
from jianfu.compliance.read_model import DETECTOR, LIVE, ReadModel
from jianfu.events.envelope import GENESIS_HASH, Actor, Envelope
from jianfu.events.errors import RefusalCode
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.campus_entry import (
    ActivityCertified,
    ActivityExemptionRecorded,
    ActivityHeldReported,
    ActivityRejected,
    ActivityRequested,
    CampusEntryRefused,
    ExemptCategory,
    ExemptionClaim,
    ListedActivity,
    Route,
    SemesterListPublished,
)
from jianfu.events.schemas.compliance import ViolationDetected
from jianfu.events.schemas.regional_catalogue import CatalogueItem, RegionalCatalogueImported
from jianfu.events.settings import SystemClock

from tests.conftest import fresh_database
from tests.factories import DIRECTORY, POLICY, application
from tests.inspection_year import chained
from tests.s3_semester import DETECTION, listing
from tests.teachers_time import TeachersTime

SEMESTER = "2031-autumn"
SCHOOLS = ["school-dwk-primary-1", "school-dwk-primary-2", "school-dwk-middle-1"]
UNITS = ["dept-public-security", "dept-fire", "dept-health", "youth-league", "dept-justice"]
TITLES = ["法治讲座", "消防演练", "法治 讲座", "防溺水教育"]  # the third is the first, spaced differently

requests = st.tuples(st.just("request"), st.sampled_from(UNITS), st.sets(st.sampled_from(SCHOOLS), min_size=1),
                     st.sampled_from(TITLES), st.sampled_from([Route.REGULAR, Route.URGENT, Route.EXEMPT]))
decisions = st.tuples(st.sampled_from(["certify", "exempt", "reject"]), st.integers(0, 30))
OUTSIDER = "某某教育培训有限公司"  # a unit outside the directory, reported by name
CLAIMS = {"none": None, "regional": ExemptCategory.REGIONAL_CATALOGUE, "city": ExemptCategory.CITY_CREATION,
          "central": ExemptCategory.CENTRAL_GOVERNMENT_WORK}
reports = st.tuples(st.just("held"), st.sampled_from(SCHOOLS), st.sampled_from([*UNITS, OUTSIDER]),
                    st.sampled_from(TITLES), st.integers(0, 30), st.booleans(), st.integers(0, 3),
                    st.sampled_from(sorted(CLAIMS)))
catalogues = st.tuples(st.just("catalogue"), st.sets(st.sampled_from(UNITS), min_size=1))
refusals = st.tuples(st.just("refused"), st.sampled_from(SCHOOLS), st.sampled_from([*UNITS, OUTSIDER]))
histories = st.lists(st.one_of(requests, decisions, reports, catalogues, refusals, st.just(("publish",))),
                     min_size=1, max_size=40)


class History:
    """S3 events as the services would append them, chained per aggregate."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.heads: dict[str, str] = {}
        self.requested: list[ActivityRequested] = []
        self.admitted: list[ActivityRequested] = []
        self.ids = (uuid.UUID(int=n) for n in range(1, 10**6))

    def add(self, org: str, data, aggregate_id: str, n: int) -> None:
        kind = DIRECTORY.get(org).kind
        context = CommandContext(Actor(org_id=org, org_kind=kind), f"c-{n}", f"k-{n}", POLICY.version,
                                 datetime(2031, 7, 10, 9, tzinfo=UTC))
        envelope = context.event(data, aggregate_id)
        envelope = envelope.model_copy(update={"prev_hash": self.heads.get(envelope.subject, GENESIS_HASH)})
        self.heads[envelope.subject] = envelope.hash()
        self.envelopes.append(envelope)

    def act(self, n: int, action: tuple) -> None:
        match action:
            case ("request", unit, schools, title, route):
                form = application(target_semester=SEMESTER, start_date="2031-09-15", end_date="2031-12-15",
                                   scope={"school_ids": sorted(schools)}, title=title)
                form.pop("command_id")
                if route is Route.URGENT:
                    form.update(declaration_type="urgent", urgency_reason="突发公共卫生事件")
                event = ActivityRequested(**form, activity_id=next(self.ids), applicant_org_id=unit, route=route,
                                          declared_on=date(2031, 7, 10), in_window=route is Route.REGULAR,
                                          school_ids=tuple(sorted(schools)))
                self.requested.append(event)
                self.add(unit, event, str(event.activity_id), n)
            case (("certify" | "exempt" | "reject") as decision, index) if self.requested:
                request = self.requested[index % len(self.requested)]
                self.add("edu-bureau", self.decision(decision, request), SEMESTER, n)
            case ("held", school, unit, title, index, named, day, claim):
                named_id = self.requested[index % len(self.requested)].activity_id if named and self.requested else None
                category = CLAIMS[claim]
                self.add(school, ActivityHeldReported(
                    report_id=next(self.ids), school_id=school, organizer_org_id=None if unit == OUTSIDER else unit,
                    organizer_name=unit, activity_id=named_id, title=title, held_on=date(2031, 10, 20 + day),
                    semester=SEMESTER, participants=30, teacher_hours=1.0,
                    exemption_claim=ExemptionClaim(category=category, reference=TITLES[index % 4]) if category else None,
                ), f"r-{n}", n)
            case ("catalogue", units):
                items = tuple(CatalogueItem(item_id=f"rc-{n}-{i}", item_name=title, organizer_org_ids=tuple(sorted(units)),
                                            max_per_year=1 + i % 2, max_per_semester=None, stages=())
                              for i, title in enumerate(TITLES[:3]))
                self.add("edu-bureau", RegionalCatalogueImported(edition=n + 1, title="目录", items=items,
                                                                 in_force_from=date(2031, 1, 1)), "region", n)
            case ("refused", school, unit):
                self.add(school, CampusEntryRefused(
                    report_id=next(self.ids), school_id=school, organizer_org_id=None if unit == OUTSIDER else unit,
                    organizer_name=unit, title="推介活动", refused_on=date(2031, 10, 21), semester=SEMESTER,
                    refusal_code=RefusalCode.NOT_ON_LIST), f"r-{n}", n)
            case ("publish",):
                self.add("edu-bureau", SemesterListPublished(semester=SEMESTER, edition=n + 1, items=tuple(
                    listed(r) for r in self.admitted)), SEMESTER, n)

    def decision(self, decision: str, request: ActivityRequested):
        who = {"activity_id": request.activity_id, "applicant_org_id": request.applicant_org_id}
        if decision == "reject":
            return ActivityRejected(**who, refusal_code=RefusalCode.NOT_STUDENT_FOCUSED, reason="意见",
                                  automatic=False)
        self.admitted.append(request)
        if decision == "exempt":
            return ActivityExemptionRecorded(**who, category=ExemptCategory.CITY_CREATION, reference="创建方案",
                                             listing=listed(request, ExemptCategory.CITY_CREATION))
        return ActivityCertified(**who, listing=listed(request))


def listed(request: ActivityRequested, exempt: ExemptCategory | None = None) -> ListedActivity:
    """The request's row with a frequency to keep (once a semester), so sessions are counted."""
    return listing(request).model_copy(update={"occurrences": 1, "max_per_semester": 1, "exempt_category": exempt})


def partition(events: list, sizes: list[int]) -> list[list]:
    batches, start = [], 0
    for size in sizes:
        if start >= len(events):
            break
        batches.append(events[start:start + size])
        start += size
    return batches + ([events[start:]] if start < len(events) else [])


async def run(model: ReadModel, events: list[Envelope], sizes: list[int], projection=None) -> tuple[dict, list]:
    """Project ``events`` in batches of ``sizes`` into a fresh in-memory database; the model's
    rows and whatever the projection decided."""
    engine = make_engine("sqlite+aiosqlite://")
    decided: list = []

    async def emit(emitted) -> None:
        decided.extend(e.decision for e in emitted)

    try:
        async with engine.begin() as conn:
            await conn.run_sync(model.metadata.create_all)
            await ensure_checkpoint(conn, model)
        delivered = [Delivered(n, envelope) for n, envelope in enumerate(events, 1)]
        for batch in partition(delivered, sizes):
            await project(engine, model, batch, projection, emit if projection else None)
        async with engine.connect() as conn:
            tables = {name: sorted(json.dumps([plain(v) for v in row], ensure_ascii=False)
                                   for row in await conn.execute(sa.select(table)))
                      for name, table in model.by_name.items()}
        return tables, [violation.model_dump(mode="json") for violation in decided]
    finally:
        await engine.dispose()


def with_violations(history: History, violations: list) -> list[Envelope]:
    """The history with each violation appended right after the report that revealed it, as
    the detector appends it."""
    recorder, by_report = ViolationRecorder(None, SystemClock()), {}
    for violation in violations:
        by_report.setdefault(violation["evidence"]["report_event_id"], []).append(violation)
    out = []
    for envelope in history.envelopes:
        out.append(envelope)
        for violation in by_report.get(envelope.event_id, []):
            cause = Fact(0, envelope.event_id, envelope.event_type, envelope.aggregate_id, envelope.occurred_at,
                         envelope.correlation_id, None)
            out.append(recorder.envelope(Emitted(ViolationDetected.model_validate(violation), cause, POLICY.version)))
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories, st.lists(st.integers(1, 12), max_size=40))
async def test_one_event_per_batch_and_random_batches_give_the_same_read_model_and_violations(actions, sizes):
    """S3 and issue 7: the detector decides the same violations and the read model holds the same
    rows whether a batch holds one event, some, or all of them."""
    history = History()
    for n, action in enumerate(actions):
        history.act(n, action)
    if not history.envelopes:
        return
    state_one, violations_one = await run(DETECTOR, history.envelopes, [1] * len(history.envelopes), DETECTION)
    state_random, violations_random = await run(DETECTOR, history.envelopes, sizes, DETECTION)
    assert (state_random, violations_random) == (state_one, violations_one)

    stream = with_violations(history, violations_one)
    model_one, _ = await run(LIVE, stream, [1] * len(stream))
    model_random, _ = await run(LIVE, stream, sizes)
    model_whole, _ = await run(LIVE, stream, [len(stream)])
    assert model_random == model_one == model_whole
    assert len(model_one["violations"]) == len({v["violation_id"] for v in violations_one})


KNOWN_HISTORY = [
    ("request", UNITS[0], {SCHOOLS[0]}, TITLES[0], Route.REGULAR), ("certify", 0), ("publish",),
    ("catalogue", {UNITS[1]}),
    *(("held", SCHOOLS[0], UNITS[0], TITLES[0], 0, False, day, "none") for day in (0, 1, 1, 2)),
    *(("held", SCHOOLS[0], UNITS[1], TITLES[1], 1, False, day, "regional") for day in (0, 1, 2)),
    *(("held", SCHOOLS[0], UNITS[2], TITLES[day], 2, False, day, "city") for day in (0, 1)),
    ("held", SCHOOLS[0], OUTSIDER, TITLES[3], 3, False, 0, "none"), ("refused", SCHOOLS[0], OUTSIDER),
]


@pytest.mark.parametrize("sizes", [[1] * 20, [2, 3, 1, 4, 2, 5], [3] * 7, [50]])
async def test_frequency_claims_and_outside_units_fold_the_same_in_any_batching(sizes):
    """S3 (issue 8): sessions counted against a listed frequency and a catalogue item's yearly
    bound, city creation's allowance, an outside unit and a refusal decide the same in any batching."""
    history = History()
    for n, action in enumerate(KNOWN_HISTORY):
        history.act(n, action)
    one = await run(DETECTOR, history.envelopes, [1] * len(history.envelopes), DETECTION)
    assert await run(DETECTOR, history.envelopes, sizes, DETECTION) == one
    grounds = sorted(v["evidence"].get("ground") or v["evidence"].get("quota") for v in one[1])
    # The listed item twice over (day 1 reported twice: one violation id), the catalogue item once.
    assert grounds == ["beyond_frequency"] * 4 + ["city_creation_per_school_year", "unregistered_unit"]
    assert len({v["violation_id"] for v in one[1]}) == 5
    stream = with_violations(history, one[1])
    assert await run(LIVE, stream, sizes) == await run(LIVE, stream, [1] * len(stream))


def busy_semester(reports: int) -> History:
    """Requests, certifications and ``reports`` held reports at every school, as a July and an
    October bring them."""
    history = History()
    actions = [("request", unit, set(SCHOOLS), title, Route.REGULAR) for unit, title in zip(UNITS, TITLES)]
    actions += [("certify", n) for n in range(len(actions))] + [("publish",)]
    actions += [("held", SCHOOLS[n % 3], UNITS[n % 5], TITLES[n % 4], n, n % 2 == 0, 0, "none")
                for n in range(reports)]
    for n, action in enumerate(actions):
        history.act(n, action)
    return history


async def statements_for(url: str, model: ReadModel, events: list[Envelope], projection=None) -> int:
    """How many statements projecting ``events`` as one batch sends to the database."""
    engine = make_engine(url)
    sent: list[str] = []
    try:
        async with engine.begin() as conn:
            await conn.run_sync(model.metadata.create_all)
            await ensure_checkpoint(conn, model)
        sa.event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: sent.append(args[2]))

        async def emit(_decided) -> None:
            pass

        await project(engine, model, [Delivered(n, e) for n, e in enumerate(events, 1)], projection,
                      emit if projection else None)
        return len(sent)
    finally:
        await engine.dispose()


async def test_the_statements_a_batch_sends_do_not_grow_with_the_batch(pg_database):
    """Issue 7: one keyed query per table and key shape, one upsert per table, whatever the
    batch's size; on PostgreSQL, for the read model and for the detector."""
    small, large = busy_semester(16).envelopes, busy_semester(400).envelopes
    for model, projection in ((LIVE, None), (DETECTOR, DETECTION)):
        counts = []
        for events in (small, large):
            async with fresh_database("statements") as url:
                counts.append(await statements_for(url, model, events, projection))
        assert counts[0] == counts[1], (model.prefix, counts)
        assert counts[0] <= 2 * len(model.tables) + 2  # a read and a write per table, claim and advance


def meeting_semester(meetings: int) -> list[Envelope]:
    """S9/S10: ``meetings`` meetings of 200 teachers each, every meeting a new 200: a batch of
    20 names 4,000 teachers (8,000 keys), four times what SQLite takes in one query."""
    time, steps = TeachersTime(), []
    for n in range(meetings):
        teachers = tuple((f"t-{n}-{k}", SCHOOLS[k % len(SCHOOLS)]) for k in range(200))
        steps.append(time.meeting("2026-autumn", "dept-health", f"会议{n}", date(2026, 10, 12), teachers))
    return chained(steps)


async def test_s9_s10_the_statements_a_batch_of_meetings_sends_do_not_grow_with_its_participants(pg_database):
    """A meeting names each participant's counters: a large batch loads them in one query per
    table on PostgreSQL, as a small one does."""
    counts = []
    for events in (meeting_semester(1), meeting_semester(20)):
        async with fresh_database("statements") as url:
            counts.append(await statements_for(url, LIVE, events))
    assert counts[0] == counts[1], counts


def in_the_old_layout(envelope: Envelope) -> Envelope:
    """A decision as versions before the quotas stored it: on the semester aggregate, without
    ``semester`` in its data."""
    if envelope.event_type not in ("ActivityCertified", "ActivityRejected", "ActivityExemptionRecorded"):
        return envelope
    data = {key: value for key, value in envelope.data.items() if key != "semester"}
    return envelope.model_copy(update={"aggregate_type": "campus_entry_semester", "aggregate_id": SEMESTER,
                                       "data": data})


def rechained(envelopes: list[Envelope]) -> list[Envelope]:
    """The events with each aggregate's hash chain made anew, in this order."""
    heads, out = {}, []
    for envelope in envelopes:
        envelope = envelope.model_copy(update={"prev_hash": heads.get(envelope.subject, GENESIS_HASH)})
        heads[envelope.subject] = envelope.hash()
        out.append(envelope)
    return out


async def test_decisions_stored_on_the_semester_aggregate_by_earlier_versions_project_the_same():
    """S3: an auditor's rebuild of an older log reads its decisions where they were stored."""
    history = busy_semester(12)
    old = rechained([in_the_old_layout(e) for e in history.envelopes])
    model_new, _ = await run(LIVE, history.envelopes, [len(history.envelopes)])
    model_old, _ = await run(LIVE, old, [len(old)])
    assert model_new["quarantined_events"] == model_old["quarantined_events"] == []
    assert {name: rows for name, rows in model_new.items() if name != "chain_heads"} == {
        name: rows for name, rows in model_old.items() if name != "chain_heads"}
    assert len(model_old["applications"]) == len(TITLES) and len(model_old["authorisations"]) == 3 * len(TITLES)
