"""Titles and names typed by different people differ in width, case and spacing; the item is the
same. ``normalise_title`` is the one comparison every matcher uses (a school's report against the
list, an exemption claim against the region's catalogue, an outside unit's name)."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def normalise_title(title: str) -> str:
    return _SPACES.sub("", unicodedata.normalize("NFKC", title)).casefold()
