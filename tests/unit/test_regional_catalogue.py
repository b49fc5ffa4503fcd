"""S3: the autonomous region's catalogue is data. Its rows are read as published (organisers,
frequency, stages, delivery) and each import is an edition in force from its date."""

from __future__ import annotations

import csv
import json
import uuid
from datetime import date
from pathlib import Path

import pytest
from jianfu.approvals.domain.regional_catalogue import RegionalCatalogue
from jianfu.events.commands import Router
from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.organisations import OrgKind, SchoolStage
from jianfu.events.region_catalogue import (
    delivery_of,
    find_item,
    items_from_rows,
    organiser_names,
    stages_of,
    unknown_organisers,
)
from jianfu.events.schemas.campus_entry import DeliveryMode, PublishSemesterList
from jianfu.events.schemas.regional_catalogue import CatalogueRow, ImportRegionalCatalogue

from tests.factories import DIRECTORY

PUBLISHED = Path(__file__).parent.parent / "data" / "campus_entry_list_rows.csv"


def published_rows() -> list[CatalogueRow]:
    with PUBLISHED.open(encoding="utf-8-sig", newline="") as file:
        return [CatalogueRow(**row) for row in csv.DictReader(file)]


def row(**cells) -> CatalogueRow:
    return CatalogueRow(**{"item_name": "法治进校园", **cells})


def importing(rows=None, title="宁夏回族自治区中小学进校园活动目录（2026年）", in_force_from=date(2026, 9, 1)):
    return ImportRegionalCatalogue(command_id=uuid.uuid4(), title=title, in_force_from=in_force_from,
                                   rows=tuple(rows or published_rows()))


def test_s3_every_published_row_reads_as_a_catalogue_item():
    rows = published_rows()
    items = items_from_rows(rows, 3, DIRECTORY)
    assert [item.item_id for item in items] == [f"rc-3-{n}" for n in range(1, len(rows) + 1)]
    assert [item.item_name for item in items] == [r.item_name for r in rows]  # kept as published
    law = items[0]
    assert law.organizer_org_ids == ("dept-public-security", "dept-court", "dept-procuratorate", "dept-justice")
    assert (law.max_per_year, law.max_per_semester) == (2, None)  # "每年1-2次": twice a year
    haizhou = next(item for item in items if item.source.startswith("海州区"))
    assert (haizhou.frequency, haizhou.period_or_time, haizhou.max_per_year) == ("1", "全年", 1)
    assert all(item.stages == () and item.delivery is DeliveryMode.ENTRY for item in items)


def test_s3_organisers_split_on_list_separators_and_resolve_by_directory_name():
    assert organiser_names("区公安分局、区人民法院,区司法局，团区委/区妇联；区科协") == (
        "区公安分局", "区人民法院", "区司法局", "团区委", "区妇联", "区科协")
    [item] = items_from_rows([row(organizer="区公安分局、 区 妇联 ，区红十字会、区公安分局")], 1, DIRECTORY)
    # a name typed with spaces resolves; a unit named twice counts once; an outsider resolves to none
    assert item.organizer_org_ids == ("dept-public-security", "womens-federation")
    [item] = items_from_rows([row(organizer="区公安分局／区科协")], 1, DIRECTORY)
    assert item.organizer_org_ids == ("dept-public-security", "science-association")


def test_s3_organisers_outside_the_directory_are_named_for_the_bureau():
    rows = published_rows()
    unknown = unknown_organisers(rows, DIRECTORY)
    assert "区级人民法院" in unknown and "文化旅游和广播电视局" in unknown
    assert "区公安分局" not in unknown and len(unknown) == len(set(unknown))


@pytest.mark.parametrize(("scope", "stages"), [
    ("全区中小学校", ()), ("", ()), ("全区小学", (SchoolStage.PRIMARY,)), ("小学三至六年级", (SchoolStage.PRIMARY,)),
    ("全区中学", (SchoolStage.MIDDLE,)), ("初中、高中", (SchoolStage.MIDDLE,)), ("小学和初中", ()),
])
def test_s3_scope_text_limits_an_item_to_school_stages(scope, stages):
    assert stages_of(scope) == stages


@pytest.mark.parametrize(("form", "content", "mode"), [
    ("讲座、主题班队会等", "", DeliveryMode.ENTRY),
    ("牵头单位提供资源，学校自行组织", "", DeliveryMode.SCHOOL_RUN),
    ("主题班会", "由各校自主开展", DeliveryMode.SCHOOL_RUN),
    ("线上答题", "", DeliveryMode.ONLINE),
    ("网络直播课", "", DeliveryMode.ONLINE),
    ("线上线下结合", "", DeliveryMode.ENTRY),
    ("宣讲、演练", "防电信网络诈骗", DeliveryMode.ENTRY),  # the topic, not the delivery, is online
])
def test_s3_delivery_mode_is_read_from_form_and_content(form, content, mode):
    assert delivery_of(row(form=form, content=content)) is mode


def test_s3_an_exemption_claim_finds_its_item_by_id_or_by_name_as_typed():
    items = items_from_rows(published_rows(), 2, DIRECTORY)
    assert find_item(items, "rc-2-4") is items[3]
    assert find_item(items, " 垃圾分类 进校园 ") is items[7]
    assert find_item(items, "“绿书签行动”系列宣传活动") is next(i for i in items if "绿书签" in i.item_name)
    assert find_item(items, "rc-1-4") is None and find_item(items, "消防器材商业推介") is None
    assert find_item(items, "") is None


def test_s3_each_import_is_the_next_edition():
    catalogue = RegionalCatalogue()
    first = catalogue.import_edition(importing(), DIRECTORY)
    catalogue.apply(first)
    second = catalogue.import_edition(importing(rows=published_rows()[:3]), DIRECTORY)
    assert (first.edition, second.edition) == (1, 2)
    assert len(first.items) == 16 and second.items[0].item_id == "rc-2-1"


def test_s3_importing_the_latest_edition_again_is_refused():
    catalogue = RegionalCatalogue.from_events([RegionalCatalogue().import_edition(importing(), DIRECTORY)])
    with pytest.raises(Refused) as refused:
        catalogue.import_edition(importing(), DIRECTORY)
    assert refused.value.code == ErrorCode.INVALID_STATE
    # the same rows in force from another day are another publication
    assert catalogue.import_edition(importing(in_force_from=date(2027, 3, 1)), DIRECTORY).edition == 2


def test_s3_claims_are_checked_against_the_edition_in_force_that_day():
    catalogue = RegionalCatalogue()
    for command in (importing(in_force_from=date(2026, 9, 1)),
                    importing(rows=published_rows()[:5], in_force_from=date(2027, 3, 1)),
                    importing(rows=published_rows()[:4], in_force_from=date(2026, 10, 1))):  # a correction
        catalogue.apply(catalogue.import_edition(command, DIRECTORY))
    assert catalogue.in_force_on(date(2026, 8, 31)) is None
    assert catalogue.in_force_on(date(2026, 9, 15)).edition == 1
    assert catalogue.in_force_on(date(2026, 12, 1)).edition == 3
    assert catalogue.in_force_on(date(2027, 3, 1)).edition == 3  # the correction is the latest edition


async def test_s3_one_command_may_carry_more_than_the_router_limit_and_no_other():
    """A catalogue import carries a whole catalogue: its route has a limit of its own."""
    async def ok(command, caller):
        return {}

    router = Router("approvals", DIRECTORY, max_payload_bytes=1024)
    router.add(PublishSemesterList, ok, {OrgKind.EDUCATION_BUREAU})
    router.add(ImportRegionalCatalogue, ok, {OrgKind.EDUCATION_BUREAU}, max_payload_bytes=8192)
    big = json.dumps({"command_id": str(uuid.uuid4()), "title": "自治区目录", "in_force_from": "2026-09-01",
                      "rows": [{"item_name": "法治进校园", "content": "长" * 300}] * 4}).encode()
    assert 1024 < len(big) < 8192
    assert (await router.dispatch("jf.cmd.edu-bureau.approvals.ImportRegionalCatalogue", big))["ok"] is True
    other = json.dumps({"command_id": str(uuid.uuid4()), "semester": "2026-autumn", "pad": "x" * 2000}).encode()
    reply = await router.dispatch("jf.cmd.edu-bureau.approvals.PublishSemesterList", other)
    assert reply["error"]["code"] == "PAYLOAD_TOO_LARGE"
    reply = await router.dispatch("jf.cmd.edu-bureau.approvals.ImportRegionalCatalogue", big + b" " * 8192)
    assert reply["error"]["code"] == "PAYLOAD_TOO_LARGE"
