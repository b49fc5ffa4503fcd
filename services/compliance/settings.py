"""The compliance service's own settings, on top of the shared ``JIANFU_`` ones."""

from __future__ import annotations

from jianfu.events.settings import Settings
from pydantic import Field


class ComplianceSettings(Settings):
    migrate_on_start: bool = Field(True, description="JIANFU_MIGRATE_ON_START: upgrade the schema when starting.")
    projector_durable: str = Field(
        "compliance-projector", pattern=r"^[A-Za-z0-9_-]+$",
        description="JIANFU_PROJECTOR_DURABLE: the projector's durable consumer (one per read-model database).")
    detector_durable: str = Field(
        "compliance-detector", pattern=r"^[A-Za-z0-9_-]+$",
        description="JIANFU_DETECTOR_DURABLE: the S3 detector's durable consumer (one per read-model database).")
    standby_poll_seconds: float = Field(
        1.0, gt=0, description="JIANFU_STANDBY_POLL_SECONDS: how often a hot standby tries the projector lock.")
    seal_every: int = Field(
        1000, gt=0, description="JIANFU_SEAL_EVERY: a LogSealed over all chain heads once this many events "
        "(seals not counted) are stored after the last seal.")
    seal_tick_seconds: float = Field(
        1.0, gt=0, description="JIANFU_SEAL_TICK_SECONDS: how often the sealer looks at the clock for a business "
        "day's end and checks that it still holds its lock.")
    day_tick_seconds: float = Field(
        1.0, gt=0, description="JIANFU_DAY_TICK_SECONDS: how often the day scheduler looks at the clock for days "
        "ended that are not on record yet (DayEnded) and checks that it still holds its lock.")
