"""One school's campus-entry slots in one semester (aggregate
``campus_entry_quota.<semester>.<school_id>``): the S3 cap, guarded per school.

Every admission (a certification, an exemption) takes a slot at each of its schools, appended in
one atomic batch with the decision, each slot expecting its school's last sequence. Two
certifications racing for a school's last slot cannot both append; two for different schools
never meet. A school's quota holds at most a handful of events, so loading it is cheap whatever
the size of the district.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from jianfu.events.schemas.campus_entry import CampusEntrySlotTaken, ExemptCategory, ListedActivity


class SchoolQuota:
    def __init__(self, semester: str, school_id: str) -> None:
        self.semester = semester
        self.school_id = school_id
        self.slots: dict[UUID, CampusEntrySlotTaken] = {}

    @classmethod
    def from_events(cls, semester: str, school_id: str, events: Iterable[CampusEntrySlotTaken]) -> SchoolQuota:
        quota = cls(semester, school_id)
        for event in events:
            quota.apply(event)
        return quota

    @staticmethod
    def aggregate_id(semester: str, school_id: str) -> str:
        return f"{semester}.{school_id}"

    def apply(self, event: CampusEntrySlotTaken) -> None:
        self.slots[event.activity_id] = event

    @property
    def used(self) -> int:
        return len(self.slots)

    def holds(self, activity_id: UUID) -> bool:
        return activity_id in self.slots

    def has_room(self, cap: int) -> bool:
        """S3: urgent and exempt items count towards the cap like regular ones."""
        return self.used < cap

    @property
    def city_creation_used(self) -> int:
        """Slots taken by city-creation items (S3: also capped per school year)."""
        return sum(1 for slot in self.slots.values() if slot.exempt_category is ExemptCategory.CITY_CREATION)

    def take(self, listing: ListedActivity) -> CampusEntrySlotTaken:
        return CampusEntrySlotTaken(semester=self.semester, school_id=self.school_id, activity_id=listing.activity_id,
                                    organizer_org_id=listing.organizer_org_id, route=listing.route,
                                    exempt_category=listing.exempt_category)
