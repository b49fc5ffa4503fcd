"""Teachers as reference data (S7–S10 count per teacher): a school registers its teachers.

A teacher is the aggregate ``teacher.<teacher_id>``. The id is the district's staff number as a
subject-safe token (the shape of an org id). Names are kept for the lists a person works from
(secondments); alerts, violations and public lists name teachers by id only.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from jianfu.events.schemas.base import Command, EventData
from jianfu.events.schemas.paging import PagedQuery
from jianfu.events.schemas.text import ORG_ID_PATTERN, Line, OrgId
from pydantic import Field, StringConstraints

TeacherId = Annotated[str, StringConstraints(pattern=ORG_ID_PATTERN)]
"""A teacher's id: lower-case letters, digits and dashes, at most 63 (it is a subject token)."""


class RegisterTeacher(Command):
    """A school registers one of its teachers, or corrects the record (name, subject). A teacher
    registered at another school is moved only by the education bureau (``school_id``)."""

    context: ClassVar[str] = "requests"

    teacher_id: TeacherId
    name: Line(1, 50)
    subject: Line(1, 50) = Field(description="What the teacher teaches, e.g. 语文.")
    school_id: OrgId | None = Field(None, description="The school; a school registering leaves it out (its own).")


class TeacherRegistered(EventData):
    aggregate_type: ClassVar[str] = "teacher"

    teacher_id: str
    school_id: str
    name: str
    subject: str
    previous_school_id: str | None = Field(None, description="Set when the registration moved the teacher.")


class GetTeachers(PagedQuery):
    """The registered teachers of a school (ids, subjects; names for the school itself, the
    education bureau and the secondment approver), by id."""

    context: ClassVar[str] = "compliance"

    school_id: OrgId | None = None
