"""The largest read-model rows the schemas allow, for the paging tests and the worst case the
compliance README documents."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from jianfu.compliance.domain.detector import campus_entry_quota_exceeded, item_key
from jianfu.events.schemas.campus_entry import ActivityHeldReported

from tests.factories import POLICY

ORGANIZER, SCHOOL = "d" * 63, "s" * 63  # org ids at their longest
NAMES = {ORGANIZER: "区" * 30, SCHOOL: "校" * 30}  # directory names at the longest the README assumes
CAP = POLICY.campus_entry.items_per_school_per_semester
APPLIED = "2026-autumn"


def violation_row(sequence: int, semester: str, title: str) -> dict:
    """A quota violation built by the detector from a report with a max-length title: the
    largest row of the register (the summary, the evidence and the item key all hold the title)."""
    report = ActivityHeldReported(report_id=uuid.uuid4(), school_id=SCHOOL, organizer_org_id=ORGANIZER,
                                  activity_id=None, title=title, held_on=date(2026, 10, 20), semester=semester,
                                  participants=1, teacher_hours=1.0)
    found = campus_entry_quota_exceeded(report, str(uuid.uuid4()), item_key(report) + str(sequence),
                                        [f"item-{n}" for n in range(CAP)], CAP, NAMES)
    return {**found.model_dump(mode="json", exclude={"violation_id"}), "violation_id": f"v-{sequence:032x}",
            "occurred_at": datetime(2026, 10, 20, tzinfo=UTC) + timedelta(seconds=sequence),
            "event_id": str(uuid.uuid4()), "sequence": sequence}


def application_row(sequence: int | None, activity_id: str, status: str) -> dict:
    """An application at the schema's max lengths: a 200-character title and a 2,000-character
    refusal reason (ActivityRejected carries the bureau's reason)."""
    return {"semester": APPLIED, "activity_id": activity_id, "applicant_org_id": "dept-public-security",
            "title": "法治进校园" * 40, "route": "regular", "declaration_type": "regular", "in_window": True,
            "declared_on": date(2026, 7, 10), "status": status,
            "refusal_code": "SCOPE_TOO_BROAD" if status == "rejected" else None,
            "refusal_reason": "范围过大" * 500 if status == "rejected" else None, "automatic": False,
            "exempt_category": None, "requested_sequence": sequence, "decided_sequence": None}
