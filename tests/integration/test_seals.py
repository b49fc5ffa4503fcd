"""The sealer (issue 6): LogSealed over every chain head, every JIANFU_SEAL_EVERY events and at each
business day's end, each written once; and the compliance service runs it."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime, timedelta

from jianfu.compliance.app import build
from jianfu.compliance.settings import ComplianceSettings
from jianfu.events.audit import verify_log
from jianfu.events.settings import FixedClock, SystemClock

from tests.poison import own_log
from tests.tampering import DAY, escalations, sealing, seals


def summary(found) -> list[tuple]:
    return [(s.envelope.data["seal_number"], s.envelope.data["reason"], s.envelope.data["up_to_sequence"],
             s.envelope.data["business_day"]) for s in found]


async def test_two_sealers_racing_write_every_seal_once(tmp_path):
    clock = FixedClock(DAY)
    async with own_log(tmp_path / "nats") as log:
        await escalations(log.store, "esc-a", "esc-b")
        async with AsyncExitStack() as both:
            for _ in range(2):  # each on SQLite of its own: no lock keeps either one waiting
                await both.enter_async_context(sealing(log.store, clock, every=3))
            await seals(log.store, 2)
            clock.day = DAY + timedelta(days=1)
            found = await seals(log.store, 3)
            await asyncio.sleep(0.5)  # time for a duplicate to show up, if one were written
        found = await seals(log.store)
        report = await verify_log(log.store)
    assert summary(found) == [(1, "every_n_events", 3, None), (2, "every_n_events", 6, None),
                              (3, "day_end", found[-1].envelope.data["up_to_sequence"], DAY.isoformat())]
    assert report.intact and report.seals == 3


async def test_a_restarted_sealer_seals_nothing_already_sealed_nor_the_days_no_sealer_ran(tmp_path):
    async with own_log(tmp_path / "nats") as log:
        await escalations(log.store, "esc-a", "esc-b")
        async with sealing(log.store, every=3):
            first = await seals(log.store, 2)
        async with sealing(log.store, FixedClock(DAY + timedelta(days=2)), every=3):
            await asyncio.sleep(0.5)
            again = await seals(log.store)
            await escalations(log.store, "esc-c")
            grown = await seals(log.store, 3)
    assert again == first and summary(grown)[-1] == (3, "every_n_events", 11, None)  # 3 more after seq 8


def test_the_business_day_of_the_system_clock_is_the_date_in_asia_shanghai():
    class EveningInUtc(SystemClock):
        def now(self) -> datetime:
            return datetime(2026, 7, 15, 16, 30, tzinfo=UTC)  # 00:30 on the 16th in Shanghai

    assert EveningInUtc().today() == date(2026, 7, 16)
    assert FixedClock(DAY).today() == DAY


async def test_the_compliance_service_seals_every_jianfu_seal_every_events(tmp_path):
    async with own_log(tmp_path / "nats") as log:
        await escalations(log.store, "esc-a", "esc-b")
        # The clock stays on the day its events were recorded: the service's day scheduler has no
        # day ended to append (a DayEnded is an event like any other, and would be sealed too).
        app = build(ComplianceSettings(nats_url=log.url, database_url=f"sqlite+aiosqlite:///{tmp_path / 'c.db'}",
                                       log_level="WARNING", seal_every=2, seal_tick_seconds=0.1,
                                       clock="fixed:2026-07-01"))
        await app.start()
        try:
            found = await seals(log.store, 3)
        finally:
            await app.stop()
        report = await verify_log(log.store)
    assert [s.envelope.data["up_to_sequence"] for s in found] == [2, 4, 6]
    assert report.intact and report.sealed_up_to == 6
