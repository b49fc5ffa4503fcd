"""Run the four services as separate processes, the way operators run them
(``faststream run jianfu.<service>.app:app``), for ``jianfu run`` and the end-to-end tests."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import nats

SERVICES = ("requests", "approvals", "compliance", "notifications")


class ServiceProcess:
    def __init__(self, name: str, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> ServiceProcess:
        log = open(self.log_path, "ab")
        command = [sys.executable, "-m", "faststream", "run", f"jianfu.{self.name}.app:app"]
        self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, as when a machine dies."""
        if self.running:
            self.process.kill()
            self.process.wait()

    def stop(self, timeout: float = 15.0) -> None:
        if not self.running:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()


def service_env(nats_url: str, database_url: str, clock: str = "system", **extra: str) -> dict[str, str]:
    """The environment of every service: this one's (so ``JIANFU_LOG_LEVEL``, ``JIANFU_POLICY_PATH``
    and the rest reach them), with the server, database and clock this run chose."""
    env = dict(os.environ)
    env.update(
        JIANFU_NATS_URL=nats_url,
        JIANFU_DATABASE_URL=database_url,
        JIANFU_CLOCK=clock,
        JIANFU_LOG_FORMAT="json",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


class Fleet:
    """The four services, each its own process, sharing one environment. With ``passwords``
    (user -> password, as the server's accounts have them) each service logs in as the user of
    its name and the fleet asks for health as the operator."""

    def __init__(self, env: dict[str, str], log_dir: Path, services: tuple[str, ...] = SERVICES,
                 passwords: Callable[[str], str] | None = None) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        self.nats_url = env["JIANFU_NATS_URL"]
        self.passwords = passwords
        self.processes = {name: ServiceProcess(name, {**env, **self._login(name)}, log_dir) for name in services}

    def _login(self, user: str) -> dict[str, str]:
        if self.passwords is None:
            return {}
        return {"JIANFU_NATS_USER": user, "JIANFU_NATS_PASSWORD": self.passwords(user)}

    def start(self) -> Fleet:
        for process in self.processes.values():
            process.start()
        return self

    def stop(self) -> None:
        for process in self.processes.values():
            process.stop()

    def restart_exited(self) -> list[tuple[str, int]]:
        """Start again every service that exited (a service exits 75 when its broker connection
        is closed for good); returns (name, exit code) of each one restarted."""
        restarted = []
        for name, process in self.processes.items():
            if process.process is not None and not process.running:
                restarted.append((name, process.process.returncode))
                process.start()
        return restarted

    async def wait_ready(self, timeout: float = 60.0, names: tuple[str, ...] | None = None) -> None:
        """Wait until each service answers its health subject."""
        from jianfu.cli.accounts import OPERATOR
        from jianfu.events.connection import connect
        from jianfu.events.settings import Settings

        login = self._login(OPERATOR)
        nc = await connect(Settings(nats_url=self.nats_url, nats_user=login.get("JIANFU_NATS_USER"),
                                    nats_password=login.get("JIANFU_NATS_PASSWORD")))
        try:
            deadline = time.monotonic() + timeout
            for name in names or tuple(self.processes):
                while True:
                    process = self.processes[name]
                    if not process.running:
                        raise RuntimeError(f"{name} exited; see {process.log_path}")
                    try:
                        await nc.request(f"jf.sys.health.{name}", b"", timeout=0.5)
                        break
                    except (nats.errors.TimeoutError, nats.errors.NoRespondersError):
                        if time.monotonic() > deadline:
                            raise TimeoutError(f"{name} not ready after {timeout}s; see {process.log_path}")
                        await asyncio.sleep(0.2)
        finally:
            await nc.close()
