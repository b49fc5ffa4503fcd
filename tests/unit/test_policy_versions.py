"""Policy versions: the file keeps earlier versions, and each day has the version in force on it.

DOMAIN.md: policy parameters are versioned per year, so a fact is judged by the version in force
when it happened. No I/O beyond writing the policy files under test to tmp_path.
"""

from __future__ import annotations

import tomllib
from datetime import date, timedelta
from pathlib import Path

import pytest
from jianfu.events.policy import CampusEntryPolicy, EscalationPolicy, Policy
from jianfu.events.settings import REFERENCE
from pydantic import ValidationError

from tests.factories import POLICY

DOC = (Path(__file__).parents[2] / "docs" / "policy.md").read_text(encoding="utf-8")
VERSIONS_SECTION = DOC.split("## Policy versions", 1)[1].split("\n## ", 1)[0]

# Two earlier versions, then the current one; each earlier one leaves out a section (defaults).
THREE_VERSIONS = """\
version = "dawukou-2025.1"
in_force_from = 2025-08-20

[campus_entry]
items_per_school_per_semester = 3

[escalation]
warnings_before_circulation = 2

[[previous]]
version = "dawukou-2021.1"
in_force_from = 2021-08-20

[previous.campus_entry]
items_per_school_per_semester = 5

[[previous]]
version = "dawukou-2023.1"
in_force_from = 2023-08-20

[previous.escalation]
warnings_before_circulation = 5
"""
FIRST, SECOND, CURRENT = date(2021, 8, 20), date(2023, 8, 20), date(2025, 8, 20)
DAY = timedelta(days=1)


def load(tmp_path: Path, text: str) -> Policy:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return Policy.load(path)


@pytest.fixture
def policy(tmp_path) -> Policy:
    return load(tmp_path, THREE_VERSIONS)


def test_the_top_level_is_the_current_version_and_keeps_every_attribute(policy):
    assert (policy.version, policy.in_force_from) == ("dawukou-2025.1", CURRENT)
    assert policy.campus_entry.items_per_school_per_semester == 3
    assert policy.escalation.warnings_before_circulation == 2


def test_versions_are_listed_oldest_first_each_whole_with_defaults_for_missing_sections(policy):
    first, second, current = policy.versions
    assert [v.version for v in policy.versions] == ["dawukou-2021.1", "dawukou-2023.1", "dawukou-2025.1"]
    assert current is policy
    assert (first.campus_entry.items_per_school_per_semester, first.escalation) == (5, EscalationPolicy())
    assert (second.campus_entry, second.escalation.warnings_before_circulation) == (CampusEntryPolicy(), 5)
    assert first.previous == second.previous == ()
    assert policy.plan_in_force_from == FIRST


@pytest.mark.parametrize(("day", "expected"), [
    (FIRST - DAY, None),
    (FIRST, "dawukou-2021.1"),
    (FIRST + DAY, "dawukou-2021.1"),
    (SECOND - DAY, "dawukou-2021.1"),
    (SECOND, "dawukou-2023.1"),
    (SECOND + DAY, "dawukou-2023.1"),
    (CURRENT - DAY, "dawukou-2023.1"),
    (CURRENT, "dawukou-2025.1"),
    (CURRENT + DAY, "dawukou-2025.1"),
    (date(2099, 1, 1), "dawukou-2025.1"),
])
def test_s3_the_cap_a_fact_is_judged_by_is_that_of_the_version_in_force_on_its_day(policy, day, expected):
    """S3: the per-school cap can change from one year's version to the next; a fact is judged by
    the version whose in_force_from is the latest on or before its day, and by none before the plan."""
    found = policy.in_force_on(day)
    assert (found.version if found else None) == expected


def test_s3_each_version_brings_its_own_cap(policy):
    """S3: the cap in force on a day is that day's version's, not the current one's."""
    caps = [policy.in_force_on(day).campus_entry.items_per_school_per_semester for day in (FIRST, SECOND, CURRENT)]
    assert caps == [5, CampusEntryPolicy().items_per_school_per_semester, 3]


def test_the_shipped_file_holds_one_version_in_force_from_the_plan():
    assert POLICY.versions == (POLICY,)
    assert POLICY.in_force_on(POLICY.in_force_from - DAY) is None
    assert POLICY.in_force_on(POLICY.in_force_from) is POLICY
    assert POLICY.plan_in_force_from == POLICY.in_force_from
    assert "The shipped file holds one version" in VERSIONS_SECTION


def test_the_commented_example_in_the_shipped_file_loads_as_it_says():
    """The example's [[previous]] block, uncommented, under the top it describes, gives two versions."""
    text = (REFERENCE / "policy.toml").read_text(encoding="utf-8")
    example = text[text.index("# [[previous]]"):]
    block = "\n".join(line.removeprefix("#").removeprefix(" ") for line in example.splitlines())
    data = tomllib.loads(text) | {"version": "dawukou-2027.1", "in_force_from": date(2027, 8, 20)}
    data["campus_entry"] = data["campus_entry"] | {"items_per_school_per_semester": 3}
    policy = Policy.model_validate(data | tomllib.loads(block))
    assert [v.version for v in policy.versions] == [POLICY.version, "dawukou-2027.1"]
    assert policy.in_force_on(date(2027, 8, 19)).campus_entry == POLICY.campus_entry
    assert policy.in_force_on(date(2027, 8, 20)).campus_entry.items_per_school_per_semester == 3


REFUSALS = {
    "a name twice": (THREE_VERSIONS.replace('"dawukou-2023.1"', '"dawukou-2021.1"'),
                     r"version names must be unique, and 'dawukou-2021.1' appears more than once"),
    "the current name reused": (THREE_VERSIONS.replace('"dawukou-2023.1"', '"dawukou-2025.1"'),
                                r"version names must be unique, and 'dawukou-2025.1'"),
    "previous versions out of order": (THREE_VERSIONS.replace("2023-08-20", "2020-08-20"),
                                       r"previous versions must be listed oldest first.*'dawukou-2021.1' is in force "
                                       r"from 2021-08-20, 'dawukou-2023.1' from 2020-08-20"),
    "two previous versions on one day": (THREE_VERSIONS.replace("2023-08-20", "2021-08-20"),
                                         r"previous versions must be listed oldest first, each in force strictly"),
    "the current one not the latest": (THREE_VERSIONS.replace("2025-08-20", "2022-08-20"),
                                       r"the current \(top-level\) version must be the latest.*'dawukou-2023.1' is in "
                                       r"force from 2023-08-20, 'dawukou-2025.1' from 2022-08-20"),
    "the current one on the day of the last previous one": (THREE_VERSIONS.replace("2025-08-20", "2023-08-20"),
                                                            r"the current \(top-level\) version must be the latest"),
    "a previous version with previous versions of its own": (
        THREE_VERSIONS + '\n[[previous.previous]]\nversion = "dawukou-2019.1"\nin_force_from = 2019-08-20\n',
        r"previous version 'dawukou-2023.1' holds a `previous` of its own"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_file_whose_versions_do_not_form_one_timeline_is_refused_at_load(tmp_path, case):
    text, message = REFUSALS[case]
    with pytest.raises(ValidationError, match=message):
        load(tmp_path, text)


def test_the_doc_names_each_refusal():
    for words in ("two versions share a name", "not strictly earlier than the next", "the current one is not the latest",
                  "holds a `previous` of its own"):
        assert words in " ".join(VERSIONS_SECTION.split())


def test_a_misspelled_key_is_refused_rather_than_ignored(tmp_path):
    """A `[[previos]]` table silently ignored would judge every fact by the current version (S3 cap)."""
    path = tmp_path / "policy.toml"
    path.write_text('version = "v2"\nin_force_from = 2026-08-20\n[[previos]]\nversion = "v1"\n'
                    'in_force_from = 2021-08-20\n', encoding="utf-8")
    with pytest.raises(ValidationError):
        Policy.load(path)
    path.write_text('version = "v2"\n[campus_entry]\nitems_per_school_per_semster = 3\n', encoding="utf-8")
    with pytest.raises(ValidationError):
        Policy.load(path)


def test_a_report_under_an_earlier_version_is_accepted_from_the_plan_s_first_day():
    """S3: reports are accepted from the day the plan took effect, the earliest version's date."""
    policy = Policy.model_validate({"version": "v2", "in_force_from": date(2027, 8, 20), "previous": [
        {"version": "v1", "in_force_from": date(2021, 8, 20)}]})
    assert policy.plan_in_force_from == date(2021, 8, 20) and policy.in_force_from == date(2027, 8, 20)
