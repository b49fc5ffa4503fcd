"""S3 certification by the education bureau: hard-rule refusals, the per-school cap, the list.
Regular declarations are decided in the semester's round (``decide_in_round``), urgent ones on
their own (``certify``); rounds and exemptions have tests of their own (test_campus_entry_round.py,
test_campus_entry_exemptions.py)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from jianfu.approvals.domain.campus_entry_activity import CampusEntryActivity, hard_refusal
from jianfu.approvals.domain.exemptions import ExemptionBasis
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
URGENT = {"declaration_type": "urgent", "urgency_reason": "上级临时部署的禁毒宣传", "urgency_category": "superior_directive"}


def requested(route: Route = Route.REGULAR, in_window: bool = True, schools=None, **overrides) -> ActivityRequested:
    form = application(**overrides)
    form.pop("command_id")
    schools = tuple(schools or SCHOOLS[:2])
    form["scope"] = overrides.get("scope") or {"school_ids": list(schools)}
    return ActivityRequested(
        **form, activity_id=uuid.uuid4(), applicant_org_id="dept-public-security", route=route,
        declared_on=date(2026, 7, 10), in_window=in_window, school_ids=schools,
    )


class Semester:
    """The schools' quotas of one semester, as the approvals handlers load them, and each
    activity's decisions; ``apply`` records a decision and its slots as the handler appends them.
    ``other`` is the school year's other semester, for the city-creation count."""

    def __init__(self, semester: str = "2026-autumn", other: Semester | None = None, catalogue=None) -> None:
        self.quotas = {school: SchoolQuota(semester, school) for school in SCHOOLS}
        self.other = other
        self.catalogue = catalogue
        self.decided: dict = {}

    def activity(self, request: ActivityRequested) -> CampusEntryActivity:
        activity = CampusEntryActivity(request)
        activity.decision = self.decided.get(request.activity_id)
        return activity

    def certify(self, request: ActivityRequested, urgency_confirmed: bool = True):
        """The simplified route: an urgent application certified on its own."""
        return self.activity(request).certify(DIRECTORY, self.quotas, CAP, urgency_confirmed=urgency_confirmed)

    def in_round(self, request: ActivityRequested, rejection=None):
        """A regular application's decision in the semester's round."""
        return self.activity(request).decide_in_round(rejection, DIRECTORY, self.quotas, CAP)

    def screen(self, request: ActivityRequested):
        basis = ExemptionBasis(CAP, POLICY.campus_entry.city_creation_per_school_year,
                               self.other.quotas if self.other else {}, self.catalogue)
        return self.activity(request).screen(DIRECTORY, self.quotas, basis)

    def apply(self, decided):
        self.decided[decided.decision.activity_id] = decided.decision
        for slot in decided.slots:
            self.quotas[slot.school_id].apply(slot)
        return decided.decision


def semester() -> Semester:
    return Semester()


def urgent(**overrides) -> ActivityRequested:
    return requested(Route.URGENT, in_window=False, **{**URGENT, **overrides})


def test_s3_bureau_certifies_a_regular_in_window_application_in_the_round():
    decided = semester().in_round(requested())
    assert isinstance(decided.decision, ActivityCertified) and decided.decision.in_round
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
    assert semester().in_round(request).decision.refusal_code is RefusalCode.COMMERCIAL_OR_FEE
    request = urgent(budget={"amount_yuan": 0, "free_of_charge": True, "commercial_content": True})
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
        if route is Route.URGENT:
            s.apply(s.certify(urgent(schools=[school])))
        else:
            s.apply(s.in_round(requested(schools=[school])))
    return s


def test_s3_certification_at_schools_that_are_all_full_is_refused_with_quota_exceeded():
    s = fill(SCHOOLS[0], CAP)
    decided = s.certify(urgent(schools=[SCHOOLS[0]]))
    assert decided.decision.refusal_code is RefusalCode.QUOTA_EXCEEDED and decided.decision.automatic
    assert SCHOOLS[0] in decided.decision.reason
    assert decided.slots == ()  # a refusal takes no slot anywhere


def test_s3_one_full_school_does_not_refuse_an_application_for_the_others():
    """Issue 8, finding 6: certified per school, partially, the refused school and why recorded."""
    s = fill(SCHOOLS[0], CAP)
    decided = s.in_round(requested(schools=[SCHOOLS[0], SCHOOLS[1], SCHOOLS[2]]))
    assert isinstance(decided.decision, ActivityCertified)
    assert decided.decision.listing.school_ids == tuple(sorted(SCHOOLS[1:3]))
    [refused] = decided.decision.refused_schools
    assert (refused.school_id, refused.refusal_code) == (SCHOOLS[0], RefusalCode.QUOTA_EXCEEDED)
    assert sorted(slot.school_id for slot in decided.slots) == sorted(SCHOOLS[1:3])


def test_s3_urgent_and_exempt_items_count_towards_the_cap():
    s = fill(SCHOOLS[0], CAP - 1, Route.URGENT)
    exempt = requested(Route.EXEMPT, schools=[SCHOOLS[0]],
                       exemption_claim={"category": "central_government_work", "reference": "中央部署文件"})
    s.apply(s.screen(exempt))
    assert s.quotas[SCHOOLS[0]].used == CAP
    assert s.in_round(requested(schools=[SCHOOLS[0]])).decision.refusal_code is RefusalCode.QUOTA_EXCEEDED


def test_s3_the_cap_is_per_school_so_another_school_still_has_room():
    s = fill(SCHOOLS[0], CAP)
    assert isinstance(s.certify(urgent(schools=[SCHOOLS[2]])).decision, ActivityCertified)


def test_s3_bureau_rejects_with_a_refusal_code_and_cannot_decide_twice():
    request, s = urgent(), semester()
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
    s.apply(s.in_round(requested(title="交通安全进校园")))
    s.apply(s.screen(requested(Route.EXEMPT, title="文明校园创建",
                               exemption_claim={"category": "city_creation", "reference": "x"})))
    s.apply(s.activity(requested(title="商业推广")).reject(RefusalCode.NOT_STUDENT_FOCUSED, "主体不是学生"))
    [published] = SemesterList("2026-autumn").publish(listings(s))
    assert (published.edition, published.part, published.parts, published.item_count) == (1, 1, 1, 2)
    assert [item.title for item in published.items] == ["交通安全进校园", "文明校园创建"]


def test_s3_republishing_an_unchanged_list_is_refused_and_an_urgent_addition_makes_edition_two():
    s = semester()
    s.apply(s.in_round(requested()))
    first = SemesterList("2026-autumn").publish(listings(s))
    after_first = SemesterList.from_events("2026-autumn", first)
    with pytest.raises(Refused):
        after_first.publish(listings(s))
    s.apply(s.certify(urgent()))
    assert [part.edition for part in after_first.publish(listings(s))] == [2]


def test_s3_a_large_list_is_published_in_parts_that_together_are_the_edition():
    """Issue 7: no event nears NATS's payload limit, however many items a district admits."""
    items = [semester().in_round(requested(title=f"活动{n}")).decision.listing for n in range(2 * LIST_PART_ITEMS + 1)]
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


def test_s3_a_regular_declaration_is_not_certified_on_its_own_but_in_the_round():
    """Issue 8, finding 5: 集中认定; a single certification is for urgent declarations only."""
    with pytest.raises(Refused) as caught:
        semester().certify(requested())
    assert caught.value.code == "INVALID_STATE" and "round" in caught.value.message


def test_s3_an_urgent_declaration_is_certified_only_when_the_bureau_confirms_the_urgency():
    """Issue 8, finding 4: the bureau confirms the urgency, and the certification records it."""
    s, request = semester(), urgent()
    with pytest.raises(Refused) as caught:
        s.certify(request, urgency_confirmed=False)
    assert (caught.value.code, caught.value.field) == ("INVALID_FIELD", "urgency_confirmed")
    decided = s.certify(request)
    assert decided.decision.urgency_confirmed and not decided.decision.in_round


def test_s3_the_listing_carries_every_column_of_attachment_3():
    request = requested(scope={"all_schools": True, "stages": ["primary"], "grades": ["四年级"]},
                        frequency="每年1-2次", occurrences=2, content="以案说法。")
    listing = semester().in_round(request).decision.listing
    assert (listing.content, listing.scope, listing.grades) == ("以案说法。", "全区小学", ("四年级",))
    assert (listing.delivery, listing.occurrences, listing.max_per_year, listing.max_per_semester) == (
        "entry", 2, 2, None)


def test_s3_the_scope_in_words_names_the_schools_and_the_sample():
    request = requested(scope={"school_ids": list(SCHOOLS[:2]), "sample_share": 0.3})
    listing = semester().in_round(request).decision.listing
    names = "、".join(DIRECTORY.get(school).name for school in SCHOOLS[:2])
    assert listing.scope == f"{names}（抽取30%）"
    everyone = requested(scope={"all_schools": True})
    assert semester().in_round(everyone).decision.listing.scope == "全区中小学校"


@pytest.mark.parametrize("delivery", ["school_run", "online"])
def test_s3_a_school_run_or_online_item_takes_no_slot_so_a_full_school_still_admits_it(delivery):
    """No outside entry, no slot: the lead unit supplies resources and the school runs it."""
    s = fill(SCHOOLS[0], CAP)
    decided = s.in_round(requested(schools=[SCHOOLS[0]], delivery=delivery))
    assert isinstance(decided.decision, ActivityCertified) and decided.slots == ()
    assert decided.decision.listing.delivery == delivery
