"""Seals over the log's chain heads: what lets an auditor catch a whole aggregate rewritten.

A per-aggregate hash chain catches an event changed in the middle of its chain, not a chain
rewritten from its first event with every hash recomputed. A ``LogSealed`` event fixes, at one
stream sequence, the hash of every chain's last stored message and the previous seal, so such a
rewrite no longer matches the next seal (``jianfu verify`` recomputes every seal from the log).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar

from jianfu.events.schemas.base import EventData
from pydantic import Field

HEX_SHA256 = r"^[0-9a-f]{64}$"


class SealReason(StrEnum):
    EVERY_N_EVENTS = "every_n_events"
    DAY_END = "day_end"


class LogSealed(EventData):
    """Appended by the compliance service's sealer on ``jf.ev.seal.log``, one seal after the other
    (expected subject sequence), so a seal is written once."""

    aggregate_type: ClassVar[str] = "seal"

    seal_number: int = Field(ge=1, strict=True, description="1 for the first seal, then one more each time.")
    up_to_sequence: int = Field(ge=0, strict=True, description="The seal covers every message stored at or below "
                                "this stream sequence.")
    chains: int = Field(ge=0, strict=True, description="How many subjects (aggregates) it covers.")
    heads_hash: str = Field(pattern=HEX_SHA256, description="SHA-256 over the sorted lines `<subject> <hash of its "
                            "last stored message>` of every subject but the seals' own (see `sealing.heads_hash`).")
    previous_seal_hash: str = Field(pattern=HEX_SHA256, description="Hash of the previous seal's stored bytes; "
                                    "zeros for the first seal.")
    reason: SealReason = Field(description="`every_n_events` (JIANFU_SEAL_EVERY) or `day_end`.")
    business_day: date | None = Field(default=None, description="For `day_end`: the business day (Asia/Shanghai) "
                                      "that ended.")
