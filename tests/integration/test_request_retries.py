"""The requests service appends a new command's event at once, expecting its aggregate empty,
and takes the full path (load, earlier outcome, decide again) only when the aggregate exists or
the decision refuses (``services/requests/handlers.py``): retries still get the original answer,
the same key with another body is still refused, and every command records one event."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from jianfu.cli.client import JianfuClient

from tests.factories import application

POLICE = "dept-public-security"


@pytest.fixture
def client(nc, services, clock_file) -> JianfuClient:
    clock_file.write_text("2026-07-10")
    return JianfuClient(nc, timeout=5.0)


async def test_s3_a_retry_after_the_july_window_gets_the_answer_given_in_the_window(client, clock_file, store):
    """S3: a regular declaration made in July is for the coming autumn; the same command retried
    in December (whose declarations are for the spring) would now be refused by the domain, but
    it was accepted, so the retry is answered from the stored event."""
    form = application()
    first = await client.command(POLICE, "requests", "RequestActivity", form)
    clock_file.write_text("2026-12-10")
    retry = await client.command(POLICE, "requests", "RequestActivity", form)
    fresh = await client.command(POLICE, "requests", "RequestActivity", application())
    assert first["ok"] and retry["ok"] and (retry["activity_id"], retry["sequence"]) == (
        first["activity_id"], first["sequence"])
    assert fresh["ok"] is False and fresh["error"]["code"] == "INVALID_FIELD"  # the window is closed for new ones
    assert len((await store.load("activity", first["activity_id"])).events) == 1


async def test_s3_racing_retries_of_one_declaration_record_one_event_and_agree(client, store):
    """S3: ten copies of one declaration sent at once (a client retrying over a bad link): all
    are answered with the same activity and sequence, and the activity holds one event."""
    form = application(command_id=str(uuid.uuid4()))
    replies = await asyncio.gather(*(client.command(POLICE, "requests", "RequestActivity", form) for _ in range(10)))
    assert {(r["ok"], r["activity_id"], r["sequence"]) for r in replies} == {
        (True, replies[0]["activity_id"], replies[0]["sequence"])}
    assert len((await store.load("activity", replies[0]["activity_id"])).events) == 1


async def test_s3_racing_bodies_under_one_command_id_record_only_the_first(client, store):
    """S3: the same command id sent at once with two bodies: one is recorded, the other refused
    as a reused id, never stored beside it."""
    command_id = str(uuid.uuid4())
    one, two = await asyncio.gather(
        client.command(POLICE, "requests", "RequestActivity", application(command_id=command_id)),
        client.command(POLICE, "requests", "RequestActivity", application(command_id=command_id, title="另一项活动")))
    accepted = [r for r in (one, two) if r["ok"]]
    refused = [r for r in (one, two) if not r["ok"]]
    assert len(accepted) == 1 and [r["error"]["code"] for r in refused] == ["COMMAND_ID_REUSED"]
    assert len((await store.load("activity", accepted[0]["activity_id"])).events) == 1
