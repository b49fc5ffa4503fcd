"""End to end: the four services as separate processes walk a whole semester (S3, G2).

The region's catalogue imported in July, declarations in July (and one too late in August), the
bureau's round and refusals, the published list, activities held in October — some never
certified, one exempt and checked against the catalogue, one by a firm outside the directory —
the violations the detector finds and the reminders that follow, each exactly once.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter

import pytest
from jianfu.cli.client import JianfuClient
from jianfu.cli.demo import OUTSIDER, SEMESTER, walk_semester
from jianfu.events.audit import verify_log
from jianfu.notifications.alerts import subject_token

from tests.e2e.fleet import running_system
from tests.factories import DIRECTORY

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
async def system(tmp_path_factory):
    async with running_system(tmp_path_factory.mktemp("e2e"), "2026-07-01", "e2e") as running:
        demo = await walk_semester(running.client, DIRECTORY, running.set_today())
        await caught_up(running.client, await running.store.last_sequence())
        yield {"client": running.client, "demo": demo, "alerts": running.alerts, "logs": running.logs,
               "store": running.store}


async def caught_up(client: JianfuClient, sequence: int) -> None:
    """Wait until the read model reflects the log up to ``sequence`` (queries say how fresh they are)."""
    async def fresh():
        reply = await client.query("edu-bureau", "compliance", "GetSemesterList", {"semester": SEMESTER})
        return reply if reply.get("as_of_sequence", 0) >= sequence else None
    await eventually(fresh)


async def eventually(probe, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.2)


OUTSIDE = f"unregistered unit: {OUTSIDER}"
CHARGED = {"dept-health", "street-changsheng", "dept-culture-tourism", "dept-fire", OUTSIDE}


async def violations(client) -> dict:
    async def all_found():
        reply = await client.query("edu-bureau", "compliance", "GetViolations", {"semester": SEMESTER})
        return reply if reply["ok"] and reply["count"] >= len(CHARGED) else None
    return await eventually(all_found)


async def test_s3_the_published_list_holds_what_was_certified_or_exempt(system):
    reply = await system["client"].query("school-dwk-middle-1", "compliance", "GetSemesterList", {"semester": SEMESTER})
    titles = [item["title"] for item in reply["items"]]
    demo = system["demo"]
    admitted = {t for t, d in demo.decisions.items() if d == "certified"}
    exempt = {t for t in demo.activities if t not in demo.decisions and t not in ("保险知识推介讲座", "冰雪运动进校园")}
    assert reply["ok"] and reply["edition"] == demo.published_edition == 1
    assert set(titles) == admitted | exempt and len(titles) == 5


async def test_s3_refusals_by_reason_cover_automatic_and_bureau_decisions(system):
    reply = await system["client"].query("edu-bureau", "compliance", "GetApplications", {"semester": SEMESTER})
    assert reply["counts"]["by_refusal_code"] == {
        "ALREADY_IN_CURRICULUM": 1, "COMMERCIAL_OR_FEE": 1, "DUPLICATES_HIGHER_LEVEL": 1,
        "OUTSIDE_WINDOW_NO_URGENCY": 1, "QUOTA_EXCEEDED": 2, "SCOPE_TOO_BROAD": 1,
    }
    assert reply["counts"]["by_status"] == {"certified": 4, "exempt": 1, "rejected": 7}


async def test_s3_no_school_holds_more_authorised_items_than_the_cap(system):
    reply = await system["client"].query("edu-bureau", "compliance", "GetCampusEntryCounters", {"semester": SEMESTER})
    assert all(school["authorised_items"] <= reply["cap"] for school in reply["schools"])
    primary_1 = next(s for s in reply["schools"] if s["school_id"] == "school-dwk-primary-1")
    assert primary_1["authorised_items"] == reply["cap"] == 4


async def test_s3_uncertified_entries_are_violations_found_once_each(system):
    reply = await violations(system["client"])
    found = Counter((v["rule"], v["responsible_org_id"]) for v in reply["violations"])
    assert found == {
        ("UnauthorizedCampusEntry", "dept-health"): 1,  # certification refused over the cap
        ("UnauthorizedCampusEntry", "street-changsheng"): 1,  # commercial, refused
        ("UnauthorizedCampusEntry", "dept-culture-tourism"): 1,  # out of window, reported twice
        ("UnauthorizedCampusEntry", "dept-fire"): 1,  # claimed an exemption the catalogue does not hold
        ("UnauthorizedCampusEntry", OUTSIDE): 1,  # a firm outside the directory
    }


async def test_s3_an_exemption_claim_is_checked_against_the_imported_catalogue(system):
    """Issue 8: every reference row imports as published; the entry the catalogue bears out is
    recorded (no violation for dept-housing), the claim it does not is charged."""
    assert system["demo"].catalogue["ok"] and system["demo"].catalogue["item_count"] == 16
    reply = await violations(system["client"])
    by_unit = {v["responsible_org_id"]: v for v in reply["violations"]}
    assert "dept-housing" not in by_unit
    assert by_unit["dept-fire"]["evidence"]["ground"] == "exemption_unsupported"


async def test_s3_an_outside_units_entry_is_charged_by_name_and_routed_to_the_bureau(system):
    reply = await violations(system["client"])
    outsider = next(v for v in reply["violations"] if v["responsible_org_id"] == OUTSIDE)
    assert (outsider["routed_to"], outsider["school_id"]) == ("edu-bureau", "school-dwk-primary-3")


async def test_violation_carries_the_correlation_id_of_the_schools_report(system):
    await violations(system["client"])
    report = next(r for r in system["demo"].reports if r["organizer"] == "dept-health")
    events = [e async for e in system["store"].replay(1)]
    violation = next(e.envelope for e in events if e.envelope.event_type == "ViolationDetected"
                     and e.envelope.data["responsible_org_id"] == "dept-health")
    assert violation.correlation_id == report["correlation_id"]


async def test_g2_each_violation_gets_one_reminder_alert_to_the_responsible_unit(system):
    await violations(system["client"])
    alerts = system["alerts"]

    async def every_one():
        return alerts if len(alerts) >= len(CHARGED) else None

    await eventually(every_one)
    await asyncio.sleep(1.0)  # a duplicate would arrive in this time
    recipients = Counter(subject.split(".")[2] for subject, _ in alerts)
    assert recipients == {subject_token(unit): 1 for unit in CHARGED}
    assert all(subject.split(".")[3] == "reminder" for subject, _ in alerts)
    [(_, outsider)] = [(s, a) for s, a in alerts if a["responsible_org_id"] == OUTSIDE]
    assert outsider["issued_by"] == "edu-bureau"  # S3: the bureau acts on units outside the directory


async def test_services_log_only_json_lines_and_commands_carry_their_correlation_ids(system):
    for service in ("requests", "approvals", "compliance", "notifications"):
        lines = (system["logs"] / f"{service}.log").read_text().splitlines()
        parsed = [json.loads(line) for line in lines]  # a line that is not JSON fails here
        assert parsed and all(line["service"] == service for line in parsed)
    handled = [line for line in map(json.loads, (system["logs"] / "requests.log").read_text().splitlines())
               if line.get("event") == "command_handled"]
    assert handled and all(line["correlation_id"] for line in handled)
    report = system["demo"].reports[0]
    assert any(line["correlation_id"] == report["correlation_id"] for line in handled)


async def test_auditor_finds_every_hash_chain_of_the_semester_intact(system):
    report = await verify_log(system["store"])
    assert report.intact and report.events > 30
