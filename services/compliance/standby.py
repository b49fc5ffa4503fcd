"""One active projector per projection; other replicas wait as hot standby (DESIGN.md).

The active one holds a PostgreSQL session advisory lock on a dedicated connection for as long
as it projects. The lock dies with the connection, so a replica killed with ``kill -9`` frees
it as soon as the server notices the closed socket, and a waiting replica takes over. On SQLite
(one machine, one process) there is nobody to wait for and the lock is a no-op.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import sqlalchemy as sa
import structlog
from jianfu.compliance.database import lock_key
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

log = structlog.get_logger("jianfu.compliance.standby")

StillHeld = Callable[[], Awaitable[None]]


async def _nothing() -> None:
    return None


@asynccontextmanager
async def leadership(engine: AsyncEngine, name: str, poll_seconds: float = 1.0) -> AsyncIterator[StillHeld]:
    """Wait until this process holds the lock ``name``, then yield a check that raises if the
    lock's connection has died (the lock with it); release on exit."""
    if engine.dialect.name != "postgresql":
        yield _nothing
        return
    key = lock_key(name)
    # Its own engine without a pool: closing the connection really ends the session and the lock.
    lock_engine = create_async_engine(engine.url, poolclass=NullPool)
    try:
        async with lock_engine.connect() as conn:
            # Autocommit: a connection idle in a transaction for days would hold back VACUUM.
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            waiting = False
            while not await conn.scalar(sa.select(sa.func.pg_try_advisory_lock(key))):
                if not waiting:
                    log.info("standby_waiting_for_lock", lock=name)
                    waiting = True
                await asyncio.sleep(poll_seconds)
            log.info("lock_acquired", lock=name)

            async def still_held() -> None:
                await conn.execute(sa.select(1))

            try:
                yield still_held
            finally:
                try:
                    await asyncio.shield(conn.execute(sa.select(sa.func.pg_advisory_unlock(key))))
                except Exception as error:  # noqa: BLE001 - closing the connection releases it anyway
                    log.warning("lock_release_failed", lock=name, error=repr(error))
    finally:
        await asyncio.shield(lock_engine.dispose())


async def lead_for_ever(engine: AsyncEngine, name: str, follow: Callable[[StillHeld], Awaitable[None]], *,
                        poll_seconds: float, retry_initial: float, retry_max: float,
                        failed: Callable[[Exception, float], None]) -> None:
    """Take the lock ``name`` and ``follow`` while holding it; after any failure report it
    (``failed(error, retry_in)``), wait, and start over from leadership. The wait doubles from
    ``retry_initial`` to ``retry_max`` and starts small again after a run longer than ``retry_max``.
    What the projector and the sealer both do: the log is their state, so starting over is safe."""
    delay = retry_initial
    while True:
        began = time.monotonic()
        try:
            async with leadership(engine, name, poll_seconds) as still_held:
                await follow(still_held)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - start over from what is committed or in the log
            failed(error, delay)
        if time.monotonic() - began > retry_max:
            delay = retry_initial  # it ran well for a while: a fresh failure
        await asyncio.sleep(delay)
        delay = min(delay * 2, retry_max)


async def cancel_and_wait(task: asyncio.Task, patience: float = 0.5) -> None:
    """Cancel a background task (the projector, the sealer) and wait until it has ended.

    It cancels again while the task runs on: Python 3.11's ``asyncio.wait_for``, which nats-py's
    fetch awaits, loses a cancellation that arrives just as its future completes, and the
    projector's loop would then fetch on for ever (a test's teardown hung, a SIGTERM was ignored).
    """
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=patience)
    if not task.cancelled() and task.exception() is not None:
        log.error("background_task_failed", task=task.get_name(), error=repr(task.exception()))

