"""The S3 detector as a batch fold over state of its own: it keeps, from the events it reads,
what each organizer may bring into each school (``authorisations``) and the distinct authorised
items each school held (``items``: what the cap counts), and judges every school's report against them as they stood at the
report's place in the log, by the policy version in force on the day the activity was held.

It writes no read model: it emits ``ViolationDetected`` decisions for the log, with ids that
follow from the facts (``detector.py``), so judging the same report again (a restart, a
second detector) decides the same and appends nothing new.
"""

from __future__ import annotations

from collections.abc import Mapping

from jianfu.compliance.domain import authorisations
from jianfu.compliance.domain.detector import counts_towards_the_cap, detect, item_key
from jianfu.compliance.domain.folding import Batch, Fact, Need, On, Projection
from jianfu.events.policy import Policy
from jianfu.events.schemas.campus_entry import (
    ActivityCertified,
    ActivityExemptionRecorded,
    ActivityHeldReported,
)

ITEMS = "items"
KEYS = {authorisations.TABLE: authorisations.KEY, ITEMS: ("semester", "school_id", "item_key")}


def s3_detection(policy: Policy, names: Mapping[str, str]) -> Projection:
    """The detector for ``policy`` (with its earlier versions); ``names`` words the summaries."""

    def held(batch: Batch, fact: Fact) -> None:
        report: ActivityHeldReported = fact.data
        in_force = policy.in_force_on(report.held_on)
        if in_force is None:
            return  # before the plan: not judged
        admitted = authorisations.authorisations(batch, report)
        items = batch[ITEMS]
        held_before = {row["item_key"] for row in items.group(report.semester, report.school_id)}
        cap = in_force.campus_entry.items_per_school_per_semester
        for violation in detect(report, fact.event_id, admitted, held_before, cap, names):
            batch.emit(violation, fact, in_force.version)
        key = item_key(report, admitted)
        if key not in held_before and counts_towards_the_cap(report, admitted):
            items.put({"semester": report.semester, "school_id": report.school_id, "item_key": key,
                       "first_report_id": str(report.report_id)})

    def held_needs(fact: Fact):
        report: ActivityHeldReported = fact.data
        return (authorisations.report_needs(report), Need(ITEMS, (report.semester, report.school_id)))

    admission = On(authorisations.admission_needs, authorisations.record_admission)
    return Projection("s3_detection", KEYS, {
        ActivityCertified.__name__: admission,
        ActivityExemptionRecorded.__name__: admission,
        ActivityHeldReported.__name__: On(held_needs, held),
    })
