"""Issue 9's S1/S2 surface attacked in the domain: deadlines a client may send (odd offsets, year
9999) are either refused at intake or read by every reader (the S2 read model stores them in UTC),
the Spring Festival and the years past chinesecalendar's last are counted as documented, and a
request of fields that normalise to one asks one field (S2); a merger asks no more fields than a
proposal may (S1)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from jianfu.approvals.domain.inspection_item import InspectionItem, merge_items
from jianfu.compliance import paging
from jianfu.compliance.database import plain
from jianfu.compliance.domain.folding import Fact
from jianfu.compliance.domain.inspection_view import INSPECTION_VIEW
from jianfu.compliance.domain.s1s2_detection import s1s2_detection
from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.schemas.compliance import Rule
from jianfu.events.schemas.inspections import (
    DataRequestIssued,
    InspectionItemProposed,
    InspectionItemsMerged,
    InspectionTarget,
    IssueDataRequest,
)
from jianfu.events.working_days import BUSINESS_TIME, WorkingCalendar
from jianfu.requests.domain.inspections import request_data

from tests.factories import DIRECTORY, POLICY, SCHOOLS
from tests.integration.test_inspection_detector import proposed as detector_proposed
from tests.integration.test_inspection_detector import visit as detector_visit
from tests.unit.test_inspection_approvals import BUREAU, filed, proposed

HEALTH = "dept-health"
NAMES = {org.org_id: org.name for org in DIRECTORY.organisations}
ISSUED = datetime(2026, 3, 5, 2, tzinfo=UTC)


def command(deadline: str, fields=("学生人数",)) -> IssueDataRequest:
    return IssueDataRequest.model_validate({"command_id": str(uuid.uuid4()), "title": "数据报送", "fields": list(fields),
                                           "school_ids": SCHOOLS[:1], "deadline": deadline})


def issued(deadline: str, fields=("学生人数",), at: datetime = ISSUED) -> DataRequestIssued:
    return request_data(command(deadline, fields), uuid.uuid4(), DIRECTORY.get(HEALTH), at, DIRECTORY)


@pytest.mark.parametrize("deadline", ["9999-12-31T23:00:00-05:00", "9999-12-31T00:01:00-23:59"])
def test_s2_a_deadline_whose_utc_time_is_past_year_9999_is_refused_at_intake(deadline):
    """S2: the read model stores a deadline in UTC; one that has no UTC time (the last hours of
    year 9999 west of Greenwich) would make the request unreadable there for ever."""
    with pytest.raises(Refused) as refused:
        issued(deadline)
    assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID_FIELD, "deadline")


@pytest.mark.parametrize("deadline", ["9999-12-31T23:59:59+00:00", "9999-12-31T23:59:59+23:59",
                                      "2026-03-09T17:00:00+23:59", "2026-03-09T17:00:00-23:59"])
def test_s2_a_deadline_at_the_edges_of_time_is_accepted_and_read_by_the_view_and_the_detector(deadline):
    request = issued(deadline)
    batch = INSPECTION_VIEW.empty_batch()
    INSPECTION_VIEW.fold(batch, [Fact(1, str(uuid.uuid4()), "DataRequestIssued", "data_request", ISSUED, "c", request)])
    row = batch["data_requests"].get(str(request.request_id))
    assert row["deadline"] == request.deadline.astimezone(UTC)
    detection = s1s2_detection(POLICY, NAMES, ["edu-bureau"])
    judged = detection.empty_batch()
    detection.fold(judged, [Fact(1, str(uuid.uuid4()), "DataRequestIssued", "data_request", ISSUED, "c", request)])
    assert all(e.decision.rule is not None for e in judged.emitted)


def shanghai(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=BUSINESS_TIME)


def short_deadline(issued_at: datetime, deadline: datetime):
    detection = s1s2_detection(POLICY, NAMES, ["edu-bureau"])
    batch = detection.empty_batch()
    request = DataRequestIssued(request_id=uuid.uuid4(), requester_org_id=HEALTH, title="数据报送", fields=("x",),
                                school_ids=(SCHOOLS[0],), issued_at=issued_at, deadline=deadline,
                                year=issued_at.astimezone(BUSINESS_TIME).year)
    detection.fold(batch, [Fact(1, str(uuid.uuid4()), "DataRequestIssued", "data_request", issued_at, "c", request)])
    found = [e.decision for e in batch.emitted if e.decision.rule is Rule.EXCESSIVELY_SHORT_DEADLINE]
    return found[0] if found else None


def test_s2_a_deadline_across_the_2026_spring_festival_counts_only_its_working_days():
    """S2 with the national calendar: issued Friday 13 Feb 2026 17:00, the adjusted working
    Saturday 14th counts, 15-23 Feb are off; due Tuesday 24th 12:00 is 7+24+12 hours (1.79
    working days, too short), due Wednesday 25th 12:00 is 2.79 (enough)."""
    found = short_deadline(shanghai(date(2026, 2, 13), 17), shanghai(date(2026, 2, 24), 12))
    assert found is not None and found.evidence["calendar"] == "national"
    assert found.evidence["working_days"] == pytest.approx(43 / 24, abs=1e-4)
    assert short_deadline(shanghai(date(2026, 2, 13), 17), shanghai(date(2026, 2, 25), 12)) is None


def test_s2_past_chinesecalendars_last_year_the_2027_spring_festival_is_counted_by_weekdays():
    """S2 past the package's last year (2026): Monday to Friday count, so a deadline in the 2027
    Spring Festival week is judged by weekdays (as documented: enter the notice in the policy
    file's ``[working_days]`` until the package is upgraded), and the evidence says so."""
    found = short_deadline(shanghai(date(2027, 2, 5), 17), shanghai(date(2027, 2, 9), 12))
    assert found is not None and found.evidence["calendar"] == "weekdays"
    assert found.evidence["working_days"] == pytest.approx(43 / 24, abs=1e-4)
    assert short_deadline(shanghai(date(2027, 2, 5), 17), shanghai(date(2027, 2, 10), 12)) is None
    off = WorkingCalendar(local_days_off=[date(2027, 2, 8), date(2027, 2, 9), date(2027, 2, 10)])
    assert off.working_days_between(shanghai(date(2027, 2, 5), 17), shanghai(date(2027, 2, 11), 12), 2) < 2


def test_s2_a_deadline_in_year_9999_is_enough_and_counted_without_walking_the_years():
    found = short_deadline(ISSUED, datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=23, minutes=59))))
    assert found is None


def test_s2_two_hundred_spellings_of_one_field_ask_one_field_and_repeat_none_in_one_request():
    """S2: a field named twice in one request is not a duplicate; the next request asking it is."""
    spellings = ["学生" + (" ", "\u3000")[n % 2] * ((n + 1) // 2) + "人数" for n in range(200)]
    assert len(set(spellings)) == 200
    detection = s1s2_detection(POLICY, NAMES, ["edu-bureau"])
    batch = detection.empty_batch()
    first = DataRequestIssued(request_id=uuid.uuid4(), requester_org_id=HEALTH, title="数据报送",
                              fields=tuple(dict.fromkeys(spellings)), school_ids=(SCHOOLS[0],), issued_at=ISSUED,
                              deadline=ISSUED + timedelta(days=30), year=2026)
    again = first.model_copy(update={"request_id": uuid.uuid4(), "fields": ("学 生 人 数",)})
    detection.fold(batch, [Fact(n, str(uuid.uuid4()), "DataRequestIssued", "data_request", ISSUED, "c", r)
                           for n, r in enumerate((first, again), 1)])
    duplicates = [e.decision for e in batch.emitted if e.decision.rule is Rule.DUPLICATE_DATA_REQUEST]
    assert [d.evidence["request_id"] for d in duplicates] == [str(again.request_id)]
    assert duplicates[0].evidence["earlier_request_id"] == str(first.request_id)


def test_s1_a_merger_whose_items_ask_more_than_two_hundred_fields_together_is_refused():
    """S1/S2: a merged item asks at most the 200 fields a proposal may; twenty items of 200 long
    fields each would make an event no broker carries (it was answered UNAVAILABLE, "retry")."""
    def bureau_item(first: int, count: int) -> InspectionItem:
        return filed(proposed(BUREAU, data_fields=tuple(f"{first + k:04d}" + "字" * 96 for k in range(count))))
    with pytest.raises(Refused) as refused:
        merge_items([bureau_item(200 * n, 200) for n in range(20)], uuid.uuid4(), "合并事项", DIRECTORY)
    assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID_FIELD, "item_ids")
    merged, _ = merge_items([bureau_item(0, 150), bureau_item(50, 150)], uuid.uuid4(), "合并事项", DIRECTORY)
    assert len(merged.data_fields) == 200


def test_s2_the_read_model_counts_two_hundred_spellings_of_one_field_as_one_field_asked():
    """S2: per school and year the read model counts fields as the detector compares them."""
    spellings = ["学生" + (" ", "\u3000")[n % 2] * ((n + 1) // 2) + "人数" for n in range(200)]
    request = DataRequestIssued(request_id=uuid.uuid4(), requester_org_id=HEALTH, title="数据报送",
                                fields=tuple(spellings), school_ids=(SCHOOLS[0],), issued_at=ISSUED,
                                deadline=ISSUED + timedelta(days=30), year=2026)
    batch = INSPECTION_VIEW.empty_batch()
    INSPECTION_VIEW.fold(batch, [Fact(1, str(uuid.uuid4()), "DataRequestIssued", "data_request", ISSUED, "c", request)])
    counters = batch["inspection_school_years"].get(SCHOOLS[0], 2026)
    assert (counters["data_requests"], counters["requested_fields"], counters["distinct_fields"]) == (1, 1, 1)


def test_s1_an_item_stored_with_a_nul_in_its_title_or_setter_is_set_aside_not_quoted_by_a_setter_violation():
    """S1: the detector sets aside (quarantines) a proposal or merger whose title or unit holds a
    NUL, as it does a visit: an UnauthorizedInspectionSetter quoting it would carry the NUL into
    the log for ever. A visit under the item is then under an item the log never saw: unplanned."""
    item_id = uuid.uuid4()
    at = datetime(2026, 4, 10, tzinfo=UTC)
    proposal = detector_proposed(item_id, HEALTH).model_copy(update={"title": "检查\u0000事项"})
    merger = InspectionItemsMerged(item_id=uuid.uuid4(), year=2026, title="合并\u0000事项", merged_item_ids=(item_id,),
                                   lead_org_ids=(HEALTH,), category="inspection", target_school_ids=(), teachers=False,
                                   frequency_per_year=1, planned_months=(4,), data_fields=())
    detection = s1s2_detection(POLICY, NAMES, ["edu-bureau"])
    for n, (event_type, event) in enumerate((("InspectionItemProposed", proposal),
                                             ("InspectionItemsMerged", merger)), 1):
        with pytest.raises(ValueError, match="NUL"):
            detection.fold(detection.empty_batch(), [Fact(n, str(uuid.uuid4()), event_type, "x", at, "c", event)])
    batch = detection.empty_batch()
    detection.fold(batch, [Fact(3, str(uuid.uuid4()), "InspectionVisitReported", "x", at, "c",
                                detector_visit(HEALTH, date(2026, 4, 10), item_id=item_id))])
    assert [e.decision.rule for e in batch.emitted] == [Rule.UNPLANNED_INSPECTION]


def test_s1_the_largest_item_the_schemas_allow_fits_a_page_of_get_inspection_items():
    """S1: 500 schools of the longest org ids, 200 fields of 100 characters NFKC writes as 18
    each, and every text at its bound: the read model's row stays under a page's byte budget, so
    GetInspectionItems never needs a reply NATS cannot carry."""
    expands = "\ufdfa"
    schools = tuple(f"s{n:03d}" + "x" * 59 for n in range(500))
    proposal = InspectionItemProposed(
        year=2027, title=expands * 200, sub_item=expands * 200, category="inspection", policy_basis=expands * 1000,
        joint_org_ids=tuple(f"u{n:02d}" + "y" * 60 for n in range(20)),
        target=InspectionTarget(school_ids=schools, sample_share=1.0, teachers=True), method=expands * 200,
        indicators=1000, frequency_per_year=52, planned_months=tuple(range(1, 13)),
        data_fields=tuple(f"{n:03d}" + expands * 97 for n in range(200)), archive_sets=100,
        urgency_reason=expands * 1000, item_id=uuid.uuid4(), lead_org_id="z" * 63, proposed_on=date(2026, 10, 21),
        late=True, school_ids=schools)
    batch = INSPECTION_VIEW.empty_batch()
    INSPECTION_VIEW.fold(batch, [Fact(1, str(uuid.uuid4()), "InspectionItemProposed", "inspection_item", ISSUED, "c",
                                      proposal)])
    row = batch["inspection_items"].get(str(proposal.item_id))
    assert paging.row_bytes({key: plain(value) for key, value in row.items()}) < paging.PAGE_BYTES
