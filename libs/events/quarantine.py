"""Quarantine: what a consumer does with an event it can never apply.

The log keeps every event for ever, so an event a reader cannot parse or apply (written by an
older version, or by hand straight to the stream) would otherwise stop that reader for good:
a projector whose checkpoint never moves, a reaction redelivered without end. Instead the
consumer sets it aside and goes on. Every quarantine is

- logged as an error line ``event_quarantined`` (consumer, stream sequence, subject, reason), and
- published as a ``QuarantineAlert`` on ``jf.sys.alert.<service>.quarantine``, which the
  ``JIANFU_OPS`` stream keeps for 90 days so ``jianfu status`` can list it.

The alert's ``Nats-Msg-Id`` is the consumer and the sequence, so a consumer that quarantines the
same event again within the stream's dedupe window (a redelivery) stores one alert.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import nats.errors
import structlog
from jianfu.events.edge import shown
from jianfu.events.provisioning import OPS_STREAM
from jianfu.events.store import ConcurrencyConflict, StoreUnavailable
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError
from pydantic import BaseModel, Field, ValidationError

log = structlog.get_logger("jianfu.quarantine")

ALERTS = "jf.sys.alert.*.quarantine"

# The broker or a dependency, not the event: trying again later can succeed.
TRANSIENT_FAILURES = (OSError, nats.errors.Error, StoreUnavailable, ConcurrencyConflict)
# nats errors that the same message raises every time (too large, a bad subject or header).
_NATS_VERDICTS = (nats.errors.MaxPayloadError, nats.errors.BadSubjectError, nats.errors.BadHeaderError)
# What an event's own content raises: pydantic's ValidationError is a ValueError, the
# catalogue's UnknownEventType a LookupError, like a missing upcaster's KeyError.
POISON = (ValueError, LookupError)


def is_transient(error: BaseException) -> bool:
    """A failure of the broker or a dependency (lost connection, timeout, store unavailable, a
    concurrent append): the event will apply later and must be retried, never quarantined."""
    return isinstance(error, TRANSIENT_FAILURES) and not isinstance(error, _NATS_VERDICTS)


def alert_subject(service: str) -> str:
    return f"jf.sys.alert.{service}.quarantine"


class QuarantineAlert(BaseModel):
    """An event a consumer set aside, for the operators: what, where in the log, and why."""

    service: str = Field(description="The service whose consumer quarantined it.")
    consumer: str = Field(description="The durable consumer or projection.")
    stream: str
    stream_sequence: int = Field(description="Where the event sits in the log.")
    subject: str
    event_id: str | None = Field(None, description="When the envelope was readable enough to tell.")
    event_type: str | None = None
    reason: str = Field(description="Why it cannot be applied.")
    quarantined_at: datetime

    @property
    def alert_id(self) -> str:
        return f"quarantine:{self.consumer}:{self.stream_sequence}"


def alert(service: str, consumer: str, stream: str, sequence: int, subject: str, reason: str,
          event_id: str | None = None, event_type: str | None = None) -> QuarantineAlert:
    """An alert with every text made printable and bounded (the event may carry anything)."""
    return QuarantineAlert(service=service, consumer=consumer, stream=stream, stream_sequence=sequence,
                           subject=printable(subject, 300), event_id=printable(event_id, 100),
                           event_type=printable(event_type, 100), reason=printable(reason, 1000),
                           quarantined_at=datetime.now(UTC))


async def report(js: JetStreamContext | None, quarantined: QuarantineAlert, timeout: float = 2.0) -> bool:
    """Log the quarantine and publish its alert; False if the alert could not be stored (the
    log line is then the only record, and the consumer goes on all the same)."""
    log.error("event_quarantined", service=quarantined.service, durable=quarantined.consumer,
              sequence=quarantined.stream_sequence, subject=quarantined.subject, event_id=quarantined.event_id,
              event_type=quarantined.event_type, reason=quarantined.reason)
    if js is None:
        return False
    try:
        await js.publish(alert_subject(quarantined.service), quarantined.model_dump_json().encode(),
                         timeout=timeout, headers={"Nats-Msg-Id": quarantined.alert_id})
    except Exception as error:  # noqa: BLE001 - an alert must never stop the consumer it reports on
        log.error("quarantine_alert_not_stored", alert_id=quarantined.alert_id, error=repr(error))
        return False
    return True


async def stored_alerts(js: JetStreamContext, timeout: float = 2.0) -> list[QuarantineAlert]:
    """Every quarantine alert the ops stream still holds, oldest first."""
    try:
        info = await js.stream_info(OPS_STREAM, subjects_filter=ALERTS)
    except NotFoundError:
        return []
    if not info.state.subjects:
        return []
    found: list[QuarantineAlert] = []
    sub = await js.subscribe(ALERTS, stream=OPS_STREAM, ordered_consumer=True,
                             config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL))
    try:
        while len(found) < sum(info.state.subjects.values()):
            try:
                msg = await sub.next_msg(timeout=timeout)
            except NatsTimeoutError:
                break  # aged out while we read
            found.append(QuarantineAlert.model_validate_json(msg.data))
            if msg.metadata.sequence.stream >= info.state.last_seq:
                break
    finally:
        await sub.unsubscribe()
    return found


def describe(error: BaseException) -> str:
    """Why an event failed, in words that stay the same from one attempt to the next (no input
    values, no links that change with the library's version)."""
    if isinstance(error, ValidationError):
        problems = "; ".join(f"{'.'.join(str(part) for part in e['loc']) or '(root)'}: {e['msg']}"
                             for e in error.errors(include_url=False, include_input=False, include_context=False))
        return f"{error.title}: {problems}"
    return f"{type(error).__name__}: {error}"


def peek(data: bytes) -> tuple[str | None, str | None]:
    """The event id and type of an envelope too broken to validate, if they can still be read."""
    try:
        envelope = json.loads(data)
    except (ValueError, RecursionError):  # a message nested 100,000 deep must not stop a consumer
        return None, None
    if not isinstance(envelope, dict):
        return None, None
    event_id, event_type = envelope.get("event_id"), envelope.get("event_type")
    return (event_id if isinstance(event_id, str) else None, event_type if isinstance(event_type, str) else None)


def printable(text: str | None, limit: int) -> str | None:
    """Safe to log, to publish and to store in any database (``edge.shown``); None stays None."""
    return None if text is None else shown(text, limit)
