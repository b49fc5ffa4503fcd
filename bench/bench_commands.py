"""Command round trip: RequestActivity through the requests service (validation, authorisation,
load, append, reply) against a bare NATS request-reply echo in the same process."""

from __future__ import annotations

import json

from jianfu.cli.client import JianfuClient
from jianfu.events.settings import Settings
from jianfu.requests.app import build

from bench.harness import Figure, fresh_nats, timed
from tests.factories import application

COMMANDS = 500


async def run() -> list[Figure]:
    async with fresh_nats() as (server, nc):
        app = build(Settings(nats_url=server.url, clock="fixed:2026-07-10", log_level="ERROR"))
        await app.start()

        async def echo(msg):
            await msg.respond(b'{"ok": true}')

        await nc.subscribe("bench.echo", cb=echo)
        client = JianfuClient(nc)
        bodies = [json.dumps(application()).encode() for _ in range(COMMANDS * 3)]
        used = iter(bodies)

        async def commands():
            for _ in range(COMMANDS):
                reply = await client.command("dept-public-security", "requests", "RequestActivity", next(used))
                assert reply["ok"], reply

        async def echoes():
            for body in bodies[:COMMANDS]:
                await nc.request("bench.echo", body, timeout=5)

        try:
            return [Figure("RequestActivity round trip", COMMANDS, await timed(commands),
                           "bare request-reply echo", await timed(echoes))]
        finally:
            await app.stop()
