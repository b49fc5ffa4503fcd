"""Switching rebuilt tables in holds queries up for the switch only (issue 7, item 3): while a
rebuild catches up and digests, it holds the live tables in SHARE mode, so the projector (a
writer) waits and queries (readers) do not; ACCESS EXCLUSIVE is taken only for the DROP and the
RENAMEs at the very end of the same transaction, and an audit (``--verify``) never takes it."""

from __future__ import annotations

import asyncio
import time

import sqlalchemy as sa
from jianfu.compliance.checkpoint import read_checkpoint
from jianfu.compliance.read_model import LIVE_PREFIX, build_tables
from jianfu.compliance.rebuild import Silent, _rebuild

from tests.s3_semester import S3Semester, running, settle

PRIMARY_1, PRIMARY_2 = "school-dwk-primary-1", "school-dwk-primary-2"


async def held_locks(engine, model) -> set[str]:
    """The lock modes granted on ``model``'s tables, to anyone."""
    async with engine.connect() as conn:
        return set(await conn.scalars(sa.text(
            "SELECT l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE l.granted AND c.relname = ANY(:names)"), {"names": [t.name for t in model.tables]}))


async def until_someone_waits_for(engine, table: sa.Table, timeout: float = 30.0) -> None:
    """Wait until another session waits for a lock on ``table`` (fails after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        async with engine.connect() as conn:
            waiting = await conn.scalar(sa.text(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE NOT l.granted AND c.relname = :name"), {"name": table.name})
        if waiting:
            return
        assert time.monotonic() < deadline, f"nobody came to wait for {table.name}"
        await asyncio.sleep(0.05)


async def paused_in_digest(task: asyncio.Task, paused: asyncio.Event) -> None:
    """Wait until the rebuild reaches its digest phase (or fails on the way)."""
    reached = asyncio.create_task(paused.wait())
    await asyncio.wait({task, reached}, return_when=asyncio.FIRST_COMPLETED)
    if not paused.is_set():
        reached.cancel()
        task.result()  # the rebuild's error
        raise AssertionError("the rebuild finished without digesting")


async def test_queries_read_while_a_rebuild_digests_and_the_projector_waits_for_the_switch(log, engine):
    live = build_tables(LIVE_PREFIX)
    s = S3Semester(log.store)
    await s.held(PRIMARY_1, "dept-housing", "燃气安全宣传")
    async with running(engine, log.js, log.store) as projector:
        checkpoint = await settle(projector, log.store)
        paused, resume = asyncio.Event(), asyncio.Event()

        async def digesting() -> None:
            paused.set()
            await resume.wait()

        rebuilding = asyncio.create_task(_rebuild(engine, log.store, True, 500, Silent(), digesting))
        try:
            await paused_in_digest(rebuilding, paused)
            modes = await held_locks(engine, live)
            assert "ShareLock" in modes and "AccessExclusiveLock" not in modes

            # A query reads every live table from another connection; a blocked read would fail.
            async with engine.connect() as conn:
                await conn.execute(sa.text("SET LOCAL lock_timeout = '10s'"))
                for table in live.tables:
                    await conn.scalar(sa.select(sa.func.count()).select_from(table))

            # The projector is held at the checkpoint with the event that arrived meanwhile.
            await s.held(PRIMARY_2, "dept-fire", "消防演练")
            await until_someone_waits_for(engine, live.checkpoint)
            async with engine.connect() as conn:
                assert await read_checkpoint(conn, live) == checkpoint
        finally:
            resume.set()
        result = await rebuilding
        assert result.switched and result.matched is True and result.last_sequence == checkpoint

        # After the switch the projector carries on, in the tables switched in.
        assert await settle(projector, log.store) > checkpoint
        async with engine.connect() as conn:
            assert await read_checkpoint(conn, live) == await log.store.last_sequence()


async def test_access_exclusive_comes_after_the_digests_and_only_for_the_switch(log, engine):
    live = build_tables(LIVE_PREFIX)
    s = S3Semester(log.store)
    await s.held(PRIMARY_1, "dept-housing", "燃气安全宣传")
    async with running(engine, log.js, log.store) as projector:
        await settle(projector, log.store)

    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(" ".join(statement.split()))

    sa.event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        audit = await _rebuild(engine, log.store, False, 500, Silent())
        audited, statements[:] = list(statements), []
        switched = await _rebuild(engine, log.store, True, 500, Silent())
    finally:
        sa.event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert audit.matched is True and switched.matched is True

    def index(statements: list[str], words: str) -> list[int]:
        return [i for i, statement in enumerate(statements) if words in statement]

    # An audit holds the live tables in SHARE mode, from before it claims the checkpoint, and no more.
    [shared] = index(audited, "SHARE MODE")
    assert audited[shared].startswith(f"LOCK TABLE {live.checkpoint.name},")
    assert shared < index(audited, f"UPDATE {live.checkpoint.name}")[0]
    assert not index(audited, "ACCESS EXCLUSIVE")

    # A switch takes ACCESS EXCLUSIVE after both digests; then only drops and renames follow.
    [shared] = index(statements, "IN SHARE MODE")
    [exclusive] = index(statements, "IN ACCESS EXCLUSIVE MODE")
    digests = index(statements, 'COLLATE "C"')
    assert shared < digests[0] and digests[-1] < exclusive
    assert any(live.applications.name in statements[i] for i in digests)
    after = statements[exclusive + 1:]
    assert after and all(statement.startswith(("DROP TABLE", "ALTER TABLE", "ALTER INDEX")) for statement in after)
