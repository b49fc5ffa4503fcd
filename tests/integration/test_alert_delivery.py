"""G2 alert delivery against a real nats-server, a real HTTP endpoint and a real SMTP server the
tests start: every stored alert reaches the webhook and the e-mail addresses the directory names,
each attempt recorded on ``alert_delivery.<alert_id>``; a redelivery, a restart or a replay of the
events sends nothing twice (services/notifications/delivery.py)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import socket
import time
import uuid
from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller
from jianfu.events import catalogue
from jianfu.events.dependencies import Deps
from jianfu.events.organisations import Channels, Directory, Organisation, OrgKind
from jianfu.events.provisioning import ALERT_STREAM
from jianfu.events.schemas.escalation import AlertDelivered, AlertDeliveryFailed, DeliveryChannel, EscalationAlert
from jianfu.events.settings import SystemClock
from jianfu.notifications.alerts import AlertChannel, alert_subject
from jianfu.notifications.delivery import (
    ALERT_DELIVERY,
    Alert,
    AlertFollower,
    ChannelDelivery,
    DeliverySettings,
    EmailSender,
    WebhookSender,
)
from jianfu.notifications.domain.delivery import RetrySchedule, signature_matches
from jianfu.notifications.handlers import on_violation

from tests.factories import DIRECTORY, POLICY
from tests.integration.test_notifications_ladder import detected

SUMMARY = "【整改通知】区测试局于2026-10-20在大武口区第一小学未经认定开展进校园活动，请于10个工作日内整改（G2）。"
FAST = RetrySchedule(max_attempts=3, first_delay=0.0, factor=2.0, max_delay=0.0)


class Endpoint:
    """A real HTTP server: answers each POST with the next status of ``script`` (the last one
    repeats) and keeps what it received."""

    def __init__(self, script: list[int]) -> None:
        self.script, self.received = list(script), []
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self.serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/hooks/jianfu"

    async def stop(self) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = {line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip() for line in head[1:] if ":" in line}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.received.append((headers, body))
        status = self.script[min(len(self.received) - 1, len(self.script) - 1)]
        writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        writer.close()


class Mailbox:
    """aiosmtpd's handler: every message the SMTP server accepted."""

    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(envelope)
        return "250 OK"


def unit_directory(unit: str, **channels) -> Directory:
    extra = Organisation(org_id=unit, kind=OrgKind.DEPARTMENT, name="区测试局", channels=Channels(**channels))
    return Directory(district=DIRECTORY.district, organisations=[*DIRECTORY.organisations, extra])


def an_alert(unit: str) -> EscalationAlert:
    violation = f"v-{uuid.uuid4().hex}"
    return EscalationAlert(
        alert_id=str(uuid.uuid4()), escalation_id=f"esc-{uuid.uuid4().hex}", stage=1, stage_name="reminder",
        violation_id=violation, rule="UnauthorizedCampusEntry", clause="S3", issued_by="supervision-office",
        recipient="unit_head", responsible_org_id=unit, school_id="school-dwk-primary-1", semester="2026-autumn",
        summary=SUMMARY, issued_at=datetime(2026, 10, 21, 8, 30, tzinfo=UTC), correlation_id=str(uuid.uuid4()))


async def outcomes(store, alert_id: str) -> list:
    history = await store.load(ALERT_DELIVERY, alert_id)
    return [catalogue.parse(e) for e in history.envelopes]


async def settled(store, alert_id: str, channel: DeliveryChannel, timeout: float = 15.0) -> list:
    """Wait until the record says the channel is delivered or given up; its outcomes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await outcomes(store, alert_id)
        if any(e.channel == channel and (isinstance(e, AlertDelivered) or e.final) for e in found):
            return found
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{alert_id} not settled on {channel}")


async def caught_up(js, durable: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = await js.consumer_info(ALERT_STREAM, durable)
        if info.num_pending == 0 and info.num_ack_pending == 0:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{durable} did not catch up")


@pytest.fixture
def key_env():
    name = f"JIANFU_TEST_HOOK_{uuid.uuid4().hex[:8].upper()}"
    os.environ[name] = "s3cret-钥匙"
    yield name
    del os.environ[name]


async def webhook_follower(js, store, directory: Directory, unit: str, durable: str | None = None) -> AlertFollower:
    delivery = ChannelDelivery(Deps(store, directory, POLICY, SystemClock()), DeliveryChannel.WEBHOOK,
                               WebhookSender(timeout=5.0), FAST)
    follower = AlertFollower(delivery, durable or f"t-webhook-{uuid.uuid4().hex[:8]}", f"jf.alert.{unit}.>")
    await follower.start(js)
    return follower


async def test_g2_a_webhook_failing_twice_then_succeeding_is_delivered_once_after_three_signed_attempts(
        js, store, key_env):
    unit = f"dept-w{uuid.uuid4().hex[:8]}"
    endpoint = Endpoint([500, 503, 200])
    directory = unit_directory(unit, webhook_url=await endpoint.start(), webhook_secret_env=key_env)
    alert = an_alert(unit)
    await AlertChannel(js).deliver(alert)
    stored = await js.get_last_msg(ALERT_STREAM, alert_subject(alert))
    follower = await webhook_follower(js, store, directory, unit)
    try:
        found = await settled(store, alert.alert_id, DeliveryChannel.WEBHOOK)
    finally:
        await follower.stop()
        await endpoint.stop()
    delivered = [e for e in found if isinstance(e, AlertDelivered)]
    failed = [e for e in found if isinstance(e, AlertDeliveryFailed)]
    assert len(delivered) == 1 and delivered[0].attempts == 3 and delivered[0].target.startswith("127.0.0.1:")
    assert [(f.attempt, f.final, f.error) for f in failed] == [(1, False, "HTTP 500"), (2, False, "HTTP 503")]
    assert len(endpoint.received) == 3
    for headers, body in endpoint.received:
        assert body == stored.data  # the alert JSON exactly as stored
        assert headers["x-jianfu-alert-id"] == alert.alert_id
        assert signature_matches(body, "s3cret-钥匙".encode(), headers["x-jianfu-signature"])
        assert not signature_matches(body, b"another key", headers["x-jianfu-signature"])


async def test_g2_a_webhook_that_always_fails_is_given_up_visibly_and_the_alert_is_not_lost(js, store, key_env):
    unit = f"dept-f{uuid.uuid4().hex[:8]}"
    endpoint = Endpoint([500])
    directory = unit_directory(unit, webhook_url=await endpoint.start(), webhook_secret_env=key_env)
    alert = an_alert(unit)
    await AlertChannel(js).deliver(alert)
    durable = f"t-webhook-{uuid.uuid4().hex[:8]}"
    follower = await webhook_follower(js, store, directory, unit, durable)
    try:
        found = await settled(store, alert.alert_id, DeliveryChannel.WEBHOOK)
        await caught_up(js, durable)
        restarted = await webhook_follower(js, store, directory, unit)  # a new consumer: replays every alert
        await caught_up(js, restarted.durable)
        await restarted.stop()
    finally:
        await follower.stop()
        await endpoint.stop()
    assert [(e.attempt, e.final) for e in found] == [(1, False), (2, False), (3, True)]
    assert not any(isinstance(e, AlertDelivered) for e in found)
    assert len(endpoint.received) == 3  # given up is settled: the restart sent nothing more
    assert await outcomes(store, alert.alert_id) == found
    kept = await js.get_last_msg(ALERT_STREAM, alert_subject(alert))  # nothing lost: still in the stream
    assert json.loads(kept.data)["alert_id"] == alert.alert_id


async def test_g2_a_restart_or_redelivery_sends_nothing_twice(js, store, key_env):
    unit = f"dept-r{uuid.uuid4().hex[:8]}"
    endpoint = Endpoint([200])
    directory = unit_directory(unit, webhook_url=await endpoint.start(), webhook_secret_env=key_env)
    alerts = [an_alert(unit), an_alert(unit)]
    for alert in alerts:
        await AlertChannel(js).deliver(alert)
    durable = f"t-webhook-{uuid.uuid4().hex[:8]}"
    try:
        first = await webhook_follower(js, store, directory, unit, durable)
        for alert in alerts:
            await settled(store, alert.alert_id, DeliveryChannel.WEBHOOK)
        await caught_up(js, durable)
        await first.stop()
        again = await webhook_follower(js, store, directory, unit, durable)  # the same durable, restarted
        fresh = await webhook_follower(js, store, directory, unit)  # a new one, from sequence 1
        await caught_up(js, fresh.durable)
        direct = await fresh.delivery.deliver(await _stored_alert(js, alerts[0]))  # a redelivery by hand
        await again.stop()
        await fresh.stop()
    finally:
        await endpoint.stop()
    assert direct == "already_delivered"
    assert sorted(h["x-jianfu-alert-id"] for h, _ in endpoint.received) == sorted(a.alert_id for a in alerts)
    for alert in alerts:
        assert [type(e).__name__ for e in await outcomes(store, alert.alert_id)] == ["AlertDelivered"]


async def _stored_alert(js, alert: EscalationAlert):
    msg = await js.get_last_msg(ALERT_STREAM, alert_subject(alert))
    return Alert.read(msg.subject, msg.data, msg.headers)


async def test_g2_a_replay_of_the_events_sends_nothing(js, store, key_env):
    """The ladder publishes a violation's alert once; a rebuild (the violation handled again, as a
    new consumer replaying the log from sequence 1 would) publishes no alert, so the delivery
    worker, which follows the alerts stream, has nothing to send."""
    unit = f"dept-p{uuid.uuid4().hex[:8]}"
    endpoint = Endpoint([200])
    directory = unit_directory(unit, webhook_url=await endpoint.start(), webhook_secret_env=key_env)
    deps = Deps(store, directory, POLICY, SystemClock())
    violation = await detected(store, unit)
    await on_violation(violation.envelope, violation.sequence, deps=deps, alerts=AlertChannel(js))
    durable = f"t-webhook-{uuid.uuid4().hex[:8]}"
    follower = await webhook_follower(js, store, directory, unit, durable)
    try:
        await caught_up(js, durable)
        sent = len(endpoint.received)
        for _ in range(2):  # the replay
            await on_violation(violation.envelope, violation.sequence, deps=deps, alerts=AlertChannel(js))
        await caught_up(js, durable)
    finally:
        await follower.stop()
        await endpoint.stop()
    assert sent == 1
    assert len(endpoint.received) == 1
    subjects = (await js.stream_info(ALERT_STREAM, subjects_filter=f"jf.alert.{unit}.>")).state.subjects or {}
    assert sum(subjects.values()) == 1  # nothing republished


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_g2_the_smtp_server_receives_the_chinese_summary_intact(js, store):
    unit = f"dept-m{uuid.uuid4().hex[:8]}"
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = DeliverySettings(smtp_host="127.0.0.1", smtp_port=port, smtp_from="jianfu@dwk.example")
        directory = unit_directory(unit, emails=("head@test.example", "office@test.example"))
        delivery = ChannelDelivery(Deps(store, directory, POLICY, SystemClock()), DeliveryChannel.EMAIL,
                                   EmailSender(settings), FAST)
        alert = an_alert(unit)
        await AlertChannel(js).deliver(alert)
        follower = AlertFollower(delivery, f"t-email-{uuid.uuid4().hex[:8]}", f"jf.alert.{unit}.>")
        await follower.start(js)
        try:
            found = await settled(store, alert.alert_id, DeliveryChannel.EMAIL)
            await caught_up(js, follower.durable)
        finally:
            await follower.stop()
    finally:
        controller.stop()
    assert len(mailbox.messages) == 1
    envelope = mailbox.messages[0]
    assert sorted(envelope.rcpt_tos) == ["head@test.example", "office@test.example"]
    message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert message["Subject"] == "【减负督办】区测试局：reminder"
    text = message.get_content()
    assert SUMMARY in text and alert.alert_id in text
    assert [(type(e).__name__, e.attempts, e.target) for e in found] == [
        ("AlertDelivered", 1, "head@test.example,office@test.example")]


async def test_g2_a_webhook_without_its_key_is_given_up_at_once_and_nothing_unsigned_is_sent(js, store):
    """The directory names a variable that is not set: retrying cannot help, so the one attempt is
    recorded as final (visible), and nothing goes out unsigned."""
    unit = f"dept-k{uuid.uuid4().hex[:8]}"
    endpoint = Endpoint([200])
    directory = unit_directory(unit, webhook_url=await endpoint.start(),
                               webhook_secret_env=f"JIANFU_UNSET_{uuid.uuid4().hex[:8].upper()}")
    alert = an_alert(unit)
    await AlertChannel(js).deliver(alert)
    follower = await webhook_follower(js, store, directory, unit)
    try:
        found = await settled(store, alert.alert_id, DeliveryChannel.WEBHOOK)
    finally:
        await follower.stop()
        await endpoint.stop()
    assert [(type(e).__name__, e.attempt, e.final) for e in found] == [("AlertDeliveryFailed", 1, True)]
    assert "is not set" in found[0].error and endpoint.received == []


async def test_g2_hostile_messages_on_the_alerts_stream_are_passed_over_and_later_alerts_still_delivered(
        js, store, key_env):
    """Not JSON, JSON without an alert id, an alert for an organisation the directory does not know:
    each is acked and logged, nothing is sent or recorded for it, and the next alert goes out."""
    unit = f"dept-h{uuid.uuid4().hex[:8]}"
    endpoint = Endpoint([200])
    directory = unit_directory(unit, webhook_url=await endpoint.start(), webhook_secret_env=key_env)
    for subject, body in ((f"jf.alert.{unit}.reminder.v-junk", b"\xff not json"),
                          (f"jf.alert.{unit}.reminder.v-noid", b'{"summary": "no id"}'),
                          (f"jf.alert.{unit}.reminder.v-list", b"[1, 2, 3]")):
        await js.publish(subject, body, stream=ALERT_STREAM)
    stranger = an_alert(f"dept-x{uuid.uuid4().hex[:8]}")  # not in the directory: NATS only
    await AlertChannel(js).deliver(stranger)
    alert = an_alert(unit)
    await AlertChannel(js).deliver(alert)
    follower = await webhook_follower(js, store, directory, unit)
    stranger_follower = await webhook_follower(js, store, directory, stranger.responsible_org_id)
    try:
        await settled(store, alert.alert_id, DeliveryChannel.WEBHOOK)
        await caught_up(js, follower.durable)
        await caught_up(js, stranger_follower.durable)
    finally:
        await follower.stop()
        await stranger_follower.stop()
        await endpoint.stop()
    assert [h["x-jianfu-alert-id"] for h, _ in endpoint.received] == [alert.alert_id]
    assert await outcomes(store, stranger.alert_id) == []
