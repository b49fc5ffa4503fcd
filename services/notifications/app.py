"""Composition root of the notifications service: ``faststream run jianfu.notifications.app:app``.

A durable pull consumer (``notifications-ladder``) feeds every ``ViolationDetected`` to the G2
ladder, another (``notifications-notices``) every S7 ``SecondmentEndingSoon`` to its alert; alerts
go out on ``jf.alert.<org_id>.>`` through the broker's own connection.
"""

from __future__ import annotations

from functools import partial

from faststream import FastStream
from jianfu.events.dependencies import Deps
from jianfu.events.logging import configure_logging
from jianfu.events.runtime import (
    Interface,
    Lifeline,
    Subscription,
    connected_deps,
    launch,
    make_app,
    make_broker,
)
from jianfu.events.schemas.compliance import ViolationDetected
from jianfu.events.schemas.escalation import EscalationAlert, ReminderIssued, SecondmentEndingAlert
from jianfu.events.schemas.secondments import SecondmentEndingSoon
from jianfu.events.settings import Settings
from jianfu.events.snapshots import Snapshots
from jianfu.notifications import handlers
from jianfu.notifications.alerts import AlertChannel

VIOLATIONS = "jf.ev.violation.>"
LADDER_DURABLE = "notifications-ladder"
NOTICES = "jf.ev.secondment_notice.>"
NOTICES_DURABLE = "notifications-notices"


def interface(
    deps: Deps,
    settings: Settings,
    alerts: AlertChannel | None = None,
    subject: str = VIOLATIONS,
    durable: str = LADDER_DURABLE,
    notices_durable: str = NOTICES_DURABLE,
    notices_subject: str = NOTICES,
) -> Interface:
    snapshots = Snapshots(deps.store, every=settings.snapshot_every)
    alerts = alerts or AlertChannel()
    ladder = Subscription(subject, durable, partial(handlers.on_violation, deps=deps, alerts=alerts,
                                                    snapshots=snapshots), (ViolationDetected,))
    notices = Subscription(notices_subject, notices_durable, partial(handlers.on_secondment_notice, deps=deps,
                                                                     alerts=alerts), (SecondmentEndingSoon,))
    return Interface("notifications", "The G2 escalation ladder: a reminder and an alert for every violation; "
                     "and S7's notice before a secondment ends, an alert of its own kind.",
                     subscriptions=(ladder, notices), emits=(ReminderIssued,),
                     sends=(("jf.alert.{org_id}.reminder.{violation_id}", EscalationAlert),
                            ("jf.alert.{borrowing_org_id}.secondment_ending.{notice_id}", SecondmentEndingAlert)))


def build(settings: Settings, subject: str = VIOLATIONS, durable: str = LADDER_DURABLE,
          notices_durable: str = NOTICES_DURABLE, notices_subject: str = NOTICES) -> FastStream:
    """The app; the subjects and durables differ only in tests and rebuilds (a new durable
    replays the violations, or the notices, from sequence 1, which alerts nobody twice)."""
    lifeline = Lifeline()
    broker = make_broker(settings, lifeline)
    app = make_app(broker, lifeline)
    deps = connected_deps(app, broker, settings)
    alerts = AlertChannel()
    launch(broker, settings, interface(deps, settings, alerts, subject, durable, notices_durable,
                                       notices_subject))

    @app.on_startup
    async def bind_alerts() -> None:
        await broker.connect()
        alerts.js = broker.connection.jetstream()

    return app


settings = Settings()
configure_logging(settings.log_format, settings.log_level, "notifications")
app = build(settings)
