"""Who may do what on the broker: one NATS user per service, one per organisation of the
directory and one operator, each granted only the subjects it uses (DESIGN.md, "Commands and
identity"). ``deploy/make_nats_conf.py`` writes these accounts into ``deploy/nats.conf`` and
``jianfu run`` gives them to its embedded server, so a laptop runs under the same rules as a
deployment.

- an organisation publishes only ``jf.cmd.<org>.>`` and ``jf.q.<org>.>``, reads only its own
  inbox ``_INBOX_<org>.>``, and reads its alerts back from the alerts stream through one consumer
  of its own filtered to ``jf.alert.<org>.>`` (``alert_reader``), never by a core subscription;
- a service publishes the event subjects of the aggregates it emits, replies into the inboxes
  of organisations and the operator (never elsewhere: no ``allow_responses``, which would let a
  requester pick any subject, deny list or not), and uses only the JetStream API calls it makes:
  stream info, direct and message get, ephemeral readers, its own durable consumers;
- a service that snapshots an aggregate type writes and reads the latest snapshot of that type
  only (``jf.snap.<aggregate_type>.>`` in ``JIANFU_SNAPSHOTS``);
- circulation documents (object store ``JIANFU_DOCUMENTS``, G2): every organisation reads them,
  only notifications writes them, and nobody purges or deletes them;
- the operator alone creates, updates and deletes streams, and asks services for their health.

Subjects come from the code: each service's interface names the events it emits and its durable
consumers, so a new aggregate type or consumer shows up here when the file is regenerated.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from jianfu.events.connection import inbox_prefix
from jianfu.events.organisations import Directory
from jianfu.events.provisioning import DOCUMENT_BUCKET
from jianfu.events.runtime import Interface

OPERATOR = "operator"
EVENTS, COMMANDS, ALERTS = "JIANFU_EVENTS", "JIANFU_COMMANDS", "JIANFU_ALERTS"
SNAPSHOTS = "JIANFU_SNAPSHOTS"
API = "$JS.API"
DOCUMENTS = f"OBJ_{DOCUMENT_BUCKET}"  # the object store's stream
DOCUMENT_WRITERS = ("notifications",)  # G2: it renders and stores the circulation documents


@dataclass(frozen=True)
class Grant:
    """One NATS user and the subjects it may publish and subscribe to."""

    user: str
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    comment: str


def password(user: str) -> str:
    """``NATS_PASSWORD_<USER>`` (``-`` as ``_``) or the DEMO-ONLY default ``<user>-demo``."""
    return os.environ.get(f"NATS_PASSWORD_{user.upper().replace('-', '_')}", f"{user}-demo")


def organisation_grant(org_id: str, comment: str) -> Grant:
    return Grant(org_id, (f"jf.cmd.{org_id}.>", f"jf.q.{org_id}.>", *reading_documents(), *alert_reader(org_id)),
                 (f"{inbox_prefix(org_id)}.>",), comment)


def alert_reader(org_id: str) -> tuple[str, ...]:
    """G2: an organisation reads its alerts back through one JetStream consumer on the alerts
    stream, named after itself and filtered to its own alerts: created only by the filtered
    create subject (``$JS.API.CONSUMER.CREATE.JIANFU_ALERTS.<org>.jf.alert.<org>.>``, which the
    server refuses unless the filter in the body is that subject), pulled (``MSG.NEXT``), acked,
    read and deleted; deleting and creating it again replays the stream from its first alert.
    It may not subscribe to ``jf.alert.<org>.>``: a live reader sees only what the stream stored,
    so a copy the stream refused (two first attempts racing, ``alerts.py``) reaches nobody.

    The name is fixed because permissions match whole tokens: a grant on any name would let it
    pull from another organisation's consumer or the delivery workers'. Hence no ordered or other
    consumers with generated names, and no unfiltered create subject (nats-py's ordered consumers
    use it; the filter in its body is not checked against permissions)."""
    return (f"{API}.CONSUMER.CREATE.{ALERTS}.{org_id}.jf.alert.{org_id}.>", f"{API}.CONSUMER.INFO.{ALERTS}.{org_id}",
            f"{API}.CONSUMER.DELETE.{ALERTS}.{org_id}", f"{API}.CONSUMER.MSG.NEXT.{ALERTS}.{org_id}",
            f"$JS.ACK.{ALERTS}.{org_id}.>")


def operator_grant() -> Grant:
    """Streams are created, updated and deleted only here (``jianfu provision``); ``status``,
    ``verify`` and ``rebuild`` read through the same API; health requests go to every service."""
    return Grant(OPERATOR, (f"{API}.>", "$JS.FC.>", "jf.sys.health.*"), (f"{inbox_prefix(OPERATOR)}.>",),
                 "operator: provisions streams (jianfu provision), status, verify, rebuild, health")


def durable_consumer(name: str, stream: str = EVENTS) -> tuple[str, ...]:
    """What a service does with a durable consumer of its own on the log (or, for the alert
    delivery workers, on the alerts stream): create it (named or legacy), read its info, delete
    it (the projector re-creates it at its checkpoint), pull, ack."""
    return (f"{API}.CONSUMER.CREATE.{stream}.{name}", f"{API}.CONSUMER.CREATE.{stream}.{name}.>",
            f"{API}.CONSUMER.DURABLE.CREATE.{stream}.{name}", f"{API}.CONSUMER.INFO.{stream}.{name}",
            f"{API}.CONSUMER.DELETE.{stream}.{name}", f"{API}.CONSUMER.MSG.NEXT.{stream}.{name}",
            f"$JS.ACK.{stream}.{name}.>")


def reading_the_log() -> tuple[str, ...]:
    """Loading an aggregate: stream info, the last message of a subject, an ephemeral ordered
    consumer (the name-less create subject refuses a durable name) and its flow control."""
    return (f"{API}.STREAM.INFO.{EVENTS}", f"{API}.DIRECT.GET.{EVENTS}", f"{API}.DIRECT.GET.{EVENTS}.>",
            f"{API}.STREAM.MSG.GET.{EVENTS}", f"{API}.CONSUMER.CREATE.{EVENTS}", f"$JS.FC.{EVENTS}.>")


def snapshotting(aggregate_type: str) -> tuple[str, ...]:
    """Writing the snapshots of one aggregate type and reading the latest one of an aggregate."""
    return (f"jf.snap.{aggregate_type}.>", f"{API}.DIRECT.GET.{SNAPSHOTS}.jf.snap.{aggregate_type}.>")


def reading_documents() -> tuple[str, ...]:
    """Getting a circulation document by number (``jianfu circulation get``): the bucket's info, an
    object's latest metadata, an ephemeral ordered consumer over its chunks and its flow control;
    the chunks arrive in the reader's own inbox."""
    return (f"{API}.STREAM.INFO.{DOCUMENTS}", f"{API}.STREAM.MSG.GET.{DOCUMENTS}",
            f"{API}.CONSUMER.CREATE.{DOCUMENTS}", f"$JS.FC.{DOCUMENTS}.>")


def writing_documents() -> tuple[str, ...]:
    """Storing a new document: its chunks and its metadata. No purge: an issued document is never replaced."""
    return (f"$O.{DOCUMENT_BUCKET}.C.>", f"$O.{DOCUMENT_BUCKET}.M.>")


def service_grant(interface: Interface, durables: tuple[str, ...], inboxes: tuple[str, ...],
                  snapshotted: tuple[str, ...] = (), alert_durables: tuple[str, ...] = ()) -> Grant:
    name = interface.service
    publish = [f"jf.ev.{kind}.>" for kind in sorted({event.aggregate_type for event in interface.emits})]
    publish += [f"jf.sys.alert.{name}.>", *reading_the_log()]
    if any(router.kind == "cmd" for router in interface.routers):  # the command ledger
        publish += ["jf.cmdid.>", f"{API}.DIRECT.GET.{COMMANDS}.>"]
    if interface.sends:  # alerts to units: the alert subject is its own delivery ledger
        publish += ["jf.alert.>", f"{API}.STREAM.MSG.GET.{ALERTS}"]
    for durable in durables:
        publish += durable_consumer(durable)
    for durable in alert_durables:  # G2 delivery workers following the alerts stream
        publish += durable_consumer(durable, ALERTS)
    for aggregate_type in snapshotted:
        publish += snapshotting(aggregate_type)
    if name in DOCUMENT_WRITERS:
        publish += [*reading_documents(), *writing_documents()]
    # FastStream's connection uses NATS's default inbox; the CLI logged in as a service, its own
    subscribe = ("jf.cmd.>", "jf.q.>", f"jf.sys.health.{name}", "_INBOX.>", f"{inbox_prefix(name)}.>")
    return Grant(name, tuple(publish) + inboxes, subscribe, f"service: {name}")


def grants(directory: Directory, interfaces: list[Interface],
           projector_durables: dict[str, tuple[str, ...]],
           snapshotted: dict[str, tuple[str, ...]] | None = None,
           alert_durables: dict[str, tuple[str, ...]] | None = None) -> list[Grant]:
    """Every user of the account: services, the operator, then each organisation."""
    inboxes = tuple(f"{inbox_prefix(user)}.>" for user in (OPERATOR, *(o.org_id for o in directory.organisations)))
    found = [service_grant(i, tuple(s.durable for s in i.subscriptions) + projector_durables.get(i.service, ()),
                           inboxes, (snapshotted or {}).get(i.service, ()), (alert_durables or {}).get(i.service, ()))
             for i in interfaces]
    found.append(operator_grant())
    found += [organisation_grant(org.org_id, f"{org.kind.value}: {org.name}") for org in directory.organisations]
    return found


def code_grants(directory: Directory) -> list[Grant]:
    """The grants of the services as the code declares them (their interfaces, the projectors)."""
    from jianfu.cli.asyncapi import interfaces
    from jianfu.compliance.settings import ComplianceSettings
    from jianfu.events.settings import Settings
    from jianfu.notifications.delivery import DURABLES as DELIVERY_DURABLES
    from jianfu.notifications.handlers import LADDER

    fields = ComplianceSettings.model_fields
    durables = (fields["projector_durable"].default, fields["detector_durable"].default)
    return grants(directory, interfaces(Settings()), {"compliance": durables},
                  {"notifications": (LADDER.aggregate_type,)}, {"notifications": DELIVERY_DURABLES})


def _list(subjects: tuple[str, ...]) -> str:
    return "[" + ", ".join(json.dumps(s) for s in subjects) + "]"


def _user(grant: Grant) -> str:
    return "\n".join([
        f"            # {grant.comment}",
        f"            {{user: {json.dumps(grant.user)}, password: {json.dumps(password(grant.user))}, permissions: {{",
        f"                publish: {{allow: {_list(grant.publish)}}}",
        f"                subscribe: {{allow: {_list(grant.subscribe)}}}",
        "            }}",
    ])


def accounts_block(found: list[Grant]) -> str:
    """The ``accounts`` section of a nats-server configuration."""
    body = ",\n".join(_user(grant) for grant in found)
    return "accounts {\n    JIANFU {\n        jetstream: enabled\n        users: [\n" f"{body}\n        ]\n    }}\n}}\n"
