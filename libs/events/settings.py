"""Settings from environment variables (prefix ``JIANFU_``), one class for all services.

Every service reads the same names so an operator sets a value once for the whole system;
what a service does not use, it ignores.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from jianfu.events.distances import DistanceTable
from jianfu.events.organisations import Directory
from jianfu.events.policy import Policy
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REFERENCE = Path(__file__).parent / "reference"


class Clock(Protocol):
    def today(self) -> date: ...

    def now(self) -> datetime: ...


BUSINESS_ZONE = ZoneInfo("Asia/Shanghai")
"""Business dates are Asia/Shanghai's (DESIGN.md), whatever zone the machine is set to."""


class SystemClock:
    def today(self) -> date:
        return self.now().astimezone(BUSINESS_ZONE).date()

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock stopped at one day (the time of day still moves), for tests and demos."""

    def __init__(self, day: date) -> None:
        self.day = day

    def today(self) -> date:
        return self.day

    def now(self) -> datetime:
        real = datetime.now(UTC)
        return datetime.combine(self.day, real.time(), tzinfo=UTC)


class FileClock:
    """Reads the day from a file on every call, so a demo or test can move time for running
    services by rewriting one file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def today(self) -> date:
        try:
            return date.fromisoformat(self.path.read_text(encoding="utf-8").strip())
        except (OSError, ValueError) as error:
            raise ClockUnreadable(f"clock file {self.path}: {error}") from error

    def now(self) -> datetime:
        return FixedClock(self.today()).now()

    @staticmethod
    def move_to(path: Path, day: date) -> None:
        """Set the day atomically (write aside, then rename): a service reading the file never
        sees it empty or half written."""
        aside = path.with_name(f".{path.name}.{os.getpid()}")
        aside.write_text(day.isoformat(), encoding="utf-8")
        os.replace(aside, path)


class ClockUnreadable(OSError):
    """The clock file is missing or does not hold a date. An environment failure like a lost
    connection (an OSError): commands answer UNAVAILABLE and event reactions retry until it is mended."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JIANFU_", extra="ignore")

    nats_url: str = Field("nats://127.0.0.1:4222", description="Comma-separated NATS servers.")
    nats_user: str | None = None
    nats_password: str | None = None
    stream: str = "JIANFU_EVENTS"
    database_url: str = Field(
        "sqlite+aiosqlite:///jianfu.db", description="SQLAlchemy async URL of the service's database."
    )
    directory_path: Path = REFERENCE / "organisations.json"
    policy_path: Path = REFERENCE / "policy.toml"
    distances_path: Path = Field(REFERENCE / "distances.csv", description="The district's distance table, by "
                                 "school and meeting venue (S9).")
    clock: str = Field("system", description="`system`, `fixed:2026-07-15` or `file:/path/to/day`.")
    log_format: Literal["json", "console"] = "json"
    log_level: str = "INFO"
    max_payload_bytes: int = Field(64 * 1024, description="Larger commands are refused.")
    append_retries: int = Field(10, description="Reload-and-retry rounds on a concurrent append.")
    projector_batch: int = Field(256, description="Events per projector transaction.")
    snapshot_every: int = Field(100, description="Snapshot an aggregate that keeps growing every N events; 0: never.")

    @property
    def nats_servers(self) -> list[str]:
        return [url.strip() for url in self.nats_url.split(",") if url.strip()]

    @cached_property
    def directory(self) -> Directory:
        return Directory.load(self.directory_path)

    @cached_property
    def policy(self) -> Policy:
        return Policy.load(self.policy_path)

    @cached_property
    def distances(self) -> DistanceTable:
        return DistanceTable.load(self.distances_path)

    def make_clock(self) -> Clock:
        kind, _, arg = self.clock.partition(":")
        if kind == "system":
            return SystemClock()
        if kind == "fixed":
            return FixedClock(date.fromisoformat(arg))
        if kind == "file":
            return FileClock(Path(arg))
        raise ValueError(f"JIANFU_CLOCK: unknown clock {self.clock!r}")
