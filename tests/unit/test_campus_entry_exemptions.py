"""S3 exemptions (issue 8, finding 3): exempt from declaration, not from the caps or the checks.
A full school is not recorded; city creation has one entry per school and school year; a claim
on the region's catalogue must name an item of the edition in force, organised by the applicant."""

from __future__ import annotations

from datetime import date

from jianfu.events.errors import RefusalCode
from jianfu.events.schemas.campus_entry import (
    ActivityExemptionRecorded,
    ActivityRejected,
    ExemptCategory,
    Route,
)
from jianfu.events.schemas.regional_catalogue import CatalogueItem, RegionalCatalogueImported

from tests.factories import POLICY, SCHOOLS
from tests.unit.test_campus_entry_certification import CAP, Semester, fill, requested

CITY_CREATION = {"category": "city_creation", "reference": "全国文明城市创建工作方案"}
CATALOGUE = RegionalCatalogueImported(edition=1, title="宁夏回族自治区中小学进校园活动目录（2026年）",
                                      in_force_from=date(2026, 1, 1), items=(
    CatalogueItem(item_id="rc-1-1", item_name="国家安全教育进校园", organizer="区公安分局、区司法局",
                  organizer_org_ids=("dept-public-security", "dept-justice"), max_per_year=1, max_per_semester=None,
                  stages=(), frequency="每年1次"),))


def exempt(claim: dict, schools=None, semester: str = "2026-autumn", **overrides):
    dates = {"start_date": "2026-09-15", "end_date": "2026-12-15"} if semester.endswith("autumn") else {
        "start_date": "2027-03-15", "end_date": "2027-05-15"}
    return requested(Route.EXEMPT, schools=schools or [SCHOOLS[0]], exemption_claim=claim, target_semester=semester,
                     **{**dates, **overrides})


def test_s3_an_exemption_at_a_full_school_is_not_recorded_there():
    s = fill(SCHOOLS[0], CAP)
    decided = s.screen(exempt(CITY_CREATION, schools=[SCHOOLS[0], SCHOOLS[1]]))
    assert isinstance(decided.decision, ActivityExemptionRecorded)
    assert decided.decision.listing.school_ids == (SCHOOLS[1],)
    [refused] = decided.decision.refused_schools
    assert (refused.school_id, refused.refusal_code) == (SCHOOLS[0], RefusalCode.QUOTA_EXCEEDED)
    assert [slot.school_id for slot in decided.slots] == [SCHOOLS[1]]


def test_s3_an_exemption_whose_schools_are_all_full_is_refused_automatically():
    s = fill(SCHOOLS[0], CAP)
    decided = s.screen(exempt({"category": "central_government_work", "reference": "中央部署文件"}))
    assert isinstance(decided.decision, ActivityRejected) and decided.slots == ()
    assert (decided.decision.refusal_code, decided.decision.automatic) == (RefusalCode.QUOTA_EXCEEDED, True)


def test_s3_a_second_city_creation_entry_in_a_school_year_is_refused_at_that_school():
    """One city-creation entry per school and school year (policy: city_creation_per_school_year),
    counted over both semesters: the autumn's entry refuses the spring's at that school only."""
    assert POLICY.campus_entry.city_creation_per_school_year == 1
    autumn = Semester("2026-autumn")
    first = autumn.screen(exempt(CITY_CREATION))
    autumn.apply(first)
    assert first.slots[0].exempt_category is ExemptCategory.CITY_CREATION
    spring = Semester("2027-spring", other=autumn)
    decided = spring.screen(exempt(CITY_CREATION, schools=[SCHOOLS[0], SCHOOLS[1]], semester="2027-spring"))
    assert decided.decision.listing.school_ids == (SCHOOLS[1],)
    [refused] = decided.decision.refused_schools
    assert (refused.school_id, refused.refusal_code) == (SCHOOLS[0], RefusalCode.QUOTA_EXCEEDED)
    assert "city-creation" in refused.reason
    alone = Semester("2027-spring", other=autumn).screen(exempt(CITY_CREATION, semester="2027-spring"))
    assert alone.decision.refusal_code is RefusalCode.QUOTA_EXCEEDED and alone.decision.automatic


def test_s3_a_second_city_creation_entry_in_the_same_semester_is_refused_but_other_exemptions_are_not():
    s = Semester()
    s.apply(s.screen(exempt(CITY_CREATION)))
    assert isinstance(s.screen(exempt(CITY_CREATION)).decision, ActivityRejected)
    central = s.screen(exempt({"category": "central_government_work", "reference": "中央部署文件"}))
    assert isinstance(central.decision, ActivityExemptionRecorded)


def test_s3_a_catalogue_claim_names_an_item_of_the_edition_in_force_organised_by_the_applicant():
    decided = Semester(catalogue=CATALOGUE).screen(exempt({"category": "regional_catalogue",
                                                           "reference": "国家安全教育进校园"}, frequency="见目录"))
    assert isinstance(decided.decision, ActivityExemptionRecorded)
    listing = decided.decision.listing
    assert (listing.exempt_category, listing.catalogue_item_id, listing.max_per_year) == (
        ExemptCategory.REGIONAL_CATALOGUE, "rc-1-1", 1)
    assert decided.slots[0].exempt_category is ExemptCategory.REGIONAL_CATALOGUE


def unsupported(claim_reference: str, catalogue=CATALOGUE, applicant: str | None = None) -> ActivityRejected:
    request = exempt({"category": "regional_catalogue", "reference": claim_reference})
    if applicant:
        request = request.model_copy(update={"applicant_org_id": applicant})
    decided = Semester(catalogue=catalogue).screen(request)
    assert decided.slots == ()
    return decided.decision


def test_s3_a_catalogue_claim_the_catalogue_does_not_support_is_refused():
    """Issue 8, finding 3: an exemption claim is no longer self-asserted."""
    for decision, says in ((unsupported("任意文件名"), "not an item"),
                           (unsupported("rc-1-1", applicant="dept-health"), "not by dept-health"),
                           (unsupported("rc-1-1", catalogue=None), "no regional catalogue")):
        assert (decision.refusal_code, decision.automatic) == (RefusalCode.EXEMPTION_UNSUPPORTED, True)
        assert says in decision.reason
