"""G2 alert delivery beside NATS: a webhook and an e-mail worker following the alerts stream.

Each channel has a durable pull consumer of its own on ``JIANFU_ALERTS`` (``notifications-webhook``,
``notifications-email``, filter ``jf.alert.>``). For every stored alert the worker looks the
organisation (the subject's second token) up in the directory's ``channels`` and, if it has the
channel, loads the record ``alert_delivery.<alert_id>`` first (load → decide → append):

- delivered already, or given up for good → nothing is sent (a redelivery, a restart, a second
  replica);
- else it sends, attempt after attempt with exponential backoff (``RetrySchedule``), numbering the
  attempts on from those already recorded, and records each outcome: ``AlertDeliveryFailed`` per
  failed attempt (event id from alert, channel and attempt), the last one ``final=true``;
  ``AlertDelivered`` once per alert and channel (event id from alert and channel).

Why the alerts stream and not the events: alerts are published once (their subject is their own
ledger, ``alerts.py``) and a rebuild — a new consumer replaying the events from sequence 1 —
publishes none again, so nothing is sent during a rebuild. A crash between a successful send and
its record sends that alert once more on the redelivery: delivery is at least once per channel,
the record exactly once (a receiver drops a repeated ``X-Jianfu-Alert-Id``).

HTTP is httpx (async, timeouts on every phase, a maintained client); the backoff is tenacity's
retry loop with our own schedule as its wait, so the delays are a pure, tested function; e-mail is
aiosmtplib, sending UTF-8 MIME so the Chinese summary arrives intact.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import urlsplit

import aiosmtplib
import httpx
import structlog
from jianfu.events import catalogue
from jianfu.events.dependencies import Deps
from jianfu.events.envelope import SYSTEM_ACTOR
from jianfu.events.organisations import Organisation
from jianfu.events.provisioning import ALERT_STREAM
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.escalation import AlertDelivered, AlertDeliveryFailed, DeliveryChannel
from jianfu.events.settings import Settings
from jianfu.events.store import History, execute
from jianfu.notifications.domain.delivery import (
    ALERT_ID_HEADER,
    SIGNATURE_HEADER,
    ChannelRecord,
    DeliveryRecord,
    RetrySchedule,
    alert_org,
    channels_of,
    delivered_command_id,
    failed_command_id,
    signature,
)
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from tenacity import AsyncRetrying, RetryError, retry_if_exception_type, stop_after_attempt

log = structlog.get_logger("jianfu.notifications.delivery")

ALERT_DELIVERY = "alert_delivery"
ALL_ALERTS = "jf.alert.>"
WEBHOOK_DURABLE = "notifications-webhook"
EMAIL_DURABLE = "notifications-email"
ACK_WAIT = 120.0  # an alert in hand is kept (``in_progress``) before every attempt
FETCH_TIMEOUT = 1.0
FETCH_FAILED_PAUSE = 1.0
OUTCOMES = (AlertDelivered, AlertDeliveryFailed)  # what delivery appends (the service's interface emits them)
DURABLES = (WEBHOOK_DURABLE, EMAIL_DURABLE)  # on JIANFU_ALERTS (libs/cli/accounts.py grants them)


class DeliverySettings(BaseSettings):
    """Delivery's own settings (environment, prefix ``JIANFU_``). E-mail is off without a host."""

    model_config = SettingsConfigDict(env_prefix="JIANFU_", extra="ignore")

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "jianfu@localhost"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    delivery_attempts: int = Field(5, ge=1, description="Attempts per alert and channel before giving up.")
    delivery_first_delay: float = Field(1.0, ge=0, description="Seconds after the first failure; doubles.")
    delivery_max_delay: float = Field(60.0, ge=0)
    delivery_timeout: float = Field(10.0, gt=0, description="Seconds one attempt may take.")

    def schedule(self) -> RetrySchedule:
        return RetrySchedule(self.delivery_attempts, self.delivery_first_delay, 2.0, self.delivery_max_delay)


class DeliveryError(Exception):
    """One attempt failed; ``permanent`` when retrying cannot help (no key configured)."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Alert:
    """An alert as stored in the stream: its bytes are what a webhook receives."""

    subject: str
    body: bytes
    alert_id: str
    org_id: str
    document: dict

    @classmethod
    def read(cls, subject: str, body: bytes, headers: dict[str, str] | None) -> Alert | None:
        """None for a message that is no alert of ours (not JSON, no id, no organisation)."""
        org_id = alert_org(subject)
        try:
            document = json.loads(body)
        except ValueError:
            return None
        alert_id = (document.get("alert_id") if isinstance(document, dict) else None) or (headers or {}).get(
            "Nats-Msg-Id")
        if not org_id or not isinstance(alert_id, str) or not isinstance(document, dict):
            return None
        return cls(subject, body, alert_id, org_id, document)


Send = Callable[[Alert, Organisation], Awaitable[str]]


class WebhookSender:
    """POSTs the alert's stored bytes, signed with the key the directory's variable holds."""

    channel = DeliveryChannel.WEBHOOK

    def __init__(self, timeout: float = 10.0, client: httpx.AsyncClient | None = None) -> None:
        self.timeout = timeout
        self.client = client or httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    @staticmethod
    def target(org: Organisation) -> str:
        """The webhook's host (and port): recorded, never its user, password, path or query (they
        may hold a token)."""
        parts = urlsplit(org.channels.webhook_url or "")
        try:
            port = parts.port
        except ValueError:  # not a port number: the attempt fails on it; record the host alone
            port = None
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        return f"{host}:{port}" if port is not None else host

    async def __call__(self, alert: Alert, org: Organisation) -> str:
        if (org.channels.webhook_secret_env or "") in SERVICE_SETTINGS:
            raise DeliveryError(f"the webhook key variable {org.channels.webhook_secret_env} is a setting of the "
                                "service, not a key", permanent=True)
        try:
            urlsplit(org.channels.webhook_url or "").port  # noqa: B018 - a port out of range raises here
        except ValueError as error:  # httpx would fail below anyio with an exception group, retried for ever
            raise DeliveryError(f"the webhook URL is unusable: {error}", permanent=True) from error
        key = os.environ.get(org.channels.webhook_secret_env or "")
        if not key:
            raise DeliveryError(f"the webhook key variable {org.channels.webhook_secret_env} is not set",
                                permanent=True)
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature(alert.body, key.encode()),
                   ALERT_ID_HEADER: alert.alert_id}
        try:
            status = await self._post(org.channels.webhook_url, alert.body, headers)
        except (httpx.HTTPError, httpx.InvalidURL) as error:  # refused, timed out, unreachable, no such host
            raise DeliveryError(f"{type(error).__name__}: {error}") from error
        except TimeoutError as error:
            raise DeliveryError(f"no answer within {self.timeout} s") from error
        except ValueError as error:  # e.g. a host no IDNA codec takes: the URL will never work
            raise DeliveryError(f"the webhook URL is unusable: {type(error).__name__}: {error}", permanent=True
                                ) from error
        if not 200 <= status < 300:
            raise DeliveryError(f"HTTP {status}")
        return self.target(org)

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """The answer's status, within ``timeout`` for the whole attempt (httpx's timeouts are per
        read, so a receiver dripping its answer would hold an attempt for ever); the answer's body
        is never read (a huge one costs nothing), redirects are not followed (a 3xx fails)."""
        async with asyncio.timeout(self.timeout), self.client.stream("POST", url, content=body,
                                                                     headers=headers) as response:
            return response.status_code

    async def close(self) -> None:
        await self.client.aclose()


SERVICE_SETTINGS = frozenset(
    f"JIANFU_{name.upper()}" for name in (*Settings.model_fields, *DeliverySettings.model_fields))
"""Variables a directory's ``webhook_secret_env`` may not name: keying a receiver's signature with
the service's NATS or SMTP password would hand it a way to guess that password offline."""

_LINE_BREAK = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]")


def _one_line(value: str) -> str:
    """A header value on one line: a name or id with a line break cannot add headers of its own."""
    return _LINE_BREAK.sub(" ", value)


class EmailSender:
    """Sends the alert's summary and its JSON as a UTF-8 text mail to the organisation's addresses."""

    channel = DeliveryChannel.EMAIL

    def __init__(self, settings: DeliverySettings) -> None:
        self.settings = settings

    @staticmethod
    def target(org: Organisation) -> str:
        return ",".join(org.channels.emails)

    def message(self, alert: Alert, org: Organisation) -> EmailMessage:
        summary = str(alert.document.get("summary", ""))
        kind = alert.document.get("kind") or alert.document.get("stage_name") or "alert"
        message = EmailMessage()
        if any(_LINE_BREAK.search(address) for address in org.channels.emails):
            raise DeliveryError("an address of the directory holds a line break", permanent=True)
        message["From"] = self.settings.smtp_from
        message["To"] = ", ".join(org.channels.emails)
        message["Subject"] = _one_line(f"【减负督办】{org.name}：{kind}")
        message["X-Jianfu-Alert-Id"] = _one_line(alert.alert_id)
        pretty = json.dumps(alert.document, ensure_ascii=False, indent=2)
        message.set_content(f"{summary}\n\n{pretty}\n", charset="utf-8")
        return message

    async def __call__(self, alert: Alert, org: Organisation) -> str:
        settings = self.settings
        if not settings.smtp_host:
            raise DeliveryError("JIANFU_SMTP_HOST is not set", permanent=True)
        try:
            await aiosmtplib.send(self.message(alert, org), hostname=settings.smtp_host, port=settings.smtp_port,
                                  username=settings.smtp_user, password=settings.smtp_password,
                                  start_tls=settings.smtp_starttls, timeout=settings.delivery_timeout)
        except (aiosmtplib.SMTPException, OSError) as error:
            raise DeliveryError(f"{type(error).__name__}: {error}") from error
        except ValueError as error:  # an address SMTP cannot carry: no retry helps, and none may loop
            raise DeliveryError(f"{type(error).__name__}: {error}", permanent=True) from error
        return self.target(org)

    async def close(self) -> None:
        return None


class ChannelDelivery:
    """Delivers alerts on one channel and records every outcome; ``deliver`` is the handler."""

    def __init__(self, deps: Deps, channel: DeliveryChannel, send: Send, schedule: RetrySchedule) -> None:
        self.deps, self.channel, self.send, self.schedule = deps, DeliveryChannel(channel), send, schedule

    async def record(self, alert_id: str) -> ChannelRecord:
        history = await self.deps.store.load(ALERT_DELIVERY, alert_id)
        return record_of(history).channel(self.channel)

    async def deliver(self, alert: Alert, keep_alive: Callable[[], Awaitable[None]] | None = None) -> str:
        """Send one alert on this channel unless the record says it is settled; the outcome:
        ``not_configured``, ``already_delivered``, ``already_given_up``, ``delivered``, ``gave_up``."""
        org = self.deps.directory.get(alert.org_id)
        if self.channel not in channels_of(org):
            return "not_configured"
        record = await self.record(alert.alert_id)
        if record.delivered is not None:
            return "already_delivered"
        if record.gave_up:
            return "already_given_up"
        first = record.next_attempt
        attempt = first
        retrying = AsyncRetrying(
            stop=stop_after_attempt(max(self.schedule.max_attempts - first + 1, 1)),
            wait=lambda state: self.schedule.delay_after(first + state.attempt_number - 1),
            retry=retry_if_exception_type(DeliveryError) & _not_permanent)
        try:
            async for tried in retrying:
                with tried:
                    attempt = first + tried.retry_state.attempt_number - 1
                    if keep_alive is not None:
                        await keep_alive()
                    await self.attempt(alert, org, attempt)
        except (RetryError, DeliveryError):
            return "gave_up"
        return "delivered"

    async def attempt(self, alert: Alert, org: Organisation, attempt: int) -> None:
        try:
            target = await self.send(alert, org)
        except DeliveryError as error:
            final = error.permanent or self.schedule.is_last(attempt)
            await self.append(alert, failed_command_id(alert.alert_id, self.channel, attempt), AlertDeliveryFailed(
                alert_id=alert.alert_id, org_id=alert.org_id, channel=self.channel, target=self.target(org),
                attempt=attempt, error=str(error)[:500], final=final, failed_at=self.deps.clock.now()))
            log.warning("alert_delivery_failed", channel=self.channel.value, alert_id=alert.alert_id,
                        org_id=alert.org_id, attempt=attempt, final=final, error=str(error)[:500])
            if final:
                error.permanent = True
            raise
        await self.append(alert, delivered_command_id(alert.alert_id, self.channel), AlertDelivered(
            alert_id=alert.alert_id, org_id=alert.org_id, channel=self.channel, target=target, attempts=attempt,
            delivered_at=self.deps.clock.now()))
        log.info("alert_delivered", channel=self.channel.value, alert_id=alert.alert_id, org_id=alert.org_id,
                 attempts=attempt)

    def target(self, org: Organisation) -> str:
        return WebhookSender.target(org) if self.channel == DeliveryChannel.WEBHOOK else EmailSender.target(org)

    async def append(self, alert: Alert, command_id: str, outcome: AlertDelivered | AlertDeliveryFailed) -> None:
        """Append the outcome unless the record holds it already (same command, same event id)."""
        correlation = str(alert.document.get("correlation_id") or alert.alert_id)
        context = CommandContext(SYSTEM_ACTOR, command_id, correlation, self.deps.policy.version, self.deps.clock.now())
        event = context.event(outcome, alert.alert_id).model_copy(update={"causation_id": command_id})

        def decide(history: History) -> list:
            if history.find(event.event_id) or history.caused_by(command_id):
                return []
            if isinstance(outcome, AlertDelivered) and record_of(history).channel(self.channel).delivered:
                return []
            return [event]

        await execute(self.deps.store, ALERT_DELIVERY, alert.alert_id, decide, self.deps.retries)


def _not_permanent(state) -> bool:
    error = state.outcome.exception() if state.outcome else None
    return not (isinstance(error, DeliveryError) and error.permanent)


def record_of(history: History) -> DeliveryRecord:
    return DeliveryRecord.of(history.aggregate_id, (catalogue.parse(e) for e in history.envelopes))


class AlertFollower:
    """A durable pull consumer on the alerts stream feeding one channel: fetch, deliver, ack.

    An alert that is no alert of ours is acked and logged; an unexpected failure (the log
    unreachable) is redelivered after a pause, so no alert is lost."""

    def __init__(self, delivery: ChannelDelivery, durable: str, subject: str = ALL_ALERTS,
                 stream: str = ALERT_STREAM, batch_size: int = 8) -> None:
        self.delivery, self.durable, self.subject, self.stream = delivery, durable, subject, stream
        self.batch_size = batch_size
        self.task: asyncio.Task | None = None
        self.sub = None
        self.stopping = False

    def config(self) -> ConsumerConfig:
        return ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.EXPLICIT, ack_wait=ACK_WAIT,
                              max_ack_pending=self.batch_size)

    async def start(self, js: JetStreamContext) -> None:
        self.sub = await js.pull_subscribe(self.subject, durable=self.durable, stream=self.stream,
                                           config=self.config())
        self.task = asyncio.get_running_loop().create_task(self._follow())

    async def stop(self) -> None:
        self.stopping = True
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        if self.sub is not None:
            try:
                await self.sub.unsubscribe()
            except Exception as error:  # noqa: BLE001 - the connection may be gone already
                log.warning("delivery_unsubscribe_failed", durable=self.durable, error=repr(error))

    async def _follow(self) -> None:
        while not self.stopping:
            try:
                batch = await self.sub.fetch(self.batch_size, timeout=FETCH_TIMEOUT)
            except (TimeoutError, NatsTimeoutError):
                continue
            except Exception as error:  # noqa: BLE001 - connection or consumer lost: again, slowly
                log.warning("delivery_fetch_failed", durable=self.durable, error=repr(error))
                await asyncio.sleep(FETCH_FAILED_PAUSE)
                continue
            await asyncio.gather(*(self.handle(msg) for msg in batch))

    async def handle(self, msg: Msg) -> None:
        alert = Alert.read(msg.subject, msg.data, msg.headers)
        if alert is None:
            log.error("alert_unreadable", durable=self.durable, subject=msg.subject)
            await msg.ack()
            return
        try:
            outcome = await self.delivery.deliver(alert, keep_alive=msg.in_progress)
        except Exception:  # noqa: BLE001 - e.g. the log unreachable: delivered again later
            log.exception("alert_delivery_interrupted", durable=self.durable, alert_id=alert.alert_id)
            await msg.nak(delay=5.0)
            return
        log.debug("alert_handled", channel=self.delivery.channel.value, alert_id=alert.alert_id, outcome=outcome)
        await msg.ack()


def followers(deps: Deps, settings: DeliverySettings, subject: str = ALL_ALERTS,
              webhook_durable: str = WEBHOOK_DURABLE, email_durable: str = EMAIL_DURABLE) -> list[AlertFollower]:
    """The webhook worker always (organisations without a webhook are passed over), the e-mail
    worker when an SMTP host is configured."""
    schedule = settings.schedule()
    found = [AlertFollower(ChannelDelivery(deps, DeliveryChannel.WEBHOOK, WebhookSender(settings.delivery_timeout),
                                           schedule), webhook_durable, subject)]
    if settings.smtp_host:
        found.append(AlertFollower(ChannelDelivery(deps, DeliveryChannel.EMAIL, EmailSender(settings), schedule),
                                   email_durable, subject))
    return found
