"""Base classes for commands, queries and event data."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class Command(BaseModel):
    """A request to change something. ``command_id`` makes retries safe: the same id never
    produces a second event."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    context: ClassVar[str]
    command_id: UUID = Field(
        description="Client-chosen UUID; send the same id when retrying the same command."
    )


class Query(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    context: ClassVar[str]


class EventData(BaseModel):
    """The ``data`` of an event. Subclasses name the aggregate they belong to."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    aggregate_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
