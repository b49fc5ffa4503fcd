"""G2 stage 1 (提醒/整改通知): given an escalation's past events, when a violation arrives, then the
reminder it calls for (or none). Expected reminders are written out in full. No I/O."""

from __future__ import annotations

import pytest
from jianfu.events.organisations import Directory, Organisation, OrgKind
from jianfu.events.schemas.compliance import RULE_CLAUSE, Rule, ViolationDetected
from jianfu.events.schemas.escalation import ReminderIssued
from jianfu.notifications.domain.escalation import (
    Escalation,
    IssuerMissing,
    Stage,
    decide_reminder,
    escalation_id,
    reminder_issuer,
)

from tests.factories import DIRECTORY, POLICY

BUREAU, OFFICE = "edu-bureau", "supervision-office"
FIRE, HEALTH = "dept-fire", "dept-health"
SCHOOL = "school-changsheng-primary"
FIRE_ISSUE = "dept-fire:UnauthorizedCampusEntry"
# sha256("dept-fire|dept-fire:UnauthorizedCampusEntry")[:32]: the id names a stored aggregate, so it
# must never change between versions.
FIRE_ESCALATION = "esc-71f7eb3c444c48d1d31eaf5359d608c8"


def violation(unit: str = FIRE, number: int = 1, school: str | None = SCHOOL,
              summary: str = "区消防大队未经认定进校园。") -> ViolationDetected:
    return ViolationDetected(
        violation_id=f"v-{unit}-{number}", rule=Rule.UNAUTHORIZED_CAMPUS_ENTRY, clause="S3",
        responsible_org_id=unit, school_id=school, semester="2026-autumn",
        issue_key=f"{unit}:UnauthorizedCampusEntry", summary=summary, evidence={"report": f"report-{number}"},
    )


def reminded(found: ViolationDetected, issued_by: str = OFFICE) -> ReminderIssued:
    """A stage-1 reminder as the log holds it (a given event, not one decided here)."""
    return ReminderIssued(violation_id=found.violation_id, issue_key=found.issue_key, stage=1,
                          responsible_org_id=found.responsible_org_id, issued_by_org_id=issued_by,
                          recipient="unit_head", summary="【整改通知】…")


def escalation_of(found: ViolationDetected, *history: ReminderIssued) -> Escalation:
    return Escalation.from_events(escalation_id(found.responsible_org_id, found.issue_key), history)


def remind(found: ViolationDetected, *history: ReminderIssued, directory: Directory = DIRECTORY):
    return decide_reminder(escalation_of(found, *history), found, directory, POLICY.escalation)


def test_g2_a_departments_first_violation_gets_a_rectification_notice_from_the_supervision_office():
    assert remind(violation()) == ReminderIssued(
        violation_id="v-dept-fire-1", issue_key=FIRE_ISSUE, stage=1, responsible_org_id=FIRE,
        issued_by_org_id=OFFICE, recipient="unit_head",
        summary="【整改通知】区消防大队未经认定进校园。请于10个工作日内整改并向大武口区委督查室报告整改情况（G2）。",
    )


def test_g2_a_schools_violation_is_reminded_by_the_education_bureau():
    # A school can be responsible too (e.g. a data request it passed on); the bureau reminds schools.
    reminder = remind(violation(unit=SCHOOL, summary="学校转发了未经认定的活动。"))
    assert (reminder.issued_by_org_id, reminder.responsible_org_id, reminder.recipient) == (BUREAU, SCHOOL, "unit_head")
    assert reminder.summary == "【整改通知】学校转发了未经认定的活动。请于10个工作日内整改并向大武口区教育体育局报告整改情况（G2）。"


@pytest.mark.parametrize("unit", [FIRE, HEALTH, "street-chaoyang", "youth-league", "hr-bureau"])
def test_g2_any_other_units_violation_is_reminded_by_the_supervision_office(unit):
    assert remind(violation(unit=unit)).issued_by_org_id == OFFICE


def test_g2_a_unit_missing_from_the_directory_is_still_reminded_by_the_supervision_office():
    assert reminder_issuer("dept-not-yet-listed", DIRECTORY).org_id == OFFICE


def test_g2_s3_an_outside_units_violation_is_routed_to_the_education_bureau():
    """S3: the bureau admits units to campus, so it acts on what a unit outside the directory did."""
    reminder = remind(violation(unit="unregistered unit: 某某教育培训有限公司"))
    assert (reminder.issued_by_org_id, reminder.responsible_org_id) == (BUREAU, "unregistered unit: 某某教育培训有限公司")


def test_g2_a_violation_already_reminded_gets_no_second_reminder():
    found = violation()
    assert remind(found, reminded(found)) is None


def test_g2_every_violation_of_an_issue_is_reminded_on_the_same_escalation():
    # Stage 2 (warning for a repeat within 12 months) will take over here; until then nobody goes unreminded.
    first, second = violation(number=1), violation(number=2)
    assert escalation_id(FIRE, first.issue_key) == escalation_id(FIRE, second.issue_key) == FIRE_ESCALATION
    reminder = remind(second, reminded(first))
    assert (reminder.violation_id, reminder.issue_key, reminder.stage) == ("v-dept-fire-2", FIRE_ISSUE, 1)


def test_g2_escalation_ids_are_fixed_per_unit_and_issue():
    assert escalation_id(FIRE, FIRE_ISSUE) == FIRE_ESCALATION
    others = {
        escalation_id(FIRE, f"{FIRE}:CampusEntryQuotaExceeded"),
        escalation_id(HEALTH, FIRE_ISSUE),
        escalation_id(HEALTH, f"{HEALTH}:UnauthorizedCampusEntry"),
    }
    assert len(others) == 3 and FIRE_ESCALATION not in others


@pytest.mark.parametrize("issue_key", ["dept-fire:UnauthorizedCampusEntry", "a.b c*>", "中文 问题"])
def test_escalation_id_is_a_single_subject_token(issue_key):
    token = escalation_id(FIRE, issue_key)
    assert token.startswith("esc-") and len(token) == 36 and not set(token) & set(".*> ")


def test_a_violation_of_another_unit_or_issue_is_not_decided_on_this_escalation():
    fire = violation(unit=FIRE)
    with pytest.raises(ValueError):
        decide_reminder(escalation_of(fire), violation(unit=HEALTH), DIRECTORY, POLICY.escalation)


def test_g2_the_ladder_state_is_built_from_its_events():
    first, second = violation(number=1), violation(number=2)
    escalation = Escalation.from_events(FIRE_ESCALATION, [reminded(first), reminded(second)])
    assert (escalation.stage, escalation.violation_count) == (Stage.REMINDER, 2)
    assert escalation.reminded("v-dept-fire-1") and escalation.reminded("v-dept-fire-2")
    assert not escalation.reminded("v-dept-fire-3")
    assert (escalation.responsible_org_id, escalation.issue_key) == (FIRE, FIRE_ISSUE)
    assert Escalation.from_events("esc-empty", []).stage == 0


def test_a_directory_without_the_issuing_office_is_a_configuration_error():
    only_bureau = Directory(district="test", organisations=[
        Organisation(org_id=BUREAU, kind=OrgKind.EDUCATION_BUREAU, name="区教体局"),
        Organisation(org_id=FIRE, kind=OrgKind.DEPARTMENT, name="区消防大队"),
    ])
    with pytest.raises(IssuerMissing):
        remind(violation(), directory=only_bureau)


@pytest.mark.parametrize("rule", [r for r in Rule if RULE_CLAUSE[r] in ("S1", "S2")])
def test_g2_every_s1_and_s2_violation_gets_its_first_stage_reminder_from_the_supervision_office(rule):
    """Issue 9: the ladder is the same for every clause; a unit's S1 or S2 violation is reminded
    by the supervision office, once."""
    found = violation(unit=HEALTH).model_copy(update={
        "rule": rule, "clause": RULE_CLAUSE[rule], "issue_key": f"{HEALTH}:{rule.value}"})
    reminder = remind(found)
    assert (reminder.issued_by_org_id, reminder.responsible_org_id, reminder.stage) == (OFFICE, HEALTH, 1)
    assert remind(found, reminded(found)) is None
