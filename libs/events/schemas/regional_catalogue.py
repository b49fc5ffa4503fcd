"""The autonomous region's catalogue of campus-entry items (S3: 自治区中小学进校园活动目录):
a list published by a higher level, imported as published, against which exemption claims are
checked. Each import is a new edition of aggregate ``regional_catalogue.region``; the latest
edition in force on a day is the one claims of that day are checked against."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from jianfu.events.organisations import SchoolStage
from jianfu.events.schemas.base import Command, EventData
from jianfu.events.schemas.campus_entry import DeliveryMode
from jianfu.events.schemas.text import Line, Text
from pydantic import BaseModel, ConfigDict, Field

CATALOGUE_AGGREGATE_ID = "region"
CATALOGUE_ROWS = 300
"""Rows per import: a region's catalogue holds tens of items. What bounds the stored event is the
import command's own payload limit (512 KiB, ``catalogue_handlers``), which keeps it inside NATS's
1 MB payload; 300 rows of the longest allowed text would not fit that limit and are refused."""


class CatalogueRow(BaseModel):
    """One row as published (the columns of ``campus_entry_list_rows.csv``); empty cells are ``""``."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    source: Line(0, 100) = ""
    year: Line(0, 20) = ""
    level: Line(0, 40) = ""
    item_name: Line(2, 300)
    organizer: Line(0, 300) = ""
    period_or_time: Line(0, 200) = ""
    frequency: Line(0, 100) = ""
    content: Text(0, 1000) = ""
    form: Line(0, 300) = ""
    scope: Line(0, 300) = ""
    basis: Text(0, 500) = ""


class ImportRegionalCatalogue(Command):
    """The education bureau imports the region's catalogue as published (a CSV or XLSX read by
    ``jianfu catalogue import``); it replaces the edition before it from ``in_force_from``."""

    context: ClassVar[str] = "approvals"

    title: Line(2, 200) = Field(description="e.g. 宁夏回族自治区中小学进校园活动目录（2024年）")
    in_force_from: date
    rows: tuple[CatalogueRow, ...] = Field(min_length=1, max_length=CATALOGUE_ROWS)


class CatalogueItem(CatalogueRow):
    """A row of the catalogue with what the system reads from it."""

    item_id: str = Field(description="`rc-<edition>-<row>`: the row's place in its edition, from 1.")
    organizer_org_ids: tuple[str, ...] = Field(description="The directory's units named in `organizer`.")
    max_per_year: int | None = Field(description="Read from `frequency` (and `period_or_time`).")
    max_per_semester: int | None
    stages: tuple[SchoolStage, ...] = Field(description="Read from `scope`; none: every stage.")
    delivery: DeliveryMode = DeliveryMode.ENTRY


class RegionalCatalogueImported(EventData):
    aggregate_type: ClassVar[str] = "regional_catalogue"

    edition: int = Field(ge=1)
    title: str
    in_force_from: date
    items: tuple[CatalogueItem, ...]
