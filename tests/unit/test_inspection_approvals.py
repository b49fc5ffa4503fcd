"""S1 inspections on the approvals side: screening, the supervision office's decisions, the
education bureau's merger and the year's checklist (Attachment 2), as pure domain rules."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from jianfu.approvals.domain.inspection_checklist import (
    CHECKLIST_PART_ROWS,
    InspectionChecklist,
    frequency_in_words,
    in_parts,
    rows_in_force,
    window_in_words,
)
from jianfu.approvals.domain.inspection_item import InspectionItem, merge_items
from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.schemas.inspections import (
    ChecklistRow,
    InspectionApproved,
    InspectionItemFiled,
    InspectionItemProposed,
    InspectionItemRejected,
    InspectionRefusalCode,
)

from tests.factories import DIRECTORY, SCHOOLS

BUREAU, OFFICE, HEALTH, FIRE = "edu-bureau", "supervision-office", "dept-health", "dept-fire"
YEAR = 2027


def proposed(lead: str = HEALTH, **overrides) -> InspectionItemProposed:
    fields = dict(
        item_id=uuid.uuid4(), lead_org_id=lead, proposed_on=date(2026, 12, 1), late=False, year=YEAR,
        title="学校卫生工作检查", category="inspection", policy_basis="《学校卫生工作条例》", method="实地检查",
        target={"all_schools": True}, school_ids=tuple(SCHOOLS), indicators=12, frequency_per_year=1,
        planned_months=(9, 10), data_fields=("晨午检记录",))
    return InspectionItemProposed.model_validate({**fields, **overrides})


def item(proposal: InspectionItemProposed, *decisions) -> InspectionItem:
    return InspectionItem.from_events([proposal, *decisions])


def approved(proposal: InspectionItemProposed) -> InspectionItem:
    return item(proposal, item(proposal).approve(DIRECTORY, OFFICE))


def filed(proposal: InspectionItemProposed) -> InspectionItem:
    return item(proposal, item(proposal).screen(DIRECTORY))


# --- screening ---------------------------------------------------------------------------------

def test_s1_the_education_bureaus_own_item_is_filed_without_approval():
    decision = item(proposed(BUREAU)).screen(DIRECTORY)
    assert isinstance(decision, InspectionItemFiled) and decision.lead_org_id == BUREAU


def test_s1_another_units_item_waits_for_the_supervision_office():
    assert item(proposed(HEALTH)).screen(DIRECTORY) is None


URGENT = "上级临时部署：汛期前须完成校舍安全检查"


@pytest.mark.parametrize("lead", [BUREAU, HEALTH])
@pytest.mark.parametrize("reason", [None, "急", "上级 紧急 部署"])  # none, or under 10 visible characters
def test_s1_a_late_item_without_an_urgency_reason_of_substance_is_refused_automatically(lead, reason):
    decision = item(proposed(lead, late=True, urgency_reason=reason)).screen(DIRECTORY)
    assert isinstance(decision, InspectionItemRejected)
    assert (decision.refusal_code, decision.automatic) == (InspectionRefusalCode.LATE_FILING, True)


def test_s1_a_late_item_with_an_urgency_reason_goes_its_ordinary_way():
    assert item(proposed(HEALTH, late=True, urgency_reason=URGENT)).screen(DIRECTORY) is None
    assert isinstance(item(proposed(BUREAU, late=True, urgency_reason=URGENT)).screen(DIRECTORY),
                      InspectionItemFiled)


def test_s1_screening_decides_an_item_once():
    proposal = proposed(BUREAU)
    assert filed(proposal).screen(DIRECTORY) is None


# --- the supervision office's decisions -------------------------------------------------------

def test_s1_the_supervision_office_approves_another_units_item_and_is_named():
    decision = item(proposed(HEALTH)).approve(DIRECTORY, OFFICE, "同意，由区教体局统筹")
    assert isinstance(decision, InspectionApproved)
    assert (decision.approved_by_org_id, decision.lead_org_id, decision.year) == (OFFICE, HEALTH, YEAR)


def test_s1_the_bureaus_own_item_is_filed_not_approved_or_rejected():
    for decide in (lambda i: i.approve(DIRECTORY, OFFICE),
                   lambda i: i.reject(DIRECTORY, InspectionRefusalCode.NOT_NECESSARY, "无必要")):
        with pytest.raises(Refused) as refused:
            decide(item(proposed(BUREAU)))
        assert refused.value.code == ErrorCode.INVALID_STATE


def test_s1_a_decided_item_is_not_decided_again():
    proposal = proposed(HEALTH)
    rejected = item(proposal).reject(DIRECTORY, InspectionRefusalCode.TOO_FREQUENT, "频次过高")
    assert (rejected.refusal_code, rejected.automatic) == (InspectionRefusalCode.TOO_FREQUENT, False)
    with pytest.raises(Refused) as refused:
        item(proposal, rejected).approve(DIRECTORY, OFFICE)
    assert refused.value.code == ErrorCode.INVALID_STATE


def test_s1_approving_a_late_item_without_a_reason_refuses_it_by_the_filing_rule():
    decision = item(proposed(HEALTH, late=True)).approve(DIRECTORY, OFFICE)
    assert isinstance(decision, InspectionItemRejected) and decision.refusal_code is InspectionRefusalCode.LATE_FILING


def test_s1_an_unknown_item_is_not_found():
    with pytest.raises(Refused) as refused:
        InspectionItem.from_events([])
    assert refused.value.code == ErrorCode.NOT_FOUND


# --- the bureau's merger -------------------------------------------------------------------

def two_to_merge():
    health = proposed(HEALTH, joint_org_ids=("dept-emergency",), target={"school_ids": SCHOOLS[:2]},
                      school_ids=tuple(SCHOOLS[:2]), frequency_per_year=1, planned_months=(9, 10),
                      data_fields=("晨午检记录", "健康档案"))
    own = proposed(BUREAU, title="校园安全检查", target={"school_ids": SCHOOLS[1:3], "teachers": True},
                   school_ids=tuple(SCHOOLS[1:3]), frequency_per_year=2, planned_months=(3, 9),
                   data_fields=("健康档案", "安全台账"), method="实地检查、查阅材料")
    return health, own


def test_s1_merged_items_keep_every_unit_the_union_of_schools_months_fields_and_the_highest_frequency():
    health, own = two_to_merge()
    merged_id = uuid.uuid4()
    merged, sources = merge_items([approved(health), filed(own)], merged_id, "学校卫生与安全联合检查", DIRECTORY)
    assert merged.lead_org_ids == (HEALTH, "dept-emergency", BUREAU)
    assert merged.target_school_ids == tuple(sorted(SCHOOLS[:3]))
    assert (merged.planned_months, merged.frequency_per_year, merged.teachers) == ((3, 9, 10), 2, True)
    assert merged.data_fields == ("晨午检记录", "健康档案", "安全台账")
    assert merged.merged_item_ids == (health.item_id, own.item_id)
    assert [(s.item_id, s.into_item_id) for s in sources] == [(health.item_id, merged_id), (own.item_id, merged_id)]


def test_s1_an_unapproved_item_of_another_unit_cannot_be_merged():
    health, own = two_to_merge()
    for undecided_or_rejected in (item(health), item(health, item(health).reject(
            DIRECTORY, InspectionRefusalCode.NOT_NECESSARY, "无必要"))):
        with pytest.raises(Refused) as refused:
            merge_items([undecided_or_rejected, filed(own)], uuid.uuid4(), "联合检查", DIRECTORY)
        assert (refused.value.code, refused.value.field) == (InspectionRefusalCode.NOT_APPROVED, "item_ids")


def test_s1_merging_needs_items_of_one_year_each_in_force_once():
    health, own = two_to_merge()
    later = proposed(BUREAU, year=YEAR + 1)
    cases = [([approved(health), filed(later)], ErrorCode.INVALID_FIELD),
             ([approved(health), approved(health)], ErrorCode.INVALID_FIELD),
             ([approved(health), item(own, InspectionItemRejected(  # the bureau's late item, refused
                 item_id=own.item_id, lead_org_id=BUREAU, year=YEAR, refusal_code="LATE_FILING", reason="迟报",
                 automatic=True))], ErrorCode.INVALID_STATE)]
    merged, sources = merge_items([approved(health), filed(own)], uuid.uuid4(), "联合检查", DIRECTORY)
    cases.append(([item(health, approved(health).decision, sources[0]), filed(proposed(BUREAU))], ErrorCode.INVALID_STATE))
    for items, code in cases:
        with pytest.raises(Refused) as refused:
            merge_items(items, uuid.uuid4(), "联合检查", DIRECTORY)
        assert refused.value.code == code


# --- the checklist -------------------------------------------------------------------------

def a_year():
    """Events of a year: two merged items, one filed, one rejected, one undecided, one of another year."""
    health, own = two_to_merge()
    lone = proposed(BUREAU, title="教育收费检查", target={"all_schools": True})
    refused, waiting = proposed(FIRE, title="消防安全评比"), proposed("dept-justice", title="法治教育考核")
    other_year = proposed(BUREAU, year=YEAR + 1, title="下一年的检查")
    events = [health, own, lone, refused, waiting, other_year,
              item(health).approve(DIRECTORY, OFFICE), item(own).screen(DIRECTORY), item(lone).screen(DIRECTORY),
              item(refused).reject(DIRECTORY, InspectionRefusalCode.NOT_NECESSARY, "无必要"),
              item(other_year).screen(DIRECTORY)]
    merged, sources = merge_items([approved(health), filed(own)], uuid.uuid4(), "学校卫生与安全联合检查", DIRECTORY)
    return [*events, merged, *sources], merged, lone


def test_s1_the_checklist_holds_the_years_items_in_force_and_a_merged_item_once():
    events, merged, lone = a_year()
    rows = rows_in_force(YEAR, events, DIRECTORY)
    assert [row.item_id for row in rows] == sorted([merged.item_id, lone.item_id],
                                                   key=lambda key: {lone.item_id: "教育收费检查",
                                                                    merged.item_id: "学校卫生与安全联合检查"}[key])
    merged_row = next(row for row in rows if row.item_id == merged.item_id)
    assert merged_row.merged_item_ids == merged.merged_item_ids
    assert merged_row.inspecting_unit_names == ("区卫健局", "区应急管理局", "大武口区教育体育局")
    assert (merged_row.sub_item, merged_row.method) == ("学校卫生工作检查；校园安全检查", "实地检查、查阅材料")
    assert (merged_row.time_window, merged_row.sample_ratio_or_frequency) == ("3月、9-10月", "每年2次")


def test_s1_an_unapproved_item_of_another_unit_is_not_on_the_checklist():
    waiting = proposed(HEALTH)
    assert rows_in_force(YEAR, [waiting], DIRECTORY) == ()
    assert len(rows_in_force(YEAR, [waiting, item(waiting).approve(DIRECTORY, OFFICE)], DIRECTORY)) == 1


def test_s1_a_row_carries_every_column_of_attachment_2_in_words():
    proposal = proposed(BUREAU, title="学校安全工作检查", sub_item="校舍安全", target={"all_schools": True,
                        "sample_share": 0.05, "teachers": True}, planned_months=(3, 4, 5, 11), frequency_per_year=1,
                        joint_org_ids=("dept-fire",), method="实地检查")
    [row] = rows_in_force(YEAR, [proposal, item(proposal).screen(DIRECTORY)], DIRECTORY)
    assert (row.item_name, row.sub_item, row.target, row.category, row.method) == (
        "学校安全工作检查", "校舍安全", "全区中小学校及教师", "inspection", "实地检查")
    assert (row.sample_ratio_or_frequency, row.time_window) == ("抽查比例5%，每年1次", "3-5月、11月")
    assert (row.inspecting_units, row.inspecting_unit_names) == ((BUREAU, "dept-fire"), ("大武口区教育体育局", "区消防大队"))


def test_s1_named_schools_and_frequencies_in_words():
    assert frequency_in_words(None, True, 2) == "全覆盖，每年2次"
    assert frequency_in_words(None, False, 1) == "每年1次"
    assert frequency_in_words(0.125, False, 1) == "抽查比例12.5%，每年1次"
    assert window_in_words((12, 1, 2, 6)) == "1-2月、6月、12月"
    proposal = proposed(BUREAU, target={"school_ids": SCHOOLS[:5]}, school_ids=tuple(SCHOOLS[:5]))
    [row] = rows_in_force(YEAR, [proposal, item(proposal).screen(DIRECTORY)], DIRECTORY)
    assert row.target == f"{DIRECTORY.get(SCHOOLS[0]).name}等5所学校"
    three = proposed(BUREAU, target={"school_ids": SCHOOLS[:3]}, school_ids=tuple(SCHOOLS[:3]))
    [row] = rows_in_force(YEAR, [three, item(three).screen(DIRECTORY)], DIRECTORY)
    assert row.target == "、".join(DIRECTORY.get(school).name for school in SCHOOLS[:3])


def test_s1_the_checklist_is_published_in_editions_and_nothing_changed_is_refused():
    events, _, _ = a_year()
    rows = rows_in_force(YEAR, events, DIRECTORY)
    [first] = InspectionChecklist(YEAR).publish(rows)
    assert (first.edition, first.row_count, first.parts) == (1, 2, 1)
    with pytest.raises(Refused) as refused:
        InspectionChecklist.from_events(YEAR, [first]).publish(rows)
    assert refused.value.code == ErrorCode.INVALID_STATE
    [second] = InspectionChecklist.from_events(YEAR, [first]).publish(rows[:1])
    assert (second.edition, second.row_count) == (2, 1)


def test_s1_a_large_checklist_is_published_in_parts_by_rows_and_by_size():
    def row(n: int, fields: int = 0) -> ChecklistRow:
        return ChecklistRow(item_id=uuid.uuid4(), item_name=f"检查{n}", target="全区中小学校", category="inspection",
                            method="实地检查", sample_ratio_or_frequency="每年1次", time_window="9月",
                            inspecting_units=(BUREAU,), inspecting_unit_names=("区教体局",), school_ids=tuple(SCHOOLS),
                            frequency_per_year=1, planned_months=(9,), data_fields=tuple("字" * 100 for _ in range(fields)))
    many = [row(n) for n in range(CHECKLIST_PART_ROWS * 2 + 1)]
    parts = InspectionChecklist(YEAR).publish(many)
    assert [len(p.rows) for p in parts] == [CHECKLIST_PART_ROWS, CHECKLIST_PART_ROWS, 1]
    assert [p.offset for p in parts] == [0, CHECKLIST_PART_ROWS, CHECKLIST_PART_ROWS * 2]
    heavy = [row(n, fields=200) for n in range(CHECKLIST_PART_ROWS)]  # ~60 KB each
    assert all(len(b"".join(r.model_dump_json().encode() for r in part)) <= 512 * 1024 for part in in_parts(heavy))
    assert len(in_parts(heavy)) > 1
    assert InspectionChecklist(YEAR).publish([])[0].parts == 1


def test_s1_a_merged_item_can_be_merged_again_and_still_counts_once():
    health, own = two_to_merge()
    merged, sources = merge_items([approved(health), filed(own)], uuid.uuid4(), "学校卫生与安全联合检查", DIRECTORY)
    lone = proposed(BUREAU, title="教育收费检查")
    again, more = merge_items([InspectionItem.from_events([merged]), filed(lone)], uuid.uuid4(), "学校综合检查", DIRECTORY)
    assert again.lead_org_ids == (HEALTH, "dept-emergency", BUREAU)
    events = [health, own, lone, item(health).approve(DIRECTORY, OFFICE), item(own).screen(DIRECTORY),
              item(lone).screen(DIRECTORY), merged, *sources, again, *more]
    [row] = rows_in_force(YEAR, events, DIRECTORY)
    assert (row.item_id, row.sub_item) == (again.item_id, "学校卫生工作检查；校园安全检查；教育收费检查")
