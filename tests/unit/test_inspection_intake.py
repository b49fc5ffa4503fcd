"""S1 and S2 intake rules: inspection items proposed for the annual plan, visits reported, data
requested of schools. Pure domain, no I/O; the commands over NATS are in
tests/integration/test_inspection_intake_commands.py."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from jianfu.events.errors import Refused
from jianfu.events.organisations import OrgKind
from jianfu.events.schemas.inspections import IssueDataRequest, ProposeInspectionItem, ReportInspectionVisit
from jianfu.requests.domain.campus_entry import sample_schools
from jianfu.requests.domain.inspections import (
    UNIT_KINDS,
    VISIT_REPORTING_KINDS,
    filing_deadline,
    propose_item,
    report_visit,
    request_data,
    visit_differences,
    visit_id_for,
)

from tests.factories import DIRECTORY, POLICY, SCHOOLS

HEALTH, EDU = DIRECTORY.get("dept-health"), DIRECTORY.get("edu-bureau")
TODAY = date(2026, 7, 10)
LEAD_DAYS = POLICY.inspections.filing_days_ahead


def item_form(**overrides: Any) -> dict[str, Any]:
    """A row of Attachment 2 as a unit proposes it (JSON-ready)."""
    form = {"command_id": str(uuid.uuid4()), "year": 2026, "title": "学校食品安全专项检查", "category": "inspection",
            "policy_basis": "《学校食品安全与营养健康管理规定》", "target": {"all_schools": True, "sample_share": 0.2},
            "method": "实地检查、查阅材料", "indicators": 12, "frequency_per_year": 1, "planned_months": [10, 11],
            "data_fields": ["食堂从业人员健康证", "食材采购台账"], "archive_sets": 1}
    form.update(overrides)
    return form


def propose(today: date = TODAY, lead=HEALTH, item_id: uuid.UUID | None = None, **overrides):
    command = ProposeInspectionItem.model_validate(item_form(**overrides))
    return propose_item(command, item_id or uuid.uuid4(), lead, today, POLICY.inspections, DIRECTORY)


def refusal(call, *args, **kwargs) -> tuple[str, str]:
    with pytest.raises(Refused) as caught:
        call(*args, **kwargs)
    return caught.value.code, caught.value.field


def test_s1_units_but_not_schools_teachers_or_jianfu_set_items_and_ask_for_data():
    assert not UNIT_KINDS & {OrgKind.SCHOOL, OrgKind.TEACHER, OrgKind.SYSTEM}
    assert {OrgKind.EDUCATION_BUREAU, OrgKind.DEPARTMENT, OrgKind.STREET_OFFICE, OrgKind.MASS_ORG} <= UNIT_KINDS
    assert VISIT_REPORTING_KINDS == UNIT_KINDS | {OrgKind.SCHOOL}


def test_s1_an_item_is_for_this_year_or_next_by_the_business_day():
    assert propose(year=2026).year == 2026
    assert propose(year=2027).year == 2027
    assert refusal(propose, year=2028) == ("INVALID_FIELD", "year")
    assert refusal(propose, year=2025) == ("INVALID_FIELD", "year")
    assert propose(date(2027, 1, 1), year=2028).year == 2028


def test_s1_an_item_is_late_after_the_first_day_of_its_first_planned_month_less_the_lead_time():
    deadline = date(2026, 10, 1) - timedelta(days=LEAD_DAYS)
    assert filing_deadline(2026, (11, 10), POLICY.inspections) == deadline
    assert propose(deadline).late is False
    assert propose(deadline + timedelta(days=1)).late is True


def test_s1_a_late_item_without_a_reason_of_substance_is_still_recorded_late():
    """Approvals refuses it (LATE_FILING, automatic): the refusal is on the record."""
    late = date(2026, 10, 1) - timedelta(days=LEAD_DAYS - 1)
    assert propose(late, urgency_reason=None).late is True
    event = propose(late, urgency_reason="急")
    assert (event.late, event.urgency_reason) == (True, "急")


def test_s1_the_item_records_its_proposer_the_day_and_its_form():
    item_id = uuid.uuid4()
    event = propose(item_id=item_id)
    assert (event.item_id, event.lead_org_id, event.proposed_on) == (item_id, "dept-health", TODAY)
    assert (event.title, event.planned_months, event.data_fields) == ("学校食品安全专项检查", (10, 11),
                                                                      ("食堂从业人员健康证", "食材采购台账"))


def test_s1_a_sample_share_of_all_schools_is_drawn_reproducibly_from_the_item_id():
    item_id = uuid.uuid4()
    event = propose(item_id=item_id, target={"all_schools": True, "sample_share": 0.2})
    assert len(event.school_ids) == math.ceil(0.2 * len(SCHOOLS))
    assert event.school_ids == tuple(sorted(sample_schools(SCHOOLS, 0.2, item_id)))
    assert propose(item_id=item_id, target={"all_schools": True, "sample_share": 0.2}).school_ids == event.school_ids


def test_s1_listed_schools_must_be_schools_of_the_directory_and_count_once():
    event = propose(target={"school_ids": [SCHOOLS[1], SCHOOLS[0], SCHOOLS[1]]})
    assert event.school_ids == tuple(sorted(SCHOOLS[:2]))
    assert refusal(propose, target={"school_ids": [SCHOOLS[0], "dept-fire"]}) == ("INVALID_FIELD",
                                                                                  "target.school_ids.1")
    assert refusal(propose, target={"school_ids": ["school-nowhere"]}) == ("INVALID_FIELD", "target.school_ids.0")


def test_s1_an_item_aimed_at_teachers_only_names_no_schools_and_draws_no_sample():
    event = propose(target={"teachers": True})
    assert (event.school_ids, event.target.teachers) == ((), True)
    assert refusal(propose, target={"teachers": True, "sample_share": 0.1}) == ("INVALID_FIELD",
                                                                                 "target.sample_share")


def test_s1_joint_units_are_other_units_of_the_directory_each_once():
    event = propose(joint_org_ids=["dept-emergency", "dept-fire", "dept-emergency"])
    assert event.joint_org_ids == ("dept-emergency", "dept-fire")
    assert refusal(propose, joint_org_ids=["dept-nowhere"]) == ("UNKNOWN_ORG", "joint_org_ids.0")
    assert refusal(propose, joint_org_ids=["dept-fire", SCHOOLS[0]]) == ("INVALID_FIELD", "joint_org_ids.1")
    assert refusal(propose, joint_org_ids=["jianfu"]) in {("INVALID_FIELD", "joint_org_ids.0"),
                                                          ("UNKNOWN_ORG", "joint_org_ids.0")}
    assert refusal(propose, joint_org_ids=["dept-health"]) == ("INVALID_FIELD", "joint_org_ids.0")


# Visits.

SCHOOL = DIRECTORY.get(SCHOOLS[0])
VISIT_DAY = date(2026, 10, 20)


def visit(reporter=SCHOOL, today: date = date(2026, 10, 21), **overrides: Any):
    body = {"command_id": str(uuid.uuid4()), "visited_on": VISIT_DAY.isoformat(), "label": "research",
            "graded": True, "grading": "优秀/合格/不合格"}
    body |= {"visiting_org_id": "dept-health"} if reporter.kind is OrgKind.SCHOOL else {"school_id": SCHOOLS[0]}
    body.update(overrides)
    return report_visit(ReportInspectionVisit.model_validate(body), reporter, today, POLICY.plan_in_force_from,
                        DIRECTORY)


def test_s1_the_same_visit_reported_twice_is_one_visit():
    """By the school and by the unit, or twice by one: the same visit id, so one aggregate."""
    by_school, by_unit, again = visit(), visit(HEALTH), visit()
    assert by_school.visit_id == by_unit.visit_id == again.visit_id == visit_id_for(SCHOOLS[0], "dept-health",
                                                                                     VISIT_DAY)
    assert (by_school.school_id, by_school.visiting_org_id) == (by_unit.school_id, by_unit.visiting_org_id)
    assert (by_school.reported_by_org_id, by_unit.reported_by_org_id) == (SCHOOLS[0], "dept-health")
    assert visit(visited_on="2026-10-19").visit_id != by_school.visit_id
    assert visit(visiting_org_id="dept-fire").visit_id != by_school.visit_id


def test_s1_a_second_report_that_says_otherwise_names_the_differences():
    first = visit()
    assert visit_differences(first, visit(HEALTH)) == []
    assert visit_differences(first, visit(label="inspection", grading="")) == ["label", "grading"]


def test_s1_a_school_names_the_unit_that_came_and_a_unit_names_the_school():
    assert refusal(visit, visiting_org_id=None) == ("INVALID_FIELD", "visiting_org_id")
    assert refusal(visit, school_id=SCHOOLS[1]) == ("INVALID_FIELD", "school_id")
    assert visit(school_id=SCHOOLS[0]).school_id == SCHOOLS[0]
    assert refusal(visit, HEALTH, school_id=None) == ("INVALID_FIELD", "school_id")
    assert refusal(visit, HEALTH, visiting_org_id="dept-fire") == ("INVALID_FIELD", "visiting_org_id")
    assert refusal(visit, HEALTH, school_id="dept-fire") == ("INVALID_FIELD", "school_id")


def test_s1_the_visiting_unit_is_a_unit_of_the_directory():
    assert refusal(visit, visiting_org_id="dept-nowhere") == ("UNKNOWN_ORG", "visiting_org_id")
    assert refusal(visit, visiting_org_id=SCHOOLS[1]) == ("INVALID_FIELD", "visiting_org_id")
    assert visit(visiting_org_id="edu-bureau").visiting_org_id == "edu-bureau"


def test_s1_a_visit_lies_between_the_plan_taking_effect_and_today_and_counts_in_its_year():
    assert refusal(visit, today=date(2026, 10, 19)) == ("INVALID_FIELD", "visited_on")
    assert visit(today=VISIT_DAY).year == 2026
    before = POLICY.plan_in_force_from - timedelta(days=1)
    assert refusal(visit, visited_on=before.isoformat()) == ("INVALID_FIELD", "visited_on")
    assert visit(visited_on=POLICY.plan_in_force_from.isoformat()).year == POLICY.plan_in_force_from.year


# Data requests.

ISSUED_AT = datetime(2026, 3, 5, 7, 0, tzinfo=UTC)  # Thursday 15:00 in Shanghai


def data_request(issued_at: datetime = ISSUED_AT, **overrides: Any):
    body = {"command_id": str(uuid.uuid4()), "title": "学生体质健康数据填报", "fields": ["学生人数", "体测合格率"],
            "school_ids": SCHOOLS[:2], "deadline": "2026-03-10T17:00:00+08:00"}
    body.update(overrides)
    return request_data(IssueDataRequest.model_validate(body), uuid.uuid4(), HEALTH, issued_at, DIRECTORY)


def test_s2_a_data_request_records_each_field_once_in_order():
    event = data_request(fields=["学生人数", "体测合格率", "学生人数", "近视率"])
    assert event.fields == ("学生人数", "体测合格率", "近视率")
    assert (event.requester_org_id, event.issued_at, event.school_ids) == ("dept-health", ISSUED_AT,
                                                                           tuple(sorted(SCHOOLS[:2])))


def test_s2_a_data_request_to_all_schools_names_every_school_and_listed_ones_must_be_schools():
    assert data_request(school_ids=[], all_schools=True).school_ids == tuple(SCHOOLS)
    assert refusal(data_request, school_ids=[SCHOOLS[0], "dept-fire"]) == ("INVALID_FIELD", "school_ids.1")


def test_s2_a_deadline_not_after_the_request_is_issued_is_refused():
    assert refusal(data_request, deadline="2026-03-05T15:00:00+08:00") == ("INVALID_FIELD", "deadline")
    assert refusal(data_request, deadline="2026-03-01T12:00:00Z") == ("INVALID_FIELD", "deadline")
    assert data_request(deadline="2026-03-05T15:00:01+08:00").deadline > ISSUED_AT


def test_s2_a_data_request_counts_in_the_asia_shanghai_year_it_was_issued_in():
    new_years_eve = datetime(2026, 12, 31, 17, 0, tzinfo=UTC)  # 1 January 2027, 01:00 in Shanghai
    assert data_request(new_years_eve, deadline="2027-01-08T17:00:00+08:00").year == 2027
    assert data_request().year == 2026
