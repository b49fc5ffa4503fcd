"""S7 secondment decisions on the approvals side, as pure domain rules: the education bureau
consents, the approver the policy names approves and files, either refuses at its own stage, and
a run of renewals with one unit longer than half a year is refused by rule (DOMAIN.md S7)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from jianfu.approvals.app import interface
from jianfu.approvals.domain.secondment import TeacherSecondments
from jianfu.events.dependencies import Deps
from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.organisations import OrgKind
from jianfu.events.policy import Policy
from jianfu.events.schemas.secondments import (
    SecondmentApproved,
    SecondmentConsented,
    SecondmentRefusalCode,
    SecondmentRefused,
    SecondmentRequested,
    SecondmentStage,
)
from jianfu.events.settings import REFERENCE, FixedClock, Settings

from tests.factories import DIRECTORY, POLICY

TEACHER, SCHOOL = "t-0001", "school-dwk-primary-1"
BUREAU, HR, PUBLICITY, STREET = (DIRECTORY.get(key) for key in (
    "edu-bureau", "hr-bureau", "dept-publicity", "street-chaoyang"))
LEADING = DIRECTORY.get("leading-group-office")
RULES = POLICY.secondment
START = date(2027, 3, 1)


def requested(starts_on: date = START, days: int = 90, unit: str = PUBLICITY.org_id) -> SecondmentRequested:
    ends_on = starts_on + timedelta(days=days - 1)
    return SecondmentRequested(secondment_id=uuid.uuid4(), teacher_id=TEACHER, school_id=SCHOOL,
                               borrowing_org_id=unit, task="全区文明城市创建迎检材料整理", starts_on=starts_on,
                               ends_on=ends_on, days=days, requested_on=starts_on - timedelta(days=20))


def teacher(*events) -> TeacherSecondments:
    return TeacherSecondments.from_events(TEACHER, events)


def after(request: SecondmentRequested, gap_days: int = 0, days: int = 90, unit: str = PUBLICITY.org_id):
    """A renewal starting ``gap_days`` days after ``request`` ended (0: the next day)."""
    return requested(request.ends_on + timedelta(days=gap_days + 1), days, unit)


def consented(*events) -> list:
    """The events with the bureau's consent to the last request appended."""
    return [*events, teacher(*events).consent(events[-1].secondment_id, BUREAU, RULES)]


def test_s7_the_bureau_consents_then_the_hr_bureau_approves():
    request = requested(days=183)
    consent = teacher(request).consent(request.secondment_id, BUREAU, RULES, note="同意")
    assert isinstance(consent, SecondmentConsented)
    assert (consent.consented_by_org_id, consent.continuous_days, consent.note) == (BUREAU.org_id, 183, "同意")
    approval = teacher(request, consent).approve(request.secondment_id, HR, RULES)
    assert isinstance(approval, SecondmentApproved)
    assert (approval.approved_by_org_id, approval.continuous_days) == (HR.org_id, 183)


def test_s7_a_seven_month_secondment_is_refused_over_half_a_year_at_consent():
    request = requested(days=212)  # 1 March to 28 September: seven months
    refusal = teacher(request).consent(request.secondment_id, BUREAU, RULES)
    assert isinstance(refusal, SecondmentRefused)
    assert (refusal.refusal_code, refusal.automatic, refusal.continuous_days, refusal.stage) == (
        SecondmentRefusalCode.OVER_HALF_YEAR, True, 212, SecondmentStage.CONSENT)


def test_s7_183_days_followed_at_once_by_90_with_the_same_unit_is_refused():
    first = requested(days=183)
    renewal = after(first)
    events = consented(first)
    refusal = teacher(*events, renewal).consent(renewal.secondment_id, BUREAU, RULES)
    assert isinstance(refusal, SecondmentRefused) and refusal.refusal_code is SecondmentRefusalCode.OVER_HALF_YEAR
    assert refusal.continuous_days == 273


def test_s7_183_days_followed_at_once_by_90_with_another_unit_is_not_refused():
    first = requested(days=183)
    elsewhere = after(first, unit=STREET.org_id)
    consent = teacher(*consented(first), elsewhere).consent(elsewhere.secondment_id, BUREAU, RULES)
    assert isinstance(consent, SecondmentConsented) and consent.continuous_days == 90


@pytest.mark.parametrize(("gap_days", "joined"), [(0, True), (29, True), (30, False), (45, False)])
def test_s7_a_gap_of_fewer_than_30_days_joins_the_renewal_30_does_not(gap_days, joined):
    first = requested(days=120)
    renewal = after(first, gap_days=gap_days, days=90)
    decision = teacher(*consented(first), renewal).consent(renewal.secondment_id, BUREAU, RULES)
    if joined:
        assert isinstance(decision, SecondmentRefused)
        assert decision.continuous_days == 120 + gap_days + 90  # the gap inside a run counts
    else:
        assert isinstance(decision, SecondmentConsented) and decision.continuous_days == 90


def test_s7_a_refused_secondment_does_not_count_toward_a_renewal():
    first = requested(days=183)
    refusal = teacher(first).refuse(first.secondment_id, BUREAU, RULES, SecondmentRefusalCode.AFFECTS_TEACHING,
                                    "毕业班教学任务重")
    renewal = after(first)
    decision = teacher(first, refusal, renewal).consent(renewal.secondment_id, BUREAU, RULES)
    assert isinstance(decision, SecondmentConsented) and decision.continuous_days == 90


def test_s7_the_run_is_judged_again_at_approval_with_earlier_periods_requested_since_the_consent():
    later = requested(START + timedelta(days=150), days=60)
    events = consented(later)
    earlier = requested(START, days=150)  # requested after the consent, ending the day before
    refusal = teacher(*events, earlier).approve(later.secondment_id, HR, RULES)
    assert isinstance(refusal, SecondmentRefused)
    assert (refusal.stage, refusal.refused_by_org_id, refusal.continuous_days, refusal.automatic) == (
        SecondmentStage.APPROVAL, HR.org_id, 210, True)


def test_s7_consent_is_needed_before_approval():
    request = requested()
    with pytest.raises(Refused) as refused:
        teacher(request).approve(request.secondment_id, HR, RULES)
    assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID_STATE, "secondment_id")


def test_s7_only_the_named_approver_approves_and_only_the_bureau_consents():
    request = requested()
    events = consented(request)
    for unit in (BUREAU, PUBLICITY, LEADING):
        with pytest.raises(Refused) as refused:
            teacher(*events).approve(request.secondment_id, unit, RULES)
        assert refused.value.code == ErrorCode.FORBIDDEN
    with pytest.raises(Refused) as refused:
        teacher(request).consent(request.secondment_id, HR, RULES)
    assert refused.value.code == ErrorCode.FORBIDDEN


def test_s7_a_policy_file_naming_another_approver_kind_is_obeyed(tmp_path):
    text = (REFERENCE / "policy.toml").read_text(encoding="utf-8")
    path = tmp_path / "policy.toml"
    path.write_text(text.replace('approver_kind = "hr_bureau"', 'approver_kind = "leading_group_office"'),
                    encoding="utf-8")
    rules = Policy.load(path).secondment
    assert rules.approver_kind is OrgKind.LEADING_GROUP_OFFICE
    request = requested()
    events = [request, teacher(request).consent(request.secondment_id, BUREAU, rules)]
    with pytest.raises(Refused) as refused:
        teacher(*events).approve(request.secondment_id, HR, rules)
    assert refused.value.code == ErrorCode.FORBIDDEN
    approval = teacher(*events).approve(request.secondment_id, LEADING, rules)
    assert isinstance(approval, SecondmentApproved) and approval.approved_by_org_id == LEADING.org_id
    refusal = teacher(*events).refuse(request.secondment_id, LEADING, rules, SecondmentRefusalCode.OTHER, "另行安排")
    assert refusal.stage is SecondmentStage.APPROVAL


def test_s7_consent_twice_or_after_a_refusal_is_invalid_state():
    request = requested()
    events = consented(request)
    with pytest.raises(Refused) as refused:
        teacher(*events).consent(request.secondment_id, BUREAU, RULES)
    assert refused.value.code == ErrorCode.INVALID_STATE
    other = requested(START + timedelta(days=200))
    refusal = teacher(other).refuse(other.secondment_id, BUREAU, RULES, SecondmentRefusalCode.OTHER, "另行安排")
    with pytest.raises(Refused) as refused:
        teacher(other, refusal).consent(other.secondment_id, BUREAU, RULES)
    assert refused.value.code == ErrorCode.INVALID_STATE


def test_s7_each_refuses_at_its_own_stage_only():
    request = requested()
    code, reason = SecondmentRefusalCode.NOT_A_MAJOR_TASK, "非重大决策部署任务"
    with pytest.raises(Refused) as refused:
        teacher(request).refuse(request.secondment_id, HR, RULES, code, reason)
    assert refused.value.code == ErrorCode.INVALID_STATE  # before consent, the bureau's stage
    events = consented(request)
    with pytest.raises(Refused) as refused:
        teacher(*events).refuse(request.secondment_id, BUREAU, RULES, code, reason)
    assert refused.value.code == ErrorCode.INVALID_STATE  # consented: the approver's stage
    refusal = teacher(*events).refuse(request.secondment_id, HR, RULES, code, reason)
    assert (refusal.stage, refusal.refused_by_org_id, refusal.automatic, refusal.continuous_days) == (
        SecondmentStage.APPROVAL, HR.org_id, False, None)
    approved = [*events, teacher(*events).approve(request.secondment_id, HR, RULES)]
    with pytest.raises(Refused) as refused:
        teacher(*approved).refuse(request.secondment_id, HR, RULES, code, reason)
    assert refused.value.code == ErrorCode.INVALID_STATE
    with pytest.raises(Refused) as refused:
        teacher(request).refuse(request.secondment_id, PUBLICITY, RULES, code, reason)
    assert refused.value.code == ErrorCode.FORBIDDEN


def test_s7_a_secondment_unknown_to_the_teacher_is_not_found():
    request = requested()
    for history, key in (([], request.secondment_id), ([request], uuid.uuid4())):
        with pytest.raises(Refused) as refused:
            teacher(*history).consent(key, BUREAU, RULES)
        assert (refused.value.code, refused.value.field) == (ErrorCode.NOT_FOUND, "secondment_id")


def test_s7_the_service_admits_the_approver_the_policy_file_names(tmp_path):
    """The approvals router lets through to approval the kind the policy names, and to refusal
    the bureau and that kind; the domain then decides by stage (above)."""
    text = (REFERENCE / "policy.toml").read_text(encoding="utf-8")
    path = tmp_path / "policy.toml"
    path.write_text(text.replace('approver_kind = "hr_bureau"', 'approver_kind = "leading_group_office"'),
                    encoding="utf-8")
    deps = Deps(None, DIRECTORY, Policy.load(path), FixedClock(START))
    [router] = interface(deps, Settings()).routers
    assert router.routes["ApproveSecondment"].allowed_kinds == {OrgKind.LEADING_GROUP_OFFICE}
    assert router.routes["RefuseSecondment"].allowed_kinds == {OrgKind.LEADING_GROUP_OFFICE, OrgKind.EDUCATION_BUREAU}
    assert router.routes["ConsentToSecondment"].allowed_kinds == {OrgKind.EDUCATION_BUREAU}


def test_s7_a_pending_renewal_does_not_count_against_the_period_it_would_continue():
    """A period is judged with the periods before it: the renewal requested while it waits for
    approval is refused on its own turn, and the period alone is approved."""
    first = requested(days=150)
    events = consented(first)
    renewal = after(first, days=60)
    approval = teacher(*events, renewal).approve(first.secondment_id, HR, RULES)
    assert isinstance(approval, SecondmentApproved) and approval.continuous_days == 150
    refusal = teacher(*events, renewal, approval).consent(renewal.secondment_id, BUREAU, RULES)
    assert isinstance(refusal, SecondmentRefused) and refusal.continuous_days == 210
