"""Alert delivery on JetStream, where the alert's own subject is the delivery ledger.

Each alert goes to ``jf.alert.<responsible_org_id>.<stage_name>.<violation_id>`` (a reminder),
``jf.alert.<org_id>.<kind>.<key>`` (a warning, a circulation proposed to the confirmer, a
confirmed circulation to every organisation: ``LadderAlert``) or ``jf.alert.<borrowing_org_id>.secondment_ending.<notice_id>`` (an S7 notice) (stream
``JIANFU_ALERTS``) with ``Nats-Msg-Id`` = the id of the event it delivers and
``Nats-Expected-Last-Subject-Sequence: 0``. The server stores it only while the subject holds no
message, so the stream keeps exactly one alert per subject: a second attempt fails with 10071 (or
is acked as a duplicate inside the dedupe window), and both mean "already alerted".

The stream's refusal does not stop the message itself: a JetStream publish is a core publish, so
live subscribers of ``jf.alert.<org>.>`` would see every attempt. Hence the ledger is read first
and a redelivery or a replay publishes nothing. Only two first attempts racing each other (the
same violation handled by two consumers at the same moment) can both reach live subscribers;
the stream still stores one, and the ``Nats-Msg-Id`` header lets a receiver drop the copy.
"""

from __future__ import annotations

import hashlib
import re

from jianfu.events.envelope import Envelope, deterministic_event_id
from jianfu.events.organisations import Directory, OrgKind
from jianfu.events.provisioning import ALERT_STREAM
from jianfu.events.schemas.compliance import ViolationDetected
from jianfu.events.schemas.escalation import (
    CirculationConfirmed,
    CirculationProposed,
    EscalationAlert,
    LadderAlert,
    ReminderIssued,
    SecondmentEndingAlert,
    WarningIssued,
)
from jianfu.events.schemas.secondments import SecondmentEndingSoon
from jianfu.events.store import WRONG_LAST_SEQUENCE
from jianfu.notifications.domain.escalation import Stage
from jianfu.notifications.domain.notices import SECONDMENT_ENDING, days_left, notice_summary
from nats.js.client import JetStreamContext
from nats.js.errors import APIError, NotFoundError

ALERT_PREFIX = "jf.alert"
_SAFE_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def subject_token(value: str) -> str:
    """The value itself when it is a valid subject token, else a stable hash of it."""
    if _SAFE_TOKEN.match(value):
        return value
    return "h-" + hashlib.sha256(value.encode()).hexdigest()[:32]


def reminder_alert(violation: ViolationDetected, reminder: Envelope) -> EscalationAlert:
    """The alert for a stored ``ReminderIssued``: the same event always gives the same alert."""
    issued = ReminderIssued.model_validate(reminder.data)
    return EscalationAlert(
        alert_id=reminder.event_id,
        escalation_id=reminder.aggregate_id,
        stage=issued.stage,
        stage_name=Stage(issued.stage).name.lower(),
        violation_id=violation.violation_id,
        rule=violation.rule.value,
        clause=violation.clause,
        issued_by=issued.issued_by_org_id,
        recipient=issued.recipient,
        responsible_org_id=issued.responsible_org_id,
        school_id=violation.school_id,
        semester=violation.semester,
        summary=issued.summary,
        issued_at=reminder.occurred_at,
        correlation_id=reminder.correlation_id,
    )


def secondment_ending_alert(stored: Envelope, directory: Directory) -> SecondmentEndingAlert:
    """S7: the alert for a stored ``SecondmentEndingSoon``; the same event always gives the same alert."""
    notice = SecondmentEndingSoon.model_validate(stored.data)
    return SecondmentEndingAlert(
        alert_id=stored.event_id,
        kind=SECONDMENT_ENDING,
        notice_id=notice.notice_id,
        borrowing_org_id=notice.borrowing_org_id,
        teacher_id=notice.teacher_id,
        school_id=notice.school_id,
        secondment_id=notice.secondment_id,
        left_on=notice.left_on,
        ends_on=notice.ends_on,
        noticed_on=notice.noticed_on,
        days_left=days_left(notice),
        summary=notice_summary(notice, directory),
        issued_at=stored.occurred_at,
        correlation_id=stored.correlation_id,
    )


def warning_alert(stored: Envelope) -> LadderAlert:
    """G2 stage 2: the alert for a stored ``WarningIssued``, to the unit's principal leader."""
    warning = WarningIssued.model_validate(stored.data)
    return LadderAlert(
        alert_id=stored.event_id, kind="warning", org_id=warning.responsible_org_id, key=stored.event_id,
        escalation_id=warning.escalation_id, stage=int(Stage.WARNING), responsible_org_id=warning.responsible_org_id,
        issue_key=warning.issue_key, rule=warning.rule, issued_by=warning.issued_by_org_id,
        recipient=warning.recipient, violation_id=warning.violation_id, rectify_by=warning.rectify_by,
        summary=warning.summary,
        issued_at=stored.occurred_at, correlation_id=stored.correlation_id)


def proposal_alerts(stored: Envelope, directory: Directory, confirmer: OrgKind) -> list[LadderAlert]:
    """G2 stages 3–4: a proposal goes to every organisation that may confirm it."""
    proposal = CirculationProposed.model_validate(stored.data)
    return [LadderAlert(
        alert_id=_per_org(stored.event_id, org.org_id), kind="circulation_proposed", org_id=org.org_id,
        key=proposal.proposal_id, escalation_id=proposal.escalation_id, stage=proposal.stage,
        responsible_org_id=proposal.responsible_org_id, issue_key=proposal.issue_key, rule=proposal.rule,
        issued_by=stored.actor.org_id, recipient=confirmer.value, proposal_id=proposal.proposal_id,
        summary=proposal.summary, issued_at=stored.occurred_at, correlation_id=stored.correlation_id)
        for org in sorted(directory.of_kind(confirmer), key=lambda org: org.org_id)]


def circulation_alerts(stored: Envelope, proposed: CirculationProposed, directory: Directory) -> list[LadderAlert]:
    """G2 stages 3–4: a confirmed circulation goes to every organisation of the directory (stage 4
    is published besides, as a document)."""
    confirmed = CirculationConfirmed.model_validate(stored.data)
    summary = (f"【{'公开通报' if confirmed.stage == Stage.PUBLIC_CIRCULATION else '通报批评'}】"
               f"{confirmed.document_number}：{proposed.summary}"
               f"请于{confirmed.rectify_by.isoformat()}前整改到位（G2）。")
    return [LadderAlert(
        alert_id=_per_org(stored.event_id, org.org_id), kind="circulation", org_id=org.org_id,
        key=confirmed.proposal_id, escalation_id=confirmed.escalation_id, stage=confirmed.stage,
        responsible_org_id=confirmed.responsible_org_id, issue_key=proposed.issue_key, rule=proposed.rule,
        issued_by=confirmed.confirmed_by_org_id, recipient="all_units", proposal_id=confirmed.proposal_id,
        document_number=confirmed.document_number, rectify_by=confirmed.rectify_by, summary=summary,
        issued_at=stored.occurred_at, correlation_id=stored.correlation_id)
        for org in sorted(directory.organisations, key=lambda org: org.org_id)]


def _per_org(event_id: str, org_id: str) -> str:
    """One alert id per event and organisation told (the stream dedupes by it)."""
    return deterministic_event_id("alert", event_id, org_id)


Alert = EscalationAlert | SecondmentEndingAlert | LadderAlert


def alert_subject(alert: Alert) -> str:
    if isinstance(alert, LadderAlert):
        return ".".join((ALERT_PREFIX, subject_token(alert.org_id), alert.kind, subject_token(alert.key)))
    if isinstance(alert, SecondmentEndingAlert):
        return ".".join((ALERT_PREFIX, subject_token(alert.borrowing_org_id), alert.kind,
                         subject_token(alert.notice_id)))
    return ".".join((ALERT_PREFIX, subject_token(alert.responsible_org_id), alert.stage_name,
                     subject_token(alert.violation_id)))


class AlertChannel:
    """Publishes alerts at most once per subject. ``js`` is bound when the app has connected."""

    def __init__(self, js: JetStreamContext | None = None, stream: str = ALERT_STREAM, timeout: float = 5.0) -> None:
        self.js = js
        self.stream = stream
        self.timeout = timeout

    async def deliver(self, alert: Alert) -> bool:
        """Publish the alert; False when its subject already holds it (sent before)."""
        subject = alert_subject(alert)
        if await self.sent(subject):
            return False
        headers = {
            "Nats-Msg-Id": alert.alert_id,
            "Nats-Expected-Last-Subject-Sequence": "0",
            "Jf-Correlation-Id": alert.correlation_id,
        }
        try:
            ack = await self.js.publish(subject, alert.model_dump_json().encode(), stream=self.stream,
                                        timeout=self.timeout, headers=headers)
        except APIError as error:
            if error.err_code == WRONG_LAST_SEQUENCE:
                return False
            raise  # e.g. 10164, another publish to this subject in flight: redelivery retries
        return not ack.duplicate

    async def sent(self, subject: str) -> bool:
        """The ledger: an alert subject holds a message once its alert went out."""
        try:
            await self.js.get_last_msg(self.stream, subject)
        except NotFoundError:
            return False
        return True
