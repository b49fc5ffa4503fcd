"""Composition root of the notifications service: ``faststream run jianfu.notifications.app:app``.

A durable pull consumer (``notifications-ladder``) feeds every ``ViolationDetected`` to the G2
ladder, another (``notifications-deadlines``) every ``RectificationDeadlineMissed``, another
(``notifications-notices``) every S7 ``SecondmentEndingSoon`` to its alert; alerts go out on
``jf.alert.<org_id>.>`` through the broker's own connection. People's G2 commands (confirm or
decline a circulation, report, verify or reject a rectification) arrive on
``jf.cmd.<org_id>.notifications.<command>``.
"""

from __future__ import annotations

from functools import partial

from faststream import FastStream
from jianfu.events.commands import Router
from jianfu.events.dependencies import Deps
from jianfu.events.logging import configure_logging
from jianfu.events.organisations import OrgKind
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
from jianfu.events.schemas.escalation import (
    CirculationConfirmed,
    CirculationDeclined,
    CirculationNumberAssigned,
    CirculationProposed,
    ConfirmCirculation,
    DeclineCirculation,
    EscalationAlert,
    LadderAlert,
    RectificationDeadlineMissed,
    RectificationRejected,
    RectificationReported,
    RectificationVerified,
    RejectRectification,
    ReminderIssued,
    ReportRectification,
    SecondmentEndingAlert,
    VerifyRectification,
    WarningIssued,
)
from jianfu.events.schemas.secondments import SecondmentEndingSoon
from jianfu.events.settings import Settings
from jianfu.events.snapshots import Snapshots
from jianfu.notifications import documents, handlers, ladder_commands
from jianfu.notifications.alerts import AlertChannel
from jianfu.notifications.delivery import OUTCOMES as DELIVERY_OUTCOMES
from jianfu.notifications.delivery import DeliverySettings, followers

VIOLATIONS = "jf.ev.violation.>"
LADDER_DURABLE = "notifications-ladder"
NOTICES = "jf.ev.secondment_notice.>"
NOTICES_DURABLE = "notifications-notices"
DEADLINES = "jf.ev.rectification_deadline.>"
DEADLINES_DURABLE = "notifications-deadlines"
CIRCULATIONS = "jf.ev.escalation.>"
CIRCULATIONS_DURABLE = "notifications-circulations"
REVIEWERS = {OrgKind.EDUCATION_BUREAU, OrgKind.SUPERVISION_OFFICE}  # G2: who issues steps, and so reviews reports


def ladder_router(deps: Deps, settings: Settings) -> Router:
    """G2: the people's commands; who of a kind may act on which escalation the handler decides."""
    router = Router("notifications", deps.directory, max_payload_bytes=settings.max_payload_bytes, ledger=deps.ledger)
    confirmer = {deps.policy.escalation.circulation_confirmer_kind}
    router.add(ConfirmCirculation, partial(ladder_commands.confirm_circulation, deps=deps), confirmer)
    router.add(DeclineCirculation, partial(ladder_commands.decline_circulation, deps=deps), confirmer)
    router.add(ReportRectification, partial(ladder_commands.report_rectification, deps=deps))
    router.add(VerifyRectification, partial(ladder_commands.verify_rectification, deps=deps), REVIEWERS)
    router.add(RejectRectification, partial(ladder_commands.reject_rectification, deps=deps), REVIEWERS)
    return router


def interface(
    deps: Deps,
    settings: Settings,
    alerts: AlertChannel | None = None,
    subject: str = VIOLATIONS,
    durable: str = LADDER_DURABLE,
    notices_durable: str = NOTICES_DURABLE,
    notices_subject: str = NOTICES,
    deadlines_durable: str = DEADLINES_DURABLE,
    circulations_durable: str = CIRCULATIONS_DURABLE,
    shelf: documents.DocumentShelf | None = None,
    documents_durable: str = documents.DOCUMENTS_DURABLE,
) -> Interface:
    snapshots = Snapshots(deps.store, every=settings.snapshot_every)
    alerts = alerts or AlertChannel()
    gate = handlers.InOrder()
    ladder = Subscription(subject, durable, partial(handlers.on_violation, deps=deps, alerts=alerts,
                                                    snapshots=snapshots, gate=gate), (ViolationDetected,))
    notices = Subscription(notices_subject, notices_durable, partial(handlers.on_secondment_notice, deps=deps,
                                                                     alerts=alerts), (SecondmentEndingSoon,))
    deadlines = Subscription(DEADLINES, deadlines_durable, partial(handlers.on_deadline_missed, deps=deps,
                                                                  alerts=alerts, snapshots=snapshots, gate=gate),
                             (RectificationDeadlineMissed,))
    circulations = Subscription(CIRCULATIONS, circulations_durable, partial(handlers.on_circulation_confirmed,
                                                                            deps=deps, alerts=alerts),
                                (CirculationConfirmed,))  # G2: a confirmed circulation to every organisation
    circulated = Subscription(documents.ESCALATIONS, documents_durable, partial(
        documents.on_circulation_confirmed, deps=deps, shelf=shelf or documents.DocumentShelf(deps.store)),
        (CirculationConfirmed,))  # G2: the document of a confirmed circulation, stored by number
    return Interface("notifications", "The G2 escalation ladder: a reminder or a warning and an alert for every "
                     "violation, a warning or a circulation proposal for a missed rectification deadline, "
                     "circulations confirmed or declined by a person and numbered per year, rectifications "
                     "reported and verified; and S7's notice before a secondment ends, an alert of its own kind.",
                     routers=(ladder_router(deps, settings),),
                     subscriptions=(ladder, deadlines, circulations, notices, circulated),
                     emits=(ReminderIssued, WarningIssued, CirculationProposed, CirculationNumberAssigned,
                            CirculationConfirmed, CirculationDeclined, RectificationReported, RectificationVerified,
                            RectificationRejected, *DELIVERY_OUTCOMES),
                     sends=(("jf.alert.{org_id}.reminder.{violation_id}", EscalationAlert),
                            ("jf.alert.{org_id}.warning.{event_id}", LadderAlert),
                            ("jf.alert.{org_id}.circulation_proposed.{proposal_id}", LadderAlert),
                            ("jf.alert.{org_id}.circulation.{proposal_id}", LadderAlert),
                            ("jf.alert.{borrowing_org_id}.secondment_ending.{notice_id}", SecondmentEndingAlert)))


def build(settings: Settings, subject: str = VIOLATIONS, durable: str = LADDER_DURABLE,
          notices_durable: str = NOTICES_DURABLE, notices_subject: str = NOTICES,
          delivery: DeliverySettings | None = None) -> FastStream:
    """The app; the subjects and durables differ only in tests and rebuilds (a new durable
    replays the violations, or the notices, from sequence 1, which alerts nobody twice).
    Beside it the delivery workers follow the alerts stream (webhook, and e-mail when an SMTP
    host is set: ``delivery.py``)."""
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

    workers = followers(deps, delivery or DeliverySettings())

    @app.after_startup
    async def deliver_alerts() -> None:
        for worker in workers:
            await worker.start(broker.connection.jetstream())

    @app.on_shutdown
    async def stop_delivering() -> None:
        for worker in workers:
            await worker.stop()

    return app


settings = Settings()
configure_logging(settings.log_format, settings.log_level, "notifications")
app = build(settings)
