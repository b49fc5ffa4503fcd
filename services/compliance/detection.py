"""The detector's edge: what its fold decided goes to the log as ``ViolationDetected``.

The detector (S3: ``domain/s3_detection.py``, S1/S2: ``domain/s1s2_detection.py``, combined) runs
as a projector of its own (durable consumer ``compliance-detector``, state in
``compliance_detector_*``), beside the read model's. Before its
batch transaction commits, the violations it decided are appended pipelined (all sent, then all
acknowledgements awaited), each as the first event of its own aggregate (expected sequence 0)
with an event id derived from the violation id: a crash before the commit only decides the same
again, and the second append is refused as a duplicate, so each violation is in the log once.
"""

from __future__ import annotations

import structlog
from jianfu.compliance.domain.folding import Emitted, Projection, combine
from jianfu.compliance.domain.s1s2_detection import s1s2_detection
from jianfu.compliance.domain.s3_detection import s3_detection
from jianfu.compliance.projector import Projector, ProjectorOptions
from jianfu.compliance.read_model import DETECTOR
from jianfu.events.envelope import SYSTEM_ACTOR, Envelope
from jianfu.events.organisations import OrgKind
from jianfu.events.recording import CommandContext
from jianfu.events.settings import Clock, Settings
from jianfu.events.store import EventStore
from nats.js.client import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine

log = structlog.get_logger("jianfu.compliance.detection")

DURABLE = "compliance-detector"


class ViolationRecorder:
    """Appends a batch's violations, each once, caused by the report that revealed it."""

    def __init__(self, store: EventStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def __call__(self, emitted: list[Emitted]) -> None:
        unique = list({e.decision.violation_id: e for e in reversed(emitted)}.values())[::-1]  # first one wins
        appended = await self.store.append_all_once([self.envelope(e) for e in unique])
        for decided, stored in zip(unique, appended, strict=True):
            violation = decided.decision
            log.info("violation_detected" if stored else "violation_already_recorded",
                     violation_id=violation.violation_id, rule=violation.rule.value,
                     responsible_org_id=violation.responsible_org_id, school_id=violation.school_id,
                     correlation_id=decided.cause.correlation_id)

    def envelope(self, decided: Emitted) -> Envelope:
        violation, cause = decided.decision, decided.cause
        context = CommandContext(SYSTEM_ACTOR, violation.violation_id, cause.correlation_id, decided.policy_version,
                                 self.clock.now())
        event = context.event(violation, violation.violation_id, occurred_at=cause.occurred_at)
        return event.model_copy(update={"causation_id": cause.event_id})


def detection(settings: Settings) -> Projection:
    """The detector for the policy file (with its earlier versions) and the directory's names: S3
    (what units outside the directory do is routed to the education bureau) beside S1/S2 (the
    education bureau files its own items and coordinates every item), each with tables of its own."""
    directory = settings.directory
    bureaus = sorted(org.org_id for org in directory.of_kind(OrgKind.EDUCATION_BUREAU))
    names = {org.org_id: org.name for org in directory.organisations}
    return combine("detector", s3_detection(settings.policy, names, bureaus[0] if bureaus else None),
                   s1s2_detection(settings.policy, names, bureaus))


def detector(engine: AsyncEngine, js: JetStreamContext, store: EventStore, clock: Clock, projection: Projection,
             options: ProjectorOptions) -> Projector:
    """A projector over the detector's own state that appends what it decides."""
    return Projector(engine, js, options, DETECTOR, projection, ViolationRecorder(store, clock))
