"""G2 alert delivery, the rules without the wire: which channels an organisation has, how a
webhook body is signed, when the next attempt is due, and what the record of one alert's
deliveries (aggregate ``alert_delivery.<alert_id>``) already says.

Plain Python: the workers in ``jianfu.notifications.delivery`` do the sending and the appending.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field

from jianfu.events.organisations import Organisation
from jianfu.events.schemas.escalation import AlertDelivered, AlertDeliveryFailed, DeliveryChannel

SIGNATURE_HEADER = "X-Jianfu-Signature"
ALERT_ID_HEADER = "X-Jianfu-Alert-Id"
ALERT_PREFIX = "jf.alert."


def signature(body: bytes, key: bytes) -> str:
    """The header value a receiver checks: ``sha256=`` and the hex HMAC-SHA256 of the exact body."""
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def signature_matches(body: bytes, key: bytes, header: str) -> bool:
    """What a receiver does (constant time): the body it got, signed with the shared key."""
    return hmac.compare_digest(signature(body, key), header)


def channels_of(org: Organisation | None) -> tuple[DeliveryChannel, ...]:
    """The channels an organisation's alerts go to: NATS always (the alert subject itself), a
    webhook when the directory names both its URL and the variable holding its key, e-mail when
    it lists addresses. An organisation the directory does not know gets NATS only."""
    found = [DeliveryChannel.NATS]
    if org is None:
        return tuple(found)
    if org.channels.webhook_url and org.channels.webhook_secret_env:
        found.append(DeliveryChannel.WEBHOOK)
    if org.channels.emails:
        found.append(DeliveryChannel.EMAIL)
    return tuple(found)


def alert_org(subject: str) -> str | None:
    """The organisation an alert is for: the second token of ``jf.alert.<org>.<kind>.<id>``."""
    if not subject.startswith(ALERT_PREFIX):
        return None
    tokens = subject.split(".")
    return tokens[2] if len(tokens) >= 4 and tokens[2] else None


@dataclass(frozen=True)
class RetrySchedule:
    """Exponential backoff: attempt ``n`` fails → wait ``first_delay * factor**(n-1)`` (at most
    ``max_delay``) before attempt ``n+1``; after ``max_attempts`` failures the delivery gives up
    (recorded as final; the alert stays in the alerts stream)."""

    max_attempts: int = 5
    first_delay: float = 1.0
    factor: float = 2.0
    max_delay: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.first_delay < 0 or self.factor < 1 or self.max_delay < 0:
            raise ValueError("a retry schedule needs at least one attempt and non-negative, growing delays")

    def delay_after(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based)."""
        return min(self.first_delay * self.factor ** max(attempt - 1, 0), self.max_delay)

    def is_last(self, attempt: int) -> bool:
        return attempt >= self.max_attempts


@dataclass
class ChannelRecord:
    """One channel of one alert: delivered (after how many attempts) or the failures so far."""

    delivered: AlertDelivered | None = None
    failures: list[AlertDeliveryFailed] = field(default_factory=list)

    @property
    def gave_up(self) -> bool:
        return any(f.final for f in self.failures)

    @property
    def settled(self) -> bool:
        """Nothing more to send on this channel: delivered, or given up for good."""
        return self.delivered is not None or self.gave_up

    @property
    def next_attempt(self) -> int:
        """Attempts are numbered across restarts: a redelivered alert goes on where it stopped."""
        return max((f.attempt for f in self.failures), default=0) + 1


@dataclass
class DeliveryRecord:
    """The fold of ``alert_delivery.<alert_id>``: what each channel got."""

    alert_id: str
    channels: dict[DeliveryChannel, ChannelRecord] = field(default_factory=dict)

    def channel(self, channel: DeliveryChannel) -> ChannelRecord:
        return self.channels.setdefault(DeliveryChannel(channel), ChannelRecord())

    def apply(self, event: object) -> None:
        if isinstance(event, AlertDelivered):
            self.channel(event.channel).delivered = event
        elif isinstance(event, AlertDeliveryFailed):
            self.channel(event.channel).failures.append(event)

    @classmethod
    def of(cls, alert_id: str, events: Iterable[object]) -> DeliveryRecord:
        record = cls(alert_id)
        for event in events:
            record.apply(event)
        return record


def delivered_command_id(alert_id: str, channel: DeliveryChannel) -> str:
    """Idempotency key of "this alert reached this channel": one ``AlertDelivered`` each."""
    return f"deliver:{alert_id}:{DeliveryChannel(channel).value}"


def failed_command_id(alert_id: str, channel: DeliveryChannel, attempt: int) -> str:
    """Idempotency key of one failed attempt: one ``AlertDeliveryFailed`` per attempt."""
    return f"deliver:{alert_id}:{DeliveryChannel(channel).value}:{attempt}"
