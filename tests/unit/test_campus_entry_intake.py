"""S3 intake rules: windows, urgency, exemption, scope, reports of activities held."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from jianfu.events.errors import Refused
from jianfu.events.organisations import Directory, Organisation, OrgKind
from jianfu.events.schemas.campus_entry import (
    RecordActivityHeld,
    RequestActivity,
    Route,
)
from jianfu.requests.domain.campus_entry import declare_activity, report_activity_held

from tests.factories import (
    DIRECTORY,
    JULY_DAY,
    POLICY,
    SCHOOLS,
    application,
    held_report,
)

POLICE = DIRECTORY.get("dept-public-security")
SCHOOL = DIRECTORY.get(SCHOOLS[0])


def declare(today: date = JULY_DAY, **overrides):
    command = RequestActivity.model_validate(application(**overrides))
    return declare_activity(command, uuid.uuid4(), POLICE, today, POLICY.campus_entry, DIRECTORY, POLICY.school_calendar)


def refusal(today: date = JULY_DAY, **overrides) -> Refused:
    with pytest.raises(Refused) as caught:
        declare(today, **overrides)
    return caught.value


def test_s3_regular_declaration_in_july_is_for_the_autumn_semester_and_in_window():
    event = declare(date(2026, 7, 31))
    assert (event.route, event.in_window, event.target_semester) == (Route.REGULAR, True, "2026-autumn")


def test_s3_regular_declaration_in_december_is_for_the_next_spring_semester():
    event = declare(date(2026, 12, 1), target_semester="2027-spring", start_date="2027-03-01", end_date="2027-06-01")
    assert event.in_window and event.target_semester == "2027-spring"


def test_s3_regular_declaration_in_july_for_spring_is_refused_naming_the_field():
    error = refusal(target_semester="2027-spring", start_date="2027-03-01", end_date="2027-06-01")
    assert (error.code, error.field) == ("INVALID_FIELD", "target_semester")


def test_s3_regular_declaration_outside_july_and_december_is_recorded_out_of_window():
    event = declare(date(2026, 8, 3))
    assert event.route is Route.REGULAR and event.in_window is False


@pytest.mark.parametrize("month", [1, 2, 3, 4, 5, 6, 8])
def test_s3_every_month_but_july_and_december_is_outside_the_window(month):
    today = date(2026, month, 2)
    assert declare(today).in_window is False


def test_s3_urgent_declaration_any_time_with_a_reason_takes_the_simplified_route():
    event = declare(date(2026, 10, 9), declaration_type="urgent", urgency_reason="突发电信诈骗案件高发")
    assert event.route is Route.URGENT


def test_s3_urgent_declaration_without_a_reason_is_refused():
    error = refusal(date(2026, 10, 9), declaration_type="urgent")
    assert (error.code, error.field) == ("INVALID_FIELD", "urgency_reason")


@pytest.mark.parametrize("category", ["city_creation", "central_government_work", "regional_catalogue"])
def test_s3_exempt_category_is_recorded_on_the_exempt_route(category):
    claim = {"category": category, "reference": "全国文明城市创建工作方案"}
    event = declare(date(2026, 10, 9), exemption_claim=claim)
    assert event.route is Route.EXEMPT


def test_s3_a_category_the_policy_does_not_exempt_is_refused_naming_the_field():
    narrower = POLICY.campus_entry.model_copy(update={"exempt_categories": ("regional_catalogue",)})
    command = RequestActivity.model_validate(
        application(exemption_claim={"category": "city_creation", "reference": "全国文明城市创建工作方案"}))
    with pytest.raises(Refused) as caught:
        declare_activity(command, uuid.uuid4(), POLICE, date(2026, 10, 9), narrower, DIRECTORY, POLICY.school_calendar)
    assert (caught.value.code, caught.value.field) == ("INVALID_FIELD", "exemption_claim.category")


def test_s3_all_schools_scope_resolves_to_every_school_of_the_district():
    event = declare(scope={"all_schools": True})
    assert event.school_ids == tuple(SCHOOLS)


def test_s3_scope_naming_a_non_school_is_refused_at_that_index():
    error = refusal(scope={"school_ids": [SCHOOLS[0], "dept-fire"]})
    assert (error.code, error.field) == ("INVALID_FIELD", "scope.school_ids.1")


def test_s3_a_semester_that_has_ended_cannot_be_declared_for():
    error = refusal(date(2027, 7, 2), target_semester="2026-autumn")
    assert (error.code, error.field) == ("INVALID_FIELD", "target_semester")


def test_s3_start_date_must_fall_in_the_target_semester():
    error = refusal(start_date="2027-03-01", end_date="2027-04-01")
    assert (error.code, error.field) == ("INVALID_FIELD", "start_date")


def test_end_before_start_is_a_schema_error():
    with pytest.raises(ValueError):
        RequestActivity.model_validate(application(start_date="2026-10-01", end_date="2026-09-01"))


def report(held_on: str = "2026-10-20", organizer: str = "dept-public-security", today=date(2026, 10, 21),
           directory: Directory = DIRECTORY):
    command = RecordActivityHeld.model_validate(held_report(organizer, held_on))
    return report_activity_held(command, uuid.uuid4(), SCHOOL, today, directory, POLICY.in_force_from, POLICY.school_calendar)


def test_s3_school_report_is_assigned_to_the_semester_of_the_day_held():
    assert report("2026-10-20").semester == "2026-autumn"
    assert report("2027-01-10", today=date(2027, 1, 11)).semester == "2026-autumn"


def report_refusal(**arguments) -> Refused:
    with pytest.raises(Refused) as caught:
        report(**arguments)
    return caught.value


def test_s3_report_of_a_future_activity_is_refused():
    error = report_refusal(held_on="2026-11-01", today=date(2026, 10, 21))
    assert (error.code, error.field) == ("INVALID_FIELD", "held_on")


def test_s3_report_naming_an_unknown_organizer_is_refused():
    error = report_refusal(organizer="dept-nowhere")
    assert (error.code, error.field) == ("UNKNOWN_ORG", "organizer_org_id")


@pytest.mark.parametrize("kind", [OrgKind.SCHOOL, OrgKind.TEACHER, OrgKind.SYSTEM])
def test_s3_a_school_teacher_or_system_cannot_be_the_organizer_of_a_campus_entry(kind):
    # S3 is about units outside the school entering it; the reference directory lists no teacher
    # or system organisation, so one of each is added here.
    inside = Organisation(org_id=f"inside-{kind.value}", kind=kind, name="校内")
    directory = Directory(district=DIRECTORY.district, organisations=[*DIRECTORY.organisations, inside])
    error = report_refusal(organizer=inside.org_id, directory=directory)
    assert (error.code, error.field) == ("INVALID_FIELD", "organizer_org_id")


@pytest.mark.parametrize("held_on", ["2021-08-19", "1900-01-01", "0001-01-01"])
def test_s3_an_activity_held_before_the_plan_took_effect_is_not_reported(held_on):
    error = report_refusal(held_on=held_on)
    assert (error.code, error.field) == ("INVALID_FIELD", "held_on") and "2021-08-20" in error.message


def test_s3_an_activity_held_on_the_day_the_plan_took_effect_is_reported():
    # S3 (issue 8, finding 7): a day of the summer holidays belongs to the autumn that follows
    assert report("2021-08-20", today=date(2021, 9, 1)).semester == "2021-autumn"
