"""A rebuild shows its progress (issue 7, item 3): events replayed of the total, the rate and the
time left, on a terminal only; ``jianfu rebuild`` prints its JSON on standard output either way."""

from __future__ import annotations

import asyncio
import fcntl
import io
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios

from jianfu.compliance.rebuild import progress_bar, rebuild_read_model

from tests.s3_semester import S3Semester


async def some_events(store) -> int:
    s = S3Semester(store)
    for school in ("school-dwk-primary-1", "school-dwk-primary-2", "school-dwk-middle-1"):
        await s.held(school, "dept-fire", "消防演练")
    return await store.last_sequence()


async def test_the_progress_bar_counts_the_events_replayed_of_the_total(log, engine):
    total = await some_events(log.store)
    shown = io.StringIO()
    with progress_bar(shown, force=True) as bar:
        result = await rebuild_read_model(engine, log.store, switch=False, batch=2, progress=bar)
    assert result.last_sequence == total
    printed = shown.getvalue()
    assert f"{total}/{total}" in printed and "events/s" in printed and "verified" in printed
    assert re.search(r"\[\d\d:\d\d<\d\d:\d\d, ", printed)  # [elapsed<time left, rate]


async def test_no_progress_bar_when_standard_error_is_no_terminal(log, engine):
    await some_events(log.store)
    shown = io.StringIO()
    with progress_bar(shown) as bar:
        await rebuild_read_model(engine, log.store, switch=False, progress=bar)
    assert shown.getvalue() == ""


def cli_rebuild(env: dict[str, str], terminal: bool) -> tuple[str, str]:
    """``jianfu rebuild --verify`` as a shell runs it, standard error on a terminal or a pipe."""
    command = [sys.executable, "-m", "jianfu.cli.main", "rebuild", "--verify"]
    if not terminal:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout, done.stderr
    screen, other_end = pty.openpty()
    fcntl.ioctl(other_end, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 24 rows of 100 columns
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=other_end, env=env)
    os.close(other_end)
    shown = b""
    while True:
        try:
            chunk = os.read(screen, 4096)
        except OSError:  # the process closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(screen)
    stdout = process.stdout.read().decode()
    assert process.wait(timeout=120) == 0, shown
    return stdout, shown.decode(errors="replace")


async def test_jianfu_rebuild_shows_the_bar_on_a_terminal_only(log, database):
    total = await some_events(log.store)
    env = {**os.environ, "JIANFU_NATS_URL": log.url, "JIANFU_DATABASE_URL": database}
    for terminal in (True, False):
        stdout, stderr = await asyncio.to_thread(cli_rebuild, env, terminal)
        assert json.loads(stdout)["last_sequence"] == total
        assert (f"{total}/{total}" in stderr and "events/s" in stderr) is terminal
