"""The S1/S2 detector as a batch fold over state of its own, kept from the events it reads:

- the items of the annual plans (``inspection_items``: who set each, whether it was filed or
  approved) and the merges, through mergers of mergers (``merged_sources`` by merged item,
  ``merges`` by source: the items each went into, and whether each of those was approved; an
  item merged into an approved item is approved through it),
- the checklist (Attachment 2) per year, by edition (``checklists``: the edition in force, the
  latest published whole; ``checklist_editions``: parts received; ``checklist_rows``: each row
  by the schools it covers),
- the visits already judged (``inspection_visits``: one visit however often reported) and those
  counted under each row at each school (``item_visits``),
- the fields already asked of each school each year (``requested_fields``: the first request
  that asked each, by its normalised name).

It judges every visit and data request against that state as it stood at the fact's place in the
log, by the policy version in force on the day of the visit or of the request's issue (none before
the plan). Rules are in ``inspection_rules.py``; what it decides goes to the log as
``ViolationDetected`` with ids from the facts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping

from jianfu.compliance.domain.editions import count_part_in
from jianfu.compliance.domain.folding import Batch, Fact, Need, On, Projection
from jianfu.compliance.domain.inspection_rules import (
    EarlierField,
    Item,
    PlannedRow,
    disguised,
    disguised_inspection,
    duplicate_data_request,
    excessively_short_deadline,
    judged_by_plan,
    over_frequency,
    plan_for,
    require_storable,
    unauthorised_setter,
    unauthorized_inspection_setter,
    unplanned_inspection,
)
from jianfu.events.policy import Policy
from jianfu.events.schemas.inspections import (
    DataRequestIssued,
    InspectionApproved,
    InspectionChecklistPublished,
    InspectionItemFiled,
    InspectionItemMerged,
    InspectionItemProposed,
    InspectionItemsMerged,
    InspectionVisitReported,
)
from jianfu.events.titles import normalise_title
from jianfu.events.working_days import BUSINESS_TIME, WorkingCalendar, aware

ITEMS, SOURCES, MERGES = "inspection_items", "merged_sources", "merges"
CHECKLISTS, EDITIONS, ROWS = "checklists", "checklist_editions", "checklist_rows"
VISITS, ITEM_VISITS, FIELDS = "inspection_visits", "item_visits", "requested_fields"
KEYS = {
    ITEMS: ("item_id",),
    SOURCES: ("merged_item_id", "item_id"),
    MERGES: ("item_id", "merged_item_id"),
    CHECKLISTS: ("year",),
    EDITIONS: ("year", "edition"),
    ROWS: ("year", "school_id", "edition", "item_id"),
    VISITS: ("visit_id",),
    ITEM_VISITS: ("year", "school_id", "item_id", "visit_id"),
    FIELDS: ("year", "school_id", "field_key"),
}


def field_key(field: str) -> str:
    """A bounded key for a field as any unit may type it (width, case and spacing aside)."""
    return hashlib.sha256(normalise_title(field).encode()).hexdigest()[:40]


def s1s2_detection(policy: Policy, names: Mapping[str, str], education: Collection[str]) -> Projection:
    """The S1/S2 detector for ``policy`` (with its earlier versions); ``names`` words the
    summaries; ``education`` are the education bureau's org ids (its items are filed, not
    approved, and it coordinates every item)."""
    education = frozenset(education)
    calendar = WorkingCalendar.of(policy.working_days)

    def semester(day) -> str:
        return policy.school_calendar.semester_of(day).id

    # Items: proposed, filed or approved, merged.

    def proposed(batch: Batch, fact: Fact) -> None:
        event: InspectionItemProposed = fact.data
        require_storable(event.title, event.lead_org_id)  # an unapproved item's setter violation quotes them
        if batch[ITEMS].get(str(event.item_id)) is None:
            _put_item(batch, str(event.item_id), event.lead_org_id, event.title, fact.event_id)

    def _put_item(batch: Batch, item_id: str, lead: str, title: str, event_id: str | None, approved=False) -> dict:
        return batch[ITEMS].put({"item_id": item_id, "lead_org_id": lead, "title": title,
                                 "by_education": lead in education, "approved": approved,
                                 "proposed_event_id": event_id, "setter_charged": False})

    def approved(batch: Batch, fact: Fact) -> None:
        """Filed (the bureau's own) or approved (another unit's): so is every item merged into it."""
        event: InspectionApproved | InspectionItemFiled = fact.data
        item_id = str(event.item_id)
        row = batch[ITEMS].get(item_id)
        if row is None:
            _put_item(batch, item_id, event.lead_org_id, "", None, approved=True)
        else:
            batch[ITEMS].update(row, approved=True)
        for source in batch[SOURCES].group(item_id):
            batch[MERGES].put({"item_id": source["item_id"], "merged_item_id": item_id, "approved": True})

    def merged(batch: Batch, fact: Fact) -> None:
        """A merged item (S1: the bureau coordinates): approved when it is, or when any item it
        replaces was filed or approved; its sources (and theirs) are approved through it."""
        event: InspectionItemsMerged = fact.data
        require_storable(event.title, *event.lead_org_ids)
        item_id = str(event.item_id)
        sources = [str(source) for source in event.merged_item_ids]
        outside = [org for org in event.lead_org_ids if org not in education]
        current = batch[ITEMS].get(item_id)
        ok = bool(current and current["approved"]) or any(
            (batch[ITEMS].get(source) or {}).get("approved") for source in sources)
        lead = (outside or list(event.lead_org_ids) or [""])[0]
        row = _put_item(batch, item_id, lead, event.title,
                        current["proposed_event_id"] if current else fact.event_id, approved=ok)
        if not outside:
            batch[ITEMS].update(row, by_education=True)
        for source in sources:
            _merge(batch, source, item_id, ok)

    def merged_away(batch: Batch, fact: Fact) -> None:
        event: InspectionItemMerged = fact.data
        into = batch[ITEMS].get(str(event.into_item_id))
        _merge(batch, str(event.item_id), str(event.into_item_id), bool(into and into["approved"]))

    def _merge(batch: Batch, source: str, into: str, approved_into: bool) -> None:
        """``source`` and every item merged into it before go on in ``into``."""
        for item_id in (source, *(row["item_id"] for row in batch[SOURCES].group(source))):
            batch[SOURCES].put({"merged_item_id": into, "item_id": item_id})
            batch[MERGES].put({"item_id": item_id, "merged_item_id": into, "approved": approved_into})

    def item_needs(fact: Fact):
        yield Need(ITEMS, (str(fact.data.item_id),))
        yield Need(SOURCES, (str(fact.data.item_id),))

    def merged_needs(fact: Fact):
        event: InspectionItemsMerged = fact.data
        yield Need(ITEMS, (str(event.item_id),))
        for item_id in event.merged_item_ids:
            yield from _merge_needs(str(item_id), str(event.item_id))

    def merged_away_needs(fact: Fact):
        yield Need(ITEMS, (str(fact.data.into_item_id),))
        yield from _merge_needs(str(fact.data.item_id), str(fact.data.into_item_id))

    def _merge_needs(source: str, into: str):
        yield Need(ITEMS, (source,))
        yield Need(SOURCES, (source,))  # what went into the source goes on in ``into`` too

    # The checklist: an edition, part by part; in force once its last part is in.

    def checklist_needs(fact: Fact):
        part: InspectionChecklistPublished = fact.data
        yield Need(EDITIONS, (part.year, part.edition))
        yield Need(CHECKLISTS, (part.year,))

    def checklist(batch: Batch, fact: Fact) -> None:
        part: InspectionChecklistPublished = fact.data
        for row in part.rows:
            for school_id in row.school_ids:
                batch[ROWS].put({"year": part.year, "school_id": school_id, "edition": part.edition,
                                 "item_id": str(row.item_id), "units": sorted(row.inspecting_units),
                                 "months": sorted(row.planned_months), "frequency_per_year": row.frequency_per_year,
                                 "merged_item_ids": sorted(str(i) for i in row.merged_item_ids)})
        count_part_in(batch, EDITIONS, CHECKLISTS, {"year": part.year}, part, current={"event_id": fact.event_id})

    # Visits (S1).

    def visit_needs(fact: Fact):
        visit: InspectionVisitReported = fact.data
        yield Need(VISITS, (str(visit.visit_id),))
        yield Need(CHECKLISTS, (visit.year,))
        yield Need(ROWS, (visit.year, visit.school_id))
        yield Need(ITEM_VISITS, (visit.year, visit.school_id))
        if visit.item_id is not None:
            yield Need(ITEMS, (str(visit.item_id),))
            yield Need(MERGES, (str(visit.item_id),))

    def visited(batch: Batch, fact: Fact) -> None:
        visit: InspectionVisitReported = fact.data
        require_storable(visit.grading, visit.school_id, visit.visiting_org_id)
        in_force = policy.in_force_on(visit.visited_on)
        if in_force is None or batch[VISITS].get(str(visit.visit_id)) is not None:
            return  # before the plan; or a visit already reported (S1: one visit, however often reported)
        batch[VISITS].put({"visit_id": str(visit.visit_id), "event_id": fact.event_id})
        for violation in _judge_visit(batch, visit, fact, semester(visit.visited_on)):
            batch.emit(violation, fact, in_force.version)

    def _judge_visit(batch: Batch, visit: InspectionVisitReported, fact: Fact, term: str):
        if disguised(visit):
            yield disguised_inspection(visit, fact.event_id, term, names)
            return
        if not judged_by_plan(visit):
            return
        item = _item(batch, visit)
        if unauthorised_setter(item):
            row = batch[ITEMS].get(item.item_id)
            if not row["setter_charged"]:
                batch[ITEMS].update(row, setter_charged=True)
                yield unauthorized_inspection_setter(visit, fact.event_id, item, term, names)
            return
        plan = plan_for(visit, _rows(batch, visit), education, _went_into(batch, visit))
        if plan.ground is not None:
            yield unplanned_inspection(visit, fact.event_id, plan, term, names)
            return
        place = (visit.year, visit.school_id, plan.row.item_id)
        before = [row["visit_id"] for row in batch[ITEM_VISITS].group(*place)]
        beyond = over_frequency(visit, fact.event_id, plan.row, before, term, names)
        if beyond is not None:
            yield beyond
        batch[ITEM_VISITS].put(dict(zip(KEYS[ITEM_VISITS], (*place, str(visit.visit_id)), strict=True)))

    def _item(batch: Batch, visit: InspectionVisitReported) -> Item | None:
        if visit.item_id is None:
            return None
        row = batch[ITEMS].get(str(visit.item_id))
        if row is None:
            return None
        through_merge = any(merge["approved"] for merge in batch[MERGES].group(row["item_id"]))
        return Item(row["item_id"], row["lead_org_id"], row["title"], row["by_education"],
                    row["approved"] or through_merge, row["proposed_event_id"])

    def _went_into(batch: Batch, visit: InspectionVisitReported) -> frozenset[str]:
        """The items the visit's item went on in, through mergers of mergers."""
        if visit.item_id is None:
            return frozenset()
        return frozenset(merge["merged_item_id"] for merge in batch[MERGES].group(str(visit.item_id)))

    def _rows(batch: Batch, visit: InspectionVisitReported) -> list[PlannedRow] | None:
        """The rows of the checklist in force for the visit's year covering its school, or None."""
        in_force = batch[CHECKLISTS].get(visit.year)
        if in_force is None:
            return None
        return [PlannedRow(row["item_id"], frozenset(row["units"]), frozenset(row["months"]),
                           row["frequency_per_year"], frozenset(row["merged_item_ids"]))
                for row in batch[ROWS].group(visit.year, visit.school_id) if row["edition"] == in_force["edition"]]

    # Data requests (S2).

    def request_needs(fact: Fact):
        request: DataRequestIssued = fact.data
        keys = dict.fromkeys(field_key(field) for field in request.fields)
        for school_id in request.school_ids:
            for key in keys:
                yield Need(FIELDS, (request.year, school_id, key))

    def requested(batch: Batch, fact: Fact) -> None:
        request: DataRequestIssued = fact.data
        require_storable(request.title, request.requester_org_id, *request.fields, *request.school_ids)
        issued_on = aware(request.issued_at).astimezone(BUSINESS_TIME).date()
        in_force = policy.in_force_on(issued_on)
        if in_force is None:
            return
        term = semester(issued_on)
        short = excessively_short_deadline(request, fact.event_id, calendar,
                                           in_force.inspections.data_request_min_working_days, term, names)
        if short is not None:
            batch.emit(short, fact, in_force.version)
        fields = {field_key(field): field for field in reversed(request.fields)}  # the first spelling of each
        for school_id in dict.fromkeys(request.school_ids):
            earlier = [_earlier(row) for key in fields if (row := batch[FIELDS].get(request.year, school_id, key))]
            duplicate = duplicate_data_request(request, fact.event_id, school_id, earlier, term, names)
            if duplicate is not None:
                batch.emit(duplicate, fact, in_force.version)
            for key, field in fields.items():
                if batch[FIELDS].get(request.year, school_id, key) is None:
                    batch[FIELDS].put({"year": request.year, "school_id": school_id, "field_key": key,
                                       "field": field, "request_id": str(request.request_id),
                                       "event_id": fact.event_id, "requester_org_id": request.requester_org_id,
                                       "sequence": fact.sequence})

    return Projection("s1s2_detection", KEYS, {
        InspectionItemProposed.__name__: On(item_needs, proposed),
        InspectionItemFiled.__name__: On(item_needs, approved),
        InspectionApproved.__name__: On(item_needs, approved),
        InspectionItemsMerged.__name__: On(merged_needs, merged),
        InspectionItemMerged.__name__: On(merged_away_needs, merged_away),
        InspectionChecklistPublished.__name__: On(checklist_needs, checklist),
        InspectionVisitReported.__name__: On(visit_needs, visited),
        DataRequestIssued.__name__: On(request_needs, requested),
    })


def _earlier(row) -> EarlierField:
    return EarlierField(row["field"], row["request_id"], row["event_id"], row["requester_org_id"], row["sequence"])
