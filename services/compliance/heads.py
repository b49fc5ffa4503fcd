"""The chain heads the projector keeps in its read model, so the read-time chain check
(``jianfu.events.chain``) survives restarts and a rebuild reproduces it.

One query reads the heads of a batch's aggregates and one statement writes those that moved,
whatever the batch's size; both run in the batch transaction, so the heads always stand at the
checkpoint.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import sqlalchemy as sa
from jianfu.compliance.read_model import ReadModel
from jianfu.events.chain import Head
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


async def read_heads(conn: AsyncConnection, model: ReadModel, subjects: Collection[str]) -> dict[str, Head]:
    """The heads of ``subjects`` that have one (a subject missing has no good event yet)."""
    if not subjects:
        return {}
    t = model.chain_heads
    rows = await conn.execute(sa.select(t.c.subject, t.c.sequence, t.c.hash).where(t.c.subject.in_(list(subjects))))
    return {row.subject: Head(row.sequence, row.hash) for row in rows}


async def write_heads(conn: AsyncConnection, model: ReadModel, moved: Mapping[str, Head]) -> None:
    """Insert or move the heads in ``moved``: one multi-row INSERT ... ON CONFLICT."""
    if not moved:
        return
    t = model.chain_heads
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = insert(t).values([{"subject": subject, "sequence": head.sequence, "hash": head.hash}
                                  for subject, head in moved.items()])
    await conn.execute(statement.on_conflict_do_update(
        index_elements=[t.c.subject], set_={"sequence": statement.excluded.sequence, "hash": statement.excluded.hash}))
