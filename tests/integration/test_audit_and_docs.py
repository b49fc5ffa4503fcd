"""The auditor's log verification and the generated AsyncAPI documents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
from jianfu.cli.asyncapi import document, interfaces, write_documents
from jianfu.cli.embedded_nats import EmbeddedNats
from jianfu.events.audit import verify_log
from jianfu.events.provisioning import provision
from jianfu.events.settings import Settings
from jianfu.events.store import EventStore

from tests.integration.test_event_store import reminder


@pytest.fixture
async def own_log(tmp_path) -> AsyncIterator[EventStore]:
    """A nats-server and log of this test's own. verify_log reads the whole stream, so on the
    session's shared log it would see what other tests wrote (a forged or poison event), and a
    forged event here would break every later check of that log."""
    with EmbeddedNats(tmp_path / "nats") as server:
        nc = await nats.connect(server.url)
        try:
            await provision(nc.jetstream())
            yield EventStore(nc.jetstream())
        finally:
            await nc.close()


async def test_verify_log_finds_every_chain_intact_after_normal_appends(own_log):
    for aggregate_id in ("esc-a", "esc-b"):
        history = await own_log.load("escalation", aggregate_id)
        await own_log.append(history, [reminder(aggregate_id, n) for n in range(3)])
    report = await verify_log(own_log)
    assert report.intact and (report.events, report.aggregates, report.last_sequence) == (6, 2, 6)


async def test_verify_log_reports_an_event_written_around_the_store(own_log):
    """G2/auditors: an event published directly, with a made-up prev_hash, breaks its chain."""
    await own_log.append(await own_log.load("escalation", "esc-a"), [reminder("esc-a", 1)])
    forged = reminder("esc-a", 2).model_copy(update={"prev_hash": "f" * 64})
    ack = await own_log.js.publish(forged.subject, forged.canonical_json(), headers={"Nats-Msg-Id": forged.event_id})

    report = await verify_log(own_log)
    assert not report.intact
    assert report.broken == [{"sequence": ack.seq, "subject": forged.subject, "event_id": forged.event_id}]


def test_asyncapi_documents_list_every_command_with_its_schema_and_allowed_kinds():
    docs = {i.service: document(i) for i in interfaces(Settings())}
    requests = docs["requests"]
    assert requests["asyncapi"] == "3.0.0"
    channel = requests["channels"]["cmd_RequestActivity"]
    assert channel["address"] == "jf.cmd.{org_id}.requests.RequestActivity"
    payload = requests["components"]["messages"]["RequestActivity"]["payload"]
    assert payload == {"$ref": "#/components/schemas/RequestActivity"}
    schema = requests["components"]["schemas"]["RequestActivity"]
    assert {"command_id", "target_semester", "scope", "budget"} <= set(schema["required"])
    envelope = requests["components"]["messages"]["ActivityRequested"]["payload"]
    assert envelope["properties"]["data"] == {"$ref": "#/components/schemas/ActivityRequested"}
    assert "education_bureau" in docs["approvals"]["operations"]["cmd_CertifyActivity"]["description"]
    assert docs["approvals"]["channels"]["approvals-screening"]["address"] == "jf.ev.activity.>"
    emitted = docs["approvals"]["channels"]["emit_SemesterListPublished"]["address"]
    assert emitted == "jf.ev.campus_entry_semester.{aggregate_id}"
    assert docs["compliance"]["channels"]["projection_0"]["address"] == "jf.ev.>"
    assert docs["notifications"]["channels"]["send_EscalationAlert"]["address"].startswith("jf.alert.{org_id}.")


def test_committed_asyncapi_documents_are_what_the_code_generates_now(tmp_path):
    """docs/asyncapi is regenerated with `make docs`; a stale, hand-edited or left-over file fails here."""
    committed = Path(__file__).parents[2] / "docs" / "asyncapi"
    fresh = {path.name: path.read_text() for path in write_documents(tmp_path, Settings())}
    assert sorted(path.name for path in committed.glob("*.json")) == sorted(fresh)
    for name, text in fresh.items():
        assert (committed / name).read_text() == text, f"docs/asyncapi/{name} is stale: run `make docs`"
