"""Lists published in editions, each in parts (Attachment 3, Attachment 2): an edition counts
once every one of its parts is stored, so a crash between parts never shows half a list."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol, TypeVar


class Part(Protocol):
    part: int
    parts: int


P = TypeVar("P", bound=Part)
E = TypeVar("E")


def latest_whole(editions: Mapping[int, Sequence[P]], entries: Callable[[P], Iterable[E]]) -> tuple[E, ...] | None:
    """The entries of the latest edition whose parts are all stored, in part order; None if none is."""
    for edition in sorted(editions, reverse=True):
        parts = sorted(editions[edition], key=lambda part: part.part)
        if {part.part for part in parts} == set(range(1, parts[0].parts + 1)):
            return tuple(entry for part in parts for entry in entries(part))
    return None
