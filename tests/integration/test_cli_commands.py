"""The operator's and auditor's commands, run as an operator runs them: `jianfu <command>` with
JIANFU_* settings in the environment, against a real nats-server and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import fresh_database
from tests.s3_semester import S3Semester

JIANFU = str(Path(sys.executable).parent / "jianfu")


def jianfu(*args: str, nats_url: str, database_url: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "JIANFU_NATS_URL": nats_url, "JIANFU_LOG_LEVEL": "WARNING"}
    if database_url:
        env["JIANFU_DATABASE_URL"] = database_url
    return subprocess.run([JIANFU, *args], env=env, capture_output=True, text=True, timeout=120)


def test_provision_is_idempotent_and_keeps_the_stream_as_designed(nats_server, nc):
    first = jianfu("provision", nats_url=nats_server.url)
    second = jianfu("provision", nats_url=nats_server.url)
    assert first.returncode == second.returncode == 0, first.stderr
    assert "updated JIANFU_EVENTS" in second.stdout and "updated JIANFU_ALERTS" in second.stdout


@pytest.fixture
async def database():
    async with fresh_database("cli") as url:
        yield url


async def test_migrate_then_rebuild_then_verify_agree_with_each_other(nats_server, store, database):
    semester = S3Semester(store)
    request = await semester.request("dept-fire", ["school-dwk-primary-1"])
    await semester.certify(request)
    assert jianfu("migrate", nats_url=nats_server.url, database_url=database).returncode == 0

    rebuilt = jianfu("rebuild", nats_url=nats_server.url, database_url=database)
    assert rebuilt.returncode == 0, rebuilt.stderr
    first = json.loads(rebuilt.stdout)
    checked = jianfu("rebuild", "--verify", nats_url=nats_server.url, database_url=database)
    second = json.loads(checked.stdout)
    assert checked.returncode == 0 and second["matched"] is True
    assert second["digest"] == second["live_digest"] == first["digest"]


def test_verify_reports_an_intact_log_as_json(tmp_path):
    from jianfu.cli.embedded_nats import EmbeddedNats

    with EmbeddedNats(tmp_path / "nats") as server:
        assert jianfu("provision", nats_url=server.url).returncode == 0
        result = jianfu("verify", nats_url=server.url)
    report = json.loads(result.stdout)
    assert result.returncode == 0 and report["intact"] is True and report["broken"] == []
