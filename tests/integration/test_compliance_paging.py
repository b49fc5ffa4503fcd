"""Growing answers come in pages over real request-reply: every row exactly once, no reply near
NATS's 1 MB max_payload, a cursor nobody wrote refused. The read model is filled directly (a
fresh database) with violations as large as the detector makes them from max-length input."""

from __future__ import annotations

import json
import uuid
from contextlib import asynccontextmanager

import pytest
from jianfu.compliance.app import interface
from jianfu.compliance.database import make_engine
from jianfu.compliance.migrations import migrate
from jianfu.compliance.paging import PAGE_BYTES, row_bytes, write_cursor
from jianfu.compliance.read_model import LIVE
from jianfu.events.dependencies import Deps
from jianfu.events.runtime import launch, make_app, make_broker
from jianfu.events.schemas.paging import MAX_PAGE_ROWS
from jianfu.events.settings import Settings, SystemClock

from tests.conftest import fresh_database
from tests.factories import DIRECTORY, POLICY
from tests.large_rows import APPLIED, application_row, violation_row

NATS_MAX_PAYLOAD = 1024 * 1024
REGISTER = "2026-autumn"  # the bulk of the register
HUGE = "2027-spring"  # violations whose titles lie outside the BMP (9 KB a row escaped)
FOUND_LIVE = "2028-spring"  # violations found while a client pages through


async def insert_violations(engine, rows: list[dict]) -> None:
    async with engine.begin() as conn:
        await conn.execute(LIVE.violations.insert(), rows)


@asynccontextmanager
async def serving(nats_url: str, engine):
    """The compliance queries served as the service serves them (queue group, reply encoding),
    without a projector: the read model holds only what a test puts there."""
    settings = Settings(nats_url=nats_url, log_level="WARNING")
    broker = make_broker(settings)
    app = make_app(broker)
    launch(broker, settings, interface(Deps(None, DIRECTORY, POLICY, SystemClock()), settings, engine))
    await app.start()
    try:
        yield
    finally:
        await app.stop()


@pytest.fixture(scope="module")
async def register(nats_server):
    """1,700 of the largest violations (about 9 MB of JSON), and 150 whose titles expand under
    lie outside the BMP (9 KB a row), in a read model of their own, served over the session's nats-server."""
    async with fresh_database("paging") as url:
        await migrate(url)
        engine = make_engine(url)
        await insert_violations(engine, [violation_row(seq, REGISTER, "进校园" * 66 + "活动")
                                         for seq in range(10, 10 + 1700)])
        await insert_violations(engine, [violation_row(seq, HUGE, "\U00020000" * 200) for seq in range(5000, 5150)])
        async with serving(nats_server.url, engine):
            yield engine
        await engine.dispose()


async def ask(nc, org: str, query: str, **body) -> tuple[dict, int]:
    """A query over real request-reply: the reply and its size on the wire."""
    reply = await nc.request(f"jf.q.{org}.compliance.{query}", json.dumps(body).encode(), timeout=5)
    return json.loads(reply.data), len(reply.data)


async def read_all(nc, org: str, query: str, cursor: str | None = None, **body) -> tuple[list[dict], list[int]]:
    """Every page from ``cursor`` (or the first) to the one whose next_cursor is null: replies
    and their sizes on the wire."""
    pages, sizes = [], []
    while True:
        reply, size = await ask(nc, org, query, **body, **({"cursor": cursor} if cursor else {}))
        assert reply["ok"], reply
        pages.append(reply)
        sizes.append(size)
        if (cursor := reply["next_cursor"]) is None:
            return pages, sizes


async def test_the_register_would_not_fit_one_reply_but_every_page_does(register, nc):
    pages, sizes = await read_all(nc, "edu-bureau", "GetViolations", semester=REGISTER, limit=MAX_PAGE_ROWS)
    rows = [v for page in pages for v in page["violations"]]
    assert sum(len(json.dumps(v, ensure_ascii=False).encode()) for v in rows[:1000]) > NATS_MAX_PAYLOAD
    assert max(sizes) < NATS_MAX_PAYLOAD // 2


async def test_every_violation_comes_back_exactly_once_newest_first(register, nc):
    pages, _ = await read_all(nc, "supervision-office", "GetViolations", semester=REGISTER, limit=MAX_PAGE_ROWS)
    sequences = [v["sequence"] for page in pages for v in page["violations"]]
    assert sequences == list(range(10 + 1700 - 1, 9, -1))
    # The largest rows (about 6 KB escaped) end each page by bytes, short of the 100 rows asked for.
    assert all(page["count"] < MAX_PAGE_ROWS for page in pages)
    for full, following in zip(pages, pages[1:], strict=False):
        taken = sum(row_bytes(v) for v in full["violations"])
        assert taken <= PAGE_BYTES < taken + row_bytes(following["violations"][0])


async def test_rows_larger_than_the_schemas_usual_worst_end_a_page_early_and_none_is_lost(register, nc):
    pages, sizes = await read_all(nc, "edu-bureau", "GetViolations", semester=HUGE, limit=MAX_PAGE_ROWS)
    assert sorted(v["sequence"] for page in pages for v in page["violations"]) == list(range(5000, 5150))
    assert all(page["count"] < MAX_PAGE_ROWS for page in pages) and len(pages) > 1
    assert max(sizes) <= PAGE_BYTES + 4096


async def test_the_default_page_is_fifty_and_a_unit_pages_through_only_its_own(register, nc):
    first, _ = await ask(nc, "edu-bureau", "GetViolations", semester=REGISTER)
    assert first["count"] == 50 and first["next_cursor"]
    unit, _ = await ask(nc, "dept-housing", "GetViolations")
    assert unit["ok"] and unit["violations"] == [] and unit["next_cursor"] is None


async def test_violations_found_while_a_client_pages_through_do_not_shift_its_pages(register, nc):
    await insert_violations(register, [violation_row(seq, FOUND_LIVE, "消防演练") for seq in range(9001, 9251)])
    first, _ = await ask(nc, "edu-bureau", "GetViolations", semester=FOUND_LIVE, limit=100)
    # found meanwhile: later in the stream, so newer than everything already listed
    await insert_violations(register, [violation_row(seq, FOUND_LIVE, "新发现") for seq in range(9251, 9401)])
    rest, _ = await read_all(nc, "edu-bureau", "GetViolations", semester=FOUND_LIVE, limit=100,
                             cursor=first["next_cursor"])
    sequences = [v["sequence"] for page in [first, *rest] for v in page["violations"]]
    assert sequences == list(range(9250, 9000, -1))


@pytest.mark.parametrize("cursor", [
    "not a cursor!",  # outside base64url
    "WyJHZXRWaW9sYXRpb25zIiwxMjNd=",  # padded: not the spelling this service writes
    "WyJHZXRWaW9sYXRpb25zIiwxMjNdA",  # truncated base64
    "bm90IGpzb24",  # base64 of "not json"
    "WyJHZXRBcHBsaWNhdGlvbnMiLDEsIngiXQ",  # a GetApplications cursor
    "WyJHZXRWaW9sYXRpb25zIiwtMV0",  # a negative sequence
    "WyJHZXRWaW9sYXRpb25zIiwiMTIzIl0",  # the sequence as a string
    "A" * 201,  # longer than any cursor
    "",
])
async def test_a_cursor_this_service_did_not_write_is_an_invalid_field(register, nc, cursor):
    reply, _ = await ask(nc, "edu-bureau", "GetViolations", cursor=cursor)
    assert reply["ok"] is False
    assert (reply["error"]["code"], reply["error"]["field"]) == ("INVALID_FIELD", "cursor")


@pytest.mark.parametrize("limit", [0, MAX_PAGE_ROWS + 1, "50", 50.0, True, None])
async def test_a_limit_that_is_not_a_whole_number_up_to_the_maximum_is_an_invalid_field(register, nc, limit):
    reply, _ = await ask(nc, "edu-bureau", "GetViolations", limit=limit)
    assert (reply["error"]["code"], reply["error"]["field"]) == ("INVALID_FIELD", "limit")


@pytest.fixture(scope="module")
async def applications(register):
    """230 applications requested at sequences 100..329 (every third rejected), each for every
    school, and one known only from its refusal (its request never projected)."""
    ids = {seq: str(uuid.UUID(int=seq)) for seq in range(100, 330)}
    rows = [application_row(seq, ids[seq], "rejected" if seq % 3 == 0 else "certified") for seq in ids]
    orphan = application_row(None, str(uuid.UUID(int=999)), "rejected")
    async with register.begin() as conn:
        await conn.execute(LIVE.applications.insert(), [*rows, orphan])
        await conn.execute(LIVE.application_schools.insert(), [
            {"semester": APPLIED, "school_id": school, "activity_id": row["activity_id"]}
            for row in (*rows, orphan) for school in DIRECTORY.school_ids])
    return [orphan["activity_id"], *ids.values()]


async def test_applications_come_back_exactly_once_in_request_order_with_counts_on_every_page(applications, nc):
    pages, sizes = await read_all(nc, "edu-bureau", "GetApplications", semester=APPLIED, limit=MAX_PAGE_ROWS)
    assert [a["activity_id"] for page in pages for a in page["applications"]] == applications
    assert all(a["school_ids"] == DIRECTORY.school_ids for page in pages for a in page["applications"])
    assert {json.dumps(page["counts"]) for page in pages} == {json.dumps(
        {"total": 231, "by_status": {"certified": 154, "rejected": 77}, "by_refusal_code": {"SCOPE_TOO_BROAD": 77}})}
    # 2,000-character reasons end pages before the limit, never above the page budget
    assert any(len(page["applications"]) < MAX_PAGE_ROWS and page["next_cursor"] for page in pages)
    assert max(sizes) <= PAGE_BYTES + 4096


async def test_the_status_filter_narrows_every_page_and_not_the_counts(applications, nc):
    pages, _ = await read_all(nc, "supervision-office", "GetApplications", semester=APPLIED, status="rejected",
                              limit=30)
    rejected = [a for page in pages for a in page["applications"]]
    assert [a["activity_id"] for a in rejected] == [applications[0]] + [
        str(uuid.UUID(int=seq)) for seq in range(100, 330) if seq % 3 == 0]
    assert {a["status"] for a in rejected} == {"rejected"} and pages[-1]["counts"]["total"] == 231


async def test_a_violations_cursor_is_refused_by_get_applications(register, nc):
    first, _ = await ask(nc, "edu-bureau", "GetViolations", semester=REGISTER, limit=1)
    reply, _ = await ask(nc, "edu-bureau", "GetApplications", semester=APPLIED, cursor=first["next_cursor"])
    assert (reply["error"]["code"], reply["error"]["field"]) == ("INVALID_FIELD", "cursor")


@pytest.mark.parametrize("query,key", [("GetViolations", (10**26,)), ("GetApplications", (10**26, str(uuid.UUID(int=1)))),
                                       ("GetApplications", (2**63, str(uuid.UUID(int=1)))),
                                       ("GetSemesterList", (2**31, 0)), ("GetSemesterList", (1, 2**40))])
async def test_a_forged_cursor_beyond_any_sequence_is_an_invalid_field_not_an_internal_error(register, nc, query, key):
    reply, _ = await ask(nc, "edu-bureau", query, semester=APPLIED if query != "GetViolations" else REGISTER,
                         cursor=write_cursor(query, key))
    assert (reply["error"]["code"], reply["error"]["field"]) == ("INVALID_FIELD", "cursor")
