"""S3 exemptions: items exempt from declaration are recorded, not certified, and still counted.

An exemption is checked when it is screened, against what the claim rests on:
- every category counts towards the per-school cap: a full school is not recorded;
- ``city_creation`` is also capped per school and school year
  (``city_creation_per_school_year``): a school that had its city-creation entries of the year is
  not recorded;
- ``regional_catalogue`` must name an item of the region's catalogue edition in force on the day
  it was declared, organised by the applicant; otherwise it is refused (EXEMPTION_UNSUPPORTED).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from jianfu.approvals.domain.school_quota import SchoolQuota
from jianfu.events.errors import RefusalCode
from jianfu.events.region_catalogue import find_item
from jianfu.events.schemas.campus_entry import ActivityRequested, ExemptCategory, RefusedSchool
from jianfu.events.schemas.regional_catalogue import CatalogueItem, RegionalCatalogueImported


@dataclass(frozen=True)
class ExemptionBasis:
    """What an exemption is checked against when it is screened.

    ``other_semester`` holds the quotas of the other semester of the same school year, read but
    never appended to. The city-creation count across a school year is therefore *checked*, not
    guarded: the semester's cap is guarded per school and semester (``school_quota.py``), and one
    aggregate per school year would make every admission of a semester wait on the other. Two
    city-creation items screened at the same moment in the two semesters of a year could both
    pass; the compliance detector judges the entries held against the same count and reports the
    excess, so the check is backed.
    """

    cap: int
    city_creation_per_year: int
    other_semester: Mapping[str, SchoolQuota] = field(default_factory=dict)
    catalogue: RegionalCatalogueImported | None = None


def refused_schools(request: ActivityRequested, quotas: Mapping[str, SchoolQuota], basis: ExemptionBasis,
                    takes_slots: bool) -> tuple[RefusedSchool, ...]:
    """The schools an exemption is not recorded at, and why: full (when it takes slots), or
    their city-creation entries of the school year taken."""
    refused = []
    for school in request.school_ids:
        quota = quotas[school]
        if quota.holds(request.activity_id) or not takes_slots:
            continue
        if not quota.has_room(basis.cap):
            refused.append(RefusedSchool(school_id=school, refusal_code=RefusalCode.QUOTA_EXCEEDED,
                                         reason=f"already has {basis.cap} items in {quota.semester}"))
        elif request.exemption_claim.category is ExemptCategory.CITY_CREATION:
            other = basis.other_semester.get(school)
            used = quota.city_creation_used + (other.city_creation_used if other else 0)
            if used >= basis.city_creation_per_year:
                refused.append(RefusedSchool(
                    school_id=school, refusal_code=RefusalCode.QUOTA_EXCEEDED,
                    reason=f"already had {used} city-creation entr{'y' if used == 1 else 'ies'} in the school year "
                           f"(at most {basis.city_creation_per_year})"))
    return tuple(refused)


def catalogue_item(request: ActivityRequested, catalogue: RegionalCatalogueImported | None
                   ) -> tuple[CatalogueItem | None, str]:
    """The catalogue item a ``regional_catalogue`` claim rests on, or None and why not."""
    reference = request.exemption_claim.reference
    if catalogue is None:
        return None, f"no regional catalogue was in force on {request.declared_on}"
    item = find_item(catalogue.items, reference)
    if item is None:
        return None, f"{reference!r} is not an item of catalogue edition {catalogue.edition} ({catalogue.title})"
    if request.applicant_org_id not in item.organizer_org_ids:
        return None, (f"catalogue item {item.item_id} ({item.item_name}) is organised by "
                      f"{item.organizer or 'no named unit'}, not by {request.applicant_org_id}")
    return item, ""
