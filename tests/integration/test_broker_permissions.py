"""Least privilege, against a real nats-server running the generated deploy/nats.conf (issue 6,
findings 1-3): every organisation reads only its own inbox and alerts, no reply lands in a
stream, services get only the JetStream API calls they make, only the operator manages streams,
and operators reach every service's health subject.

The requests service runs in-process under its own user, so "a service answers" is the real one."""

from __future__ import annotations

import asyncio
import json
import re

import nats
import pytest
from jianfu.cli.client import JianfuClient
from jianfu.cli.supervisor import SERVICES
from jianfu.events.provisioning import provision
from jianfu.events.settings import Settings
from nats.js.api import StreamConfig

from tests.broker import ROOT, ComposeNats, Session, login
from tests.factories import application

STREAMS = ("JIANFU_EVENTS", "JIANFU_ALERTS", "JIANFU_OPS", "JIANFU_COMMANDS", "JIANFU_SNAPSHOTS")
REFUSED = (nats.errors.TimeoutError, nats.errors.NoRespondersError, nats.js.errors.APIError)


@pytest.fixture(scope="module")
async def broker(tmp_path_factory):
    from jianfu.requests.app import build

    server = ComposeNats(tmp_path_factory.mktemp("permissions-nats")).start()
    operator = await login(server, "operator")
    await provision(operator.nc.jetstream())
    requests = build(Settings(nats_url=server.url, nats_user="requests", nats_password="requests-demo",
                              clock="fixed:2026-07-10", log_level="WARNING"))
    await requests.start()
    yield server, operator
    await requests.stop()
    await operator.nc.close()
    server.stop()


async def stored(operator: Session) -> dict[str, int]:
    js = operator.nc.jetstream()
    return {name: (await js.stream_info(name)).state.messages for name in STREAMS}


async def test_a_school_cannot_read_replies_or_alerts_meant_for_another_organisation(broker):
    server, _ = broker
    school, police = await login(server, "school-dwk-primary-1"), await login(server, "dept-public-security")
    seen = []

    async def spy(msg) -> None:
        seen.append(msg.subject)

    for subject in ("_INBOX.>", "_INBOX_dept-public-security.>", "jf.alert.dept-public-security.>"):
        await school.nc.subscribe(subject, cb=spy)
    await school.settle()
    reply = await JianfuClient(police.nc).command("dept-public-security", "requests", "RequestActivity", application())
    await asyncio.sleep(0.2)

    assert reply["ok"] is True, reply  # the police's own inbox works
    assert seen == []
    assert school.refused("subscription", "_INBOX.>"), school.errors
    assert school.refused("subscription", "_INBOX_dept-public-security.>"), school.errors
    assert school.refused("subscription", "jf.alert.dept-public-security.>"), school.errors
    await school.nc.close()
    await police.nc.close()


async def test_an_organisation_on_the_shared_default_inbox_gets_no_reply(broker):
    """Connecting without ``inbox_prefix="_INBOX_<org>"`` fails loudly instead of sharing replies."""
    server, _ = broker
    fire = await login(server, "dept-fire", prefix="_INBOX")
    with pytest.raises(REFUSED):
        await fire.nc.request("jf.q.dept-fire.compliance.ListOrganisations", b"{}", timeout=1)
    assert any('permissions violation for subscription to "_inbox.' in e.lower() for e in fire.errors), fire.errors
    await fire.nc.close()


@pytest.mark.parametrize("reply_to", [
    "jf.ev.activity.forged-1",  # requests' own event subject: only the service's check stops this
    "jf.ev.violation.v-forged",
    "jf.alert.dept-fire.reminder.v-forged",
    "jf.cmd.edu-bureau.approvals.CertifyActivity",
    "$JS.API.STREAM.DELETE.JIANFU_EVENTS",
])
async def test_a_reply_aimed_at_a_stream_a_command_or_the_api_stores_and_sends_nothing(broker, reply_to):
    server, operator = broker
    health, approvals = await login(server, "dept-health"), await login(server, "approvals")
    commands = []

    async def record(msg) -> None:
        commands.append(msg.subject)

    await approvals.nc.subscribe("jf.cmd.edu-bureau.>", cb=record)
    await approvals.settle()
    before = await stored(operator)
    await health.nc.publish("jf.cmd.dept-health.requests.RequestActivity",
                            json.dumps(application()).encode(), reply=reply_to)
    await health.settle()
    await asyncio.sleep(0.5)
    after = await stored(operator)
    assert after["JIANFU_EVENTS"] == before["JIANFU_EVENTS"] + 1  # the activity, recorded as usual
    assert after["JIANFU_ALERTS"] == before["JIANFU_ALERTS"]
    assert await subject_count(operator, reply_to) == 0
    assert commands == []
    await health.nc.close()
    await approvals.nc.close()


@pytest.mark.parametrize("reply_to", [
    "jf.ev.violation.v-forged", "jf.alert.dept-fire.reminder.v-forged",
    "jf.cmd.edu-bureau.approvals.CertifyActivity", "jf.q.edu-bureau.compliance.GetViolations",
    "$JS.API.STREAM.DELETE.JIANFU_EVENTS",
])
async def test_the_broker_refuses_a_service_answering_outside_an_inbox(broker, reply_to):
    """Beneath the service's own check: a service that answered wherever the requester asked
    would still be refused by the broker (it may publish only its own events and inboxes)."""
    server, operator = broker
    health, requests = await login(server, "dept-health"), await login(server, "requests")

    async def answer_anywhere(msg) -> None:
        await requests.nc.publish(msg.reply, b'{"ok":true}')

    await requests.nc.subscribe("jf.q.dept-health.probe.Answer", cb=answer_anywhere)
    await requests.settle()
    before = await stored(operator)
    await health.nc.publish("jf.q.dept-health.probe.Answer", b"{}", reply=reply_to)
    await health.settle()
    await requests.settle()
    assert requests.refused("publish", reply_to), requests.errors
    assert await stored(operator) == before  # every stream still there, nothing added
    await health.nc.close()
    await requests.nc.close()


async def subject_count(operator: Session, subject: str) -> int:
    if not subject.startswith("jf.ev."):
        return 0
    info = await operator.nc.jetstream().stream_info("JIANFU_EVENTS", subjects_filter=subject)
    return sum((info.state.subjects or {}).values())


@pytest.mark.parametrize("user", [*SERVICES, "dept-fire", "edu-bureau"])
async def test_no_service_or_organisation_may_delete_purge_update_or_create_a_stream(broker, user):
    server, operator = broker
    session = await login(server, user)
    js = session.nc.jetstream(timeout=0.3)
    with pytest.raises(REFUSED):
        await js.delete_stream("JIANFU_EVENTS")
    with pytest.raises(REFUSED):
        await js.purge_stream("JIANFU_EVENTS")
    with pytest.raises(REFUSED):
        await js.update_stream(StreamConfig(name="JIANFU_ALERTS", subjects=["jf.alert.>"], max_msgs=1))
    with pytest.raises(REFUSED):
        await js.add_stream(StreamConfig(name="SHADOW", subjects=["jf.cmd.>"]))
    for documents in ("$JS.API.STREAM.DELETE.OBJ_JIANFU_DOCUMENTS", "$JS.API.STREAM.PURGE.OBJ_JIANFU_DOCUMENTS"):
        await session.nc.publish(documents, b"")  # G2: an issued circulation document is never removed
    await session.settle()
    assert session.refused("publish", "$JS.API.STREAM.DELETE.JIANFU_EVENTS"), session.errors
    assert session.refused("publish", "$JS.API.STREAM.PURGE.OBJ_JIANFU_DOCUMENTS"), session.errors
    assert session.refused("publish", "$JS.API.STREAM.DELETE.OBJ_JIANFU_DOCUMENTS"), session.errors
    assert {s.config.name for s in await operator.nc.jetstream().streams_info()} == {*STREAMS, "OBJ_JIANFU_DOCUMENTS"}
    await session.nc.close()


@pytest.mark.parametrize("user, durable", [("notifications", "approvals-screening"),
                                           ("requests", "notifications-ladder"),
                                           ("approvals", "compliance-projector")])
async def test_a_service_may_not_touch_another_services_durable_consumer(broker, user, durable):
    server, _ = broker
    session = await login(server, user)
    js = session.nc.jetstream(timeout=0.3)
    with pytest.raises(REFUSED):
        await js.delete_consumer("JIANFU_EVENTS", durable)
    await session.settle()
    assert session.refused("publish", f"$JS.API.CONSUMER.DELETE.JIANFU_EVENTS.{durable}"), session.errors
    await session.nc.close()


@pytest.mark.parametrize("user, subject", [("requests", "jf.ev.violation.v-1"), ("notifications", "jf.ev.activity.a-1"),
                                           ("approvals", "jf.alert.dept-fire.reminder.v-1"),
                                           ("compliance", "jf.sys.alert.notifications.quarantine")])
async def test_a_service_writes_only_its_own_subjects(broker, user, subject):
    await assert_publish_refused_and_nothing_stored(broker, user, subject)


async def test_the_operator_alone_creates_updates_and_deletes_streams(broker):
    _, operator = broker
    js = operator.nc.jetstream()
    await js.add_stream(StreamConfig(name="SCRATCH", subjects=["scratch.>"]))
    await js.update_stream(StreamConfig(name="SCRATCH", subjects=["scratch.>"], max_msgs=10))
    assert await js.delete_stream("SCRATCH") is True
    assert operator.errors == []


@pytest.mark.parametrize("subject", ["jf.ev.activity.a-1", "jf.cmd.edu-bureau.approvals.CertifyActivity",
                                     "jf.q.edu-bureau.compliance.GetViolations", "jf.alert.dept-fire.reminder.v-1"])
async def test_the_operator_may_not_publish_events_commands_queries_or_alerts(broker, subject):
    await assert_publish_refused_and_nothing_stored(broker, "operator", subject)


async def assert_publish_refused_and_nothing_stored(broker, user: str, subject: str) -> None:
    server, operator = broker
    session = await login(server, user)
    before = await stored(operator)
    await session.nc.publish(subject, b"{}")
    await session.settle()
    assert session.refused("publish", subject), session.errors
    assert await stored(operator) == before
    await session.nc.close()


async def test_operators_ask_a_service_for_its_health_and_read_the_reply(broker):
    server, _ = broker
    operator = await login(server, "operator")
    reply = json.loads((await operator.nc.request("jf.sys.health.requests", b"", timeout=2)).data)
    assert reply["ok"] is True and reply["service"] == "requests"
    assert await operator.settle() == []
    await operator.nc.close()


async def test_an_organisation_may_not_ask_for_health_or_use_the_jetstream_api(broker):
    server, _ = broker
    fire = await login(server, "dept-fire")
    with pytest.raises(REFUSED):
        await fire.nc.request("jf.sys.health.requests", b"", timeout=0.5)
    with pytest.raises(REFUSED):
        await fire.nc.jetstream(timeout=0.5).stream_info("JIANFU_EVENTS")
    await fire.settle()
    assert fire.refused("publish", "jf.sys.health.requests"), fire.errors
    await fire.nc.close()


def readme_python_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("From Python with nats-py:\n\n```python\n", 1)[1].split("```", 1)[0]


async def test_the_readme_python_example_logs_in_as_its_organisation_and_gets_its_reply(broker, capsys):
    """The integrator example of README.md, pointed at this server: its user, password and inbox
    prefix are the ones the accounts give the school (a service stands in for compliance)."""
    server, _ = broker
    compliance = await login(server, "compliance")

    async def answer(msg) -> None:
        await compliance.nc.publish(msg.reply, b'{"ok": true, "items": []}')

    await compliance.nc.subscribe("jf.q.school-dwk-middle-1.compliance.GetSemesterList", cb=answer)
    await compliance.settle()
    example = readme_python_example().replace("nats://127.0.0.1:4222", server.url)
    example = example.replace("asyncio.run(main())", "")
    scope: dict = {}
    exec(compile(example, "README.md", "exec"), scope)  # noqa: S102 - the documented example itself
    await scope["main"]()
    assert capsys.readouterr().out.strip() == "{'ok': True, 'items': []}"
    await compliance.nc.close()


def test_every_test_the_threat_model_names_exists():
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = doc.split("## Threat model", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`(test_[a-z0-9_]+)`", section))
    sources = "".join(path.read_text(encoding="utf-8") for path in (ROOT / "tests").rglob("test_*.py"))
    assert len(named) >= 20 and {name for name in named if f"def {name}(" not in sources} == set()
