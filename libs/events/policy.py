"""Policy parameters, loaded from a versioned TOML file (``reference/policy.toml``).

Every number the rules use lives here and nowhere else; each field cites its clause.
"""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

from jianfu.events.semesters import Semester, Term
from pydantic import BaseModel, ConfigDict, Field


class CampusEntryPolicy(BaseModel):
    """S3: social affairs entering campus."""

    model_config = ConfigDict(frozen=True)

    autumn_declaration_month: int = Field(7, ge=1, le=12, description="S3: July, for autumn")
    spring_declaration_month: int = Field(12, ge=1, le=12, description="S3: December, for spring")
    items_per_school_per_semester: int = Field(4, ge=1, description="S3: cap per school")
    exempt_categories: tuple[str, ...] = Field(
        ("city_creation", "central_government_work", "regional_catalogue"),
        description="S3: recorded without declaration or certification, but counted",
    )

    def window_target(self, declared_on: date) -> Semester | None:
        """The semester a regular declaration made on this day is for, or None outside the window."""
        if declared_on.month == self.autumn_declaration_month:
            return Semester(declared_on.year, Term.AUTUMN)
        if declared_on.month == self.spring_declaration_month:
            return Semester(declared_on.year + 1, Term.SPRING)
        return None


class EscalationPolicy(BaseModel):
    """G2: the escalation ladder."""

    model_config = ConfigDict(frozen=True)

    warnings_before_circulation: int = Field(3, ge=1)
    repeat_window_months: int = Field(12, ge=1)
    rectification_working_days: int = Field(10, ge=1)


class Policy(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: str = Field(description="Recorded as `policy_version` on every event.")
    in_force_from: date = Field(date(2021, 8, 20), description="The day the plan took effect: what happened "
                                "before it is not reported to or judged by this system.")
    campus_entry: CampusEntryPolicy = CampusEntryPolicy()
    escalation: EscalationPolicy = EscalationPolicy()

    @classmethod
    def load(cls, path: Path) -> Policy:
        return cls.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
