"""All secondments of one teacher and their decisions (aggregate ``secondment.<teacher_id>``, S7).

A secondment is requested by a borrowing unit (requests), then consented to by the education
bureau (教体局同意), then approved and filed by the approver the policy names (人社部门审批备案,
``SecondmentPolicy.approver_kind``); either may refuse it at its own stage. The half-year rule is
judged at consent and again at approval, because renewals may have been requested in between:
the period together with the teacher's other secondments with the same unit that it continues or
that continue it (``secondment_periods.run_of``, requested and not refused) is one run, and a run
longer than ``max_days`` is refused by rule (``OVER_HALF_YEAR``, automatic) instead of decided.
The aggregate holds every period of the teacher, so the run is judged where all of it is at hand.
Departures and returns (``TeacherSeconded``, ``TeacherReturned``) are on it too; deciding does
not read them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from uuid import UUID

from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.organisations import Organisation, OrgKind
from jianfu.events.policy import SecondmentPolicy
from jianfu.events.schemas.secondments import (
    SecondmentApproved,
    SecondmentConsented,
    SecondmentRefusalCode,
    SecondmentRefused,
    SecondmentRequested,
    SecondmentStage,
)
from jianfu.events.secondment_periods import Period, run_of

Decision = SecondmentConsented | SecondmentApproved | SecondmentRefused


@dataclass
class Secondment:
    """One requested period and the decisions taken on it so far."""

    request: SecondmentRequested
    consent: SecondmentConsented | None = None
    approval: SecondmentApproved | None = None
    refusal: SecondmentRefused | None = None

    @property
    def period(self) -> Period:
        return Period(self.request.starts_on, self.request.ends_on, self.request.borrowing_org_id)

    @property
    def counts(self) -> bool:
        """Whether it counts toward another period's run: requested and not refused."""
        return self.refusal is None

    @property
    def status(self) -> str:
        if self.refusal is not None:
            return f"refused ({self.refusal.refusal_code}, at {self.refusal.stage})"
        if self.approval is not None:
            return "approved"
        return "consented" if self.consent is not None else "requested"


@dataclass
class TeacherSecondments:
    """The teacher's secondments by id, in the order they were requested."""

    teacher_id: str
    secondments: dict[UUID, Secondment] = field(default_factory=dict)

    @classmethod
    def from_events(cls, teacher_id: str, events: Iterable[object]) -> TeacherSecondments:
        teacher = cls(teacher_id)
        for event in events:
            teacher._apply(event)
        return teacher

    def _apply(self, event: object) -> None:
        if isinstance(event, SecondmentRequested):
            self.secondments.setdefault(event.secondment_id, Secondment(event))
            return
        if not isinstance(event, Decision) or event.secondment_id not in self.secondments:
            return  # departures, returns and anything else: not what a decision is judged on
        secondment = self.secondments[event.secondment_id]
        if isinstance(event, SecondmentConsented):
            secondment.consent = secondment.consent or event
        elif isinstance(event, SecondmentApproved):
            secondment.approval = secondment.approval or event
        else:
            secondment.refusal = secondment.refusal or event

    def secondment(self, secondment_id: UUID) -> Secondment:
        """The teacher's secondment; one of another teacher, or none at all, is not found here."""
        found = self.secondments.get(secondment_id)
        if found is None:
            raise Refused(ErrorCode.NOT_FOUND, f"no secondment {secondment_id} of teacher {self.teacher_id}",
                          "secondment_id")
        return found

    def continuous_days(self, secondment_id: UUID, gap_days: int) -> int:
        """S7 连续续借合并计算: the days of the run this period belongs to, with the teacher's
        other periods with the same unit that are requested, not refused, and start before it or
        were requested before it. A renewal requested later does not count against the period it
        would continue: it is judged on its own turn, with this one before it. A period requested
        earlier counts whichever way round it lies, so asking for the second half of a run first
        and back-filling the first half later is judged as the one run it is."""
        period = self.secondments[secondment_id].period
        requested_before = set()
        for key in self.secondments:  # in the order they were requested
            if key == secondment_id:
                break
            requested_before.add(key)
        others = [s.period for key, s in self.secondments.items() if key != secondment_id and s.counts
                  and (s.period.starts_on < period.starts_on or key in requested_before)]
        return run_of(period, others, gap_days).days

    def consent(self, secondment_id: UUID, by: Organisation, policy: SecondmentPolicy,
                note: str = "") -> SecondmentConsented | SecondmentRefused:
        """The education bureau consents while the secondment is only requested; a run over the
        limit is refused by rule instead."""
        if by.kind is not OrgKind.EDUCATION_BUREAU:
            raise Refused(ErrorCode.FORBIDDEN, "only the education bureau consents to a secondment (S7)")
        secondment = self.secondment(secondment_id)
        if secondment.consent is not None or secondment.refusal is not None:
            raise Refused(ErrorCode.INVALID_STATE, f"the bureau decided already: {secondment.status}", "secondment_id")
        days = self.continuous_days(secondment_id, policy.renewal_gap_days)
        return self._over_limit(secondment, SecondmentStage.CONSENT, by, days, policy) or SecondmentConsented(
            secondment_id=secondment_id, teacher_id=self.teacher_id, consented_by_org_id=by.org_id,
            continuous_days=days, note=note)

    def approve(self, secondment_id: UUID, by: Organisation, policy: SecondmentPolicy,
                note: str = "") -> SecondmentApproved | SecondmentRefused:
        """The approver the policy names approves and files it after the bureau's consent; the
        run is judged again, renewals requested since the consent included."""
        if by.kind is not policy.approver_kind:
            raise Refused(ErrorCode.FORBIDDEN, f"only the {policy.approver_kind} approves a secondment (S7)")
        secondment = self.secondment(secondment_id)
        if secondment.refusal is not None or secondment.approval is not None:
            raise Refused(ErrorCode.INVALID_STATE, f"decided already: {secondment.status}", "secondment_id")
        if secondment.consent is None:
            raise Refused(ErrorCode.INVALID_STATE, "the education bureau has not consented yet", "secondment_id")
        days = self.continuous_days(secondment_id, policy.renewal_gap_days)
        return self._over_limit(secondment, SecondmentStage.APPROVAL, by, days, policy) or SecondmentApproved(
            secondment_id=secondment_id, teacher_id=self.teacher_id, approved_by_org_id=by.org_id,
            continuous_days=days, note=note)

    def refuse(self, secondment_id: UUID, by: Organisation, policy: SecondmentPolicy,
               code: SecondmentRefusalCode, reason: str) -> SecondmentRefused:
        """The stage is the secondment's: before consent the bureau refuses, after it (and before
        approval) the approver. A unit that decides at neither stage is FORBIDDEN; one that
        decides at the other stage is refused for the state (INVALID_STATE)."""
        deciders = {OrgKind.EDUCATION_BUREAU, policy.approver_kind}
        if by.kind not in deciders:
            raise Refused(ErrorCode.FORBIDDEN, "only the education bureau or the approver refuses a secondment (S7)")
        secondment = self.secondment(secondment_id)
        if secondment.refusal is not None or secondment.approval is not None:
            raise Refused(ErrorCode.INVALID_STATE, f"decided already: {secondment.status}", "secondment_id")
        stage, decider = ((SecondmentStage.CONSENT, OrgKind.EDUCATION_BUREAU) if secondment.consent is None
                          else (SecondmentStage.APPROVAL, policy.approver_kind))
        if by.kind is not decider:
            raise Refused(ErrorCode.INVALID_STATE, f"the secondment is {secondment.status}: at the {stage} stage the "
                          f"{decider} refuses", "secondment_id")
        return SecondmentRefused(secondment_id=secondment_id, teacher_id=self.teacher_id, stage=stage,
                                 refused_by_org_id=by.org_id, refusal_code=code, reason=reason, automatic=False)

    def _over_limit(self, secondment: Secondment, stage: SecondmentStage, by: Organisation, days: int,
                    policy: SecondmentPolicy) -> SecondmentRefused | None:
        if days <= policy.max_days:
            return None
        request = secondment.request
        return SecondmentRefused(
            secondment_id=request.secondment_id, teacher_id=self.teacher_id, stage=stage, refused_by_org_id=by.org_id,
            refusal_code=SecondmentRefusalCode.OVER_HALF_YEAR, automatic=True, continuous_days=days,
            reason=f"{request.starts_on} to {request.ends_on} with {request.borrowing_org_id}, renewals fewer than "
                   f"{policy.renewal_gap_days} days apart counted as one, is {days} days in a row: more than "
                   f"{policy.max_days} (S7: at most half a year)")
