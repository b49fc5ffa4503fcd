"""One item of a unit's annual inspection plan and what became of it (aggregate
``inspection_item.<item_id>``): the proposal (from intake), then at most one decision (S1).

S1: only the education bureau sets inspections of schools and teachers on its own: its items are
filed (报备) as soon as they are proposed. Every other unit's item waits for the supervision
office, which approves (``InspectionApproved``) or rejects it. An item proposed later than the
filing lead time without an urgency reason is refused by rule, whoever proposed it. The bureau
then coordinates the items in force and may merge similar ones (``merge_items``): the merged item
is a new aggregate holding what they asked, together, and each source records where it went.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from uuid import UUID

from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.organisations import Directory, OrgKind
from jianfu.events.schemas.inspections import (
    InspectionApproved,
    InspectionCategory,
    InspectionItemFiled,
    InspectionItemMerged,
    InspectionItemProposed,
    InspectionItemRejected,
    InspectionItemsMerged,
    InspectionRefusalCode,
)
from jianfu.events.schemas.text import REASON_MIN_VISIBLE, of_substance

Decision = InspectionItemFiled | InspectionApproved | InspectionItemRejected
MERGED_FIELDS_MAX = 200
"""The most fields a merged item asks, as a proposal may ask (S2: few materials): the union of
twenty items' fields could not even be stored as one event."""


def is_education_bureau(directory: Directory, org_id: str) -> bool:
    """S1: the one unit whose own items need no approval; an unknown unit is not it."""
    org = directory.get(org_id)
    return org is not None and org.kind is OrgKind.EDUCATION_BUREAU


class InspectionItem:
    """An item as its events left it: proposed by a unit, or made by merging others."""

    def __init__(self, proposal: InspectionItemProposed | None = None, merger: InspectionItemsMerged | None = None):
        self.proposal = proposal
        self.merger = merger
        self.decision: Decision | None = None
        self.merged_into: UUID | None = None

    @classmethod
    def from_events(cls, events: Iterable[object]) -> InspectionItem:
        item = cls.folded(events)
        if item is None:
            raise Refused(ErrorCode.NOT_FOUND, "no such inspection item", "item_id")
        return item

    @classmethod
    def folded(cls, events: Iterable[object]) -> InspectionItem | None:
        """The item of one aggregate's events, or None when neither a proposal nor a merger is among them."""
        item = cls()
        for event in events:
            if isinstance(event, InspectionItemProposed) and item.proposal is None:
                item.proposal = event
            elif isinstance(event, InspectionItemsMerged) and item.merger is None:
                item.merger = event
            elif isinstance(event, Decision) and item.decision is None:
                item.decision = event
            elif isinstance(event, InspectionItemMerged):
                item.merged_into = event.into_item_id
        return item if item.proposal or item.merger else None

    @property
    def item_id(self) -> UUID:
        return self.proposal.item_id if self.proposal else self.merger.item_id

    @property
    def year(self) -> int:
        return self.proposal.year if self.proposal else self.merger.year

    @property
    def title(self) -> str:
        return self.proposal.title if self.proposal else self.merger.title

    @property
    def category(self) -> InspectionCategory:
        return self.proposal.category if self.proposal else self.merger.category

    @property
    def units(self) -> tuple[str, ...]:
        """The lead unit first, then the joint ones (a merged item: every unit of its sources)."""
        if self.merger:
            return self.merger.lead_org_ids
        return tuple(dict.fromkeys((self.proposal.lead_org_id, *self.proposal.joint_org_ids)))

    @property
    def school_ids(self) -> tuple[str, ...]:
        return self.proposal.school_ids if self.proposal else self.merger.target_school_ids

    @property
    def teachers(self) -> bool:
        return self.proposal.target.teachers if self.proposal else self.merger.teachers

    @property
    def frequency_per_year(self) -> int:
        return self.proposal.frequency_per_year if self.proposal else self.merger.frequency_per_year

    @property
    def planned_months(self) -> tuple[int, ...]:
        return self.proposal.planned_months if self.proposal else self.merger.planned_months

    @property
    def data_fields(self) -> tuple[str, ...]:
        return tuple(self.proposal.data_fields) if self.proposal else self.merger.data_fields

    @property
    def in_force(self) -> bool:
        """On the year's checklist: filed, approved or made by a merger, and not merged into another."""
        if self.merged_into is not None:
            return False
        return self.merger is not None or isinstance(self.decision, InspectionItemFiled | InspectionApproved)

    def screen(self, directory: Directory) -> Decision | None:
        """Run on every new proposal (S1): refuse a late one without a reason, file the bureau's
        own, leave every other unit's for the supervision office."""
        if self.proposal is None or self.decision is not None:
            return None
        late = self._late_refusal()
        if late:
            return late
        if is_education_bureau(directory, self.proposal.lead_org_id):
            return InspectionItemFiled(item_id=self.item_id, lead_org_id=self.proposal.lead_org_id, year=self.year)
        return None

    def approve(self, directory: Directory, approver_org_id: str, note: str = "") -> Decision:
        """The supervision office approves another unit's item; the filing rule refuses a late
        one without a reason instead, as screening would have."""
        self._require_decidable(directory)
        return self._late_refusal() or InspectionApproved(
            item_id=self.item_id, lead_org_id=self.proposal.lead_org_id, year=self.year,
            approved_by_org_id=approver_org_id, note=note)

    def reject(self, directory: Directory, code: InspectionRefusalCode, reason: str) -> InspectionItemRejected:
        self._require_decidable(directory)
        return self._rejected(code, reason, automatic=False)

    def require_mergeable(self, directory: Directory) -> None:
        """S1: the bureau coordinates only items in force; another unit's item never approved
        cannot reach it (NOT_APPROVED)."""
        key = str(self.item_id)
        if self.merged_into is not None:
            raise Refused(ErrorCode.INVALID_STATE, f"{key} is merged into {self.merged_into} already", "item_ids")
        if self.merger is not None:
            return
        if not is_education_bureau(directory, self.proposal.lead_org_id):
            if not isinstance(self.decision, InspectionApproved):
                raise Refused(InspectionRefusalCode.NOT_APPROVED, f"{key} of {self.proposal.lead_org_id} was not "
                              "approved by the supervision office", "item_ids")
        elif not isinstance(self.decision, InspectionItemFiled):
            raise Refused(ErrorCode.INVALID_STATE, f"{key} is not filed ({_describe(self.decision)})", "item_ids")

    def _require_decidable(self, directory: Directory) -> None:
        if self.proposal is None:
            raise Refused(ErrorCode.INVALID_STATE, "a merged item is coordinated by the education bureau, "
                          "not decided by the supervision office", "item_id")
        if is_education_bureau(directory, self.proposal.lead_org_id):
            raise Refused(ErrorCode.INVALID_STATE, "the education bureau's own items are filed (报备), "
                          "not approved", "item_id")
        if self.decision is not None:
            raise Refused(ErrorCode.INVALID_STATE, f"already decided: {_describe(self.decision)}", "item_id")

    def _late_refusal(self) -> InspectionItemRejected | None:
        if self.proposal.late and not of_substance(self.proposal.urgency_reason):
            return self._rejected(InspectionRefusalCode.LATE_FILING, f"proposed on {self.proposal.proposed_on}, "
                                  "later than the filing lead time before its first planned month, with no "
                                  f"urgency reason of substance ({REASON_MIN_VISIBLE} visible characters)",
                                  automatic=True)
        return None

    def _rejected(self, code: InspectionRefusalCode, reason: str, automatic: bool) -> InspectionItemRejected:
        return InspectionItemRejected(item_id=self.item_id, lead_org_id=self.proposal.lead_org_id, year=self.year,
                                      refusal_code=code, reason=reason, automatic=automatic)


def merge_items(items: Sequence[InspectionItem], merged_id: UUID, title: str, directory: Directory,
                note: str = "") -> tuple[InspectionItemsMerged, list[InspectionItemMerged]]:
    """S1 统筹协调: similar items of one year become one, asking what they asked together: every
    unit, the union of schools, months and fields, the highest frequency; the category of the
    first. Each source records the merged item it goes on in."""
    ids = [item.item_id for item in items]
    if len(set(ids)) != len(ids):
        raise Refused(ErrorCode.INVALID_FIELD, "an item is named twice", "item_ids")
    years = {item.year for item in items}
    if len(years) > 1:
        raise Refused(ErrorCode.INVALID_FIELD, f"items of several years ({sorted(years)}) are not merged", "item_ids")
    for item in items:
        item.require_mergeable(directory)
    [year] = years
    merged = InspectionItemsMerged(
        item_id=merged_id, year=year, title=title, merged_item_ids=tuple(ids),
        lead_org_ids=_union(unit for item in items for unit in item.units),
        category=items[0].category,
        target_school_ids=tuple(sorted({school for item in items for school in item.school_ids})),
        teachers=any(item.teachers for item in items),
        frequency_per_year=max(item.frequency_per_year for item in items),
        planned_months=tuple(sorted({month for item in items for month in item.planned_months})),
        data_fields=_union(field for item in items for field in item.data_fields), note=note)
    if len(merged.data_fields) > MERGED_FIELDS_MAX:
        raise Refused(ErrorCode.INVALID_FIELD, f"together the items ask {len(merged.data_fields)} fields; a merged "
                      f"item asks at most {MERGED_FIELDS_MAX}, as a proposal does", "item_ids")
    return merged, [InspectionItemMerged(item_id=key, into_item_id=merged_id, year=year) for key in ids]


def _union(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _describe(decision: Decision | None) -> str:
    if decision is None:
        return "undecided"
    if isinstance(decision, InspectionItemRejected):
        return f"rejected ({decision.refusal_code})"
    return "filed" if isinstance(decision, InspectionItemFiled) else "approved"
