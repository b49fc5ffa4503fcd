"""S7 intake: a unit requests a teacher; the school or the borrowing unit reports that the teacher
left and that the teacher is back.

Every secondment of one teacher is the aggregate ``secondment.<teacher_id>``: the requests made
here, the decisions approvals appends (consent, approval, refusal) and the departures and returns
reported here. ``SecondmentRecord`` folds it into what intake decides on: the state of each
secondment at this point of the log, and whether the teacher is away and with whom. A teacher is
away with one unit at a time; a departure or a return is recorded once, however often reported.
Over-long periods are not refused here: approvals refuses them at consent and approval, and the
compliance detector finds a teacher who stays too long.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Generic, TypeVar

from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.organisations import Directory, Organisation, OrgKind
from jianfu.events.schemas.secondments import (
    ReportTeacherReturned,
    ReportTeacherSeconded,
    RequestSecondment,
    SecondmentApproved,
    SecondmentConsented,
    SecondmentRefused,
    SecondmentRequested,
    TeacherReturned,
    TeacherSeconded,
)
from jianfu.events.schemas.teachers import TeacherRegistered
from jianfu.requests.domain.inspections import UNIT_KINDS, named_org

REPORTING_KINDS = UNIT_KINDS | {OrgKind.SCHOOL}
"""A departure or a return is reported by the teacher's school or by the borrowing unit (S7)."""

E = TypeVar("E")


@dataclass
class Secondment:
    """One requested secondment and the decisions on it so far."""

    request: SecondmentRequested
    consented: bool = False
    approved: bool = False
    refused: bool = False

    def covers(self, day: date) -> bool:
        """Whether ``day`` is in the period asked for: consent and approval are for those days
        only, so a teacher who leaves before them, or after them under an approval reused, left
        without both decisions (S7)."""
        return self.request.starts_on <= day <= self.request.ends_on


@dataclass
class SecondmentRecord:
    """All secondments of one teacher, and the teacher's departures and returns, in log order."""

    secondments: dict[uuid.UUID, Secondment] = field(default_factory=dict)
    away: TeacherSeconded | None = None
    last_return: TeacherReturned | None = None

    @classmethod
    def folded(cls, events: Iterable[object]) -> SecondmentRecord:
        record = cls()
        for event in events:
            record._apply(event)
        return record

    def _apply(self, event: object) -> None:
        if isinstance(event, SecondmentRequested):
            self.secondments.setdefault(event.secondment_id, Secondment(event))
        elif isinstance(event, SecondmentConsented | SecondmentApproved | SecondmentRefused):
            secondment = self.secondments.get(event.secondment_id)
            if secondment is not None:
                secondment.consented |= isinstance(event, SecondmentConsented)
                secondment.approved |= isinstance(event, SecondmentApproved)
                secondment.refused |= isinstance(event, SecondmentRefused)
        elif isinstance(event, TeacherSeconded):
            self.away = event
        elif isinstance(event, TeacherReturned):
            self.away, self.last_return = None, event

    def latest_of(self, borrowing_org_id: str) -> Secondment | None:
        """The unit's latest secondment of the teacher that is requested and not refused."""
        return next((s for s in reversed(self.secondments.values())
                     if s.request.borrowing_org_id == borrowing_org_id and not s.refused), None)


@dataclass(frozen=True)
class Reported(Generic[E]):
    """What a report records: a new event, or the one on record (``already_reported``)."""

    event: E
    already_reported: bool


def request_secondment(
    command: RequestSecondment, secondment_id: uuid.UUID, borrower: Organisation, today: date,
    teacher: TeacherRegistered | None, in_force_from: date,
) -> SecondmentRequested:
    """The SecondmentRequested event of a unit's request (S7), or Refused. ``school_id`` is the
    teacher's school now."""
    teacher = _registered(teacher)
    if command.starts_on < in_force_from:
        raise Refused(ErrorCode.INVALID_FIELD, f"starts_on is before the plan took effect on {in_force_from}",
                      "starts_on")
    return SecondmentRequested(
        secondment_id=secondment_id, teacher_id=teacher.teacher_id, school_id=teacher.school_id,
        borrowing_org_id=borrower.org_id, task=command.task, starts_on=command.starts_on, ends_on=command.ends_on,
        days=(command.ends_on - command.starts_on).days + 1, requested_on=today,
    )


def report_seconded(
    command: ReportTeacherSeconded, reporter: Organisation, today: date, teacher: TeacherRegistered | None,
    record: SecondmentRecord, in_force_from: date, directory: Directory,
) -> Reported[TeacherSeconded]:
    """The departure as reported (S7): under the secondment named, else the unit's latest one
    not refused, else none; with the decisions taken by now, if ``left_on`` is a day of the
    period they were taken on (otherwise neither consented nor approved). A teacher away with the same unit
    is one departure (the one on record); away with another unit, Refused."""
    teacher = _registered(teacher)
    borrowing_org_id = _borrower(command, reporter, teacher, directory)
    if record.away is not None:
        if record.away.borrowing_org_id == borrowing_org_id:
            return Reported(record.away, already_reported=True)
        raise Refused(ErrorCode.INVALID_STATE, f"the teacher is away with {record.away.borrowing_org_id} since "
                      f"{record.away.left_on}; report the return first", "teacher_id")
    _check_day(command.left_on, "left_on", today, in_force_from)
    if record.last_return is not None and command.left_on < record.last_return.returned_on:
        raise Refused(ErrorCode.INVALID_FIELD, f"left_on is before the teacher came back on "
                      f"{record.last_return.returned_on}", "left_on")
    secondment = _secondment(command.secondment_id, borrowing_org_id, record)
    covered = secondment is not None and secondment.covers(command.left_on)
    return Reported(TeacherSeconded(
        teacher_id=teacher.teacher_id, school_id=teacher.school_id, borrowing_org_id=borrowing_org_id,
        left_on=command.left_on,
        secondment_id=secondment.request.secondment_id if secondment else None,
        consented=covered and secondment.consented,
        approved=covered and secondment.approved,
        ends_on=secondment.request.ends_on if secondment else None,
        reported_by_org_id=reporter.org_id,
    ), already_reported=False)


def report_returned(
    command: ReportTeacherReturned, reporter: Organisation, today: date, teacher: TeacherRegistered | None,
    record: SecondmentRecord,
) -> Reported[TeacherReturned]:
    """The return as reported (S7) by the teacher's school or the unit holding the teacher; only
    while the teacher is away, unless it repeats the last return exactly (the one on record)."""
    teacher = _registered(teacher)
    _may_report_for(teacher, reporter)
    departure = record.away
    if departure is None:
        last = record.last_return
        if last is not None and last.returned_on == command.returned_on and reporter.org_id in (
                teacher.school_id, last.borrowing_org_id):
            return Reported(last, already_reported=True)
        raise Refused(ErrorCode.INVALID_STATE, "the teacher is not away: no departure to return from", "teacher_id")
    if reporter.kind is not OrgKind.SCHOOL and reporter.org_id != departure.borrowing_org_id:
        raise Refused(ErrorCode.FORBIDDEN, f"the teacher is away with {departure.borrowing_org_id}, not with "
                      f"{reporter.org_id}", "teacher_id")
    if command.returned_on <= departure.left_on:
        raise Refused(ErrorCode.INVALID_FIELD, f"returned_on is after the teacher left on {departure.left_on}",
                      "returned_on")
    if command.returned_on > today:
        raise Refused(ErrorCode.INVALID_FIELD, "returned_on is in the future", "returned_on")
    return Reported(TeacherReturned(
        teacher_id=teacher.teacher_id, school_id=departure.school_id, borrowing_org_id=departure.borrowing_org_id,
        secondment_id=departure.secondment_id, left_on=departure.left_on, returned_on=command.returned_on,
        reported_by_org_id=reporter.org_id,
    ), already_reported=False)


def _registered(teacher: TeacherRegistered | None) -> TeacherRegistered:
    if teacher is None:
        raise Refused(ErrorCode.NOT_FOUND, "no teacher is registered under this id", "teacher_id")
    return teacher


def _may_report_for(teacher: TeacherRegistered, reporter: Organisation) -> None:
    """A school reports for its own teachers only."""
    if reporter.kind is OrgKind.SCHOOL and reporter.org_id != teacher.school_id:
        raise Refused(ErrorCode.FORBIDDEN, f"the teacher is registered at {teacher.school_id}; a school reports "
                      "for its own teachers", "teacher_id")


def _borrower(command: ReportTeacherSeconded, reporter: Organisation, teacher: TeacherRegistered,
              directory: Directory) -> str:
    """The borrowing unit: the one the school names, or the unit reporting."""
    _may_report_for(teacher, reporter)
    if reporter.kind is not OrgKind.SCHOOL:
        if command.borrowing_org_id not in (None, reporter.org_id):
            raise Refused(ErrorCode.INVALID_FIELD, "a unit reports teachers it borrows: leave borrowing_org_id out",
                          "borrowing_org_id")
        return reporter.org_id
    if command.borrowing_org_id is None:
        raise Refused(ErrorCode.INVALID_FIELD, "name the unit the teacher left for", "borrowing_org_id")
    return named_org(directory, command.borrowing_org_id, UNIT_KINDS, "borrowing_org_id",
                     "the borrowing unit is a unit, not a school, teacher or jianfu").org_id


def _secondment(secondment_id: uuid.UUID | None, borrowing_org_id: str, record: SecondmentRecord) -> Secondment | None:
    if secondment_id is None:
        return record.latest_of(borrowing_org_id)
    secondment = record.secondments.get(secondment_id)
    if secondment is None or secondment.request.borrowing_org_id != borrowing_org_id:
        raise Refused(ErrorCode.INVALID_FIELD, f"{secondment_id} is not a secondment of this teacher by "
                      f"{borrowing_org_id}", "secondment_id")
    return secondment


def _check_day(day: date, name: str, today: date, in_force_from: date) -> None:
    if day > today:
        raise Refused(ErrorCode.INVALID_FIELD, f"{name} is in the future", name)
    if day < in_force_from:
        raise Refused(ErrorCode.INVALID_FIELD, f"{name} is before the plan took effect on {in_force_from}", name)
