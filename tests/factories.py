"""Realistic commands and events for tests, built from the district's reference data."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from jianfu.cli import demo
from jianfu.events.organisations import Directory
from jianfu.events.policy import Policy
from jianfu.events.settings import REFERENCE

DIRECTORY = Directory.load(REFERENCE / "organisations.json")
POLICY = Policy.load(REFERENCE / "policy.toml")
SCHOOLS = DIRECTORY.school_ids


def application(**overrides: Any) -> dict[str, Any]:
    """An Attachment 4 form as an integrator would send it (JSON-ready)."""
    form = demo.application("法治进校园：防电信诈骗宣讲", {"school_ids": SCHOOLS[:2], "grades": ["初一", "初二"]},
                            policy_basis="《青少年法治教育大纲》", content="以案说法，讲解电信诈骗常见手段与防范。",
                            end_date="2026-12-15", expected_participants=600, teachers_needed=2, teacher_hours=1.5)
    form.update(overrides)
    return form


def held_report(organizer: str, held_on: str = "2026-10-20", **overrides: Any) -> dict[str, Any]:
    report = {
        "command_id": str(uuid.uuid4()),
        "organizer_org_id": organizer,
        "title": "法治进校园：防电信诈骗宣讲",
        "held_on": held_on,
        "participants": 300,
        "teacher_hours": 1.0,
    }
    report.update(overrides)
    return report


JULY_DAY = date(2026, 7, 10)
