"""S3 violations found in schools' reports of activities held: given what the log held at the
report's place (list editions, exemptions, the region's catalogue, earlier reports), when the
report is judged, then these violations (or none). Most tests fold events through the detector
itself, as the running service does."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from jianfu.compliance.domain.detector import (
    Authorisation,
    Entry,
    Ground,
    detect,
    item_key,
    judge,
)
from jianfu.compliance.domain.folding import Fact
from jianfu.compliance.domain.s3_detection import s3_detection
from jianfu.events.schemas.campus_entry import (
    ActivityCertified,
    ActivityExemptionRecorded,
    ActivityHeldReported,
    ExemptCategory,
    ExemptionClaim,
    ListedActivity,
    Route,
    SemesterListPublished,
)
from jianfu.events.schemas.compliance import Rule, violation_id
from jianfu.events.schemas.regional_catalogue import CatalogueItem, RegionalCatalogueImported
from jianfu.events.titles import normalise_title

from tests.factories import DIRECTORY, POLICY, SCHOOLS

BUREAU = "edu-bureau"
DETECTION = s3_detection(POLICY, {org.org_id: org.name for org in DIRECTORY.organisations}, BUREAU)

CAP = POLICY.campus_entry.items_per_school_per_semester
POLICE, FIRE = "dept-public-security", "dept-fire"
SCHOOL, OTHER_SCHOOL = SCHOOLS[0], SCHOOLS[1]
SEMESTER = "2026-autumn"
TITLE = "法治进校园：防电信诈骗宣讲"
EVENT_ID = "event-of-the-report"
PUBLISHED = datetime(2026, 9, 1, 2, tzinfo=UTC)  # 10:00 in Beijing


def listing(organizer=POLICE, schools=(SCHOOL,), title=TITLE, activity_id=None, **columns) -> ListedActivity:
    return ListedActivity(
        activity_id=activity_id or uuid.uuid4(), title=title, organizer_org_id=organizer, organizer_name=organizer,
        route=Route.REGULAR, form="讲座", frequency="每学期1次", school_ids=tuple(schools), policy_basis="依据",
        **{"start_date": date(2026, 9, 1), "end_date": date(2026, 12, 31), "occurrences": 1, "max_per_semester": 1,
           **columns})


def edition(*items: ListedActivity, number: int = 1, semester: str = SEMESTER, part: int = 1,
            parts: int = 1) -> SemesterListPublished:
    return SemesterListPublished(semester=semester, edition=number, items=items, part=part, parts=parts,
                                 offset=0, item_count=len(items))


def certified(item: ListedActivity) -> ActivityCertified:
    return ActivityCertified(activity_id=item.activity_id, applicant_org_id=item.organizer_org_id, listing=item,
                             semester=SEMESTER)


def exemption(item: ListedActivity, category=ExemptCategory.CENTRAL_GOVERNMENT_WORK) -> ActivityExemptionRecorded:
    return ActivityExemptionRecorded(activity_id=item.activity_id, applicant_org_id=item.organizer_org_id,
                                     category=category, reference="国务院文件", semester=SEMESTER,
                                     listing=item.model_copy(update={"route": Route.EXEMPT, "exempt_category": category}))


def report(organizer=POLICE, school=SCHOOL, activity_id=None, title=TITLE, held_on=date(2026, 10, 20),
           semester=SEMESTER, organizer_name="", claim: ExemptionClaim | None = None) -> ActivityHeldReported:
    return ActivityHeldReported(
        report_id=uuid.uuid4(), school_id=school, organizer_org_id=organizer,
        activity_id=activity_id, title=title, held_on=held_on, semester=semester, participants=300,
        teacher_hours=1.0, organizer_name=organizer_name or (organizer or ""), exemption_claim=claim)


def fact(data, at: datetime = PUBLISHED, sequence: int = 1) -> Fact:
    return Fact(sequence, str(uuid.uuid4()), type(data).__name__, "aggregate", at, "correlation", data)


def judged(*events) -> list:
    """The violations the detector decides folding ``events`` in order (facts or event data),
    passing over the events it does not read, as the projector does."""
    batch = DETECTION.empty_batch()
    facts = [e if isinstance(e, Fact) else fact(e) for e in events]
    DETECTION.fold(batch, [f for f in facts if DETECTION.handles(f.event_type)])
    return [emitted.decision for emitted in batch.emitted]


def rules(violations) -> list[Rule]:
    return [v.rule for v in violations]


def grounds(violations) -> list[str]:
    return [v.evidence.get("ground") for v in violations]


# The published list decides what may enter (issue 8, finding 1)


def test_s3_an_item_of_the_list_in_force_held_at_a_listed_school_is_no_violation():
    item = listing()
    assert judged(edition(item), report(activity_id=item.activity_id)) == []
    assert judged(edition(item), report()) == []  # reported by its title, without the id


def test_s3_a_certification_not_yet_published_admits_nobody():
    item = listing()
    found = judged(certified(item), report(activity_id=item.activity_id))
    assert rules(found) == [Rule.UNAUTHORIZED_CAMPUS_ENTRY] and grounds(found) == ["not_on_list"]


def test_s3_one_listed_item_does_not_let_its_unit_hold_another_title():
    """Issue 8, finding 1: a listed "消防安全讲座" does not admit the unit's "消防器材商业推介"."""
    item = listing(organizer=FIRE, title="消防安全讲座")
    found = judged(edition(item), report(organizer=FIRE, title="消防器材商业推介"))
    assert rules(found) == [Rule.UNAUTHORIZED_CAMPUS_ENTRY] and grounds(found) == ["title_not_on_list"]
    assert found[0].responsible_org_id == FIRE and "没有此项活动" in found[0].summary


def test_s3_an_entry_held_before_the_list_was_published_is_unauthorised():
    item = listing()
    found = judged(edition(item), report(held_on=date(2026, 8, 31)))
    assert grounds(found) == ["before_admission"]


def test_s3_the_day_of_publication_is_that_of_beijing():
    """Published at 17:00 UTC on 31 August is 1 September in the district: an entry of 1 September is admitted."""
    item = listing()
    published = fact(edition(item), at=datetime(2026, 8, 31, 17, tzinfo=UTC))
    assert judged(published, report(held_on=date(2026, 9, 1))) == []


def test_s3_an_entry_outside_the_listed_dates_is_unauthorised():
    item = listing(start_date=date(2026, 10, 1), end_date=date(2026, 10, 31))
    assert judged(edition(item), report(held_on=date(2026, 10, 20))) == []
    assert grounds(judged(edition(item), report(held_on=date(2026, 11, 2)))) == ["outside_dates"]


def test_s3_entries_beyond_the_listed_frequency_are_unauthorised_each():
    """Issue 8, finding 1: ten entries of an item listed "每学期1次" are one entry and nine violations."""
    item = listing()
    reports = [report(held_on=date(2026, 10, day)) for day in range(1, 11)]
    found = judged(edition(item), *reports)
    assert grounds(found) == ["beyond_frequency"] * 9
    assert len({v.violation_id for v in found}) == 9


def test_s3_a_second_report_of_the_same_day_is_the_same_session():
    item = listing()
    assert judged(edition(item), report(), report()) == []


def test_s3_the_frequency_allows_what_the_application_asked_within_the_listed_bound():
    item = listing(occurrences=3, max_per_semester=None, max_per_year=2)  # 3 asked, "每年2次" allows 2
    found = judged(edition(item), *(report(held_on=date(2026, 10, day)) for day in (5, 12, 19)))
    assert grounds(found) == ["beyond_frequency"]


def test_s3_an_edition_correcting_the_list_is_followed_once_published_whole():
    dropped, kept = listing(title="禁毒教育"), listing(title=TITLE, schools=(SCHOOL,))
    widened = kept.model_copy(update={"school_ids": (SCHOOL, OTHER_SCHOOL)})
    first = edition(dropped, kept)
    part_one = edition(widened, number=2, part=1, parts=2)
    part_two = edition(number=2, part=2, parts=2)
    # Edition 2 half received: edition 1 still admits, and nothing of edition 2 yet.
    assert judged(first, part_one, report(title="禁毒教育")) == []
    assert grounds(judged(first, part_one, report(school=OTHER_SCHOOL))) == ["not_on_list"]
    # Edition 2 whole: the dropped item no longer admits, the widened one does at the added school.
    assert grounds(judged(first, part_one, part_two, report(title="禁毒教育"))) == ["title_not_on_list"]
    assert judged(first, part_one, part_two, report(school=OTHER_SCHOOL)) == []


def test_s3_listed_for_other_schools_or_semesters_or_by_another_unit_does_not_admit():
    item = listing(schools=(OTHER_SCHOOL,))
    assert rules(judged(edition(item), report())) == [Rule.UNAUTHORIZED_CAMPUS_ENTRY]
    spring = listing()
    assert rules(judged(edition(spring, semester="2027-spring"), report())) == [Rule.UNAUTHORIZED_CAMPUS_ENTRY]
    police = listing()
    assert rules(judged(edition(police), report(organizer=FIRE, activity_id=police.activity_id))) == [
        Rule.UNAUTHORIZED_CAMPUS_ENTRY]


def test_s3_naming_an_activity_that_is_not_listed_is_a_violation_even_if_another_one_is():
    assert grounds(judged(edition(listing()), report(activity_id=uuid.uuid4()))) == ["not_on_list"]


# Exemptions: recorded, need no publication, still counted (issue 8, finding 3)


def test_s3_a_recorded_exemption_admits_without_publication():
    item = listing(title="全国文明城市创建宣讲")
    assert judged(exemption(item), report(title="全国文明城市创建宣讲")) == []


def test_s3_an_exempt_entry_held_without_any_declaration_is_recorded_not_unauthorised():
    claim = ExemptionClaim(category=ExemptCategory.CENTRAL_GOVERNMENT_WORK, reference="中办发〔2021〕1号")
    assert judged(report(title="中心工作宣讲", claim=claim)) == []


def test_s3_an_exempt_entry_still_counts_towards_the_cap():
    claim = ExemptionClaim(category=ExemptCategory.CENTRAL_GOVERNMENT_WORK, reference="中办发〔2021〕1号")
    items = [listing(organizer=unit, title=f"活动{n}") for n, unit in enumerate(
        (POLICE, "dept-health", "youth-league", "dept-justice"))]
    held = [report(organizer=i.organizer_org_id, title=i.title) for i in items]
    found = judged(edition(*items), report(organizer=FIRE, title="中心工作宣讲", claim=claim), *held)
    assert rules(found) == [Rule.CAMPUS_ENTRY_QUOTA_EXCEEDED] and found[0].responsible_org_id == "dept-justice"


def catalogue(*items: CatalogueItem, number: int = 1, in_force_from=date(2024, 1, 1)) -> RegionalCatalogueImported:
    return RegionalCatalogueImported(edition=number, title="自治区中小学进校园活动目录", in_force_from=in_force_from,
                                     items=items)


def catalogue_item(name="法治进校园", units=(POLICE, "dept-court"), per_year=2, n=1) -> CatalogueItem:
    return CatalogueItem(item_id=f"rc-1-{n}", item_name=name, organizer="区公安分局、区人民法院",
                         organizer_org_ids=units, frequency=f"每年{per_year}次", max_per_year=per_year,
                         max_per_semester=None, stages=())


def regional(reference: str) -> ExemptionClaim:
    return ExemptionClaim(category=ExemptCategory.REGIONAL_CATALOGUE, reference=reference)


def test_s3_a_regional_catalogue_claim_holds_for_an_item_of_the_catalogue_that_names_the_unit():
    assert judged(catalogue(catalogue_item()), report(title="法治讲座", claim=regional("法治 进校园"))) == []
    assert judged(catalogue(catalogue_item()), report(title="法治讲座", claim=regional("RC-1-1"))) == []


@pytest.mark.parametrize("claim, organizer", [
    (regional("商业推介进校园"), POLICE),  # not in the catalogue
    (regional("法治进校园"), FIRE),       # in it, but not this unit's
])
def test_s3_an_unsupported_regional_catalogue_claim_is_unauthorised(claim, organizer):
    found = judged(catalogue(catalogue_item()), report(organizer=organizer, title="法治讲座", claim=claim))
    assert grounds(found) == ["exemption_unsupported"] and found[0].responsible_org_id == organizer


def test_s3_a_claim_is_checked_against_the_catalogue_edition_in_force_on_the_day_held():
    later = catalogue(catalogue_item(name="禁毒教育进校园"), number=2, in_force_from=date(2026, 11, 1))
    events = (catalogue(catalogue_item()), later)
    assert judged(*events, report(title="法治讲座", claim=regional("法治进校园"))) == []
    found = judged(*events, report(title="法治讲座", held_on=date(2026, 11, 5), claim=regional("法治进校园")))
    assert grounds(found) == ["exemption_unsupported"]


def test_s3_a_catalogue_items_yearly_frequency_spans_both_semesters_of_the_school_year():
    claim = regional("法治进校园")
    autumn = report(title="法治讲座", claim=claim)
    spring = report(title="法治讲座", claim=claim, held_on=date(2027, 3, 10), semester="2027-spring")
    next_year = report(title="法治讲座", claim=claim, held_on=date(2027, 10, 10), semester="2027-autumn")
    assert grounds(judged(catalogue(catalogue_item(per_year=1)), autumn, spring)) == ["beyond_frequency"]
    assert judged(catalogue(catalogue_item(per_year=1)), autumn, next_year) == []


def test_s3_a_second_city_creation_entry_in_a_school_year_is_over_its_allowance():
    claim = ExemptionClaim(category=ExemptCategory.CITY_CREATION, reference="全国文明城市创建")
    first = report(organizer="dept-publicity", title="文明城市创建督查", claim=claim)
    second = report(organizer="dept-publicity", title="文明校园创建考核", claim=claim, held_on=date(2027, 3, 2),
                    semester="2027-spring")
    [found] = judged(first, second)
    assert found.rule is Rule.CAMPUS_ENTRY_QUOTA_EXCEEDED and found.evidence["quota"] == "city_creation_per_school_year"
    assert (found.evidence["cap"], found.semester) == (POLICY.campus_entry.city_creation_per_school_year, "2027-spring")
    assert judged(first, first.model_copy(update={"report_id": uuid.uuid4()})) == []  # the same entry again


# Units outside the directory


def test_s3_an_entry_by_a_unit_outside_the_directory_is_charged_to_it_and_routed_to_the_bureau():
    [found] = judged(report(organizer=None, organizer_name="某某教育培训有限公司", title="升学规划讲座"))
    assert found.rule is Rule.UNAUTHORIZED_CAMPUS_ENTRY and found.evidence["ground"] == "unregistered_unit"
    assert found.responsible_org_id == "unregistered unit: 某某教育培训有限公司"
    assert found.routed_to == BUREAU and found.issue_key.startswith("unregistered unit: 某某教育培训有限公司:")
    assert "某某教育培训有限公司" in found.summary


def test_s3_an_outside_units_entry_takes_no_place_in_the_count():
    items = [listing(organizer=unit, title=f"活动{n}") for n, unit in enumerate(
        (POLICE, "dept-health", "youth-league", "dept-justice"))]
    outsider = report(organizer=None, organizer_name="红十字会", title="急救培训")
    found = judged(edition(*items), outsider, *(report(organizer=i.organizer_org_id, title=i.title) for i in items))
    assert rules(found) == [Rule.UNAUTHORIZED_CAMPUS_ENTRY]


# Violation ids and the cap (issue 8, finding 2 and before)


def test_s3_the_same_unauthorised_entry_reported_twice_has_one_violation_id():
    first = judged(report(organizer=FIRE, title="消防 安全进校园"))
    second = judged(report(organizer=FIRE, title="消防安全进校园"))
    assert first[0].violation_id == second[0].violation_id == violation_id(
        Rule.UNAUTHORIZED_CAMPUS_ENTRY, SCHOOL, FIRE, "2026-10-20", normalise_title("消防安全进校园"))


def test_s3_unauthorised_entries_on_different_days_are_different_violations():
    first, second = judged(report(organizer=FIRE), report(organizer=FIRE, held_on=date(2026, 10, 27)))
    assert first.violation_id != second.violation_id and first.issue_key == second.issue_key


def items_held(n: int) -> set[str]:
    return {f"item-{i}" for i in range(n)}


def test_s3_the_item_that_exceeds_the_per_school_cap_is_campus_entry_quota_exceeded():
    activity = str(uuid.uuid4())
    [violation] = detect(report(), EVENT_ID, Entry(activity), items_held(CAP), CAP)
    assert violation.rule is Rule.CAMPUS_ENTRY_QUOTA_EXCEEDED and violation.clause == "S3"
    assert violation.responsible_org_id == POLICE and violation.issue_key == f"{POLICE}:CampusEntryQuotaExceeded"
    assert violation.violation_id == violation_id(Rule.CAMPUS_ENTRY_QUOTA_EXCEEDED, SCHOOL, SEMESTER, activity)
    assert (violation.evidence["items_before"], violation.evidence["cap"]) == (CAP, CAP)


def test_s3_the_item_that_reaches_the_cap_and_another_session_of_a_counted_one_are_no_violation():
    assert detect(report(), EVENT_ID, Entry("new"), items_held(CAP - 1), CAP) == []
    assert detect(report(), EVENT_ID, Entry("item-0"), items_held(CAP), CAP) == []


def test_s3_an_entry_not_admitted_at_a_full_school_is_charged_as_unauthorised_only():
    """Issue 8, finding 2: the organizer who entered without authorisation is charged for that."""
    found = detect(report(organizer=FIRE), EVENT_ID, Entry("k", Ground.NOT_ON_LIST), items_held(CAP), CAP)
    assert rules(found) == [Rule.UNAUTHORIZED_CAMPUS_ENTRY] and found[0].responsible_org_id == FIRE


def test_s3_unauthorised_entries_do_not_fill_the_count_so_no_listed_organizer_is_charged_for_them():
    """Issue 8, finding 2: three listed items and two unauthorised ones, then a fourth listed
    item: the cap (4) is reached, not exceeded."""
    items = [listing(organizer=unit, title=f"活动{n}") for n, unit in enumerate(
        (POLICE, "dept-health", "youth-league", "dept-justice"))]
    held = [report(organizer=i.organizer_org_id, activity_id=i.activity_id, title=i.title) for i in items[:3]]
    held += [report(organizer=FIRE, title=f"推介{n}") for n in range(2)]
    held.append(report(organizer=items[3].organizer_org_id, title=items[3].title))
    assert rules(judged(edition(*items), *held)) == [Rule.UNAUTHORIZED_CAMPUS_ENTRY] * 2


def test_s3_item_key_is_the_listed_item_else_the_activity_id_else_the_party_and_title():
    listed = Authorisation(str(uuid.uuid4()), POLICE, SEMESTER, frozenset({SCHOOL}), TITLE)
    named = uuid.uuid4()
    assert item_key(report(activity_id=uuid.UUID(listed.activity_id)), [listed]) == listed.activity_id
    assert item_key(report(title=" 法治进校园:防电信诈骗宣讲 "), [listed]) == listed.activity_id
    assert item_key(report(activity_id=named), [listed]) == str(named)
    assert item_key(report(organizer=FIRE, title="消防 演练"), [listed]) == f"{FIRE}:消防演练"
    assert item_key(report(organizer=None, organizer_name="红十字会", title="急救")) == "unregistered unit: 红十字会:急救"


def test_item_keys_of_titles_that_expand_under_nfkc_stay_within_the_key_columns():
    long = item_key(report(title="\ufdfa" * 200))
    assert len(long) <= 200 and long != item_key(report(title="\ufdfa" * 199))


def test_titles_differing_only_in_width_case_and_spaces_are_one_item():
    assert normalise_title("法治进校园： 防诈骗 ABC") == normalise_title("法治进校园:防诈骗abc")


def test_s3_judge_names_the_ground_and_the_item():
    listed = Authorisation(str(uuid.uuid4()), POLICE, SEMESTER, frozenset({SCHOOL}), TITLE, date(2026, 9, 1),
                           date(2026, 12, 31), date(2026, 9, 1), 1)
    assert judge(report(), [listed], {}) == Entry(listed.activity_id)
    assert judge(report(), [listed], {listed.activity_id: {date(2026, 10, 1)}}).ground is Ground.BEYOND_FREQUENCY
    assert judge(report(title="别的活动"), [listed], {}).ground is Ground.TITLE_NOT_ON_LIST
    assert judge(report(), [], {}).ground is Ground.NOT_ON_LIST
