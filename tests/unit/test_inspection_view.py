"""The S1/S2 read model's fold (``domain/inspection_view.py``), in memory: items by status, the
checklist in editions, visits and data requests per school and year, and the columns and counters
that only ``ViolationDetected`` events fill (the view judges nothing)."""

from __future__ import annotations

from datetime import date

from jianfu.compliance.domain.inspection_view import IN_PLAN, INSPECTION_VIEW
from jianfu.compliance.domain.s1s2_detection import field_key
from jianfu.compliance.read_model import VIEW
from jianfu.events.schemas.compliance import Rule
from jianfu.events.schemas.inspections import VisitLabel

from tests.inspection_year import Folded, InspectionYear

SCHOOL, OTHER = "school-dwk-primary-1", "school-dwk-primary-2"
YEAR = 2031


def counters(folded: Folded, school: str = SCHOOL, year: int = YEAR) -> dict:
    return folded.row("inspection_school_years", school, year)


def test_s1_the_same_visit_reported_by_the_school_and_by_the_unit_is_one_visit():
    y = InspectionYear(YEAR)
    by_school = y.visit(SCHOOL, "dept-fire", date(YEAR, 10, 9))
    by_unit = y.visit(SCHOOL, "dept-fire", date(YEAR, 10, 9), reporter="dept-fire")
    folded = Folded(INSPECTION_VIEW).fold([by_school]).fold([by_unit], start=2)
    assert counters(folded)["visits"] == 1
    assert folded.row("inspection_visits", SCHOOL, str(by_school[1].visit_id))["reports"] == 2


def test_s1_a_visit_is_unplanned_only_when_an_unplanned_inspection_violation_names_it_and_counts_once():
    y = InspectionYear(YEAR)
    planned, unplanned = y.visit(SCHOOL, "dept-fire", date(YEAR, 10, 9)), y.visit(SCHOOL, "dept-health",
                                                                                    date(YEAR, 11, 3))
    visit_id = str(unplanned[1].visit_id)
    found = y.violation(Rule.UNPLANNED_INSPECTION, "dept-health", SCHOOL, visit_id=visit_id)
    again = y.violation(Rule.UNPLANNED_INSPECTION, "dept-health", None, visit_id=visit_id, school_id=SCHOOL,
                        ground="outside_window")
    folded = Folded(INSPECTION_VIEW).fold([planned, unplanned])
    assert counters(folded)["unplanned_visits"] == 0  # the view never judges a visit itself
    folded.fold([found, again], start=3)
    row = counters(folded)
    assert (row["visits"], row["unplanned_visits"]) == (2, 1)
    assert folded.row("inspection_visits", SCHOOL, visit_id)["unplanned_violation_id"] == found[1].violation_id


def test_s1_a_disguised_or_too_frequent_visit_is_marked_by_the_violation_naming_it():
    y = InspectionYear(YEAR)
    research = y.visit(SCHOOL, "dept-health", date(YEAR, 5, 6), label=VisitLabel.RESEARCH, graded=True)
    visit_id = str(research[1].visit_id)
    folded = Folded(INSPECTION_VIEW).fold([
        research, y.violation(Rule.DISGUISED_INSPECTION, "dept-health", SCHOOL, visit_id=visit_id),
        y.violation(Rule.INSPECTION_OVER_FREQUENCY, "dept-health", SCHOOL, visit_id=visit_id)])
    row = counters(folded)
    assert (row["disguised_visits"], row["over_frequency_visits"], row["unplanned_visits"]) == (1, 1, 0)
    visit = folded.row("inspection_visits", SCHOOL, visit_id)
    assert visit["disguised_violation_id"] and visit["over_frequency_violation_id"]


def test_s2_a_field_asked_again_by_another_unit_counts_once_as_distinct_and_names_the_first_request():
    y = InspectionYear(YEAR)
    first = y.request("dept-health", (SCHOOL, OTHER), ("在校生人数", "近视率"))
    second = y.request("dept-publicity", (SCHOOL,), ("在校生 人数", "教师人数"), day=20)  # spaced, as the detector compares
    second_id = str(second[1].request_id)
    duplicate = y.violation(Rule.DUPLICATE_DATA_REQUEST, "dept-publicity", SCHOOL, request_id=second_id,
                            earlier_request_id=str(first[1].request_id), field="在校生人数")
    folded = Folded(INSPECTION_VIEW).fold([first]).fold([second, duplicate], start=2)
    row = counters(folded)
    assert (row["data_requests"], row["requested_fields"], row["distinct_fields"], row["duplicate_requests"]) == \
        (2, 4, 3, 1)
    assert counters(folded, OTHER)["data_requests"] == 1 and counters(folded, OTHER)["duplicate_requests"] == 0
    asked = folded.row("requested_fields", SCHOOL, YEAR, field_key("在校生人数"))
    assert (asked["field"], asked["first_request_id"], asked["requests"]) == ("在校生人数", str(first[1].request_id), 2)
    assert folded.row("data_request_schools", SCHOOL, second_id)["duplicate_violation_id"] == duplicate[1].violation_id


def test_s2_a_short_deadline_found_once_per_request_counts_at_every_school_it_lists():
    y = InspectionYear(YEAR)
    request = y.request("dept-health", (SCHOOL, OTHER), ("近视率",))
    other = y.request("dept-health", (SCHOOL,), ("体重",))
    request_id = str(request[1].request_id)
    found = y.violation(Rule.EXCESSIVELY_SHORT_DEADLINE, "dept-health", None, request_id=request_id,
                        school_ids=[SCHOOL, OTHER])  # as the detector finds it: once per request
    folded = Folded(INSPECTION_VIEW).fold([request, other, found, found])
    assert folded.row("data_requests", request_id)["short_deadline_violation_id"] == found[1].violation_id
    assert folded.row("data_requests", str(other[1].request_id))["short_deadline_violation_id"] is None
    assert counters(folded)["short_deadline_requests"] == counters(folded, OTHER)["short_deadline_requests"] == 1
    assert folded.row("data_request_schools", OTHER, request_id)["short_deadline_violation_id"] == found[1].violation_id


def test_s1_items_by_status_and_a_merged_item_counts_once_in_the_plan():
    y = InspectionYear(YEAR)
    safety = y.propose("dept-fire", joint=("dept-emergency",))
    health = y.propose("dept-health", title="学校卫生检查")
    own = y.propose("edu-bureau", title="教学常规检查")
    refused = y.propose("dept-publicity", title="宣传工作考核")
    a, b, c, d = (step[1] for step in (safety, health, own, refused))
    folded = Folded(INSPECTION_VIEW).fold([safety, health, own, refused, y.approved(a), y.approved(b), y.filed(c),
                                           y.rejected(d), *y.merge(a, b)])
    items = folded.tables["inspection_items"].values()
    assert sorted(item["status"] for item in items) == ["approved", "filed", "merged", "merged", "rejected"]
    assert sum(item["status"] in IN_PLAN for item in items) == 2  # the merged item and the bureau's own
    merged = next(item for item in items if item["merged_item_ids"])
    assert merged["merged_item_ids"] == [str(a.item_id), str(b.item_id)]
    assert folded.row("inspection_items", str(a.item_id))["into_item_id"] == merged["item_id"]
    # Each unit finds its own: the lead, the joint unit, and every unit of the merged item.
    assert folded.row("inspection_item_units", "dept-emergency", YEAR, str(a.item_id))["role"] == "joint"
    assert folded.row("inspection_item_units", "dept-health", YEAR, merged["item_id"])["role"] == "merged"
    assert folded.row("inspection_items", str(d.item_id))["refusal_code"] == "DUPLICATES_EXISTING_ITEM"


def test_s1_an_unauthorized_setter_violation_marks_the_item_it_names():
    y = InspectionYear(YEAR)
    item = y.propose("dept-publicity")
    found = y.violation(Rule.UNAUTHORIZED_INSPECTION_SETTER, "dept-publicity", None, item_id=str(item[1].item_id))
    folded = Folded(INSPECTION_VIEW).fold([item, found])
    assert folded.row("inspection_items", str(item[1].item_id))["unauthorized_setter_violation_id"] == \
        found[1].violation_id


def test_s1_a_checklist_edition_is_in_force_once_its_last_part_is_in_and_an_older_one_never_replaces_it():
    y = InspectionYear(YEAR)
    items = [y.propose("dept-fire")[1], y.propose("dept-health")[1], y.propose("edu-bureau")[1]]
    first = y.checklist(1, items[:1])
    second = y.checklist(2, items, parts=2)
    folded = Folded(INSPECTION_VIEW).fold(first).fold(second[:1], start=2)
    assert folded.row("inspection_checklists", YEAR)["edition"] == 1
    folded.fold(second[1:], start=3)
    in_force = folded.row("inspection_checklists", YEAR)
    assert (in_force["edition"], in_force["row_count"]) == (2, 3)
    rows = [folded.row("inspection_checklist_rows", YEAR, 2, n)["row"] for n in range(3)]
    assert [row["item_id"] for row in rows] == [str(item.item_id) for item in items]
    assert set(rows[0]) >= {"item_name", "sub_item", "target", "category", "method", "sample_ratio_or_frequency",
                            "time_window", "inspecting_units", "inspecting_unit_names"}  # Attachment 2's columns
    folded.fold(y.checklist(1, items[:1]), start=4)  # an older edition again
    assert folded.row("inspection_checklists", YEAR)["edition"] == 2


def test_the_live_read_model_folds_s3_and_s1_s2_side_by_side():
    """Issue 9: the compliance projection is the campus-entry view and the inspection view
    combined; a violation is recorded in the register and marks the S1/S2 row it names."""
    y = InspectionYear(YEAR)
    visit = y.visit(SCHOOL, "dept-fire", date(YEAR, 10, 9))
    found = y.violation(Rule.UNPLANNED_INSPECTION, "dept-fire", SCHOOL, visit_id=str(visit[1].visit_id))
    folded = Folded(VIEW).fold([visit, found])
    assert folded.row("violations", found[1].violation_id)["rule"] == "UnplannedInspection"
    assert counters(folded)["unplanned_visits"] == 1
