"""Composition root of the requests service: ``faststream run jianfu.requests.app:app``."""

from __future__ import annotations

from functools import partial

from faststream import FastStream

from jianfu.events.commands import Router
from jianfu.events.logging import configure_logging
from jianfu.events.organisations import DECLARING_KINDS, OrgKind
from jianfu.events.runtime import connected_store, make_broker, serve
from jianfu.events.schemas.campus_entry import RecordActivityHeld, RequestActivity
from jianfu.events.settings import Settings
from jianfu.requests import handlers


def build(settings: Settings) -> FastStream:
    broker = make_broker(settings)
    app = FastStream(broker)
    deps = handlers.Deps(connected_store(app, broker, settings), settings.directory, settings.policy,
                         settings.make_clock(), settings.append_retries)
    router = Router("requests", settings.directory, max_payload_bytes=settings.max_payload_bytes)
    # S3: organs and mass organisations declare; schools report what was held on their campus.
    router.add(RequestActivity, partial(handlers.request_activity, deps=deps), DECLARING_KINDS)
    router.add(RecordActivityHeld, partial(handlers.record_activity_held, deps=deps), {OrgKind.SCHOOL})
    serve(broker, router, "requests")
    return app


settings = Settings()
configure_logging(settings.log_format, settings.log_level, "requests")
app = build(settings)
