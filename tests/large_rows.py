"""The largest read-model rows the schemas allow, for the paging tests and the worst case the
compliance README documents."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from jianfu.compliance.domain.detector import Entry, Ground, item_key, unauthorized_campus_entry
from jianfu.events.schemas.campus_entry import ActivityHeldReported

from tests.factories import POLICY

OUTSIDER, SCHOOL, BUREAU = "外" * 100, "s" * 63, "e" * 63  # an outside unit's longest name, org ids at their longest
NAMES = {SCHOOL: "校" * 30}  # directory names at the longest the README assumes
CAP = POLICY.campus_entry.items_per_school_per_semester
APPLIED = "2026-autumn"


def violation_row(sequence: int, semester: str, title: str) -> dict:
    """An outside unit's entry as the detector charges it, from a report with a max-length title
    and the longest name a school may give: the largest row of the register (the summary and the
    evidence hold the title, the party, issue key and item key the name)."""
    report = ActivityHeldReported(report_id=uuid.uuid4(), school_id=SCHOOL, organizer_org_id=None,
                                  organizer_name=OUTSIDER, activity_id=None, title=title, held_on=date(2026, 10, 20),
                                  semester=semester, participants=1, teacher_hours=1.0)
    found = unauthorized_campus_entry(report, str(uuid.uuid4()), Entry(item_key(report), Ground.UNREGISTERED_UNIT),
                                      NAMES, BUREAU)
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
