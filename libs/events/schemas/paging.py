"""Queries whose answers grow with the log are read page by page.

A NATS reply above the broker's ``max_payload`` (1 MB by default) is never delivered, so such a
query takes a ``limit`` and the ``cursor`` its previous page returned as ``next_cursor``. The
largest ``limit`` keeps a page of the largest violations the schemas allow (titles of 200 CJK
characters) under the 512 KiB a page may hold; see services/compliance/README.md.
"""

from __future__ import annotations

from jianfu.events.schemas.base import Query
from pydantic import Field

CURSOR_PATTERN = r"^[A-Za-z0-9_-]+$"  # base64url without padding
CURSOR_MAX_LENGTH = 200
DEFAULT_PAGE_ROWS = 50
MAX_PAGE_ROWS = 100


class PagedQuery(Query):
    """A query answered in pages: ``next_cursor`` in the reply, null on the last page."""

    limit: int = Field(default=DEFAULT_PAGE_ROWS, ge=1, le=MAX_PAGE_ROWS,
                       description="At most this many rows in the page; fewer when the page reaches 512 KiB.")
    cursor: str | None = Field(default=None, min_length=1, max_length=CURSOR_MAX_LENGTH, pattern=CURSOR_PATTERN,
                               description="The next_cursor of the previous page, unchanged; omit it for the first.")
