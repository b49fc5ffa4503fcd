"""Provisioning of the ``JIANFU_EVENTS`` stream exactly as DESIGN.md fixes it: no limits of any
kind, ``discard=new``, delete and purge denied. Services connect with ``declare=False`` and never
create it themselves; this runs once per deployment (the migrate-and-provision job). Beside it:
``JIANFU_ALERTS`` (alerts to units and staff), ``JIANFU_OPS`` (alerts to operators) and
``JIANFU_COMMANDS`` (the command ledger) and ``JIANFU_SNAPSHOTS`` (snapshots of aggregates,
derived data that may be thrown away), and the object store ``JIANFU_DOCUMENTS`` (circulation
documents by number, G2)."""

from __future__ import annotations

from dataclasses import replace

from nats.js.api import DiscardPolicy, ObjectStoreConfig, RetentionPolicy, StorageType, StreamConfig
from nats.js.client import JetStreamContext
from nats.js.errors import BucketNotFoundError, NotFoundError

EVENT_SUBJECTS = ["jf.ev.>"]
ALERT_STREAM = "JIANFU_ALERTS"
ALERT_SUBJECTS = ["jf.alert.>"]
OPS_STREAM = "JIANFU_OPS"
OPS_SUBJECTS = ["jf.sys.alert.>"]
OPS_MAX_AGE_SECONDS = 90 * 24 * 3600
COMMAND_STREAM = "JIANFU_COMMANDS"
COMMAND_PREFIX = "jf.cmdid"
SNAPSHOT_STREAM = "JIANFU_SNAPSHOTS"
SNAPSHOT_SUBJECTS = ["jf.snap.>"]
DOCUMENT_BUCKET = "JIANFU_DOCUMENTS"  # its stream is OBJ_JIANFU_DOCUMENTS, subjects $O.JIANFU_DOCUMENTS.>


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
        # A certification and the quota slots it takes at each school are one atomic batch (ADR-50).
        allow_atomic=True,
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


def snapshot_stream_config(replicas: int = 1) -> StreamConfig:
    """Snapshots (``snapshots.py``): the latest one per aggregate is kept, an older one is
    replaced; nothing is denied, since a snapshot is derived from the log and may be thrown away."""
    return StreamConfig(
        name=SNAPSHOT_STREAM,
        description="jianfu snapshots of aggregates (jf.snap.>): derived data, one per aggregate",
        subjects=SNAPSHOT_SUBJECTS,
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_msgs_per_subject=1,
        max_age=0,
        discard=DiscardPolicy.OLD,
        num_replicas=replicas,
        allow_direct=True,
    )


def document_bucket_config(replicas: int = 1) -> ObjectStoreConfig:
    """G2: circulation documents (HTML and PDF) by document number. Written once by notifications
    when a circulation is confirmed, read by every organisation; an issued document never changes
    (notifications never replaces an object), so the bucket keeps everything, no age or size limit."""
    return ObjectStoreConfig(bucket=DOCUMENT_BUCKET, description="jianfu circulation documents (G2), by number",
                             storage=StorageType.FILE, replicas=replicas)


async def provision_documents(js: JetStreamContext, replicas: int | None = None) -> str:
    """Create the documents bucket if it is missing; an existing one is kept as it is."""
    try:
        await js.object_store(DOCUMENT_BUCKET)
        return f"kept {DOCUMENT_BUCKET}"
    except BucketNotFoundError:
        await js.create_object_store(DOCUMENT_BUCKET, document_bucket_config(replicas or 1))
        return f"created {DOCUMENT_BUCKET} (replicas {replicas or 1})"


class ReplicasRefused(ValueError):
    """Provisioning was asked for fewer replicas than a stream has; nothing was changed."""


async def provision(js: JetStreamContext, stream: str = "JIANFU_EVENTS", replicas: int | None = None) -> list[str]:
    """Create the streams, or bring existing ones to the configuration above. Returns what changed.

    ``replicas`` sets the replica count of every stream (new streams get 1 without it). It is
    never lowered: an R3 log scaled down to R1 would lose the copies that keep it when a node
    dies, so a smaller number is refused before anything changes; without it each existing
    stream keeps its own."""
    configs = [event_stream_config(stream), alert_stream_config(), ops_stream_config(), command_stream_config(),
               snapshot_stream_config()]
    current = {config.name: await _replicas(js, config.name) for config in configs}
    lowered = [f"{name} has {has}" for name, has in current.items() if has and replicas and replicas < has]
    if lowered:
        raise ReplicasRefused(f"jianfu provision never lowers replicas: {', '.join(lowered)}, asked for "
                              f"{replicas}; nothing changed (scale a stream down by hand if you mean it)")
    changed = []
    for config in configs:
        has = current[config.name]
        config = replace(config, num_replicas=replicas or has or 1)
        if has is None:
            await js.add_stream(config)
            changed.append(f"created {config.name} (replicas {config.num_replicas})")
        else:
            await js.update_stream(config)
            changed.append(f"updated {config.name} (replicas {config.num_replicas})")
    changed.append(await provision_documents(js, replicas))
    return changed


async def _replicas(js: JetStreamContext, name: str) -> int | None:
    """The stream's replica count, or None when there is no such stream."""
    try:
        info = await js.stream_info(name)
    except NotFoundError:
        return None
    return info.config.num_replicas or 1
