"""The router hashes a command's scope and body once, for the ledger, and hands the digest to
the handler with the caller; ``command_context`` reuses it only for that very command."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from jianfu.events.commands import Router, command_context, command_digest
from jianfu.events.organisations import OrgKind
from jianfu.events.schemas.campus_entry import PublishSemesterList

from tests.factories import DIRECTORY

SUBJECT = "jf.cmd.edu-bureau.approvals.PublishSemesterList"
NOW = datetime(2026, 7, 10, tzinfo=UTC)


async def handled(handler) -> dict:
    router = Router("approvals", DIRECTORY)
    router.add(PublishSemesterList, handler, {OrgKind.EDUCATION_BUREAU})
    body = json.dumps({"command_id": str(uuid.uuid4()), "semester": "2026-autumn"}).encode()
    return await router.dispatch(SUBJECT, body)


async def test_the_context_of_the_routed_command_carries_the_digest_of_its_scope_and_body():
    async def handler(command, caller):
        context = command_context(caller, command, "v1", NOW)
        return {"same": context.digest == command_digest(caller.scope, command) == caller.digest}

    assert (await handled(handler))["same"] is True


async def test_the_context_of_another_command_is_hashed_from_that_command():
    async def handler(command, caller):
        other = command.model_copy(update={"semester": "2027-spring"})
        context = command_context(caller, other, "v1", NOW)
        return {"own": context.digest == command_digest(caller.scope, other) != caller.digest}

    assert (await handled(handler))["own"] is True
