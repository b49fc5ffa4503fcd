"""``jianfu status``: how far the consumers are behind the log, and what they quarantined.

Read-only: stream and consumer info from JetStream, quarantine alerts from ``JIANFU_OPS`` and,
when ``JIANFU_DATABASE_URL`` is set and reachable, the quarantine tables of the compliance
projector and of the S3 detector.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from jianfu.events.connection import connect
from jianfu.events.quarantine import stored_alerts
from jianfu.events.settings import Settings

DATABASE_TIMEOUT = 5.0


async def status_report(settings: Settings, with_database: bool) -> dict[str, Any]:
    nc = await connect(settings)
    try:
        js = nc.jetstream()
        stream = await js.stream_info(settings.stream)
        consumers = await js.consumers_info(settings.stream)
        alerts = await stored_alerts(js)
    finally:
        await nc.close()
    report: dict[str, Any] = {
        "stream": {"name": settings.stream, "last_sequence": stream.state.last_seq, "messages": stream.state.messages},
        "consumers": sorted((_consumer(info) for info in consumers if info.config.durable_name),
                            key=lambda c: c["durable"]),
        "quarantined": [alert.model_dump(mode="json") for alert in alerts],
    }
    if with_database:
        from jianfu.compliance.read_model import DETECTOR, LIVE

        report["compliance_quarantined_events"] = await _quarantine_rows(settings.database_url, LIVE)
        report["detector_quarantined_events"] = await _quarantine_rows(settings.database_url, DETECTOR)
    return report


def _consumer(info) -> dict[str, Any]:
    return {"durable": info.config.durable_name, "filter_subject": info.config.filter_subject,
            "pending": info.num_pending, "ack_pending": info.num_ack_pending,
            "redelivered": info.num_redelivered, "delivered_sequence": info.delivered.stream_seq,
            "ack_floor_sequence": info.ack_floor.stream_seq}


async def _quarantine_rows(database_url: str, model) -> list[dict[str, Any]] | dict[str, str]:
    """A projector's quarantine table's rows, or why they could not be read (never creates a database)."""
    from jianfu.compliance.database import make_engine

    url = sa.make_url(database_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        return {"unreachable": f"no database file {url.database}"}
    engine = make_engine(database_url)
    table = model.quarantined_events
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT), engine.connect() as conn:
            rows = await conn.execute(sa.select(table).order_by(table.c.sequence))
            return [dict(row._mapping) for row in rows]
    except (OSError, sa.exc.SQLAlchemyError) as error:  # TimeoutError is an OSError
        return {"unreachable": f"{type(error).__name__}: {error}".splitlines()[0]}
    finally:
        await engine.dispose()
