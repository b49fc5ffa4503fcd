"""S9–S10 intake: a unit or a school schedules a meeting teachers are required at.

Venues are those of the district's distance table, so the detector can tell how far each
participant comes (S9); each participant's school is a school of the directory. Teachers in the
participants are not checked against the teacher registry: a meeting names up to 2,000 of them,
and a teacher id the registry does not know still counts against that teacher's cap (S10).
"""

from __future__ import annotations

import uuid
from datetime import date

from jianfu.events.distances import DistanceTable
from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.organisations import Directory, Organisation, OrgKind
from jianfu.events.schemas.meetings import MeetingScheduled, ScheduleMeeting
from jianfu.events.semesters import SchoolCalendar
from jianfu.requests.domain.inspections import UNIT_KINDS

SCHEDULING_KINDS = UNIT_KINDS | {OrgKind.SCHOOL}
"""Meetings are scheduled by any unit or a school (S9, S10)."""


def schedule_meeting(
    command: ScheduleMeeting, meeting_id: uuid.UUID, organiser: Organisation, today: date, in_force_from: date,
    directory: Directory, distances: DistanceTable, calendar: SchoolCalendar,
) -> MeetingScheduled:
    """The MeetingScheduled event of a unit's meeting, or Refused."""
    if command.held_on < in_force_from:
        raise Refused(ErrorCode.INVALID_FIELD, f"held_on is before the plan took effect on {in_force_from}", "held_on")
    _check_venues(command, distances)
    for index, participant in enumerate(command.participants):
        school = directory.get(participant.school_id)
        if school is None or school.kind is not OrgKind.SCHOOL:
            raise Refused(ErrorCode.INVALID_FIELD, f"{participant.school_id!r} is not a school in the directory",
                          f"participants.{index}.school_id")
    return MeetingScheduled(
        meeting_id=meeting_id, organiser_org_id=organiser.org_id, title=command.title,
        concerns_teaching=command.concerns_teaching, held_on=command.held_on,
        semester=_semester(command.held_on, calendar), mode=command.mode, venue_id=command.venue_id,
        sub_venue_ids=command.sub_venue_ids, participants=command.participants, scheduled_on=today,
    )


def _semester(held_on: date, calendar: SchoolCalendar) -> str:
    """The semester S9/S10 count the meeting in; a day whose semester no date can hold (after
    10 July 9999 comes 9999-autumn, ending in the year 10000) is refused."""
    try:
        return calendar.semester_of(held_on).id
    except ValueError:
        raise Refused(ErrorCode.INVALID_FIELD, f"no semester of the calendar holds {held_on}", "held_on") from None


def _check_venues(command: ScheduleMeeting, distances: DistanceTable) -> None:
    """The venue and each sub-venue a venue of the distance table; sub-venues once each, none the main venue."""
    if command.venue_id is not None and not distances.knows(command.venue_id):
        raise Refused(ErrorCode.INVALID_FIELD, f"{command.venue_id!r} is not a venue of the distance table",
                      "venue_id")
    seen = {command.venue_id}
    for index, venue_id in enumerate(command.sub_venue_ids):
        field = f"sub_venue_ids.{index}"
        if not distances.knows(venue_id):
            raise Refused(ErrorCode.INVALID_FIELD, f"{venue_id!r} is not a venue of the distance table", field)
        if venue_id in seen:
            raise Refused(ErrorCode.INVALID_FIELD, f"{venue_id!r} is the main venue or named twice", field)
        seen.add(venue_id)
