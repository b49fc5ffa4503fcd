"""G2: the demo's walk (``jianfu.cli.g2_walk.PLAN``) as planned — what it asks of the ladder holds
by the policy and the directory, before any system runs it (the demo runs it: tests/e2e/test_cli_demo.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from jianfu.cli import g2_walk
from jianfu.cli.demo import PROPOSALS
from jianfu.cli.g2_walk import CIRCULATED, CONFIRMER, PLAN, RECTIFIED, SUPERVISION, G2Walk, report_lines, short_request
from jianfu.cli.teachers_year import SECONDMENTS
from jianfu.events.organisations import OrgKind
from jianfu.events.schemas.inspections import IssueDataRequest
from jianfu.events.working_days import WorkingCalendar

from tests.factories import DIRECTORY, POLICY

LAST_TEACHERS_DAY = date(2027, 7, 20)  # the teachers' year leaves the clock here


def requests_of(unit: str) -> list[g2_walk.Step]:
    return [step for step in PLAN if step.unit == unit and step.action == "short_request"]


def test_g2_walk_every_request_is_too_short_for_s2_whatever_the_hour_it_is_issued():
    """Each request is an S2 ExcessivelyShortDeadline (a valid command, due the next day at noon in
    Shanghai), also when the file clock's day is late in UTC (already the next day in Shanghai)."""
    calendar = WorkingCalendar.of(POLICY.working_days)
    for step in (s for s in PLAN if s.action == "short_request"):
        for day in (step.day or date(2027, 8, 9), date(2027, 8, 6)):
            command = IssueDataRequest.model_validate(short_request(day, step.field))
            for hour in (0, 12, 23):
                issued = datetime.combine(day, time(hour, 59), tzinfo=UTC)
                assert issued < command.deadline
                assert calendar.working_days_between(issued, command.deadline, 2) < (
                    POLICY.inspections.data_request_min_working_days)


def test_g2_walk_asks_each_field_once_so_no_s2_duplicate_comes_besides():
    fields = [step.field for step in PLAN if step.action == "short_request"]
    assert all(fields) and len(set(fields)) == len(fields)


def test_g2_walk_the_circulated_unit_reaches_the_warnings_for_a_circulation_within_the_window():
    policy = POLICY.escalation
    warnings = len(requests_of(CIRCULATED)) - 1 + sum(1 for s in PLAN if s.action == "miss_deadline")
    assert warnings == policy.warnings_before_circulation
    days = [s.day for s in PLAN if s.day]
    assert days == sorted(days) and days[0] > LAST_TEACHERS_DAY
    first = days[0]
    assert days[-1] < first.replace(year=first.year + policy.repeat_window_months // 12)  # 12 months
    assert PLAN[-1].action == "confirm" and PLAN[-1].unit == CONFIRMER


def test_g2_walk_units_are_who_the_ladder_expects():
    """Departments (so the supervision office issues and verifies), the confirmer of the policy's
    kind, and units the demo charges with nothing else (their escalations are the walk's own)."""
    for unit in (CIRCULATED, RECTIFIED):
        assert DIRECTORY.get(unit).kind == OrgKind.DEPARTMENT and DIRECTORY.get(unit).name == g2_walk.NAMES[unit]
    assert DIRECTORY.get(SUPERVISION).kind == OrgKind.SUPERVISION_OFFICE
    assert DIRECTORY.get(CONFIRMER).kind == POLICY.escalation.circulation_confirmer_kind
    others = {unit for unit, _ in PROPOSALS.values()} | {b.unit for b in SECONDMENTS.values()} | {
        "dept-emergency", "dept-health", "dept-public-security", "dept-culture-sports", "dept-culture-tourism"}
    assert not others & {CIRCULATED, RECTIFIED}
    verify = next(i for i, s in enumerate(PLAN) if s.action == "verify")
    report = next(i for i, s in enumerate(PLAN) if s.action == "report")
    assert PLAN[report].unit == RECTIFIED and PLAN[verify].unit == SUPERVISION and report < verify


def test_g2_walk_printout_names_the_unit_its_steps_the_number_and_both_paths():
    walk = G2Walk(steps=[{"event": "ReminderIssued", "day": "2027-07-22", "stage": 1, "rectify_by": "2027-08-05"},
                         {"event": "CirculationConfirmed", "day": "2027-08-10", "stage": 3}],
                  confirmation={"document_number": "大教减负通〔2027〕1号"},
                  documents={"html": "var/demo/circulations/a.html", "pdf": "var/demo/circulations/a.pdf"},
                  rectified_case={"case": {"open": False}})
    text = "\n".join(report_lines(walk))
    for expected in (CIRCULATED, "2027-07-22  reminder (stage 1), rectify_by 2027-08-05", "大教减负通〔2027〕1号",
                     "HTML: var/demo/circulations/a.html", "PDF: var/demo/circulations/a.pdf", "case closed"):
        assert expected in text
