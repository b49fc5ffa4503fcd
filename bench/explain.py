"""``python -m bench.explain``: PostgreSQL's plan for the projector's report-seen check
(``statements.report_seen``: semester, school, then report id *or* unauthorised violation id)
on a held-reports table of 20,000 reports over 8 schools, to see whether the check reads every
earlier report of its school and semester."""

from __future__ import annotations

import asyncio

import asyncpg
from jianfu.compliance.migrations import migrate

from tests.conftest import PG_ADMIN_DSN, fresh_database

FILL = """insert into compliance_held_reports (semester, school_id, report_id, organizer_org_id, title,
    held_on, participants, teacher_hours, item_key, event_id, sequence)
    select '2100-autumn', 's' || (g % 8), md5(g::text), 'o', 't', '2100-10-01', 1, 1, 'k', md5(g::text), g
    from generate_series(1, 20000) g"""
SEEN = """explain analyze select report_id, unauthorised_violation_id from compliance_held_reports
    where semester = '2100-autumn' and school_id = 's1' and (report_id = 'x' or unauthorised_violation_id = 'y')"""


async def main() -> None:
    async with fresh_database("explain") as url:
        await migrate(url)
        conn = await asyncpg.connect(f"{PG_ADMIN_DSN.rsplit('/', 1)[0]}/{url.rsplit('/', 1)[1]}")
        try:
            await conn.execute(FILL)
            await conn.execute("analyze compliance_held_reports")
            for row in await conn.fetch(SEEN):
                print(row[0])
        finally:
            await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
