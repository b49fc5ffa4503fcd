"""What each organizer may bring into each school in a semester (S3): a table of authorisations
that the read model and the detector both keep, each in its own copy, with this one fold.

The published list decides (S3: 公布认定的进校园活动清单). An item admits its organizer at each
school of its row in the *latest edition published whole*: a certification that has not been
published yet admits nobody, and once edition 2 corrects edition 1, edition 2 is what admits. An
exempt item (备案) needs no publication: it admits from the day it was recorded. Rows are kept per
edition (``edition`` 0 for exemptions), so a later edition still arriving part by part does not
disturb the one in force.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from jianfu.compliance.domain.detector import Authorisation
from jianfu.compliance.domain.editions import count_part_in
from jianfu.compliance.domain.folding import Batch, Fact, Need, utc
from jianfu.events.frequency import Frequency
from jianfu.events.schemas.campus_entry import (
    ActivityExemptionRecorded,
    ActivityHeldReported,
    ListedActivity,
    SemesterListPublished,
)

TABLE = "authorisations"
KEY = ("semester", "school_id", "organizer_org_id", "activity_id", "edition")
LISTS, EDITIONS = "semester_lists", "semester_list_editions"
LIST_KEYS = {LISTS: ("semester",), EDITIONS: ("semester", "edition")}
EXEMPT_EDITION = 0
BUSINESS_TIME = ZoneInfo("Asia/Shanghai")


def business_day(moment: datetime) -> date:
    """The day something was stored, as the district counts days (Asia/Shanghai)."""
    return moment.astimezone(BUSINESS_TIME).date()


def decided_semester(fact: Fact) -> str:
    """The semester a decision is for: in its data, or (decisions recorded before decisions were
    events of their activity) the id of the semester aggregate it was stored on."""
    return fact.data.semester or fact.aggregate_id


# SemesterListPublished: an edition, part by part; in force once its last part is in.

def list_part_needs(fact: Fact):
    part: SemesterListPublished = fact.data
    yield Need(EDITIONS, (part.semester, part.edition))
    yield Need(LISTS, (part.semester,))
    for item in part.items:
        for school_id in item.school_ids:
            yield Need(TABLE, (part.semester, school_id, item.organizer_org_id, str(item.activity_id), part.edition))


def record_list_part(batch: Batch, fact: Fact) -> None:
    """Count the part in; its items admit from the day the edition is published whole."""
    part: SemesterListPublished = fact.data
    published_on = business_day(fact.occurred_at)
    for item in part.items:
        _admit(batch, part.semester, item, part.edition, published_on, fact.sequence)
    stamp = {"item_count": part.item_count if part.item_count is not None else len(part.items),
             "published_at": utc(fact.occurred_at), "event_id": fact.event_id, "sequence": fact.sequence}
    count_part_in(batch, EDITIONS, LISTS, {"semester": part.semester}, part, stamp, stamp)


# ActivityExemptionRecorded: admits at once, without publication (无须申报).

def exemption_needs(fact: Fact):
    event: ActivityExemptionRecorded = fact.data
    for school_id in event.listing.school_ids:
        yield Need(TABLE, (decided_semester(fact), school_id, event.applicant_org_id, str(event.activity_id),
                           EXEMPT_EDITION))


def record_exemption(batch: Batch, fact: Fact) -> None:
    event: ActivityExemptionRecorded = fact.data
    _admit(batch, decided_semester(fact), event.listing, EXEMPT_EDITION, business_day(fact.occurred_at), fact.sequence)


def sessions_allowed(item: ListedActivity) -> int | None:
    """Entries per school in the semester the row admits: the occurrences the application asked
    for, within the frequency's bound (none for rows listed before these columns existed)."""
    bounds = [n for n in (Frequency(item.max_per_year, item.max_per_semester).semester_bound, item.occurrences)
              if n is not None]
    return min(bounds) if bounds else None


def _admit(batch: Batch, semester: str, item: ListedActivity, edition: int, admitted_on: date, sequence: int) -> None:
    rows = batch[TABLE]
    allowed = sessions_allowed(item)
    for school_id in item.school_ids:
        key = (semester, school_id, item.organizer_org_id, str(item.activity_id), edition)
        if rows.get(*key) is None:  # a part seen again (a replay) changes nothing
            rows.put({**dict(zip(KEY, key, strict=True)), "title": item.title, "start_date": item.start_date,
                      "end_date": item.end_date, "admitted_on": admitted_on, "sessions_allowed": allowed,
                      "exempt_category": item.exempt_category.value if item.exempt_category else None,
                      "decided_sequence": sequence})


# A school's report: what admits its organizer there now.

def report_needs(report: ActivityHeldReported):
    """Every authorisation of the report's organizer at its school in its semester, and which
    edition of the semester's list is in force."""
    if report.organizer_org_id is not None:
        yield Need(TABLE, (report.semester, report.school_id, report.organizer_org_id))
    yield Need(LISTS, (report.semester,))


def authorisations(batch: Batch, report: ActivityHeldReported) -> list[Authorisation]:
    """The organizer's items that admit it at the report's school this semester: those of the
    list edition in force and its exemptions, in the order they were admitted (the first of two
    with one title names the item)."""
    if report.organizer_org_id is None:
        return []
    listed = batch[LISTS].get(report.semester)
    in_force = {EXEMPT_EDITION, listed["edition"] if listed else None}
    rows = [row for row in batch[TABLE].group(report.semester, report.school_id, report.organizer_org_id)
            if row["edition"] in in_force]
    return [Authorisation(row["activity_id"], row["organizer_org_id"], row["semester"], frozenset({row["school_id"]}),
                          row["title"], row["start_date"], row["end_date"], row["admitted_on"],
                          row["sessions_allowed"], row["exempt_category"])
            for row in sorted(rows, key=lambda row: (row["decided_sequence"], row["activity_id"]))]
