"""`jianfu run` honours JIANFU_CLOCK: the services get the clock the operator set, and the demo
moves a clock file it may rewrite or refuses before starting anything.

The `run` command runs in-process against its real embedded nats-server; only the fleet of
service processes and the demo walk are replaced by recorders, since what is checked is the clock
they are handed (the services' reading of JIANFU_CLOCK is Settings.make_clock's, tested elsewhere).
It is called as a function rather than through typer's CliRunner: the CLI's logging callback
would bind structlog to CliRunner's stream, which closes afterwards and breaks later tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import typer
from jianfu.cli import main, supervisor
from jianfu.cli.embedded_nats import free_port


class RecordedFleet:
    """Stands in for the four service processes and keeps the environment they would get."""

    envs: list[dict[str, str]] = []

    def __init__(self, env: dict[str, str], log_dir: Path, **logins: object) -> None:
        self.env = env
        RecordedFleet.envs.append(env)

    def start(self) -> RecordedFleet:
        return self

    async def wait_ready(self) -> None:
        return None

    def stop(self) -> None:
        return None


@pytest.fixture
def recorded(monkeypatch) -> dict:
    """What `jianfu run` handed the services (``env``) and the demo (``clock_file`` and its day)."""
    seen: dict = {}
    RecordedFleet.envs = []

    async def demo(url: str, clock_file: Path, password=None, circulations: Path | None = None) -> None:
        seen["clock_file"], seen["day_at_demo_start"] = clock_file, clock_file.read_text()

    monkeypatch.setattr(supervisor, "Fleet", RecordedFleet)
    monkeypatch.setattr(main, "_demo", demo)
    return seen


@dataclass
class Outcome:
    exit_code: int
    output: str


@pytest.fixture
def jianfu_run(tmp_path: Path, monkeypatch, capsys):
    """`jianfu run --exit-after-demo [--demo]` with JIANFU_CLOCK set to ``clock`` (None: unset)."""

    def run(clock: str | None, demo: bool = False) -> Outcome:
        if clock is None:
            monkeypatch.delenv("JIANFU_CLOCK", raising=False)
        else:
            monkeypatch.setenv("JIANFU_CLOCK", clock)
        try:
            main.run(demo=demo, data_dir=tmp_path / "data", nats_port=free_port(), database_url="",
                     exit_after_demo=True, fresh=False)
            code = 0
        except typer.Exit as stopped:
            code = stopped.exit_code
        captured = capsys.readouterr()
        return Outcome(code, captured.out + captured.err)

    return run


def services_clock() -> str:
    [env] = RecordedFleet.envs
    return env["JIANFU_CLOCK"]


def test_run_passes_the_fixed_clock_of_jianfu_clock_to_the_services(tmp_path, recorded, jianfu_run):
    result = jianfu_run("fixed:2026-07-15")
    assert result.exit_code == 0, result.output
    assert services_clock() == "fixed:2026-07-15"
    assert "clock fixed:2026-07-15" in result.output


def test_run_demo_moves_the_clock_file_jianfu_clock_names(tmp_path, recorded, jianfu_run):
    clock_file = tmp_path / "clock" / "today"
    result = jianfu_run(f"file:{clock_file}", demo=True)
    assert result.exit_code == 0, result.output
    assert services_clock() == f"file:{clock_file.resolve()}"
    assert recorded["clock_file"] == clock_file.resolve()
    assert recorded["day_at_demo_start"] == date.today().isoformat()  # one ISO date, rewritten by the walk


def test_run_without_demo_leaves_the_operators_clock_file_as_it_is(tmp_path, recorded, jianfu_run):
    clock_file = tmp_path / "today"
    clock_file.write_text("2026-12-01\n")
    result = jianfu_run(f"file:{clock_file}")
    assert result.exit_code == 0, result.output
    assert services_clock() == f"file:{clock_file.resolve()}" and clock_file.read_text() == "2026-12-01\n"


@pytest.mark.parametrize("clock", ["fixed:2026-07-15", "system"])
def test_run_demo_refuses_a_clock_it_cannot_move_and_starts_nothing(tmp_path, recorded, jianfu_run, clock):
    result = jianfu_run(clock, demo=True)
    assert result.exit_code == 2
    assert f"JIANFU_CLOCK={clock}" in result.output and "file:/path/to/today" in result.output
    assert RecordedFleet.envs == [] and not (tmp_path / "data").exists()


@pytest.mark.parametrize("clock", ["tomorrow", "fixed:15/07/2026", "file:{missing}"])
def test_run_refuses_a_jianfu_clock_the_services_could_not_read(tmp_path, recorded, jianfu_run, clock):
    result = jianfu_run(clock.format(missing=tmp_path / "no-such-file"))
    assert result.exit_code == 2 and "JIANFU_CLOCK" in result.output
    assert RecordedFleet.envs == [] and not (tmp_path / "data").exists()


def test_run_without_jianfu_clock_uses_the_system_clock(tmp_path, recorded, jianfu_run):
    assert jianfu_run(None).exit_code == 0
    assert services_clock() == "system"


def test_run_demo_without_jianfu_clock_moves_a_clock_file_in_the_data_folder(tmp_path, recorded, jianfu_run):
    assert jianfu_run(None, demo=True).exit_code == 0
    clock_file = (tmp_path / "data" / "today").resolve()
    assert services_clock() == f"file:{clock_file}" and recorded["clock_file"] == clock_file
