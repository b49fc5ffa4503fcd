"""G2 stage 1 (提醒/整改通知): given an escalation's past events, when a violation arrives, then the
reminder it calls for (or none). No I/O."""

from __future__ import annotations

import pytest
from jianfu.events.organisations import Directory, Organisation, OrgKind
from jianfu.events.schemas.compliance import Rule, ViolationDetected, violation_id
from jianfu.events.schemas.escalation import ReminderIssued
from jianfu.notifications.domain.escalation import (
    UNIT_HEAD,
    Escalation,
    IssuerMissing,
    Stage,
    decide_reminder,
    escalation_id,
    reminder_issuer,
)

from tests.factories import DIRECTORY, POLICY, SCHOOLS

BUREAU, OFFICE = "edu-bureau", "supervision-office"
FIRE, HEALTH = "dept-fire", "dept-health"
SCHOOL = SCHOOLS[0]
STREET = DIRECTORY.of_kind(OrgKind.STREET_OFFICE)[0].org_id
MASS_ORG = DIRECTORY.of_kind(OrgKind.MASS_ORG)[0].org_id


def violation(unit: str = FIRE, rule: Rule = Rule.UNAUTHORIZED_CAMPUS_ENTRY, evidence: str = "report-1",
              school: str | None = SCHOOL) -> ViolationDetected:
    return ViolationDetected(
        violation_id=violation_id(rule, unit, evidence), rule=rule, clause="S3", responsible_org_id=unit,
        school_id=school, semester="2026-autumn", issue_key=f"{unit}:{rule.value}",
        summary=f"{unit}未经认定进校园。", evidence={"report": evidence},
    )


def escalation_of(found: ViolationDetected, *history: ReminderIssued) -> Escalation:
    return Escalation.from_events(escalation_id(found.responsible_org_id, found.issue_key), history)


def remind(found: ViolationDetected, *history: ReminderIssued, directory: Directory = DIRECTORY):
    return decide_reminder(escalation_of(found, *history), found, directory, POLICY.escalation)


def test_g2_a_schools_violation_is_reminded_by_the_education_bureau():
    # A school can be responsible too (e.g. a data request it passed on); the bureau reminds schools.
    reminder = remind(violation(unit=SCHOOL, school=SCHOOL))
    assert reminder.issued_by_org_id == BUREAU


@pytest.mark.parametrize("unit", [FIRE, HEALTH, STREET, MASS_ORG, "hr-bureau"])
def test_g2_any_other_units_violation_is_reminded_by_the_supervision_office(unit):
    assert remind(violation(unit=unit)).issued_by_org_id == OFFICE


def test_g2_a_unit_missing_from_the_directory_is_still_reminded_by_the_supervision_office():
    assert reminder_issuer("dept-not-yet-listed", DIRECTORY).org_id == OFFICE


def test_g2_stage_1_reminder_goes_to_the_units_head_with_the_rectification_deadline():
    found = violation()
    reminder = remind(found)
    assert (reminder.stage, reminder.recipient) == (Stage.REMINDER, UNIT_HEAD)
    assert (reminder.violation_id, reminder.issue_key, reminder.responsible_org_id) == (
        found.violation_id, found.issue_key, FIRE)
    assert found.summary in reminder.summary
    assert f"{POLICY.escalation.rectification_working_days}个工作日内整改" in reminder.summary


def test_g2_a_violation_already_reminded_gets_no_second_reminder():
    found = violation()
    first = remind(found)
    assert remind(found, first) is None


def test_g2_each_new_violation_of_the_issue_is_reminded_on_the_same_escalation():
    # Stage 2 (warning for a repeat within 12 months) will take over here; until then nobody goes unreminded.
    first, second = violation(evidence="report-1"), violation(evidence="report-2")
    assert escalation_id(FIRE, first.issue_key) == escalation_id(FIRE, second.issue_key)
    reminder = remind(second, remind(first))
    assert reminder is not None and reminder.violation_id == second.violation_id


def test_g2_escalations_are_separate_per_unit_and_issue():
    ids = {
        escalation_id(FIRE, f"{FIRE}:UnauthorizedCampusEntry"),
        escalation_id(FIRE, f"{FIRE}:CampusEntryQuotaExceeded"),
        escalation_id(HEALTH, f"{FIRE}:UnauthorizedCampusEntry"),
        escalation_id(HEALTH, f"{HEALTH}:UnauthorizedCampusEntry"),
    }
    assert len(ids) == 4
    assert escalation_id(FIRE, "k") == escalation_id(FIRE, "k")


@pytest.mark.parametrize("issue_key", ["dept-fire:UnauthorizedCampusEntry", "a.b c*>", "中文 问题"])
def test_escalation_id_is_a_single_subject_token(issue_key):
    token = escalation_id(FIRE, issue_key)
    assert token.startswith("esc-") and not set(token) & set(".*> ")


def test_a_violation_of_another_unit_or_issue_is_not_decided_on_this_escalation():
    fire = violation(unit=FIRE)
    with pytest.raises(ValueError):
        decide_reminder(escalation_of(fire), violation(unit=HEALTH), DIRECTORY, POLICY.escalation)


def test_the_ladder_state_is_built_from_its_events():
    first, second = violation(evidence="1"), violation(evidence="2")
    r1 = remind(first)
    r2 = remind(second, r1)
    escalation = escalation_of(first, r1, r2)
    assert escalation.stage == Stage.REMINDER and escalation.violation_count == 2
    assert escalation.reminded(first.violation_id) and escalation.reminded(second.violation_id)
    assert (escalation.responsible_org_id, escalation.issue_key) == (FIRE, first.issue_key)
    assert Escalation.from_events("esc-empty", []).stage == 0


def test_a_directory_without_the_issuing_office_is_a_configuration_error():
    only_bureau = Directory(district="test", organisations=[
        Organisation(org_id=BUREAU, kind=OrgKind.EDUCATION_BUREAU, name="区教体局"),
        Organisation(org_id=FIRE, kind=OrgKind.DEPARTMENT, name="区消防大队"),
    ])
    with pytest.raises(IssuerMissing):
        remind(violation(), directory=only_bureau)
