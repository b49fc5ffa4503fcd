"""The year's inspection checklist (Attachment 2) and its editions (aggregate
``inspection_checklist.<year>``): what the education bureau publishes (S1).

Its rows are the year's items in force, read from every item's events when the bureau publishes
(``rows_in_force``): filed, approved, or made by a merger; never the sources of a merger (the
merged item stands for them, once), a rejected item or one still waiting for approval. Each row
carries every column of Attachment 2 in words (target, sample share or frequency, time window,
inspecting units), beside the figures the read models and detectors need. Rows go by title, then
item id, so an edition never depends on the order items were decided in. An edition is stored in
parts of at most ``CHECKLIST_PART_ROWS`` rows and ``PART_BYTES`` of rows, so no event nears NATS's
payload limit however many schools or fields an item names.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from jianfu.approvals.domain.editions import latest_whole
from jianfu.approvals.domain.inspection_item import InspectionItem
from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.organisations import Directory
from jianfu.events.schemas.inspections import (
    CHECKLIST_PART_ROWS,
    ChecklistRow,
    InspectionChecklistPublished,
    InspectionItemProposed,
)

PART_BYTES = 512 * 1024
"""Rows of one part, as UTF-8 JSON: with the envelope around them, well under NATS's 1 MB."""
ALL_SCHOOLS, TEACHERS, NAMED_AT_MOST = "全区中小学校", "教师", 3


class InspectionChecklist:
    def __init__(self, year: int) -> None:
        self.year = year
        self.editions: dict[int, list[InspectionChecklistPublished]] = {}

    @classmethod
    def from_events(cls, year: int, events: Iterable[object]) -> InspectionChecklist:
        checklist = cls(year)
        for event in events:
            if isinstance(event, InspectionChecklistPublished):
                checklist.editions.setdefault(event.edition, []).append(event)
        return checklist

    @property
    def latest(self) -> tuple[ChecklistRow, ...] | None:
        """The rows of the latest edition published whole, if any."""
        return latest_whole(self.editions, lambda part: part.rows)

    def publish(self, rows: Sequence[ChecklistRow]) -> list[InspectionChecklistPublished]:
        """A new edition of the rows in force, in parts; refused when nothing changed since the last."""
        rows = tuple(rows)
        if self.editions and self.latest == rows:
            raise Refused(ErrorCode.INVALID_STATE, f"nothing changed since edition {max(self.editions)}", "year")
        edition, parts, offset = max(self.editions, default=0) + 1, in_parts(rows), 0
        published = []
        for n, part in enumerate(parts, 1):
            published.append(InspectionChecklistPublished(year=self.year, edition=edition, rows=part, part=n,
                                                          parts=len(parts), offset=offset, row_count=len(rows)))
            offset += len(part)
        return published


def in_parts(rows: Sequence[ChecklistRow]) -> list[tuple[ChecklistRow, ...]]:
    """Consecutive parts of at most ``CHECKLIST_PART_ROWS`` rows and ``PART_BYTES``; one empty part for no rows."""
    parts: list[list[ChecklistRow]] = [[]]
    size = 0
    for row in rows:
        row_bytes = len(row.model_dump_json().encode())
        if parts[-1] and (len(parts[-1]) == CHECKLIST_PART_ROWS or size + row_bytes > PART_BYTES):
            parts.append([])
            size = 0
        parts[-1].append(row)
        size += row_bytes
    return [tuple(part) for part in parts]


def items_of(events: Iterable[object]) -> dict:
    """Every item among inspection-item events read from the log, by item id; events of an item
    whose proposal or merger is not among them are passed over."""
    by_item: dict = defaultdict(list)
    for event in events:
        item_id = getattr(event, "item_id", None)
        if item_id is not None:
            by_item[item_id].append(event)
    folded = {key: InspectionItem.folded(events) for key, events in by_item.items()}
    return {key: item for key, item in folded.items() if item is not None}


def rows_in_force(year: int, events: Iterable[object], directory: Directory) -> tuple[ChecklistRow, ...]:
    """S1: the year's checklist: one row per item in force, a merged item once, by title then id."""
    items = items_of(events)
    in_force = [item for item in items.values() if item.year == year and item.in_force]
    rows = [row_of(item, _proposals_behind(item, items), directory) for item in in_force]
    return tuple(sorted(rows, key=lambda row: (row.item_name, str(row.item_id))))


def row_of(item: InspectionItem, proposals: Sequence[InspectionItemProposed], directory: Directory) -> ChecklistRow:
    """The item as a row of Attachment 2; a merged item is described from the proposals behind it
    (its sources' titles as sub-items, their methods, whether they sample)."""
    all_schools = any(p.target.all_schools for p in proposals)
    aimed_at_schools = [p for p in proposals if p.target.all_schools or p.target.school_ids]
    # A merged item samples only if every source did; then the largest share covers them all.
    shares = [p.target.sample_share for p in aimed_at_schools]
    share = max(shares) if shares and all(shares) else None
    sub_item = (item.proposal.sub_item if item.proposal is not None
                else "；".join(dict.fromkeys(p.title for p in proposals)))
    return ChecklistRow(
        item_id=item.item_id, item_name=item.title, sub_item=sub_item,
        target=target_in_words(all_schools, item.school_ids, item.teachers, directory),
        category=item.category, method="、".join(dict.fromkeys(
            part.strip() for p in proposals for part in p.method.split("、") if part.strip())),
        sample_ratio_or_frequency=frequency_in_words(share, all_schools, item.frequency_per_year),
        time_window=window_in_words(item.planned_months), inspecting_units=item.units,
        inspecting_unit_names=tuple(_name(directory, unit) for unit in item.units),
        school_ids=tuple(item.school_ids), teachers=item.teachers, frequency_per_year=item.frequency_per_year,
        planned_months=tuple(item.planned_months), data_fields=tuple(item.data_fields),
        merged_item_ids=item.merger.merged_item_ids if item.merger else ())


def target_in_words(all_schools: bool, school_ids: Sequence[str], teachers: bool, directory: Directory) -> str:
    """全区中小学校, the schools by name (the first few and how many), and/or 教师."""
    if all_schools:
        schools = ALL_SCHOOLS
    elif len(school_ids) > NAMED_AT_MOST:
        schools = f"{_name(directory, school_ids[0])}等{len(school_ids)}所学校"
    else:
        schools = "、".join(_name(directory, school) for school in school_ids)
    if teachers:
        return f"{schools}及{TEACHERS}" if schools else TEACHERS
    return schools


def frequency_in_words(share: float | None, all_schools: bool, per_year: int) -> str:
    """As real checklists put it: 抽查比例5%，每年1次; 全覆盖，每年2次; 每年1次."""
    if share:
        return f"抽查比例{share * 100:g}%，每年{per_year}次"
    return f"全覆盖，每年{per_year}次" if all_schools else f"每年{per_year}次"


def window_in_words(months: Iterable[int]) -> str:
    """Planned months as time windows: (3, 4, 5, 9) is 3-5月、9月."""
    runs: list[list[int]] = []
    for month in sorted(set(months)):
        if runs and month == runs[-1][-1] + 1:
            runs[-1].append(month)
        else:
            runs.append([month])
    return "、".join(f"{run[0]}-{run[-1]}月" if len(run) > 1 else f"{run[0]}月" for run in runs)


def _proposals_behind(item: InspectionItem, items: dict, seen: frozenset = frozenset()) -> list[InspectionItemProposed]:
    """The proposal of an item; for a merged one, those of its sources, through mergers of mergers."""
    if item.proposal is not None:
        return [item.proposal]
    seen = seen | {item.item_id}
    # None where the sources cannot be read: the row keeps the merged item's own figures.
    return [proposal for key in item.merger.merged_item_ids if key in items and key not in seen
            for proposal in _proposals_behind(items[key], items, seen)]


def _name(directory: Directory, org_id: str) -> str:
    org = directory.get(org_id)
    return org.name if org else org_id
