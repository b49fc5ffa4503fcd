"""An application's row in Attachment 3 (S3): every column real published lists carry, read from
the application form (Attachment 4) and the directory.

The delivery mode says whether the item brings the unit's people onto campus at all: only
``entry`` does. A ``school_run`` item (the lead unit supplies resources, schools run it
themselves) or an ``online`` one costs teachers' time but is no outside entry, so it takes no
slot of a school's cap (``takes_slots``).
"""

from __future__ import annotations

from jianfu.events.frequency import parse_frequency
from jianfu.events.organisations import Directory, SchoolStage
from jianfu.events.schemas.campus_entry import (
    ActivityRequested,
    DeliveryMode,
    ExemptCategory,
    ListedActivity,
    Scope,
)

ALL_SCHOOLS = "全区中小学校"
STAGE_WORDS = {SchoolStage.PRIMARY: "全区小学", SchoolStage.MIDDLE: "全区中学"}


def takes_slots(delivery: DeliveryMode) -> bool:
    """S3: only an outside entry counts towards a school's cap; school-run and online items do not."""
    return delivery is DeliveryMode.ENTRY


def listing_of(request: ActivityRequested, directory: Directory, schools: tuple[str, ...] | None = None,
               exempt_category: ExemptCategory | None = None, catalogue_item_id: str | None = None,
               catalogue_max: tuple[int | None, int | None] = (None, None)) -> ListedActivity:
    """The application's row for ``schools`` (all it asked for by default). Its maxima are the
    form's, else the catalogue item's (``catalogue_max``: per year, per semester), else read from
    the frequency text."""
    organizer = directory.get(request.applicant_org_id)
    frequency = parse_frequency(request.frequency)
    return ListedActivity(
        activity_id=request.activity_id,
        title=request.title,
        organizer_org_id=request.applicant_org_id,
        organizer_name=organizer.name if organizer else request.applicant_org_id,
        route=request.route,
        form=request.form,
        frequency=request.frequency,
        start_date=request.start_date,
        end_date=request.end_date,
        school_ids=request.school_ids if schools is None else schools,
        policy_basis=request.policy_basis,
        content=request.content,
        scope=scope_in_words(request.scope, directory),
        grades=request.scope.grades,
        delivery=request.delivery,
        occurrences=request.occurrences,
        max_per_year=_first(request.max_per_year, catalogue_max[0], frequency.per_year),
        max_per_semester=_first(request.max_per_semester, catalogue_max[1], frequency.per_semester),
        exempt_category=exempt_category,
        catalogue_item_id=catalogue_item_id,
    )


def scope_in_words(scope: Scope, directory: Directory) -> str:
    """The scope as a published list writes it: 全区中小学校, 全区小学, 全区中学 or the named
    schools, with the sample share when only a sample of them takes part."""
    if scope.all_schools:
        stages = set(scope.stages)
        words = STAGE_WORDS[stages.pop()] if len(stages) == 1 else ALL_SCHOOLS
    else:
        words = "、".join(_name(directory, school) for school in scope.school_ids)
    if scope.sample_share is not None:
        words += f"（抽取{scope.sample_share:.0%}）"
    return words


def _name(directory: Directory, org_id: str) -> str:
    org = directory.get(org_id)
    return org.name if org else org_id


def _first(*values: int | None) -> int | None:
    return next((value for value in values if value is not None), None)
