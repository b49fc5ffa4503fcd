"""S3: the education bureau imports the region's catalogue over the running services, and with
``jianfu catalogue import`` from the file as published (CSV or XLSX)."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from jianfu.approvals.catalogue_handlers import IMPORT_MAX_PAYLOAD_BYTES
from jianfu.cli.catalogue import COLUMNS
from jianfu.cli.client import JianfuClient
from jianfu.events import catalogue
from jianfu.events.schemas.regional_catalogue import CATALOGUE_ROWS

BUREAU, POLICE = "edu-bureau", "dept-public-security"
PUBLISHED = Path(__file__).parent.parent / "data" / "campus_entry_list_rows.csv"
JIANFU = str(Path(sys.executable).parent / "jianfu")


def published_rows() -> list[dict[str, str]]:
    with PUBLISHED.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.DictReader(file))


def importing(rows=None, **fields) -> dict:
    return {"command_id": str(uuid.uuid4()), "title": f"自治区中小学进校园活动目录 {uuid.uuid4().hex[:6]}",
            "in_force_from": "2026-09-01", "rows": rows if rows is not None else published_rows(), **fields}


@pytest.fixture
def client(nc, services) -> JianfuClient:
    return JianfuClient(nc, timeout=10.0)


async def latest_edition(store) -> dict:
    history = await store.load("regional_catalogue", "region")
    return history.events[-1].envelope if history.events else None


async def test_s3_bureau_imports_the_catalogue_as_the_next_edition(client, store):
    before = await latest_edition(store)
    reply = await client.command(BUREAU, "approvals", "ImportRegionalCatalogue", importing())
    assert reply["ok"] is True, reply
    assert reply["edition"] == (before.data["edition"] + 1 if before else 1) and reply["item_count"] == 16
    assert "区级人民法院" in reply["unknown_organisers"] and "区公安分局" not in reply["unknown_organisers"]
    stored = catalogue.parse(await latest_edition(store))
    assert stored.edition == reply["edition"] and stored.items[0].item_id == f"rc-{reply['edition']}-1"
    assert stored.items[0].organizer_org_ids[0] == "dept-public-security"


async def test_s3_only_the_education_bureau_imports_the_catalogue(client):
    reply = await client.command(POLICE, "approvals", "ImportRegionalCatalogue", importing())
    assert reply["ok"] is False and reply["error"]["code"] == "FORBIDDEN"


async def test_s3_a_retried_import_answers_the_same_and_the_same_catalogue_again_is_refused(client, store):
    command = importing()
    first = await client.command(BUREAU, "approvals", "ImportRegionalCatalogue", command)
    retried = await client.command(BUREAU, "approvals", "ImportRegionalCatalogue", command)
    assert first["ok"] and (retried["edition"], retried["sequence"]) == (first["edition"], first["sequence"])
    again = await client.command(BUREAU, "approvals", "ImportRegionalCatalogue",
                                 {**command, "command_id": str(uuid.uuid4())})
    assert again["ok"] is False and again["error"]["code"] == "INVALID_STATE"
    assert (await latest_edition(store)).data["edition"] == first["edition"]


def rows_of_size(total_bytes: int) -> list[dict[str, str]]:
    """``CATALOGUE_ROWS`` rows whose import body is about ``total_bytes``."""
    base = {column: "" for column in COLUMNS} | {"item_name": "法治进校园", "organizer": "区公安分局、区司法局"}
    empty = len(json.dumps(importing([base] * CATALOGUE_ROWS), ensure_ascii=False).encode())
    per_row = (total_bytes - empty) // CATALOGUE_ROWS // 3  # a CJK character is 3 bytes in UTF-8
    return [base | {"content": "宣" * min(per_row, 1000)}] * CATALOGUE_ROWS


async def test_s3_a_catalogue_of_300_long_rows_imports_beyond_the_64_kib_of_other_commands(client, store):
    command = importing(rows_of_size(IMPORT_MAX_PAYLOAD_BYTES - 2048))
    size = len(json.dumps(command, ensure_ascii=False).encode())
    assert 64 * 1024 < size <= IMPORT_MAX_PAYLOAD_BYTES
    reply = await client.command(BUREAU, "approvals", "ImportRegionalCatalogue", command)
    assert reply["ok"] is True and reply["item_count"] == CATALOGUE_ROWS, reply
    assert len((await latest_edition(store)).data["items"]) == CATALOGUE_ROWS


async def test_s3_an_import_beyond_its_own_limit_is_refused_as_too_large(client):
    command = importing(rows_of_size(IMPORT_MAX_PAYLOAD_BYTES + 4096))
    assert len(json.dumps(command, ensure_ascii=False).encode()) > IMPORT_MAX_PAYLOAD_BYTES
    reply = await client.command(BUREAU, "approvals", "ImportRegionalCatalogue", command)
    assert reply["ok"] is False and reply["error"]["code"] == "PAYLOAD_TOO_LARGE"


async def jianfu(*args: str, nats_url: str) -> subprocess.CompletedProcess:
    """The CLI as a process; in a thread, so the services of this event loop can answer it."""
    env = {**os.environ, "JIANFU_NATS_URL": nats_url, "JIANFU_LOG_LEVEL": "WARNING"}
    env.pop("JIANFU_NATS_USER", None)
    return await asyncio.to_thread(subprocess.run, [JIANFU, *args], env=env, capture_output=True, text=True,
                                   timeout=120)


async def cli_import(path: Path, nats_url: str) -> subprocess.CompletedProcess:
    return await jianfu("catalogue", "import", str(path), "--title", f"自治区目录 {uuid.uuid4().hex[:6]}",
                  "--in-force-from", "2026-09-01", nats_url=nats_url)


async def test_s3_cli_imports_every_published_row_without_hand_editing(nats_server, services, store, tmp_path):
    with_bom = tmp_path / "catalogue.csv"
    with_bom.write_bytes(b"\xef\xbb\xbf" + PUBLISHED.read_bytes())  # as spreadsheet programs save CSV
    result = await cli_import(with_bom, nats_server.url)
    assert result.returncode == 0, result.stdout + result.stderr
    reply = json.loads(result.stdout)
    assert reply["ok"] is True and reply["item_count"] == len(published_rows()) == 16
    items = catalogue.parse(await latest_edition(store)).items
    assert [item.item_name for item in items] == [row["item_name"] for row in published_rows()]
    assert items[0].max_per_year == 2  # "每年1-2次"
    haizhou = [item for item in items if item.source.startswith("海州区")]
    assert haizhou and all(item.max_per_year == 1 for item in haizhou)  # "1" a year, period "全年"


async def test_s3_cli_imports_an_xlsx_as_it_imports_the_csv(nats_server, services, store, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append([*COLUMNS, "序号"])  # a column the catalogue does not have is left out
    for n, row in enumerate(published_rows(), 1):
        cells = [row[column] for column in COLUMNS]
        cells[COLUMNS.index("frequency")] = 1 if row["frequency"] == "1" else row["frequency"]  # a number cell
        cells[COLUMNS.index("item_name")] = row["item_name"].replace("进校园", "\n进校园", 1)  # a wrapped cell
        sheet.append([*cells, n])
    sheet.append([None] * len(COLUMNS))  # a trailing empty row
    path = tmp_path / "catalogue.xlsx"
    workbook.save(path)

    result = await cli_import(path, nats_server.url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "序号" in result.stderr
    items = catalogue.parse(await latest_edition(store)).items
    assert len(items) == 16 and items[10].frequency == "1" and items[10].max_per_year == 1
    assert [item.item_name.replace(" ", "") for item in items] == [row["item_name"] for row in published_rows()]


async def test_s3_cli_exits_1_with_the_refusal_when_the_import_is_refused(nats_server, services, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text(",".join(COLUMNS) + "\n", encoding="utf-8")
    result = await cli_import(path, nats_server.url)
    assert result.returncode == 1 and json.loads(result.stdout)["error"]["code"] == "INVALID_FIELD"
