"""S3 intake from schools: entries held on their campus, by any named organiser, and entries
they turned away (issue 8: organisers outside the directory; a school records a refusal)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from jianfu.events.errors import Refused
from jianfu.events.organisations import Directory, Organisation, OrgKind
from jianfu.events.schemas.campus_entry import RecordActivityHeld, RecordEntryRefused
from jianfu.requests.domain.campus_entry_reports import refuse_entry, report_activity_held

from tests.factories import DIRECTORY, POLICY, SCHOOLS, held_report

SCHOOL = DIRECTORY.get(SCHOOLS[0])
RED_CROSS = "宁夏回族自治区红十字会"


def report(held_on: str = "2026-10-20", organizer: str | None = "dept-public-security", today=date(2026, 10, 21),
           directory: Directory = DIRECTORY, policy=POLICY, **overrides):
    command = RecordActivityHeld.model_validate(held_report(organizer, held_on, **overrides))
    return report_activity_held(command, uuid.uuid4(), SCHOOL, today, directory, policy)


def report_refusal(**arguments) -> Refused:
    with pytest.raises(Refused) as caught:
        report(**arguments)
    return caught.value


def test_s3_school_report_is_assigned_to_the_semester_of_the_day_held():
    assert report("2026-10-20").semester == "2026-autumn"
    assert report("2027-01-10", today=date(2027, 1, 11)).semester == "2026-autumn"


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


# -- organisers outside the directory -----------------------------------------------------------

def test_s3_a_school_may_name_an_organiser_outside_the_directory():
    """S3 (issue 8): provincial bodies, the Red Cross, private firms come onto campuses too; the
    report is recorded with no org id and the name as the school gave it."""
    event = report(organizer=None, organizer_name=RED_CROSS)
    assert (event.organizer_org_id, event.organizer_name) == (None, RED_CROSS)


def test_s3_a_name_the_directory_knows_is_resolved_to_its_unit():
    event = report(organizer=None, organizer_name="区消防大队")
    assert (event.organizer_org_id, event.organizer_name) == ("dept-fire", "区消防大队")


def test_s3_a_report_by_org_id_records_the_directorys_name():
    event = report(organizer="dept-fire")
    assert (event.organizer_org_id, event.organizer_name) == ("dept-fire", "区消防大队")


def test_s3_a_school_named_as_the_organiser_is_refused_naming_the_field():
    error = report_refusal(organizer=None, organizer_name=DIRECTORY.get(SCHOOLS[1]).name)
    assert (error.code, error.field) == ("INVALID_FIELD", "organizer_name")


def test_s3_a_report_names_its_organiser_once():
    with pytest.raises(ValueError):
        RecordActivityHeld.model_validate(held_report("dept-fire", organizer_name=RED_CROSS))
    with pytest.raises(ValueError):
        RecordActivityHeld.model_validate(held_report(None))


# -- exempt entries (无须申报, but recorded) -------------------------------------------------------

def test_s3_an_exempt_entry_is_recorded_with_its_claim():
    claim = {"category": "regional_catalogue", "reference": "科普活动进校园"}
    event = report(organizer=None, organizer_name="区科协", exemption_claim=claim)
    assert event.exemption_claim.category.value == "regional_catalogue"
    assert event.exemption_claim.reference == "科普活动进校园" and event.organizer_org_id == "science-association"


def test_s3_an_exemption_claim_in_a_category_the_policy_does_not_exempt_is_refused():
    narrower = POLICY.model_copy(update={"campus_entry": POLICY.campus_entry.model_copy(
        update={"exempt_categories": ("regional_catalogue",)})})
    error = report_refusal(policy=narrower, exemption_claim={"category": "city_creation", "reference": "创城方案"})
    assert (error.code, error.field) == ("INVALID_FIELD", "exemption_claim.category")


# -- a school turns an entry away ---------------------------------------------------------------

def refused(refused_on: str = "2026-10-20", today=date(2026, 10, 21), **overrides):
    command = RecordEntryRefused.model_validate({"command_id": str(uuid.uuid4()), "organizer_name": RED_CROSS,
                                                 "title": "急救知识商业培训推介", "refused_on": refused_on,
                                                 **overrides})
    return refuse_entry(command, uuid.uuid4(), SCHOOL, today, DIRECTORY, POLICY)


def test_s3_a_school_records_an_entry_it_turned_away_as_not_on_the_list():
    event = refused()
    assert (event.school_id, event.organizer_org_id, event.organizer_name) == (SCHOOLS[0], None, RED_CROSS)
    assert (event.refusal_code, event.semester, event.refused_on) == ("NOT_ON_LIST", "2026-autumn", date(2026, 10, 20))


def test_s3_a_refusal_by_a_known_unit_is_recorded_against_it():
    event = refused(organizer_name=None, organizer_org_id="dept-fire", refusal_code="COMMERCIAL_OR_FEE")
    assert (event.organizer_org_id, event.organizer_name, event.refusal_code) == ("dept-fire", "区消防大队",
                                                                                   "COMMERCIAL_OR_FEE")


def test_s3_a_refusal_belongs_to_the_semester_of_its_day_and_in_a_holiday_to_the_one_that_follows():
    assert refused("2027-01-22", today=date(2027, 2, 2)).semester == "2026-autumn"
    assert refused("2027-02-01", today=date(2027, 2, 2)).semester == "2027-spring"


@pytest.mark.parametrize("refused_on,today", [("2026-10-22", date(2026, 10, 21)), ("2021-08-19", date(2026, 10, 21))])
def test_s3_a_refusal_in_the_future_or_before_the_plan_is_refused(refused_on, today):
    with pytest.raises(Refused) as caught:
        refused(refused_on, today=today)
    assert (caught.value.code, caught.value.field) == ("INVALID_FIELD", "refused_on")


def test_s3_a_refusal_naming_an_unknown_org_id_is_refused():
    with pytest.raises(Refused) as caught:
        refused(organizer_name=None, organizer_org_id="dept-nowhere")
    assert (caught.value.code, caught.value.field) == ("UNKNOWN_ORG", "organizer_org_id")
