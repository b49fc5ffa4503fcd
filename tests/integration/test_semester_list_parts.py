"""The semester list in parts (S3 Attachment 3, issue 7): a large edition is published as parts
that no event or reply brings near NATS's 1 MB payload limit; the read model shows an edition once
its last part is in, and GetSemesterList pages through it, staying with the edition it began on."""

from __future__ import annotations

import asyncio
import json

import pytest
from jianfu.approvals.domain.semester_list import SemesterList
from jianfu.compliance.app import interface
from jianfu.compliance.database import make_engine
from jianfu.compliance.migrations import migrate
from jianfu.events.dependencies import Deps
from jianfu.events.schemas.campus_entry import LIST_PART_ITEMS
from jianfu.events.settings import Settings, SystemClock

from tests.conftest import fresh_database
from tests.factories import DIRECTORY, POLICY, SCHOOLS
from tests.s3_semester import S3Semester, listing, running, settle

ITEMS = 2 * LIST_PART_ITEMS + 30


async def publish_in_parts(s: S3Semester, requests, earlier=()) -> list:
    parts = SemesterList.from_events(s.semester, earlier).publish([listing(r) for r in requests])
    for part in parts:
        await s._append(s._context("edu-bureau").event(part, s.semester, key=str(part.part)))
    return parts


@pytest.fixture
async def listed(pg_database, js, store):
    s = S3Semester(store)
    requests = await asyncio.gather(*(s.request("dept-fire", [SCHOOLS[n % len(SCHOOLS)]], title=f"安全教育{n:03d}")
                                      for n in range(ITEMS)))
    first = await publish_in_parts(s, requests[:-1])
    async with fresh_database("list_parts") as url:
        await migrate(url)
        engine = make_engine(url)
        yield s, requests, first, engine, interface(Deps(store, DIRECTORY, POLICY, SystemClock()), Settings(),
                                                    engine).routers[0]
        await engine.dispose()


async def ask(router, **payload) -> dict:
    return await router.dispatch("jf.q.school-dwk-primary-1.compliance.GetSemesterList", json.dumps(payload).encode())


async def test_s3_a_large_edition_is_read_back_page_by_page_in_its_order(listed, js, store):
    s, requests, first, engine, router = listed
    assert len(first) == 3 and max(len(p.model_dump_json()) for p in first) < 256 * 1024
    async with running(engine, js, store) as both:
        await settle(both, store)
    titles, cursor, pages = [], None, 0
    while True:
        page = await ask(router, semester=s.semester, limit=100, **({"cursor": cursor} if cursor else {}))
        assert page["ok"] and page["edition"] == 1 and page["item_count"] == ITEMS - 1
        assert len(json.dumps(page)) < 512 * 1024
        titles += [item["title"] for item in page["items"]]
        cursor, pages = page["next_cursor"], pages + 1
        if cursor is None:
            break
    assert titles == [r.title for r in requests[:-1]] and pages == 3


async def test_s3_an_edition_is_the_list_once_its_last_part_is_in_and_a_cursor_stays_with_its_edition(listed, js,
                                                                                                       store):
    s, requests, first, engine, router = listed
    async with running(engine, js, store) as both:
        await settle(both, store)
    page = await ask(router, semester=s.semester, limit=5)
    # Edition 2 arrives part by part; until its last part is in, edition 1 is the list.
    second = SemesterList.from_events(s.semester, first).publish([listing(r) for r in requests])
    for part in second[:-1]:
        await s._append(s._context("edu-bureau").event(part, s.semester, key=str(part.part)))
    async with running(engine, js, store) as both:
        await settle(both, store)
        assert (await ask(router, semester=s.semester))["edition"] == 1
        await s._append(s._context("edu-bureau").event(second[-1], s.semester, key=str(second[-1].part)))
        await settle(both, store)
    latest = await ask(router, semester=s.semester)
    assert (latest["edition"], latest["item_count"]) == (2, ITEMS)
    # A client that began on edition 1 reads edition 1 to its end.
    rest = await ask(router, semester=s.semester, limit=100, cursor=page["next_cursor"])
    assert rest["edition"] == 1 and rest["items"][0]["title"] == requests[5].title
