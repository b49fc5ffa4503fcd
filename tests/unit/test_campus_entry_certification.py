"""S3 certification by the education bureau: hard-rule refusals, the per-school cap, the list."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from jianfu.approvals.domain.campus_entry_semester import (
    CampusEntrySemester,
    hard_refusal,
)
from jianfu.events.errors import RefusalCode, Refused
from jianfu.events.schemas.campus_entry import (
    ActivityCertified,
    ActivityExemptionRecorded,
    ActivityRejected,
    ActivityRequested,
    Route,
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


def semester(*events) -> CampusEntrySemester:
    return CampusEntrySemester.from_events("2026-autumn", POLICY.campus_entry, events)


def test_s3_bureau_certifies_a_regular_in_window_application():
    decision = semester().certify(requested(), DIRECTORY)
    assert isinstance(decision, ActivityCertified)
    assert decision.listing.organizer_name == "区公安分局"


def test_s3_out_of_window_regular_application_is_refused_automatically_on_screening():
    decision = semester().screen(requested(in_window=False), DIRECTORY)
    assert isinstance(decision, ActivityRejected)
    assert (decision.refusal_code, decision.automatic) == (RefusalCode.OUTSIDE_WINDOW_NO_URGENCY, True)


def test_s3_urgent_application_outside_the_window_is_not_refused_for_timing():
    assert semester().screen(requested(Route.URGENT, in_window=False), DIRECTORY) is None


@pytest.mark.parametrize("budget", [
    {"amount_yuan": 0, "free_of_charge": False, "commercial_content": False},
    {"amount_yuan": 5000, "free_of_charge": True, "commercial_content": True},
])
def test_s3_fee_or_commercial_content_is_refused_automatically(budget):
    decision = semester().screen(requested(budget=budget), DIRECTORY)
    assert decision.refusal_code is RefusalCode.COMMERCIAL_OR_FEE and decision.automatic


def test_s3_commercial_content_is_refused_even_when_the_bureau_tries_to_certify():
    request = requested(budget={"amount_yuan": 0, "free_of_charge": True, "commercial_content": True})
    assert semester().certify(request, DIRECTORY).refusal_code is RefusalCode.COMMERCIAL_OR_FEE


def test_s3_exempt_activity_is_recorded_without_certification():
    request = requested(Route.EXEMPT, exemption_claim={"category": "city_creation", "reference": "创城方案"})
    decision = semester().screen(request, DIRECTORY)
    assert isinstance(decision, ActivityExemptionRecorded)
    with pytest.raises(Refused):
        semester(decision).certify(request, DIRECTORY)


def test_s3_pending_regular_application_waits_for_the_bureau():
    assert semester().screen(requested(), DIRECTORY) is None


def fill(school: str, count: int, route: Route = Route.REGULAR) -> CampusEntrySemester:
    aggregate = semester()
    for _ in range(count):
        aggregate.apply(aggregate.certify(requested(route, schools=[school]), DIRECTORY))
    return aggregate


def test_s3_certification_beyond_the_per_school_cap_is_refused_with_quota_exceeded():
    aggregate = fill(SCHOOLS[0], CAP)
    decision = aggregate.certify(requested(schools=[SCHOOLS[0], SCHOOLS[1]]), DIRECTORY)
    assert decision.refusal_code is RefusalCode.QUOTA_EXCEEDED and decision.automatic
    assert SCHOOLS[0] in decision.reason and SCHOOLS[1] not in decision.reason


def test_s3_urgent_and_exempt_items_count_towards_the_cap():
    aggregate = fill(SCHOOLS[0], CAP - 1, Route.URGENT)
    exempt = requested(Route.EXEMPT, schools=[SCHOOLS[0]],
                       exemption_claim={"category": "regional_catalogue", "reference": "自治区目录"})
    aggregate.apply(aggregate.screen(exempt, DIRECTORY))
    assert aggregate.items_at(SCHOOLS[0]) == CAP
    assert aggregate.certify(requested(schools=[SCHOOLS[0]]), DIRECTORY).refusal_code is RefusalCode.QUOTA_EXCEEDED


def test_s3_the_cap_is_per_school_so_another_school_still_has_room():
    aggregate = fill(SCHOOLS[0], CAP)
    assert isinstance(aggregate.certify(requested(schools=[SCHOOLS[2]]), DIRECTORY), ActivityCertified)


def test_s3_bureau_rejects_with_a_refusal_code_and_cannot_decide_twice():
    request = requested()
    rejected = semester().reject(request, RefusalCode.ALREADY_IN_CURRICULUM, "已纳入综合实践活动")
    assert rejected.refusal_code is RefusalCode.ALREADY_IN_CURRICULUM and not rejected.automatic
    with pytest.raises(Refused) as caught:
        semester(rejected).certify(request, DIRECTORY)
    assert caught.value.code == "INVALID_STATE"


def test_s3_decision_for_another_semester_is_refused():
    with pytest.raises(Refused):
        semester().certify(requested(target_semester="2027-spring", start_date="2027-03-01", end_date="2027-04-01"), DIRECTORY)


def test_s3_published_list_holds_certified_and_exempt_items_but_not_rejected_ones():
    certified = semester().certify(requested(title="交通安全进校园"), DIRECTORY)
    exempt = semester().screen(requested(Route.EXEMPT, title="文明校园创建",
                                         exemption_claim={"category": "city_creation", "reference": "x"}), DIRECTORY)
    rejected = semester().reject(requested(title="商业推广"), RefusalCode.NOT_STUDENT_FOCUSED, "主体不是学生")
    published = semester(certified, exempt, rejected).publish()
    assert published.edition == 1
    assert [item.title for item in published.items] == ["交通安全进校园", "文明校园创建"]


def test_s3_republishing_an_unchanged_list_is_refused_and_an_urgent_addition_makes_edition_two():
    first = semester().certify(requested(), DIRECTORY)
    aggregate = semester(first)
    aggregate.apply(aggregate.publish())
    with pytest.raises(Refused):
        aggregate.publish()
    aggregate.apply(aggregate.certify(requested(Route.URGENT, in_window=False), DIRECTORY))
    assert aggregate.publish().edition == 2


def test_s3_hard_refusal_is_none_for_a_clean_regular_application():
    assert hard_refusal(requested()) is None
