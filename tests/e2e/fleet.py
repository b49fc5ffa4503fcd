"""The four services as processes on a nats-server and a database of a test module's own, with a
clock file the walk moves and every alert they send collected: what each end-to-end walk runs on."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import nats
from jianfu.cli.client import JianfuClient
from jianfu.cli.embedded_nats import EmbeddedNats
from jianfu.cli.supervisor import Fleet, service_env
from jianfu.events.provisioning import provision
from jianfu.events.settings import FileClock
from jianfu.events.store import EventStore

from tests.conftest import fresh_database


@dataclass
class System:
    nc: nats.NATS
    clock: Path
    logs: Path
    alerts: list = field(default_factory=list)
    database_url: str = ""  # the compliance read model's, for a rebuild beside the live one

    @property
    def client(self) -> JianfuClient:
        return JianfuClient(self.nc)

    @property
    def store(self) -> EventStore:
        return EventStore(self.nc.jetstream())

    def set_today(self):
        return partial(FileClock.move_to, self.clock)


@asynccontextmanager
async def running_system(folder: Path, first_day: str, database: str) -> AsyncIterator[System]:
    """The services started and ready, the clock at ``first_day``, alerts collected as they come."""
    clock = folder / "today"
    clock.write_text(first_day)
    with EmbeddedNats(folder / "nats") as server:
        nc = await nats.connect(server.url)
        system = System(nc, clock, folder / "logs")

        async def collect(msg) -> None:
            system.alerts.append((msg.subject, json.loads(msg.data)))

        await provision(nc.jetstream())
        await nc.subscribe("jf.alert.>", cb=collect)
        async with fresh_database(database) as database_url:
            system.database_url = database_url
            fleet = Fleet(service_env(server.url, database_url, f"file:{clock}"), system.logs).start()
            try:
                await fleet.wait_ready()
                yield system
            finally:
                fleet.stop()
                await nc.close()
