"""Reading the autonomous region's catalogue as published (S3: items in the region's catalogue
are exempt from declaration). Pure: approvals imports editions with it and the compliance
detector checks exemption claims with it, neither importing the other.

A row is kept as published; what the system reads from it (the directory's organisers, the most
entries per year and semester, the school stages, how the item is delivered) sits beside it in
a ``CatalogueItem``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from jianfu.events.frequency import parse_frequency
from jianfu.events.organisations import Directory, Organisation, SchoolStage
from jianfu.events.schemas.campus_entry import DeliveryMode
from jianfu.events.schemas.regional_catalogue import CatalogueItem, CatalogueRow
from jianfu.events.titles import normalise_title

# Lists separate joint organisers with 、 , ， / ; in full or half width. Not with spaces: a
# space inside a name is a typing slip ("区 妇联"), and names are matched spaces aside.
_ORGANISER_SEPARATORS = re.compile(r"[、,，/／;；|｜]+")
# "The lead unit supplies resources, schools run it themselves" (牵头单位提供资源，学校自行组织).
_SCHOOL_RUN = re.compile(r"提供资源|资源包|学校自行组织|自行组织|学校自主|自主开展|自行开展")
_ONLINE = re.compile(r"线上|网络|在线|云端")
_ON_SITE = re.compile(r"线下|现场|进校")
_MIDDLE = re.compile(r"中学|初中|高中")


def items_from_rows(rows: Iterable[CatalogueRow], edition: int, directory: Directory) -> tuple[CatalogueItem, ...]:
    """The catalogue's items in row order, ``rc-<edition>-<n>`` from 1."""
    return tuple(_item(row, f"rc-{edition}-{n}", directory) for n, row in enumerate(rows, 1))


def find_item(items: Iterable[CatalogueItem], reference: str) -> CatalogueItem | None:
    """The item an exemption claim names: by its id, else by its published name as typed
    (width, case and spacing aside)."""
    wanted = normalise_title(reference or "")
    if not wanted:
        return None
    items = tuple(items)
    by_id = next((item for item in items if normalise_title(item.item_id) == wanted), None)
    return by_id or next((item for item in items if normalise_title(item.item_name) == wanted), None)


def organiser_names(organizer: str) -> tuple[str, ...]:
    """The units a row's ``organizer`` names, in order, each once."""
    names = (name.strip() for name in _ORGANISER_SEPARATORS.split(organizer or ""))
    return tuple(dict.fromkeys(name for name in names if name))


def unknown_organisers(rows: Iterable[CatalogueRow], directory: Directory) -> tuple[str, ...]:
    """The organisers the directory does not know (a regional body, a trade union ...), each
    once in the order met: the bureau sees what did not resolve."""
    names = (name for row in rows for name in organiser_names(row.organizer) if _resolve(name, directory) is None)
    return tuple(dict.fromkeys(names))


def stages_of(scope: str) -> tuple[SchoolStage, ...]:
    """Stages a scope text limits an item to; none means every stage ("全区中小学校", blank)."""
    words = unicodedata.normalize("NFKC", scope or "")
    if "中小学" in words:
        return ()
    primary, middle = "小学" in words, bool(_MIDDLE.search(words))
    if primary == middle:  # both stages named, or neither
        return ()
    return (SchoolStage.PRIMARY,) if primary else (SchoolStage.MIDDLE,)


def delivery_of(row: CatalogueRow) -> DeliveryMode:
    """How the item reaches students. Only ``form`` says whether it is online: ``content`` names
    topics ("防电信网络诈骗" is about fraud online, not an online item); an online item that is also
    held on site ("线上线下结合") is an entry."""
    if _SCHOOL_RUN.search(f"{row.form} {row.content}"):
        return DeliveryMode.SCHOOL_RUN
    if _ONLINE.search(row.form) and not _ON_SITE.search(row.form):
        return DeliveryMode.ONLINE
    return DeliveryMode.ENTRY


def _item(row: CatalogueRow, item_id: str, directory: Directory) -> CatalogueItem:
    frequency = parse_frequency(row.frequency, row.period_or_time)
    return CatalogueItem(**row.model_dump(), item_id=item_id, organizer_org_ids=_org_ids(row.organizer, directory),
                         max_per_year=frequency.per_year, max_per_semester=frequency.per_semester,
                         stages=stages_of(row.scope), delivery=delivery_of(row))


def _org_ids(organizer: str, directory: Directory) -> tuple[str, ...]:
    found = (_resolve(name, directory) for name in organiser_names(organizer))
    return tuple(dict.fromkeys(org.org_id for org in found if org is not None))


def _resolve(name: str, directory: Directory) -> Organisation | None:
    """The directory's unit of this name: exactly, else as typed (width, case, spacing aside)."""
    wanted = normalise_title(name)
    return directory.named(name) or next(
        (org for org in directory.organisations if normalise_title(org.name) == wanted), None)


def rows_of(items: Sequence[CatalogueItem]) -> tuple[CatalogueRow, ...]:
    """The rows as published, without what was read from them: two editions are the same
    publication when these are equal."""
    fields = set(CatalogueRow.model_fields)
    return tuple(CatalogueRow(**item.model_dump(include=fields)) for item in items)
