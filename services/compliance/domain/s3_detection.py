"""The S3 detector as a batch fold over state of its own, kept from the events it reads:

- what admits each organizer at each school (``authorisations``, by list edition, and which
  edition is in force: ``semester_lists``, ``semester_list_editions``),
- the distinct admitted items each school held (``items``: what the cap counts) and the days
  each was held (``sessions``: what the frequency counts),
- the region's catalogue, by edition (``catalogue_editions``) and by the names and ids a claim
  may give (``catalogue_items``).

It judges every school's report against them as they stood at the report's place in the log, by
the policy version in force on the day the activity was held. It writes no read model: it emits
``ViolationDetected`` decisions for the log, with ids that follow from the facts (``detector.py``),
so judging the same report again (a restart, a second detector) decides the same and appends
nothing new.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date

from jianfu.compliance.domain import authorisations
from jianfu.compliance.domain.detector import (
    Entry,
    city_creation_over_allowance,
    detect,
    judge,
)
from jianfu.compliance.domain.folding import Batch, Fact, Need, On, Projection
from jianfu.events.policy import Policy
from jianfu.events.schemas.campus_entry import (
    ActivityExemptionRecorded,
    ActivityHeldReported,
    ExemptCategory,
    SemesterListPublished,
)
from jianfu.events.schemas.regional_catalogue import CatalogueItem, RegionalCatalogueImported
from jianfu.events.semesters import Semester, Term
from jianfu.events.titles import normalise_title

ITEMS, SESSIONS = "items", "sessions"
CATALOGUE_EDITIONS, CATALOGUE_ITEMS = "catalogue_editions", "catalogue_items"
REGION = "region"
KEYS = {
    authorisations.TABLE: authorisations.KEY,
    **authorisations.LIST_KEYS,
    ITEMS: ("semester", "school_id", "item_key"),
    SESSIONS: ("semester", "school_id", "item_key", "held_on"),
    CATALOGUE_EDITIONS: ("catalogue", "edition"),
    CATALOGUE_ITEMS: ("catalogue", "lookup", "edition"),
}


def school_year_semesters(semester: str) -> tuple[str, str]:
    """Both semesters of the school year ``semester`` belongs to, autumn first."""
    parsed = Semester.parse(semester)
    autumn = parsed if parsed.term is Term.AUTUMN else parsed.preceding()
    return autumn.id, autumn.following().id


def s3_detection(policy: Policy, names: Mapping[str, str], bureau_id: str | None = None) -> Projection:
    """The detector for ``policy`` (with its earlier versions); ``names`` words the summaries;
    violations by units outside the directory are routed to ``bureau_id``."""

    def held(batch: Batch, fact: Fact) -> None:
        report: ActivityHeldReported = fact.data
        require_storable(report)
        in_force = policy.in_force_on(report.held_on)
        if in_force is None:
            return  # before the plan: not judged
        year = school_year_semesters(report.semester)
        entry = judge(report, authorisations.authorisations(batch, report),
                      _sessions(batch, (report.semester,), report.school_id), _claimed_item(batch, report),
                      _sessions(batch, year, report.school_id))
        for violation in _violations(batch, report, fact, entry, in_force, year):
            batch.emit(violation, fact, in_force.version)
        if entry.admitted:
            _record(batch, report, entry)

    def _violations(batch: Batch, report: ActivityHeldReported, fact: Fact, entry: Entry, in_force: Policy,
                    year: tuple[str, str]):
        held_before = {row["item_key"] for row in batch[ITEMS].group(report.semester, report.school_id)}
        yield from detect(report, fact.event_id, entry, held_before,
                          in_force.campus_entry.items_per_school_per_semester, names, bureau_id)
        if entry.admitted and entry.exempt_category == ExemptCategory.CITY_CREATION.value:
            creations = {row["item_key"] for semester in year for row in batch[ITEMS].group(semester, report.school_id)
                         if row["exempt_category"] == ExemptCategory.CITY_CREATION.value}
            beyond = city_creation_over_allowance(report, fact.event_id, entry.key, creations,
                                                  in_force.campus_entry.city_creation_per_school_year,
                                                  Semester.parse(year[0]).school_year, names)
            if beyond is not None:
                yield beyond

    def held_needs(fact: Fact):
        report: ActivityHeldReported = fact.data
        yield from authorisations.report_needs(report)
        for semester in school_year_semesters(report.semester):
            yield Need(ITEMS, (semester, report.school_id))
            yield Need(SESSIONS, (semester, report.school_id))
        claim = report.exemption_claim
        if claim is not None and claim.category is ExemptCategory.REGIONAL_CATALOGUE:
            yield Need(CATALOGUE_EDITIONS, (REGION,))
            yield Need(CATALOGUE_ITEMS, (REGION, _lookup(claim.reference)))

    return Projection("s3_detection", KEYS, {
        SemesterListPublished.__name__: On(authorisations.list_part_needs, authorisations.record_list_part),
        ActivityExemptionRecorded.__name__: On(authorisations.exemption_needs, authorisations.record_exemption),
        RegionalCatalogueImported.__name__: On(_no_rows_read, _record_catalogue),
        ActivityHeldReported.__name__: On(held_needs, held),
    })


def require_storable(report: ActivityHeldReported) -> None:
    """Refuse to judge a report whose words hold a NUL (stored by hand or before intake refused
    it): no reader can store it, and a violation quoting it would carry the NUL into the log for
    ever. Raising sets the report aside (quarantined), as one that does not validate is."""
    words = (report.title, report.organizer_name, report.organizer_org_id or "",
             report.exemption_claim.reference if report.exemption_claim else "")
    if any("\x00" in word for word in words):
        raise ValueError("the report's text holds a NUL character (U+0000): not judged")


def _no_rows_read(fact: Fact) -> tuple[Need, ...]:
    return ()  # an edition only adds rows


def _sessions(batch: Batch, semesters, school_id: str) -> dict[str, set[date]]:
    """The days each item was held at the school in ``semesters``."""
    days: dict[str, set[date]] = {}
    for semester in semesters:
        for row in batch[SESSIONS].group(semester, school_id):
            days.setdefault(row["item_key"], set()).add(row["held_on"])
    return days


def _record(batch: Batch, report: ActivityHeldReported, entry: Entry) -> None:
    """An admitted entry: the item counts at the school from now on, and its day is a session."""
    place = {"semester": report.semester, "school_id": report.school_id, "item_key": entry.key}
    if batch[ITEMS].get(report.semester, report.school_id, entry.key) is None:
        batch[ITEMS].put({**place, "first_report_id": str(report.report_id), "exempt_category": entry.exempt_category})
    batch[SESSIONS].put({**place, "held_on": report.held_on})


def _record_catalogue(batch: Batch, fact: Fact) -> None:
    """An edition of the region's catalogue, findable by each item's id and by its name. A claim
    names what ``find_item`` finds: an id before a name, the first row of a repeated name."""
    event: RegionalCatalogueImported = fact.data
    batch[CATALOGUE_EDITIONS].put({"catalogue": REGION, "edition": event.edition, "in_force_from": event.in_force_from})
    found: dict[str, CatalogueItem] = {}
    for lookup, item in [*((_lookup(i.item_id), i) for i in event.items), *((_lookup(i.item_name), i) for i in event.items)]:
        found.setdefault(lookup, item)
    for lookup, item in found.items():
        batch[CATALOGUE_ITEMS].put({"catalogue": REGION, "lookup": lookup, "edition": event.edition,
                                    "item": item.model_dump(mode="json")})


def _lookup(reference: str) -> str:
    """A bounded key for an item's id or name as a claim may write it (any width, case, spacing)."""
    return hashlib.sha256(normalise_title(reference).encode()).hexdigest()[:40]


def _claimed_item(batch: Batch, report: ActivityHeldReported) -> CatalogueItem | None:
    """The catalogue item a regional-catalogue claim names, in the edition in force on the day held."""
    claim = report.exemption_claim
    if claim is None or claim.category is not ExemptCategory.REGIONAL_CATALOGUE:
        return None
    editions = [row["edition"] for row in batch[CATALOGUE_EDITIONS].group(REGION)
                if row["in_force_from"] <= report.held_on]
    if not editions:
        return None
    row = batch[CATALOGUE_ITEMS].get(REGION, _lookup(claim.reference), max(editions))
    return CatalogueItem.model_validate(row["item"]) if row else None
