"""S9–S10 meetings: merge similar meetings, prefer online work, a video sub-venue for distant
participants (S9); no teachers at other units' meetings unrelated to teaching, and a cap on the
meetings a teacher is required at by units outside education (S10).

A meeting is the aggregate ``meeting.<meeting_id>``, scheduled by its organiser with the teachers
required and the school each comes from; distances come from the district's distance table (data,
by school and venue: ``reference/distances.csv``).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID

from jianfu.events.schemas.base import Command, EventData
from jianfu.events.schemas.paging import PagedQuery
from jianfu.events.schemas.teachers import TeacherId
from jianfu.events.schemas.text import ORG_ID_PATTERN, Line, OrgId, SemesterId
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

VenueId = Annotated[str, StringConstraints(pattern=ORG_ID_PATTERN)]
MEETING_MAX_PARTICIPANTS = 2000


class MeetingMode(StrEnum):
    IN_PERSON = "in_person"  # 集中开会 at one venue
    ONLINE = "online"        # 网上布置 / 线上会议: no venue
    VIDEO = "video"          # 视频会议: a main venue and sub-venues (分会场)


class Participant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    teacher_id: TeacherId
    school_id: OrgId = Field(description="The school the teacher comes from.")


class ScheduleMeeting(Command):
    """A unit (or a school) schedules a meeting teachers are required at."""

    context: ClassVar[str] = "requests"

    title: Line(2, 200)
    concerns_teaching: bool = Field(description="It is about education and teaching (与教育教学有关).")
    held_on: date
    mode: MeetingMode
    venue_id: VenueId | None = Field(None, description="The venue (the main venue of a video meeting); none online.")
    sub_venue_ids: tuple[VenueId, ...] = Field((), max_length=50, description="Video sub-venues offered (分会场).")
    participants: tuple[Participant, ...] = Field(min_length=1, max_length=MEETING_MAX_PARTICIPANTS)

    @model_validator(mode="after")
    def _venues(self) -> ScheduleMeeting:
        if self.mode is MeetingMode.ONLINE and (self.venue_id or self.sub_venue_ids):
            raise ValueError("an online meeting has no venue and no sub-venues")
        if self.mode is not MeetingMode.ONLINE and self.venue_id is None:
            raise ValueError("a meeting in person or by video names its (main) venue_id")
        if self.mode is MeetingMode.IN_PERSON and self.sub_venue_ids:
            raise ValueError("sub-venues are for video meetings (mode=video)")
        if len({p.teacher_id for p in self.participants}) != len(self.participants):
            raise ValueError("participants name each teacher once")
        return self


class MeetingScheduled(EventData):
    aggregate_type: ClassVar[str] = "meeting"

    meeting_id: UUID
    organiser_org_id: str
    title: str
    concerns_teaching: bool
    held_on: date
    semester: str
    mode: MeetingMode
    venue_id: str | None
    sub_venue_ids: tuple[str, ...]
    participants: tuple[Participant, ...]
    scheduled_on: date


class GetMeetings(PagedQuery):
    """Meetings of a semester, newest first, each with its participants' count, the distant ones
    and ``merge_with``: similar meetings of the same organiser in the same week (S9: merge them)."""

    context: ClassVar[str] = "compliance"

    semester: SemesterId
    organiser_org_id: OrgId | None = None


class GetMeetingCounters(PagedQuery):
    """Per teacher and semester: meetings required at, and those by units outside education
    against the cap (S10), by teacher id, page by page: a meeting names up to 2,000 teachers,
    unchecked against the register, so a semester may count more than one reply can hold."""

    context: ClassVar[str] = "compliance"

    semester: SemesterId
    teacher_id: TeacherId | None = None
    school_id: OrgId | None = None
