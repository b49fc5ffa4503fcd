"""One function per command or event: load → decide (domain aggregate) → append.

A decision is an event of its activity (``activity.<id>``); an admission also takes a slot at
each of its schools (``campus_entry_quota.<semester>.<school>``), and the decision and its slots
are appended together or not at all (``execute_together``). A publication is an event of the
semester list (``campus_entry_semester.<semester>``). A certification round is an event of its
own (``campus_entry_round.<semester>``), stored before the decisions it orders.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable

import structlog
from jianfu.approvals.domain.campus_entry_activity import CampusEntryActivity, Decided
from jianfu.approvals.domain.certification_round import CertificationRound, candidates_of, in_parts
from jianfu.approvals.domain.exemptions import ExemptionBasis
from jianfu.approvals.domain.regional_catalogue import RegionalCatalogue
from jianfu.approvals.domain.school_quota import SchoolQuota
from jianfu.approvals.domain.semester_list import SemesterList
from jianfu.events import catalogue
from jianfu.events.commands import Caller, command_context
from jianfu.events.dependencies import Deps
from jianfu.events.envelope import SYSTEM_ACTOR, Envelope, subject_for
from jianfu.events.quarantine import POISON
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.campus_entry import (
    ActivityCertified,
    ActivityExemptionRecorded,
    ActivityRejected,
    ActivityRequested,
    CampusEntrySlotTaken,
    CertificationRoundDecided,
    CertifyActivity,
    DecideCertificationRound,
    ExemptCategory,
    ListedActivity,
    PublishSemesterList,
    RejectActivity,
    Route,
)
from jianfu.events.schemas.regional_catalogue import CATALOGUE_AGGREGATE_ID, RegionalCatalogueImported
from jianfu.events.semesters import Semester, Term
from jianfu.events.store import EventStore, History, StoredEvent, execute, execute_together

ACTIVITY, QUOTA, SEMESTER = "activity", CampusEntrySlotTaken.aggregate_type, "campus_entry_semester"
ROUND, CATALOGUE = CertificationRoundDecided.aggregate_type, RegionalCatalogueImported.aggregate_type
ACTIVITY_SUBJECTS = subject_for(ACTIVITY, ">")
LOADS_AT_ONCE = 64  # quota and activity loads a publication runs concurrently
log = structlog.get_logger("jianfu.approvals.handlers")


async def certify_activity(command: CertifyActivity, caller: Caller, deps: Deps) -> dict:
    cap = deps.policy.campus_entry.items_per_school_per_semester
    context = command_context(caller, command, deps.policy.version, deps.clock.now())
    return _decision_reply(await _decide(deps, str(command.activity_id), context, lambda activity, quotas: (
        activity.certify(deps.directory, quotas, cap, command.note, command.urgency_confirmed))))


async def reject_activity(command: RejectActivity, caller: Caller, deps: Deps) -> dict:
    context = command_context(caller, command, deps.policy.version, deps.clock.now())
    return _decision_reply(await _decide(deps, str(command.activity_id), context, lambda activity, _quotas: (
        activity.reject(command.refusal_code, command.reason)), with_quotas=False))


async def screen_request(envelope: Envelope, sequence: int, deps: Deps) -> None:
    """On every ActivityRequested: hard-rule refusals and exemptions are decided at once (S3)."""
    if envelope.event_type != ActivityRequested.__name__:
        return
    request: ActivityRequested = catalogue.parse(envelope)
    context = CommandContext(SYSTEM_ACTOR, envelope.event_id, envelope.correlation_id, deps.policy.version, deps.clock.now())
    basis = await exemption_basis(deps, request, context)
    # The decision goes where the request is stored: its envelope's aggregate. Only an exemption
    # takes slots, so only then are the schools' quotas loaded.
    await _decide(deps, envelope.aggregate_id, context, lambda activity, quotas: activity.screen(deps.directory, quotas,
                  basis), with_quotas=request.route is Route.EXEMPT, request=request)


async def exemption_basis(deps: Deps, request: ActivityRequested, context: CommandContext) -> ExemptionBasis:
    """What an exemption claim is checked against: for city creation, the quotas of the school
    year's other semester (read only); for the region's catalogue, the edition in force on the
    day it was declared among those that can be read (a poison edition leaves the one before)."""
    policy = deps.policy.campus_entry
    claim = request.exemption_claim if request.route is Route.EXEMPT else None
    other, edition = {}, None
    if claim and claim.category is ExemptCategory.CITY_CREATION:
        semester = Semester.parse(request.target_semester)
        other_id = (semester.following() if semester.term is Term.AUTUMN else semester.preceding()).id
        histories = await asyncio.gather(*(deps.store.load(QUOTA, SchoolQuota.aggregate_id(other_id, school))
                                           for school in request.school_ids))
        other = {school: SchoolQuota.from_events(other_id, school, _parsed(history))
                 for school, history in zip(request.school_ids, histories, strict=True)}
    if claim and claim.category is ExemptCategory.REGIONAL_CATALOGUE:
        history = await deps.store.load(CATALOGUE, CATALOGUE_AGGREGATE_ID)
        edition = RegionalCatalogue.from_events(_readable(history.events, context)).in_force_on(request.declared_on)
    return ExemptionBasis(policy.items_per_school_per_semester, policy.city_creation_per_school_year, other, edition)


async def decide_certification_round(command: DecideCertificationRound, caller: Caller, deps: Deps) -> dict:
    """集中认定 (S3): the round is stored first, in parts appended together, then each candidate's
    decision in rank order. A retry of the same command finds the parts it stored and completes
    what was left undone."""
    context = command_context(caller, command, deps.policy.version, deps.clock.now())
    requests: dict[str, ActivityRequested] = {}

    async def decide(histories: list[History]):
        [history] = histories
        earlier = context.earlier_outcome(history.envelopes)
        if earlier:
            return [(history, event) for event in earlier]
        certification_round = CertificationRound.from_events(command.semester, _parsed(history))
        certification_round.require_open(deps.clock.today(), deps.policy.campus_entry, deps.policy.school_calendar)
        for request in await round_candidates(deps.store, command.semester, context):
            requests[str(request.activity_id)] = request
        decided = certification_round.decide(requests.values(), command.rejections, deps.clock.today(), command.note)
        return [(history, context.event(part, command.semester, key=str(part.part))) for part in in_parts(decided)]

    stored = await execute_together(deps.store, [(ROUND, command.semester)], decide, deps.retries)
    places = CertificationRound.from_events(command.semester, [catalogue.parse(s.envelope) for s in stored]).places
    outcomes = [await _decide_in_round(deps, context, command, str(place.activity_id), requests)
                for place in places]
    return _round_reply(command.semester, stored[-1].sequence, outcomes)


async def round_candidates(store: EventStore, semester: str, context: CommandContext) -> list[ActivityRequested]:
    """The semester's undecided regular in-window declarations, read from every activity's events;
    an event that cannot be read is passed over (``_readable``), not a candidate."""
    return candidates_of(semester, [event async for event in _readable_replay(store, ACTIVITY_SUBJECTS, context)])


async def _decide_in_round(deps: Deps, context: CommandContext, command: DecideCertificationRound, activity_id: str,
                           requests: dict[str, ActivityRequested]) -> list[StoredEvent]:
    rejection = next((r for r in command.rejections if str(r.activity_id) == activity_id), None)
    cap = deps.policy.campus_entry.items_per_school_per_semester

    def decide(activity: CampusEntryActivity, quotas) -> Decided | None:
        return activity.decide_in_round(rejection, deps.directory, quotas, cap, command.note)

    return await _decide(deps, activity_id, context, decide, request=requests.get(activity_id))


async def publish_semester_list(command: PublishSemesterList, caller: Caller, deps: Deps) -> dict:
    context = command_context(caller, command, deps.policy.version, deps.clock.now())
    admitted = await admitted_in(deps, command.semester, context)

    def publish(history: History):
        return context.earlier_outcome(history.envelopes) or [
            context.event(part, command.semester, key=str(part.part))
            for part in SemesterList.from_events(command.semester, _readable(history.events, context)).publish(admitted)]

    stored = await execute(deps.store, SEMESTER, command.semester, publish, deps.retries)
    last = stored[-1].envelope.data
    return {"semester": command.semester, "edition": last["edition"], "item_count": last["item_count"],
            "parts": last["parts"], "sequence": stored[-1].sequence}


async def admitted_in(deps: Deps, semester: str, context: CommandContext) -> list[ListedActivity]:
    """The semester's admissions, in the order they were decided: the activities holding a slot
    at any school of the directory, each read from its decision (an unreadable event passed over)."""
    limit = asyncio.Semaphore(LOADS_AT_ONCE)

    async def load(kind: str, key: str) -> History:
        async with limit:
            return await deps.store.load(kind, key)

    quotas = await asyncio.gather(*(load(QUOTA, SchoolQuota.aggregate_id(semester, school))
                                    for school in deps.directory.school_ids))
    holders = sorted({str(slot.activity_id) for quota in quotas for slot in _readable(quota.events, context)})
    decided: list[tuple[int, ListedActivity]] = []
    for history in await asyncio.gather(*(load(ACTIVITY, key) for key in holders)):
        for stored in history.events:
            if stored.envelope.event_type in (ActivityCertified.__name__, ActivityExemptionRecorded.__name__):
                for event in _readable([stored], context):
                    decided.append((stored.sequence, event.listing))
    return [listing for _, listing in sorted(decided, key=lambda pair: pair[0])]


async def _decide(deps: Deps, activity_id: str, context: CommandContext, decide, with_quotas: bool = True,
                  request: ActivityRequested | None = None) -> list[StoredEvent]:
    """Load the activity (and its schools' quotas), decide, append the decision and its slots together."""
    request = request or await load_request(deps.store, activity_id)
    schools = request.school_ids if with_quotas else ()
    aggregates = [(ACTIVITY, activity_id),
                  *((QUOTA, SchoolQuota.aggregate_id(request.target_semester, school)) for school in schools)]

    def on(histories: list[History]):
        activity_history, *quota_histories = histories
        already = context.earlier_outcome(activity_history.envelopes)
        if already:
            return [(activity_history, event) for event in already[:1]]
        quotas = {school: SchoolQuota.from_events(request.target_semester, school, _parsed(history))
                  for school, history in zip(schools, quota_histories, strict=True)}
        activity = CampusEntryActivity.from_events(_parsed(activity_history), request)
        decided: Decided | None = decide(activity, quotas)
        if decided is None:
            return []
        key = activity_id
        slots = [(history, context.event(slot, history.aggregate_id, key=key))
                 for history, slot in zip(quota_histories, _by_school(decided, schools), strict=True) if slot]
        return [(activity_history, context.event(decided.decision, key, key=key)), *slots]

    return await execute_together(deps.store, aggregates, on, deps.retries)


def _by_school(decided: Decided, schools) -> list[CampusEntrySlotTaken | None]:
    taken = {slot.school_id: slot for slot in decided.slots}
    return [taken.get(school) for school in schools]


async def load_request(store: EventStore, activity_id: str) -> ActivityRequested:
    history = await store.load(ACTIVITY, activity_id)
    return CampusEntryActivity.from_events(_parsed(history)).request


def _parsed(history: History) -> list:
    return [catalogue.parse(envelope) for envelope in history.envelopes]


def _readable(events: Iterable[StoredEvent], context: CommandContext) -> list:
    """The events a read can go on without (candidates, admissions, the catalogue), parsed; one
    that cannot be parsed (a hand-stored poison) is logged and passed over, so it never halts
    every round or claim after it (S3). Aggregates a decision appends to are read by ``_parsed``."""
    parsed = (_parsed_or_none(stored, context) for stored in events)
    return [event for event in parsed if event is not None]


async def _readable_replay(store: EventStore, subjects: str, context: CommandContext) -> AsyncIterator[object]:
    async for stored in store.replay(subjects=subjects):
        event = _parsed_or_none(stored, context)
        if event is not None:
            yield event


def _parsed_or_none(stored: StoredEvent, context: CommandContext) -> object | None:
    try:
        return catalogue.parse(stored.envelope)
    except POISON as error:
        log.warning("unreadable event passed over", sequence=stored.sequence, subject=stored.envelope.subject,
                    event_id=stored.envelope.event_id, event_type=stored.envelope.event_type,
                    correlation_id=context.correlation_id, error=str(error)[:500])
        return None


def _round_reply(semester: str, sequence: int, outcomes: list[list[StoredEvent]]) -> dict:
    """Counts of the round's decisions: certified, rejected by the bureau, refused for the cap
    (or another hard rule), and candidates decided outside the round meanwhile."""
    events = [stored[0].envelope for stored in outcomes if stored]
    rejected = [e for e in events if e.event_type == ActivityRejected.__name__]
    return {"semester": semester, "sequence": sequence, "places": len(outcomes),
            "certified": sum(e.event_type == ActivityCertified.__name__ for e in events),
            "rejected": sum(not e.data["automatic"] for e in rejected),
            "refused_automatically": sum(e.data["automatic"] for e in rejected),
            "decided_elsewhere": len(outcomes) - len(events)}


def _decision_reply(stored: list[StoredEvent]) -> dict:
    event = stored[0].envelope
    reply = {"activity_id": event.data["activity_id"], "sequence": stored[0].sequence}
    if event.event_type == ActivityRejected.__name__:
        return {**reply, "decision": "rejected", "refusal_code": event.data["refusal_code"],
                "automatic": event.data["automatic"], "reason": event.data["reason"]}
    if event.event_type == ActivityCertified.__name__:  # per school: where it may enter, where not and why
        reply |= {"school_ids": event.data["listing"]["school_ids"], "refused_schools": event.data["refused_schools"]}
    return {**reply, "decision": "certified"}
