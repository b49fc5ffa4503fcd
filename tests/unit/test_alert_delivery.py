"""G2 alert delivery, the pure rules (services/notifications/domain/delivery.py): the webhook
signature, the retry schedule, which channels an organisation has, what the record says."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from jianfu.events.organisations import Channels, Organisation, OrgKind
from jianfu.events.schemas.escalation import AlertDelivered, AlertDeliveryFailed, DeliveryChannel
from jianfu.notifications.domain.delivery import (
    DeliveryRecord,
    RetrySchedule,
    alert_org,
    channels_of,
    delivered_command_id,
    failed_command_id,
    signature,
    signature_matches,
)

NOW = datetime(2026, 11, 2, 8, tzinfo=UTC)


def org(**channels) -> Organisation:
    return Organisation(org_id="dept-health", kind=OrgKind("department"), name="区卫健局", channels=Channels(**channels))


def test_g2_the_signature_is_the_hex_hmac_sha256_of_the_exact_body():
    body = '{"summary":"【整改通知】区卫健局"}'.encode()
    expected = hmac.new(b"k3y", body, hashlib.sha256).hexdigest()
    assert signature(body, b"k3y") == f"sha256={expected}"
    assert signature_matches(body, b"k3y", f"sha256={expected}")
    assert not signature_matches(body + b" ", b"k3y", f"sha256={expected}")  # a changed body
    assert not signature_matches(body, b"other", f"sha256={expected}")  # another key


def test_g2_the_retry_schedule_doubles_up_to_its_cap_and_ends_after_max_attempts():
    schedule = RetrySchedule(max_attempts=5, first_delay=1.0, factor=2.0, max_delay=5.0)
    assert [schedule.delay_after(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
    assert not schedule.is_last(4)
    assert schedule.is_last(5)


@pytest.mark.parametrize("bad", [dict(max_attempts=0), dict(first_delay=-1), dict(factor=0.5)])
def test_g2_a_retry_schedule_that_never_tries_or_shrinks_is_refused(bad):
    with pytest.raises(ValueError):
        RetrySchedule(**bad)


def test_g2_channels_an_organisation_has():
    assert channels_of(None) == (DeliveryChannel.NATS,)  # unknown: its subject only
    assert channels_of(org()) == (DeliveryChannel.NATS,)
    assert channels_of(org(webhook_url="https://x.example/hook")) == (DeliveryChannel.NATS,)  # no key: not sent
    both = org(webhook_url="https://x.example/hook", webhook_secret_env="HEALTH_KEY", emails=("a@x.example",))
    assert channels_of(both) == (DeliveryChannel.NATS, DeliveryChannel.WEBHOOK, DeliveryChannel.EMAIL)
    assert channels_of(org(emails=("a@x.example",))) == (DeliveryChannel.NATS, DeliveryChannel.EMAIL)


@pytest.mark.parametrize("subject, expected", [
    ("jf.alert.dept-health.reminder.v-1", "dept-health"),
    ("jf.alert.dept-health.secondment_ending.n-1", "dept-health"),
    ("jf.alert.dept-health", None),
    ("jf.ev.violation.v-1", None),
])
def test_g2_the_organisation_of_an_alert_is_its_subjects_second_token(subject, expected):
    assert alert_org(subject) == expected


def failed(attempt: int, final: bool = False) -> AlertDeliveryFailed:
    return AlertDeliveryFailed(alert_id="a-1", org_id="dept-health", channel=DeliveryChannel.WEBHOOK,
                               target="x.example", attempt=attempt, error="HTTP 500", final=final, failed_at=NOW)


def test_g2_the_record_numbers_attempts_on_and_settles_on_delivery_or_final_failure():
    record = DeliveryRecord.of("a-1", [failed(1), failed(2)])
    webhook = record.channel(DeliveryChannel.WEBHOOK)
    assert webhook.next_attempt == 3 and not webhook.settled
    assert not record.channel(DeliveryChannel.EMAIL).settled  # channels are independent
    record.apply(AlertDelivered(alert_id="a-1", org_id="dept-health", channel=DeliveryChannel.WEBHOOK,
                                target="x.example", attempts=3, delivered_at=NOW))
    assert webhook.settled and webhook.delivered.attempts == 3
    gave_up = DeliveryRecord.of("a-1", [failed(1), failed(2, final=True)]).channel(DeliveryChannel.WEBHOOK)
    assert gave_up.gave_up and gave_up.settled and gave_up.delivered is None


def test_g2_idempotency_keys_name_alert_channel_and_attempt():
    assert delivered_command_id("a-1", DeliveryChannel.EMAIL) == "deliver:a-1:email"
    assert failed_command_id("a-1", DeliveryChannel.WEBHOOK, 2) == "deliver:a-1:webhook:2"
    assert failed_command_id("a-1", DeliveryChannel.WEBHOOK, 2) != failed_command_id("a-1", DeliveryChannel.WEBHOOK, 3)
