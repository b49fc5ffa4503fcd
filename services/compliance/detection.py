"""The detector's edge: what its fold decided goes to the log, as ``ViolationDetected`` or, for
a secondment's approaching last day, ``SecondmentEndingSoon``.

The detector (S3: ``domain/s3_detection.py``, S1/S2: ``domain/s1s2_detection.py``, S7:
``domain/s7_detection.py``, S8–S10: ``domain/s8_s10_detection.py``, G2's deadline sweep:
``domain/g2_detection.py``, combined) runs as a projector
of its own (durable consumer ``compliance-detector``, state in ``compliance_detector_*``), beside
the read model's. Before its batch transaction commits, the decisions it took are appended
pipelined (all sent, then all acknowledgements awaited), each as the first event of its own
aggregate (expected sequence 0: ``violation.<violation_id>``, ``secondment_notice.<notice_id>``,
``rectification_deadline.<deadline_id>``)
with an event id derived from that id: a crash before the commit only decides the same again,
and the second append is refused as a duplicate, so each decision is in the log once.
"""

from __future__ import annotations

import structlog
from jianfu.compliance.domain.folding import Emitted, Projection, combine
from jianfu.compliance.domain.g2_detection import g2_detection
from jianfu.compliance.domain.s1s2_detection import s1s2_detection
from jianfu.compliance.domain.s3_detection import s3_detection
from jianfu.compliance.domain.s7_detection import s7_detection
from jianfu.compliance.domain.s8_s10_detection import s8_s10_detection
from jianfu.compliance.projector import Projector, ProjectorOptions
from jianfu.compliance.read_model import DETECTOR
from jianfu.events.envelope import SYSTEM_ACTOR, Envelope
from jianfu.events.organisations import EDUCATION_SYSTEM, OrgKind
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.base import EventData
from jianfu.events.schemas.compliance import ViolationDetected
from jianfu.events.schemas.escalation import RectificationDeadlineMissed
from jianfu.events.schemas.secondments import SecondmentEndingSoon
from jianfu.events.settings import Clock, Settings
from jianfu.events.store import EventStore
from nats.js.client import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine

log = structlog.get_logger("jianfu.compliance.detection")

DURABLE = "compliance-detector"


def decision_id(decision: EventData) -> str:
    """The id a decision's aggregate and event id derive from: one aggregate per decision."""
    if isinstance(decision, ViolationDetected):
        return decision.violation_id
    if isinstance(decision, SecondmentEndingSoon):
        return decision.notice_id
    if isinstance(decision, RectificationDeadlineMissed):
        return decision.deadline_id
    raise TypeError(f"the detector does not record {type(decision).__name__}")


class ViolationRecorder:
    """Appends a batch's decisions (violations, secondment notices), each once, caused by the
    fact that revealed it (a report, or the ``DayEnded`` of a sweep)."""

    def __init__(self, store: EventStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def __call__(self, emitted: list[Emitted]) -> None:
        unique = list({decision_id(e.decision): e for e in reversed(emitted)}.values())[::-1]  # first one wins
        appended = await self.store.append_all_once([self.envelope(e) for e in unique])
        for decided, stored in zip(unique, appended, strict=True):
            decision, cause = decided.decision, decided.cause
            if isinstance(decision, SecondmentEndingSoon):
                log.info("secondment_notice_decided" if stored else "secondment_notice_already_recorded",
                         notice_id=decision.notice_id, teacher_id=decision.teacher_id,
                         borrowing_org_id=decision.borrowing_org_id, correlation_id=cause.correlation_id)
                continue
            if isinstance(decision, RectificationDeadlineMissed):
                log.info("rectification_deadline_missed" if stored else "rectification_deadline_already_recorded",
                         deadline_id=decision.deadline_id, escalation_id=decision.escalation_id,
                         step_event_id=decision.step_event_id, correlation_id=cause.correlation_id)
                continue
            log.info("violation_detected" if stored else "violation_already_recorded",
                     violation_id=decision.violation_id, rule=decision.rule.value,
                     responsible_org_id=decision.responsible_org_id, school_id=decision.school_id,
                     correlation_id=cause.correlation_id)

    def envelope(self, decided: Emitted) -> Envelope:
        decision, cause = decided.decision, decided.cause
        found = decision_id(decision)
        context = CommandContext(SYSTEM_ACTOR, found, cause.correlation_id, decided.policy_version, self.clock.now())
        event = context.event(decision, found, occurred_at=cause.occurred_at)
        return event.model_copy(update={"causation_id": cause.event_id})


def detection(settings: Settings) -> Projection:
    """The detector for the policy file (with its earlier versions) and the directory's names: S3
    (what units outside the directory do is routed to the education bureau) beside S1/S2 (the
    education bureau files its own items and coordinates every item), S7 (secondments, swept on
    each ``DayEnded``) and S8–S10 (training and meetings: the directory's kinds tell the education
    system, the district's distance table the distances) and G2's rectification deadlines (swept on
    each ``DayEnded``), each with tables of its own."""
    directory = settings.directory
    bureaus = sorted(org.org_id for org in directory.of_kind(OrgKind.EDUCATION_BUREAU))
    education = sorted(org.org_id for org in directory.organisations if org.kind in EDUCATION_SYSTEM)
    names = {org.org_id: org.name for org in directory.organisations}
    return combine("detector", s3_detection(settings.policy, names, bureaus[0] if bureaus else None),
                   s1s2_detection(settings.policy, names, bureaus),
                   s7_detection(settings.policy, names),
                   s8_s10_detection(settings.policy, names, education, settings.distances),
                   g2_detection(settings.policy))


def detector(engine: AsyncEngine, js: JetStreamContext, store: EventStore, clock: Clock, projection: Projection,
             options: ProjectorOptions) -> Projector:
    """A projector over the detector's own state that appends what it decides."""
    return Projector(engine, js, options, DETECTOR, projection, ViolationRecorder(store, clock))
