"""The S3 read model as a batch fold: applications, the semester list, what each school admitted
and held, and the violations register.

Every violation column and counter comes from a ``ViolationDetected`` event, never from running a
rule here: the detector (``s3_detection.py``) decides, this view only records. What a school held
is counted by item (``detector.item_key``, over the same authorisations the detector keeps), so
the item counts here and the detector's verdicts agree. A certification is shown as such, but
admits nobody until a list edition carrying it is published whole (``authorisations.py``).
"""

from __future__ import annotations

from jianfu.compliance.domain import authorisations
from jianfu.compliance.domain.authorisations import (
    decided_semester,
    exemption_needs,
    list_part_needs,
    record_exemption,
    record_list_part,
    report_needs,
)
from jianfu.compliance.domain.detector import item_key, responsible
from jianfu.compliance.domain.folding import Batch, Fact, Need, On, Projection, Row, utc
from jianfu.events.schemas.campus_entry import (
    ActivityCertified,
    ActivityExemptionRecorded,
    ActivityHeldReported,
    ActivityRejected,
    ActivityRequested,
    CampusEntryRefused,
    Route,
    SemesterListPublished,
)
from jianfu.events.schemas.compliance import Rule, ViolationDetected

AUTHORISED = ("certified", "exempt")
COUNTERS = ("certified_items", "urgent_items", "exempt_items", "held_reports", "held_items",
            "unauthorised_entries", "items_over_cap", "refused_entries")
APPLICATION = dict.fromkeys((
    "applicant_org_id", "title", "route", "declaration_type", "in_window", "declared_on", "status", "refusal_code",
    "refusal_reason", "automatic", "exempt_category", "requested_sequence", "decided_sequence"))

KEYS = {
    "applications": ("semester", "activity_id"),
    "application_schools": ("semester", "school_id", "activity_id"),
    authorisations.TABLE: authorisations.KEY,
    **authorisations.LIST_KEYS,
    "semester_list_items": ("semester", "edition", "position"),
    "campus_entries": ("semester", "school_id"),
    "campus_entry_items": ("semester", "school_id", "item_key"),
    "held_reports": ("semester", "school_id", "report_id"),
    "refused_entries": ("semester", "school_id", "report_id"),
    "violations": ("violation_id",),
}


def _application(batch: Batch, semester: str, activity_id: str) -> Row:
    return batch["applications"].get(semester, activity_id) or {
        "semester": semester, "activity_id": activity_id, **APPLICATION}


def _counters(batch: Batch, semester: str, school_id: str) -> Row:
    return batch["campus_entries"].get(semester, school_id) or {
        "semester": semester, "school_id": school_id, **dict.fromkeys(COUNTERS, 0)}


def _bump(batch: Batch, semester: str, school_id: str, **increments: int) -> None:
    row = _counters(batch, semester, school_id)
    batch["campus_entries"].update(row, **{name: row[name] + n for name, n in increments.items()})


def _schools(batch: Batch, semester: str, activity_id: str, school_ids) -> None:
    for school_id in school_ids:
        batch["application_schools"].put({"semester": semester, "school_id": school_id, "activity_id": activity_id})


# ActivityRequested: the application as declared (Attachment 4).

def _requested(batch: Batch, fact: Fact) -> None:
    event: ActivityRequested = fact.data
    semester, activity_id = event.target_semester, str(event.activity_id)
    row = _application(batch, semester, activity_id)
    batch["applications"].update(
        row, status=row["status"] or "requested", applicant_org_id=event.applicant_org_id, title=event.title, route=event.route.value,
        declaration_type=event.declaration_type.value, in_window=event.in_window, declared_on=event.declared_on,
        requested_sequence=fact.sequence)
    _schools(batch, semester, activity_id, event.school_ids)


def _requested_needs(fact: Fact):
    return (Need("applications", (fact.data.target_semester, str(fact.data.activity_id))),)


# ActivityCertified / ActivityExemptionRecorded: an admission, counted once per school (S3).

def _admitted(batch: Batch, fact: Fact) -> None:
    event: ActivityCertified | ActivityExemptionRecorded = fact.data
    semester, activity_id, listing = decided_semester(fact), str(event.activity_id), event.listing
    exempt = isinstance(event, ActivityExemptionRecorded)
    row = batch["applications"].get(semester, activity_id)
    before = row["status"] if row else None
    batch["applications"].put({
        **(row or {"semester": semester, "activity_id": activity_id, **APPLICATION,
                   "applicant_org_id": event.applicant_org_id, "title": listing.title, "route": listing.route.value}),
        "status": "exempt" if exempt else "certified", "decided_sequence": fact.sequence,
        "exempt_category": event.category.value if exempt else None})
    _schools(batch, semester, activity_id, listing.school_ids)
    if exempt:
        record_exemption(batch, fact)
    if before in AUTHORISED:
        return  # counted already: an admission is never counted twice
    # S3: urgent and exempt items count towards the cap like regular ones; kept apart for reporting.
    counter = "exempt_items" if exempt else "urgent_items" if listing.route is Route.URGENT else "certified_items"
    for school_id in listing.school_ids:
        _bump(batch, semester, school_id, **{counter: 1})


def _admitted_needs(fact: Fact):
    event, semester = fact.data, decided_semester(fact)
    yield Need("applications", (semester, str(event.activity_id)))
    if isinstance(event, ActivityExemptionRecorded):
        yield from exemption_needs(fact)
    for school_id in event.listing.school_ids:
        yield Need("campus_entries", (semester, school_id))


# ActivityRejected: refused by the bureau (or by screening, ``automatic``).

def _rejected(batch: Batch, fact: Fact) -> None:
    event: ActivityRejected = fact.data
    semester, activity_id = decided_semester(fact), str(event.activity_id)
    row = batch["applications"].get(semester, activity_id) or {
        "semester": semester, "activity_id": activity_id, **APPLICATION, "applicant_org_id": event.applicant_org_id,
        "title": "", "route": Route.REGULAR.value}
    batch["applications"].update(row, status="rejected", refusal_code=event.refusal_code.value,
                                 refusal_reason=event.reason, automatic=event.automatic,
                                 decided_sequence=fact.sequence)


def _rejected_needs(fact: Fact):
    return (Need("applications", (decided_semester(fact), str(fact.data.activity_id))),)


# SemesterListPublished: Attachment 3, part by part; an edition is the list once its last part is in.

def _published(batch: Batch, fact: Fact) -> None:
    part: SemesterListPublished = fact.data
    for position, item in enumerate(part.items, part.offset):
        batch["semester_list_items"].put({"semester": part.semester, "edition": part.edition, "position": position,
                                          "activity_id": str(item.activity_id), "item": item.model_dump(mode="json")})
    record_list_part(batch, fact)


# ActivityHeldReported: a school's report, counted by item.

def _held(batch: Batch, fact: Fact) -> None:
    report: ActivityHeldReported = fact.data
    semester, school_id, report_id = report.semester, report.school_id, str(report.report_id)
    if batch["held_reports"].get(semester, school_id, report_id) is not None:
        return  # this report is in the read model already
    key = item_key(report, authorisations.authorisations(batch, report))
    batch["held_reports"].put({
        "semester": semester, "school_id": school_id, "report_id": report_id,
        "organizer_org_id": report.organizer_org_id, "organizer_name": report.organizer_name,
        "exempt_category": report.exemption_claim.category.value if report.exemption_claim else None,
        "title": report.title, "held_on": report.held_on,
        "activity_id": str(report.activity_id) if report.activity_id else None,
        "participants": report.participants, "teacher_hours": report.teacher_hours, "item_key": key,
        "unauthorised_violation_id": None, "quota_violation_id": None, "event_id": fact.event_id,
        "sequence": fact.sequence})
    items = batch["campus_entry_items"]
    item = items.get(semester, school_id, key)
    if item is not None:
        items.update(item, reports=item["reports"] + 1)
    else:
        items.put({"semester": semester, "school_id": school_id, "item_key": key,
                   "ordinal": len(items.group(semester, school_id)) + 1, "organizer": responsible(report),
                   "title": report.title, "first_report_id": report_id, "first_held_on": report.held_on,
                   "reports": 1, "quota_violation_id": None})
    _bump(batch, semester, school_id, held_reports=1, held_items=int(item is None))


def _held_needs(fact: Fact):
    report = fact.data
    semester, school_id = report.semester, report.school_id
    return (Need("held_reports", (semester, school_id, str(report.report_id))),
            *report_needs(report),
            Need("campus_entry_items", (semester, school_id)),
            Need("campus_entries", (semester, school_id)))


# CampusEntryRefused: a school turned an entry away; on the record, not an entry.

def _refused(batch: Batch, fact: Fact) -> None:
    event: CampusEntryRefused = fact.data
    semester, school_id, report_id = event.semester, event.school_id, str(event.report_id)
    if batch["refused_entries"].get(semester, school_id, report_id) is not None:
        return
    batch["refused_entries"].put({
        "semester": semester, "school_id": school_id, "report_id": report_id,
        "organizer_org_id": event.organizer_org_id, "organizer_name": event.organizer_name, "title": event.title,
        "refused_on": event.refused_on, "refusal_code": event.refusal_code.value, "note": event.note,
        "event_id": fact.event_id, "sequence": fact.sequence})
    _bump(batch, semester, school_id, refused_entries=1)


def _refused_needs(fact: Fact):
    event: CampusEntryRefused = fact.data
    return (Need("refused_entries", (event.semester, event.school_id, str(event.report_id))),
            Need("campus_entries", (event.semester, event.school_id)))


# ViolationDetected: the register, and the S3 columns and counters it explains.

def _violation(batch: Batch, fact: Fact) -> None:
    event: ViolationDetected = fact.data
    if batch["violations"].get(event.violation_id) is not None:
        return  # recorded already
    batch["violations"].put({
        "violation_id": event.violation_id, "rule": event.rule.value, "clause": event.clause,
        "responsible_org_id": event.responsible_org_id, "school_id": event.school_id,
        "teacher_id": event.teacher_id, "semester": event.semester,
        "issue_key": event.issue_key, "summary": event.summary, "evidence": event.evidence,
        "routed_to": event.routed_to, "occurred_at": utc(fact.occurred_at), "event_id": fact.event_id, "sequence": fact.sequence})
    where = _s3_place(event)
    if where is None:
        return
    semester, school_id, report_id, key = where
    quota = event.rule is Rule.CAMPUS_ENTRY_QUOTA_EXCEEDED
    _bump(batch, semester, school_id, **{"items_over_cap" if quota else "unauthorised_entries": 1})
    column = "quota_violation_id" if quota else "unauthorised_violation_id"
    report = batch["held_reports"].get(semester, school_id, report_id) if report_id else None
    if report is not None and report[column] is None:
        batch["held_reports"].update(report, **{column: event.violation_id})
    item = batch["campus_entry_items"].get(semester, school_id, key) if quota and key else None
    if item is not None and item["quota_violation_id"] is None:
        batch["campus_entry_items"].update(item, quota_violation_id=event.violation_id)


def _violation_needs(fact: Fact):
    event: ViolationDetected = fact.data
    yield Need("violations", (event.violation_id,))
    where = _s3_place(event)
    if where is not None:
        semester, school_id, report_id, key = where
        yield Need("campus_entries", (semester, school_id))
        if report_id:
            yield Need("held_reports", (semester, school_id, report_id))
        if key:
            yield Need("campus_entry_items", (semester, school_id, key))


def _s3_place(event: ViolationDetected) -> tuple[str, str, str | None, str | None] | None:
    """Semester, school, report id and item key of an S3 violation (None for other rules)."""
    if event.rule not in (Rule.UNAUTHORIZED_CAMPUS_ENTRY, Rule.CAMPUS_ENTRY_QUOTA_EXCEEDED):
        return None
    if not (event.semester and event.school_id):
        return None
    report_id, key = event.evidence.get("report_id"), event.evidence.get("item_key")
    return (event.semester, event.school_id, report_id if isinstance(report_id, str) else None,
            key if isinstance(key, str) else None)


CAMPUS_ENTRY_VIEW = Projection("campus_entry", KEYS, {
    ActivityRequested.__name__: On(_requested_needs, _requested),
    ActivityCertified.__name__: On(_admitted_needs, _admitted),
    ActivityExemptionRecorded.__name__: On(_admitted_needs, _admitted),
    ActivityRejected.__name__: On(_rejected_needs, _rejected),
    SemesterListPublished.__name__: On(list_part_needs, _published),
    ActivityHeldReported.__name__: On(_held_needs, _held),
    CampusEntryRefused.__name__: On(_refused_needs, _refused),
    ViolationDetected.__name__: On(_violation_needs, _violation),
})
