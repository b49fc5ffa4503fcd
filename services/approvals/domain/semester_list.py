"""The semester list (Attachment 3) and its editions (aggregate ``campus_entry_semester.<semester>``):
what the education bureau publishes for schools to admit entries by (S3).

Only publications live here; the items are the semester's admissions, gathered from the schools'
quotas when the bureau publishes, in the order they were decided.
"""

from __future__ import annotations

from collections.abc import Iterable

from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.schemas.campus_entry import ListedActivity, SemesterListPublished


class SemesterList:
    def __init__(self, semester: str) -> None:
        self.semester = semester
        self.editions: list[SemesterListPublished] = []

    @classmethod
    def from_events(cls, semester: str, events: Iterable[object]) -> SemesterList:
        semester_list = cls(semester)
        for event in events:
            if isinstance(event, SemesterListPublished):  # older logs also hold decisions here
                semester_list.editions.append(event)
        return semester_list

    def publish(self, admitted: Iterable[ListedActivity]) -> SemesterListPublished:
        """A new edition of the admitted items; urgent additions publish the next one."""
        items = tuple(admitted)
        if self.editions and self.editions[-1].items == items:
            edition = self.editions[-1].edition
            raise Refused(ErrorCode.INVALID_STATE, f"nothing changed since edition {edition}", "semester")
        return SemesterListPublished(semester=self.semester, edition=len(self.editions) + 1, items=items)
