"""Who may write and read snapshots, against a real nats-server running the generated
deploy/nats.conf: the notifications service snapshots its escalations and reads them back;
no other service, and no organisation, writes or reads them."""

from __future__ import annotations

import uuid

import pytest
from jianfu.events.provisioning import SNAPSHOT_STREAM, provision
from jianfu.events.snapshots import Snapshot, Snapshots
from jianfu.events.store import EventStore
from jianfu.notifications.domain.escalation import SCHEMA_VERSION
from jianfu.notifications.handlers import LADDER

from tests.broker import ComposeNats, login


@pytest.fixture(scope="module")
async def server(tmp_path_factory):
    server = ComposeNats(tmp_path_factory.mktemp("snapshot-permissions-nats")).start()
    operator = await login(server, "operator")
    await provision(operator.nc.jetstream())
    await operator.nc.close()
    yield server
    server.stop()


def a_snapshot(aggregate_type: str = "escalation") -> Snapshot:
    return Snapshot(aggregate_type, f"esc-{uuid.uuid4().hex}", SCHEMA_VERSION, 1, "0" * 64,
                    {"escalation": {"responsible_org_id": "dept-fire", "issue_key": "k", "stage": 1,
                                    "reminders": {}}, "stored_at": {}})


async def test_the_notifications_service_writes_and_reads_back_its_escalation_snapshots(server):
    session = await login(server, "notifications")
    snapshots = Snapshots(EventStore(session.nc.jetstream(timeout=2)))
    snapshot = a_snapshot()
    await snapshots.save(snapshot)
    assert await snapshots.latest(LADDER, snapshot.aggregate_id) == snapshot
    assert await session.settle() == []
    await session.nc.close()


@pytest.mark.parametrize("user", ["requests", "approvals", "compliance", "dept-fire", "edu-bureau"])
async def test_no_other_user_writes_or_reads_escalation_snapshots(server, user):
    writer = await login(server, "notifications")
    snapshot = a_snapshot()
    await Snapshots(EventStore(writer.nc.jetstream(timeout=2))).save(snapshot)
    await writer.nc.close()
    session = await login(server, user)
    subject = f"jf.snap.escalation.{snapshot.aggregate_id}"
    await session.nc.publish(subject, b"{}")
    with pytest.raises(Exception):  # noqa: B017 - refused: a timeout or no responders, whichever comes
        await session.nc.jetstream(timeout=0.5).get_last_msg(SNAPSHOT_STREAM, subject, direct=True)
    await session.settle()
    assert session.refused("publish", subject), session.errors
    assert session.refused("publish", f"$JS.API.DIRECT.GET.{SNAPSHOT_STREAM}.{subject}"), session.errors
    await session.nc.close()


async def test_the_notifications_service_may_not_write_snapshots_of_other_aggregate_types(server):
    session = await login(server, "notifications")
    subject = f"jf.snap.campus_entry_semester.{uuid.uuid4().hex}"
    await session.nc.publish(subject, b"{}")
    await session.settle()
    assert session.refused("publish", subject), session.errors
    await session.nc.close()
