"""S8 intake: a training session that was held, reported by its organiser or by a school naming
the organiser.

A session is identified by its facts (organiser, day, title as ``normalise_title`` reads it), so
however often and by whomever it is reported it is one session. Whether it was planned, and
whether its organiser may require teachers at all, the compliance detector judges.
"""

from __future__ import annotations

import uuid
from datetime import date

from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.organisations import Directory, Organisation, OrgKind
from jianfu.events.schemas.training import ReportTrainingSession, TrainingSessionReported
from jianfu.events.semesters import SchoolCalendar
from jianfu.events.titles import normalise_title
from jianfu.requests.domain.inspections import UNIT_KINDS, named_org

ORGANISER_KINDS = UNIT_KINDS | {OrgKind.SCHOOL}
"""Who organises training: any unit, or a school (S8: school-based training)."""
SESSION_NAMESPACE = uuid.UUID("8c4e2f1a-6b3d-4e5f-9a7c-0d1b2e3f4a5b")


def report_training(
    command: ReportTrainingSession, reporter: Organisation, today: date, in_force_from: date, directory: Directory,
    calendar: SchoolCalendar,
) -> TrainingSessionReported:
    """The session as reported (S8), its id from organiser, day and title, or Refused."""
    organiser_org_id = _organiser(command, reporter, directory)
    if command.held_on > today:
        raise Refused(ErrorCode.INVALID_FIELD, "held_on is in the future", "held_on")
    if command.held_on < in_force_from:
        raise Refused(ErrorCode.INVALID_FIELD, f"held_on is before the plan took effect on {in_force_from}", "held_on")
    teacher_ids = tuple(dict.fromkeys(command.teacher_ids))
    if command.participants < len(teacher_ids):
        raise Refused(ErrorCode.INVALID_FIELD, f"participants counts at least the {len(teacher_ids)} teachers listed",
                      "participants")
    return TrainingSessionReported(
        session_id=session_id_for(organiser_org_id, command.held_on, command.title),
        organiser_org_id=organiser_org_id, title=command.title, held_on=command.held_on,
        semester=calendar.semester_of(command.held_on).id, level=command.level, plan_code=command.plan_code,
        teachers_required=command.teachers_required, teacher_ids=teacher_ids, participants=command.participants,
        reported_by_org_id=reporter.org_id,
    )


def session_id_for(organiser_org_id: str, held_on: date, title: str) -> uuid.UUID:
    """One session of an organiser on a day under a title, however its title is typed."""
    return uuid.uuid5(SESSION_NAMESPACE, f"training_session:{organiser_org_id}:{held_on.isoformat()}:"
                      f"{normalise_title(title)}")


def session_differences(stored: TrainingSessionReported, reported: TrainingSessionReported) -> list[str]:
    """What a second report of a session says otherwise than the first: the fields, in the event's order."""
    return [name for name in ("title", "level", "plan_code", "teachers_required", "teacher_ids", "participants")
            if getattr(stored, name) != getattr(reported, name)]


def _organiser(command: ReportTrainingSession, reporter: Organisation, directory: Directory) -> str:
    """The organiser: the reporter itself, or the one a school names."""
    if command.organiser_org_id in (None, reporter.org_id):
        return reporter.org_id
    if reporter.kind is not OrgKind.SCHOOL:
        raise Refused(ErrorCode.INVALID_FIELD, "a unit reports its own sessions: leave organiser_org_id out",
                      "organiser_org_id")
    return named_org(directory, command.organiser_org_id, ORGANISER_KINDS, "organiser_org_id",
                     "the organiser is a unit or a school, not a teacher or jianfu").org_id
