"""The chain heads the projector keeps in its read model, so the read-time chain check
(``jianfu.events.chain``) survives restarts and a rebuild reproduces it.

One query reads the heads of a batch's aggregates and one statement writes those that moved,
whatever the batch's size; both run in the batch transaction, so the heads always stand at the
checkpoint.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from jianfu.compliance.projection import keyed_rows, upsert_rows
from jianfu.compliance.read_model import ReadModel
from jianfu.events.chain import Head
from sqlalchemy.ext.asyncio import AsyncConnection


async def read_heads(conn: AsyncConnection, model: ReadModel, subjects: Collection[str]) -> dict[str, Head]:
    """The heads of ``subjects`` that have one (a subject missing has no good event yet)."""
    rows = await keyed_rows(conn, model, "chain_heads", ("subject",), [(subject,) for subject in subjects])
    return {row["subject"]: Head(row["sequence"], row["hash"]) for row in rows}


async def write_heads(conn: AsyncConnection, model: ReadModel, moved: Mapping[str, Head]) -> None:
    """Insert or move the heads in ``moved``: one INSERT ... ON CONFLICT for all of them."""
    await upsert_rows(conn, model, "chain_heads", [
        {"subject": subject, "sequence": head.sequence, "hash": head.hash} for subject, head in moved.items()])
