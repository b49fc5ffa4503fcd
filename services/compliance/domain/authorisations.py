"""What each organizer may bring into each school in a semester (S3): a table of authorisations
that the read model and the detector both keep, each in its own copy, with this one fold.

An authorisation is a certified (集中认定) or exempt (备案) activity at one of its schools. A
report names the item it held by its activity id, or by its title, which picks the first
authorisation of that organizer with the same normalised title (``detector.item_key``).
"""

from __future__ import annotations

from jianfu.compliance.domain.detector import Authorisation
from jianfu.compliance.domain.folding import Batch, Fact, Need
from jianfu.events.schemas.campus_entry import ActivityCertified, ActivityExemptionRecorded, ActivityHeldReported

TABLE = "authorisations"
KEY = ("semester", "school_id", "organizer_org_id", "activity_id")


def decided_semester(fact: Fact) -> str:
    """The semester a decision is for: in its data, or (decisions recorded before decisions were
    events of their activity) the id of the semester aggregate it was stored on."""
    return fact.data.semester or fact.aggregate_id


def admission_needs(fact: Fact):
    """The rows an admission may add: one per school of its listing."""
    event: ActivityCertified | ActivityExemptionRecorded = fact.data
    for school_id in event.listing.school_ids:
        yield Need(TABLE, (decided_semester(fact), school_id, event.applicant_org_id, str(event.activity_id)))


def record_admission(batch: Batch, fact: Fact) -> None:
    """Authorise the activity at each of its schools; a second admission of it changes nothing."""
    event: ActivityCertified | ActivityExemptionRecorded = fact.data
    rows = batch[TABLE]
    for school_id in event.listing.school_ids:
        key = (decided_semester(fact), school_id, event.applicant_org_id, str(event.activity_id))
        if rows.get(*key) is None:
            rows.put({**dict(zip(KEY, key, strict=True)), "title": event.listing.title,
                      "decided_sequence": fact.sequence})


def report_needs(report: ActivityHeldReported) -> Need:
    """Every authorisation of the report's organizer at its school in its semester."""
    return Need(TABLE, (report.semester, report.school_id, report.organizer_org_id))


def authorisations(batch: Batch, report: ActivityHeldReported) -> list[Authorisation]:
    """The organizer's activities admitted at the report's school this semester, in the order
    they were decided (the first of two with one title names the item)."""
    rows = batch[TABLE].group(report.semester, report.school_id, report.organizer_org_id)
    return [Authorisation(row["activity_id"], row["organizer_org_id"], row["semester"],
                          frozenset({row["school_id"]}), row["title"])
            for row in sorted(rows, key=lambda row: (row["decided_sequence"], row["activity_id"]))]
