"""G2: the events of one escalation that reached an internal circulation (stage 3), written out by
hand against the committed schemas (libs/events/schemas/escalation.py): three violations of S3 by
区卫健局, a reminder, two repeat warnings, a third warning with the circulation proposal, and its
confirmation numbered 大教减负通〔2026〕3号. Used by the unit and the integration tests of the
circulation documents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from jianfu.events.envelope import SYSTEM_ACTOR, Actor, Envelope
from jianfu.events.organisations import OrgKind
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.compliance import Rule, ViolationDetected
from jianfu.events.schemas.escalation import (
    CirculationConfirmed,
    CirculationProposed,
    ReminderIssued,
    WarningIssued,
    WarningTrigger,
)

UNIT = "dept-health"
UNIT_NAME = "区卫健局"
ESCALATION = "esc-health-campus-entry"
ISSUE = f"{UNIT}:UnauthorizedCampusEntry"
NUMBER = "大教减负通〔2026〕3号"
PROPOSAL = "prop-health-1"
POLICY = "dawukou-2021.1"
DAYS = (date(2026, 3, 10), date(2026, 5, 12), date(2026, 9, 15))
CONFIRMED_ON = date(2026, 9, 18)
RECTIFY_BY = date(2026, 10, 9)


@dataclass(frozen=True)
class Case:
    escalation: list[Envelope]
    violations: list[Envelope]


def _at(day: date, hour: int = 2) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)  # 10:00 in Shanghai, same day


def _system(command: str, day: date) -> CommandContext:
    return CommandContext(SYSTEM_ACTOR, command, "corr-health", POLICY, _at(day))


def violation_events(unit: str = UNIT, number: int = 3) -> list[Envelope]:
    found = []
    for index, day in enumerate(DAYS[:number], start=1):
        event = ViolationDetected(
            violation_id=f"v-health-{index}", rule=Rule.UNAUTHORIZED_CAMPUS_ENTRY, clause="S3",
            responsible_org_id=unit, school_id="school-dwk-primary-1", semester="2026-spring",
            issue_key=f"{unit}:UnauthorizedCampusEntry",
            summary=f"{UNIT_NAME}于{day.isoformat()}未经认定进入大武口区第一小学开展宣传活动。",
            evidence={"report": f"report-{index}"})
        found.append(_system(f"detect:{index}", day).event(event, f"v-health-{index}"))
    return found


def stage3_case(escalation: str = ESCALATION, number: str = NUMBER, proposal: str = PROPOSAL) -> Case:
    violations = violation_events()
    steps: list[Envelope] = []
    reminder = ReminderIssued(violation_id="v-health-1", issue_key=ISSUE, responsible_org_id=UNIT,
                              issued_by_org_id="supervision-office", recipient="unit_head",
                              summary="【整改通知】区卫健局未经认定进校园，请于10个工作日内整改。",
                              rectify_by=date(2026, 3, 24), issued_on=DAYS[0])
    steps.append(_system("remind:v-health-1", DAYS[0]).event(reminder, escalation))
    for count, (violation_number, day, rectify_by) in enumerate(
            ((2, DAYS[1], date(2026, 5, 26)), (3, DAYS[2], date(2026, 9, 29))), start=1):
        warning = WarningIssued(escalation_id=escalation, responsible_org_id=UNIT, issue_key=ISSUE,
                                rule="UnauthorizedCampusEntry", trigger=WarningTrigger.REPEAT,
                                violation_id=f"v-health-{violation_number}", warnings_in_window=count,
                                issued_by_org_id="supervision-office", recipient="principal_leader",
                                issued_on=day, rectify_by=rectify_by,
                                summary=f"【约谈警告】区卫健局12个月内再次未经认定进校园（第{count}次警告）。")
        steps.append(_system(f"warn:v-health-{violation_number}", day).event(warning, escalation))
    proposed = CirculationProposed(proposal_id=proposal, escalation_id=escalation, responsible_org_id=UNIT,
                                   issue_key=ISSUE, rule="UnauthorizedCampusEntry", stage=3,
                                   violation_ids=("v-health-1", "v-health-2", "v-health-3"),
                                   warning_event_ids=tuple(e.event_id for e in steps[1:]), proposed_on=DAYS[2],
                                   summary="区卫健局经提醒、警告后仍未整改，建议通报批评。")
    steps.append(_system(f"propose:{proposal}", DAYS[2]).event(proposed, escalation))
    confirmed = CirculationConfirmed(proposal_id=proposal, escalation_id=escalation, responsible_org_id=UNIT,
                                     stage=3, document_number=number, year=2026,
                                     confirmed_by_org_id="leading-group-office", confirmed_by_person="王主任",
                                     confirmed_on=CONFIRMED_ON, rectify_by=RECTIFY_BY)
    office = Actor(org_id="leading-group-office", org_kind=OrgKind.LEADING_GROUP_OFFICE, person="王主任")
    context = CommandContext(office, f"confirm:{proposal}", "corr-health", POLICY, _at(CONFIRMED_ON))
    steps.append(context.event(confirmed, escalation))
    return Case(steps, violations)
