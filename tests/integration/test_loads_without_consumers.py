"""Issue 7, item 5: loading an aggregate creates no consumer, so loads and commands scale with
concurrency (the broker refuses a stream's 1,001st consumer with error 10026)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from jianfu.cli.client import JianfuClient
from jianfu.events.provisioning import provision
from jianfu.events.settings import Settings
from jianfu.events.store import DIRECT_BATCH, EventStore, StoreUnavailable

from tests.apps import command_services
from tests.broker import ComposeNats, login
from tests.factories import POLICY, SCHOOLS, application
from tests.integration.test_event_store import reminder

BUREAU, POLICE = "edu-bureau", "dept-public-security"


async def consumers(js) -> int:
    return (await js.stream_info("JIANFU_EVENTS")).state.consumer_count


async def test_loads_create_no_consumer(store, js):
    aggregate_id = uuid.uuid4().hex
    await store.append(await store.load("escalation", aggregate_id), [reminder(aggregate_id, n) for n in range(3)])
    before = await consumers(js)
    loaded = await asyncio.gather(*(store.load("escalation", aggregate_id) for _ in range(20)))
    assert [len(history.events) for history in loaded] == [3] * 20
    assert await consumers(js) <= before


async def test_an_aggregate_longer_than_one_batch_loads_in_full_among_other_aggregates(store):
    mine, other = uuid.uuid4().hex, uuid.uuid4().hex
    for chunk in range(5):
        for aggregate_id in (mine, other):
            history = await store.load("escalation", aggregate_id)
            count = DIRECT_BATCH // 2 + 1
            await store.append(history, [reminder(aggregate_id, chunk * count + n) for n in range(count)])
    loaded = await store.load("escalation", mine)
    summaries = [e.envelope.data["summary"] for e in loaded.events]
    assert len(summaries) == 5 * (DIRECT_BATCH // 2 + 1) > 2 * DIRECT_BATCH
    assert summaries == [f"reminder {n}" for n in range(len(summaries))]
    assert loaded.last_sequence == max(e.sequence for e in loaded.events)


@pytest.fixture(scope="module")
async def services(nats_server, nc, tmp_path_factory):
    clock = tmp_path_factory.mktemp("clock") / "today"
    clock.write_text("2033-07-05")
    async with command_services(Settings(nats_url=nats_server.url, clock=f"file:{clock}", log_level="WARNING")):
        yield


async def test_s3_thirty_racing_certifications_beside_1200_loads_answer_no_internal_error(nc, js, store, services):
    client = JianfuClient(nc, timeout=30.0)
    form = dict(target_semester="2033-autumn", start_date="2033-09-10", end_date="2033-10-10",
                scope={"school_ids": [SCHOOLS[2]]}, declaration_type="urgent", urgency_reason="上级临时部署的禁毒宣传",
                urgency_category="superior_directive")
    activities = [await client.command(POLICE, "requests", "RequestActivity", application(**form)) for _ in range(30)]
    assert all(a["ok"] for a in activities)
    before = await consumers(js)
    certifications = asyncio.gather(*(
        client.command(BUREAU, "approvals", "CertifyActivity",
                       {"command_id": str(uuid.uuid4()), "activity_id": a["activity_id"], "urgency_confirmed": True})
        for a in activities))
    loads = asyncio.gather(*(store.load("campus_entry_semester", "2033-autumn") for _ in range(1200)))
    replies, histories = await asyncio.gather(certifications, loads)
    outcomes = [r.get("decision") or r["error"]["code"] for r in replies]
    assert set(outcomes) <= {"certified", "rejected", "CONCURRENCY_EXHAUSTED"}, outcomes
    assert outcomes.count("certified") == POLICY.campus_entry.items_per_school_per_semester
    assert {r["refusal_code"] for r in replies if r.get("decision") == "rejected"} <= {"QUOTA_EXCEEDED"}
    assert len(histories) == 1200 and await consumers(js) <= before


async def test_a_stream_that_does_not_answer_a_direct_get_makes_the_store_unavailable(js):
    silent = EventStore(js, stream="JIANFU_NOWHERE", timeout=0.5)
    with pytest.raises(StoreUnavailable):
        [raw async for raw in silent.read_direct("jf.ev.escalation.x", 1, 5)]


@pytest.mark.parametrize("service", ["requests", "approvals", "compliance", "notifications"])
async def test_each_service_user_may_load_an_aggregate_by_batched_direct_get(tmp_path, service):
    """The broker permissions of deploy/nats.conf allow the batched form (libs/cli/accounts.py)."""
    server = ComposeNats(tmp_path / "nats").start()
    try:
        operator = await login(server, "operator")
        await provision(operator.nc.jetstream())
        aggregate_id = uuid.uuid4().hex
        writer = await login(server, "notifications")  # escalations are the notifications service's
        written = EventStore(writer.nc.jetstream())
        await written.append(await written.load("escalation", aggregate_id), [reminder(aggregate_id, n) for n in range(3)])
        session = await login(server, service)
        loaded = await EventStore(session.nc.jetstream(), timeout=2.0).load("escalation", aggregate_id)
        assert len(loaded.events) == 3 and await session.settle() == []
        for user in (session, writer, operator):
            await user.nc.close()
    finally:
        server.stop()
