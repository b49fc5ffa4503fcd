"""Who acts: organisation kinds (DOMAIN.md) and the district's directory of organisations.

The directory is data (``reference/organisations.json`` by default). The org id of a command
comes from its subject, which the broker's permissions tie to the caller; the directory then
tells the org's kind, which decides what it may do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from enum import StrEnum
from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

ORG_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class OrgKind(StrEnum):
    EDUCATION_BUREAU = "education_bureau"
    SUPERVISION_OFFICE = "supervision_office"
    HR_BUREAU = "hr_bureau"
    LEADING_GROUP_OFFICE = "leading_group_office"
    TEACHING_RESEARCH_OFFICE = "teaching_research_office"
    DEPARTMENT = "department"
    STREET_OFFICE = "street_office"
    MASS_ORG = "mass_org"
    SCHOOL = "school"
    TEACHER = "teacher"
    SYSTEM = "system"  # jianfu itself, as the actor of detected violations and issued alerts


SYSTEM_ACTOR_ORG_ID = "jianfu"


class SchoolStage(StrEnum):
    """The stages a school teaches: a list's scope may be primary or middle schools only (S3)."""

    PRIMARY = "primary"
    MIDDLE = "middle"


# S3: "party and government organs and mass organisations" declare campus-entry activities.
DECLARING_KINDS = frozenset(
    {
        OrgKind.DEPARTMENT,
        OrgKind.STREET_OFFICE,
        OrgKind.MASS_ORG,
        OrgKind.SUPERVISION_OFFICE,
        OrgKind.HR_BUREAU,
        OrgKind.LEADING_GROUP_OFFICE,
        OrgKind.TEACHING_RESEARCH_OFFICE,
    }
)


EDUCATION_SYSTEM = frozenset({OrgKind.EDUCATION_BUREAU, OrgKind.TEACHING_RESEARCH_OFFICE, OrgKind.SCHOOL})
"""The education system (教育部门): its training and meetings are the plan's own (S8, S10); a unit
outside it may not require teachers at training, nor at meetings unrelated to teaching."""


class Channels(BaseModel):
    """Where an organisation's alerts go besides its NATS subject (G2): a webhook and/or e-mail.
    Secrets are never in the directory: ``webhook_secret_env`` names the environment variable
    that holds the HMAC key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    webhook_url: str | None = Field(None, pattern=r"^https?://[^\s]+$", max_length=2000)
    webhook_secret_env: str | None = Field(None, pattern=r"^[A-Z][A-Z0-9_]{0,99}$")
    emails: tuple[str, ...] = Field((), max_length=20)


class Organisation(BaseModel):
    model_config = ConfigDict(frozen=True)

    org_id: str
    kind: OrgKind
    name: str = Field(description="Official name, usually Chinese.")
    stages: tuple[SchoolStage, ...] = Field((), description="For a school: the stages it teaches (a nine-year "
                                            "school both).")
    channels: Channels = Field(Channels(), description="Alert channels beside NATS (G2).")

    @field_validator("org_id")
    @classmethod
    def _subject_safe(cls, value: str) -> str:
        if not ORG_ID_PATTERN.match(value):
            raise ValueError("org ids are lower-case letters, digits and dashes")
        return value


class Directory(BaseModel):
    """All organisations of the district, by id."""

    district: str
    organisations: list[Organisation]

    @cached_property
    def _by_id(self) -> dict[str, Organisation]:
        return {org.org_id: org for org in self.organisations}

    def get(self, org_id: str) -> Organisation | None:
        return self._by_id.get(org_id)

    def of_kind(self, kind: OrgKind) -> list[Organisation]:
        return [org for org in self.organisations if org.kind == kind]

    @property
    def school_ids(self) -> list[str]:
        return sorted(org.org_id for org in self.of_kind(OrgKind.SCHOOL))

    def schools_of(self, stages: Iterable[SchoolStage]) -> list[str]:
        """The schools teaching any of ``stages``, sorted."""
        wanted = set(stages)
        return sorted(org.org_id for org in self.of_kind(OrgKind.SCHOOL) if wanted & set(org.stages))

    @cached_property
    def _by_name(self) -> dict[str, Organisation]:
        return {org.name: org for org in self.organisations}

    def named(self, name: str) -> Organisation | None:
        """The organisation with this official name, if the directory has one."""
        return self._by_name.get(name.strip())

    @classmethod
    def load(cls, path: Path) -> Directory:
        return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))
