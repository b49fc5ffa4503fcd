"""The S3 detector as a consumer of its own (issue 7): it judges by the policy version in force
when the activity was held, and the read model's violation columns and counters come only from
the ViolationDetected events it appends. Real nats-server (a log of the test's own) and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import sqlalchemy as sa
from jianfu.compliance.domain.s3_detection import s3_detection
from jianfu.compliance.projector import Projector, ProjectorOptions
from jianfu.compliance.read_model import LIVE
from jianfu.compliance.standby import cancel_and_wait
from jianfu.events.policy import Policy
from jianfu.events.schemas.campus_entry import ActivityHeldReported, ExemptCategory, ExemptionClaim
from jianfu.events.schemas.compliance import Rule
from jianfu.events.schemas.regional_catalogue import CatalogueItem, RegionalCatalogueImported

from tests.factories import POLICY
from tests.s3_semester import NAMES, S3Semester, running, settle

UNITS = ["dept-public-security", "dept-fire", "dept-health", "youth-league"]
OLD, NEW = "test-cap-3", "test-cap-4"


def two_versions(switch_on: date) -> Policy:
    """Cap 3 until ``switch_on``, cap 4 from it."""
    return Policy.model_validate({
        "version": NEW, "in_force_from": switch_on, "campus_entry": {"items_per_school_per_semester": 4},
        "previous": [{"version": OLD, "in_force_from": POLICY.in_force_from,
                      "campus_entry": {"items_per_school_per_semester": 3}}]})


async def violations(engine, semester: str) -> list[dict]:
    v = LIVE.violations
    async with engine.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(sa.select(v).where(v.c.semester == semester))]


async def counters(engine, semester: str, school: str) -> dict:
    c = LIVE.campus_entries
    async with engine.connect() as conn:
        row = (await conn.execute(sa.select(c).where(c.c.semester == semester, c.c.school_id == school))).one()
    return dict(row._mapping)


async def test_s3_each_report_is_judged_by_the_cap_in_force_on_the_day_it_was_held(engine, log):
    s = S3Semester(log.store)
    switch_on = date(s.year, 10, 1)
    before, after = "school-dwk-primary-1", "school-dwk-primary-2"
    requests = [await s.request(unit, [before, after]) for unit in UNITS]
    for request in requests:
        await s.certify(request)
    await s.publish(*requests)  # S3: the published list admits
    for request in requests:  # four items at each school: one over the old cap, none over the new one
        await s.held(before, request.applicant_org_id, request.title, request.activity_id, date(s.year, 9, 20))
        await s.held(after, request.applicant_org_id, request.title, request.activity_id, date(s.year, 10, 20))
    async with running(engine, log.js, log.store, detection=s3_detection(two_versions(switch_on), NAMES)) as both:
        await settle(both, log.store)

    [found] = await violations(engine, s.semester)
    assert (found["rule"], found["school_id"], found["responsible_org_id"]) == (
        Rule.CAMPUS_ENTRY_QUOTA_EXCEEDED.value, before, UNITS[3])
    assert found["evidence"]["cap"] == 3
    [event] = (await log.store.load("violation", found["violation_id"])).envelopes
    assert event.policy_version == OLD


async def test_s3_the_read_model_counts_violations_only_from_violation_events(engine, log):
    s = S3Semester(log.store)
    school = "school-dwk-middle-1"
    await s.held(school, "dept-fire", "消防器材推介")  # never declared: UnauthorizedCampusEntry
    options = ProjectorOptions(durable=f"alone-{uuid.uuid4().hex[:6]}", fetch_timeout=0.2, standby_poll=0.1)
    alone = Projector(engine, log.js, options)
    task = asyncio.create_task(alone.run())
    try:
        await alone.wait_for(await log.store.last_sequence())
        assert (await counters(engine, s.semester, school))["unauthorised_entries"] == 0
        assert await violations(engine, s.semester) == []
    finally:
        await cancel_and_wait(task)

    async with running(engine, log.js, log.store, durable=options.durable) as both:  # now the detector runs
        await settle(both, log.store)
    [found] = await violations(engine, s.semester)
    assert found["rule"] == Rule.UNAUTHORIZED_CAMPUS_ENTRY.value
    assert (await counters(engine, s.semester, school))["unauthorised_entries"] == 1
    h = LIVE.held_reports
    async with engine.connect() as conn:
        assert await conn.scalar(sa.select(h.c.unauthorised_violation_id).where(h.c.semester == s.semester)) == (
            found["violation_id"])


async def report(s: S3Semester, school: str, title: str, organizer: str | None = None, organizer_name: str = "",
                 claim: ExemptionClaim | None = None) -> None:
    """A school's report as requests records it: by a directory unit, or by an outside one's name."""
    held = ActivityHeldReported(report_id=uuid.uuid4(), school_id=school, organizer_org_id=organizer,
                                organizer_name=organizer_name or NAMES.get(organizer, ""), activity_id=None,
                                title=title, held_on=date(s.year, 10, 20), semester=s.semester, participants=40,
                                teacher_hours=1.0, exemption_claim=claim)
    await s._append(s._context(school).event(held, str(held.report_id)))


async def test_s3_the_published_list_is_the_authority_through_the_running_detector(engine, log):
    """Issue 8: certified but not published admits nobody; after a correction, edition 2 decides."""
    s = S3Semester(log.store)
    school = "school-dwk-primary-3"
    kept, dropped, unpublished = [await s.request(unit, [school]) for unit in UNITS[:3]]
    for request in (kept, dropped, unpublished):
        await s.certify(request)
    await s.publish(kept, dropped)
    await s.publish(kept, edition=2)  # the bureau corrects the list: `dropped` is off it
    for request in (kept, dropped, unpublished):
        await report(s, school, request.title, request.applicant_org_id)
    async with running(engine, log.js, log.store) as both:
        await settle(both, log.store)
    found = sorted((v["responsible_org_id"], v["evidence"]["ground"]) for v in await violations(engine, s.semester))
    assert found == sorted([(dropped.applicant_org_id, "not_on_list"), (unpublished.applicant_org_id, "not_on_list")])


async def test_s3_outside_units_and_catalogue_claims_through_the_running_detector(engine, log):
    """Issue 8: an outside unit is charged by name and routed to the bureau; a claim the region's
    catalogue supports is recorded, one it does not is charged."""
    s = S3Semester(log.store)
    school = "school-dwk-middle-2"
    item = CatalogueItem(item_id="rc-1-1", item_name="法治进校园", organizer="区公安分局",
                         organizer_org_ids=("dept-public-security",), max_per_year=2, max_per_semester=None, stages=())
    catalogue = RegionalCatalogueImported(edition=1, title="自治区目录", in_force_from=date(2021, 9, 1), items=(item,))
    await s._append(s._context("edu-bureau").event(catalogue, "region"))
    regional = ExemptCategory.REGIONAL_CATALOGUE
    await report(s, school, "法治讲座", "dept-public-security", claim=ExemptionClaim(category=regional,
                                                                                   reference="法治进校园"))
    await report(s, school, "商业推介", "dept-fire", claim=ExemptionClaim(category=regional, reference="消防推介"))
    await report(s, school, "升学规划讲座", organizer_name="某某教育培训有限公司")
    async with running(engine, log.js, log.store) as both:
        await settle(both, log.store)
    found = {v["responsible_org_id"]: v for v in await violations(engine, s.semester)}
    assert set(found) == {"dept-fire", "unregistered unit: 某某教育培训有限公司"}
    assert found["dept-fire"]["evidence"]["ground"] == "exemption_unsupported"
    outsider = found["unregistered unit: 某某教育培训有限公司"]
    assert (outsider["routed_to"], outsider["evidence"]["ground"]) == ("edu-bureau", "unregistered_unit")
    h = LIVE.held_reports
    async with engine.connect() as conn:
        names = dict((await conn.execute(sa.select(h.c.title, h.c.organizer_name).where(h.c.semester == s.semester))).all())
    assert names["升学规划讲座"] == "某某教育培训有限公司"
