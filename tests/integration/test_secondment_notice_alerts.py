"""S7's notice before a secondment ends, against a real nats-server: a ``SecondmentEndingSoon`` in
the log (appended as the compliance sweep appends it) → one alert of its own kind on
``jf.alert.<borrowing_org_id>.secondment_ending.<notice_id>``, however often it is delivered —
redelivered, delivered twice at once, or replayed from sequence 1 by the restarted service's new
consumer. Nothing is appended by notifications: the notice is the decision, its subject the ledger."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, date, datetime

import pytest
from jianfu.events.dependencies import Deps
from jianfu.events.envelope import SYSTEM_ACTOR
from jianfu.events.provisioning import ALERT_STREAM
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.secondments import SecondmentEndingSoon
from jianfu.events.settings import Settings, SystemClock
from jianfu.notifications.alerts import AlertChannel
from jianfu.notifications.app import build
from jianfu.notifications.handlers import on_secondment_notice

from tests.factories import DIRECTORY, POLICY
from tests.integration.test_notifications_ladder import captured_logs, consumed, subscribe

TEACHER_NAME = "马晓梅"


@pytest.fixture(scope="module")
def unit() -> str:
    """A borrowing unit of this module's own, so alert subjects are ours alone."""
    return f"dept-n{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def deps(store) -> Deps:
    return Deps(store, DIRECTORY, POLICY, SystemClock())


@pytest.fixture(scope="module")
def alerts(js) -> AlertChannel:
    return AlertChannel(js)


async def noticed(store, unit: str, teacher: str = "t-dwk-p1-007"):
    """A notice appended the way the compliance sweep appends it (expected sequence 0)."""
    found = SecondmentEndingSoon(
        notice_id=f"n-{uuid.uuid4().hex}", teacher_id=teacher, school_id="school-dwk-primary-1",
        borrowing_org_id=unit, secondment_id=uuid.uuid4(), left_on=date(2027, 3, 1), ends_on=date(2027, 6, 30),
        noticed_on=date(2027, 5, 31))
    context = CommandContext(SYSTEM_ACTOR, f"notice:{found.notice_id}", str(uuid.uuid4()), POLICY.version,
                             datetime(2027, 6, 1, tzinfo=UTC))
    event = context.event(found, found.notice_id).model_copy(update={"causation_id": f"day-{uuid.uuid4().hex}"})
    return await store.append_once(event)


def subject_of(notice) -> str:
    data = notice.envelope.data
    return f"jf.alert.{data['borrowing_org_id']}.secondment_ending.{data['notice_id']}"


async def stored_alerts(js, notice) -> int:
    subject = subject_of(notice)
    info = await js.stream_info(ALERT_STREAM, subjects_filter=subject)
    return (info.state.subjects or {}).get(subject, 0)


async def test_s7_a_notice_gives_the_borrowing_unit_one_alert_of_its_own_kind(nc, js, store, deps, alerts, unit):
    inbox = await subscribe(nc, unit)
    notice = await noticed(store, unit)
    before = await store.last_sequence()

    with captured_logs() as logs:
        await on_secondment_notice(notice.envelope, notice.sequence, deps, alerts)

    [msg] = await inbox.settle(nc)
    await inbox.sub.unsubscribe()
    payload = json.loads(msg.data)
    assert msg.subject == subject_of(notice)
    assert msg.headers["Nats-Msg-Id"] == payload["alert_id"] == notice.envelope.event_id
    assert msg.headers["Jf-Correlation-Id"] == payload["correlation_id"] == notice.envelope.correlation_id
    assert (payload["kind"], payload["clause"], payload["borrowing_org_id"], payload["teacher_id"]) == (
        "secondment_ending", "S7", unit, "t-dwk-p1-007")
    assert (payload["ends_on"], payload["days_left"]) == ("2027-06-30", 30)
    assert TEACHER_NAME not in msg.data.decode()
    assert await stored_alerts(js, notice) == 1
    assert await store.last_sequence() == before  # the notice was the decision: nothing appended
    [sent] = [line for line in logs if line["event"] == "alert_sent"]
    assert sent["notice_id"] == payload["notice_id"]


async def test_s7_a_redelivered_notice_alerts_nobody_again(nc, js, store, deps, alerts, unit):
    notice = await noticed(store, unit)
    inbox = await subscribe(nc, unit)
    await on_secondment_notice(notice.envelope, notice.sequence, deps, alerts)
    with captured_logs() as logs:
        for _ in range(3):  # e.g. the ack was lost
            await on_secondment_notice(notice.envelope, notice.sequence, deps, alerts)

    assert len(await inbox.settle(nc)) == 1
    await inbox.sub.unsubscribe()
    assert await stored_alerts(js, notice) == 1
    assert [line["event"] for line in logs if line["event"].startswith("alert_")] == ["alert_already_sent"] * 3


async def test_s7_first_deliveries_of_a_notice_racing_each_other_store_one_alert(js, store, deps, alerts, unit):
    notice = await noticed(store, unit)
    with captured_logs() as logs:
        await asyncio.gather(*(on_secondment_notice(notice.envelope, notice.sequence, deps, alerts)
                               for _ in range(4)))
    assert await stored_alerts(js, notice) == 1
    assert sum(line["event"] == "alert_sent" for line in logs) <= 1


async def test_s7_events_other_than_a_notice_on_the_subject_alert_nobody(nc, js, store, deps, alerts, unit):
    notice = await noticed(store, unit)
    other = notice.envelope.model_copy(update={"event_type": "SomethingElse"})
    await on_secondment_notice(other, notice.sequence, deps, alerts)
    assert await stored_alerts(js, notice) == 0


async def test_s7_the_running_service_alerts_once_and_a_restart_replaying_from_sequence_1_alerts_nobody_again(
    nats_server, nc, js, store, unit, tmp_path
):
    settings = Settings(nats_url=nats_server.url, log_level="WARNING")
    notice = await noticed(store, unit)
    # Only this notice's subject, and a ladder on no violation, so the service acts on nothing else.
    only = f"jf.ev.secondment_notice.{notice.envelope.data['notice_id']}"
    inbox = await subscribe(nc, unit)
    tag = uuid.uuid4().hex[:8]
    durables = [f"notices-{tag}", f"notices-replay-{tag}"]
    try:
        for durable in durables:  # the live consumer, then a new one replaying from sequence 1
            app = build(settings, subject=f"jf.ev.violation.none-{tag}", durable=f"ladder-{tag}-{durable}",
                        notices_durable=durable, notices_subject=only)
            await app.start()
            try:
                await consumed(js, durable, notice.sequence)
            finally:
                await app.stop()
            assert len(await inbox.settle(nc)) == 1
        assert await stored_alerts(js, notice) == 1
    finally:
        await inbox.sub.unsubscribe()
        for durable in durables:
            await js.delete_consumer("JIANFU_EVENTS", durable)
            await js.delete_consumer("JIANFU_EVENTS", f"ladder-{tag}-{durable}")


def notice_envelope(**data) -> dict:
    """A notice as a dict, for storing by hand past every check (hostile input)."""
    found = SecondmentEndingSoon(
        notice_id=f"n-{uuid.uuid4().hex}", teacher_id="t-dwk-p1-007", school_id="school-dwk-primary-1",
        borrowing_org_id="dept-health", secondment_id=None, left_on=date(2027, 3, 1), ends_on=date(2027, 6, 30),
        noticed_on=date(2027, 5, 31))
    context = CommandContext(SYSTEM_ACTOR, f"notice:{found.notice_id}", str(uuid.uuid4()), POLICY.version,
                             datetime(2027, 6, 1, tzinfo=UTC))
    envelope = context.event(found, found.notice_id).model_dump(mode="json")
    envelope["data"].update(data)
    return envelope


async def test_s7_hostile_notices_are_quarantined_once_and_the_good_notice_after_them_is_alerted(log):
    """A notice no reader can apply (a bad date, a field missing, an unknown type, not JSON) is set
    aside once with an operator alert; the notice after them still reaches its unit once."""
    from tests.poison import alerts_by_sequence, publish, run_until_consumed

    missing = notice_envelope()
    del missing["data"]["ends_on"]
    unknown = notice_envelope()
    unknown["event_type"] = "SecondmentForgotten"
    poison = {
        "bad_date": await publish(log.js, notice_envelope(ends_on="2027-02-30")),
        "missing_ends_on": await publish(log.js, missing),
        "unknown_type": await publish(log.js, unknown),
        "not_json": await publish(log.js, b"{\"event_id\": ", f"jf.ev.secondment_notice.n-{uuid.uuid4().hex}"),
    }
    good = notice_envelope(borrowing_org_id="dept-fire")
    last = await publish(log.js, good)
    await run_until_consumed(log, build, "notifications-notices", last)

    subject = f"jf.alert.dept-fire.secondment_ending.{good['data']['notice_id']}"
    info = await log.js.stream_info(ALERT_STREAM, subjects_filter="jf.alert.>")
    assert info.state.subjects == {subject: 1}
    alerts = await alerts_by_sequence(log.js, "notifications", expect=len(poison))
    assert set(alerts) == set(poison.values()) and all(len(each) == 1 for each in alerts.values())


async def test_s7_a_notice_for_a_unit_id_that_is_no_subject_token_goes_to_a_hashed_subject_once(log):
    """Hostile: 10,000 characters and a wildcard in the unit's id, stored by hand: the subject
    stays one token (a hash), the alert keeps the id, and it is sent once."""
    from tests.poison import publish, run_until_consumed

    unit = "dept.*>" + "x" * 10_000
    last = await publish(log.js, notice_envelope(borrowing_org_id=unit))
    await run_until_consumed(log, build, "notifications-notices", last)
    await run_until_consumed(log, build, "notifications-notices", last)  # a restart: nothing more
    info = await log.js.stream_info(ALERT_STREAM, subjects_filter="jf.alert.>")
    [(subject, count)] = info.state.subjects.items()
    assert count == 1 and subject.startswith("jf.alert.h-") and subject.count(".") == 4
    msg = await log.js.get_last_msg(ALERT_STREAM, subject)
    assert json.loads(msg.data)["borrowing_org_id"] == unit
