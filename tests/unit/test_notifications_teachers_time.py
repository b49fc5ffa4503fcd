"""S7–S10 through notifications, no I/O: every violation of teachers' time goes up the G2 ladder
like any other (schools reminded by the education bureau, other units by the supervision office),
and S7's notice before a secondment ends becomes an alert of its own kind to the borrowing unit,
naming the teacher by id only."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

import pytest
from jianfu.events.envelope import SYSTEM_ACTOR
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.compliance import RULE_CLAUSE, Rule, ViolationDetected
from jianfu.events.schemas.escalation import SecondmentEndingAlert
from jianfu.events.schemas.secondments import SecondmentEndingSoon
from jianfu.notifications.alerts import alert_subject, secondment_ending_alert
from jianfu.notifications.domain.escalation import Escalation, decide_reminder, escalation_id
from jianfu.notifications.domain.notices import days_left, notice_summary

from tests.factories import DIRECTORY, POLICY

NOW = datetime(2027, 5, 2, 0, 5, tzinfo=UTC)
SECONDMENT = uuid.UUID("7d0c8b4e-3f6a-5c1e-9b2d-0a1b2c3d4e5f")
TEACHER_NAME = "马晓梅"  # what the teacher is called, which no alert or reminder may carry


def violation(rule: Rule, unit: str, issue: str, school: str | None = None,
              teacher: str | None = None) -> ViolationDetected:
    return ViolationDetected(
        violation_id=f"v-{rule.value}-{unit}", rule=rule, clause=RULE_CLAUSE[rule], responsible_org_id=unit,
        school_id=school, semester="2027-spring", issue_key=f"{RULE_CLAUSE[rule]}:{unit}:{issue}",
        summary=f"{unit}：教师{teacher or ''}相关问题。", evidence={"fact": "f-1"}, teacher_id=teacher,
    )


def remind(found: ViolationDetected):
    escalation = Escalation(escalation_id(found.responsible_org_id, found.issue_key))
    return decide_reminder(escalation, found, DIRECTORY, POLICY.escalation)


@pytest.mark.parametrize(("rule", "unit", "issue", "school", "teacher", "issuer"), [
    (Rule.UNAPPROVED_SECONDMENT, "dept-publicity", "unapproved-secondment", "school-dwk-primary-1", "t-dwk-p1-007",
     "supervision-office"),
    (Rule.SECONDMENT_OVERDUE, "dept-health", "overdue", "school-dwk-middle-2", "t-dwk-m2-013", "supervision-office"),
    (Rule.UNPLANNED_TRAINING, "school-dwk-primary-2", "unplanned-training", "school-dwk-primary-2", None,
     "edu-bureau"),
    (Rule.UNPLANNED_TRAINING, "teaching-research-office", "unplanned-training", None, None, "supervision-office"),
    (Rule.NON_EDUCATION_TRAINING, "dept-fire", "non-education-training", None, None, "supervision-office"),
    (Rule.VIDEO_SUB_VENUE_REQUIRED, "edu-bureau", "sub-venue", None, None, "supervision-office"),
    (Rule.NON_EDUCATION_MEETING_FOR_TEACHERS, "dept-culture-tourism", "non-education-meeting", None, None,
     "supervision-office"),
    (Rule.MEETING_QUOTA_EXCEEDED, "street-changsheng", "meeting-quota", "school-changsheng-primary", "t-cs-p-001",
     "supervision-office"),
])
def test_s7_s8_s9_s10_each_violation_gets_one_stage_1_reminder_routed_like_any_other(
        rule, unit, issue, school, teacher, issuer):
    """G2 for S7–S10: schools by the education bureau, every other unit by the supervision office."""
    found = violation(rule, unit, issue, school, teacher)
    reminder = remind(found)
    assert (reminder.stage, reminder.issued_by_org_id, reminder.recipient) == (1, issuer, "unit_head")
    assert reminder.violation_id == found.violation_id and reminder.responsible_org_id == unit
    again = Escalation(escalation_id(unit, found.issue_key))
    again.apply(reminder)
    assert decide_reminder(again, found, DIRECTORY, POLICY.escalation) is None  # exactly once


def notice(**overrides) -> SecondmentEndingSoon:
    fields = {"notice_id": "n-4f2a9c", "teacher_id": "t-dwk-p1-007", "school_id": "school-dwk-primary-1",
              "borrowing_org_id": "dept-publicity", "secondment_id": SECONDMENT, "left_on": date(2027, 3, 1),
              "ends_on": date(2027, 6, 30), "noticed_on": date(2027, 5, 31)} | overrides
    return SecondmentEndingSoon(**fields)


def stored(found: SecondmentEndingSoon):
    """The notice as the compliance sweep appends it (a given event, not one decided here)."""
    context = CommandContext(SYSTEM_ACTOR, f"notice:{found.notice_id}", "corr-left", "dawukou-2021.1", NOW)
    return context.event(found, found.notice_id)


def test_s7_the_notice_becomes_an_alert_of_its_own_kind_to_the_borrowing_unit():
    event = stored(notice())
    alert = secondment_ending_alert(event, DIRECTORY)
    payload = json.loads(alert.model_dump_json())
    assert payload == {
        "alert_id": event.event_id, "kind": "secondment_ending", "clause": "S7", "notice_id": "n-4f2a9c",
        "borrowing_org_id": "dept-publicity", "teacher_id": "t-dwk-p1-007", "school_id": "school-dwk-primary-1",
        "secondment_id": str(SECONDMENT), "left_on": "2027-03-01", "ends_on": "2027-06-30",
        "noticed_on": "2027-05-31", "days_left": 30, "summary": payload["summary"],
        "issued_at": "2027-05-02T00:05:00Z", "correlation_id": "corr-left",
    }
    assert alert_subject(alert) == "jf.alert.dept-publicity.secondment_ending.n-4f2a9c"


def test_s7_the_notice_names_the_teacher_by_id_the_school_by_name_and_the_last_day_never_a_teachers_name():
    summary = notice_summary(notice(), DIRECTORY)
    assert "t-dwk-p1-007" in summary and "2027-06-30" in summary and "30天" in summary
    assert DIRECTORY.get("school-dwk-primary-1").name in summary
    assert TEACHER_NAME not in summary
    assert "name" not in SecondmentEndingAlert.model_fields  # no field could carry one


def test_s7_a_notice_about_a_school_the_directory_does_not_know_names_it_by_id():
    assert "school-gone" in notice_summary(notice(school_id="school-gone"), DIRECTORY)


def test_s7_days_left_count_from_the_day_that_gave_the_notice():
    assert days_left(notice(noticed_on=date(2027, 6, 10))) == 20


def test_s7_the_same_stored_notice_always_gives_the_same_alert():
    event = stored(notice())
    assert secondment_ending_alert(event, DIRECTORY) == secondment_ending_alert(event, DIRECTORY)


def test_s7_a_notice_or_unit_that_is_no_subject_token_is_hashed_in_the_subject_but_kept_in_the_alert():
    alert = secondment_ending_alert(stored(notice(notice_id="n.1 *>")), DIRECTORY)
    assert alert.notice_id == "n.1 *>"
    assert alert_subject(alert) == "jf.alert.dept-publicity.secondment_ending.h-" + alert_subject(alert)[-32:]
    assert "." not in alert_subject(alert).split("secondment_ending.")[1]


def test_s7_an_escalation_alert_still_has_its_own_subject_shape():
    """Backward compatible: EscalationAlert and its subjects are unchanged by the new kind."""
    from jianfu.notifications.alerts import reminder_alert

    from tests.unit.test_notifications_alerts import stored_reminder
    from tests.unit.test_notifications_alerts import violation as s3_violation
    found = s3_violation()
    assert alert_subject(reminder_alert(found, stored_reminder(found))) == "jf.alert.dept-fire.reminder.v-0123abcd"


def test_s7_the_borrowing_units_nats_user_may_read_its_notice_and_no_other_units():
    """deploy/nats.conf (libs/cli/accounts.py): each organisation reads its notices back through its
    own consumer filtered to jf.alert.<its org>.> (G2: only what the alerts stream stored), never
    another unit's, and subscribes to no alert subject."""
    from jianfu.cli.accounts import organisation_grant
    grant = organisation_grant("dept-publicity", "department")
    assert "$JS.API.CONSUMER.CREATE.JIANFU_ALERTS.dept-publicity.jf.alert.dept-publicity.>" in grant.publish
    assert not any("dept-health" in s or s.endswith("jf.alert.>") for s in (*grant.publish, *grant.subscribe))
    assert not any(s.startswith("jf.alert.") for s in grant.subscribe)


def test_s7_the_notifications_user_may_consume_the_notices_with_a_durable_of_its_own():
    from jianfu.cli.accounts import code_grants
    [notifications] = [g for g in code_grants(DIRECTORY) if g.user == "notifications"]
    assert "$JS.API.CONSUMER.MSG.NEXT.JIANFU_EVENTS.notifications-notices" in notifications.publish
    assert "jf.alert.>" in notifications.publish
