"""S3 violations found in schools' reports of activities held: given the authorisations known at
the report's place in the log, when the report is judged, then these violations (or none)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from jianfu.compliance.domain.authorisations import record_admission
from jianfu.compliance.domain.detector import (
    Authorisation,
    authorising,
    detect,
    item_key,
)
from jianfu.compliance.domain.folding import Fact
from jianfu.compliance.domain.s3_detection import s3_detection
from jianfu.events.schemas.campus_entry import ActivityCertified, ActivityHeldReported, ListedActivity, Route
from jianfu.events.schemas.compliance import Rule, violation_id
from jianfu.events.titles import normalise_title

from tests.factories import DIRECTORY, POLICY, SCHOOLS

DETECTION = s3_detection(POLICY, {org.org_id: org.name for org in DIRECTORY.organisations})

CAP = POLICY.campus_entry.items_per_school_per_semester
POLICE, FIRE = "dept-public-security", "dept-fire"
SCHOOL, OTHER_SCHOOL = SCHOOLS[0], SCHOOLS[1]
SEMESTER = "2026-autumn"
TITLE = "法治进校园：防电信诈骗宣讲"
EVENT_ID = "event-of-the-report"


def certified(organizer=POLICE, schools=(SCHOOL,), semester=SEMESTER, title=TITLE) -> Authorisation:
    return Authorisation(str(uuid.uuid4()), organizer, semester, frozenset(schools), title)


def report(organizer=POLICE, school=SCHOOL, activity_id=None, title=TITLE, held_on=date(2026, 10, 20),
           semester=SEMESTER) -> ActivityHeldReported:
    return ActivityHeldReported(
        report_id=uuid.uuid4(), school_id=school, organizer_org_id=organizer,
        activity_id=uuid.UUID(activity_id) if activity_id else None, title=title, held_on=held_on,
        semester=semester, participants=300, teacher_hours=1.0,
    )


def rules(violations) -> list[Rule]:
    return [v.rule for v in violations]


# UnauthorizedCampusEntry


def test_s3_certified_activity_held_at_a_listed_school_is_no_violation():
    activity = certified()
    assert detect(report(activity_id=activity.activity_id), EVENT_ID, [activity], set(), CAP) == []


def test_s3_certified_activity_reported_without_its_id_is_no_violation():
    assert detect(report(), EVENT_ID, [certified()], set(), CAP) == []


def test_s3_activity_with_no_certification_or_exemption_is_unauthorized_campus_entry():
    [violation] = detect(report(organizer=FIRE), EVENT_ID, [certified()], set(), CAP)
    assert violation.rule is Rule.UNAUTHORIZED_CAMPUS_ENTRY and violation.clause == "S3"
    assert (violation.responsible_org_id, violation.school_id, violation.semester) == (FIRE, SCHOOL, SEMESTER)
    assert violation.issue_key == f"{FIRE}:UnauthorizedCampusEntry"
    assert violation.evidence["report_event_id"] == EVENT_ID and violation.evidence["held_on"] == "2026-10-20"
    assert violation.evidence["activity_id"] is None and violation.evidence["title"] == TITLE


def test_s3_certified_for_other_schools_does_not_authorise_this_school():
    assert rules(detect(report(), EVENT_ID, [certified(schools=(OTHER_SCHOOL,))], set(), CAP)) == [
        Rule.UNAUTHORIZED_CAMPUS_ENTRY]


def test_s3_certified_for_another_semester_does_not_authorise_this_one():
    activity = certified(semester="2027-spring")
    assert rules(detect(report(activity_id=activity.activity_id), EVENT_ID, [activity], set(), CAP)) == [
        Rule.UNAUTHORIZED_CAMPUS_ENTRY]


def test_s3_naming_another_units_certified_activity_does_not_authorise_the_organizer():
    police_activity = certified()
    held = report(organizer=FIRE, activity_id=police_activity.activity_id)
    assert rules(detect(held, EVENT_ID, [police_activity], set(), CAP)) == [Rule.UNAUTHORIZED_CAMPUS_ENTRY]


def test_s3_naming_an_activity_that_is_not_authorised_is_a_violation_even_if_another_one_is():
    held = report(activity_id=str(uuid.uuid4()))  # e.g. the refused one
    assert rules(detect(held, EVENT_ID, [certified()], set(), CAP)) == [Rule.UNAUTHORIZED_CAMPUS_ENTRY]


def test_s3_exempt_activity_authorises_like_a_certified_one():
    exempt = certified(title="全国文明城市创建宣讲")
    assert authorising(report(activity_id=exempt.activity_id), [exempt]) == exempt


def test_s3_the_same_unauthorised_entry_reported_twice_has_one_violation_id():
    first = detect(report(organizer=FIRE, title="消防 安全进校园"), "e1", [], set(), CAP)
    second = detect(report(organizer=FIRE, title="消防安全进校园"), "e2", [], set(), CAP)
    assert first[0].violation_id == second[0].violation_id
    assert first[0].violation_id == violation_id(
        Rule.UNAUTHORIZED_CAMPUS_ENTRY, SCHOOL, FIRE, "2026-10-20", normalise_title("消防安全进校园"))


def test_s3_unauthorised_entries_on_different_days_are_different_violations():
    first = detect(report(organizer=FIRE), "e1", [], set(), CAP)[0]
    second = detect(report(organizer=FIRE, held_on=date(2026, 10, 27)), "e2", [], set(), CAP)[0]
    assert first.violation_id != second.violation_id and first.issue_key == second.issue_key


def test_titles_differing_only_in_width_case_and_spaces_are_one_item():
    assert normalise_title("法治进校园： 防诈骗 ABC") == normalise_title("法治进校园:防诈骗abc")


# CampusEntryQuotaExceeded


def items(n: int) -> set[str]:
    return {f"item-{i}" for i in range(n)}


def test_s3_the_item_that_exceeds_the_per_school_cap_is_campus_entry_quota_exceeded():
    activity = certified()
    [violation] = detect(report(activity_id=activity.activity_id), EVENT_ID, [activity], items(CAP), CAP)
    assert violation.rule is Rule.CAMPUS_ENTRY_QUOTA_EXCEEDED and violation.clause == "S3"
    assert violation.responsible_org_id == POLICE and violation.issue_key == f"{POLICE}:CampusEntryQuotaExceeded"
    assert violation.violation_id == violation_id(Rule.CAMPUS_ENTRY_QUOTA_EXCEEDED, SCHOOL, SEMESTER,
                                                  activity.activity_id)
    assert (violation.evidence["items_before"], violation.evidence["cap"]) == (CAP, CAP)


def test_s3_the_item_that_reaches_the_cap_is_no_violation():
    activity = certified()
    assert detect(report(activity_id=activity.activity_id), EVENT_ID, [activity], items(CAP - 1), CAP) == []


def test_s3_another_session_of_an_item_already_counted_does_not_exceed_the_cap():
    activity = certified()
    held = items(CAP - 1) | {activity.activity_id}
    assert detect(report(activity_id=activity.activity_id), EVENT_ID, [activity], held, CAP) == []


def test_s3_an_unauthorised_item_at_a_full_school_is_charged_as_unauthorised_only():
    """Issue 8, finding 2: the organizer who entered without authorisation is charged for that."""
    found = detect(report(organizer=FIRE), EVENT_ID, [], items(CAP), CAP)
    assert rules(found) == [Rule.UNAUTHORIZED_CAMPUS_ENTRY] and found[0].responsible_org_id == FIRE


def test_s3_unauthorised_entries_do_not_fill_the_count_so_no_certified_organizer_is_charged_for_them():
    """Issue 8, finding 2: three certified items and two unauthorised ones, then a fourth certified
    item: the cap (4) is reached, not exceeded."""
    batch = DETECTION.empty_batch()
    admitted = [certified(organizer=unit, title=f"活动{n}") for n, unit in enumerate((POLICE, "dept-health",
                                                                                     "youth-league", "dept-justice"))]
    for activity in admitted:
        record_admission(batch, fact(listed(activity)))
    held = [report(organizer=a.organizer_org_id, activity_id=a.activity_id, title=a.title) for a in admitted[:3]]
    held += [report(organizer=FIRE, title=f"推介{n}") for n in range(2)]
    held.append(report(organizer=admitted[3].organizer_org_id, activity_id=admitted[3].activity_id,
                       title=admitted[3].title))
    DETECTION.fold(batch, [fact(r) for r in held])
    assert [e.decision.rule for e in batch.emitted] == [Rule.UNAUTHORIZED_CAMPUS_ENTRY] * 2


def test_s3_item_key_is_the_activity_id_else_the_authorised_activity_else_organizer_and_title():
    activity = certified()
    assert item_key(report(activity_id=activity.activity_id)) == activity.activity_id
    assert item_key(report(title=" 法治进校园:防电信诈骗宣讲 "), [activity]) == activity.activity_id
    assert item_key(report(organizer=FIRE, title="消防 演练"), [activity]) == f"{FIRE}:消防演练"


def listed(activity: Authorisation) -> ActivityCertified:
    return ActivityCertified(activity_id=uuid.UUID(activity.activity_id), applicant_org_id=activity.organizer_org_id,
                             semester=activity.semester, listing=ListedActivity(
                                 activity_id=uuid.UUID(activity.activity_id), title=activity.title,
                                 organizer_org_id=activity.organizer_org_id, organizer_name=activity.organizer_org_id,
                                 route=Route.REGULAR, form="讲座", frequency="每学期1次", start_date=date(2026, 9, 1),
                                 end_date=date(2026, 12, 31), school_ids=tuple(sorted(activity.school_ids)),
                                 policy_basis="依据"))


def fact(data, sequence: int = 1) -> Fact:
    return Fact(sequence, str(uuid.uuid4()), type(data).__name__, "aggregate", datetime(2026, 10, 20, tzinfo=UTC),
                "correlation", data)
