"""G2: every confirmed circulation gets its document, stored by number in the object store
``JIANFU_DOCUMENTS`` as ``<number>.html`` and ``<number>.pdf``.

A reaction on ``CirculationConfirmed`` (durable ``notifications-documents``): load the escalation
and the violations its proposal cites → the facts (``domain.circulation_document``) → render
(``rendering``) → store what is not stored yet. The documents are a function of the log's events,
so a redelivery, a second replica or a rebuild (a new durable replaying from sequence 1) renders the
same bytes, finds their digest already stored and writes nothing. An issued document is never
replaced: should a later release render other bytes for a stored number, the stored one stays
(it is what was circulated) and ``document_differs`` is logged.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from dataclasses import dataclass

import structlog
from jianfu.events import catalogue
from jianfu.events.dependencies import Deps
from jianfu.events.envelope import Envelope
from jianfu.events.provisioning import DOCUMENT_BUCKET
from jianfu.events.schemas.escalation import CirculationConfirmed
from jianfu.events.store import EventStore
from jianfu.notifications.domain.circulation_document import CirculationFacts, circulation_facts, violations_cited
from jianfu.notifications.rendering import render_html, render_pdf
from nats.js.errors import NotFoundError, ObjectNotFoundError

ESCALATIONS = "jf.ev.escalation.>"
DOCUMENTS_DURABLE = "notifications-documents"
HTML, PDF = "html", "pdf"
CONTENT_TYPES = {HTML: "text/html; charset=utf-8", PDF: "application/pdf"}

log = structlog.get_logger("jianfu.notifications.documents")


def object_name(document_number: str, kind: str) -> str:
    return f"{document_number}.{kind}"


def object_digest(content: bytes) -> str:
    """The digest the object store records for an object (``SHA-256=`` and URL-safe base64)."""
    return "SHA-256=" + base64.urlsafe_b64encode(hashlib.sha256(content).digest()).decode()


@dataclass
class DocumentShelf:
    """The documents bucket, on the event store's connection (bound when the broker connects)."""

    events: EventStore
    bucket: str = DOCUMENT_BUCKET

    async def keep(self, name: str, content: bytes) -> bool:
        """Store ``content`` under ``name`` unless it is there; True when it wrote."""
        store = await self.events.js.object_store(self.bucket)
        try:
            info = await store.get_info(name)
        except (ObjectNotFoundError, NotFoundError):
            await store.put(name, content)
            return True
        if info.digest != object_digest(content):
            log.error("document_differs", name=name, stored=info.digest, rendered=object_digest(content))
        return False


def rendered(facts: CirculationFacts) -> dict[str, bytes]:
    return {HTML: render_html(facts).encode(), PDF: render_pdf(facts)}


async def document_facts(confirmed: CirculationConfirmed, deps: Deps) -> CirculationFacts:
    """Load the escalation and the violations its confirmed proposal cites; decide the facts."""
    history = await deps.store.load("escalation", confirmed.escalation_id)
    escalation = history.envelopes
    violations: list[Envelope] = []
    for violation_id in violations_cited(confirmed.document_number, escalation, catalogue.parse):
        violations += (await deps.store.load("violation", violation_id)).envelopes
    return circulation_facts(confirmed.document_number, escalation, violations, catalogue.parse, deps.directory)


async def on_circulation_confirmed(envelope: Envelope, sequence: int, deps: Deps, shelf: DocumentShelf) -> None:
    """G2: a confirmed circulation's HTML and PDF, stored by number once."""
    if envelope.event_type != CirculationConfirmed.__name__:
        return
    confirmed = catalogue.parse(envelope)
    facts = await document_facts(confirmed, deps)
    renderings = await asyncio.to_thread(rendered, facts)  # ~0.3 s of CPU: keep the loop answering
    for kind, content in renderings.items():
        name = object_name(confirmed.document_number, kind)
        wrote = await shelf.keep(name, content)
        log.info("document_stored" if wrote else "document_already_stored", name=name, bytes=len(content),
                 escalation_id=confirmed.escalation_id, proposal_id=confirmed.proposal_id,
                 correlation_id=envelope.correlation_id, sequence=sequence)
