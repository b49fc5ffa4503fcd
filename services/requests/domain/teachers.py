"""Teachers as reference data (S7–S10 count per teacher): who registers a teacher, and where.

A school registers its own teachers (``school_id`` left out or its own); the education bureau
registers a teacher at any school of the directory, and is the only one who moves a teacher
from one school to another. A teacher is the aggregate ``teacher.<teacher_id>``; the latest
``TeacherRegistered`` in it is the record. Registering the same data again records nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.organisations import Directory, Organisation, OrgKind
from jianfu.events.schemas.teachers import RegisterTeacher, TeacherRegistered

REGISTERING_KINDS = frozenset({OrgKind.SCHOOL, OrgKind.EDUCATION_BUREAU})


def teacher_of(events: Iterable[object]) -> TeacherRegistered | None:
    """The teacher as last registered, or None when never registered."""
    teacher = None
    for event in events:
        if isinstance(event, TeacherRegistered):
            teacher = event
    return teacher


def register_teacher(
    command: RegisterTeacher, registrar: Organisation, current: TeacherRegistered | None, directory: Directory,
) -> TeacherRegistered | None:
    """The TeacherRegistered event of a registration, None when it repeats the record, or Refused."""
    school_id = _school(command, registrar, directory)
    if registrar.kind is OrgKind.SCHOOL and current is not None and current.school_id != school_id:
        raise Refused(ErrorCode.INVALID_STATE, f"the teacher is registered at {current.school_id}; only the "
                      "education bureau moves a teacher between schools", "teacher_id")
    if current is not None and (current.school_id, current.name, current.subject) == (
            school_id, command.name, command.subject):
        return None
    moved_from = current.school_id if current is not None and current.school_id != school_id else None
    return TeacherRegistered(teacher_id=command.teacher_id, school_id=school_id, name=command.name,
                             subject=command.subject, previous_school_id=moved_from)


def _school(command: RegisterTeacher, registrar: Organisation, directory: Directory) -> str:
    """The school the teacher is registered at: a school's own, or the one the bureau names."""
    if registrar.kind is OrgKind.SCHOOL:
        if command.school_id not in (None, registrar.org_id):
            raise Refused(ErrorCode.INVALID_FIELD, "a school registers its own teachers: leave school_id out",
                          "school_id")
        return registrar.org_id
    if registrar.kind is not OrgKind.EDUCATION_BUREAU:
        raise Refused(ErrorCode.FORBIDDEN, "teachers are registered by their school or the education bureau", "org_id")
    if command.school_id is None:
        raise Refused(ErrorCode.INVALID_FIELD, "the education bureau names the teacher's school", "school_id")
    school = directory.get(command.school_id)
    if school is None or school.kind is not OrgKind.SCHOOL:
        raise Refused(ErrorCode.INVALID_FIELD, f"{command.school_id!r} is not a school in the directory", "school_id")
    return school.org_id
