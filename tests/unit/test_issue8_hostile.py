"""Issue 8's new surface attacked in the domain (S3): a catalogue whose rows a claim could name two
ways must be read the same by approvals (``find_item``) and by the detector, and a report no reader
can store is set aside, not judged; a round too large for one event is stored in parts."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from jianfu.approvals.domain.certification_round import ROUND_MAX_PARTS, CertificationRound, in_parts
from jianfu.compliance.domain.folding import Fact
from jianfu.compliance.domain.s3_detection import s3_detection
from jianfu.events.errors import ErrorCode, Refused
from jianfu.events.region_catalogue import find_item
from jianfu.events.schemas.campus_entry import (
    ROUND_PART_PLACES,
    ActivityHeldReported,
    ActivityRequested,
    CertificationRoundDecided,
    ExemptCategory,
    ExemptionClaim,
    RoundPlace,
)
from jianfu.events.schemas.regional_catalogue import CatalogueItem, RegionalCatalogueImported
from jianfu.events.store import ATOMIC_BATCH_MAX

from tests.factories import DIRECTORY, POLICY, SCHOOLS

POLICE, FIRE, BUREAU = "dept-public-security", "dept-fire", "edu-bureau"
DETECTION = s3_detection(POLICY, {org.org_id: org.name for org in DIRECTORY.organisations}, BUREAU)


def item(n: int, name: str, unit: str) -> CatalogueItem:
    return CatalogueItem(item_id=f"rc-1-{n}", item_name=name, organizer=unit, organizer_org_ids=(unit,),
                         frequency="每年2次", max_per_year=2, max_per_semester=None, stages=())


def catalogue(*items: CatalogueItem) -> RegionalCatalogueImported:
    return RegionalCatalogueImported(edition=1, title="自治区中小学进校园活动目录", in_force_from=date(2024, 1, 1),
                                     items=items)


def claimed(reference: str, organizer: str = POLICE) -> ActivityHeldReported:
    return ActivityHeldReported(
        report_id=uuid.uuid4(), school_id=SCHOOLS[0], organizer_org_id=organizer, organizer_name=organizer,
        activity_id=None, title="法治讲座", held_on=date(2026, 10, 20), semester="2026-autumn", participants=10,
        teacher_hours=1.0, exemption_claim=ExemptionClaim(category=ExemptCategory.REGIONAL_CATALOGUE,
                                                          reference=reference))


def judged(*events) -> list:
    batch = DETECTION.empty_batch()
    at = datetime(2026, 9, 1, 2, tzinfo=UTC)
    DETECTION.fold(batch, [Fact(n, str(uuid.uuid4()), type(e).__name__, "region", at, "c", e)
                           for n, e in enumerate(events, 1)])
    return [emitted.decision for emitted in batch.emitted]


def test_s3_two_rows_of_one_name_the_detector_reads_the_claim_as_approvals_does():
    """Real catalogues repeat a name for different units; approvals takes the first row."""
    rows = (item(1, "法治进校园", POLICE), item(2, "法治 进校园", FIRE))
    assert find_item(rows, "法治进校园").organizer_org_ids == (POLICE,)
    assert judged(catalogue(*rows), claimed("法治进校园")) == []


def test_s3_a_row_named_like_another_rows_id_the_detector_reads_the_claim_by_id_as_approvals_does():
    rows = (item(1, "法治进校园", POLICE), item(2, "RC-1-1", FIRE))
    for reference in ("rc-1-1", "RC-1-1", "ｒｃ-1-1"):
        assert find_item(rows, reference).organizer_org_ids == (POLICE,)
        assert judged(catalogue(*rows), claimed(reference)) == []


def test_s3_a_report_holding_a_nul_is_set_aside_not_judged_into_a_violation_that_quotes_it():
    """A violation quoting the NUL would be stored for ever where no reader can store it."""
    outsider = claimed("法治进校园").model_copy(update={"organizer_org_id": None, "organizer_name": "红十字\x00会",
                                                     "exemption_claim": None})
    with pytest.raises(ValueError, match="NUL"):
        judged(outsider)
    assert len(judged(outsider.model_copy(update={"organizer_name": "红十字会"}))) == 1


NATS_MAX_PAYLOAD = 1024 * 1024  # deploy/nats.conf


def test_s3_a_window_flooded_with_declarations_still_has_a_round_that_fits_the_log():
    """S3 集中认定: one department declaring 10,000 items in the window must not make the
    semester's round impossible to record: it is stored in parts, each under NATS's payload."""
    flood = [ActivityRequested.model_construct(activity_id=uuid.uuid4(), basis_level=None) for _ in range(10_000)]
    parts = in_parts(CertificationRound("2026-autumn").decide(flood, (), date(2026, 8, 1)))
    assert all(len(part.model_dump_json().encode()) < NATS_MAX_PAYLOAD for part in parts)


def test_s3_a_round_of_20000_candidates_is_stored_in_parts_under_the_payload_limit_and_read_back_whole():
    flood = [ActivityRequested.model_construct(activity_id=uuid.uuid4(), basis_level=None) for _ in range(20_000)]
    whole = CertificationRound("2026-autumn").decide(flood, (), date(2026, 8, 1))
    parts = in_parts(whole)
    assert len(parts) == 20_000 // ROUND_PART_PLACES and len(parts) <= ATOMIC_BATCH_MAX
    stored = [CertificationRoundDecided.model_validate_json(part.model_dump_json()) for part in parts]
    assert all(len(part.model_dump_json().encode()) < NATS_MAX_PAYLOAD for part in parts)
    assert [(p.part, p.parts, p.offset, p.place_count) for p in stored] == [
        (n, len(parts), (n - 1) * ROUND_PART_PLACES, 20_000) for n in range(1, len(parts) + 1)]
    read = CertificationRound.from_events("2026-autumn", reversed(stored))
    assert read.places == whole.places and read.decided == stored[0]


def test_s3_a_one_part_round_stored_before_rounds_came_in_parts_still_reads():
    """An event stored without part fields reads as part 1 of 1, every place in it."""
    place = {"activity_id": str(uuid.uuid4()), "rank": 1, "priority": "other", "rejected_by_bureau": False}
    old = CertificationRoundDecided.model_validate({"semester": "2025-autumn", "decided_on": "2025-08-01",
                                                    "places": [place], "note": ""})
    assert (old.part, old.parts, old.offset, old.place_count) == (1, 1, 0, None)
    read = CertificationRound.from_events("2025-autumn", [old])
    assert read.decided == old and [str(p.activity_id) for p in read.places] == [place["activity_id"]]


def test_s3_a_round_beyond_one_atomic_batch_of_parts_is_refused_not_half_stored():
    assert ROUND_MAX_PARTS == ATOMIC_BATCH_MAX
    places = (RoundPlace(activity_id=uuid.uuid4(), rank=1, priority="other"),) * (ROUND_MAX_PARTS * ROUND_PART_PLACES + 1)
    too_many = CertificationRoundDecided(semester="2026-autumn", decided_on=date(2026, 8, 1), places=places)
    with pytest.raises(Refused) as refused:
        in_parts(too_many)
    assert refused.value.code == ErrorCode.INVALID_STATE


RED_CROSS = "宁夏回族自治区红十字会"


def outside(name: str, reference: str | None = None) -> ActivityHeldReported:
    claim = ExemptionClaim(category=ExemptCategory.REGIONAL_CATALOGUE, reference=reference) if reference else None
    return claimed("x").model_copy(update={"organizer_org_id": None, "organizer_name": name, "exemption_claim": claim,
                                           "title": "应急救护培训"})


def test_s3_one_outside_entry_reported_twice_with_different_spacing_is_one_violation():
    """detector.py: the same entry reported twice (by two members of staff) is one violation."""
    first, second = judged(outside(RED_CROSS)), judged(outside("宁夏回族自治区 红十字会"))
    assert [v.violation_id for v in first] == [v.violation_id for v in second]
    assert first[0].issue_key == second[0].issue_key


def test_s3_an_outside_unit_the_regional_catalogue_lists_for_its_item_is_admitted_on_its_claim():
    """S3: items in the region's catalogue need no declaration; the catalogue names who runs them."""
    first_aid = CatalogueItem(item_id="rc-1-1", item_name="应急救护培训进校园", organizer=RED_CROSS,
                              organizer_org_ids=(), frequency="每年1次", max_per_year=1, max_per_semester=None,
                              stages=())
    assert judged(catalogue(first_aid), outside(RED_CROSS, "应急救护培训进校园")) == []
