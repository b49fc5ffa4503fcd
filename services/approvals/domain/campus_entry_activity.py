"""One campus-entry application and what became of it (aggregate ``activity.<activity_id>``):
the request (from intake), then at most one decision (S3).

Decisions are kept per activity: deciding one application never waits for another. The cap is
checked against the quotas of the application's schools (``school_quota.py``); an admission
returns, beside the decision, the slot it takes at each school, to be appended together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from jianfu.approvals.domain.school_quota import SchoolQuota
from jianfu.events.errors import ErrorCode, RefusalCode, Refused
from jianfu.events.organisations import Directory
from jianfu.events.schemas.base import EventData
from jianfu.events.schemas.campus_entry import (
    ActivityCertified,
    ActivityExemptionRecorded,
    ActivityRejected,
    ActivityRequested,
    CampusEntrySlotTaken,
    ListedActivity,
    RefusedSchool,
    Route,
)

Decision = ActivityCertified | ActivityRejected | ActivityExemptionRecorded


@dataclass(frozen=True)
class Decided:
    """A decision on the activity, and the slots it takes at its schools (none for a refusal)."""

    decision: Decision
    slots: tuple[CampusEntrySlotTaken, ...] = ()


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


class CampusEntryActivity:
    def __init__(self, request: ActivityRequested) -> None:
        self.request = request
        self.decision: Decision | None = None

    @classmethod
    def from_events(cls, events: Iterable[EventData], request: ActivityRequested | None = None) -> CampusEntryActivity:
        """The activity as its events left it: its request (the first one, unless the one being
        screened is given) and the decision on that request, if any."""
        events = list(events)
        request = request or next((e for e in events if isinstance(e, ActivityRequested)), None)
        if request is None:
            raise Refused(ErrorCode.NOT_FOUND, "no such activity", "activity_id")
        activity = cls(request)
        for event in events:
            if isinstance(event, Decision) and event.activity_id == request.activity_id:
                activity.decision = event
        return activity

    @property
    def semester(self) -> str:
        return self.request.target_semester

    def screen(self, directory: Directory, quotas: Mapping[str, SchoolQuota]) -> Decided | None:
        """Run on every new request: refuse by hard rule, record an exemption, or wait for the bureau."""
        if self.decision is not None:
            return None
        refusal = hard_refusal(self.request)
        if refusal:
            return Decided(self._rejected(*refusal, automatic=True))
        if self.request.route is Route.EXEMPT:
            claim, listing = self.request.exemption_claim, listing_of(self.request, directory)
            # S3: exempt items need no certification but count towards the cap.
            return Decided(ActivityExemptionRecorded(
                activity_id=self.request.activity_id, applicant_org_id=self.request.applicant_org_id,
                category=claim.category, reference=claim.reference, listing=listing, semester=self.semester),
                _slots(listing, quotas))
        return None

    def certify(self, directory: Directory, quotas: Mapping[str, SchoolQuota], cap: int, note: str = "") -> Decided:
        """集中认定 (S3). Hard rules and the per-school cap refuse automatically instead."""
        self._require_undecided()
        if self.request.route is Route.EXEMPT:
            raise Refused(ErrorCode.INVALID_STATE, "exempt activities are recorded, not certified", "activity_id")
        refusal = hard_refusal(self.request)
        if refusal:
            return Decided(self._rejected(*refusal, automatic=True))
        # S3: certified per school: a full school is refused on its own, the others keep their place.
        room = tuple(school for school in self.request.school_ids if quotas[school].has_room(cap))
        full = [school for school in self.request.school_ids if school not in room]
        if not room:
            reason = f"{len(full)} school(s) already have {cap} items in {self.semester}: {', '.join(full)}"
            return Decided(self._rejected(RefusalCode.QUOTA_EXCEEDED, reason, automatic=True))
        listing = listing_of(self.request, directory, room)
        refused = tuple(RefusedSchool(school_id=school, refusal_code=RefusalCode.QUOTA_EXCEEDED,
                                      reason=f"already has {cap} items in {self.semester}") for school in full)
        return Decided(ActivityCertified(
            activity_id=self.request.activity_id, applicant_org_id=self.request.applicant_org_id, listing=listing,
            note=note, semester=self.semester, refused_schools=refused), _slots(listing, quotas))

    def reject(self, code: RefusalCode, reason: str) -> Decided:
        self._require_undecided()
        return Decided(self._rejected(code, reason, automatic=False))

    def _require_undecided(self) -> None:
        if self.decision is not None:
            raise Refused(ErrorCode.INVALID_STATE, f"already decided: {_describe(self.decision)}", "activity_id")

    def _rejected(self, code: RefusalCode, reason: str, automatic: bool) -> ActivityRejected:
        return ActivityRejected(activity_id=self.request.activity_id, applicant_org_id=self.request.applicant_org_id,
                                refusal_code=code, reason=reason, automatic=automatic, semester=self.semester)


def _slots(listing: ListedActivity, quotas: Mapping[str, SchoolQuota]) -> tuple[CampusEntrySlotTaken, ...]:
    """A slot at each school of the listing that the activity does not hold yet."""
    return tuple(quotas[school].take(listing) for school in listing.school_ids
                 if not quotas[school].holds(listing.activity_id))


def listing_of(request: ActivityRequested, directory: Directory,
               schools: tuple[str, ...] | None = None) -> ListedActivity:
    """The application's row in Attachment 3, for ``schools`` (all it asked for by default)."""
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
        school_ids=request.school_ids if schools is None else schools,
        policy_basis=request.policy_basis,
    )


def _describe(decision: Decision) -> str:
    if isinstance(decision, ActivityRejected):
        return f"rejected ({decision.refusal_code})"
    return "certified" if isinstance(decision, ActivityCertified) else "recorded as exempt"
