"""Events the projector cannot apply: told apart from a failing database, recorded, passed.

A batch that fails is applied again event by event (``checkpoint.py``); an event that fails
then is quarantined unless the failure is *transient*, that is the database's or the broker's
and not the event's:

- a lost or invalidated connection, a timeout, a nats error, the store unavailable;
- SQLAlchemy's ``OperationalError`` (SQLite's "database is locked" or "no such table"), a
  transaction left pending by a lost connection, a driver error with no SQLSTATE other than an
  integrity, data or programming error (asyncpg's "another operation is in progress");
- any PostgreSQL error whose SQLSTATE is neither a data exception (class 22) nor an integrity
  violation (23): deadlocks (40), locks (55), shutdowns and statement timeouts (57), and also a
  missing table or column (42), since an event's data only fills parameters and cannot change
  a statement. Quarantining on those would set aside every event while the schema is wrong.

Everything else (pydantic's ValidationError, UnknownEventType, DataError, IntegrityError,
ValueError, ...) is the event's own: it fails on every attempt and in every rebuild, so it is
recorded in ``compliance_quarantined_events`` with a reason that names no table of a rebuild
(live and rebuild must agree) and the checkpoint passes it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import sqlalchemy as sa
from jianfu.compliance.database import is_postgres
from jianfu.compliance.read_model import LIVE_PREFIX, ReadModel
from jianfu.events import quarantine
from jianfu.events.envelope import Envelope
from pydantic import ValidationError
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

DATA_SQLSTATE_CLASSES = ("22", "23")


@dataclass(frozen=True)
class Quarantined:
    """One row of ``compliance_quarantined_events``."""

    sequence: int
    subject: str
    event_id: str | None
    event_type: str | None
    reason: str

    def alert(self, consumer: str, stream: str) -> quarantine.QuarantineAlert:
        return quarantine.alert("compliance", consumer, stream, self.sequence, self.subject, self.reason,
                                self.event_id, self.event_type)


def is_transient(error: BaseException) -> bool:
    """True when the database or the broker failed, not the event (see the module docstring)."""
    if isinstance(error, sa.exc.DBAPIError):
        if error.connection_invalidated or isinstance(error, sa.exc.OperationalError):
            return True
        state = getattr(error.orig, "sqlstate", None)
        if state:
            return state[:2] not in DATA_SQLSTATE_CLASSES
        # No SQLSTATE: SQLite, or the driver itself (asyncpg's "another operation is in progress").
        return not isinstance(error, sa.exc.IntegrityError | sa.exc.DataError | sa.exc.ProgrammingError)
    return (isinstance(error, sa.exc.TimeoutError | sa.exc.DisconnectionError | sa.exc.PendingRollbackError)
            or quarantine.is_transient(error))


def of_event(sequence: int, subject: str, envelope: Envelope, error: BaseException,
             model: ReadModel) -> Quarantined:
    return Quarantined(sequence, _text(subject or envelope.subject, 300), _text(envelope.event_id, 100),
                       _text(envelope.event_type, 100), reason(error, model))


def of_unreadable(sequence: int, subject: str, data: bytes) -> Quarantined:
    """An envelope that does not validate; its id and type if they can still be read."""
    event_id, event_type = quarantine.peek(data)
    try:
        Envelope.model_validate_json(data)
        why = "unreadable envelope"
    except ValidationError as error:
        why = quarantine.describe(error)
    return Quarantined(sequence, _text(subject, 300), _text(event_id, 100), _text(event_type, 100),
                       _text(f"unreadable envelope: {why}", 1000))


async def record(conn: AsyncConnection, model: ReadModel, rows: list[Quarantined]) -> None:
    """Insert the rows (one statement), but none whose sequence is quarantined already."""
    if rows:
        insert = (postgresql.insert if is_postgres(conn) else sqlite.insert)(model.quarantined_events)
        await conn.execute(insert.on_conflict_do_nothing(index_elements=["sequence"]), [asdict(row) for row in rows])


def reason(error: BaseException, model: ReadModel) -> str:
    """Why, in words that do not change between attempts, rebuilds or library patch releases."""
    if isinstance(error, sa.exc.DBAPIError):  # its own text holds the statement, with table names
        state = getattr(error.orig, "sqlstate", None)
        text = f"{type(error).__name__}{f' [{state}]' if state else ''}: {error.orig}"
    else:
        text = quarantine.describe(error)
    return _text(text.replace(model.prefix, LIVE_PREFIX), 1000)


def _text(text: str | None, limit: int) -> str | None:
    return quarantine.printable(text, limit)
