"""The semester list (Attachment 3) and its editions (aggregate ``campus_entry_semester.<semester>``):
what the education bureau publishes for schools to admit entries by (S3).

Only publications live here; the items are the semester's admissions, gathered from the schools'
quotas when the bureau publishes, in the order they were decided. An edition is published in
parts of ``LIST_PART_ITEMS`` items, so no event nears NATS's payload limit however large the
district.
"""

from __future__ import annotations

from collections.abc import Iterable

from jianfu.approvals.domain.editions import latest_whole
from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.schemas.campus_entry import LIST_PART_ITEMS, ListedActivity, SemesterListPublished


class SemesterList:
    def __init__(self, semester: str) -> None:
        self.semester = semester
        self.editions: dict[int, list[SemesterListPublished]] = {}

    @classmethod
    def from_events(cls, semester: str, events: Iterable[object]) -> SemesterList:
        semester_list = cls(semester)
        for event in events:
            if isinstance(event, SemesterListPublished):  # older logs also hold decisions here
                semester_list.editions.setdefault(event.edition, []).append(event)
        return semester_list

    @property
    def latest(self) -> tuple[ListedActivity, ...] | None:
        """The items of the latest edition published whole, if any."""
        return latest_whole(self.editions, lambda part: part.items)

    def publish(self, admitted: Iterable[ListedActivity]) -> list[SemesterListPublished]:
        """A new edition of the admitted items, in parts; urgent additions publish the next one."""
        items = tuple(admitted)
        if self.editions and self.latest == items:
            raise Refused(ErrorCode.INVALID_STATE, f"nothing changed since edition {max(self.editions)}", "semester")
        edition = max(self.editions, default=0) + 1
        starts = range(0, max(len(items), 1), LIST_PART_ITEMS)
        return [SemesterListPublished(semester=self.semester, edition=edition, items=items[start:start + LIST_PART_ITEMS],
                                      part=n, parts=len(starts), offset=start, item_count=len(items))
                for n, start in enumerate(starts, 1)]
