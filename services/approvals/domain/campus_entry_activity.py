"""One campus-entry application and what became of it (aggregate ``activity.<activity_id>``):
the request (from intake), then at most one decision (S3).

Decisions are kept per activity: deciding one application never waits for another. The cap is
checked against the quotas of the application's schools (``school_quota.py``); an admission
returns, beside the decision, the slot it takes at each school, to be appended together.

Who decides what (S3): screening refuses by hard rule and records exemptions at once; regular
declarations are certified together in the semester's round (集中认定, ``certification_round.py``,
``decide_in_round``); the bureau certifies an urgent one on its own, confirming its urgency
(``certify``); it may reject any undecided one (``reject``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from jianfu.approvals.domain.exemptions import ExemptionBasis, catalogue_item, refused_schools
from jianfu.approvals.domain.listing import listing_of, takes_slots
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
    ExemptCategory,
    ListedActivity,
    RefusedSchool,
    RoundRejection,
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

    @property
    def in_round(self) -> bool:
        """A candidate of the semester's certification round: regular, declared in the window."""
        return self.request.route is Route.REGULAR and self.request.in_window

    def screen(self, directory: Directory, quotas: Mapping[str, SchoolQuota], basis: ExemptionBasis) -> Decided | None:
        """Run on every new request: refuse by hard rule, record an exemption, or wait for the bureau."""
        if self.decision is not None:
            return None
        refusal = hard_refusal(self.request)
        if refusal:
            return Decided(self._rejected(*refusal, automatic=True))
        if self.request.route is Route.EXEMPT:
            return self._record_exemption(directory, quotas, basis)
        return None

    def certify(self, directory: Directory, quotas: Mapping[str, SchoolQuota], cap: int, note: str = "",
                urgency_confirmed: bool = False) -> Decided:
        """The simplified route (S3): the bureau certifies an urgent application on its own and
        confirms that it is urgent. Hard rules and the per-school cap refuse automatically instead."""
        self._require_undecided()
        if self.request.route is Route.EXEMPT:
            raise Refused(ErrorCode.INVALID_STATE, "exempt activities are recorded, not certified", "activity_id")
        if self.request.route is Route.REGULAR:
            raise Refused(ErrorCode.INVALID_STATE, f"a regular declaration is certified in the {self.semester} "
                          "certification round (DecideCertificationRound), not on its own", "activity_id")
        if not urgency_confirmed:
            raise Refused(ErrorCode.INVALID_FIELD, "the urgent route needs the bureau to confirm the urgency "
                          f"({self.request.urgency_category or 'no category'}: {self.request.urgency_reason})",
                          "urgency_confirmed")
        return self._admit(directory, quotas, cap, note=note, urgency_confirmed=True)

    def decide_in_round(self, rejection: RoundRejection | None, directory: Directory,
                        quotas: Mapping[str, SchoolQuota], cap: int, note: str = "") -> Decided | None:
        """This activity's decision in the semester's round (集中认定): refused where the bureau
        said so, else certified where its schools still have room. None when it was decided
        already, outside the round."""
        if self.decision is not None:
            return None
        if rejection is not None:
            return Decided(self._rejected(rejection.refusal_code, rejection.reason, automatic=False, in_round=True))
        return self._admit(directory, quotas, cap, note=note, in_round=True)

    def reject(self, code: RefusalCode, reason: str) -> Decided:
        self._require_undecided()
        return Decided(self._rejected(code, reason, automatic=False))

    def _admit(self, directory: Directory, quotas: Mapping[str, SchoolQuota], cap: int, note: str,
               urgency_confirmed: bool = False, in_round: bool = False) -> Decided:
        refusal = hard_refusal(self.request)
        if refusal:
            return Decided(self._rejected(*refusal, automatic=True, in_round=in_round))
        # S3: certified per school: a full school is refused on its own, the others keep their place.
        # An item that brings no one onto campus takes no slot, so no school is full for it.
        entry = takes_slots(self.request.delivery)
        room = tuple(school for school in self.request.school_ids if not entry or quotas[school].has_room(cap))
        full = [school for school in self.request.school_ids if school not in room]
        if not room:
            reason = f"{len(full)} school(s) already have {cap} items in {self.semester}: {', '.join(full)}"
            return Decided(self._rejected(RefusalCode.QUOTA_EXCEEDED, reason, automatic=True, in_round=in_round))
        listing = listing_of(self.request, directory, room)
        refused = tuple(RefusedSchool(school_id=school, refusal_code=RefusalCode.QUOTA_EXCEEDED,
                                      reason=f"already has {cap} items in {self.semester}") for school in full)
        return Decided(ActivityCertified(
            activity_id=self.request.activity_id, applicant_org_id=self.request.applicant_org_id, listing=listing,
            note=note, semester=self.semester, refused_schools=refused, urgency_confirmed=urgency_confirmed,
            in_round=in_round), _slots(listing, quotas))

    def _record_exemption(self, directory: Directory, quotas: Mapping[str, SchoolQuota],
                          basis: ExemptionBasis) -> Decided:
        """S3: exempt items need no certification, but are checked and count towards the caps."""
        claim, item = self.request.exemption_claim, None
        if claim.category is ExemptCategory.REGIONAL_CATALOGUE:
            item, why = catalogue_item(self.request, basis.catalogue)
            if item is None:
                return Decided(self._rejected(RefusalCode.EXEMPTION_UNSUPPORTED, why, automatic=True))
        refused = refused_schools(self.request, quotas, basis, takes_slots(self.request.delivery))
        room = tuple(school for school in self.request.school_ids if school not in {r.school_id for r in refused})
        if not room:
            reason = "; ".join(f"{r.school_id}: {r.reason}" for r in refused)
            return Decided(self._rejected(RefusalCode.QUOTA_EXCEEDED, reason, automatic=True))
        listing = listing_of(self.request, directory, room, exempt_category=claim.category,
                             catalogue_item_id=item.item_id if item else None,
                             catalogue_max=(item.max_per_year, item.max_per_semester) if item else (None, None))
        return Decided(ActivityExemptionRecorded(
            activity_id=self.request.activity_id, applicant_org_id=self.request.applicant_org_id,
            category=claim.category, reference=claim.reference, listing=listing, semester=self.semester,
            refused_schools=refused), _slots(listing, quotas))

    def _require_undecided(self) -> None:
        if self.decision is not None:
            raise Refused(ErrorCode.INVALID_STATE, f"already decided: {_describe(self.decision)}", "activity_id")

    def _rejected(self, code: RefusalCode, reason: str, automatic: bool, in_round: bool = False) -> ActivityRejected:
        return ActivityRejected(activity_id=self.request.activity_id, applicant_org_id=self.request.applicant_org_id,
                                refusal_code=code, reason=reason, automatic=automatic, semester=self.semester,
                                in_round=in_round)


def _slots(listing: ListedActivity, quotas: Mapping[str, SchoolQuota]) -> tuple[CampusEntrySlotTaken, ...]:
    """A slot at each school of the listing that the activity does not hold yet; none for an item
    that brings no one onto campus (``listing.py``: ``takes_slots``)."""
    if not takes_slots(listing.delivery):
        return ()
    return tuple(quotas[school].take(listing) for school in listing.school_ids
                 if not quotas[school].holds(listing.activity_id))


def _describe(decision: Decision) -> str:
    if isinstance(decision, ActivityRejected):
        return f"rejected ({decision.refusal_code})"
    return "certified" if isinstance(decision, ActivityCertified) else "recorded as exempt"
