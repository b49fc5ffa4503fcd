"""S1 inspections and S2 data requests: the detector's rules, folded over given events in memory
(no I/O). Given the plan's events, when a visit or a data request is folded, then these
violations (or none)."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from jianfu.compliance.domain.folding import Fact
from jianfu.compliance.domain.s1s2_detection import s1s2_detection
from jianfu.events.schemas.compliance import Rule
from jianfu.events.schemas.inspections import (
    ChecklistRow,
    DataRequestIssued,
    InspectionApproved,
    InspectionCategory,
    InspectionChecklistPublished,
    InspectionItemFiled,
    InspectionItemMerged,
    InspectionItemProposed,
    InspectionItemsMerged,
    InspectionTarget,
    InspectionVisitReported,
    VisitLabel,
)
from jianfu.events.working_days import BUSINESS_TIME

from tests.factories import POLICY
from tests.s3_semester import NAMES

YEAR = 2026
BUREAU, HEALTH, FIRE, HOUSING = "edu-bureau", "dept-health", "dept-fire", "dept-housing"
SCHOOL, OTHER_SCHOOL = "school-dwk-primary-1", "school-dwk-middle-1"
DETECTOR = s1s2_detection(POLICY, NAMES, [BUREAU])


class Year:
    """The events of an inspection year, folded in one batch as the detector folds them."""

    def __init__(self) -> None:
        self.facts: list[Fact] = []
        self.sequence = itertools.count(1)

    def add(self, data) -> Fact:
        fact = Fact(next(self.sequence), str(uuid.uuid4()), type(data).__name__, "aggregate",
                    datetime(YEAR, 3, 1, tzinfo=UTC), "correlation", data)
        self.facts.append(fact)
        return fact

    def violations(self) -> list:
        batch = DETECTOR.fold(DETECTOR.empty_batch(), self.facts)
        return [emitted.decision for emitted in batch.emitted]

    def propose(self, lead: str, months=(4, 5), frequency: int = 1) -> uuid.UUID:
        item_id = uuid.uuid4()
        self.add(InspectionItemProposed(
            year=YEAR, title=f"检查事项 {item_id.hex[:4]}", category=InspectionCategory.INSPECTION,
            policy_basis="《有关规定》", target=InspectionTarget(all_schools=True), method="实地检查", indicators=10,
            frequency_per_year=frequency, planned_months=months, item_id=item_id, lead_org_id=lead,
            proposed_on=date(YEAR, 1, 10), late=False, school_ids=(SCHOOL, OTHER_SCHOOL)))
        return item_id

    def approve(self, item_id: uuid.UUID, lead: str) -> None:
        if lead == BUREAU:
            self.add(InspectionItemFiled(item_id=item_id, lead_org_id=lead, year=YEAR))
        else:
            self.add(InspectionApproved(item_id=item_id, lead_org_id=lead, year=YEAR,
                                        approved_by_org_id="supervision-office"))

    def publish(self, *rows: ChecklistRow, edition: int = 1) -> None:
        self.add(InspectionChecklistPublished(year=YEAR, edition=edition, rows=rows, row_count=len(rows)))

    def visit(self, unit: str, day: date, item_id: uuid.UUID | None = None, label=VisitLabel.INSPECTION,
              graded: bool = False, grading: str = "", school: str = SCHOOL, visit_id: uuid.UUID | None = None,
              ) -> InspectionVisitReported:
        visit = InspectionVisitReported(visit_id=visit_id or uuid.uuid4(), school_id=school, visiting_org_id=unit,
                                        visited_on=day, year=day.year, item_id=item_id, label=label, graded=graded,
                                        grading=grading, reported_by_org_id=school)
        self.add(visit)
        return visit

    def request(self, unit: str, fields, issued_at: datetime, deadline: datetime, schools=(SCHOOL,),
                ) -> tuple[DataRequestIssued, Fact]:
        request = DataRequestIssued(request_id=uuid.uuid4(), requester_org_id=unit, title="数据报送",
                                    fields=tuple(fields), school_ids=tuple(schools), issued_at=issued_at,
                                    deadline=deadline, year=issued_at.astimezone(BUSINESS_TIME).year)
        return request, self.add(request)


def merge(year: Year, sources, leads, months=(4,), frequency: int = 1) -> uuid.UUID:
    """The bureau merges ``sources`` into a new item (S1: 统筹协调)."""
    merged = uuid.uuid4()
    year.add(InspectionItemsMerged(item_id=merged, year=YEAR, title="合并事项", merged_item_ids=tuple(sources),
                                   lead_org_ids=tuple(leads), category=InspectionCategory.INSPECTION,
                                   target_school_ids=(SCHOOL,), teachers=False, frequency_per_year=frequency,
                                   planned_months=tuple(months), data_fields=()))
    return merged


def row(item_id: uuid.UUID, units=(HEALTH,), months=(4, 5), frequency: int = 1, schools=(SCHOOL, OTHER_SCHOOL),
        merged=()) -> ChecklistRow:
    return ChecklistRow(item_id=item_id, item_name="检查事项", target="全区中小学校",
                        category=InspectionCategory.INSPECTION, method="实地检查",
                        sample_ratio_or_frequency=f"每年{frequency}次", time_window="4-5月",
                        inspecting_units=tuple(units), inspecting_unit_names=tuple(units), school_ids=tuple(schools),
                        frequency_per_year=frequency, planned_months=tuple(months), merged_item_ids=tuple(merged))


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=BUSINESS_TIME)


def planned_year(frequency: int = 1) -> tuple[Year, uuid.UUID]:
    """A health-department item, approved and on the published checklist for April and May."""
    year = Year()
    item = year.propose(HEALTH, frequency=frequency)
    year.approve(item, HEALTH)
    year.publish(row(item, frequency=frequency))
    return year, item


def rules(violations) -> list[str]:
    return [v.rule.value for v in violations]


# S1: disguised inspections.

def test_s1_a_research_visit_that_grades_schools_is_a_disguised_inspection():
    year, item = planned_year()
    visit = year.visit(HEALTH, date(YEAR, 4, 10), label=VisitLabel.RESEARCH, graded=True, grading="优秀/合格/不合格")
    [found] = year.violations()
    assert (found.rule, found.clause, found.responsible_org_id, found.school_id) == (
        Rule.DISGUISED_INSPECTION, "S1", HEALTH, SCHOOL)
    assert found.evidence["visit_id"] == str(visit.visit_id) and found.evidence["grading"] == "优秀/合格/不合格"
    assert found.evidence["visit_event_id"] == year.facts[-1].event_id
    assert "调研" in found.summary and found.semester == "2026-spring"
    assert found.issue_key == f"{HEALTH}:DisguisedInspection"


def test_s1_an_evaluation_guidance_or_monitoring_visit_that_ranks_is_disguised_and_charged_once():
    """Off the plan too, it is charged for what it was (disguised), not a second time as unplanned."""
    year = Year()
    for label in (VisitLabel.EVALUATION, VisitLabel.GUIDANCE, VisitLabel.MONITORING):
        year.visit(FIRE, date(YEAR, 9, 10), label=label, graded=True, grading="全区排名")
    assert rules(year.violations()) == [Rule.DISGUISED_INSPECTION.value] * 3


def test_s1_a_research_visit_that_does_not_grade_is_no_inspection():
    year = Year()
    year.visit(FIRE, date(YEAR, 9, 10), label=VisitLabel.RESEARCH)
    assert year.violations() == []


# S1: unplanned inspections.

def test_s1_an_inspection_with_no_checklist_published_for_its_year_is_unplanned():
    year = Year()
    item = year.propose(HEALTH)
    year.approve(item, HEALTH)
    visit = year.visit(HEALTH, date(YEAR, 4, 10), item)
    [found] = year.violations()
    assert (found.rule, found.responsible_org_id, found.evidence["ground"]) == (
        Rule.UNPLANNED_INSPECTION, HEALTH, "no_checklist")
    assert found.evidence["visit_id"] == str(visit.visit_id)


def test_s1_an_inspection_on_the_checklist_in_its_months_is_planned():
    year, item = planned_year()
    year.visit(HEALTH, date(YEAR, 4, 10), item)
    year.visit(HEALTH, date(YEAR, 5, 10), school=OTHER_SCHOOL)  # no item named: the unit's row covers it
    assert year.violations() == []


def test_s1_an_inspection_outside_its_items_months_is_unplanned():
    year, item = planned_year()
    year.visit(HEALTH, date(YEAR, 9, 10), item)
    [found] = year.violations()
    assert (found.rule, found.evidence["ground"], found.evidence["planned_months"]) == (
        Rule.UNPLANNED_INSPECTION, "outside_months", [4, 5])


def test_s1_an_inspection_of_a_school_or_by_a_unit_the_row_does_not_cover_is_unplanned():
    year = Year()
    item = year.propose(HEALTH)
    year.approve(item, HEALTH)
    year.publish(row(item, schools=(OTHER_SCHOOL,)))
    year.visit(HEALTH, date(YEAR, 4, 10), item)                        # not this school
    year.visit(FIRE, date(YEAR, 4, 11), item, school=OTHER_SCHOOL)    # not this unit's item
    year.visit(BUREAU, date(YEAR, 4, 12), item, school=OTHER_SCHOOL)  # the bureau coordinates every item
    found = year.violations()
    assert [(v.rule, v.responsible_org_id, v.evidence["ground"]) for v in found] == [
        (Rule.UNPLANNED_INSPECTION, HEALTH, "not_on_checklist"), (Rule.UNPLANNED_INSPECTION, FIRE, "not_on_checklist")]


def test_s1_the_latest_checklist_edition_published_whole_is_the_one_in_force():
    year, item = planned_year()
    year.publish(edition=2)  # the bureau withdraws the item
    year.visit(HEALTH, date(YEAR, 4, 10), item)
    assert [v.evidence["ground"] for v in year.violations()] == ["not_on_checklist"]


def test_s1_an_edition_is_in_force_only_once_its_last_part_is_in():
    year, item = planned_year()
    year.add(InspectionChecklistPublished(year=YEAR, edition=2, rows=(), part=1, parts=2, row_count=1))
    year.visit(HEALTH, date(YEAR, 4, 10), item)  # edition 1 still decides: planned
    year.add(InspectionChecklistPublished(year=YEAR, edition=2, rows=(), part=2, parts=2, offset=0, row_count=1))
    year.visit(HEALTH, date(YEAR, 4, 11), item, school=OTHER_SCHOOL)  # edition 2, without the item
    assert [v.evidence["ground"] for v in year.violations()] == ["not_on_checklist"]


def test_s1_the_same_visit_reported_twice_is_one_visit_and_one_violation_at_most():
    """The school and the unit both report it: one visit id (school, unit, day), judged once."""
    year = Year()
    first = year.visit(FIRE, date(YEAR, 9, 10))
    year.visit(FIRE, date(YEAR, 9, 10), visit_id=first.visit_id)
    assert rules(year.violations()) == [Rule.UNPLANNED_INSPECTION.value]


def test_s1_a_visit_before_the_plan_took_effect_is_not_judged():
    year = Year()
    year.visit(FIRE, date(2021, 6, 1))
    assert year.violations() == []


# S1: unauthorised setters.

def test_s1_a_visit_under_a_non_education_units_item_never_approved_charges_the_setter_once():
    year = Year()
    item = year.propose(FIRE)
    first = year.visit(FIRE, date(YEAR, 4, 10), item)
    year.visit(FIRE, date(YEAR, 4, 10), item, school=OTHER_SCHOOL)
    [found] = year.violations()  # one fact, the item: not also an UnplannedInspection per visit
    assert (found.rule, found.clause, found.responsible_org_id) == (Rule.UNAUTHORIZED_INSPECTION_SETTER, "S1", FIRE)
    assert found.evidence["item_id"] == str(item) and found.evidence["visit_id"] == str(first.visit_id)
    assert found.evidence["item_proposed_event_id"] == year.facts[0].event_id


def test_s1_an_approved_item_or_the_bureaus_own_has_no_unauthorised_setter():
    year = Year()
    approved, own = year.propose(FIRE), year.propose(BUREAU)
    year.approve(approved, FIRE)
    year.visit(FIRE, date(YEAR, 4, 10), approved)
    year.visit(BUREAU, date(YEAR, 4, 11), own)  # not filed, not on a checklist: unplanned, not a setter
    assert [(v.rule, v.responsible_org_id) for v in year.violations()] == [
        (Rule.UNPLANNED_INSPECTION, FIRE), (Rule.UNPLANNED_INSPECTION, BUREAU)]


def test_s1_an_item_merged_into_an_approved_item_is_approved_through_it():
    year = Year()
    unapproved, approved = year.propose(FIRE), year.propose(HEALTH)
    year.approve(approved, HEALTH)
    merged = merge(year, (unapproved, approved), (FIRE, HEALTH), (4,))
    late = year.propose(FIRE)  # merged in after the merged item was approved
    year.add(InspectionItemMerged(item_id=late, into_item_id=merged, year=YEAR))
    year.publish(row(merged, units=(FIRE, HEALTH), months=(4,), merged=(unapproved, approved, late)))
    year.visit(FIRE, date(YEAR, 4, 10), unapproved)
    year.visit(FIRE, date(YEAR, 4, 10), late, school=OTHER_SCHOOL)
    assert Rule.UNAUTHORIZED_INSPECTION_SETTER.value not in rules(year.violations())


def test_s1_approving_a_merged_item_later_approves_the_items_it_replaced():
    year = Year()
    source = year.propose(FIRE)
    merged = merge(year, (source,), (FIRE,), (4,))
    year.visit(FIRE, date(YEAR, 4, 9), source)
    year.approve(merged, FIRE)
    year.visit(FIRE, date(YEAR, 4, 10), source, school=OTHER_SCHOOL)
    assert rules(year.violations()) == [Rule.UNAUTHORIZED_INSPECTION_SETTER.value, Rule.UNPLANNED_INSPECTION.value]


# S1: frequency.

def test_s1_a_visit_beyond_the_items_frequency_at_a_school_in_a_year_is_over_frequency():
    year, item = planned_year(frequency=1)
    first = year.visit(HEALTH, date(YEAR, 4, 10), item)
    second = year.visit(HEALTH, date(YEAR, 5, 10), item)
    year.visit(HEALTH, date(YEAR, 5, 11), item, school=OTHER_SCHOOL)  # another school: its own count
    [found] = year.violations()
    assert (found.rule, found.responsible_org_id, found.evidence["visit_id"]) == (
        Rule.INSPECTION_OVER_FREQUENCY, HEALTH, str(second.visit_id))
    assert found.evidence["earlier_visit_ids"] == [str(first.visit_id)] and found.evidence["frequency_per_year"] == 1


def test_s1_a_merged_item_counts_once_visits_under_its_sources_count_for_it():
    year = Year()
    a, b = year.propose(HEALTH), year.propose(FIRE)
    year.approve(a, HEALTH)
    year.approve(b, FIRE)
    merged = merge(year, (a, b), (HEALTH, FIRE), (4, 5))
    year.publish(row(merged, units=(HEALTH, FIRE), frequency=1, merged=(a, b)))
    year.visit(HEALTH, date(YEAR, 4, 10), a)
    year.visit(FIRE, date(YEAR, 5, 10), b)
    [found] = year.violations()
    assert (found.rule, found.responsible_org_id, found.evidence["checklist_item_id"]) == (
        Rule.INSPECTION_OVER_FREQUENCY, FIRE, str(merged))


def test_s1_a_merger_of_mergers_still_counts_once_and_approves_what_went_into_it():
    """A went into M, M and C into N; the checklist's row N names its direct sources (M, C)."""
    year = Year()
    a, b, c = year.propose(FIRE), year.propose(HEALTH), year.propose(HOUSING)
    first = merge(year, (a, b), (FIRE, HEALTH), (4, 5))
    for source in (a, b):
        year.add(InspectionItemMerged(item_id=source, into_item_id=first, year=YEAR))
    second = merge(year, (first, c), (FIRE, HEALTH, HOUSING), (4, 5))
    year.approve(second, FIRE)  # approved after both mergers: every item behind it is approved
    year.publish(row(second, units=(FIRE, HEALTH, HOUSING), merged=(first, c)))
    year.visit(FIRE, date(YEAR, 4, 10), a)
    year.visit(HOUSING, date(YEAR, 5, 10), c)
    [found] = year.violations()
    assert (found.rule, found.responsible_org_id, found.evidence["checklist_item_id"]) == (
        Rule.INSPECTION_OVER_FREQUENCY, HOUSING, str(second))


def test_s1_a_visit_reported_twice_takes_one_place_in_the_count():
    year, item = planned_year(frequency=1)
    first = year.visit(HEALTH, date(YEAR, 4, 10), item)
    year.visit(HEALTH, date(YEAR, 4, 10), item, visit_id=first.visit_id)
    assert year.violations() == []


# S2: duplicate data requests.

def test_s2_a_second_unit_asking_a_school_for_a_field_it_already_supplied_is_a_duplicate_naming_the_first():
    year = Year()
    issued = at(date(YEAR, 3, 2), 9)
    first, first_fact = year.request(HEALTH, ["在校学生人数", "教师人数"], issued, at(date(YEAR, 3, 9), 17))
    later, _ = year.request(FIRE, ["在校 学生人数", "消防器材数量"], at(date(YEAR, 5, 6), 9), at(date(YEAR, 5, 13), 17),
                            schools=(SCHOOL, OTHER_SCHOOL))
    [found] = year.violations()
    assert (found.rule, found.clause, found.responsible_org_id, found.school_id) == (
        Rule.DUPLICATE_DATA_REQUEST, "S2", FIRE, SCHOOL)
    assert found.evidence["request_id"] == str(later.request_id)
    assert (found.evidence["earlier_request_id"], found.evidence["earlier_request_event_id"]) == (
        str(first.request_id), first_fact.event_id)
    assert [f["field"] for f in found.evidence["fields"]] == ["在校学生人数"]


def test_s2_the_same_unit_asking_again_is_a_duplicate_and_another_year_is_not():
    year = Year()
    year.request(HEALTH, ["教师人数"], at(date(YEAR, 3, 2), 9), at(date(YEAR, 3, 9), 17))
    year.request(HEALTH, ["教师人数"], at(date(YEAR + 1, 3, 2), 9), at(date(YEAR + 1, 3, 9), 17))
    year.request(HEALTH, ["ＴＥＡＣＨＥＲ数", "teacher数", "教师人数"], at(date(YEAR, 4, 1), 9), at(date(YEAR, 4, 8), 17))
    found = year.violations()
    assert [(v.rule, v.responsible_org_id) for v in found] == [(Rule.DUPLICATE_DATA_REQUEST, HEALTH)]
    assert [f["field"] for f in found[0].evidence["fields"]] == ["教师人数"]  # teacher数 twice in one request is not


# S2: deadlines.

def test_s2_a_deadline_of_friday_1700_for_a_request_issued_thursday_1500_is_too_short():
    year = Year()
    thursday = date(2026, 11, 26)
    request, fact = year.request(HEALTH, ["教师人数"], at(thursday, 15), at(date(2026, 11, 27), 17))
    [found] = year.violations()
    assert (found.rule, found.clause, found.responsible_org_id, found.school_id) == (
        Rule.EXCESSIVELY_SHORT_DEADLINE, "S2", HEALTH, None)
    assert found.evidence["request_id"] == str(request.request_id) and found.evidence["request_event_id"] == fact.event_id
    assert (found.evidence["working_days"], found.evidence["minimum"], found.evidence["calendar"]) == (
        round(26 / 24, 4), 2, "national")


def test_s2_thursday_1500_to_monday_1700_gives_two_working_days():
    year = Year()
    year.request(HEALTH, ["教师人数"], at(date(2026, 11, 26), 15), at(date(2026, 11, 30), 17))
    assert year.violations() == []


def test_s2_statutory_holidays_do_not_count_towards_a_deadline():
    """National Day 2026 is 1-7 October. Issued Wednesday 30 September, due eight days later on
    Thursday 8 October at 09:00: 15 hours of the 30th and 9 of the 8th, one working day: too short.
    Due Friday 9 October at 17:00 from 17:00 on the 30th: 7 + 24 + 17 hours, two working days."""
    short = Year()
    short.request(HEALTH, ["教师人数"], at(date(2026, 9, 30), 9), at(date(2026, 10, 8), 9))
    assert rules(short.violations()) == [Rule.EXCESSIVELY_SHORT_DEADLINE.value]
    enough = Year()
    enough.request(HEALTH, ["教师人数"], at(date(2026, 9, 30), 17), at(date(2026, 10, 9), 17))
    assert enough.violations() == []


def test_s2_past_the_national_calendars_last_year_the_evidence_says_weekdays_counted():
    year = Year()
    year.request(HEALTH, ["教师人数"], at(date(2027, 3, 4), 15), at(date(2027, 3, 5), 17))
    [found] = year.violations()
    assert found.evidence["calendar"] == "weekdays"


def test_s2_the_doc_states_the_minimum_of_policy_toml():
    doc = (Path(__file__).parents[2] / "docs" / "policy.md").read_text(encoding="utf-8")
    s2 = doc.split("## S2", 1)[1].split("\n## ", 1)[0]
    assert f"`data_request_min_working_days` ({POLICY.inspections.data_request_min_working_days})" in s2


def test_s1_s2_a_fact_whose_text_holds_a_nul_is_set_aside_not_judged():
    """A violation quoting it would carry the NUL into the log for ever: the fold refuses, and the
    projector quarantines the event (as S3's detector does)."""
    for add in (lambda y: y.request(HEALTH, ["教师\x00人数"], at(date(YEAR, 3, 2), 9), at(date(YEAR, 3, 3), 9)),
                lambda y: y.visit(FIRE, date(YEAR, 9, 10), label=VisitLabel.RESEARCH, graded=True, grading="优\x00")):
        year = Year()
        add(year)
        with pytest.raises(ValueError, match="NUL"):
            year.violations()
