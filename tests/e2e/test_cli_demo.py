"""`jianfu run --demo` — what `make demo` runs — on the embedded defaults: its own nats-server
and SQLite, no servers installed, the four services as processes, a semester (S3) and an
inspection year (S1/S2) and a year of teachers' time (S7–S10) walked, then G2's ladder to a
confirmed internal circulation whose documents land in the data folder, and a clean stop."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from jianfu.cli.embedded_nats import free_port
from pypdf import PdfReader

pytestmark = pytest.mark.e2e


def test_jianfu_run_demo_walks_a_semester_an_inspection_year_and_teachers_time_s7_s10_on_sqlite_and_stops_cleanly(
        tmp_path: Path):
    jianfu = Path(sys.executable).parent / "jianfu"
    result = subprocess.run(
        [str(jianfu), "run", "--demo", "--exit-after-demo", "--fresh",
         "--data-dir", str(tmp_path / "demo"), "--nats-port", str(free_port())],
        capture_output=True, text=True, timeout=240,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    out = result.stdout
    assert "list edition 1 published" in out
    documents = [json.loads(chunk) for chunk in _json_blocks(out)]
    listed = next(d for d in documents if "items" in d)
    found = next(d for d in documents if d.get("clause") == "S3")
    assert listed["ok"] and len(listed["items"]) == 5
    assert found["ok"] and found["count"] == 5  # three uncertified entries, a claim not borne out, an outside firm
    assert "catalogue edition 1 imported (16 items)" in out
    # S1/S2: the inspection year walked after the semester
    assert ("inspection year 2026: 5 items proposed, 1 merger, checklist edition 1 published (3 rows), "
            "7 visit reports of 6 visits, 3 data requests") in out
    checklist = next(d for d in documents if "rows" in d)
    assert checklist["ok"] and checklist["year"] == 2026 and len(checklist["rows"]) == 3
    assert sorted(row["item_name"] for row in checklist["rows"]) == sorted(
        ["校园安全综合督查", "课后服务工作督查", "学校卫生与传染病防控检查"])
    year = next(d for d in documents if d.get("clause") == "S1/S2")
    assert year["ok"] and year["count"] == 6
    assert sorted(v["rule"] for v in year["violations"]) == sorted([
        "UnplannedInspection", "UnauthorizedInspectionSetter", "DisguisedInspection", "InspectionOverFrequency",
        "DuplicateDataRequest", "ExcessivelyShortDeadline"])
    # S7–S10: the teachers' year walked after the inspection year
    assert "teachers' year 2027: 320 teachers registered, 6 secondments requested, training plan edition 1" in out
    teachers = next(d for d in documents if d.get("clause") == "S7-S10")
    assert teachers["ok"] and teachers["teachers_registered"] == 320
    assert teachers["secondments_refused"] == {"refused": "AFFECTS_TEACHING", "renewal": "OVER_HALF_YEAR"}
    assert teachers["by_rule"] == {"NonEducationMeetingForTeachers": 1, "NonEducationTraining": 1,
                                   "SecondmentOverdue": 1, "UnapprovedSecondment": 1, "UnplannedTraining": 1,
                                   "VideoSubVenueRequired": 1}
    # G2: after the teachers' year, one unit up the ladder to a confirmed internal circulation
    g2 = next(d for d in documents if d.get("clause") == "G2")
    events = [step["event"] for step in g2["steps"]]
    assert g2["ok"] and g2["unit"] == "dept-justice" and events[-1] == "CirculationConfirmed"
    assert events.count("WarningIssued") == 3 and "RectificationDeadlineMissed" in events
    assert g2["document_number"] == "大教减负通〔2027〕1号"
    assert g2["documents"]["html"].endswith("circulations/大教减负通〔2027〕1号.html")
    pdf = Path(g2["documents"]["pdf"])
    assert pdf.parent == tmp_path / "demo" / "circulations" and pdf.read_bytes().startswith(b"%PDF")
    text = "".join(PdfReader(pdf).pages[0].extract_text().replace("\x00", "").split())
    assert "区司法局" in text and "S2" in text and "大教减负通〔2027〕1号" in text
    assert g2["rectified"]["unit"] == "dept-court" and g2["rectified"]["open"] is False
    assert f"HTML: {g2['documents']['html']}" in out and f"PDF: {g2['documents']['pdf']}" in out
    assert (tmp_path / "demo" / "compliance.db").exists()
    logs = tmp_path / "demo" / "logs"
    assert {p.name for p in logs.iterdir()} >= {"requests.log", "approvals.log", "compliance.log", "notifications.log"}


def _json_blocks(text: str) -> list[str]:
    """Top-level JSON objects printed with indent=2: from a line '{' to the next line '}'."""
    blocks, current = [], None
    for line in text.splitlines():
        if line == "{":
            current = [line]
        elif current is not None:
            current.append(line)
            if line == "}":
                blocks.append("\n".join(current))
                current = None
    return blocks
