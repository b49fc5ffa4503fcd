"""S1 and S2 violation rules: a visit judged against the year's published checklist (Attachment 2)
and the items' approvals, a data request against the fields already asked of each school and the
district's working days. Pure functions of the fact and of what the log held before it; the ids
follow from the facts, so judging the same fact twice decides the same violation.

One visit, one charge (S1): a visit that calls itself 调研/评估/指导/监测 is not an inspection by
name, so it is not judged against the plan; if it graded or ranked the school it is a
``DisguisedInspection`` and nothing else. A visit called 督查/检查 is judged against the plan, once:
under a non-education unit's item that was never approved it is that unit's
``UnauthorizedInspectionSetter`` (the fact is the item, so one violation per item, however many
visits reveal it, and none of them is charged as unplanned as well); otherwise with no row of the
checklist in force covering the school, or outside the row's months, it is an
``UnplannedInspection`` charged to the visiting unit; a planned visit beyond the row's
frequency for the school and year is an ``InspectionOverFrequency``. A visit not admitted by the
checklist takes no place in the frequency count (as an S3 entry not admitted takes none in the cap).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from jianfu.events.schemas.compliance import RULE_CLAUSE, Rule, ViolationDetected, violation_id
from jianfu.events.schemas.inspections import SOFT_LABELS, DataRequestIssued, InspectionVisitReported
from jianfu.events.working_days import BUSINESS_TIME, WorkingCalendar, aware

LABEL_WORDS = {"supervision": "督查", "inspection": "检查", "research": "调研", "evaluation": "评估",
               "guidance": "指导", "monitoring": "监测"}


@dataclass(frozen=True)
class PlannedRow:
    """A row of the checklist in force that covers a school: the item (a merged item names the
    items it replaced), who inspects under it, in which months and how often a year."""

    item_id: str
    units: frozenset[str]
    months: frozenset[int]
    frequency_per_year: int
    merged_item_ids: frozenset[str] = frozenset()

    def names(self, item_id: str, went_into: Collection[str] = ()) -> bool:
        """A visit under a merged item's source counts for the merged item (S1: it counts once);
        ``went_into`` are the items the named one went on in, through mergers of mergers."""
        named = {item_id, *went_into}
        return self.item_id in named or bool(named & self.merged_item_ids)


@dataclass(frozen=True)
class Item:
    """An item of a unit's annual plan as the approvals stood when a visit named it."""

    item_id: str
    lead_org_id: str
    title: str
    by_education: bool
    authorised: bool  # filed, approved, or merged into an approved item
    proposed_event_id: str | None = None


class Ground(StrEnum):
    """Why a visit is unplanned."""

    NO_CHECKLIST = "no_checklist"
    NOT_ON_CHECKLIST = "not_on_checklist"
    OUTSIDE_MONTHS = "outside_months"


GROUND_WORDS = {
    Ground.NO_CHECKLIST: "该年度尚未公布督查检查考核事项清单",
    Ground.NOT_ON_CHECKLIST: "不在本年度公布的督查检查考核事项清单上（或清单该项不含该校、不含该单位）",
    Ground.OUTSIDE_MONTHS: "不在清单所列的实施时间内",
}


@dataclass(frozen=True)
class Plan:
    """What a visit is against the plan: the row it counts under, or why it is unplanned."""

    row: PlannedRow | None
    ground: Ground | None


def plan_for(visit: InspectionVisitReported, rows: Collection[PlannedRow] | None, education: Collection[str],
             went_into: Collection[str] = ()) -> Plan:
    """The row of the checklist in force (``rows``: those covering the school; None: no edition
    published whole for the year) the visit comes under. A visit naming an item comes under the
    row of that item or of an item it went on in (``went_into``, through mergers of mergers);
    one naming none under a row of the visiting unit. The unit must be one of the row's units or
    the education bureau, which coordinates every item (S1: 统筹协调)."""
    if rows is None:
        return Plan(None, Ground.NO_CHECKLIST)
    unit = visit.visiting_org_id
    mine = [row for row in rows if unit in row.units or unit in education]
    if visit.item_id is not None:
        mine = [row for row in mine if row.names(str(visit.item_id), went_into)]
    else:
        mine = [row for row in mine if unit in row.units]
    if not mine:
        return Plan(None, Ground.NOT_ON_CHECKLIST)
    in_month = [row for row in mine if visit.visited_on.month in row.months]
    return Plan(in_month[0], None) if in_month else Plan(mine[0], Ground.OUTSIDE_MONTHS)


def disguised(visit: InspectionVisitReported) -> bool:
    """S1: a 调研/评估/指导/监测 visit that graded or ranked the school is an inspection in disguise."""
    return visit.label in SOFT_LABELS and visit.graded


def judged_by_plan(visit: InspectionVisitReported) -> bool:
    """Only a visit that calls itself 督查/检查 is judged against the checklist."""
    return visit.label not in SOFT_LABELS


def unauthorised_setter(item: Item | None) -> bool:
    """S1: an item set by a unit outside education that was never approved (nor merged into an
    approved item). An item the log never saw names no setter."""
    return item is not None and not item.by_education and not item.authorised


def _visit_evidence(visit: InspectionVisitReported, event_id: str) -> dict:
    return {"visit_event_id": event_id, "visit_id": str(visit.visit_id), "school_id": visit.school_id,
            "visiting_org_id": visit.visiting_org_id, "visited_on": visit.visited_on.isoformat(),
            "item_id": str(visit.item_id) if visit.item_id else None, "label": visit.label.value,
            "graded": visit.graded, "grading": visit.grading}


def _name(names: Mapping[str, str], org_id: str) -> str:
    return names.get(org_id, org_id)


def _visit_words(visit: InspectionVisitReported, names: Mapping[str, str]) -> str:
    return (f"{_name(names, visit.visiting_org_id)}于{visit.visited_on.isoformat()}到"
            f"{_name(names, visit.school_id)}{LABEL_WORDS[visit.label.value]}")


def disguised_inspection(visit: InspectionVisitReported, event_id: str, semester: str,
                         names: Mapping[str, str]) -> ViolationDetected:
    rule = Rule.DISGUISED_INSPECTION
    return _violation(rule, visit.visiting_org_id, visit.school_id, semester,
                      violation_id(rule, str(visit.visit_id)),
                      f"{_visit_words(visit, names)}，却对学校评定等次或排名（{visit.grading or '评等'}），"
                      f"属以调研、评估、指导、监测名义变相督查检查（S1）。",
                      _visit_evidence(visit, event_id))


def unplanned_inspection(visit: InspectionVisitReported, event_id: str, plan: Plan, semester: str,
                         names: Mapping[str, str]) -> ViolationDetected:
    rule = Rule.UNPLANNED_INSPECTION
    evidence = {**_visit_evidence(visit, event_id), "ground": plan.ground.value}
    if plan.row is not None:
        evidence.update(checklist_item_id=plan.row.item_id, planned_months=sorted(plan.row.months))
    return _violation(rule, visit.visiting_org_id, visit.school_id, semester,
                      violation_id(rule, str(visit.visit_id)),
                      f"{_visit_words(visit, names)}，{GROUND_WORDS[plan.ground]}（S1 督查检查须列入年度计划、经审批或报备）。",
                      evidence)


def unauthorized_inspection_setter(visit: InspectionVisitReported, event_id: str, item: Item, semester: str,
                                   names: Mapping[str, str]) -> ViolationDetected:
    """Charged to the unit that set the item, once per item: the visit that revealed it is named."""
    rule = Rule.UNAUTHORIZED_INSPECTION_SETTER
    return _violation(rule, item.lead_org_id, visit.school_id, semester, violation_id(rule, item.item_id),
                      f"{_name(names, item.lead_org_id)}设立的督查检查事项“{item.title}”未经区委督查室审批，"
                      f"已于{visit.visited_on.isoformat()}到{_name(names, visit.school_id)}实施（S1）。",
                      {**_visit_evidence(visit, event_id), "item_id": item.item_id,
                       "item_proposed_event_id": item.proposed_event_id, "lead_org_id": item.lead_org_id})


def over_frequency(visit: InspectionVisitReported, event_id: str, row: PlannedRow, visits_before: Collection[str],
                   semester: str, names: Mapping[str, str]) -> ViolationDetected | None:
    """S1: a planned visit to a school beyond its row's frequency for the year; visits under a
    merged item's sources count for it. Each visit beyond is one violation."""
    if len(visits_before) < row.frequency_per_year:
        return None
    rule = Rule.INSPECTION_OVER_FREQUENCY
    return _violation(rule, visit.visiting_org_id, visit.school_id, semester,
                      violation_id(rule, str(visit.visit_id)),
                      f"{_visit_words(visit, names)}，该校本年度在此事项下已接受{len(visits_before)}次，"
                      f"超出清单所列每年{row.frequency_per_year}次（S1）。",
                      {**_visit_evidence(visit, event_id), "checklist_item_id": row.item_id,
                       "frequency_per_year": row.frequency_per_year, "visits_before": len(visits_before),
                       "earlier_visit_ids": sorted(visits_before)})


# S2: data requests.

@dataclass(frozen=True)
class EarlierField:
    """A field already asked of a school this year: by which request (the first that asked it)."""

    field: str
    request_id: str
    event_id: str
    requester_org_id: str
    sequence: int


def duplicate_data_request(request: DataRequestIssued, event_id: str, school_id: str,
                           earlier: Iterable[EarlierField], semester: str, names: Mapping[str, str],
                           ) -> ViolationDetected | None:
    """S2: a request asking a school for fields another request (any unit's, or the same unit's)
    already asked of it this year. One violation per later request and school, naming the
    earliest of the requests it repeats; charged to the later requester."""
    repeated = sorted((e for e in earlier if e.request_id != str(request.request_id)),
                      key=lambda e: (e.sequence, e.field))
    if not repeated:
        return None
    first = repeated[0]
    rule = Rule.DUPLICATE_DATA_REQUEST
    return _violation(
        rule, request.requester_org_id, school_id, semester, violation_id(rule, str(request.request_id), school_id),
        f"{_name(names, request.requester_org_id)}于{_local(request.issued_at)}向{_name(names, school_id)}索要的"
        f"“{'、'.join(e.field for e in repeated[:5])}”等{len(repeated)}项数据，本年度已由"
        f"{_name(names, first.requester_org_id)}索要过（S2 不得重复索要）。",
        {"request_event_id": event_id, "request_id": str(request.request_id), "school_id": school_id,
         "earlier_request_id": first.request_id, "earlier_request_event_id": first.event_id,
         "earlier_requester_org_id": first.requester_org_id,
         "fields": [{"field": e.field, "earlier_request_id": e.request_id, "earlier_request_event_id": e.event_id}
                    for e in repeated]})


def excessively_short_deadline(request: DataRequestIssued, event_id: str, calendar: WorkingCalendar, minimum: int,
                               semester: str, names: Mapping[str, str]) -> ViolationDetected | None:
    """S2: fewer than ``minimum`` working days between issue and deadline, counted as
    ``WorkingCalendar.working_time`` counts them (partial days by their hours). One violation per
    request, charged to the requester."""
    given = calendar.working_days_between(request.issued_at, request.deadline, minimum)
    if given >= minimum:
        return None
    rule = Rule.EXCESSIVELY_SHORT_DEADLINE
    return _violation(
        rule, request.requester_org_id, None, semester, violation_id(rule, str(request.request_id)),
        f"{_name(names, request.requester_org_id)}于{_local(request.issued_at)}下发的“{request.title}”要求"
        f"{_local(request.deadline)}前报送，仅有约{given:.2f}个工作日，少于{minimum}个工作日（S2）。",
        {"request_event_id": event_id, "request_id": str(request.request_id), "school_ids": list(request.school_ids),
         "issued_at": request.issued_at.isoformat(), "deadline": request.deadline.isoformat(),
         "working_days": round(given, 4), "minimum": minimum,
         "calendar": "national" if calendar.all_covered(request.issued_at, request.deadline) else "weekdays"})


def _local(moment: datetime) -> str:
    try:
        return aware(moment).astimezone(BUSINESS_TIME).strftime("%Y-%m-%d %H:%M")
    except OverflowError:  # the last hours of year 9999 have no local time
        return moment.isoformat()


def require_storable(*words: str) -> None:
    """Refuse to judge a fact whose words hold a NUL (stored by hand or before intake refused
    it): a violation quoting it would carry the NUL into the log for ever, and no reader can store
    it. Raising sets the fact aside (quarantined), as S3's detector does."""
    if any("\x00" in word for word in words):
        raise ValueError("the fact's text holds a NUL character (U+0000): not judged")


def _violation(rule: Rule, party: str, school_id: str | None, semester: str, found_id: str, summary: str,
               evidence: dict) -> ViolationDetected:
    return ViolationDetected(violation_id=found_id, rule=rule, clause=RULE_CLAUSE[rule], responsible_org_id=party,
                             school_id=school_id, semester=semester, issue_key=f"{party}:{rule.value}",
                             summary=summary, evidence=evidence)
