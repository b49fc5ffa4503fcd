"""G2 under the deployment's NATS permissions (deploy/nats.conf): the notifications service, as
its own user, takes the ladder from violations to a circulation proposal, and answers the leading
group office's ConfirmCirculation (routed to it on jf.cmd.<org>.notifications.>, replied into the
office's own inbox) with a number from the year's register it may write; nobody is refused.
Violations are appended as the compliance user would."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, date, datetime

import pytest
from jianfu.events.envelope import SYSTEM_ACTOR
from jianfu.events.provisioning import provision
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.compliance import Rule, ViolationDetected, violation_id
from jianfu.events.settings import Settings
from jianfu.events.store import EventStore
from jianfu.notifications.domain.escalation import escalation_id

from tests.broker import ComposeNats, login
from tests.factories import POLICY

UNIT, RULE = "dept-fire", Rule.UNAUTHORIZED_CAMPUS_ENTRY
DAYS = (date(2026, 1, 5), date(2026, 2, 2), date(2026, 3, 2), date(2026, 4, 1))


@pytest.fixture(scope="module")
async def deployment(tmp_path_factory):
    from jianfu.notifications.app import build

    server = ComposeNats(tmp_path_factory.mktemp("g2-permissions-nats")).start()
    operator = await login(server, "operator")
    await provision(operator.nc.jetstream())
    app = build(Settings(nats_url=server.url, nats_user="notifications", nats_password="notifications-demo",
                         log_level="WARNING"))
    await app.start()
    compliance = await login(server, "compliance")
    yield server, EventStore(compliance.nc.jetstream())
    await app.stop()
    await compliance.nc.close()
    await operator.nc.close()
    server.stop()


async def appended(store: EventStore, day: date) -> None:
    evidence = uuid.uuid4().hex
    found = ViolationDetected(
        violation_id=violation_id(RULE, UNIT, evidence), rule=RULE, clause="S3", responsible_org_id=UNIT,
        school_id="school-dwk-primary-1", semester="2025-autumn", issue_key=f"{UNIT}:{RULE.value}",
        summary="区消防大队未经认定进校园。", evidence={"report_event_id": evidence})
    context = CommandContext(SYSTEM_ACTOR, found.violation_id, str(uuid.uuid4()), POLICY.version,
                             datetime(day.year, day.month, day.day, 4, tzinfo=UTC))
    await store.append_once(context.event(found, found.violation_id))


async def test_g2_the_ladder_and_a_confirmation_run_under_the_deployments_permissions(deployment):
    server, store = deployment
    for day in DAYS:
        await appended(store, day)
    aggregate = escalation_id(UNIT, f"{UNIT}:{RULE.value}")
    deadline = time.monotonic() + 20
    while len(events := (await store.load("escalation", aggregate)).envelopes) < 5:
        assert time.monotonic() < deadline, [e.event_type for e in events]
        await asyncio.sleep(0.1)
    proposal = events[-1].data["proposal_id"]
    assert events[-1].event_type == "CirculationProposed"

    office = await login(server, "leading-group-office")
    body = {"command_id": str(uuid.uuid4()), "proposal_id": proposal}
    reply = json.loads((await office.nc.request("jf.cmd.leading-group-office.notifications.ConfirmCirculation",
                                                json.dumps(body).encode(), timeout=10,
                                                headers={"Jf-Person": "王主任"})).data)
    assert reply["ok"], reply
    assert reply["number"] == 1 and reply["document_number"].endswith("〕1号")
    assert await office.settle() == []
    await office.nc.close()
