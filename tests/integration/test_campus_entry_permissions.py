"""S3: who may declare, reject and publish, through real request-reply with requests and
approvals running against real NATS; and the policy version every event records.

The services run under a policy file of this module's own version and clock, and declare for a
semester nobody else uses, so nothing here depends on or disturbs other tests."""

from __future__ import annotations

import uuid

import pytest
from jianfu.cli.client import JianfuClient
from jianfu.events.organisations import DECLARING_KINDS, OrgKind
from jianfu.events.settings import REFERENCE, Settings

from tests.apps import command_services
from tests.factories import DIRECTORY, SCHOOLS, application

SEMESTER = "2033-autumn"
VERSION = "dawukou-2021.1-permissions-test"
BUREAU, POLICE = "edu-bureau", "dept-public-security"


@pytest.fixture(scope="module")
async def client(nats_server, nc, tmp_path_factory) -> JianfuClient:
    policy = tmp_path_factory.mktemp("policy") / "policy.toml"
    text = (REFERENCE / "policy.toml").read_text(encoding="utf-8")
    policy.write_text(text.replace('version = "dawukou-2021.1"', f'version = "{VERSION}"'), encoding="utf-8")
    settings = Settings(nats_url=nats_server.url, clock="fixed:2033-07-10", policy_path=policy, log_level="WARNING")
    async with command_services(settings):
        yield JianfuClient(nc, timeout=2.0)


async def declare(client: JianfuClient, org: str = POLICE) -> dict:
    form = application(target_semester=SEMESTER, start_date="2033-09-10", end_date="2033-10-10")
    return await client.command(org, "requests", "RequestActivity", form)


async def reject(client: JianfuClient, org: str, activity_id: str) -> dict:
    return await client.command(org, "approvals", "RejectActivity", {
        "command_id": str(uuid.uuid4()), "activity_id": activity_id,
        "refusal_code": "SCOPE_TOO_BROAD", "reason": "覆盖全部学校，范围过大"})


@pytest.mark.parametrize("kind", sorted(DECLARING_KINDS))
async def test_s3_departments_street_offices_mass_organisations_and_district_offices_declare(client, kind):
    reply = await declare(client, DIRECTORY.of_kind(kind)[0].org_id)
    assert reply["ok"] is True and reply["in_window"] is True, reply


@pytest.mark.parametrize("kind", [OrgKind.EDUCATION_BUREAU, OrgKind.SCHOOL])
async def test_s3_the_education_bureau_and_schools_do_not_declare(client, kind):
    reply = await declare(client, DIRECTORY.of_kind(kind)[0].org_id)
    assert reply["ok"] is False and reply["error"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("org", [POLICE, "supervision-office", SCHOOLS[0]])
async def test_s3_only_the_education_bureau_rejects_and_publishes(client, org):
    activity = await declare(client)
    publish = {"command_id": str(uuid.uuid4()), "semester": SEMESTER}
    for reply in (await reject(client, org, activity["activity_id"]),
                  await client.command(org, "approvals", "PublishSemesterList", publish)):
        assert reply["ok"] is False and reply["error"]["code"] == "FORBIDDEN"


async def test_every_event_records_the_policy_version_it_was_decided_under(client, store):
    activity = await declare(client)
    assert (await reject(client, BUREAU, activity["activity_id"]))["ok"] is True
    events = (await store.load("activity", activity["activity_id"])).envelopes  # the request, then its decision
    assert [e.event_type for e in events] == ["ActivityRequested", "ActivityRejected"]
    assert {e.policy_version for e in events} == {VERSION}
