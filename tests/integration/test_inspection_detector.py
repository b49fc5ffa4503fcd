"""The S1/S2 detector through the real projector (issue 9): beside the S3 detector, as
``detection(settings)`` combines them, it appends each violation once with the events that prove
it as evidence, and the read model's register records them. Real nats-server (a log of the test's
own) and PostgreSQL; the batch-equivalence check runs on the embedded SQLite through the same
adapter."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jianfu.compliance.detection import detection
from jianfu.compliance.domain.folding import combine
from jianfu.compliance.domain.s1s2_detection import s1s2_detection
from jianfu.compliance.domain.s3_detection import s3_detection
from jianfu.compliance.read_model import DETECTOR, LIVE
from jianfu.events.envelope import Actor
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.compliance import Rule
from jianfu.events.schemas.inspections import (
    ChecklistRow,
    DataRequestIssued,
    InspectionApproved,
    InspectionCategory,
    InspectionChecklistPublished,
    InspectionItemProposed,
    InspectionItemsMerged,
    InspectionTarget,
    InspectionVisitReported,
    VisitLabel,
)
from jianfu.events.settings import Settings
from jianfu.events.store import execute
from jianfu.events.working_days import BUSINESS_TIME

from tests.factories import DIRECTORY, POLICY
from tests.integration.test_projection_equivalence import History, run
from tests.s3_semester import NAMES, running, settle

YEAR = 2026
DETECTION = combine("detector", s3_detection(POLICY, NAMES, "edu-bureau"), s1s2_detection(POLICY, NAMES, ["edu-bureau"]))
HEALTH, FIRE, HOUSING = "dept-health", "dept-fire", "dept-housing"
SCHOOL, OTHER = "school-dwk-primary-1", "school-dwk-middle-1"


def proposed(item_id: uuid.UUID, lead: str, months=(4, 5), frequency: int = 1) -> InspectionItemProposed:
    return InspectionItemProposed(
        year=YEAR, title=f"检查事项 {lead}", category=InspectionCategory.INSPECTION, policy_basis="《有关规定》",
        target=InspectionTarget(all_schools=True), method="实地检查", indicators=10, frequency_per_year=frequency,
        planned_months=months, item_id=item_id, lead_org_id=lead, proposed_on=date(YEAR, 1, 10), late=False,
        school_ids=(SCHOOL, OTHER))


def checklist_row(item_id: uuid.UUID, units, months=(4, 5), frequency: int = 1, merged=()) -> ChecklistRow:
    return ChecklistRow(item_id=item_id, item_name="检查事项", target="全区中小学校",
                        category=InspectionCategory.INSPECTION, method="实地检查", sample_ratio_or_frequency="每年1次",
                        time_window="4-5月", inspecting_units=tuple(units), inspecting_unit_names=tuple(units),
                        school_ids=(SCHOOL, OTHER), frequency_per_year=frequency, planned_months=tuple(months),
                        merged_item_ids=tuple(merged))


def visit(unit: str, day: date, item_id=None, label=VisitLabel.INSPECTION, graded=False, grading="",
          school: str = SCHOOL) -> InspectionVisitReported:
    visit_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{school}|{unit}|{day}")  # one visit per school, unit and day
    return InspectionVisitReported(visit_id=visit_id, school_id=school, visiting_org_id=unit, visited_on=day,
                                   year=day.year, item_id=item_id, label=label, graded=graded, grading=grading,
                                   reported_by_org_id=school)


def data_request(unit: str, fields, issued: datetime, deadline: datetime, schools=(SCHOOL,)) -> DataRequestIssued:
    return DataRequestIssued(request_id=uuid.uuid4(), requester_org_id=unit, title="数据报送", fields=tuple(fields),
                             school_ids=tuple(schools), issued_at=issued, deadline=deadline,
                             year=issued.astimezone(BUSINESS_TIME).year)


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=BUSINESS_TIME)


async def append(store, org: str, data, aggregate_id: str):
    context = CommandContext(Actor(org_id=org, org_kind=DIRECTORY.get(org).kind), str(uuid.uuid4()),
                             str(uuid.uuid4()), POLICY.version, datetime(YEAR, 3, 1, tzinfo=UTC))
    envelope = context.event(data, aggregate_id)
    return (await execute(store, envelope.aggregate_type, envelope.aggregate_id, lambda h: [envelope]))[0]


def test_s1_s2_the_services_detector_is_s3_and_s1s2_combined():
    both = detection(Settings())
    assert {"ActivityHeldReported", "InspectionVisitReported", "DataRequestIssued", "InspectionApproved"} <= set(both.on)
    assert set(both.keys) == set(DETECTOR.keys)


async def test_s1_s2_every_rule_once_with_its_evidence_through_the_running_detector(engine, log):
    store = log.store
    planned, unapproved = uuid.uuid4(), uuid.uuid4()
    await append(store, HEALTH, proposed(planned, HEALTH), str(planned))
    await append(store, FIRE, proposed(unapproved, FIRE), str(unapproved))
    await append(store, "supervision-office", InspectionApproved(item_id=planned, lead_org_id=HEALTH, year=YEAR,
                                                                 approved_by_org_id="supervision-office"), str(planned))
    await append(store, "edu-bureau", InspectionChecklistPublished(year=YEAR, edition=1, row_count=1, rows=(
        checklist_row(planned, (HEALTH,)),)), str(YEAR))
    facts = {}
    for name, unit, data in [
        ("planned", HEALTH, visit(HEALTH, date(YEAR, 4, 10), planned)),
        ("over", HEALTH, visit(HEALTH, date(YEAR, 5, 12), planned)),
        ("outside", HEALTH, visit(HEALTH, date(YEAR, 9, 8), planned, school=OTHER)),
        ("disguised", HOUSING, visit(HOUSING, date(YEAR, 6, 3), label=VisitLabel.RESEARCH, graded=True,
                                     grading="优秀/合格/不合格")),
        ("setter", FIRE, visit(FIRE, date(YEAR, 4, 20), unapproved)),
        ("setter again", FIRE, visit(FIRE, date(YEAR, 4, 21), unapproved, school=OTHER)),
        ("first ask", HEALTH, data_request(HEALTH, ["在校学生人数", "教师人数"], at(date(YEAR, 3, 2), 9),
                                           at(date(YEAR, 3, 9), 17), schools=(SCHOOL, OTHER))),
        ("duplicate", FIRE, data_request(FIRE, ["教师 人数"], at(date(2026, 11, 26), 15), at(date(2026, 11, 27), 17))),
    ]:
        aggregate_id = str(getattr(data, "visit_id", None) or data.request_id)
        facts[name] = (data, await append(store, unit if name != "disguised" else SCHOOL, data, aggregate_id))
    reported_twice = facts["disguised"][0]  # the unit reports the same visit too
    await append(store, HOUSING, reported_twice.model_copy(update={"reported_by_org_id": HOUSING}),
                 str(reported_twice.visit_id))

    async with running(engine, log.js, store, detection=DETECTION) as both:
        await settle(both, store)
    v = LIVE.violations
    async with engine.connect() as conn:
        found = [dict(r._mapping) for r in await conn.execute(sa.select(v).where(v.c.clause.in_(["S1", "S2"]))
                                                               .order_by(v.c.sequence))]
    by_rule = {}
    for row in found:
        by_rule.setdefault(row["rule"], []).append(row)
    assert {rule: len(rows) for rule, rows in by_rule.items()} == {
        Rule.INSPECTION_OVER_FREQUENCY.value: 1, Rule.UNPLANNED_INSPECTION.value: 1, Rule.DISGUISED_INSPECTION.value: 1,
        Rule.UNAUTHORIZED_INSPECTION_SETTER.value: 1, Rule.DUPLICATE_DATA_REQUEST.value: 1,
        Rule.EXCESSIVELY_SHORT_DEADLINE.value: 1}
    for rule, name in [(Rule.INSPECTION_OVER_FREQUENCY, "over"), (Rule.UNPLANNED_INSPECTION, "outside"),
                       (Rule.DISGUISED_INSPECTION, "disguised"), (Rule.UNAUTHORIZED_INSPECTION_SETTER, "setter")]:
        [row] = by_rule[rule.value]
        data, stored = facts[name]
        assert (row["evidence"]["visit_id"], row["evidence"]["visit_event_id"]) == (str(data.visit_id), stored.envelope.event_id)
    [duplicate] = by_rule[Rule.DUPLICATE_DATA_REQUEST.value]
    first, first_stored = facts["first ask"]
    assert (duplicate["responsible_org_id"], duplicate["school_id"]) == (FIRE, SCHOOL)
    assert (duplicate["evidence"]["earlier_request_id"], duplicate["evidence"]["earlier_request_event_id"]) == (
        str(first.request_id), first_stored.envelope.event_id)
    [short] = by_rule[Rule.EXCESSIVELY_SHORT_DEADLINE.value]
    assert short["evidence"]["request_id"] == str(facts["duplicate"][0].request_id)
    [event] = (await store.load("violation", short["violation_id"])).envelopes
    assert (event.causation_id, event.policy_version) == (facts["duplicate"][1].envelope.event_id, POLICY.version)


async def test_s1_s2_a_request_whose_title_holds_a_nul_is_set_aside_and_the_next_is_judged(engine, log):
    """Stored by hand past intake: a violation quoting it could never be stored, so the detector
    quarantines it, writes nothing unreadable, and goes on."""
    spoiled = data_request(HEALTH, ["教师人数"], at(date(YEAR, 3, 5), 15), at(date(YEAR, 3, 6), 9))
    context = CommandContext(Actor(org_id=HEALTH, org_kind=DIRECTORY.get(HEALTH).kind), str(uuid.uuid4()),
                             str(uuid.uuid4()), POLICY.version, datetime(YEAR, 3, 5, tzinfo=UTC))
    envelope = context.event(spoiled, str(spoiled.request_id)).model_dump(mode="json")
    envelope["data"]["title"] = "数据\u0000报送"  # a short deadline's summary would quote it
    poison = (await log.js.publish(f"jf.ev.data_request.{spoiled.request_id}",
                                   json.dumps(envelope, ensure_ascii=False).encode(), stream="JIANFU_EVENTS")).seq
    after = data_request(FIRE, ["消防器材数量"], at(date(YEAR, 3, 5), 15), at(date(YEAR, 3, 6), 9))
    await append(log.store, FIRE, after, str(after.request_id))
    async with running(engine, log.js, log.store, detection=DETECTION) as both:
        await settle(both, log.store)
    async with engine.connect() as conn:
        found = (await conn.execute(sa.select(LIVE.violations.c.responsible_org_id, LIVE.violations.c.rule))).all()
        set_aside = set((await conn.execute(sa.select(DETECTOR.quarantined_events.c.sequence))).scalars())
        projector_set_aside = set((await conn.execute(sa.select(LIVE.quarantined_events.c.event_type))).scalars())
    assert found == [(FIRE, Rule.EXCESSIVELY_SHORT_DEADLINE.value)]
    assert poison in set_aside
    assert "ViolationDetected" not in projector_set_aside  # the detector wrote nothing unreadable


# Batch equivalence: the fold decides the same in any batching.

UNITS = [HEALTH, FIRE, "edu-bureau"]
SCHOOLS = [SCHOOL, OTHER]
FIELDS = ["在校学生人数", "教师人数", "教师 人数", "消防器材数量"]
actions = st.one_of(
    st.tuples(st.just("propose"), st.sampled_from(UNITS), st.integers(1, 2)),
    st.tuples(st.just("approve"), st.integers(0, 20)),
    st.tuples(st.just("merge"), st.integers(0, 20), st.integers(0, 20)),
    st.tuples(st.just("publish"), st.integers(0, 20)),
    st.tuples(st.just("visit"), st.sampled_from(UNITS), st.sampled_from(SCHOOLS), st.integers(-1, 20),
              st.integers(3, 6), st.integers(1, 3), st.sampled_from(list(VisitLabel)), st.booleans()),
    st.tuples(st.just("request"), st.sampled_from(UNITS), st.sets(st.sampled_from(FIELDS), min_size=1),
              st.sets(st.sampled_from(SCHOOLS), min_size=1), st.integers(1, 80)),
)


class Year(History):
    """S1/S2 events as the services would append them, chained per aggregate."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[tuple[uuid.UUID, tuple[str, ...]]] = []
        self.sources: dict[uuid.UUID, tuple[uuid.UUID, ...]] = {}  # merged item: the items it replaced
        self.edition = 0

    def act(self, n: int, action: tuple) -> None:
        match action:
            case ("propose", unit, frequency):
                item_id = next(self.ids)
                self.items.append((item_id, (unit,)))
                self.add(unit, proposed(item_id, unit, frequency=frequency), str(item_id), n)
            case ("approve", index) if self.items:
                item_id, units = self.items[index % len(self.items)]
                self.add("supervision-office", InspectionApproved(item_id=item_id, lead_org_id=units[0], year=YEAR,
                                                                  approved_by_org_id="supervision-office"),
                         str(item_id), n)
            case ("merge", first, second) if len(self.items) > 1:
                sources = {self.items[first % len(self.items)], self.items[second % len(self.items)]}
                item_id, units = next(self.ids), tuple(sorted({u for _, us in sources for u in us}))
                self.items.append((item_id, units))
                self.sources[item_id] = tuple(i for i, _ in sources)
                self.add("edu-bureau", InspectionItemsMerged(
                    item_id=item_id, year=YEAR, title="合并事项", merged_item_ids=tuple(i for i, _ in sources),
                    lead_org_ids=units, category=InspectionCategory.INSPECTION, target_school_ids=tuple(SCHOOLS),
                    teachers=False, frequency_per_year=1, planned_months=(4, 5), data_fields=()), str(item_id), n)
            case ("publish", count):
                self.edition += 1
                merged_away = {source for sources in self.sources.values() for source in sources}
                rows = tuple(checklist_row(i, units, merged=self.sources.get(i, ()))
                             for i, units in self.items[:count] if i not in merged_away)
                self.add("edu-bureau", InspectionChecklistPublished(year=YEAR, edition=self.edition, rows=rows,
                                                                    row_count=len(rows)), str(YEAR), n)
            case ("visit", unit, school, index, month, day, label, graded):
                item_id = self.items[index % len(self.items)][0] if index >= 0 and self.items else None
                data = visit(unit, date(YEAR, month, day), item_id, label, graded, school=school)
                self.add(school, data, str(data.visit_id), n)
            case ("request", unit, fields, schools, hours):
                issued = at(date(YEAR, 3, 5), 15)  # a Thursday
                data = data_request(unit, sorted(fields), issued, issued.replace(day=5 + hours // 24, hour=hours % 24),
                                    schools=sorted(schools))
                self.add(unit, data, str(data.request_id), n)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(actions, min_size=1, max_size=40), st.lists(st.integers(1, 12), max_size=40))
async def test_s1_s2_one_event_per_batch_and_random_batches_decide_the_same(history, sizes):
    """S1/S2: the detector's state and its violations are the same whether a batch holds one
    event, some or all of them (a fold that reads a row it did not name as a need differs)."""
    year = Year()
    for n, action in enumerate(history):
        year.act(n, action)
    if not year.envelopes:
        return
    one = await run(DETECTOR, year.envelopes, [1] * len(year.envelopes), DETECTION)
    assert await run(DETECTOR, year.envelopes, sizes, DETECTION) == one
    assert await run(DETECTOR, year.envelopes, [len(year.envelopes)], DETECTION) == one


KNOWN = [("propose", HEALTH, 1), ("propose", FIRE, 1), ("approve", 0), ("merge", 0, 1), ("approve", 2),
         ("publish", 3), ("visit", HEALTH, SCHOOL, 0, 4, 1, VisitLabel.INSPECTION, False),
         ("visit", FIRE, SCHOOL, 1, 4, 2, VisitLabel.INSPECTION, False),
         ("visit", FIRE, SCHOOL, 1, 4, 2, VisitLabel.INSPECTION, False),
         ("visit", FIRE, OTHER, -1, 9, 1, VisitLabel.RESEARCH, True),
         ("request", HEALTH, {FIELDS[1]}, {SCHOOL}, 120), ("request", FIRE, {FIELDS[2]}, {SCHOOL, OTHER}, 80)]


@pytest.mark.parametrize("sizes", [[1] * 12, [2, 3, 1, 4, 2], [5, 7], [50]])
async def test_s1_s2_a_merged_item_a_repeated_visit_and_a_duplicate_fold_the_same_in_any_batching(sizes):
    year = Year()
    for n, action in enumerate(KNOWN):
        year.act(n, action)
    one = await run(DETECTOR, year.envelopes, [1] * len(year.envelopes), DETECTION)
    assert await run(DETECTOR, year.envelopes, sizes, DETECTION) == one
    # The merged item counts once (the second source's visit is beyond it), the visit reported
    # twice is judged once, the disguised visit, the 26-hour deadline and the repeated field.
    assert sorted(v["rule"] for v in one[1]) == sorted([
        Rule.INSPECTION_OVER_FREQUENCY.value, Rule.DISGUISED_INSPECTION.value, Rule.EXCESSIVELY_SHORT_DEADLINE.value,
        Rule.DUPLICATE_DATA_REQUEST.value])
