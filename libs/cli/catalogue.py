"""``jianfu catalogue import FILE``: the education bureau imports the region's catalogue (S3) as
published, a CSV (UTF-8, with or without BOM) or an XLSX (first sheet), header row first, in the
columns of a published list: source, year, level, item_name, organizer, period_or_time,
frequency, content, form, scope, basis. Rows import as they stand: cells are read as text
(a count of 1 stays "1"), line breaks inside one-line columns become spaces, empty rows are
skipped and columns the catalogue does not have are left out (and named on stderr).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import uuid
from datetime import date, datetime
from pathlib import Path

import typer
from jianfu.cli.client import JianfuClient
from jianfu.events.connection import connect
from jianfu.events.organisations import OrgKind
from jianfu.events.schemas.regional_catalogue import CatalogueRow, ImportRegionalCatalogue
from jianfu.events.settings import Settings

app = typer.Typer(help="The autonomous region's catalogue of campus-entry items (S3).", no_args_is_help=True)

COLUMNS = tuple(CatalogueRow.model_fields)
_MULTILINE = frozenset({"content", "basis"})  # Text columns; the others are one line
_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")


def read_rows(path: Path) -> tuple[list[dict[str, str]], list[str]]:
    """The rows of a CSV or XLSX file as the catalogue's columns, and the columns left out."""
    table = _xlsx_table(path) if path.suffix.lower() in (".xlsx", ".xlsm") else _csv_table(path)
    header, *body = table or [[]]
    names = [_cell(name).strip() for name in header]
    rows = [_row(dict(zip(names, values, strict=False))) for values in body]
    return [row for row in rows if any(row.values())], [name for name in names if name and name not in COLUMNS]


def _csv_table(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


def _xlsx_table(path: Path) -> list[list[object]]:
    from openpyxl import load_workbook  # only XLSX imports need it

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        return [list(values) for values in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()


def _row(cells: dict[str, object]) -> dict[str, str]:
    row = {column: _cell(cells.get(column)).strip() for column in COLUMNS}
    return {column: text if column in _MULTILINE else _LINE_BREAKS.sub(" ", text) for column, text in row.items()}


def _cell(value: object) -> str:
    """A spreadsheet cell as the text it shows: 1.0 as "1", a date as 2024-09-01."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def import_payload(rows: list[dict[str, str]], title: str, in_force_from: date) -> dict:
    return {"command_id": str(uuid.uuid4()), "title": title, "in_force_from": in_force_from.isoformat(),
            "rows": rows}


async def send_import(settings: Settings, org_id: str, payload: dict) -> dict:
    """Send the import as ``org_id`` (the education bureau), logged in as JIANFU_NATS_USER."""
    nc = await connect(settings)
    try:
        return await JianfuClient(nc, timeout=30.0).command(org_id, ImportRegionalCatalogue.context,
                                                           ImportRegionalCatalogue.__name__, payload)
    finally:
        await nc.close()


def _bureau(settings: Settings) -> str:
    bureaus = settings.directory.of_kind(OrgKind.EDUCATION_BUREAU)
    if not bureaus:
        raise typer.BadParameter("the directory has no education bureau")
    return bureaus[0].org_id


@app.command("import")
def import_catalogue(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The catalogue as published: .csv or .xlsx."),
    title: str = typer.Option(..., help="e.g. 宁夏回族自治区中小学进校园活动目录（2024年）"),
    in_force_from: datetime = typer.Option(..., formats=["%Y-%m-%d"], help="The first day it is in force."),
    org: str | None = typer.Option(None, help="The education bureau's org id (default: the directory's)."),
) -> None:
    """Import the region's catalogue as the next edition, sent as the education bureau
    (JIANFU_NATS_URL, logged in as JIANFU_NATS_USER); print the reply: the edition, the number of
    items and the organisers the directory does not know. Exit 1 when it is refused."""
    rows, left_out = read_rows(file)
    if left_out:
        typer.echo(f"jianfu catalogue import: columns left out: {', '.join(left_out)}", err=True)
    settings = Settings()
    payload = import_payload(rows, title, in_force_from.date())
    reply = asyncio.run(send_import(settings, org or _bureau(settings), payload))
    typer.echo(json.dumps(reply, ensure_ascii=False, indent=2))
    raise typer.Exit(0 if reply.get("ok") else 1)
