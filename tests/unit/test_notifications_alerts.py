"""G2: the alert a stored reminder turns into, and the subject it is delivered on. Given a
violation and the reminder the log holds, the expected alert is written out in full. No I/O."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from jianfu.events.envelope import SYSTEM_ACTOR
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.compliance import Rule, ViolationDetected
from jianfu.events.schemas.escalation import ReminderIssued
from jianfu.notifications.alerts import alert_subject, reminder_alert, subject_token

NOW = datetime(2026, 10, 21, 8, 30, tzinfo=UTC)
SCHOOL = "school-changsheng-primary"
NOTICE = "【整改通知】区消防大队未经认定进校园。请于10个工作日内整改并向大武口区委督查室报告整改情况（G2）。"


def violation(unit: str = "dept-fire", violation_id: str = "v-0123abcd") -> ViolationDetected:
    return ViolationDetected(
        violation_id=violation_id, rule=Rule.UNAUTHORIZED_CAMPUS_ENTRY, clause="S3", responsible_org_id=unit,
        school_id=SCHOOL, semester="2026-autumn", issue_key=f"{unit}:UnauthorizedCampusEntry",
        summary="区消防大队未经认定进校园。", evidence={"report": "report-1"},
    )


def stored_reminder(found: ViolationDetected, issued_by: str = "supervision-office", escalation: str = "esc-fire"):
    """The ReminderIssued envelope as the notifier stores it (a given event, not one decided here)."""
    reminder = ReminderIssued(violation_id=found.violation_id, issue_key=found.issue_key, stage=1,
                              responsible_org_id=found.responsible_org_id, issued_by_org_id=issued_by,
                              recipient="unit_head", summary=NOTICE)
    context = CommandContext(SYSTEM_ACTOR, f"remind:{found.violation_id}", "corr-1", "dawukou-2021.1", NOW)
    return context.event(reminder, escalation)


def test_g2_reminder_alert_carries_what_the_unit_head_needs():
    found = violation()
    event = stored_reminder(found)
    payload = json.loads(reminder_alert(found, event).model_dump_json())
    assert payload == {
        "alert_id": event.event_id, "escalation_id": "esc-fire", "stage": 1, "stage_name": "reminder",
        "violation_id": "v-0123abcd", "rule": "UnauthorizedCampusEntry", "clause": "S3",
        "issued_by": "supervision-office", "recipient": "unit_head", "responsible_org_id": "dept-fire",
        "school_id": SCHOOL, "semester": "2026-autumn", "summary": NOTICE,
        "issued_at": "2026-10-21T08:30:00Z", "correlation_id": "corr-1",
    }


def test_g2_alert_goes_to_the_responsible_units_own_subject():
    found = violation()
    alert = reminder_alert(found, stored_reminder(found))
    assert alert_subject(alert) == "jf.alert.dept-fire.reminder.v-0123abcd"


def test_g2_a_schools_reminder_is_alerted_as_issued_by_the_education_bureau_on_the_schools_subject():
    found = violation(unit=SCHOOL, violation_id="v-school-1")
    alert = reminder_alert(found, stored_reminder(found, issued_by="edu-bureau", escalation="esc-school"))
    assert (alert.issued_by, alert.responsible_org_id, alert.escalation_id) == ("edu-bureau", SCHOOL, "esc-school")
    assert alert_subject(alert) == f"jf.alert.{SCHOOL}.reminder.v-school-1"


def test_a_value_that_is_not_a_subject_token_is_replaced_by_a_stable_hash():
    assert subject_token("v-0123abcd") == "v-0123abcd"
    # "h-" + sha256("v.1 *>")[:32]: receivers may have subscribed to it, so it never changes.
    assert subject_token("v.1 *>") == "h-ec314b41ba787fe5ae79a9e0c62f6b3e"


def test_an_unsafe_violation_id_is_hashed_in_the_subject_but_kept_in_the_alert():
    found = violation(violation_id="v.1 *>")
    alert = reminder_alert(found, stored_reminder(found))
    assert alert.violation_id == "v.1 *>"
    assert alert_subject(alert) == "jf.alert.dept-fire.reminder.h-ec314b41ba787fe5ae79a9e0c62f6b3e"
