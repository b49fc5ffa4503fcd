"""S3 certification by the education bureau: hard-rule refusals, the per-school cap, the list."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from jianfu.approvals.domain.campus_entry_activity import CampusEntryActivity, hard_refusal
from jianfu.approvals.domain.school_quota import SchoolQuota
from jianfu.approvals.domain.semester_list import SemesterList
from jianfu.events.errors import RefusalCode, Refused
from jianfu.events.schemas.campus_entry import (
    LIST_PART_ITEMS,
    ActivityCertified,
    ActivityExemptionRecorded,
    ActivityRejected,
    ActivityRequested,
    Route,
    SemesterListPublished,
)

from tests.factories import DIRECTORY, POLICY, SCHOOLS, application

CAP = POLICY.campus_entry.items_per_school_per_semester


def requested(route: Route = Route.REGULAR, in_window: bool = True, schools=None, **overrides) -> ActivityRequested:
    form = application(**overrides)
    form.pop("command_id")
    schools = tuple(schools or SCHOOLS[:2])
    form["scope"] = {"school_ids": list(schools)}
    return ActivityRequested(
        **form, activity_id=uuid.uuid4(), applicant_org_id="dept-public-security", route=route,
        declared_on=date(2026, 7, 10), in_window=in_window, school_ids=schools,
    )


class Semester:
    """The schools' quotas of one semester, as the approvals handlers load them, and each
    activity's decisions; ``apply`` records a decision and its slots as the handler appends them."""

    def __init__(self) -> None:
        self.quotas = {school: SchoolQuota("2026-autumn", school) for school in SCHOOLS}
        self.decided: dict = {}

    def activity(self, request: ActivityRequested) -> CampusEntryActivity:
        activity = CampusEntryActivity(request)
        activity.decision = self.decided.get(request.activity_id)
        return activity

    def certify(self, request: ActivityRequested):
        return self.activity(request).certify(DIRECTORY, self.quotas, CAP)

    def screen(self, request: ActivityRequested):
        return self.activity(request).screen(DIRECTORY, self.quotas)

    def apply(self, decided):
        self.decided[decided.decision.activity_id] = decided.decision
        for slot in decided.slots:
            self.quotas[slot.school_id].apply(slot)
        return decided.decision


def semester() -> Semester:
    return Semester()


def test_s3_bureau_certifies_a_regular_in_window_application():
    decided = semester().certify(requested())
    assert isinstance(decided.decision, ActivityCertified)
    assert decided.decision.listing.organizer_name == "区公安分局" and decided.decision.semester == "2026-autumn"
    assert sorted(slot.school_id for slot in decided.slots) == sorted(SCHOOLS[:2])


def test_s3_out_of_window_regular_application_is_refused_automatically_on_screening():
    decided = semester().screen(requested(in_window=False))
    assert isinstance(decided.decision, ActivityRejected) and decided.slots == ()
    assert (decided.decision.refusal_code, decided.decision.automatic) == (RefusalCode.OUTSIDE_WINDOW_NO_URGENCY, True)


def test_s3_urgent_application_outside_the_window_is_not_refused_for_timing():
    assert semester().screen(requested(Route.URGENT, in_window=False)) is None


@pytest.mark.parametrize("budget", [
    {"amount_yuan": 0, "free_of_charge": False, "commercial_content": False},
    {"amount_yuan": 5000, "free_of_charge": True, "commercial_content": True},
])
def test_s3_fee_or_commercial_content_is_refused_automatically(budget):
    decision = semester().screen(requested(budget=budget)).decision
    assert decision.refusal_code is RefusalCode.COMMERCIAL_OR_FEE and decision.automatic


def test_s3_commercial_content_is_refused_even_when_the_bureau_tries_to_certify():
    request = requested(budget={"amount_yuan": 0, "free_of_charge": True, "commercial_content": True})
    assert semester().certify(request).decision.refusal_code is RefusalCode.COMMERCIAL_OR_FEE


def test_s3_exempt_activity_is_recorded_without_certification_and_takes_its_slots():
    request = requested(Route.EXEMPT, exemption_claim={"category": "city_creation", "reference": "创城方案"})
    s = semester()
    decided = s.screen(request)
    assert isinstance(decided.decision, ActivityExemptionRecorded) and len(decided.slots) == 2
    s.apply(decided)
    with pytest.raises(Refused):
        s.certify(request)


def test_s3_pending_regular_application_waits_for_the_bureau():
    assert semester().screen(requested()) is None


def fill(school: str, count: int, route: Route = Route.REGULAR) -> Semester:
    s = semester()
    for _ in range(count):
        s.apply(s.certify(requested(route, schools=[school])))
    return s


def test_s3_certification_at_schools_that_are_all_full_is_refused_with_quota_exceeded():
    s = fill(SCHOOLS[0], CAP)
    decided = s.certify(requested(schools=[SCHOOLS[0]]))
    assert decided.decision.refusal_code is RefusalCode.QUOTA_EXCEEDED and decided.decision.automatic
    assert SCHOOLS[0] in decided.decision.reason
    assert decided.slots == ()  # a refusal takes no slot anywhere


def test_s3_one_full_school_does_not_refuse_an_application_for_the_others():
    """Issue 8, finding 6: certified per school, partially, the refused school and why recorded."""
    s = fill(SCHOOLS[0], CAP)
    decided = s.certify(requested(schools=[SCHOOLS[0], SCHOOLS[1], SCHOOLS[2]]))
    assert isinstance(decided.decision, ActivityCertified)
    assert decided.decision.listing.school_ids == tuple(sorted(SCHOOLS[1:3]))
    [refused] = decided.decision.refused_schools
    assert (refused.school_id, refused.refusal_code) == (SCHOOLS[0], RefusalCode.QUOTA_EXCEEDED)
    assert sorted(slot.school_id for slot in decided.slots) == sorted(SCHOOLS[1:3])


def test_s3_urgent_and_exempt_items_count_towards_the_cap():
    s = fill(SCHOOLS[0], CAP - 1, Route.URGENT)
    exempt = requested(Route.EXEMPT, schools=[SCHOOLS[0]],
                       exemption_claim={"category": "regional_catalogue", "reference": "自治区目录"})
    s.apply(s.screen(exempt))
    assert s.quotas[SCHOOLS[0]].used == CAP
    assert s.certify(requested(schools=[SCHOOLS[0]])).decision.refusal_code is RefusalCode.QUOTA_EXCEEDED


def test_s3_the_cap_is_per_school_so_another_school_still_has_room():
    s = fill(SCHOOLS[0], CAP)
    assert isinstance(s.certify(requested(schools=[SCHOOLS[2]])).decision, ActivityCertified)


def test_s3_bureau_rejects_with_a_refusal_code_and_cannot_decide_twice():
    request, s = requested(), semester()
    rejected = s.apply(s.activity(request).reject(RefusalCode.ALREADY_IN_CURRICULUM, "已纳入综合实践活动"))
    assert rejected.refusal_code is RefusalCode.ALREADY_IN_CURRICULUM and not rejected.automatic
    with pytest.raises(Refused) as caught:
        s.certify(request)
    assert caught.value.code == "INVALID_STATE"


def test_s3_an_activity_without_its_request_is_not_found():
    with pytest.raises(Refused) as caught:
        CampusEntryActivity.from_events([])
    assert caught.value.code == "NOT_FOUND"


def listings(s: Semester) -> list:
    return [d.listing for d in s.decided.values() if not isinstance(d, ActivityRejected)]


def test_s3_published_list_holds_certified_and_exempt_items_but_not_rejected_ones():
    s = semester()
    s.apply(s.certify(requested(title="交通安全进校园")))
    s.apply(s.screen(requested(Route.EXEMPT, title="文明校园创建",
                               exemption_claim={"category": "city_creation", "reference": "x"})))
    s.apply(s.activity(requested(title="商业推广")).reject(RefusalCode.NOT_STUDENT_FOCUSED, "主体不是学生"))
    [published] = SemesterList("2026-autumn").publish(listings(s))
    assert (published.edition, published.part, published.parts, published.item_count) == (1, 1, 1, 2)
    assert [item.title for item in published.items] == ["交通安全进校园", "文明校园创建"]


def test_s3_republishing_an_unchanged_list_is_refused_and_an_urgent_addition_makes_edition_two():
    s = semester()
    s.apply(s.certify(requested()))
    first = SemesterList("2026-autumn").publish(listings(s))
    after_first = SemesterList.from_events("2026-autumn", first)
    with pytest.raises(Refused):
        after_first.publish(listings(s))
    s.apply(s.certify(requested(Route.URGENT, in_window=False)))
    assert [part.edition for part in after_first.publish(listings(s))] == [2]


def test_s3_a_large_list_is_published_in_parts_that_together_are_the_edition():
    """Issue 7: no event nears NATS's payload limit, however many items a district admits."""
    items = [semester().certify(requested(title=f"活动{n}")).decision.listing for n in range(2 * LIST_PART_ITEMS + 1)]
    parts = SemesterList("2026-autumn").publish(items)
    assert [(p.part, p.parts, p.offset, len(p.items)) for p in parts] == [
        (1, 3, 0, LIST_PART_ITEMS), (2, 3, LIST_PART_ITEMS, LIST_PART_ITEMS), (3, 3, 2 * LIST_PART_ITEMS, 1)]
    assert all(len(p.model_dump_json()) < 256 * 1024 for p in parts)
    assert SemesterList.from_events("2026-autumn", parts).latest == tuple(items)
    # An edition missing a part is not published: the one before it still is the list.
    assert SemesterList.from_events("2026-autumn", parts[:2]).latest is None
    with pytest.raises(ValueError):
        SemesterListPublished(semester="2026-autumn", edition=1, items=(), part=2, parts=1)


def test_s3_hard_refusal_is_none_for_a_clean_regular_application():
    assert hard_refusal(requested()) is None
