"""docs/policy.md says only what the code does: its numbers are policy.toml's, the refusal codes
it lists are exactly the ones the software knows, and the names it calls reserved are. No I/O."""

from __future__ import annotations

import calendar
import re
import uuid
from datetime import date
from pathlib import Path

import pytest
from jianfu.approvals.domain.campus_entry_activity import CampusEntryActivity
from jianfu.events.catalogue import EVENT_TYPES, RESERVED_EVENT_TYPES
from jianfu.events.errors import RefusalCode
from jianfu.events.schemas.campus_entry import ActivityRejected, ActivityRequested, Route
from jianfu.events.schemas.secondments import SecondmentRefusalCode

from tests.factories import POLICY, SCHOOLS, application

DOC = (Path(__file__).parents[2] / "docs" / "policy.md").read_text(encoding="utf-8")
S3_TABLE = DOC.split("## S3", 1)[1].split("\n## ", 1)[0]
S7_TABLE = DOC.split("## S7", 1)[1].split("\n## ", 1)[0]
S9_TABLE = DOC.split("## S9", 1)[1].split("\n## ", 1)[0]
PLAN = (Path(__file__).parents[2] / "docs" / "source" / "plan-2021-08-20.txt").read_text(encoding="utf-8")
BUREAU_ROW = next(line for line in S3_TABLE.splitlines() if line.startswith("| The bureau refuses with a code"))


def codes(text: str) -> set[str]:
    return set(re.findall(r"`([A-Z][A-Z_]+)`", text))


def test_s3_the_cap_and_the_declaration_months_in_the_doc_are_those_of_policy_toml():
    policy = POLICY.campus_entry
    assert f"Per-school cap per semester ({policy.items_per_school_per_semester})" in S3_TABLE
    autumn, spring = calendar.month_name[policy.autumn_declaration_month], calendar.month_name[policy.spring_declaration_month]
    assert f"Regular declarations in {autumn} (for autumn) and {spring} (for spring)" in S3_TABLE
    assert policy.exempt_categories == ("city_creation", "central_government_work", "regional_catalogue")
    assert "(city creation, central government work, the region's catalogue)" in S3_TABLE


def test_s3_the_doc_quotes_the_clause_as_the_plan_says_it():
    plan = (Path(__file__).parents[2] / "docs" / "source" / "plan-2021-08-20.txt").read_text(encoding="utf-8")
    quoted = next(line for line in S3_TABLE.splitlines() if line.startswith("> 3. "))[2:]
    assert quoted.startswith("3. 各级党政机关") and quoted in plan.splitlines()


def test_s3_the_city_creation_allowance_in_the_doc_is_that_of_policy_toml():
    assert f"the school year's allowance ({POLICY.campus_entry.city_creation_per_school_year})" in S3_TABLE
    assert f"`city_creation_per_school_year`, {POLICY.campus_entry.city_creation_per_school_year})" in S3_TABLE


def test_s3_the_doc_names_every_refusal_code_the_software_knows_and_no_other():
    assert codes(S3_TABLE) == {code.value for code in RefusalCode}


def requested() -> ActivityRequested:
    form = application()
    form.pop("command_id")
    return ActivityRequested(**form, activity_id=uuid.uuid4(), applicant_org_id="dept-public-security",
                             route=Route.REGULAR, declared_on=date(2026, 7, 10), in_window=True,
                             school_ids=tuple(SCHOOLS[:2]))


@pytest.mark.parametrize("code", sorted(codes(BUREAU_ROW)))
def test_s3_the_bureau_refuses_with_each_code_the_doc_lists(code):
    rejected = CampusEntryActivity(requested()).reject(RefusalCode(code), "不符合进校园要求").decision
    assert isinstance(rejected, ActivityRejected)
    assert (rejected.refusal_code, rejected.automatic) == (code, False)


@pytest.mark.parametrize("name", ["TeacherSeconded", "MeetingScheduled"])
def test_s7_s9_the_events_the_system_is_known_by_are_in_the_catalogue_and_no_longer_reserved(name):
    assert name in EVENT_TYPES and name not in RESERVED_EVENT_TYPES


def test_s1_inspection_approved_is_the_supervision_offices_approval_in_the_catalogue():
    assert "`InspectionApproved` is in it as the supervision\noffice's approval of an S1 item" in DOC
    assert "InspectionApproved" in EVENT_TYPES and "InspectionApproved" not in RESERVED_EVENT_TYPES


@pytest.mark.parametrize("number", ["7", "8", "9", "10"])
def test_s7_to_s10_the_doc_quotes_each_clause_as_the_plan_says_it(number):
    quoted = next(line for line in DOC.splitlines() if line.startswith(f"> {number}. "))[2:]
    assert quoted in PLAN.splitlines()


def test_s7_the_limits_in_the_doc_are_those_of_policy_toml():
    policy = POLICY.secondment
    assert f"(`max_days`, {policy.max_days})" in S7_TABLE
    assert f"(fewer than `renewal_gap_days`, {policy.renewal_gap_days},\ndays apart)" in S7_TABLE
    assert f"`notice_days_before_end` ({policy.notice_days_before_end})" in S7_TABLE
    assert f"longer than {policy.max_days} days (`max_days`)" in S7_TABLE
    assert policy.approver_kind == "hr_bureau" and "the HR bureau" in S7_TABLE


def test_s7_the_doc_names_every_secondment_refusal_code_and_no_other():
    assert codes(S7_TABLE.split("| rule |", 1)[0]) == {code.value for code in SecondmentRefusalCode}


def test_s9_s10_the_thresholds_in_the_doc_are_those_of_policy_toml():
    policy = POLICY.meetings
    assert f"`sub_venue_above_participants` ({policy.sub_venue_above_participants})" in S9_TABLE
    assert f"`sub_venue_beyond_km` ({policy.sub_venue_beyond_km:g})" in S9_TABLE
    assert f"`non_education_per_teacher_per_semester` ({policy.non_education_per_teacher_per_semester})" in S9_TABLE
    assert f"more than {policy.sub_venue_above_participants} participants from schools more than " \
           f"{policy.sub_venue_beyond_km:g} km" in S9_TABLE


def test_g2_the_doc_quotes_the_clause_and_its_thresholds_are_those_of_policy_toml():
    g2 = DOC.split("## G2", 1)[1]
    quoted = next(line for line in g2.splitlines() if line.startswith("> "))[2:]
    assert "三令五申" in quoted and quoted in PLAN.splitlines()
    policy = POLICY.escalation
    assert f"within {policy.repeat_window_months} months" in g2 and f"({policy.rectification_working_days} working days)" in g2
    assert f"after {policy.warnings_before_circulation} warnings" in g2
    assert policy.circulation_number_format.format(year="<year>", number="<n>") in g2
