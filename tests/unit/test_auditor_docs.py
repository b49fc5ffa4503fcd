"""The README's promises to auditors name what the code reports and the settings it reads. No I/O
beyond reading the README; the behaviour behind each sentence is tested in
tests/integration/test_tamper_evidence.py and tests/integration/test_seals.py."""

from __future__ import annotations

import re
from pathlib import Path

from jianfu.cli.main import app
from jianfu.compliance.settings import ComplianceSettings
from jianfu.events.audit import KINDS, AuditReport
from jianfu.events.sealing import SEAL_SUBJECT
from jianfu.events.settings import BUSINESS_ZONE
from typer.main import get_command

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
AUDITORS = README.split("## For auditors", 1)[1].split("\n## ", 1)[0]


def test_the_auditors_section_names_every_kind_of_break_the_report_has_and_no_other():
    listed = re.findall(r"^  - `(\w+)`:", AUDITORS, flags=re.MULTILINE)
    assert listed == [*KINDS, "unknown_seals"]
    assert all(hasattr(AuditReport(), name) for name in (*listed, "first_breaks", "last_seal", "sealed_up_to"))


def test_the_auditors_section_gives_the_sealers_subject_setting_default_and_time_zone():
    default = ComplianceSettings.model_fields["seal_every"].default
    assert f"`JIANFU_SEAL_EVERY` events (default {default})" in AUDITORS
    assert f"`{SEAL_SUBJECT}`" in AUDITORS and f"({BUSINESS_ZONE.key})" in AUDITORS


def test_the_seal_an_auditor_kept_is_passed_with_the_option_the_cli_has():
    assert "`jianfu verify --seal <hash>` (repeatable)" in AUDITORS
    # The command as click sees it; invoking it would bind logging to a stream the runner closes.
    options = [opt for param in get_command(app).commands["verify"].params for opt in param.opts]
    assert options == ["--seal"]
