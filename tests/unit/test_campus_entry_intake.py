"""S3 intake rules for declarations: windows, urgency, dates, frequency, exemption, scope.
Schools' reports are in test_campus_entry_reports.py."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date
from pathlib import Path

import pytest
from jianfu.events.errors import Refused
from jianfu.events.organisations import Directory, OrgKind, SchoolStage
from jianfu.events.schemas.campus_entry import RequestActivity, Route
from jianfu.events.semesters import Semester
from jianfu.requests.domain.campus_entry import URGENCY_REASON_MIN_VISIBLE, declare_activity, sample_schools

from tests.factories import (
    DIRECTORY,
    JULY_DAY,
    POLICY,
    SCHOOLS,
    application,
)

POLICE = DIRECTORY.get("dept-public-security")


URGENT = {"declaration_type": "urgent", "urgency_category": "sudden_event",
          "urgency_reason": "本区近期电信诈骗案件高发，需在期中前完成宣讲"}


def declare(today: date = JULY_DAY, directory: Directory = DIRECTORY, activity_id: uuid.UUID | None = None,
            **overrides):
    command = RequestActivity.model_validate(application(**overrides))
    return declare_activity(command, activity_id or uuid.uuid4(), POLICE, today, POLICY.campus_entry, directory,
                            POLICY.school_calendar)


def refusal(today: date = JULY_DAY, directory: Directory = DIRECTORY, **overrides) -> Refused:
    with pytest.raises(Refused) as caught:
        declare(today, directory, **overrides)
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
    event = declare(date(2026, 10, 9), **URGENT)
    assert event.route is Route.URGENT


def test_s3_urgent_declaration_without_a_reason_is_refused():
    error = refusal(date(2026, 10, 9), declaration_type="urgent", urgency_category="sudden_event")
    assert (error.code, error.field) == ("INVALID_FIELD", "urgency_reason")


@pytest.mark.parametrize("category", ["city_creation", "central_government_work", "regional_catalogue"])
def test_s3_exempt_category_is_recorded_on_the_exempt_route(category):
    claim = {"category": category, "reference": "《全国文明城市创建工作方案》"}
    event = declare(date(2026, 10, 9), exemption_claim=claim)
    assert event.route is Route.EXEMPT


@pytest.mark.parametrize("category", ["city_creation", "central_government_work"])
@pytest.mark.parametrize("reference", ["创城方案", "中央部署", "2021年文件"])
def test_s3_a_city_creation_or_central_work_claim_that_cites_no_document_is_refused(category, reference):
    """Issue 8, finding 3: a claim is not self-asserted; it cites the centre's document."""
    error = refusal(date(2026, 10, 9), exemption_claim={"category": category, "reference": reference})
    assert (error.code, error.field) == ("INVALID_FIELD", "exemption_claim.reference")


@pytest.mark.parametrize("reference", ["中办发〔2021〕3号", "宁党办[2021]8号", "《全国文明城市测评体系操作手册》",
                                       "厅字 (2019) 54 号"])
def test_s3_a_claim_citing_a_document_by_title_or_number_is_recorded(reference):
    event = declare(date(2026, 10, 9), exemption_claim={"category": "central_government_work", "reference": reference})
    assert event.route is Route.EXEMPT


def test_s3_a_category_the_policy_does_not_exempt_is_refused_naming_the_field():
    narrower = POLICY.campus_entry.model_copy(update={"exempt_categories": ("regional_catalogue",)})
    command = RequestActivity.model_validate(
        application(exemption_claim={"category": "city_creation", "reference": "《全国文明城市创建工作方案》"}))
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


# -- the urgent route (issue 8, finding 4) ------------------------------------------------------

@pytest.mark.parametrize("reason", ["紧急", "突发事件需要宣讲啊", "突 发 事 件 需 要 宣 讲 啊 ", "突发事件\u200b\u200b需要宣讲啊"])
def test_s3_an_urgent_declaration_needs_a_reason_of_substance(reason):
    """S3: a one-character reason (or nine, padded with spaces or zero-width ones) is no reason."""
    error = refusal(date(2026, 10, 9), **{**URGENT, "urgency_reason": reason})
    assert (error.code, error.field) == ("INVALID_FIELD", "urgency_reason")


def test_s3_an_urgent_reason_of_ten_visible_characters_is_enough():
    reason = "突发事件需要立即宣讲"
    assert len(reason) == URGENCY_REASON_MIN_VISIBLE
    assert declare(date(2026, 10, 9), **{**URGENT, "urgency_reason": reason}).route is Route.URGENT


def test_s3_an_urgent_declaration_names_its_category():
    error = refusal(date(2026, 10, 9), **{**URGENT, "urgency_category": None})
    assert (error.code, error.field) == ("INVALID_FIELD", "urgency_category")


def test_s3_an_urgent_declaration_in_august_for_next_may_is_refused():
    """S3: the urgent route is for the current or the next semester. In the summer holiday no
    semester is in session: the autumn about to start is the only one."""
    error = refusal(date(2026, 8, 12), **URGENT, target_semester="2027-spring", start_date="2027-05-10",
                    end_date="2027-05-20")
    assert (error.code, error.field) == ("INVALID_FIELD", "target_semester")


def test_s3_an_urgent_declaration_in_august_for_the_coming_autumn_stands():
    assert declare(date(2026, 8, 12), **URGENT).route is Route.URGENT


@pytest.mark.parametrize("today,target,allowed", [
    (date(2026, 10, 9), "2026-autumn", True),   # in session
    (date(2026, 10, 9), "2027-spring", True),   # the next one
    (date(2026, 10, 9), "2027-autumn", False),
    (date(2027, 2, 1), "2027-spring", True),    # winter holiday: spring is about to start
    (date(2027, 2, 1), "2027-autumn", False),
    (date(2027, 7, 9), "2027-autumn", True),    # last day of the spring, in session
])
def test_s3_an_urgent_declaration_is_for_the_current_or_the_next_semester(today, target, allowed):
    span = POLICY.school_calendar.span(Semester.parse(target))
    form = {**URGENT, "target_semester": target, "start_date": str(span.first), "end_date": str(span.first)}
    if allowed:
        assert declare(today, **form).target_semester == target
    else:
        assert (refusal(today, **form).field) == "target_semester"


# -- dates (issue 8, finding 7) -----------------------------------------------------------------

def test_s3_a_july_declaration_cannot_run_to_june_two_years_on():
    error = refusal(end_date="2028-06-30")
    assert (error.code, error.field) == ("INVALID_FIELD", "end_date")


def test_s3_end_date_must_fall_in_the_target_semester_as_the_calendar_gives_it():
    """The policy file's calendar ends the 2026 autumn on 2027-01-22; the next day is the spring's."""
    assert declare(end_date="2027-01-22").end_date == date(2027, 1, 22)
    assert refusal(end_date="2027-01-23").field == "end_date"


def test_s3_a_late_august_start_belongs_to_the_autumn():
    assert declare(start_date="2026-08-25").target_semester == "2026-autumn"


# -- frequency ---------------------------------------------------------------------------------

def test_s3_the_event_records_the_maximum_the_frequency_text_states():
    event = declare(frequency="每年1-2次")
    assert (event.frequency, event.max_per_year, event.max_per_semester) == ("每年1-2次", 2, None)


def test_s3_structured_maxima_given_on_the_form_win_over_the_text():
    event = declare(frequency="每年1-2次", max_per_year=1)
    assert (event.max_per_year, event.max_per_semester) == (1, None)
    event = declare(frequency="每学期1次", max_per_semester=2, occurrences=2)
    assert (event.max_per_year, event.max_per_semester, event.occurrences) == (None, 2, 2)


@pytest.mark.parametrize("frequency,overrides", [
    ("每学期1次", {}),
    ("每年1次", {}),
    ("原则上每项每年不超过1次", {}),
    ("每学期2次", {"max_per_year": 1}),
])
def test_s3_occurrences_beyond_what_the_frequency_allows_a_semester_are_refused(frequency, overrides):
    error = refusal(frequency=frequency, occurrences=2, **overrides)
    assert (error.code, error.field) == ("INVALID_FIELD", "occurrences")


def test_s3_a_frequency_that_states_no_maximum_bounds_nothing():
    event = declare(frequency="根据工作需要", occurrences=3)
    assert (event.max_per_year, event.max_per_semester, event.occurrences) == (None, None, 3)


# -- scope: stages, samples, delivery -----------------------------------------------------------

@pytest.mark.parametrize("stage", [SchoolStage.PRIMARY, SchoolStage.MIDDLE])
def test_s3_a_stage_narrows_all_schools_to_the_schools_of_that_stage(stage):
    event = declare(scope={"all_schools": True, "stages": [stage.value]})
    expected = tuple(sorted(o.org_id for o in DIRECTORY.of_kind(OrgKind.SCHOOL) if stage in o.stages))
    assert event.school_ids == expected and 0 < len(expected) < len(SCHOOLS)


def test_s3_a_stage_no_school_of_the_directory_teaches_is_refused():
    primaries = [o for o in DIRECTORY.organisations if SchoolStage.MIDDLE not in o.stages]
    directory = Directory(district=DIRECTORY.district, organisations=primaries)
    error = refusal(directory=directory, scope={"all_schools": True, "stages": ["middle"]})
    assert (error.code, error.field) == ("INVALID_FIELD", "scope.stages")


def by_draw(activity_id: uuid.UUID, school_ids) -> list[str]:
    """The sample's order as the scope's rule states it: sha256 of "<activity id>:<school id>"."""
    return sorted(school_ids, key=lambda s: hashlib.sha256(f"{activity_id}:{s}".encode()).hexdigest())


def test_s3_a_sample_share_draws_that_share_of_the_schools_reproducibly_from_the_activity_id():
    activity_id = uuid.UUID("5b0c9d8e-1f2a-4b3c-8d4e-5f6a7b8c9d0e")
    scope = {"all_schools": True, "sample_share": 0.3}
    event = declare(activity_id=activity_id, scope=scope)
    assert len(SCHOOLS) == 8 and event.school_ids == tuple(sorted(by_draw(activity_id, SCHOOLS)[:3]))  # ceil(2.4)
    assert declare(activity_id=activity_id, scope=scope).school_ids == event.school_ids


def test_s3_a_sample_of_named_pilot_schools_draws_from_those_only():
    activity_id = uuid.uuid4()
    pilots = SCHOOLS[:4]
    event = declare(activity_id=activity_id, scope={"school_ids": pilots, "sample_share": 0.5})
    assert event.school_ids == tuple(sorted(by_draw(activity_id, pilots)[:2]))


@pytest.mark.parametrize("share,n,size", [(0.28, 25, 7), (0.07, 100, 7), (0.3, 10, 3), (0.25, 8, 2), (0.01, 8, 1), (1.0, 8, 8)])
def test_s3_a_sample_is_the_share_rounded_up_taking_the_share_as_written(share, n, size):
    """0.28 × 25 is 7.000000000000001 in floating point; the sample is still 7 schools."""
    school_ids = [f"school-{i}" for i in range(n)]
    assert len(sample_schools(school_ids, share, uuid.uuid4())) == size


def test_s3_delivery_mode_and_basis_level_are_recorded_as_declared():
    event = declare(delivery="school_run", basis_level="regional")
    assert (event.delivery.value, event.basis_level.value) == ("school_run", "regional")


def test_s3_the_policy_doc_states_the_urgent_reasons_minimum_as_the_code_checks_it():
    doc = (Path(__file__).parents[2] / "docs" / "policy.md").read_text(encoding="utf-8")
    assert f"a reason of at least {URGENCY_REASON_MIN_VISIBLE} visible characters" in doc
