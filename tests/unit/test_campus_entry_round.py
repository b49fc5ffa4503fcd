"""S3 集中认定: the semester's certification round (issue 8, finding 5). The bureau gathers the
window's regular declarations and decides them together after the window, by priority where a
school would exceed its cap, never first come, first served."""

from __future__ import annotations

import itertools
import random
from datetime import date

import pytest
from jianfu.approvals.domain.certification_round import CertificationRound, candidates_of, ranked, window_closes
from jianfu.events.errors import RefusalCode, Refused
from jianfu.events.schemas.campus_entry import (
    ActivityCertified,
    ActivityRejected,
    RoundRejection,
    Route,
)
from jianfu.events.semesters import Semester as SemesterId

from tests.factories import POLICY, SCHOOLS
from tests.unit.test_campus_entry_certification import CAP, Semester, requested, urgent

AUTUMN = "2026-autumn"
AFTER_WINDOW = date(2026, 8, 20)
# Seven declarations for one school whose cap is four, by the level of their policy basis.
LEVELS = ("district", None, "city", "national", "regional", None, "regional")


def seven_for_one_school():
    return [requested(schools=[SCHOOLS[0]], basis_level=level, title=f"进校园活动{n}") for n, level in enumerate(LEVELS)]


def held(s: Semester, arrivals, rejections=()) -> dict:
    """The round over declarations arriving in this order; each decision by activity id."""
    by_id = {request.activity_id: request for request in arrivals}
    decided = CertificationRound(AUTUMN).decide(candidates_of(AUTUMN, arrivals), rejections, AFTER_WINDOW)
    rejected = {rejection.activity_id: rejection for rejection in rejections}
    for place in decided.places:
        s.apply(s.in_round(by_id[place.activity_id], rejected.get(place.activity_id)))
    return {key: s.decided[key] for key in by_id}


def expected_winners(declarations, places: int) -> set:
    order = {"national": 0, "regional": 1, "city": 2, "district": 3, None: 4}
    ranked_ = sorted(declarations, key=lambda r: (order[r.basis_level], str(r.activity_id)))
    return {r.activity_id for r in ranked_[:places]}


def test_s3_a_round_of_seven_for_four_places_is_decided_by_priority_whatever_the_arrival_order():
    """Issue 8: 7 declarations compete for 4 places at one school; national, regional, city,
    district, then the rest, ties by activity id, in every one of the 5,040 arrival orders."""
    declarations = seven_for_one_school()
    winners = expected_winners(declarations, CAP)
    outcomes = set()
    for arrivals in itertools.permutations(declarations):
        decisions = held(Semester(), arrivals)
        certified = frozenset(key for key, d in decisions.items() if isinstance(d, ActivityCertified))
        refused = {d.refusal_code for d in decisions.values() if isinstance(d, ActivityRejected)}
        assert refused == {RefusalCode.QUOTA_EXCEEDED}
        outcomes.add(certified)
    assert outcomes == {frozenset(winners)}
    assert {d.basis_level for d in declarations if d.activity_id in winners} == {"national", "regional", "city"}


def test_s3_exempt_items_hold_their_places_before_the_round_decides_the_rest():
    s = Semester()
    exempt = requested(Route.EXEMPT, schools=[SCHOOLS[0]],
                       exemption_claim={"category": "city_creation", "reference": "全国文明城市创建工作方案"})
    s.apply(s.screen(exempt))
    declarations = seven_for_one_school()
    decisions = held(s, random.Random(8).sample(declarations, len(declarations)))
    certified = {key for key, d in decisions.items() if isinstance(d, ActivityCertified)}
    assert certified == expected_winners(declarations, CAP - 1)
    assert s.quotas[SCHOOLS[0]].used == CAP


def test_s3_the_bureaus_rejections_in_a_round_are_refused_and_leave_their_places_to_the_next():
    declarations = seven_for_one_school()
    national = next(d for d in declarations if d.basis_level == "national")
    rejection = RoundRejection(activity_id=national.activity_id, refusal_code=RefusalCode.ALREADY_IN_CURRICULUM,
                               reason="已纳入综合实践活动课程")
    decisions = held(Semester(), declarations, [rejection])
    refused = decisions[national.activity_id]
    assert (refused.refusal_code, refused.automatic, refused.in_round) == (RefusalCode.ALREADY_IN_CURRICULUM, False, True)
    others = [d for d in declarations if d is not national]
    certified = {key for key, d in decisions.items() if isinstance(d, ActivityCertified)}
    assert certified == expected_winners(others, CAP)
    assert all(decisions[key].in_round for key in certified)


def test_s3_a_round_may_reject_only_its_own_candidates_each_once():
    declarations = seven_for_one_school()

    def rejection(request):
        return RoundRejection(activity_id=request.activity_id, refusal_code=RefusalCode.SCOPE_TOO_BROAD, reason="范围过大")

    for rejections, field in (([rejection(urgent())], "rejections.0.activity_id"),
                              ([rejection(declarations[0])] * 2, "rejections.1.activity_id")):
        with pytest.raises(Refused) as caught:
            CertificationRound(AUTUMN).decide(declarations, rejections, AFTER_WINDOW)
        assert (caught.value.code, caught.value.field) == ("INVALID_FIELD", field)


def test_s3_the_candidates_are_the_semesters_undecided_regular_declarations_made_in_the_window():
    s = Semester()
    regular, late, emergency, decided = requested(), requested(in_window=False), urgent(), requested()
    spring = requested(target_semester="2027-spring", start_date="2027-03-10", end_date="2027-04-10")
    rejection = s.activity(decided).reject(RefusalCode.NOT_STUDENT_FOCUSED, "主体不是学生").decision
    events = [regular, late, emergency, decided, spring, rejection]
    assert [c.activity_id for c in candidates_of(AUTUMN, events)] == [regular.activity_id]


@pytest.mark.parametrize("semester,too_early,first_day", [
    ("2026-autumn", date(2026, 7, 31), date(2026, 8, 1)),    # July declares for autumn
    ("2027-spring", date(2026, 12, 31), date(2027, 1, 1)),   # December declares for spring
])
def test_s3_a_round_is_held_only_after_the_declaration_window_has_closed(semester, too_early, first_day):
    assert window_closes(POLICY.campus_entry, SemesterId.parse(semester)) == first_day
    with pytest.raises(Refused) as caught:
        CertificationRound(semester).require_open(too_early, POLICY.campus_entry, POLICY.school_calendar)
    assert caught.value.code == "INVALID_STATE" and "window" in caught.value.message
    CertificationRound(semester).require_open(first_day, POLICY.campus_entry, POLICY.school_calendar)


def test_s3_a_round_is_held_before_the_semesters_last_day():
    last = POLICY.school_calendar.span(SemesterId.parse(AUTUMN)).last
    with pytest.raises(Refused) as caught:
        CertificationRound(AUTUMN).require_open(last, POLICY.campus_entry, POLICY.school_calendar)
    assert caught.value.code == "INVALID_STATE" and str(last) in caught.value.message


def test_s3_a_semester_has_one_round():
    decided = CertificationRound(AUTUMN).decide(seven_for_one_school(), (), AFTER_WINDOW)
    again = CertificationRound.from_events(AUTUMN, [decided])
    with pytest.raises(Refused) as caught:
        again.require_open(AFTER_WINDOW, POLICY.campus_entry, POLICY.school_calendar)
    assert caught.value.code == "INVALID_STATE" and "one round per semester" in caught.value.message


def test_s3_the_round_records_each_place_and_what_placed_it():
    declarations = seven_for_one_school()
    decided = CertificationRound(AUTUMN).decide(declarations, (), AFTER_WINDOW, note="2026年秋季学期集中认定")
    assert [p.rank for p in decided.places] == list(range(1, 8))
    assert [p.priority for p in decided.places] == [
        "national", "regional", "regional", "city", "district", "other", "other"]
    assert [p.activity_id for p in decided.places] == [r.activity_id for r in ranked(declarations)]
