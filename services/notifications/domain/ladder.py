"""G2 decisions on one escalation (state in ``escalation.py``): the step a violation calls for
(a reminder, or a warning for a repeat within the window), the circulation a warning or a missed
deadline calls for, and what a person's command may do with a proposal or a rectification report.

Plain functions of the state, the policy, the directory and the working-day calendar; every day
given is a business day (Asia/Shanghai). "Within ``repeat_window_months`` before a day" means
strictly after the same date that many months earlier: a violation exactly twelve months before
is no longer a repeat, a warning issued exactly twelve months before no longer counts.
"""

from __future__ import annotations

import calendar as month_calendar
import hashlib
import re
from collections.abc import Iterable
from datetime import date, timedelta

from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.organisations import Directory
from jianfu.events.policy import EscalationPolicy
from jianfu.events.schemas.compliance import ViolationDetected
from jianfu.events.schemas.escalation import (
    CirculationConfirmed,
    CirculationDeclined,
    CirculationProposed,
    RectificationDeadlineMissed,
    RectificationRejected,
    RectificationReported,
    RectificationVerified,
    ReminderIssued,
    WarningIssued,
    WarningTrigger,
)
from jianfu.events.working_days import WorkingCalendar
from jianfu.notifications.domain.escalation import (
    CONFIRMED,
    PENDING,
    PRINCIPAL_LEADER,
    Escalation,
    Stage,
    decide_reminder,
    escalation_id,
    warning_issuer,
)


def months_before(day: date, months: int) -> date:
    """The same date ``months`` earlier (the month's last day when it has fewer days)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    last = month_calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def within_window(earlier: date, day: date, policy: EscalationPolicy) -> bool:
    return months_before(day, policy.repeat_window_months) < earlier <= day


def warnings_in_window(escalation: Escalation, day: date, policy: EscalationPolicy) -> list[str]:
    """Event ids of the warnings counting on ``day``, oldest first (an old warning falls out)."""
    counted = [(issued, event_id) for event_id, issued in escalation.warnings.items()
               if within_window(issued, day, policy)]
    return [event_id for _, event_id in sorted(counted)]


def proposal_id(escalation: str, step_event_id: str) -> str:
    """One proposal per escalation and step that led to it; a subject-safe token that begins with
    the escalation's id, so a command naming only the proposal finds its escalation."""
    return f"{escalation}-" + hashlib.sha256(f"{escalation}|{step_event_id}".encode()).hexdigest()[:16]


_ESCALATION_ID = re.compile(r"^esc-[0-9a-f]{32}$")


def known_escalation_id(value: str) -> str:
    """The escalation id itself, or NOT_FOUND for anything that cannot be one (no lookup needed)."""
    if not _ESCALATION_ID.match(value):
        raise Refused(ErrorCode.NOT_FOUND, "no such escalation", "escalation_id")
    return value


def escalation_of_proposal(proposal: str) -> str:
    """The escalation a proposal id belongs to (``proposal_id``), or NOT_FOUND."""
    if len(proposal) != 53 or not _ESCALATION_ID.match(proposal[:36]) or proposal[36] != "-":
        raise Refused(ErrorCode.NOT_FOUND, "no such circulation proposal", "proposal_id")
    return proposal[:36]


def report_id(escalation: str, command_key: str) -> str:
    return "rect-" + hashlib.sha256(f"{escalation}|{command_key}".encode()).hexdigest()[:32]


def decide_step(escalation: Escalation, violation: ViolationDetected, day: date, directory: Directory,
                policy: EscalationPolicy, working: WorkingCalendar) -> ReminderIssued | WarningIssued | None:
    """G2 stages 1–2: the step a violation calls for, or None when it has one already. A repeat of
    the issue within the window (any case) is warned, anything else reminded."""
    if escalation_id(violation.responsible_org_id, violation.issue_key) != escalation.escalation_id:
        raise ValueError(f"violation {violation.violation_id} belongs to another escalation")
    if escalation.reminded(violation.violation_id):
        return None
    rectify_by = working.add_working_days(day, policy.rectification_working_days)
    repeat = any(within_window(earlier, day, policy) for earlier in escalation.violation_days.values())
    if not repeat:
        return decide_reminder(escalation, violation, directory, policy, day, rectify_by)
    issuer = warning_issuer(directory)
    count = len(warnings_in_window(escalation, day, policy)) + 1
    return WarningIssued(
        escalation_id=escalation.escalation_id, responsible_org_id=violation.responsible_org_id,
        issue_key=violation.issue_key, rule=violation.rule.value, trigger=WarningTrigger.REPEAT,
        violation_id=violation.violation_id, warnings_in_window=count, issued_by_org_id=issuer.org_id,
        recipient=PRINCIPAL_LEADER, issued_on=day, rectify_by=rectify_by,
        summary=(f"【警告】{violation.summary}该问题{policy.repeat_window_months}个月内再次发生（第{count}次警告），"
                 f"请单位主要负责人于{rectify_by.isoformat()}前整改到位并向{issuer.name}报告（G2）。"),
    )


def decide_internal_proposal(escalation: Escalation, warning: WarningIssued, warning_event_id: str,
                             policy: EscalationPolicy) -> CirculationProposed | None:
    """G2 stage 3: proposed with the warning that brings the count in the window to
    ``warnings_before_circulation``, unless the case has one pending or confirmed already.
    ``escalation`` is the state before the warning."""
    if warning.warnings_in_window < policy.warnings_before_circulation:
        return None
    case = escalation.open_case
    if case is not None and case.internal is not None:
        return None
    warnings = (*warnings_in_window(escalation, warning.issued_on, policy), warning_event_id)
    violations = (*(case.violation_ids if case else ()), *((warning.violation_id,) if warning.violation_id else ()))
    return _proposal(escalation, warning_event_id, Stage.INTERNAL_CIRCULATION, violations, warnings,
                     warning.issued_on, warning.rule,
                     f"{policy.repeat_window_months}个月内同一问题已警告{warning.warnings_in_window}次仍未整改，"
                     f"建议在全区通报批评（G2）。")


def decide_on_missed_deadline(escalation: Escalation, missed: RectificationDeadlineMissed, day: date,
                              directory: Directory, policy: EscalationPolicy, working: WorkingCalendar
                              ) -> WarningIssued | CirculationProposed | None:
    """G2: a missed deadline of the open case's current step escalates — to a public circulation
    proposal once an internal one was confirmed in the case (once per case), else to a warning.
    A stale deadline (a later step replaced it on or before the deadline, or the case closed) does
    nothing; one replaced only after it passed was missed all the same (``Case.missed_while_current``)."""
    if missed.escalation_id != escalation.escalation_id or (
            escalation.responsible_org_id is not None and missed.responsible_org_id != escalation.responsible_org_id):
        raise ValueError(f"deadline {missed.deadline_id} names another escalation or unit")  # never warn another
    case = escalation.open_case
    if case is None or not case.missed_while_current(missed.step_event_id, missed.rectify_by):
        return None
    day = max(day, missed.rectify_by + timedelta(days=1))
    if case.internal_confirmed:
        if case.public is not None:
            return None
        return _proposal(escalation, missed.step_event_id, Stage.PUBLIC_CIRCULATION, tuple(case.violation_ids),
                         tuple(warnings_in_window(escalation, day, policy)), day, escalation.rule or "",
                         f"通报批评后逾期（{missed.rectify_by.isoformat()}）仍未整改，建议公开通报（G2）。")
    issuer = warning_issuer(directory)
    count = len(warnings_in_window(escalation, day, policy)) + 1
    rectify_by = working.add_working_days(day, policy.rectification_working_days)
    return WarningIssued(
        escalation_id=escalation.escalation_id, responsible_org_id=missed.responsible_org_id,
        issue_key=escalation.issue_key or "", rule=escalation.rule or _rule_of(escalation.issue_key),
        trigger=WarningTrigger.DEADLINE_MISSED, missed_deadline=missed.rectify_by, warnings_in_window=count,
        issued_by_org_id=issuer.org_id, recipient=PRINCIPAL_LEADER, issued_on=day, rectify_by=rectify_by,
        summary=(f"【警告】整改期限{missed.rectify_by.isoformat()}已过仍未整改（第{count}次警告），"
                 f"请单位主要负责人于{rectify_by.isoformat()}前整改到位并向{issuer.name}报告（G2）。"),
    )


def _rule_of(issue_key: str | None) -> str:
    """Reminders carry no rule; every detector's issue key ends with it (``<unit>:<rule>``)."""
    return (issue_key or "").rsplit(":", 1)[-1]


def _proposal(escalation: Escalation, step_event_id: str, stage: Stage, violations: Iterable[str],
              warnings: Iterable[str], day: date, rule: str, summary: str) -> CirculationProposed:
    return CirculationProposed(
        proposal_id=proposal_id(escalation.escalation_id, step_event_id), escalation_id=escalation.escalation_id,
        responsible_org_id=escalation.responsible_org_id or "", issue_key=escalation.issue_key or "",
        rule=rule or _rule_of(escalation.issue_key), stage=int(stage), violation_ids=tuple(violations),
        warning_event_ids=tuple(warnings), proposed_on=day, summary=summary,
    )


def pending_proposal(escalation: Escalation, proposal: str) -> int:
    """The stage of a pending proposal; NOT_FOUND / INVALID_STATE otherwise."""
    found = escalation.proposals.get(proposal)
    if found is None:
        raise Refused(ErrorCode.NOT_FOUND, "no such circulation proposal", "proposal_id")
    if found.status != PENDING:
        raise Refused(ErrorCode.INVALID_STATE, f"the proposal is {found.status} already", "proposal_id")
    return found.stage


def confirmable(escalation: Escalation, proposal: str) -> int:
    """The stage of a proposal that may be confirmed: pending, in the case still open. Checked
    before a number is taken from the year's register, so a refusal leaves no gap in it."""
    stage = pending_proposal(escalation, proposal)
    case = escalation.open_case
    if case is None or case.number != escalation.proposals[proposal].case:
        raise Refused(ErrorCode.INVALID_STATE, "the case of this proposal is closed: a rectification was verified; "
                      "decline it", "proposal_id")
    return stage


def confirm(escalation: Escalation, proposal: str, document_number: str, year: int, org_id: str,
            person: str | None, day: date, note: str, policy: EscalationPolicy, working: WorkingCalendar
            ) -> CirculationConfirmed:
    stage = confirmable(escalation, proposal)
    return CirculationConfirmed(
        proposal_id=proposal, escalation_id=escalation.escalation_id,
        responsible_org_id=escalation.responsible_org_id or "", stage=stage, document_number=document_number,
        year=year, confirmed_by_org_id=org_id, confirmed_by_person=person, confirmed_on=day,
        rectify_by=working.add_working_days(day, policy.rectification_working_days), note=note)


def decline(escalation: Escalation, proposal: str, org_id: str, person: str | None, day: date,
            reason: str) -> CirculationDeclined:
    stage = pending_proposal(escalation, proposal)
    return CirculationDeclined(proposal_id=proposal, escalation_id=escalation.escalation_id, stage=stage,
                               declined_by_org_id=org_id, declined_by_person=person, declined_on=day, reason=reason)


def document_number(policy: EscalationPolicy, year: int, number: int) -> str:
    return policy.circulation_number_format.format(year=year, number=number)


def report(escalation: Escalation, org_id: str, new_report_id: str, text: str, day: date) -> RectificationReported:
    """Only the responsible unit reports, on an open case with no report awaiting verification.
    Another unit's escalation is answered as one that does not exist: escalation ids are hashes
    anyone can compute, and FORBIDDEN would tell which other units have a case."""
    if escalation.case is None or org_id != escalation.responsible_org_id:
        raise Refused(ErrorCode.NOT_FOUND, "no escalation of yours has this id", "escalation_id")
    if escalation.open_case is None:
        raise Refused(ErrorCode.INVALID_STATE, "no case of this escalation is open", "escalation_id")
    if escalation.open_case.pending_report is not None:
        raise Refused(ErrorCode.INVALID_STATE, "a report awaits verification already", "escalation_id")
    return RectificationReported(report_id=new_report_id, escalation_id=escalation.escalation_id,
                                 responsible_org_id=org_id, report=text, reported_on=day)


def verify(escalation: Escalation, org_id: str, report: str, day: date, note: str) -> RectificationVerified:
    """The issuer of the case's latest step verifies the pending report: the case closes."""
    case = _reviewable(escalation, org_id, report)
    return RectificationVerified(report_id=report, escalation_id=escalation.escalation_id,
                                 verified_by_org_id=org_id, verified_on=day, closed_deadline=case.deadline, note=note)


def reject(escalation: Escalation, org_id: str, report: str, day: date, reason: str) -> RectificationRejected:
    _reviewable(escalation, org_id, report)
    return RectificationRejected(report_id=report, escalation_id=escalation.escalation_id,
                                 rejected_by_org_id=org_id, rejected_on=day, reason=reason)


def _known(escalation: Escalation) -> None:
    if escalation.case is None:
        raise Refused(ErrorCode.NOT_FOUND, "no such escalation", "escalation_id")


def _reviewable(escalation: Escalation, org_id: str, report: str):
    _known(escalation)
    case = escalation.case
    if report not in escalation.reports:
        raise Refused(ErrorCode.NOT_FOUND, "no such rectification report", "report_id")
    if org_id != case.issuer_org_id:
        raise Refused(ErrorCode.FORBIDDEN, "only the issuer of the case's latest step reviews its reports", "org_id")
    if not case.open or case.pending_report != report:
        raise Refused(ErrorCode.INVALID_STATE, "no such report awaits verification", "report_id")
    return case


__all__ = ["CONFIRMED", "confirm", "confirmable", "decide_internal_proposal", "decide_on_missed_deadline", "decide_reminder",
           "decide_step", "decline", "document_number", "months_before", "proposal_id", "reject", "report",
           "report_id", "verify"]
