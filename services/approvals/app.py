"""Composition root of the approvals service: ``faststream run jianfu.approvals.app:app``."""

from __future__ import annotations

from functools import partial

from faststream import FastStream

from jianfu.approvals import handlers
from jianfu.events.commands import Router
from jianfu.events.logging import configure_logging
from jianfu.events.organisations import OrgKind
from jianfu.events.runtime import connected_store, make_broker, on_events, serve
from jianfu.events.schemas.campus_entry import CertifyActivity, PublishSemesterList, RejectActivity
from jianfu.events.settings import Settings

BUREAU = {OrgKind.EDUCATION_BUREAU}  # S3: only the education bureau certifies and publishes


def build(settings: Settings) -> FastStream:
    broker = make_broker(settings)
    app = FastStream(broker)
    deps = handlers.Deps(connected_store(app, broker, settings), settings.directory, settings.policy,
                         settings.make_clock(), settings.append_retries)
    router = Router("approvals", settings.directory, max_payload_bytes=settings.max_payload_bytes)
    router.add(CertifyActivity, partial(handlers.certify_activity, deps=deps), BUREAU)
    router.add(RejectActivity, partial(handlers.reject_activity, deps=deps), BUREAU)
    router.add(PublishSemesterList, partial(handlers.publish_semester_list, deps=deps), BUREAU)
    serve(broker, router, "approvals")
    on_events(broker, settings, "jf.ev.activity.>", "approvals-screening",
              partial(handlers.screen_request, deps=deps))
    return app


settings = Settings()
configure_logging(settings.log_format, settings.log_level, "approvals")
app = build(settings)
