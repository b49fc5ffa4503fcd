"""Lists published in editions, each in parts (Attachment 3, Attachment 2), as every fold that
reads them keeps them: the parts of each edition received, and the edition in force once all its
parts are in (a newer edition only: a late part of an older one changes nothing)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from jianfu.compliance.domain.folding import Batch


class Part(Protocol):
    edition: int
    part: int
    parts: int


def count_part_in(batch: Batch, editions: str, in_force: str, key: Mapping[str, Any], part: Part,
                  received: Mapping[str, Any] | None = None, current: Mapping[str, Any] | None = None) -> None:
    """Count ``part`` in table ``editions`` (keyed by ``key`` and the edition, with ``received``'s
    columns); once its edition is whole and newer than the one in force, put it in ``in_force``
    (keyed by ``key``, with ``current``'s columns)."""
    rows = batch[editions]
    counted = rows.get(*key.values(), part.edition) or {**key, "edition": part.edition, "parts_received": 0}
    counted = rows.put({**counted, "parts": part.parts, "parts_received": counted["parts_received"] + 1,
                       **(received or {})})
    now = batch[in_force].get(*key.values())
    if counted["parts_received"] >= part.parts and (now is None or now["edition"] < part.edition):
        batch[in_force].put({**key, "edition": part.edition, **(current or {})})
