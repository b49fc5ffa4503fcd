"""G2: organisations read their own alerts back from the alerts stream, against a real nats-server
running the generated deploy/nats.conf (as test_broker_permissions does). Each organisation has one
consumer of its own on ``JIANFU_ALERTS`` (named after itself, filtered to ``jf.alert.<org>.>``) and
its own inbox; it may not subscribe to alert subjects, so a live reader sees only what the stream
stored — the race of two first attempts (both copies reached live subscribers) is closed."""

from __future__ import annotations

import json
import uuid

import nats
import pytest
from jianfu.events.provisioning import ALERT_STREAM, provision
from jianfu.events.settings import Settings
from jianfu.notifications.app import build
from jianfu.notifications.delivery import DURABLES, DeliverySettings
from jianfu.notifications.domain.delivery import signature
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import APIError

from tests.broker import ROOT, ComposeNats, Session, login

REFUSED = (nats.errors.TimeoutError, nats.errors.NoRespondersError, APIError)


@pytest.fixture(scope="module")
async def broker(tmp_path_factory):
    server = ComposeNats(tmp_path_factory.mktemp("readback-nats")).start()
    operator = await login(server, "operator")
    await provision(operator.nc.jetstream())
    notifications = await login(server, "notifications")
    yield server, notifications
    await notifications.nc.close()
    await operator.nc.close()
    server.stop()


async def alert(notifications: Session, org: str, violation: str | None = None) -> str:
    """An alert published as the ladder publishes it: its subject is its ledger."""
    violation = violation or f"v-{uuid.uuid4().hex}"
    subject = f"jf.alert.{org}.reminder.{violation}"
    body = json.dumps({"alert_id": str(uuid.uuid4()), "responsible_org_id": org, "summary": "【整改通知】"})
    await notifications.nc.jetstream().publish(subject, body.encode(), stream=ALERT_STREAM,
                                               headers={"Nats-Expected-Last-Subject-Sequence": "0"})
    return subject


def reader(org: str, filter_subject: str | None = None, **config) -> ConsumerConfig:
    return ConsumerConfig(name=org, durable_name=org, filter_subject=filter_subject or f"jf.alert.{org}.>",
                          deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.EXPLICIT, **config)


async def read_all(session: Session, org: str) -> list[str]:
    """Everything the organisation's consumer delivers, acked."""
    js = session.nc.jetstream(timeout=2)
    sub = await js.pull_subscribe_bind(durable=org, stream=ALERT_STREAM)
    subjects = []
    while True:
        try:
            batch = await sub.fetch(10, timeout=0.5)
        except (TimeoutError, nats.errors.TimeoutError):  # nats-py raises either when nothing is left
            break
        for msg in batch:
            subjects.append(msg.subject)
            await msg.ack()
    await sub.unsubscribe()
    return subjects


async def test_g2_an_organisation_replays_its_own_alerts_from_the_stream_with_its_own_inbox(broker):
    server, notifications = broker
    mine = [await alert(notifications, "dept-fire"), await alert(notifications, "dept-fire")]
    other = await alert(notifications, "dept-health")
    fire = await login(server, "dept-fire")  # inbox prefix _INBOX_dept-fire
    js = fire.nc.jetstream(timeout=2)
    await js.add_consumer(ALERT_STREAM, reader("dept-fire"))
    first = await read_all(fire, "dept-fire")
    await js.delete_consumer(ALERT_STREAM, "dept-fire")
    await js.add_consumer(ALERT_STREAM, reader("dept-fire"))  # created again: a replay from the start
    again = await read_all(fire, "dept-fire")
    await js.delete_consumer(ALERT_STREAM, "dept-fire")
    await fire.settle()
    assert set(mine) <= set(first) and set(first) == set(again)
    assert other not in first and all(s.startswith("jf.alert.dept-fire.") for s in first)
    assert fire.errors == []
    await fire.nc.close()


@pytest.mark.parametrize("name, filter_subject", [
    ("dept-fire", "jf.alert.dept-health.>"),  # its own name, another's alerts
    ("dept-health", "jf.alert.dept-health.>"),  # another's name and alerts
    ("dept-fire", "jf.alert.>"),  # every alert
    ("notifications-webhook", "jf.alert.dept-fire.>"),  # the delivery worker's name
])
async def test_g2_an_organisation_cannot_create_a_consumer_on_another_organisations_alerts(broker, name,
                                                                                          filter_subject):
    server, _ = broker
    fire = await login(server, "dept-fire")
    with pytest.raises(REFUSED):
        await fire.nc.jetstream(timeout=0.5).add_consumer(
            ALERT_STREAM, ConsumerConfig(name=name, durable_name=name, filter_subject=filter_subject))
    await fire.settle()
    assert fire.refused("publish", f"$JS.API.CONSUMER.CREATE.{ALERT_STREAM}.{name}.{filter_subject}"), fire.errors
    await fire.nc.close()


async def test_g2_the_filter_in_the_body_must_be_the_one_in_the_permitted_subject(broker):
    """The create subject carries the organisation's own filter; a body asking for more is refused
    by the server itself (the subject's filter must match the body's)."""
    server, _ = broker
    fire = await login(server, "dept-fire")
    subject = f"$JS.API.CONSUMER.CREATE.{ALERT_STREAM}.dept-fire.jf.alert.dept-fire.>"
    for config in ({"name": "dept-fire", "filter_subject": "jf.alert.dept-health.>"},
                   {"name": "dept-fire", "filter_subjects": ["jf.alert.dept-fire.>", "jf.alert.dept-health.>"]}):
        reply = await fire.nc.request(subject, json.dumps({"stream_name": ALERT_STREAM, "config": config}).encode(),
                                      timeout=2)
        assert "error" in json.loads(reply.data), reply.data
    await fire.nc.close()


async def test_g2_an_organisation_cannot_pull_read_or_subscribe_to_anothers_alerts_or_replies(broker):
    server, notifications = broker
    health_alert = await alert(notifications, "dept-health")
    health = await login(server, "dept-health")
    await health.nc.jetstream(timeout=2).add_consumer(ALERT_STREAM, reader("dept-health"))
    fire = await login(server, "dept-fire")
    js = fire.nc.jetstream(timeout=0.5)
    seen = []

    async def spy(msg) -> None:
        seen.append(msg.subject)

    for subject in ("jf.alert.dept-health.>", "jf.alert.dept-fire.>", "_INBOX_dept-health.>", "_INBOX.>"):
        await fire.nc.subscribe(subject, cb=spy)
    await fire.settle()
    with pytest.raises(REFUSED):  # pulling from the other organisation's consumer
        await fire.nc.request(f"$JS.API.CONSUMER.MSG.NEXT.{ALERT_STREAM}.dept-health", b'{"batch":1}', timeout=0.5)
    with pytest.raises(REFUSED):
        await js.get_last_msg(ALERT_STREAM, health_alert)
    with pytest.raises(REFUSED):  # the unfiltered create subject (nats-py's ordered consumers use it)
        await js.add_consumer(ALERT_STREAM, ConsumerConfig(filter_subject="jf.alert.dept-health.>"))
    with pytest.raises(REFUSED):
        await js.consumer_info(ALERT_STREAM, "dept-health")
    with pytest.raises(REFUSED):
        await js.delete_consumer(ALERT_STREAM, "dept-health")
    await fire.settle()
    assert seen == []
    for subject in ("jf.alert.dept-health.>", "jf.alert.dept-fire.>", "_INBOX_dept-health.>", "_INBOX.>"):
        assert fire.refused("subscription", subject), fire.errors
    assert fire.refused("publish", f"$JS.API.CONSUMER.MSG.NEXT.{ALERT_STREAM}.dept-health"), fire.errors
    assert fire.refused("publish", f"$JS.API.STREAM.MSG.GET.{ALERT_STREAM}"), fire.errors
    assert fire.refused("publish", f"$JS.API.CONSUMER.CREATE.{ALERT_STREAM}"), fire.errors
    assert health_alert in await read_all(health, "dept-health")  # the owner reads it
    await health.nc.jetstream().delete_consumer(ALERT_STREAM, "dept-health")
    await fire.nc.close()
    await health.nc.close()


async def test_g2_two_first_attempts_racing_reach_a_reader_once(broker):
    """The race the notifications README described: two consumers publish one violation's first
    alert at the same instant. The stream stores one (expected last subject sequence 0); a reader of
    the stream — the only way an organisation can read alerts now — gets that one."""
    server, notifications = broker
    violation = f"v-{uuid.uuid4().hex}"
    await alert(notifications, "dept-emergency", violation)
    with pytest.raises(APIError):  # the second first attempt: refused by the stream
        await alert(notifications, "dept-emergency", violation)
    emergency = await login(server, "dept-emergency")
    await emergency.nc.jetstream(timeout=2).add_consumer(ALERT_STREAM, reader("dept-emergency"))
    received = await read_all(emergency, "dept-emergency")
    assert received.count(f"jf.alert.dept-emergency.reminder.{violation}") == 1
    await emergency.nc.jetstream().delete_consumer(ALERT_STREAM, "dept-emergency")
    await emergency.nc.close()


def readme_example(opening: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("### Receiving alerts", 1)[1].split(opening, 1)[1].split("```python\n", 1)[1].split("```", 1)[0]


async def test_g2_the_readme_example_reads_the_organisations_alerts_back(broker, capsys):
    """The integrator example of README.md ("Receiving alerts"), pointed at this server."""
    server, notifications = broker
    subject = await alert(notifications, "dept-fire")
    example = readme_example("Reading the stream with nats-py").replace("nats://127.0.0.1:4222", server.url)
    scope: dict = {}
    exec(compile(example.replace("asyncio.run(main())", ""), "README.md", "exec"), scope)
    await scope["main"]()
    printed = capsys.readouterr().out
    assert f"{subject} 【整改通知】" in printed
    operator = await login(server, "operator")
    await operator.nc.jetstream().delete_consumer(ALERT_STREAM, "dept-fire")
    await operator.nc.close()


def test_g2_the_readme_signature_check_accepts_our_signature_and_nothing_else():
    scope: dict = {}
    exec(compile(readme_example("Checking a webhook's signature"), "README.md", "exec"), scope)
    body = '{"summary":"【整改通知】"}'.encode()
    assert scope["genuine"](body, signature(body, b"key"), b"key")
    assert not scope["genuine"](body, signature(body, b"key"), b"other")


async def test_g2_notifications_runs_its_delivery_workers_under_its_own_user(broker):
    """The webhook and e-mail workers' durables on the alerts stream are granted to the
    ``notifications`` user of the generated accounts (and to no organisation)."""
    server, _ = broker
    app = build(Settings(nats_url=server.url, nats_user="notifications", nats_password="notifications-demo",
                         log_level="WARNING"), delivery=DeliverySettings(smtp_host="127.0.0.1"))
    await app.start()
    try:
        operator = await login(server, "operator")
        names = {info.name for info in await operator.nc.jetstream().consumers_info(ALERT_STREAM)}
        await operator.nc.close()
    finally:
        await app.stop()
    assert set(DURABLES) <= names
    fire = await login(server, "dept-fire")
    with pytest.raises(REFUSED):
        await fire.nc.request(f"$JS.API.CONSUMER.MSG.NEXT.{ALERT_STREAM}.{DURABLES[0]}", b'{"batch":1}', timeout=0.5)
    await fire.nc.close()
