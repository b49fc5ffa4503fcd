"""How each event changes the read model: one small function per event type.

``apply`` runs inside the projector's batch transaction (or a rebuild's), so what it writes is
committed together with the checkpoint. When a school reports an activity held, the S3
detector judges it against the read model as it stands at that point of the stream, and any
violation is appended to the log with ``append_once`` before the transaction commits: a crash
before the commit only re-detects, and the second append is a no-op. The ViolationDetected
event itself reaches the violations register later, through the stream like any other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import structlog
from jianfu.compliance.database import utc
from jianfu.compliance.domain.detector import (
    Authorisation,
    authorising,
    detect,
    item_key,
    unauthorized_violation_id,
)
from jianfu.compliance.read_model import ReadModel
from jianfu.compliance.statements import AUTHORISED, Statements, counters, statements
from jianfu.events import catalogue
from jianfu.events.envelope import SYSTEM_ACTOR, Envelope
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.campus_entry import (
    ActivityCertified,
    ActivityExemptionRecorded,
    ActivityHeldReported,
    ActivityRejected,
    ActivityRequested,
    Route,
    SemesterListPublished,
)
from jianfu.events.schemas.compliance import Rule, ViolationDetected
from jianfu.events.settings import Clock, Settings
from jianfu.events.store import EventStore, StoredEvent
from sqlalchemy.ext.asyncio import AsyncConnection

log = structlog.get_logger("jianfu.compliance.projection")



@dataclass(frozen=True)
class Detection:
    """What the detector needs besides the read model. Without a store it judges but appends
    nothing (an auditor's dry rebuild must not write to the log)."""

    store: EventStore | None
    cap: int
    policy_version: str
    clock: Clock
    names: Mapping[str, str]

    @classmethod
    def from_settings(cls, settings: Settings, store: EventStore | None, clock: Clock) -> Detection:
        """The cap, policy version and organisation names of the policy and directory in force."""
        return cls(store, settings.policy.campus_entry.items_per_school_per_semester, settings.policy.version, clock,
                   {org.org_id: org.name for org in settings.directory.organisations})


async def apply(conn: AsyncConnection, model: ReadModel, stored: StoredEvent, detection: Detection) -> bool:
    """Apply one event; False when the read model has no use for it (it is skipped). An event
    of a type no catalogue knows, or whose data does not validate, raises (UnknownEventType,
    ValidationError): the projector quarantines it, and a rebuild quarantines the same one."""
    applier = APPLIERS.get(stored.envelope.event_type)
    if applier is None:
        if stored.envelope.event_type not in catalogue.EVENT_TYPES:
            raise catalogue.UnknownEventType(stored.envelope.event_type)
        return False
    data = catalogue.parse(stored.envelope)
    await applier(conn, statements(model, conn.dialect.name), stored, data, detection)
    return True


async def _requested(conn, sql: Statements, stored: StoredEvent, event: ActivityRequested, _d) -> None:
    await conn.execute(sql.request, {
        "semester": event.target_semester, "activity_id": str(event.activity_id), "status": "requested",
        "applicant_org_id": event.applicant_org_id, "title": event.title, "route": event.route.value,
        "declaration_type": event.declaration_type.value, "in_window": event.in_window,
        "declared_on": event.declared_on, "requested_sequence": stored.sequence})
    await _schools(conn, sql, event.target_semester, str(event.activity_id), event.school_ids)


async def _admitted(conn, sql: Statements, stored: StoredEvent, event: ActivityCertified | ActivityExemptionRecorded,
                    _d) -> None:
    semester, activity_id, listing = stored.envelope.aggregate_id, str(event.activity_id), event.listing
    exempt = isinstance(event, ActivityExemptionRecorded)
    before = await conn.scalar(sql.status, {"p_semester": semester, "p_activity_id": activity_id})
    await conn.execute(sql.admission, {
        "semester": semester, "activity_id": activity_id, "applicant_org_id": event.applicant_org_id,
        "title": listing.title, "route": listing.route.value, "status": "exempt" if exempt else "certified",
        "decided_sequence": stored.sequence, "exempt_category": event.category.value if exempt else None})
    await _schools(conn, sql, semester, activity_id, listing.school_ids)
    if before in AUTHORISED:
        return  # counted already: an admission is never counted twice
    # S3: urgent and exempt items count towards the cap like regular ones; kept apart for reporting.
    counter = "exempt_items" if exempt else "urgent_items" if listing.route is Route.URGENT else "certified_items"
    for school_id in listing.school_ids:
        await conn.execute(sql.bump, {"semester": semester, "school_id": school_id, **counters(**{counter: 1})})


async def _rejected(conn, sql: Statements, stored: StoredEvent, event: ActivityRejected, _d) -> None:
    await conn.execute(sql.refusal, {
        "semester": stored.envelope.aggregate_id, "activity_id": str(event.activity_id),
        "applicant_org_id": event.applicant_org_id, "title": "", "route": Route.REGULAR.value,
        "status": "rejected", "refusal_code": event.refusal_code.value, "refusal_reason": event.reason,
        "automatic": event.automatic, "decided_sequence": stored.sequence})


async def _published(conn, sql: Statements, stored: StoredEvent, event: SemesterListPublished, _d) -> None:
    await conn.execute(sql.semester_list, {
        "semester": event.semester, "edition": event.edition, "published_at": utc(stored.envelope.occurred_at),
        "item_count": len(event.items), "items": [item.model_dump(mode="json") for item in event.items],
        "event_id": stored.envelope.event_id, "sequence": stored.sequence})


async def _held(conn, sql: Statements, stored: StoredEvent, report: ActivityHeldReported, d: Detection) -> None:
    where = {"p_semester": report.semester, "p_school_id": report.school_id}
    seen = (await conn.execute(sql.report_seen, {**where, "p_report_id": str(report.report_id),
                                                 "p_violation_id": unauthorized_violation_id(report)})).all()
    if any(row.report_id == str(report.report_id) for row in seen):
        return  # this report is in the read model already
    authorisations = [Authorisation(row.activity_id, report.organizer_org_id, report.semester,
                                    frozenset({report.school_id}), row.title)
                      for row in await conn.execute(sql.authorisations, {**where, "p_organizer": report.organizer_org_id})]
    held = set(await conn.scalars(sql.items_held, where))
    key = item_key(report, authorisations)
    found = {v.rule: v for v in detect(report, stored.envelope.event_id, authorisations, held, d.cap, d.names)}
    unauthorised, over_cap = found.get(Rule.UNAUTHORIZED_CAMPUS_ENTRY), found.get(Rule.CAMPUS_ENTRY_QUOTA_EXCEEDED)
    # An earlier report of the same entry already recorded its violation (before that commit).
    new_unauthorised = unauthorised is not None and not seen
    for violation in (unauthorised if new_unauthorised else None, over_cap):
        if violation is not None:
            await _record(violation, stored.envelope, d)
    authorisation = authorising(report, authorisations)
    await conn.execute(sql.report, {
        "semester": report.semester, "school_id": report.school_id, "report_id": str(report.report_id),
        "organizer_org_id": report.organizer_org_id, "title": report.title, "held_on": report.held_on,
        "activity_id": str(report.activity_id) if report.activity_id else None, "participants": report.participants,
        "teacher_hours": report.teacher_hours, "item_key": key,
        "authorised_by": authorisation.activity_id if authorisation else None,
        "unauthorised_violation_id": unauthorised.violation_id if unauthorised else None,
        "quota_violation_id": over_cap.violation_id if over_cap else None,
        "event_id": stored.envelope.event_id, "sequence": stored.sequence})
    if key in held:
        await conn.execute(sql.item_again, {**where, "p_item_key": key, "p_authorised": unauthorised is None})
    else:
        await conn.execute(sql.new_item, {
            "semester": report.semester, "school_id": report.school_id, "item_key": key, "ordinal": len(held) + 1,
            "organizer_org_id": report.organizer_org_id, "title": report.title,
            "first_report_id": str(report.report_id), "first_held_on": report.held_on, "reports": 1,
            "authorised": unauthorised is None, "over_cap": over_cap is not None})
    await conn.execute(sql.bump, {"semester": report.semester, "school_id": report.school_id, **counters(
        held_reports=1, held_items=int(key not in held), unauthorised_entries=int(new_unauthorised),
        items_over_cap=int(over_cap is not None))})


async def _violation(conn, sql: Statements, stored: StoredEvent, event: ViolationDetected, _d) -> None:
    await conn.execute(sql.violation, {
        "violation_id": event.violation_id, "rule": event.rule.value, "clause": event.clause,
        "responsible_org_id": event.responsible_org_id, "school_id": event.school_id, "semester": event.semester,
        "issue_key": event.issue_key, "summary": event.summary, "evidence": event.evidence,
        "occurred_at": utc(stored.envelope.occurred_at), "event_id": stored.envelope.event_id,
        "sequence": stored.sequence})


async def _record(violation: ViolationDetected, report: Envelope, d: Detection) -> None:
    """Append the violation once: its id decides the event id, whoever detects it and when."""
    if d.store is None:
        return
    context = CommandContext(SYSTEM_ACTOR, violation.violation_id, report.correlation_id, d.policy_version, d.clock.now())
    event = context.event(violation, violation.violation_id, occurred_at=report.occurred_at)
    appended = await d.store.append_once(event.model_copy(update={"causation_id": report.event_id}))
    log.info("violation_detected" if appended else "violation_already_recorded", violation_id=violation.violation_id,
             rule=violation.rule.value, responsible_org_id=violation.responsible_org_id, school_id=violation.school_id)


async def _schools(conn, sql: Statements, semester: str, activity_id: str, school_ids) -> None:
    if school_ids:
        await conn.execute(sql.school, [{"semester": semester, "school_id": school_id, "activity_id": activity_id}
                                        for school_id in school_ids])


Applier = Callable[[AsyncConnection, Statements, StoredEvent, object, Detection], Awaitable[None]]

APPLIERS: dict[str, Applier] = {
    ActivityRequested.__name__: _requested,
    ActivityCertified.__name__: _admitted,
    ActivityExemptionRecorded.__name__: _admitted,
    ActivityRejected.__name__: _rejected,
    SemesterListPublished.__name__: _published,
    ActivityHeldReported.__name__: _held,
    ViolationDetected.__name__: _violation,
}
