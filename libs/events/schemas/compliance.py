"""Violations found by the compliance detector, with deterministic ids (DESIGN.md)."""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Any, ClassVar

from jianfu.events.schemas.base import EventData
from jianfu.events.schemas.paging import PagedQuery
from jianfu.events.schemas.teachers import TeacherId
from jianfu.events.schemas.text import OrgId, SemesterId
from pydantic import Field


class Rule(StrEnum):
    """Violation rules by clause (S1 inspections, S2 data requests, S3 campus entry, S7 secondment, S8
    training, S9-S10 meetings)."""

    UNAUTHORIZED_CAMPUS_ENTRY = "UnauthorizedCampusEntry"
    CAMPUS_ENTRY_QUOTA_EXCEEDED = "CampusEntryQuotaExceeded"
    UNPLANNED_INSPECTION = "UnplannedInspection"
    UNAUTHORIZED_INSPECTION_SETTER = "UnauthorizedInspectionSetter"
    DISGUISED_INSPECTION = "DisguisedInspection"
    INSPECTION_OVER_FREQUENCY = "InspectionOverFrequency"
    DUPLICATE_DATA_REQUEST = "DuplicateDataRequest"
    EXCESSIVELY_SHORT_DEADLINE = "ExcessivelyShortDeadline"
    UNAPPROVED_SECONDMENT = "UnapprovedSecondment"
    SECONDMENT_OVERDUE = "SecondmentOverdue"
    UNPLANNED_TRAINING = "UnplannedTraining"
    NON_EDUCATION_TRAINING = "NonEducationTraining"
    VIDEO_SUB_VENUE_REQUIRED = "VideoSubVenueRequired"
    NON_EDUCATION_MEETING_FOR_TEACHERS = "NonEducationMeetingForTeachers"
    MEETING_QUOTA_EXCEEDED = "MeetingQuotaExceeded"


RULE_CLAUSE = {
    Rule.UNAUTHORIZED_CAMPUS_ENTRY: "S3",
    Rule.CAMPUS_ENTRY_QUOTA_EXCEEDED: "S3",
    Rule.UNPLANNED_INSPECTION: "S1",
    Rule.UNAUTHORIZED_INSPECTION_SETTER: "S1",
    Rule.DISGUISED_INSPECTION: "S1",
    Rule.INSPECTION_OVER_FREQUENCY: "S1",
    Rule.DUPLICATE_DATA_REQUEST: "S2",
    Rule.EXCESSIVELY_SHORT_DEADLINE: "S2",
    Rule.UNAPPROVED_SECONDMENT: "S7",
    Rule.SECONDMENT_OVERDUE: "S7",
    Rule.UNPLANNED_TRAINING: "S8",
    Rule.NON_EDUCATION_TRAINING: "S8",
    Rule.VIDEO_SUB_VENUE_REQUIRED: "S9",
    Rule.NON_EDUCATION_MEETING_FOR_TEACHERS: "S10",
    Rule.MEETING_QUOTA_EXCEEDED: "S10",
}


UNREGISTERED_PREFIX = "unregistered unit: "


def unregistered_unit(name: str) -> str:
    """The responsible party of a violation by a unit outside the directory (S3: a provincial
    body, a trade union, a private firm): ``unregistered unit: <name>``. The education bureau
    acts on it (``routed_to``)."""
    return f"{UNREGISTERED_PREFIX}{name}"


def violation_id(rule: Rule, *evidence: str) -> str:
    """Same rule and evidence, same id: detecting a violation twice appends nothing."""
    digest = hashlib.sha256("|".join((rule.value, *evidence)).encode()).hexdigest()
    return f"v-{digest[:32]}"


class ViolationDetected(EventData):
    aggregate_type: ClassVar[str] = "violation"

    violation_id: str
    rule: Rule
    clause: str = Field(description="Clause of the plan, S1..S10, G1, G2.")
    responsible_org_id: str = Field(description="The unit that violated the rule: an org id, or "
                                    "`unregistered unit: <name>` for a unit outside the directory.")
    school_id: str | None = None
    teacher_id: str | None = Field(None, description="The teacher it concerns (S7, S10), by id only.")
    semester: str | None = None
    issue_key: str = Field(description="Groups repeated violations of one issue for escalation (G2).")
    summary: str
    evidence: dict[str, Any] = Field(description="Event ids and facts the finding rests on.")
    routed_to: str | None = Field(None, description="The unit that acts on it for the responsible party, when "
                                  "that party is outside the directory (the education bureau).")


class GetViolations(PagedQuery):
    """The violations register (compliance read model), newest first, page by page. Overseers see
    every violation; any other organisation sees those it is responsible for and, for a school,
    those found at it. The filters only narrow what the caller may see."""

    context: ClassVar[str] = "compliance"

    semester: SemesterId | None = Field(default=None, description="e.g. 2026-autumn")
    responsible_org_id: OrgId | None = Field(default=None, description="The unit charged.")
    rule: Rule | None = Field(default=None, description="e.g. UnauthorizedCampusEntry")
    teacher_id: TeacherId | None = Field(default=None, description="The teacher a violation concerns (S7, S10).")
