"""The alert a stored reminder turns into, and the subject it is delivered on. No I/O."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from jianfu.events.envelope import SYSTEM_ACTOR
from jianfu.events.recording import CommandContext
from jianfu.notifications.alerts import alert_subject, reminder_alert, subject_token
from jianfu.notifications.domain.escalation import decide_reminder

from tests.factories import DIRECTORY, POLICY
from tests.unit.test_notifications_ladder import escalation_of, violation

NOW = datetime(2026, 10, 21, 8, 30, tzinfo=UTC)


def stored_reminder(found, correlation_id: str = "corr-1"):
    escalation = escalation_of(found)
    reminder = decide_reminder(escalation, found, DIRECTORY, POLICY.escalation)
    context = CommandContext(SYSTEM_ACTOR, f"remind:{found.violation_id}", correlation_id, POLICY.version, NOW)
    return context.event(reminder, escalation.escalation_id)


def test_g2_reminder_alert_carries_what_the_unit_head_needs():
    found = violation(unit="dept-fire")
    event = stored_reminder(found)
    alert = reminder_alert(found, event)
    payload = json.loads(alert.model_dump_json())
    assert payload == {
        "alert_id": event.event_id, "escalation_id": event.aggregate_id, "stage": 1, "stage_name": "reminder",
        "violation_id": found.violation_id, "rule": "UnauthorizedCampusEntry", "clause": "S3",
        "issued_by": "supervision-office", "recipient": "unit_head", "responsible_org_id": "dept-fire",
        "school_id": found.school_id, "semester": "2026-autumn", "summary": event.data["summary"],
        "issued_at": "2026-10-21T08:30:00Z", "correlation_id": "corr-1",
    }


def test_alert_goes_to_the_responsible_units_own_subject():
    found = violation(unit="dept-fire")
    alert = reminder_alert(found, stored_reminder(found))
    assert alert_subject(alert) == f"jf.alert.dept-fire.reminder.{found.violation_id}"


def test_the_same_reminder_always_gives_the_same_alert():
    found = violation()
    event = stored_reminder(found)
    assert reminder_alert(found, event).model_dump_json() == reminder_alert(found, event).model_dump_json()


def test_a_value_that_is_not_a_subject_token_is_replaced_by_a_stable_hash():
    assert subject_token("v-0123abcd") == "v-0123abcd"
    hashed = subject_token("v.1 *>")
    assert hashed == subject_token("v.1 *>") and hashed.startswith("h-") and not set(hashed) & set(".*> ")
