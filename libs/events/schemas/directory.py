"""The district's directory as a public query: integrators need the organisation ids that name
subjects (``jf.cmd.<org_id>...``) and the school ids that scope an activity."""

from __future__ import annotations

from typing import ClassVar

from jianfu.events.organisations import OrgKind
from jianfu.events.schemas.base import Query
from pydantic import Field


class ListOrganisations(Query):
    """Every organisation of the district with its id, name and kind; readable by every
    organisation. Answers ``{"district", "organisations": [{"org_id", "name", "kind"}]}``."""

    context: ClassVar[str] = "compliance"

    kind: OrgKind | None = Field(default=None, description="Only organisations of this kind, e.g. school.")
