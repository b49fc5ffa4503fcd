"""G2 stages 3–4: the facts a circulation document (通报) states, from the log's events only.

Given the events of one escalation in log order (its reminders, warnings, proposals and
confirmations) and the ``ViolationDetected`` events of the violations the confirmed proposal
names, ``circulation_facts`` finds the circulation by its document number and gathers what the
document says: the unit, each violation with its day and summary, the clauses violated with the
plan's text, the steps already taken in the case (reminders, warnings, an earlier internal
circulation) with their days, the rectification required and its deadline, the number, the issuing
body and the date. No clock, no I/O: the same events give the same facts, so the same document.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from jianfu.events.envelope import Envelope
from jianfu.events.organisations import Directory, OrgKind
from jianfu.events.schemas.base import EventData
from jianfu.events.schemas.compliance import UNREGISTERED_PREFIX, ViolationDetected
from jianfu.events.schemas.escalation import (
    CirculationConfirmed,
    CirculationProposed,
    RectificationVerified,
    ReminderIssued,
    WarningIssued,
    WarningTrigger,
)
from jianfu.events.working_days import BUSINESS_TIME
from jianfu.notifications.domain.plan_clauses import PlanClause, plan_clause

STAGE_TITLE = {3: "通报批评", 4: "公开通报"}
STAGE_AUDIENCE = {3: "各部门、各街道、各中小学校", 4: "社会各界"}
LEADING_GROUP_OFFICE_NAME = "区委教育工作领导小组办公室"  # when the directory lists none

ParseEvent = Callable[[Envelope], EventData]  # catalogue.parse: an envelope in, its event out


class CirculationNotFound(LookupError):
    """No confirmed circulation with this document number among the escalation's events."""


class ViolationsMissing(LookupError):
    """The caller did not load every violation the circulation rests on."""


@dataclass(frozen=True)
class ViolationFact:
    day: date
    violation_id: str
    rule: str
    clause: str
    summary: str


@dataclass(frozen=True)
class StepFact:
    """A step already taken in the case: a reminder, a warning or an earlier circulation."""

    day: date
    step: str
    issued_by: str
    rectify_by: date | None
    detail: str


@dataclass(frozen=True)
class CirculationFacts:
    document_number: str
    stage: int
    title: str
    audience: str
    issuing_body: str
    issued_on: date
    unit_org_id: str
    unit_name: str
    violations: tuple[ViolationFact, ...]
    clauses: tuple[PlanClause, ...]
    steps: tuple[StepFact, ...]
    rectify_by: date
    report_to: str
    note: str

    @property
    def subject(self) -> str:
        return f"关于{self.unit_name}违反减轻中小学教师负担规定的{self.title}"


def business_day(moment: datetime) -> date:
    return moment.astimezone(BUSINESS_TIME).date()


def circulation_facts(document_number: str, escalation: Sequence[Envelope], violations: Sequence[Envelope],
                      parse: ParseEvent, directory: Directory) -> CirculationFacts:
    """The facts of the circulation numbered ``document_number`` (G2 stages 3–4).

    ``escalation``: the escalation's events in log order; ``violations``: the violation events
    (any order; extras ignored); ``parse`` turns an envelope into its event (``catalogue.parse``)."""
    events = [(envelope, parse(envelope)) for envelope in escalation]
    confirmed_at, confirmed = _confirmation(events, document_number)
    proposal = _proposal(events[:confirmed_at], confirmed.proposal_id)
    case_start = _case_start(events[:confirmed_at])
    found = _violation_facts(proposal.violation_ids, violations, parse)
    steps = _steps(events[case_start:confirmed_at], set(proposal.warning_event_ids), events[:case_start], directory)
    return CirculationFacts(
        document_number=document_number, stage=confirmed.stage, title=STAGE_TITLE[confirmed.stage],
        audience=STAGE_AUDIENCE[confirmed.stage], issuing_body=org_name(directory, confirmed.confirmed_by_org_id),
        issued_on=confirmed.confirmed_on, unit_org_id=confirmed.responsible_org_id,
        unit_name=org_name(directory, confirmed.responsible_org_id), violations=found,
        clauses=tuple(plan_clause(clause) for clause in dict.fromkeys(v.clause for v in found)),
        steps=steps, rectify_by=confirmed.rectify_by, report_to=_report_to(events[:confirmed_at], directory),
        note=confirmed.note)


def violations_cited(document_number: str, escalation: Sequence[Envelope], parse: ParseEvent) -> tuple[str, ...]:
    """The violations the circulation's proposal rests on: what the caller loads for ``circulation_facts``."""
    events = [(envelope, parse(envelope)) for envelope in escalation]
    confirmed_at, confirmed = _confirmation(events, document_number)
    return _proposal(events[:confirmed_at], confirmed.proposal_id).violation_ids


def org_name(directory: Directory, org_id: str) -> str:
    """The official name; a unit outside the directory by the name the violation gave it."""
    if org_id.startswith(UNREGISTERED_PREFIX):
        return org_id.removeprefix(UNREGISTERED_PREFIX)
    org = directory.get(org_id)
    if org is not None:
        return org.name
    if org_id == "jianfu":
        return LEADING_GROUP_OFFICE_NAME
    return org_id


def _confirmation(events: list[tuple[Envelope, EventData]], number: str) -> tuple[int, CirculationConfirmed]:
    for index, (_, event) in enumerate(events):
        if isinstance(event, CirculationConfirmed) and event.document_number == number:
            return index, event
    raise CirculationNotFound(f"no confirmed circulation numbered {number}")


def _proposal(events: list[tuple[Envelope, EventData]], proposal_id: str) -> CirculationProposed:
    for _, event in events:
        if isinstance(event, CirculationProposed) and event.proposal_id == proposal_id:
            return event
    raise CirculationNotFound(f"the proposal {proposal_id} of the circulation is not in the escalation")


def _case_start(events: list[tuple[Envelope, EventData]]) -> int:
    """A case opens after the last verified rectification before it (or at the log's start)."""
    start = 0
    for index, (_, event) in enumerate(events):
        if isinstance(event, RectificationVerified):
            start = index + 1
    return start


def _violation_facts(ids: Sequence[str], violations: Sequence[Envelope],
                     parse: ParseEvent) -> tuple[ViolationFact, ...]:
    by_id: dict[str, ViolationFact] = {}
    for envelope in violations:
        event = parse(envelope)
        if isinstance(event, ViolationDetected) and event.violation_id in ids:
            by_id[event.violation_id] = ViolationFact(business_day(envelope.occurred_at), event.violation_id,
                                                      event.rule.value, event.clause, event.summary)
    missing = [violation for violation in ids if violation not in by_id]
    if missing:
        raise ViolationsMissing(f"violations not loaded: {', '.join(missing)}")
    return tuple(sorted(by_id.values(), key=lambda fact: (fact.day, fact.violation_id)))


def _steps(case: list[tuple[Envelope, EventData]], rests_on: set[str], before: list[tuple[Envelope, EventData]],
           directory: Directory) -> tuple[StepFact, ...]:
    """The case's reminders, warnings and earlier circulations, and the warnings of earlier cases
    within the window the proposal rests on (G2 counts those too), in log order."""
    earlier = [(e, event) for e, event in before if isinstance(event, WarningIssued) and e.event_id in rests_on]
    steps = []
    for envelope, event in [*earlier, *case]:
        step = _step(envelope, event, directory)
        if step is not None:
            steps.append(step)
    return tuple(steps)


def _step(envelope: Envelope, event: EventData, directory: Directory) -> StepFact | None:
    if isinstance(event, ReminderIssued):
        return StepFact(event.issued_on or business_day(envelope.occurred_at), "提醒（整改通知）",
                        org_name(directory, event.issued_by_org_id), event.rectify_by, event.summary)
    if isinstance(event, WarningIssued):
        why = "同类问题再次发生" if event.trigger == WarningTrigger.REPEAT else f"逾期（{event.missed_deadline}）未整改"
        return StepFact(event.issued_on, "约谈警告", org_name(directory, event.issued_by_org_id), event.rectify_by,
                        f"{why}；{event.summary}")
    if isinstance(event, CirculationConfirmed):
        return StepFact(event.confirmed_on, STAGE_TITLE[event.stage], org_name(directory, event.confirmed_by_org_id),
                        event.rectify_by, event.document_number)
    return None


def _report_to(events: list[tuple[Envelope, EventData]], directory: Directory) -> str:
    """Whom the unit reports its rectification to: the issuer of the case's latest reminder or
    warning (who verifies it, G2); the supervision office when there is none."""
    for _, event in reversed(events):
        if isinstance(event, ReminderIssued | WarningIssued):
            return org_name(directory, event.issued_by_org_id)
    offices = directory.of_kind(OrgKind.SUPERVISION_OFFICE)
    return offices[0].name if offices else "区委督查室"
