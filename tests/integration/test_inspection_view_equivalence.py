"""The S1/S2 view decides nothing by batch size (issue 9, as issue 7 for S3): random inspection
years, projected one event per batch, in random batches and as one batch, give identical read
models. On the embedded SQLite through the real adapter (keyed loads, bulk upserts), so a fold
that reads a row it did not name as a need shows up as a difference; and on PostgreSQL the
statements a batch sends do not grow with it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jianfu.compliance.detection import ViolationRecorder
from jianfu.compliance.domain.folding import Emitted, Fact, combine
from jianfu.compliance.domain.s1s2_detection import s1s2_detection
from jianfu.compliance.domain.s3_detection import s3_detection
from jianfu.compliance.read_model import DETECTOR, LIVE
from jianfu.events.envelope import GENESIS_HASH
from jianfu.events.schemas.compliance import Rule, ViolationDetected
from jianfu.events.schemas.inspections import VisitLabel
from jianfu.events.settings import SystemClock

from tests.conftest import fresh_database
from tests.factories import POLICY
from tests.inspection_year import InspectionYear, Step, chained
from tests.integration.test_projection_equivalence import run, statements_for
from tests.s3_semester import NAMES

YEARS = (2031, 2032)
SCHOOLS = ["school-dwk-primary-1", "school-dwk-primary-2", "school-dwk-middle-1"]
UNITS = ["dept-fire", "dept-health", "edu-bureau", "dept-publicity"]
FIELDS = ["在校生人数", "近视率", "教师人数", "在校生 人数", "安全隐患台账"]  # the fourth is the first, spaced
VISIT_RULES = [Rule.UNPLANNED_INSPECTION, Rule.DISGUISED_INSPECTION, Rule.INSPECTION_OVER_FREQUENCY]
S1S2_DETECTION = combine("detector", s3_detection(POLICY, NAMES, "edu-bureau"),
                         s1s2_detection(POLICY, NAMES, ["edu-bureau"]))  # as detection(settings) builds it
REQUEST_RULES = [Rule.DUPLICATE_DATA_REQUEST, Rule.EXCESSIVELY_SHORT_DEADLINE]

proposals = st.tuples(st.just("propose"), st.sampled_from(YEARS), st.sampled_from(UNITS),
                      st.sets(st.sampled_from(UNITS), max_size=2))
decisions = st.tuples(st.sampled_from(["approve", "file", "reject"]), st.integers(0, 30))
merges = st.tuples(st.just("merge"), st.integers(0, 30), st.integers(0, 30))
checklists = st.tuples(st.just("checklist"), st.sampled_from(YEARS), st.integers(1, 3), st.integers(1, 3))
visits = st.tuples(st.just("visit"), st.sampled_from(SCHOOLS), st.sampled_from(UNITS), st.integers(0, 3),
                   st.sampled_from(list(VisitLabel)), st.booleans())
requests = st.tuples(st.just("request"), st.sampled_from(UNITS), st.sets(st.sampled_from(SCHOOLS), min_size=1),
                     st.sets(st.sampled_from(FIELDS), min_size=1))
visit_violations = st.tuples(st.just("visit_violation"), st.sampled_from(VISIT_RULES), st.integers(0, 30))
request_violations = st.tuples(st.just("request_violation"), st.sampled_from(REQUEST_RULES), st.integers(0, 30),
                               st.integers(0, 2))
setters = st.tuples(st.just("setter"), st.integers(0, 30))
years = st.lists(st.one_of(proposals, decisions, merges, checklists, visits, requests, visit_violations,
                           request_violations, setters), min_size=1, max_size=40)


class Story:
    """Actions made into the steps the services and the detector would append."""

    def __init__(self) -> None:
        self.by_year = {year: InspectionYear(year, start=year * 1000) for year in YEARS}
        self.items, self.visits, self.requests = [], [], []
        self.steps: list[Step] = []

    def act(self, action: tuple) -> None:
        match action:
            case ("propose", year, unit, joint):
                step = self.by_year[year].propose(unit, joint=tuple(sorted(joint - {unit})), schools=tuple(SCHOOLS))
                self.items.append(step[1])
                self.steps.append(step)
            case (("approve" | "file" | "reject") as decision, n) if self.items:
                item = self.items[n % len(self.items)]
                y = self.by_year[item.year]
                self.steps.append({"approve": y.approved, "file": y.filed, "reject": y.rejected}[decision](item))
            case ("merge", a, b) if self.items:
                first, second = self.items[a % len(self.items)], self.items[b % len(self.items)]
                if first.item_id != second.item_id and first.year == second.year:
                    self.steps += self.by_year[first.year].merge(first, second)
            case ("checklist", year, edition, parts):
                listed = [item for item in self.items if item.year == year]
                self.steps += self.by_year[year].checklist(edition, listed, parts=min(parts, max(len(listed), 1)))
            case ("visit", school, unit, day, label, graded):
                year = YEARS[day % 2]
                step = self.by_year[year].visit(school, unit, date(year, 10, 1 + day), label=label, graded=graded,
                                                reporter=unit if graded else None)
                self.visits.append(step[1])
                self.steps.append(step)
            case ("request", unit, schools, fields):
                step = self.by_year[YEARS[0]].request(unit, tuple(sorted(schools)), tuple(sorted(fields)))
                self.requests.append(step[1])
                self.steps.append(step)
            case ("visit_violation", rule, n) if self.visits:
                visit = self.visits[n % len(self.visits)]
                self.steps.append(self.by_year[visit.year].violation(
                    rule, visit.visiting_org_id, visit.school_id, visit_id=str(visit.visit_id)))
            case ("request_violation", rule, n, school) if self.requests:
                request = self.requests[n % len(self.requests)]
                at = request.school_ids[school % len(request.school_ids)]
                evidence = ({"school_ids": list(request.school_ids)} if rule is Rule.EXCESSIVELY_SHORT_DEADLINE
                            else {"school_id": at})
                self.steps.append(self.by_year[request.year].violation(
                    rule, request.requester_org_id, None, request_id=str(request.request_id), **evidence))
            case ("setter", n) if self.items:
                item = self.items[n % len(self.items)]
                self.steps.append(self.by_year[item.year].violation(
                    Rule.UNAUTHORIZED_INSPECTION_SETTER, item.lead_org_id, None, item_id=str(item.item_id)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(years, st.lists(st.integers(1, 12), max_size=40))
async def test_s1_s2_one_event_per_batch_and_random_batches_give_the_same_read_model(actions, sizes):
    """S1/S2 and issue 9: the items, the checklist, visits, requests and the violation columns
    and counters are the same rows whether a batch holds one event, some, or all of them."""
    story = Story()
    for action in actions:
        story.act(action)
    if not story.steps:
        return
    stream = chained(story.steps)
    one, _ = await run(LIVE, stream, [1] * len(stream))
    assert await run(LIVE, stream, sizes) == (one, [])
    assert await run(LIVE, stream, [len(stream)]) == (one, [])


KNOWN_YEAR = [("propose", 2031, "dept-fire", {"dept-health"}), ("propose", 2031, "dept-health", set()),
              ("approve", 0), ("approve", 1), ("merge", 0, 1), ("checklist", 2031, 1, 1),
              *(("visit", school, "dept-fire", 0, VisitLabel.INSPECTION, False) for school in SCHOOLS),
              ("visit", SCHOOLS[0], "dept-fire", 0, VisitLabel.INSPECTION, False),  # the same visit again
              ("visit", SCHOOLS[0], "dept-health", 2, VisitLabel.RESEARCH, True),
              ("request", "dept-health", set(SCHOOLS), {"在校生人数", "近视率"}),
              ("request", "dept-publicity", {SCHOOLS[0]}, {"在校生人数"}),
              ("visit_violation", Rule.DISGUISED_INSPECTION, 3), ("visit_violation", Rule.DISGUISED_INSPECTION, 3),
              ("request_violation", Rule.DUPLICATE_DATA_REQUEST, 1, 0),
              ("request_violation", Rule.EXCESSIVELY_SHORT_DEADLINE, 0, 0)]


@pytest.mark.parametrize("sizes", [[1] * 20, [2, 3, 1, 4, 2, 5], [3] * 7, [50]])
async def test_s1_s2_a_known_year_folds_the_same_in_any_batching(sizes):
    """S1/S2: a merge, a visit reported twice, a disguised visit named twice, a duplicate request
    and a short deadline decide the same counters in any batching."""
    story = Story()
    for action in KNOWN_YEAR:
        story.act(action)
    stream = chained(story.steps)
    model, _ = await run(LIVE, stream, sizes)
    assert model == (await run(LIVE, stream, [1] * len(stream)))[0]
    # school, year, visits, unplanned, disguised, over frequency, requests, fields, distinct, duplicates, short
    assert sorted(model["inspection_school_years"]) == [
        '["school-dwk-middle-1", 2031, 1, 0, 0, 0, 1, 2, 2, 0, 1]',
        '["school-dwk-primary-1", 2031, 2, 0, 1, 0, 2, 3, 2, 1, 1]',
        '["school-dwk-primary-2", 2031, 1, 0, 0, 0, 1, 2, 2, 0, 1]']
    assert len(model["inspection_visits"]) == 4  # the visit reported twice is one
    status = [column.name for column in LIVE.inspection_items.columns].index("status")
    assert sorted(json.loads(row)[status] for row in model["inspection_items"]) == ["approved", "merged", "merged"]


def busy_year(size: int) -> list:
    story = Story()
    for n in range(size):
        story.act(("propose", YEARS[n % 2], UNITS[n % 4], {UNITS[(n + 1) % 4]}))
        story.act(("approve", n))
        story.act(("visit", SCHOOLS[n % 3], UNITS[n % 4], n % 4, VisitLabel.INSPECTION, n % 3 == 0))
        story.act(("request", UNITS[n % 4], set(SCHOOLS[:1 + n % 3]), set(FIELDS[:1 + n % 5])))
        story.act(("visit_violation", VISIT_RULES[n % 3], n))
        story.act(("request_violation", REQUEST_RULES[n % 2], n, n))
        story.act(("setter", n))
    story.act(("merge", 0, 2))
    story.act(("checklist", YEARS[0], 1, 2))
    return chained(story.steps)


async def test_s1_s2_the_statements_a_batch_sends_do_not_grow_with_the_batch(pg_database):
    """Issue 9 (as issue 7): one keyed query per table and key shape, one upsert per table,
    whatever the batch's size, for the combined read model on PostgreSQL."""
    counts = []
    for events in (busy_year(4), busy_year(120)):
        async with fresh_database("inspection_statements") as url:
            counts.append(await statements_for(url, LIVE, events))
    assert counts[0] == counts[1]
    assert counts[0] <= 2 * len(LIVE.tables) + 4  # a read per key shape and a write per table, claim and advance


def with_decided(stream: list, violations: list[dict]) -> list:
    """The stream with each violation the detector decided right after the visit or request that
    revealed it, as the detector appends it."""
    recorder, by_cause = ViolationRecorder(None, SystemClock()), {}
    for violation in violations:
        cause = violation["evidence"].get("visit_event_id") or violation["evidence"].get("request_event_id")
        by_cause.setdefault(cause, []).append(violation)
    out = []
    for envelope in stream:
        out.append(envelope)
        for violation in by_cause.pop(envelope.event_id, []):
            cause = Fact(0, envelope.event_id, envelope.event_type, envelope.aggregate_id, envelope.occurred_at,
                         envelope.correlation_id, None)
            out.append(recorder.envelope(Emitted(ViolationDetected.model_validate(violation), cause, POLICY.version)))
    assert not by_cause, "every violation follows its cause"
    return chained_again(out)


def chained_again(envelopes: list) -> list:
    heads, out = {}, []
    for envelope in envelopes:
        made = envelope.model_copy(update={"prev_hash": heads.get(envelope.subject, GENESIS_HASH)})
        heads[made.subject] = made.hash()
        out.append(made)
    return out


async def test_s1_s2_the_detectors_verdicts_are_what_the_counters_count():
    """S1/S2: the S1/S2 detector judges a year (a planned visit, the same visit reported again, a
    second visit beyond the item's frequency, an unplanned one, a graded 调研, a field asked twice,
    a Friday 17:00 deadline for a Thursday 15:00 request); the read model counts exactly the
    violations it appended, each at the visit or request it names."""
    y, school = InspectionYear(2026, start=7000), SCHOOLS[0]
    fire = y.propose("dept-fire", schools=(school,))
    item = fire[1]
    first = y.request("dept-health", (school,), ("在校生人数",))
    again = y.request("dept-publicity", (school,), ("在校生 人数", "教师人数"), day=11)
    thursday = y.request("dept-publicity", (school,), ("近视率",), day=12)  # 2026-03-12 15:00 in Shanghai
    short = (thursday[0], thursday[1].model_copy(update={"deadline": datetime(2026, 3, 13, 9, tzinfo=UTC)}),
             thursday[2])
    steps = [fire, y.approved(item), *y.checklist(1, [item]),
             y.visit(school, "dept-fire", date(2026, 10, 9), item_id=item.item_id),
             y.visit(school, "dept-fire", date(2026, 10, 9), item_id=item.item_id, reporter="dept-fire"),
             y.visit(school, "dept-fire", date(2026, 10, 20), item_id=item.item_id),
             y.visit(school, "dept-publicity", date(2026, 11, 3)),
             y.visit(school, "dept-health", date(2026, 5, 6), label=VisitLabel.RESEARCH, graded=True,
                     reporter="dept-health"),
             first, again, short]
    stream = chained(steps)
    _, violations = await run(DETECTOR, stream, [1] * len(stream), S1S2_DETECTION)
    rules = sorted(v["rule"] for v in violations)
    assert rules == ["DisguisedInspection", "DuplicateDataRequest", "ExcessivelyShortDeadline",
                     "InspectionOverFrequency", "UnplannedInspection"]
    model, _ = await run(LIVE, with_decided(stream, violations), [3] * len(stream))
    assert model["inspection_school_years"] == [f'["{school}", 2026, 4, 1, 1, 1, 3, 4, 3, 1, 1]']
