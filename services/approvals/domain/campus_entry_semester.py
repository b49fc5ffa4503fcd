"""The campus-entry decisions of one semester (aggregate ``campus_entry_semester.<semester>``).

All certifications of a semester go through this one aggregate, so the per-school cap (S3)
holds under concurrency: two certifications racing for a school's last slot cannot both
append, the loser reloads and is refused.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from uuid import UUID

from jianfu.events.errors import ErrorCode, RefusalCode, Refused
from jianfu.events.organisations import Directory
from jianfu.events.policy import CampusEntryPolicy
from jianfu.events.schemas.base import EventData
from jianfu.events.schemas.campus_entry import (
    ActivityCertified,
    ActivityExemptionRecorded,
    ActivityRejected,
    ActivityRequested,
    ListedActivity,
    Route,
    SemesterListPublished,
)

Decision = ActivityCertified | ActivityRejected | ActivityExemptionRecorded


def hard_refusal(request: ActivityRequested) -> tuple[RefusalCode, str] | None:
    """The S3 rules that refuse an application without anyone looking at it."""
    if request.budget.commercial_content or not request.budget.free_of_charge:
        return RefusalCode.COMMERCIAL_OR_FEE, "commercial content or fees are never admitted to campus"
    if request.route is Route.REGULAR and not request.in_window:
        return (
            RefusalCode.OUTSIDE_WINDOW_NO_URGENCY,
            f"declared on {request.declared_on} outside the July/December window and not urgent",
        )
    return None


class CampusEntrySemester:
    def __init__(self, semester: str, policy: CampusEntryPolicy) -> None:
        self.semester = semester
        self.policy = policy
        self.decisions: dict[UUID, Decision] = {}
        self.editions: list[SemesterListPublished] = []

    @classmethod
    def from_events(cls, semester: str, policy: CampusEntryPolicy, events: Iterable[EventData]) -> CampusEntrySemester:
        aggregate = cls(semester, policy)
        for event in events:
            aggregate.apply(event)
        return aggregate

    def apply(self, event: EventData) -> None:
        if isinstance(event, SemesterListPublished):
            self.editions.append(event)
        elif isinstance(event, Decision):
            self.decisions[event.activity_id] = event

    @property
    def admitted(self) -> list[ListedActivity]:
        """Certified and exempt activities, in the order they were decided."""
        return [d.listing for d in self.decisions.values() if not isinstance(d, ActivityRejected)]

    def items_at(self, school_id: str) -> int:
        return Counter(s for item in self.admitted for s in item.school_ids)[school_id]

    def screen(self, request: ActivityRequested, directory: Directory) -> Decision | None:
        """Run on every new request: refuse by hard rule, record an exemption, or wait for the bureau."""
        if request.activity_id in self.decisions:
            return None
        refusal = hard_refusal(request)
        if refusal:
            return self._rejected(request, *refusal, automatic=True)
        if request.route is Route.EXEMPT:
            claim = request.exemption_claim
            return ActivityExemptionRecorded(
                activity_id=request.activity_id,
                applicant_org_id=request.applicant_org_id,
                category=claim.category,
                reference=claim.reference,
                listing=listing_of(request, directory),
            )
        return None

    def certify(self, request: ActivityRequested, directory: Directory, note: str = "") -> Decision:
        """集中认定 (S3). Hard rules and the per-school cap refuse automatically instead."""
        self._require_undecided(request)
        if request.route is Route.EXEMPT:
            raise Refused(ErrorCode.INVALID_STATE, "exempt activities are recorded, not certified", "activity_id")
        refusal = hard_refusal(request)
        if refusal:
            return self._rejected(request, *refusal, automatic=True)
        cap = self.policy.items_per_school_per_semester
        full = [s for s in request.school_ids if self.items_at(s) + 1 > cap]
        if full:
            # S3: urgent items count towards the cap like any other.
            reason = f"{len(full)} school(s) already have {cap} items in {self.semester}: {', '.join(full)}"
            return self._rejected(request, RefusalCode.QUOTA_EXCEEDED, reason, automatic=True)
        return ActivityCertified(
            activity_id=request.activity_id,
            applicant_org_id=request.applicant_org_id,
            listing=listing_of(request, directory),
            note=note,
        )

    def reject(self, request: ActivityRequested, code: RefusalCode, reason: str) -> ActivityRejected:
        self._require_undecided(request)
        return self._rejected(request, code, reason, automatic=False)

    def publish(self) -> SemesterListPublished:
        """Attachment 3: the list schools admit entries by. Urgent additions publish a new edition."""
        items = tuple(self.admitted)
        if self.editions and self.editions[-1].items == items:
            edition = self.editions[-1].edition
            raise Refused(ErrorCode.INVALID_STATE, f"nothing changed since edition {edition}", "semester")
        return SemesterListPublished(semester=self.semester, edition=len(self.editions) + 1, items=items)

    def _require_undecided(self, request: ActivityRequested) -> None:
        if request.target_semester != self.semester:
            raise Refused(ErrorCode.INVALID_STATE, f"the activity is for {request.target_semester}", "activity_id")
        decided = self.decisions.get(request.activity_id)
        if decided is not None:
            raise Refused(ErrorCode.INVALID_STATE, f"already decided: {_describe(decided)}", "activity_id")

    @staticmethod
    def _rejected(request: ActivityRequested, code: RefusalCode, reason: str, automatic: bool) -> ActivityRejected:
        return ActivityRejected(
            activity_id=request.activity_id,
            applicant_org_id=request.applicant_org_id,
            refusal_code=code,
            reason=reason,
            automatic=automatic,
        )


def listing_of(request: ActivityRequested, directory: Directory) -> ListedActivity:
    organizer = directory.get(request.applicant_org_id)
    return ListedActivity(
        activity_id=request.activity_id,
        title=request.title,
        organizer_org_id=request.applicant_org_id,
        organizer_name=organizer.name if organizer else request.applicant_org_id,
        route=request.route,
        form=request.form,
        frequency=request.frequency,
        start_date=request.start_date,
        end_date=request.end_date,
        school_ids=request.school_ids,
        policy_basis=request.policy_basis,
    )


def _describe(decision: Decision) -> str:
    if isinstance(decision, ActivityRejected):
        return f"rejected ({decision.refusal_code})"
    return "certified" if isinstance(decision, ActivityCertified) else "recorded as exempt"
