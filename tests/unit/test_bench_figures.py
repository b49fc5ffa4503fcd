"""The benchmark's output contract (issue 7, "The benchmark"): one JSON object per figure that a
script can read, and a benchmark page that shows every figure. No figure is timed here."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bench.harness import FIGURES, Figure

PAGE = Path(__file__).parents[2] / "docs" / "benchmarks.md"


def test_a_figure_is_one_json_object_with_its_rate_beside_the_baseline_and_their_ratio():
    line = Figure("projector", "live projector", 400.0, "raw pull consumer", 16_000.0, {"p99_ms": 12.345}).as_json()
    read = json.loads(line)
    assert "\n" not in line
    assert {key: read[key] for key in ("figure", "rate", "baseline", "baseline_rate", "ratio", "p99_ms")} == {
        "figure": "projector", "rate": 400.0, "baseline": "raw pull consumer", "baseline_rate": 16_000.0,
        "ratio": 0.025, "p99_ms": 12.35}


def test_a_figure_without_a_baseline_has_no_ratio():
    read = json.loads(Figure("rss", "each service", None, "—", None, {"rss_mb": 90.0}).as_json())
    assert (read["rate"], read["baseline_rate"], read["ratio"], read["rss_mb"]) == (None, None, None, 90.0)


def test_the_benchmark_page_shows_every_figure_in_its_table():
    rows = re.findall(r"^\| (\w+) \| [\d.]+x|^\| (\w+) \| —", PAGE.read_text(), flags=re.MULTILINE)
    assert sorted(name for pair in rows for name in pair if name) == sorted(FIGURES)
