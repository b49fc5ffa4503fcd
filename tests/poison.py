"""Poison events for the quarantine tests: envelopes a reader cannot apply, published straight to
the stream (as an older version, or a hand, could have written them), and a log of the test's
own to publish them to, so the session's shared log stays clean."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import nats
import sqlalchemy as sa
from jianfu.cli.embedded_nats import EmbeddedNats
from jianfu.compliance.read_model import LIVE
from jianfu.events.envelope import SYSTEM_ACTOR, Actor
from jianfu.events.organisations import OrgKind
from jianfu.events.provisioning import provision
from jianfu.events.quarantine import stored_alerts
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.campus_entry import ActivityHeldReported, ActivityRequested, Route
from jianfu.events.schemas.compliance import Rule, ViolationDetected, violation_id
from jianfu.events.store import EventStore
from nats.js.client import JetStreamContext

from tests.factories import POLICY, application

STREAM = "JIANFU_EVENTS"


@dataclass(frozen=True)
class OwnLog:
    url: str
    nc: nats.NATS
    js: JetStreamContext
    store: EventStore


@asynccontextmanager
async def own_log(folder: Path) -> AsyncIterator[OwnLog]:
    """A provisioned nats-server of the test's own."""
    server = EmbeddedNats(folder).start()
    nc = await nats.connect(server.url)
    try:
        await provision(nc.jetstream())
        yield OwnLog(server.url, nc, nc.jetstream(), EventStore(nc.jetstream()))
    finally:
        await nc.close()
        server.stop()


def _context(org_id: str, kind: OrgKind) -> CommandContext:
    return CommandContext(Actor(org_id=org_id, org_kind=kind), str(uuid.uuid4()), str(uuid.uuid4()),
                          POLICY.version, datetime(2026, 7, 10, 9, tzinfo=UTC))


def requested(semester: str = "2026-autumn", **budget: object) -> dict:
    """A well-formed ActivityRequested envelope as JSON data, ready to be spoiled."""
    form = application(target_semester=semester)
    form.pop("command_id")
    event = ActivityRequested(**form, activity_id=uuid.uuid4(), applicant_org_id="dept-fire", route=Route.REGULAR,
                              declared_on=date(2026, 7, 10), in_window=True,
                              school_ids=tuple(form["scope"]["school_ids"]))
    envelope = _context("dept-fire", OrgKind.DEPARTMENT).event(event, str(event.activity_id)).model_dump(mode="json")
    envelope["data"]["budget"].update(budget)
    return envelope


def held(participants: int = 300) -> dict:
    report = ActivityHeldReported(report_id=uuid.uuid4(), school_id="school-dwk-primary-1", organizer_org_id="dept-fire",
                                  activity_id=None, title="消防安全讲座", held_on=date(2026, 10, 20),
                                  semester="2026-autumn", participants=300, teacher_hours=1.0)
    envelope = _context("school-dwk-primary-1", OrgKind.SCHOOL).event(report, str(report.report_id))
    spoiled = envelope.model_dump(mode="json")
    spoiled["data"]["participants"] = participants
    return spoiled


def detected(unit: str = "dept-fire") -> dict:
    evidence = uuid.uuid4().hex
    found = ViolationDetected(
        violation_id=violation_id(Rule.UNAUTHORIZED_CAMPUS_ENTRY, unit, evidence), rule=Rule.UNAUTHORIZED_CAMPUS_ENTRY,
        clause="S3", responsible_org_id=unit, school_id="school-dwk-primary-1", semester="2026-autumn",
        issue_key=f"{unit}:{Rule.UNAUTHORIZED_CAMPUS_ENTRY.value}", summary=f"{unit}未经认定开展进校园活动。",
        evidence={"report_event_id": evidence})
    context = CommandContext(SYSTEM_ACTOR, found.violation_id, str(uuid.uuid4()), POLICY.version,
                             datetime(2026, 10, 21, tzinfo=UTC))
    return context.event(found, found.violation_id).model_dump(mode="json")


def subject_of(envelope: dict) -> str:
    return f"jf.ev.{envelope['aggregate_type']}.{envelope['aggregate_id']}"


async def publish(js: JetStreamContext, envelope: dict | bytes, subject: str | None = None) -> int:
    """Straight to the stream, past every check of the command edge; returns its sequence."""
    data = envelope if isinstance(envelope, bytes) else json.dumps(envelope, ensure_ascii=False).encode()
    return (await js.publish(subject or subject_of(envelope), data, stream=STREAM)).seq


async def activity_poison(js: JetStreamContext) -> dict[str, int]:
    """The four poison events of issue 5 on ``jf.ev.activity.<id>``: name -> stream sequence."""
    nul = requested()
    nul["data"]["title"] = "法治进校园\u0000宣讲"
    unknown = requested()
    unknown["event_type"] = "ActivityTeleported"
    return {
        "nul_in_title": await publish(js, nul),
        "amount_null": await publish(js, requested(amount_yuan=None)),
        "unknown_type": await publish(js, unknown),
        "not_json": await publish(js, b"\xff\xfe not json {", f"jf.ev.activity.{uuid.uuid4()}"),
    }


async def violation_poison(js: JetStreamContext) -> dict[str, int]:
    """Poison on ``jf.ev.violation.<id>``, where the notifications ladder listens."""
    bad_rule = detected()
    bad_rule["data"]["rule"] = "NoSuchRule"
    unknown = detected()
    unknown["event_type"] = "ViolationForgiven"
    return {
        "bad_rule": await publish(js, bad_rule),
        "unknown_type": await publish(js, unknown),
        "not_json": await publish(js, b"{\"event_id\": \"x\", ", f"jf.ev.violation.{uuid.uuid4().hex}"),
    }


async def consumed(js: JetStreamContext, durable: str, sequence: int, timeout: float = 15.0) -> None:
    """Wait until the durable consumer has acked everything up to ``sequence``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            info = await js.consumer_info(STREAM, durable)
        except nats.js.errors.NotFoundError:
            info = None
        if info and info.ack_floor.stream_seq >= sequence and info.num_pending == 0 and info.num_ack_pending == 0:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{durable} did not ack up to {sequence} within {timeout}s")


async def alerts_by_sequence(js, service: str, expect: int = 0, timeout: float = 5.0,
                             consumer: str | None = None) -> dict[int, list]:
    """The service's stored quarantine alerts (of one ``consumer``, if given) by stream sequence;
    waits (up to ``timeout``) for at least ``expect`` sequences, since a consumer publishes its
    alerts after it has committed."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found: dict[int, list] = {}
        for alert in await stored_alerts(js):
            if alert.service == service and consumer in (None, alert.consumer):
                found.setdefault(alert.stream_sequence, []).append(alert)
        if len(found) >= expect or asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.05)


async def quarantined_rows(engine) -> dict[int, dict]:
    async with engine.connect() as conn:
        return {row.sequence: dict(row._mapping) for row in await conn.execute(sa.select(LIVE.quarantined_events))}


async def run_until_consumed(log: OwnLog, build, durable: str, sequence: int) -> None:
    """Run the service app ``build`` makes on ``log`` until its ``durable`` consumer has taken
    ``sequence``, then stop it."""
    from jianfu.events.settings import Settings

    app = build(Settings(nats_url=log.url, log_level="WARNING"))
    await app.start()
    try:
        await consumed(log.js, durable, sequence)
    finally:
        await app.stop()
