"""G2 stage 1 against a real nats-server: a violation in the log → one ReminderIssued in its
escalation and one alert on the unit's subject, however often the violation is delivered —
redelivered, delivered twice at once, or replayed from sequence 1 by a new consumer."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
import structlog
from jianfu.events import catalogue
from jianfu.events.dependencies import Deps
from jianfu.events.envelope import SYSTEM_ACTOR
from jianfu.events.organisations import (
    Directory,
    Organisation,
    OrgKind,
)
from jianfu.events.provisioning import ALERT_STREAM
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.compliance import Rule, ViolationDetected, violation_id
from jianfu.events.settings import Settings, SystemClock
from jianfu.notifications.alerts import AlertChannel
from jianfu.notifications.app import build
from jianfu.notifications.domain.escalation import escalation_id
from jianfu.notifications.handlers import on_violation, record_reminder
from structlog.testing import capture_logs

from tests.factories import DIRECTORY, POLICY

RULE = Rule.UNAUTHORIZED_CAMPUS_ENTRY


@pytest.fixture(scope="module")
def units() -> dict[str, str]:
    """A department and a school of this module's own, so alert subjects are ours alone."""
    tag = uuid.uuid4().hex[:8]
    return {"department": f"dept-t{tag}", "school": f"school-t{tag}"}


@pytest.fixture(scope="module")
def directory(units) -> Directory:
    extra = [Organisation(org_id=units["department"], kind=OrgKind.DEPARTMENT, name="区测试局"),
             Organisation(org_id=units["school"], kind=OrgKind.SCHOOL, name="测试小学")]
    return Directory(district=DIRECTORY.district, organisations=[*DIRECTORY.organisations, *extra])


@pytest.fixture(scope="module")
def deps(store, directory) -> Deps:
    return Deps(store, directory, POLICY, SystemClock())


@pytest.fixture(scope="module")
def alerts(js) -> AlertChannel:
    return AlertChannel(js)


async def detected(store, unit: str, school: str | None = None, issue: str | None = None):
    """A violation appended the way the compliance detector appends it; returns the stored event.
    Each is the first of an issue of its own (so reminded, G2 stage 1) unless ``issue`` is given."""
    evidence = uuid.uuid4().hex
    found = ViolationDetected(
        violation_id=violation_id(RULE, unit, evidence), rule=RULE, clause="S3", responsible_org_id=unit,
        school_id=school, semester="2026-autumn", issue_key=issue or f"{unit}:{RULE.value}:{evidence[:8]}",
        summary=f"{unit}未经认定开展进校园活动。", evidence={"report_event_id": evidence},
    )
    context = CommandContext(SYSTEM_ACTOR, found.violation_id, str(uuid.uuid4()), POLICY.version,
                             datetime(2026, 10, 21, tzinfo=UTC))
    event = context.event(found, found.violation_id).model_copy(update={"causation_id": f"report-{evidence}"})
    return await store.append_once(event)


async def reminders(store, violation) -> list:
    data = violation.envelope.data
    history = await store.load("escalation", escalation_id(data["responsible_org_id"], data["issue_key"]))
    return [e.envelope for e in history.events if e.envelope.data["violation_id"] == data["violation_id"]]


async def stored_alerts(js, violation) -> int:
    data = violation.envelope.data
    subject = f"jf.alert.{data['responsible_org_id']}.reminder.{data['violation_id']}"
    info = await js.stream_info(ALERT_STREAM, subjects_filter=subject)
    return (info.state.subjects or {}).get(subject, 0)


@contextmanager
def captured_logs():
    """The service's log lines at INFO, whatever level an earlier test left configured."""
    previous = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    try:
        with capture_logs() as logs:
            yield logs
    finally:
        structlog.configure(**previous)


class Inbox:
    """What a unit's staff system receives on ``jf.alert.<org>.>``."""

    def __init__(self) -> None:
        self.messages = []
        self.sub = None

    async def receive(self, msg) -> None:
        self.messages.append(msg)

    async def settle(self, nc, seconds: float = 0.3) -> list:
        await nc.flush()
        await asyncio.sleep(seconds)  # a duplicate would arrive in this time
        return self.messages


async def subscribe(nc, org: str) -> Inbox:
    inbox = Inbox()
    inbox.sub = await nc.subscribe(f"jf.alert.{org}.>", cb=inbox.receive)
    await nc.flush()
    return inbox


async def test_g2_a_departments_violation_gets_one_reminder_from_the_supervision_office_and_one_alert(
    nc, js, store, deps, alerts, units
):
    unit = units["department"]
    inbox = await subscribe(nc, unit)
    violation = await detected(store, unit, school="school-dwk-primary-1")

    with captured_logs() as logs:
        await on_violation(violation.envelope, violation.sequence, deps, alerts)

    [reminder] = await reminders(store, violation)
    assert reminder.event_type == "ReminderIssued"
    assert (reminder.data["issued_by_org_id"], reminder.data["recipient"], reminder.data["stage"]) == (
        "supervision-office", "unit_head", 1)
    assert reminder.actor == SYSTEM_ACTOR
    assert reminder.correlation_id == violation.envelope.correlation_id
    assert reminder.causation_id == violation.envelope.event_id

    [msg] = await inbox.settle(nc)
    await inbox.sub.unsubscribe()
    payload = json.loads(msg.data)
    assert msg.subject == f"jf.alert.{unit}.reminder.{violation.envelope.data['violation_id']}"
    assert msg.headers["Nats-Msg-Id"] == payload["alert_id"] == reminder.event_id
    assert (payload["issued_by"], payload["rule"], payload["clause"], payload["school_id"]) == (
        "supervision-office", "UnauthorizedCampusEntry", "S3", "school-dwk-primary-1")
    assert payload["correlation_id"] == violation.envelope.correlation_id
    assert await stored_alerts(js, violation) == 1
    [sent] = [line for line in logs if line["event"] == "alert_sent"]
    assert sent["correlation_id"] == violation.envelope.correlation_id and sent["alert_id"] == reminder.event_id


async def test_g2_a_schools_violation_is_reminded_by_the_education_bureau(nc, js, store, deps, alerts, units):
    school = units["school"]
    violation = await detected(store, school, school=school)
    await on_violation(violation.envelope, violation.sequence, deps, alerts)
    [reminder] = await reminders(store, violation)
    assert reminder.data["issued_by_org_id"] == "edu-bureau"
    assert await stored_alerts(js, violation) == 1


async def test_a_redelivered_violation_alerts_nobody_again(nc, js, store, deps, alerts, units):
    unit = units["department"]
    violation = await detected(store, unit)
    inbox = await subscribe(nc, unit)

    await on_violation(violation.envelope, violation.sequence, deps, alerts)
    with captured_logs() as logs:
        for _ in range(3):  # redeliveries, e.g. the ack was lost
            await on_violation(violation.envelope, violation.sequence, deps, alerts)

    assert len(await inbox.settle(nc)) == 1
    await inbox.sub.unsubscribe()
    assert len(await reminders(store, violation)) == 1
    assert await stored_alerts(js, violation) == 1
    assert [line["event"] for line in logs if line["event"].startswith("alert_")] == ["alert_already_sent"] * 3


async def test_first_deliveries_racing_each_other_store_one_reminder_and_one_alert(js, store, deps, alerts, units):
    violation = await detected(store, units["department"])
    with captured_logs() as logs:
        await asyncio.gather(*(on_violation(violation.envelope, violation.sequence, deps, alerts) for _ in range(4)))

    assert len(await reminders(store, violation)) == 1
    assert await stored_alerts(js, violation) == 1
    assert sorted(line["event"] for line in logs if line["event"].startswith("alert_")) == (
        ["alert_already_sent"] * 3 + ["alert_sent"])


async def test_a_crash_between_the_reminder_and_the_alert_is_healed_by_the_redelivery(js, store, deps, alerts, units):
    violation = await detected(store, units["department"])
    await record_reminder(violation.envelope, catalogue.parse(violation.envelope), deps)  # then the process died
    assert await stored_alerts(js, violation) == 0

    await on_violation(violation.envelope, violation.sequence, deps, alerts)
    assert len(await reminders(store, violation)) == 1
    assert await stored_alerts(js, violation) == 1


async def test_g2_two_violations_of_one_issue_share_an_escalation_the_first_reminded_the_repeat_warned(
    js, store, deps, alerts, units
):
    unit = f"{units['department']}-twice"
    issue = f"{unit}:{RULE.value}"
    first, second = await detected(store, unit, issue=issue), await detected(store, unit, issue=issue)
    for violation in (first, second):
        await on_violation(violation.envelope, violation.sequence, deps, alerts)
    history = await store.load("escalation", escalation_id(unit, issue))
    assert [(e.envelope.event_type, e.envelope.data["violation_id"]) for e in history.events] == [
        ("ReminderIssued", first.envelope.data["violation_id"]), ("WarningIssued", second.envelope.data["violation_id"])]
    assert await stored_alerts(js, first) == 1
    info = await js.stream_info(ALERT_STREAM, subjects_filter=f"jf.alert.{unit}.warning.{history.events[1].envelope.event_id}")
    assert sum((info.state.subjects or {}).values()) == 1


async def consumed(js, durable: str, sequence: int, timeout: float = 10.0) -> None:
    """Wait until the durable consumer has acked everything up to ``sequence``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = await js.consumer_info("JIANFU_EVENTS", durable)
        if info.ack_floor.stream_seq >= sequence and info.num_pending == 0 and info.num_ack_pending == 0:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{durable} did not ack up to {sequence}")


async def test_the_running_service_alerts_once_and_a_rebuild_from_sequence_1_alerts_nobody_again(
    nats_server, nc, js, store, directory, units, tmp_path
):
    unit = units["department"]
    path = tmp_path / "organisations.json"
    path.write_text(directory.model_dump_json(), encoding="utf-8")
    settings = Settings(nats_url=nats_server.url, directory_path=path, log_level="WARNING")
    violation = await detected(store, unit)
    # Only this violation's subject, so the service does not act on other tests' violations.
    subject = f"jf.ev.violation.{violation.envelope.data['violation_id']}"
    inbox = await subscribe(nc, unit)
    durables = [f"ladder-{uuid.uuid4().hex[:8]}", f"rebuild-{uuid.uuid4().hex[:8]}"]
    try:
        for durable in durables:  # the live consumer, then a new one replaying from sequence 1
            app = build(settings, subject=subject, durable=durable)
            await app.start()
            try:
                await consumed(js, durable, violation.sequence)
            finally:
                await app.stop()
            assert len(await inbox.settle(nc)) == 1
        assert len(await reminders(store, violation)) == 1
        assert await stored_alerts(js, violation) == 1
    finally:
        await inbox.sub.unsubscribe()
        for durable in durables:
            await js.delete_consumer("JIANFU_EVENTS", durable)
