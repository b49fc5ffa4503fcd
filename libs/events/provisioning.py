"""Provisioning of the ``JIANFU_EVENTS`` stream exactly as DESIGN.md fixes it: no limits of any
kind, ``discard=new``, delete and purge denied. Services connect with ``declare=False`` and never
create it themselves; this runs once per deployment (the migrate-and-provision job). Beside it:
``JIANFU_ALERTS`` (alerts to units and staff), ``JIANFU_OPS`` (alerts to operators) and
``JIANFU_COMMANDS`` (the command ledger)."""

from __future__ import annotations

from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

EVENT_SUBJECTS = ["jf.ev.>"]
ALERT_STREAM = "JIANFU_ALERTS"
ALERT_SUBJECTS = ["jf.alert.>"]
OPS_STREAM = "JIANFU_OPS"
OPS_SUBJECTS = ["jf.sys.alert.>"]
OPS_MAX_AGE_SECONDS = 90 * 24 * 3600
COMMAND_STREAM = "JIANFU_COMMANDS"
COMMAND_PREFIX = "jf.cmdid"


def event_stream_config(name: str = "JIANFU_EVENTS", replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=name,
        description="jianfu event log: the source of truth. Never deleted, never purged.",
        subjects=EVENT_SUBJECTS,
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_consumers=-1,
        max_msgs=-1,
        max_bytes=-1,
        max_age=0,
        max_msgs_per_subject=-1,
        max_msg_size=-1,
        discard=DiscardPolicy.NEW,
        num_replicas=replicas,
        deny_delete=True,
        deny_purge=True,
        allow_rollup_hdrs=False,
        allow_direct=True,
        duplicate_window=120,
    )


def alert_stream_config(replicas: int = 1) -> StreamConfig:
    """Alerts are kept too, so staff systems that were offline can catch up; duplicates of one
    alert id inside the window are dropped."""
    return StreamConfig(
        name=ALERT_STREAM,
        description="jianfu alerts to units and staff",
        subjects=ALERT_SUBJECTS,
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.NEW,
        num_replicas=replicas,
        deny_delete=True,
        deny_purge=True,
        duplicate_window=24 * 3600,
    )


def ops_stream_config(replicas: int = 1) -> StreamConfig:
    """Operator alerts (quarantined events): kept 90 days so ``jianfu status`` can list them
    after the fact; the oldest age out. A quarantine reported twice stores one alert."""
    return StreamConfig(
        name=OPS_STREAM,
        description="jianfu alerts to operators (jf.sys.alert.>), kept 90 days",
        subjects=OPS_SUBJECTS,
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=OPS_MAX_AGE_SECONDS,
        discard=DiscardPolicy.OLD,
        num_replicas=replicas,
        duplicate_window=24 * 3600,
    )


def command_stream_config(replicas: int = 1) -> StreamConfig:
    """The command ledger (``ledger.py``): one message per command key, kept as long as the log,
    so a command id stays bound to its body however late a retry or a reuse comes."""
    return StreamConfig(
        name=COMMAND_STREAM,
        description="jianfu command ledger: the body digest each command key was first accepted with",
        subjects=[f"{COMMAND_PREFIX}.>"],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=0,
        discard=DiscardPolicy.NEW,
        num_replicas=replicas,
        deny_delete=True,
        deny_purge=True,
        allow_direct=True,
    )


async def provision(js: JetStreamContext, stream: str = "JIANFU_EVENTS", replicas: int = 1) -> list[str]:
    """Create the streams, or bring an existing one to the configuration above. Returns what changed."""
    changed = []
    for config in (event_stream_config(stream, replicas), alert_stream_config(replicas),
                   ops_stream_config(replicas), command_stream_config(replicas)):
        try:
            await js.stream_info(config.name)
        except NotFoundError:
            await js.add_stream(config)
            changed.append(f"created {config.name}")
        else:
            await js.update_stream(config)
            changed.append(f"updated {config.name}")
    return changed
