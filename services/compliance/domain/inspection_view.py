"""The S1/S2 read model as a batch fold: the year's checklist (Attachment 2) in editions, the
items of the annual plan by status, visits per school and year, data requests and the fields
asked of each school, and the counters the queries read.

Every violation column comes from a ``ViolationDetected`` event (the S1/S2 detector decides,
this view records): a visit is unplanned, disguised or beyond its item's frequency because a
violation names it (evidence ``visit_id``); a request repeats a field, or gives too short a
deadline, because a violation names it (evidence ``request_id``). The register itself is the
campus-entry view's ``violations`` table, which records every rule.

A violation names its school (``school_id``, ``evidence.school_id``, or for a request's short
deadline every school in ``evidence.school_ids``) but not always its year,
so the rows it marks are keyed by school and visit (or request) and the school's counters are
loaded as a group (every year of that school): the fold finds the year in the marked row.
"""

from __future__ import annotations

from typing import Any

from jianfu.compliance.domain.editions import count_part_in
from jianfu.compliance.domain.folding import Batch, Fact, Need, On, Projection, Row, utc
from jianfu.compliance.domain.s1s2_detection import field_key
from jianfu.events.schemas.compliance import Rule, ViolationDetected
from jianfu.events.schemas.inspections import (
    DataRequestIssued,
    InspectionApproved,
    InspectionChecklistPublished,
    InspectionItemFiled,
    InspectionItemMerged,
    InspectionItemProposed,
    InspectionItemRejected,
    InspectionItemsMerged,
    InspectionVisitReported,
)

STATUSES = ("proposed", "filed", "approved", "rejected", "merged")
IN_PLAN = ("filed", "approved")  # S1: what the year's plan holds (an item merged away counts in the merged one)
SCHOOL_COUNTERS = ("visits", "unplanned_visits", "disguised_visits", "over_frequency_visits", "data_requests",
                   "requested_fields", "distinct_fields", "duplicate_requests", "short_deadline_requests")
ITEM = dict.fromkeys((
    "year", "lead_org_id", "title", "sub_item", "category", "policy_basis", "target", "method", "indicators",
    "frequency_per_year", "planned_months", "data_fields", "archive_sets", "urgency_reason", "late", "proposed_on",
    "status", "refusal_code", "refusal_reason", "automatic", "approved_by_org_id", "note", "merged_item_ids",
    "into_item_id", "unauthorized_setter_violation_id", "decided_sequence"))
VISIT_MARKS = {
    Rule.UNPLANNED_INSPECTION: ("unplanned_violation_id", "unplanned_visits"),
    Rule.DISGUISED_INSPECTION: ("disguised_violation_id", "disguised_visits"),
    Rule.INSPECTION_OVER_FREQUENCY: ("over_frequency_violation_id", "over_frequency_visits"),
}
REQUEST_MARKS = {
    Rule.DUPLICATE_DATA_REQUEST: ("duplicate_violation_id", "duplicate_requests"),
    Rule.EXCESSIVELY_SHORT_DEADLINE: ("short_deadline_violation_id", "short_deadline_requests"),
}

KEYS = {
    "inspection_items": ("item_id",),
    "inspection_item_units": ("org_id", "year", "item_id"),
    "inspection_checklists": ("year",),
    "inspection_checklist_editions": ("year", "edition"),
    "inspection_checklist_rows": ("year", "edition", "position"),
    "inspection_visits": ("school_id", "visit_id"),
    "inspection_school_years": ("school_id", "year"),
    "data_requests": ("request_id",),
    "data_request_schools": ("school_id", "request_id"),
    "requested_fields": ("school_id", "year", "field_key"),
}


# Items of the annual plan (S1): one row each, its status, and the units it belongs to.

def _item(batch: Batch, item_id: str, year: int, fact: Fact) -> Row:
    return batch["inspection_items"].get(item_id) or {
        "item_id": item_id, **ITEM, "year": year, "status": "proposed", "first_sequence": fact.sequence}


def _unit(batch: Batch, org_id: str, year: int, item_id: str, role: str) -> None:
    units = batch["inspection_item_units"]
    if units.get(org_id, year, item_id) is None:
        units.put({"org_id": org_id, "year": year, "item_id": item_id, "role": role})


def _item_needs(fact: Fact):
    event = fact.data
    yield Need("inspection_items", (str(event.item_id),))
    for org_id in _units_of(event):
        yield Need("inspection_item_units", (org_id, event.year, str(event.item_id)))


def _units_of(event: Any) -> tuple[str, ...]:
    if isinstance(event, InspectionItemProposed):
        return (event.lead_org_id, *event.joint_org_ids)
    if isinstance(event, InspectionItemsMerged):
        return event.lead_org_ids
    return (event.lead_org_id,) if hasattr(event, "lead_org_id") else ()


def _proposed(batch: Batch, fact: Fact) -> None:
    event: InspectionItemProposed = fact.data
    item_id = str(event.item_id)
    row = _item(batch, item_id, event.year, fact)
    batch["inspection_items"].put({
        **row, "lead_org_id": event.lead_org_id, "title": event.title, "sub_item": event.sub_item,
        "category": event.category.value, "policy_basis": event.policy_basis,
        "target": {**event.target.model_dump(mode="json"), "school_count": len(event.school_ids)},
        "method": event.method, "indicators": event.indicators, "frequency_per_year": event.frequency_per_year,
        "planned_months": list(event.planned_months), "data_fields": list(event.data_fields),
        "archive_sets": event.archive_sets, "urgency_reason": event.urgency_reason, "late": event.late,
        "proposed_on": event.proposed_on})
    _unit(batch, event.lead_org_id, event.year, item_id, "lead")
    for org_id in event.joint_org_ids:
        _unit(batch, org_id, event.year, item_id, "joint")


def _decided(status: str):
    def fold(batch: Batch, fact: Fact) -> None:
        event: InspectionItemFiled | InspectionApproved | InspectionItemRejected = fact.data
        row = _item(batch, str(event.item_id), event.year, fact)
        if row["status"] == "merged":
            return  # merged away already: it goes on as part of the merged item
        changes: dict[str, Any] = {"status": status, "decided_sequence": fact.sequence,
                                   "lead_org_id": row["lead_org_id"] or event.lead_org_id}
        if isinstance(event, InspectionApproved):
            changes.update(approved_by_org_id=event.approved_by_org_id, note=event.note)
        if isinstance(event, InspectionItemRejected):
            changes.update(refusal_code=event.refusal_code.value, refusal_reason=event.reason, automatic=event.automatic)
        batch["inspection_items"].update(row, **changes)
        _unit(batch, event.lead_org_id, event.year, str(event.item_id), "lead")
    return fold


def _merged_into(batch: Batch, fact: Fact) -> None:
    """S1: the merged item is in the plan (the bureau coordinates approved and filed items); the
    items it replaces are ``merged``, so the year counts it once."""
    event: InspectionItemsMerged = fact.data
    item_id = str(event.item_id)
    row = _item(batch, item_id, event.year, fact)
    batch["inspection_items"].put({
        **row, "lead_org_id": event.lead_org_ids[0] if event.lead_org_ids else "", "title": event.title,
        "category": event.category.value,
        "target": {"school_ids": list(event.target_school_ids), "teachers": event.teachers,
                   "school_count": len(event.target_school_ids)},
        "frequency_per_year": event.frequency_per_year, "planned_months": list(event.planned_months),
        "data_fields": list(event.data_fields), "note": event.note, "status": "approved",
        "merged_item_ids": [str(merged) for merged in event.merged_item_ids], "decided_sequence": fact.sequence})
    for org_id in event.lead_org_ids:
        _unit(batch, org_id, event.year, item_id, "merged")


def _merged_away(batch: Batch, fact: Fact) -> None:
    event: InspectionItemMerged = fact.data
    row = _item(batch, str(event.item_id), event.year, fact)
    batch["inspection_items"].update(row, status="merged", into_item_id=str(event.into_item_id),
                                     decided_sequence=fact.sequence)


# InspectionChecklistPublished: Attachment 2, part by part; an edition is in force once whole.

def _checklist_needs(fact: Fact):
    part: InspectionChecklistPublished = fact.data
    return (Need("inspection_checklist_editions", (part.year, part.edition)), Need("inspection_checklists", (part.year,)))


def _checklist(batch: Batch, fact: Fact) -> None:
    part: InspectionChecklistPublished = fact.data
    at = utc(fact.occurred_at)
    for position, row in enumerate(part.rows, part.offset):
        batch["inspection_checklist_rows"].put({"year": part.year, "edition": part.edition, "position": position,
                                               "item_id": str(row.item_id), "row": row.model_dump(mode="json")})
    stamp = {"row_count": part.row_count, "published_at": at, "event_id": fact.event_id, "sequence": fact.sequence}
    count_part_in(batch, "inspection_checklist_editions", "inspection_checklists", {"year": part.year}, part,
                  stamp, stamp)


# Per school and year: what the school's counters start from.

def _school_year(batch: Batch, school_id: str, year: int) -> Row:
    return batch["inspection_school_years"].get(school_id, year) or {
        "school_id": school_id, "year": year, **dict.fromkeys(SCHOOL_COUNTERS, 0)}


def _bump(batch: Batch, school_id: str, year: int, **increments: int) -> None:
    row = _school_year(batch, school_id, year)
    batch["inspection_school_years"].update(row, **{name: row[name] + n for name, n in increments.items()})


# InspectionVisitReported: one visit however often it is reported (S1).

def _visit_needs(fact: Fact):
    visit: InspectionVisitReported = fact.data
    return (Need("inspection_visits", (visit.school_id, str(visit.visit_id))),
            Need("inspection_school_years", (visit.school_id, visit.year)))


def _visit(batch: Batch, fact: Fact) -> None:
    visit: InspectionVisitReported = fact.data
    visits, key = batch["inspection_visits"], (visit.school_id, str(visit.visit_id))
    row = visits.get(*key)
    if row is not None:
        visits.update(row, reports=row["reports"] + 1)
        return
    visits.put({
        "school_id": visit.school_id, "visit_id": str(visit.visit_id), "year": visit.year,
        "visited_on": visit.visited_on, "visiting_org_id": visit.visiting_org_id,
        "item_id": str(visit.item_id) if visit.item_id else None, "label": visit.label.value, "graded": visit.graded,
        "grading": visit.grading, "reported_by_org_id": visit.reported_by_org_id, "reports": 1,
        "unplanned_violation_id": None, "disguised_violation_id": None, "over_frequency_violation_id": None,
        "event_id": fact.event_id, "sequence": fact.sequence})
    _bump(batch, visit.school_id, visit.year, visits=1)


# DataRequestIssued: the request, and at each school the fields it asks (S2).

def _request_needs(fact: Fact):
    request: DataRequestIssued = fact.data
    yield Need("data_requests", (str(request.request_id),))
    for school_id in request.school_ids:
        yield Need("inspection_school_years", (school_id, request.year))
        yield Need("requested_fields", (school_id, request.year))


def _request(batch: Batch, fact: Fact) -> None:
    request: DataRequestIssued = fact.data
    request_id = str(request.request_id)
    if batch["data_requests"].get(request_id) is not None:
        return  # recorded already
    fields = list(dict.fromkeys(request.fields))
    keyed: dict[str, str] = {}  # S2: a field as the detector compares it (width, case and spacing aside)
    for name in fields:
        keyed.setdefault(field_key(name), name)
    batch["data_requests"].put({
        "request_id": request_id, "year": request.year, "requester_org_id": request.requester_org_id,
        "title": request.title, "fields": fields, "school_count": len(request.school_ids),
        "issued_at": utc(request.issued_at), "deadline": utc(request.deadline),
        "item_id": str(request.item_id) if request.item_id else None, "short_deadline_violation_id": None,
        "event_id": fact.event_id, "sequence": fact.sequence})
    asked = batch["requested_fields"]
    for school_id in dict.fromkeys(request.school_ids):
        new = 0
        for key, name in keyed.items():
            row = asked.get(school_id, request.year, key)
            if row is None:
                new += 1
                asked.put({"school_id": school_id, "year": request.year, "field_key": key, "field": name,
                           "first_request_id": request_id, "first_requester_org_id": request.requester_org_id,
                           "requests": 1})
            else:
                asked.update(row, requests=row["requests"] + 1)
        batch["data_request_schools"].put({
            "school_id": school_id, "request_id": request_id, "year": request.year, "fields": len(keyed),
            "new_fields": new, "duplicate_violation_id": None, "short_deadline_violation_id": None,
            "sequence": fact.sequence})
        _bump(batch, school_id, request.year, data_requests=1, requested_fields=len(keyed), distinct_fields=new)


# ViolationDetected: the S1/S2 columns and counters each violation explains.

def _named(event: ViolationDetected, key: str) -> str | None:
    value = event.evidence.get(key)
    return value if isinstance(value, str) and value else None


def _school_of(event: ViolationDetected) -> str | None:
    return event.school_id or _named(event, "school_id")


def _schools_of(event: ViolationDetected) -> list[str]:
    """The schools a request's violation concerns: the one it names, or (a short deadline, found
    once per request) every school in ``evidence.school_ids``."""
    named = event.evidence.get("school_ids")
    listed = [school for school in named if isinstance(school, str) and school] if isinstance(named, list) else []
    school_id = _school_of(event)
    return list(dict.fromkeys([school_id] if school_id else listed))


def _violation_needs(fact: Fact):
    event: ViolationDetected = fact.data
    school_id = _school_of(event)
    if event.rule in VISIT_MARKS and school_id and _named(event, "visit_id"):
        yield Need("inspection_visits", (school_id, _named(event, "visit_id")))
        yield Need("inspection_school_years", (school_id,))
    if event.rule in REQUEST_MARKS and _named(event, "request_id"):
        yield Need("data_requests", (_named(event, "request_id"),))
        for school in _schools_of(event):
            yield Need("data_request_schools", (school, _named(event, "request_id")))
            yield Need("inspection_school_years", (school,))
    if event.rule is Rule.UNAUTHORIZED_INSPECTION_SETTER and _named(event, "item_id"):
        yield Need("inspection_items", (_named(event, "item_id"),))


def _violation(batch: Batch, fact: Fact) -> None:
    event: ViolationDetected = fact.data
    school_id = _school_of(event)
    if event.rule in VISIT_MARKS and school_id and _named(event, "visit_id"):
        _mark(batch, "inspection_visits", (school_id, _named(event, "visit_id")), *VISIT_MARKS[event.rule], event)
    if event.rule in REQUEST_MARKS and _named(event, "request_id"):
        request_id = _named(event, "request_id")
        column, counter = REQUEST_MARKS[event.rule]
        request = batch["data_requests"].get(request_id)
        if column in (request or {}) and request[column] is None:  # the request's own deadline
            batch["data_requests"].update(request, **{column: event.violation_id})
        for school in _schools_of(event):
            _mark(batch, "data_request_schools", (school, request_id), column, counter, event)
    if event.rule is Rule.UNAUTHORIZED_INSPECTION_SETTER and _named(event, "item_id"):
        item = batch["inspection_items"].get(_named(event, "item_id"))
        if item is not None and item["unauthorized_setter_violation_id"] is None:
            batch["inspection_items"].update(item, unauthorized_setter_violation_id=event.violation_id)


def _mark(batch: Batch, table: str, key: tuple, column: str, counter: str, event: ViolationDetected) -> None:
    """The first violation of its rule naming the row: the row names it, and its school's year
    counts one more (a second violation naming the same row counts nothing)."""
    row = batch[table].get(*key)
    if row is None or row[column] is not None:
        return
    batch[table].update(row, **{column: event.violation_id})
    _bump(batch, row["school_id"], row["year"], **{counter: 1})


def _item_on(fold) -> On:
    return On(_item_needs, fold)


INSPECTION_VIEW = Projection("inspections", KEYS, {
    InspectionItemProposed.__name__: _item_on(_proposed),
    InspectionItemFiled.__name__: _item_on(_decided("filed")),
    InspectionApproved.__name__: _item_on(_decided("approved")),
    InspectionItemRejected.__name__: _item_on(_decided("rejected")),
    InspectionItemsMerged.__name__: _item_on(_merged_into),
    InspectionItemMerged.__name__: _item_on(_merged_away),
    InspectionChecklistPublished.__name__: On(_checklist_needs, _checklist),
    InspectionVisitReported.__name__: On(_visit_needs, _visit),
    DataRequestIssued.__name__: On(_request_needs, _request),
    ViolationDetected.__name__: On(_violation_needs, _violation),
})
