"""Builders shared by the S1/S2 read-model tests: an inspection year's events as the services
(requests, approvals, the detector) would append them, as (org, data, aggregate id) steps that a
test folds in memory, chains into envelopes, or appends to the real log."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime

from jianfu.compliance.domain.folding import Batch, Fact, Projection
from jianfu.events.envelope import GENESIS_HASH, Actor, Envelope
from jianfu.events.organisations import SYSTEM_ACTOR_ORG_ID, OrgKind
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.base import EventData
from jianfu.events.schemas.compliance import RULE_CLAUSE, Rule, ViolationDetected, violation_id
from jianfu.events.schemas.inspections import (
    ChecklistRow,
    DataRequestIssued,
    InspectionApproved,
    InspectionCategory,
    InspectionChecklistPublished,
    InspectionItemFiled,
    InspectionItemMerged,
    InspectionItemProposed,
    InspectionItemRejected,
    InspectionItemsMerged,
    InspectionRefusalCode,
    InspectionTarget,
    InspectionVisitReported,
    VisitLabel,
)
from jianfu.events.store import EventStore, execute

from tests.factories import DIRECTORY, POLICY

Step = tuple[str, EventData, str]  # who appends it, the event, its aggregate id


def _id(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


class InspectionYear:
    """One year's S1/S2 events, with deterministic ids (``start`` keeps years apart)."""

    def __init__(self, year: int, start: int = 1) -> None:
        self.year = year
        self._next = start

    def new_id(self) -> uuid.UUID:
        self._next += 1
        return _id(self._next)

    def propose(self, unit: str, title: str = "校园安全专项检查", joint: tuple[str, ...] = (),
                schools: tuple[str, ...] = ("school-dwk-primary-1",), fields: tuple[str, ...] = ("在校生人数",),
                item_id: uuid.UUID | None = None) -> Step:
        event = InspectionItemProposed(
            item_id=item_id or self.new_id(), lead_org_id=unit, proposed_on=date(self.year - 1, 11, 1), late=False,
            school_ids=schools, year=self.year, title=title, category=InspectionCategory.INSPECTION,
            joint_org_ids=joint, policy_basis="《中小学校安全工作指导意见》",
            target=InspectionTarget(school_ids=schools), method="实地检查", indicators=12, frequency_per_year=1,
            planned_months=(9, 10), data_fields=fields, archive_sets=1)
        return unit, event, str(event.item_id)

    def filed(self, item: InspectionItemProposed) -> Step:
        return "edu-bureau", InspectionItemFiled(item_id=item.item_id, lead_org_id=item.lead_org_id,
                                                 year=self.year), str(item.item_id)

    def approved(self, item: InspectionItemProposed) -> Step:
        return "supervision-office", InspectionApproved(
            item_id=item.item_id, lead_org_id=item.lead_org_id, year=self.year,
            approved_by_org_id="supervision-office", note="同意"), str(item.item_id)

    def rejected(self, item: InspectionItemProposed) -> Step:
        return "supervision-office", InspectionItemRejected(
            item_id=item.item_id, lead_org_id=item.lead_org_id, year=self.year,
            refusal_code=InspectionRefusalCode.DUPLICATES_EXISTING_ITEM, reason="与已有事项重复", automatic=False
        ), str(item.item_id)

    def merge(self, *items: InspectionItemProposed, title: str = "校园安全综合检查") -> list[Step]:
        into = self.new_id()
        units = tuple(dict.fromkeys(org for item in items for org in (item.lead_org_id, *item.joint_org_ids)))
        merged = InspectionItemsMerged(
            item_id=into, year=self.year, title=title, merged_item_ids=tuple(item.item_id for item in items),
            lead_org_ids=units, category=InspectionCategory.INSPECTION,
            target_school_ids=tuple(sorted({s for item in items for s in item.school_ids})), teachers=False,
            frequency_per_year=1, planned_months=(10,), data_fields=("在校生人数",))
        return [("edu-bureau", merged, str(into)),
                *(("edu-bureau", InspectionItemMerged(item_id=item.item_id, into_item_id=into, year=self.year),
                   str(item.item_id)) for item in items)]

    def checklist(self, edition: int, items: Iterable[InspectionItemProposed], parts: int = 1) -> list[Step]:
        rows = [_row(item) for item in items]
        size = -(-len(rows) // parts) if rows else 0
        return [("edu-bureau", InspectionChecklistPublished(
            year=self.year, edition=edition, rows=tuple(rows[part * size:(part + 1) * size]), part=part + 1,
            parts=parts, offset=part * size, row_count=len(rows)), str(self.year)) for part in range(parts)]

    def visit(self, school: str, unit: str, visited_on: date, item_id: uuid.UUID | None = None,
              label: VisitLabel = VisitLabel.INSPECTION, graded: bool = False, reporter: str | None = None,
              visit_id: uuid.UUID | None = None) -> Step:
        event = InspectionVisitReported(
            visit_id=visit_id or uuid.uuid5(uuid.NAMESPACE_URL, f"{school}|{unit}|{visited_on}"), school_id=school,
            visiting_org_id=unit, visited_on=visited_on, year=visited_on.year, item_id=item_id, label=label,
            graded=graded, grading="优秀/合格/不合格" if graded else "", reported_by_org_id=reporter or school)
        return reporter or school, event, str(event.visit_id)

    def request(self, unit: str, schools: tuple[str, ...], fields: tuple[str, ...], title: str = "学校基本情况统计表",
                day: int = 10) -> Step:
        issued = datetime(self.year, 3, day, 7, tzinfo=UTC)
        event = DataRequestIssued(request_id=self.new_id(), requester_org_id=unit, title=title, fields=fields,
                                  school_ids=schools, issued_at=issued, deadline=issued.replace(day=day + 5),
                                  year=self.year)
        return unit, event, str(event.request_id)

    def violation(self, rule: Rule, responsible: str, school: str | None, **evidence) -> Step:
        found = violation_id(rule, *(str(v) for v in evidence.values()))
        event = ViolationDetected(violation_id=found, rule=rule, clause=RULE_CLAUSE[rule], responsible_org_id=responsible,
                                  school_id=school, issue_key=f"{responsible}:{rule.value}", summary="违规",
                                  evidence=evidence)
        return SYSTEM_ACTOR_ORG_ID, event, found


def _row(item: InspectionItemProposed | InspectionItemsMerged) -> ChecklistRow:
    """An item (proposed, or made by a merge) as a row of Attachment 2."""
    merged = isinstance(item, InspectionItemsMerged)
    units = item.lead_org_ids if merged else (item.lead_org_id, *item.joint_org_ids)
    return ChecklistRow(item_id=item.item_id, item_name=item.title, target="指定学校", category=item.category,
                        method="实地检查", sample_ratio_or_frequency="每年1次", time_window="9-10月",
                        inspecting_units=units, inspecting_unit_names=tuple(DIRECTORY.get(u).name for u in units),
                        school_ids=item.target_school_ids if merged else item.school_ids, frequency_per_year=1,
                        planned_months=(9, 10), merged_item_ids=item.merged_item_ids if merged else ())


def _actor(org: str) -> Actor:
    if org == SYSTEM_ACTOR_ORG_ID:
        return Actor(org_id=org, org_kind=OrgKind.SYSTEM)
    return Actor(org_id=org, org_kind=DIRECTORY.get(org).kind)


def envelope(step: Step, n: int) -> Envelope:
    org, data, aggregate_id = step
    context = CommandContext(_actor(org), f"c-{n}", f"k-{n}", POLICY.version, datetime(2031, 7, 10, 9, tzinfo=UTC))
    return context.event(data, aggregate_id)


def chained(steps: Iterable[Step]) -> list[Envelope]:
    """The steps as stored envelopes, each aggregate's hash chain in order."""
    heads: dict[str, str] = {}
    out = []
    for n, step in enumerate(steps):
        made = envelope(step, n)
        made = made.model_copy(update={"prev_hash": heads.get(made.subject, GENESIS_HASH)})
        heads[made.subject] = made.hash()
        out.append(made)
    return out


async def append(store: EventStore, steps: Iterable[Step]) -> None:
    for n, step in enumerate(steps):
        made = envelope(step, n)
        await execute(store, made.aggregate_type, made.aggregate_id, lambda _h, made=made: [made])


class Folded:
    """A projection's tables in memory, folded batch by batch as the projector does: each batch
    loads only what its events name as needs, so a fold that reads what it did not need fails here."""

    def __init__(self, projection: Projection) -> None:
        self.projection = projection
        self.tables: dict[str, dict[tuple, dict]] = {name: {} for name in projection.keys}

    def fold(self, steps: Iterable[Step], start: int = 1) -> Folded:
        facts = [Fact(start + n, f"e-{start + n}", type(data).__name__, aggregate, datetime(2031, 7, 10, tzinfo=UTC),
                      "c", data) for n, (_org, data, aggregate) in enumerate(steps)]
        facts = [f for f in facts if self.projection.handles(f.event_type)]
        batch: Batch = self.projection.empty_batch()
        for need in self.projection.needs(facts):
            rows = self.tables[need.table]
            batch[need.table].load(row for key, row in rows.items() if key[:len(need.values)] == need.values)
        self.projection.fold(batch, facts)
        for name, rows in batch.tables.items():
            self.tables[name].update(rows.changed)
        return self

    def row(self, table: str, *key) -> dict | None:
        return self.tables[table].get(key)
