"""S3: one unreadable stored event halts no approvals read (issue 8). A hand-stored poison (a valid
envelope whose data the schema refuses, or an event type no catalogue knows) is passed over by the
round's search for candidates, by the list's gathering of admissions and by screening's read of
the region's catalogue, which carry on with what they can read. A round's parts are stored together. Each test runs requests and approvals on a log of its own, since poison
never reaches the session's shared log."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import date

import pytest
from jianfu.approvals.domain.certification_round import CertificationRound, in_parts
from jianfu.events import catalogue
from jianfu.events.schemas.campus_entry import (
    ROUND_PART_PLACES,
    CampusEntrySlotTaken,
    CertificationRoundDecided,
    RoundPlace,
    Route,
    SemesterListPublished,
)
from jianfu.events.schemas.regional_catalogue import CatalogueItem, RegionalCatalogueImported
from jianfu.events.store import ConcurrencyConflict

from tests.apps import services_on
from tests.factories import SCHOOLS, application
from tests.poison import requested
from tests.s3_semester import S3Semester

BUREAU, POLICE = "edu-bureau", "dept-public-security"
SEMESTER, YEAR = "2041-autumn", 2041  # a year no other test writes to


async def store_raw(log, envelope: dict) -> int:
    """Store an envelope as a hand would, past every check of the edge."""
    subject = f"jf.ev.{envelope['aggregate_type']}.{envelope['aggregate_id']}"
    return (await log.js.publish(subject, json.dumps(envelope, ensure_ascii=False).encode(),
                                 stream="JIANFU_EVENTS")).seq


async def decision_of(store, activity_id: str, timeout: float = 5.0):
    """The activity's first decision, waiting for screening to make it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = (await store.load("activity", activity_id)).envelopes
        if len(events) > 1:
            return events[1]
        await asyncio.sleep(0.05)
    return None


async def test_s3_a_poison_activity_event_is_no_candidate_and_the_round_is_still_decided(log, tmp_path):
    """S3 集中认定: an unreadable activity event in the log (a route no schema knows, an unknown
    event type) is passed over; the semester's round decides the declarations it can read."""
    wrong_route, unknown_type = requested(SEMESTER), requested(SEMESTER)
    wrong_route["data"]["route"] = "teleport"
    unknown_type["event_type"] = "ActivityTeleported"
    for poison in (wrong_route, unknown_type):
        await store_raw(log, poison)
    form = dict(target_semester=SEMESTER, start_date=f"{YEAR}-09-10", end_date=f"{YEAR}-10-10",
                scope={"school_ids": [SCHOOLS[0]]})
    async with services_on(log, tmp_path, f"{YEAR}-07-05") as (client, clock):
        declared = []
        for level in ("national", None):
            reply = await client.command(POLICE, "requests", "RequestActivity", application(**form, basis_level=level))
            assert reply["ok"], reply
            declared.append(reply["activity_id"])
        clock.write_text(f"{YEAR}-08-20")
        decided = await client.command(BUREAU, "approvals", "DecideCertificationRound",
                                       {"command_id": str(uuid.uuid4()), "semester": SEMESTER})
    assert decided["ok"] is True, decided
    assert (decided["places"], decided["certified"]) == (2, 2)
    [part] = (await log.store.load("campus_entry_round", SEMESTER)).envelopes
    assert [place["activity_id"] for place in part.data["places"]] == declared
    assert (part.data["part"], part.data["parts"], part.data["place_count"]) == (1, 1, 2)


async def test_s3_after_a_poison_edition_of_the_catalogue_the_edition_before_it_still_checks_claims(log, tmp_path):
    """S3 exemptions: a hand-stored edition no reader can parse (edition 0) is passed over by
    screening; the edition in force before it still decides each claim, admitting the item it
    lists and refusing one it does not, so no valid declaration is left undecided."""
    s = S3Semester(log.store)
    edition = RegionalCatalogueImported(edition=1, title="目录", in_force_from=date(2021, 9, 1), items=(
        CatalogueItem(item_id="rc-1-1", item_name="法治进校园", organizer_org_ids=(POLICE,), max_per_year=None,
                      max_per_semester=None, stages=()),))
    before = await s._append(s._context(BUREAU).event(edition, "region"))
    poison = s._context(BUREAU).event(edition.model_copy(update={"items": ()}), "region").model_dump(mode="json")
    poison["data"]["edition"] = 0
    poison["prev_hash"] = before.chain_hash  # it continues the chain: every load reads it
    await store_raw(log, poison)
    async with services_on(log, tmp_path, "2026-07-10") as (client, _clock):
        outcomes = []
        for reference in ("法治进校园", "并不存在的目录项目"):
            claim = {"category": "regional_catalogue", "reference": reference}
            reply = await client.command(POLICE, "requests", "RequestActivity", application(exemption_claim=claim))
            assert reply["ok"] is True, reply
            decision = await decision_of(log.store, reply["activity_id"])
            outcomes.append(decision and (decision.event_type, decision.data.get("refusal_code")))
    assert outcomes == [("ActivityExemptionRecorded", None), ("ActivityRejected", "EXEMPTION_UNSUPPORTED")]
    assert [e.data["edition"] for e in (await log.store.load("regional_catalogue", "region")).envelopes] == [1, 0]


async def test_s3_a_rounds_parts_are_stored_together_in_order_or_not_at_all(log):
    """S3 集中认定 in parts: the parts of a round are one atomic batch on the round's aggregate,
    chained in order; a batch whose aggregate moved on since it was loaded stores no part."""
    s = S3Semester(log.store)
    places = tuple(RoundPlace(activity_id=uuid.uuid4(), rank=n, priority="other") for n in range(1, 2 * ROUND_PART_PLACES + 2))
    whole = CertificationRoundDecided(semester=SEMESTER, decided_on=date(YEAR, 8, 20), places=places)
    context = s._context(BUREAU)
    history = await log.store.load("campus_entry_round", SEMESTER)
    stale = await log.store.load("campus_entry_round", SEMESTER)
    await log.store.append_together([(history, context.event(part, SEMESTER, key=str(part.part)))
                                     for part in in_parts(whole)])
    with pytest.raises(ConcurrencyConflict):  # another writer's round came first
        await log.store.append_together([(stale, s._context(BUREAU).event(part, SEMESTER, key=str(part.part)))
                                         for part in in_parts(whole)])
    read = await log.store.load("campus_entry_round", SEMESTER)
    assert [e.data["part"] for e in read.envelopes] == [1, 2, 3]
    assert CertificationRound.from_events(SEMESTER, [catalogue.parse(e) for e in read.envelopes]).places == places


async def test_s3_a_poison_slot_at_one_school_leaves_the_semesters_admissions_publishable(log, tmp_path):
    """S3 publication: the list gathers admissions from every school's quota; a hand-stored slot
    no reader can parse (a route no schema knows) is passed over, and the admission elsewhere is
    published."""
    s = S3Semester(log.store)
    slot = CampusEntrySlotTaken(semester="2026-autumn", school_id=SCHOOLS[2], activity_id=uuid.uuid4(),
                                organizer_org_id=POLICE, route=Route.EXEMPT)
    poison = s._context(BUREAU).event(slot, f"2026-autumn.{SCHOOLS[2]}").model_dump(mode="json")
    poison["data"]["route"] = "teleport"
    await store_raw(log, poison)
    async with services_on(log, tmp_path, "2026-07-10") as (client, _clock):
        claim = {"category": "city_creation", "reference": "《全国文明城市测评体系》"}
        reply = await client.command(POLICE, "requests", "RequestActivity",
                                     application(exemption_claim=claim, scope={"school_ids": [SCHOOLS[0]]}))
        assert reply["ok"] is True, reply
        decision = await decision_of(log.store, reply["activity_id"])
        assert decision is not None and decision.event_type == "ActivityExemptionRecorded", decision
        published = await client.command(BUREAU, "approvals", "PublishSemesterList",
                                         {"command_id": str(uuid.uuid4()), "semester": "2026-autumn"})
    assert published["ok"] is True, published
    assert (published["edition"], published["item_count"]) == (1, 1)


async def test_s3_a_poison_part_of_a_semesters_list_does_not_stop_its_next_edition(log, tmp_path):
    """S3 publication: the list aggregate's own history is read to number the next edition; a
    hand-stored part no reader can parse is passed over (every reader passes over it too), so the
    bureau can still publish."""
    s = S3Semester(log.store, "2026-autumn")
    part = SemesterListPublished(semester="2026-autumn", edition=1, items=(), item_count=0)
    poison = s._context(BUREAU).event(part, "2026-autumn").model_dump(mode="json")
    poison["data"]["edition"] = "first"
    await store_raw(log, poison)
    async with services_on(log, tmp_path, "2026-07-10") as (client, _clock):
        claim = {"category": "city_creation", "reference": "《全国文明城市测评体系》"}
        reply = await client.command(POLICE, "requests", "RequestActivity",
                                     application(exemption_claim=claim, scope={"school_ids": [SCHOOLS[0]]}))
        assert (await decision_of(log.store, reply["activity_id"])) is not None
        published = await client.command(BUREAU, "approvals", "PublishSemesterList",
                                         {"command_id": str(uuid.uuid4()), "semester": "2026-autumn"})
    assert published["ok"] is True, published
    assert (published["edition"], published["item_count"]) == (1, 1)
