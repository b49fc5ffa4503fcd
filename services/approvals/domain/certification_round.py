"""集中认定 (S3): the semester's certification round (aggregate ``campus_entry_round.<semester>``).

The plan has the education bureau gather the window's declarations and certify them together
after the window, not first come, first served. One round per semester, held after the
semester's declaration window has closed (July for autumn, December before spring) and before
the semester's last day. Its candidates are the semester's regular declarations made in the
window and not decided yet. The round fixes their order once, so that the outcome never depends
on the order they arrived in:

1. exempt and city-creation items come first: they took their slots when they were recorded,
   before any round, so they are not candidates at all;
2. then items by the level of their policy basis: national, regional, city, district;
3. then the rest (no basis level given);
ties by activity id. The bureau's rejections are refused; the others are certified in rank
order, per school, until a school's cap is reached (a full school refused on its own, as a
single certification does). Each decision is an event of its activity (``decide_in_round``).

The round is stored in parts of ``ROUND_PART_PLACES`` places (``in_parts``), all appended
together, so a window flooded with declarations still has a round that fits the log.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from uuid import UUID

from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.policy import CampusEntryPolicy
from jianfu.events.schemas.campus_entry import (
    ROUND_PART_PLACES,
    ActivityCertified,
    ActivityExemptionRecorded,
    ActivityRejected,
    ActivityRequested,
    BasisLevel,
    CertificationRoundDecided,
    RoundPlace,
    RoundRejection,
    Route,
)
from jianfu.events.semesters import SchoolCalendar, Semester, Term

OTHER = "other"
PRIORITIES = (*(level.value for level in (BasisLevel.NATIONAL, BasisLevel.REGIONAL, BasisLevel.CITY,
                                           BasisLevel.DISTRICT)), OTHER)
DECISIONS = (ActivityCertified, ActivityRejected, ActivityExemptionRecorded)
ROUND_MAX_PARTS = 1000
"""A round's parts are one JetStream atomic batch, which holds at most 1,000 messages
(``store.ATOMIC_BATCH_MAX``): a round of more places is refused, never half stored."""


def window_closes(policy: CampusEntryPolicy, semester: Semester) -> date:
    """The first day after the semester's declaration window: a round may be held from then."""
    if semester.term is Term.AUTUMN:
        year, month = semester.year, policy.autumn_declaration_month
    else:  # the window for a spring is in the year before (December for the coming spring)
        year, month = semester.year - 1, policy.spring_declaration_month
    return date(year + month // 12, month % 12 + 1, 1)


def priority_of(request: ActivityRequested) -> str:
    return request.basis_level.value if request.basis_level else OTHER


def ranked(candidates: Iterable[ActivityRequested]) -> list[ActivityRequested]:
    """The candidates in the order the round decides them: by priority, then by activity id."""
    return sorted(candidates, key=lambda r: (PRIORITIES.index(priority_of(r)), str(r.activity_id)))


def candidates_of(semester: str, events: Iterable[object]) -> list[ActivityRequested]:
    """The round's candidates among activity events read from the log: the semester's regular
    declarations made in the window that no decision followed."""
    requested: dict[UUID, ActivityRequested] = {}
    decided: set[UUID] = set()
    for event in events:
        if isinstance(event, ActivityRequested):
            if (event.target_semester == semester and event.route is Route.REGULAR and event.in_window):
                requested.setdefault(event.activity_id, event)
        elif isinstance(event, DECISIONS):
            decided.add(event.activity_id)
    return [request for key, request in requested.items() if key not in decided]


class CertificationRound:
    aggregate_type = CertificationRoundDecided.aggregate_type

    def __init__(self, semester: str) -> None:
        self.semester = semester
        self.decided: CertificationRoundDecided | None = None  # its first part, once stored
        self.stored_parts: list[CertificationRoundDecided] = []

    @classmethod
    def from_events(cls, semester: str, events: Iterable[object]) -> CertificationRound:
        certification_round = cls(semester)
        for event in events:
            if isinstance(event, CertificationRoundDecided):
                certification_round.stored_parts.append(event)
                if event.part == 1:
                    certification_round.decided = event
        return certification_round

    @property
    def places(self) -> tuple[RoundPlace, ...]:
        """Every place of the stored round, in rank order, read back from its parts."""
        parts = sorted(self.stored_parts, key=lambda part: part.part)
        return tuple(place for part in parts for place in part.places)

    def require_open(self, today: date, policy: CampusEntryPolicy, calendar: SchoolCalendar) -> None:
        """Refuse a round that is not due: held already, window still open, or semester over."""
        semester = Semester.parse(self.semester)
        if self.decided is not None:
            raise Refused(ErrorCode.INVALID_STATE, f"the {self.semester} round was decided on "
                          f"{self.decided.decided_on}: one round per semester", "semester")
        opens = window_closes(policy, semester)
        if today < opens:
            raise Refused(ErrorCode.INVALID_STATE, f"the declaration window for {self.semester} is open until "
                          f"{opens}: the round is held after it closes", "semester")
        last = calendar.span(semester).last
        if today >= last:
            raise Refused(ErrorCode.INVALID_STATE, f"{self.semester} ends on {last}: too late for its round", "semester")

    def decide(self, candidates: Iterable[ActivityRequested], rejections: Iterable[RoundRejection], today: date,
               note: str = "") -> CertificationRoundDecided:
        """The round: every candidate in rank order, those the bureau rejects marked."""
        order = ranked(candidates)
        refused = _checked(rejections, {request.activity_id for request in order})
        places = tuple(RoundPlace(activity_id=request.activity_id, rank=rank, priority=priority_of(request),
                                  rejected_by_bureau=request.activity_id in refused)
                       for rank, request in enumerate(order, 1))
        return CertificationRoundDecided(semester=self.semester, decided_on=today, places=places, note=note)


def in_parts(decided: CertificationRoundDecided) -> list[CertificationRoundDecided]:
    """The round as it is stored: parts of ``ROUND_PART_PLACES`` places, at most ``ROUND_MAX_PARTS``."""
    places = decided.places
    starts = range(0, max(len(places), 1), ROUND_PART_PLACES)
    if len(starts) > ROUND_MAX_PARTS:
        raise Refused(ErrorCode.INVALID_STATE, f"{len(places)} candidates: a round holds at most "
                      f"{ROUND_MAX_PARTS * ROUND_PART_PLACES} places", "semester")
    return [decided.model_copy(update={"places": places[start:start + ROUND_PART_PLACES], "part": n,
                                       "parts": len(starts), "offset": start, "place_count": len(places)})
            for n, start in enumerate(starts, 1)]


def _checked(rejections: Iterable[RoundRejection], candidates: set[UUID]) -> set[UUID]:
    """The ids the bureau rejects; each must be a candidate of the round, named once."""
    seen: set[UUID] = set()
    for index, rejection in enumerate(rejections):
        if rejection.activity_id not in candidates:
            raise Refused(ErrorCode.INVALID_FIELD, f"{rejection.activity_id} is not an undecided regular declaration "
                          "of this semester's window", f"rejections.{index}.activity_id")
        if rejection.activity_id in seen:
            raise Refused(ErrorCode.INVALID_FIELD, f"{rejection.activity_id} is named twice",
                          f"rejections.{index}.activity_id")
        seen.add(rejection.activity_id)
    return seen
