"""S3 violation rules applied to a school's report of an activity held on its campus.

The published list decides what may enter (S3): an entry is admitted by an item of the list
edition in force (or an exemption) of the same organizer at that school, the same item (its
activity id, or its title when the school gave none), held on or after the day the list admitted
it, within the item's dates and no more often than its frequency allows. An entry the school says
was exempt from declaration (无须申报) is admitted when the claim holds: an item of the region's
catalogue that names the organizer, or city creation within its yearly allowance. Anything else is
an ``UnauthorizedCampusEntry``, with the ground it failed on; a unit outside the directory is
charged as ``unregistered unit: <name>`` and routed to the education bureau.

The detector is a pure function of the report and of what the log held up to the report's place
in the stream, so judging the same stream twice reaches the same decisions with the same
deterministic violation ids, and each violation is recorded exactly once.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from jianfu.events.region_catalogue import organiser_names
from jianfu.events.schemas.campus_entry import ActivityHeldReported, ExemptCategory
from jianfu.events.schemas.compliance import RULE_CLAUSE, Rule, ViolationDetected, unregistered_unit, violation_id
from jianfu.events.schemas.regional_catalogue import CatalogueItem
from jianfu.events.titles import normalise_title


@dataclass(frozen=True)
class Authorisation:
    """An item that admits its organizer at the listed schools in the semester (S3): a row of
    the published list in force, or an exemption recorded."""

    activity_id: str
    organizer_org_id: str
    semester: str
    school_ids: frozenset[str]
    title: str = ""
    start_date: date | None = None
    end_date: date | None = None
    admitted_on: date | None = None
    sessions_allowed: int | None = None
    exempt_category: str | None = None


class Ground(StrEnum):
    """Why an entry was not admitted: the evidence names it, the summary words it."""

    NOT_ON_LIST = "not_on_list"
    TITLE_NOT_ON_LIST = "title_not_on_list"
    BEFORE_ADMISSION = "before_admission"
    OUTSIDE_DATES = "outside_dates"
    BEYOND_FREQUENCY = "beyond_frequency"
    EXEMPTION_UNSUPPORTED = "exemption_unsupported"
    UNREGISTERED_UNIT = "unregistered_unit"


GROUND_WORDS = {
    Ground.NOT_ON_LIST: "不在区教体局公布的进校园活动清单上",
    Ground.TITLE_NOT_ON_LIST: "该单位在清单上的项目中没有此项活动",
    Ground.BEFORE_ADMISSION: "开展日期早于清单公布（或备案）之日",
    Ground.OUTSIDE_DATES: "开展日期不在清单所列的活动时间内",
    Ground.BEYOND_FREQUENCY: "超出清单所列的活动频次",
    Ground.EXEMPTION_UNSUPPORTED: "所称免申报事项不在自治区进校园活动目录中，或目录未列该单位",
    Ground.UNREGISTERED_UNIT: "开展单位不在本区单位名录中，未经申报、认定",
}


@dataclass(frozen=True)
class Entry:
    """What the detector makes of a report: which item it is (what the cap counts), on what day,
    and, if it is not admitted, why."""

    key: str
    ground: Ground | None = None
    exempt_category: str | None = None

    @property
    def admitted(self) -> bool:
        return self.ground is None


def matching(report: ActivityHeldReported, authorisations: Iterable[Authorisation]) -> Authorisation | None:
    """The item the report names: by activity id, or else the first with the same normalised title."""
    if report.activity_id is not None:
        return next((a for a in authorisations if a.activity_id == str(report.activity_id)), None)
    title = normalise_title(report.title)
    return next((a for a in authorisations if normalise_title(a.title) == title), None)


def item_key(report: ActivityHeldReported, authorisations: Iterable[Authorisation] = ()) -> str:
    """What counts as one item towards the per-school cap (S3): the listed item the report names,
    else the activity id it gave, else organizer (or outside unit) and normalised title."""
    found = matching(report, authorisations)
    if found is not None:
        return found.activity_id
    if report.activity_id is not None:
        return str(report.activity_id)
    return _bounded(f"{responsible(report)}:{normalise_title(report.title)}")


KEY_LENGTH = 200


def _bounded(key: str) -> str:
    """The key as is, or (longer than ``KEY_LENGTH``, as a title NFKC expands may be) its start
    and a digest of the whole, so it fits the tables' key columns and stays distinct."""
    if len(key) <= KEY_LENGTH:
        return key
    return f"{key[:KEY_LENGTH - 41]}~{hashlib.sha256(key.encode()).hexdigest()[:40]}"


def responsible(report: ActivityHeldReported) -> str:
    """Who answers for the entry: the organizer's org id, or ``unregistered unit: <name>``, the
    name as one unit however it was typed (two members of staff reporting "宁夏 红十字会" and
    "宁夏红十字会" reported one unit, so one violation and one escalation)."""
    return report.organizer_org_id or unregistered_unit(unit_name(report.organizer_name))


_SPACE_BY_WIDE = re.compile(r"\s+(?=[^\x00-\x7f])|(?<=[^\x00-\x7f])\s+")


def unit_name(name: str) -> str:
    """A typed unit name in one spelling: full-width letters and spaces as ASCII, no space beside
    a CJK character, runs of other spaces as one ("Red  Cross" stays two words). Only characters
    NFKC writes as one character are folded: a name never grows (``ﷺ`` would be 18 characters)."""
    folded = "".join(_one_character(char) for char in name)
    return _SPACE_BY_WIDE.sub("", " ".join(folded.split()))


def _one_character(char: str) -> str:
    folded = unicodedata.normalize("NFKC", char)
    return folded if len(folded) == 1 else char


def lists_unit(item: CatalogueItem, report: ActivityHeldReported) -> bool:
    """Whether the catalogue item names the report's unit: a directory unit by org id, a unit
    outside the directory (the catalogue's provincial bodies) by its name."""
    if report.organizer_org_id is not None:
        return report.organizer_org_id in item.organizer_org_ids
    typed = normalise_title(report.organizer_name)
    return any(normalise_title(name) == typed for name in organiser_names(item.organizer))


def listed_entry(report: ActivityHeldReported, item: Authorisation, sessions_before: Collection[date]) -> Entry:
    """An entry of a listed (or recorded exempt) item: admitted on its day, within its dates and
    its frequency. A second report of a day already held is the same session."""
    held = report.held_on
    if item.admitted_on is not None and held < item.admitted_on:
        ground = Ground.BEFORE_ADMISSION
    elif item.start_date is not None and not item.start_date <= held <= (item.end_date or held):
        ground = Ground.OUTSIDE_DATES
    elif (item.sessions_allowed is not None and held not in sessions_before
          and len(set(sessions_before)) >= item.sessions_allowed):
        ground = Ground.BEYOND_FREQUENCY
    else:
        ground = None
    return Entry(item.activity_id, ground, item.exempt_category)


def claimed_entry(report: ActivityHeldReported, catalogue_item: CatalogueItem | None,
                  sessions_before_this_year: Collection[date]) -> Entry:
    """An entry the school says needed no declaration (S3 无须申报). A regional-catalogue claim
    holds when the catalogue in force names the item and lists the organizer among its units,
    and the entry stays within the item's frequency for the school year; city creation and
    central government work are recorded as claimed (city creation has a yearly allowance,
    checked as a quota)."""
    claim = report.exemption_claim
    key = item_key(report)
    if claim.category is not ExemptCategory.REGIONAL_CATALOGUE:
        return Entry(key, None, claim.category.value)
    if catalogue_item is None or not lists_unit(catalogue_item, report):
        return Entry(key, Ground.EXEMPTION_UNSUPPORTED)
    year_bound = catalogue_item.max_per_year
    if (year_bound is not None and report.held_on not in sessions_before_this_year
            and len(set(sessions_before_this_year)) >= year_bound):
        return Entry(key, Ground.BEYOND_FREQUENCY, claim.category.value)
    return Entry(key, None, claim.category.value)


def judge(report: ActivityHeldReported, authorisations: Collection[Authorisation],
          sessions: Mapping[str, Collection[date]], catalogue_item: CatalogueItem | None = None,
          sessions_this_year: Mapping[str, Collection[date]] | None = None) -> Entry:
    """What the report is: an admitted entry of an item, or an entry not admitted and why.

    ``sessions`` gives the days each item was already held at the school this semester,
    ``sessions_this_year`` the same over the school year (for a catalogue item's yearly bound).
    """
    if report.organizer_org_id is None:
        return _outside_entry(report, catalogue_item, sessions_this_year or {})
    item = matching(report, authorisations)
    if item is not None:
        return listed_entry(report, item, sessions.get(item.activity_id, ()))
    if report.exemption_claim is not None:
        return claimed_entry(report, catalogue_item, (sessions_this_year or {}).get(item_key(report), ()))
    ground = Ground.TITLE_NOT_ON_LIST if authorisations and report.activity_id is None else Ground.NOT_ON_LIST
    return Entry(item_key(report, authorisations), ground)


def _outside_entry(report: ActivityHeldReported, catalogue_item: CatalogueItem | None,
                   sessions_this_year: Mapping[str, Collection[date]]) -> Entry:
    """A unit outside the directory: admitted only on an item of the region's catalogue that
    names it (the provincial bodies the catalogue is made of); otherwise unregistered."""
    claim = report.exemption_claim
    if (claim is not None and claim.category is ExemptCategory.REGIONAL_CATALOGUE and catalogue_item is not None
            and lists_unit(catalogue_item, report)):
        return claimed_entry(report, catalogue_item, sessions_this_year.get(item_key(report), ()))
    return Entry(item_key(report), Ground.UNREGISTERED_UNIT)


def _evidence(report: ActivityHeldReported, report_event_id: str) -> dict:
    return {
        "report_event_id": report_event_id,
        "report_id": str(report.report_id),
        "activity_id": str(report.activity_id) if report.activity_id else None,
        "title": report.title,
        "held_on": report.held_on.isoformat(),
    }


def unauthorized_violation_id(report: ActivityHeldReported) -> str:
    """The id an unauthorised entry gets: the same entry reported twice (by mistake, or by two
    members of staff) is one violation."""
    what = str(report.activity_id) if report.activity_id else normalise_title(report.title)
    return violation_id(Rule.UNAUTHORIZED_CAMPUS_ENTRY, report.school_id, responsible(report),
                        report.held_on.isoformat(), what)


def unauthorized_campus_entry(report: ActivityHeldReported, report_event_id: str, entry: Entry,
                              names: Mapping[str, str] | None = None, bureau_id: str | None = None,
                              ) -> ViolationDetected | None:
    """S3: an activity held at a school that the published list (or an exemption) does not admit."""
    if entry.admitted:
        return None
    names = names or {}
    organizer = names.get(report.organizer_org_id, report.organizer_org_id) if report.organizer_org_id else \
        report.organizer_name
    outside = report.organizer_org_id is None
    return _violation(
        Rule.UNAUTHORIZED_CAMPUS_ENTRY, report, unauthorized_violation_id(report),
        f"{organizer}于{report.held_on.isoformat()}在{names.get(report.school_id, report.school_id)}开展"
        f"“{report.title}”，{GROUND_WORDS[entry.ground]}（S3 社会事务进校园须申报、认定、公布）。",
        {**_evidence(report, report_event_id), "ground": entry.ground.value, "item_key": entry.key},
        routed_to=bureau_id if outside else None,
    )


def campus_entry_quota_exceeded(report: ActivityHeldReported, report_event_id: str, key: str,
                                items_held: Collection[str], cap: int, names: Mapping[str, str] | None = None,
                                ) -> ViolationDetected | None:
    """S3: a new item held at a school that already had ``cap`` items this semester.

    Every item beyond the cap is its own violation, charged to the organizer who brought it;
    an item already held (a second session of it) adds nothing.
    """
    if key in items_held or len(items_held) < cap:
        return None
    rule, organizer, names = Rule.CAMPUS_ENTRY_QUOTA_EXCEEDED, report.organizer_org_id, names or {}
    return _violation(
        rule, report, violation_id(rule, report.school_id, report.semester, key),
        f"{names.get(report.school_id, report.school_id)}本学期（{report.semester}）已有{len(items_held)}项"
        f"进校园活动，{names.get(organizer, organizer)}开展的“{report.title}”超出每校每学期{cap}项的上限（S3）。",
        {**_evidence(report, report_event_id), "item_key": key, "items_before": len(items_held), "cap": cap},
    )


def city_creation_over_allowance(report: ActivityHeldReported, report_event_id: str, key: str,
                                 held_this_year: Collection[str], allowance: int, school_year: int,
                                 names: Mapping[str, str] | None = None) -> ViolationDetected | None:
    """S3: a city-creation entry beyond the school year's allowance (DOMAIN: 1 per school year),
    charged like the cap (``CampusEntryQuotaExceeded``) to the organizer who brought it."""
    if key in held_this_year or len(held_this_year) < allowance:
        return None
    rule, organizer, names = Rule.CAMPUS_ENTRY_QUOTA_EXCEEDED, report.organizer_org_id, names or {}
    return _violation(
        rule, report, violation_id(rule, report.school_id, f"city_creation:{school_year}", key),
        f"{names.get(report.school_id, report.school_id)}本学年（{school_year}）已有{len(held_this_year)}项"
        f"创建类活动，{names.get(organizer, organizer)}开展的“{report.title}”超出每校每学年{allowance}项（S3）。",
        {**_evidence(report, report_event_id), "item_key": key, "items_before": len(held_this_year),
         "cap": allowance, "quota": "city_creation_per_school_year"},
    )


def detect(report: ActivityHeldReported, report_event_id: str, entry: Entry, items_held: Collection[str], cap: int,
           names: Mapping[str, str] | None = None, bureau_id: str | None = None) -> list[ViolationDetected]:
    """The S3 violations an entry reveals, given the distinct admitted items its school held
    before it this semester: an entry not admitted is charged as unauthorised only and takes no
    place in the count (otherwise the next admitted organizer would be charged with the cap:
    issue 8, finding 2); an admitted new item beyond the cap is over it."""
    if not entry.admitted:
        return [unauthorized_campus_entry(report, report_event_id, entry, names, bureau_id)]
    over = campus_entry_quota_exceeded(report, report_event_id, entry.key, items_held, cap, names)
    return [over] if over is not None else []


def _violation(rule: Rule, report: ActivityHeldReported, found_id: str, summary: str, evidence: dict,
               routed_to: str | None = None) -> ViolationDetected:
    """A violation charged to whoever brought the entry, grouped per party and rule (G2 issue)."""
    party = responsible(report)
    return ViolationDetected(
        violation_id=found_id, rule=rule, clause=RULE_CLAUSE[rule], responsible_org_id=party,
        school_id=report.school_id, semester=report.semester, issue_key=f"{party}:{rule.value}",
        summary=summary, evidence=evidence, routed_to=routed_to,
    )
