"""nats-servers with the generated accounts (deploy/nats.conf), and logins as their users.

``ComposeNats`` runs deploy/nats.conf itself on free local ports; ``NatsCluster`` runs three
nodes with the same accounts, for what only a cluster shows (replicas). A ``Session`` keeps the
permission errors the server sends, so a test can say what was refused."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import nats
from jianfu.cli.accounts import accounts_block, code_grants
from jianfu.cli.embedded_nats import EmbeddedNats, free_port
from jianfu.events.connection import inbox_prefix

from tests.factories import DIRECTORY

ROOT = Path(__file__).resolve().parents[1]
NATS_CONF = ROOT / "deploy" / "nats.conf"


class ComposeNats(EmbeddedNats):
    """nats-server with deploy/nats.conf, moved to free local ports and a data folder of its own;
    its monitoring port tells which user each connection logged in as."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir)
        self.monitor_port = free_port()

    def config_text(self) -> str:
        text = NATS_CONF.read_text(encoding="utf-8")
        text = re.sub(r"^listen: .*$", f"listen: 127.0.0.1:{self.port}", text, flags=re.M)
        text = re.sub(r"^http: .*$", f"http: 127.0.0.1:{self.monitor_port}", text, flags=re.M)
        return re.sub(r'store_dir: ".*"', f'store_dir: "{(self.data_dir / "jetstream").as_posix()}"', text)


class ClusterNode(EmbeddedNats):
    """One node of a three-node JetStream cluster with the generated accounts."""

    def __init__(self, data_dir: Path, name: str, route_port: int, routes: list[int]) -> None:
        super().__init__(data_dir, sync_always=False, accounts=accounts_block(code_grants(DIRECTORY)))
        self.name, self.route_port, self.routes = name, route_port, routes

    def config_text(self) -> str:
        routes = ", ".join(f"nats-route://127.0.0.1:{port}" for port in self.routes)
        return (f"server_name: {self.name}\n" + super().config_text()
                + f"cluster {{\n    name: jianfu\n    listen: 127.0.0.1:{self.route_port}\n"
                  f"    routes: [{routes}]\n}}\n")


class NatsCluster:
    def __init__(self, data_dir: Path, size: int = 3) -> None:
        route_ports = [free_port() for _ in range(size)]
        self.nodes = [ClusterNode(data_dir / f"n{i}", f"n{i}", port, [p for p in route_ports if p != port])
                      for i, port in enumerate(route_ports)]

    @property
    def url(self) -> str:
        return ",".join(node.url for node in self.nodes)

    def start(self) -> NatsCluster:
        for node in self.nodes:
            node.start()
        return self

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


class Session:
    """A connection as one user, keeping the permission errors the server sends it."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.nc: nats.NATS | None = None

    async def on_error(self, error: Exception) -> None:
        self.errors.append(str(error))

    async def settle(self) -> list[str]:
        await self.nc.flush()
        await asyncio.sleep(0.2)
        return self.errors

    def refused(self, action: str, subject: str) -> bool:
        """Whether the server refused ``action`` ("publish" or "subscription") on ``subject``."""
        return any(f'Permissions Violation for {action} to "{subject}"'.lower() in error.lower()
                   for error in self.errors)


async def login(server, user: str, password: str | None = None, prefix: str | None = None) -> Session:
    """Connect as ``user`` (demo password unless given) with the inbox prefix the accounts give
    it (``_INBOX_<user>``); no reconnects, so a refusal is final."""
    session = Session()
    session.nc = await nats.connect(server.url, user=user, password=password or f"{user}-demo",
                                    inbox_prefix=prefix or inbox_prefix(user), error_cb=session.on_error,
                                    allow_reconnect=False, max_reconnect_attempts=0)
    return session
