"""The S3 semester builders append events the catalogue reads, with intact hash chains."""

from __future__ import annotations

from jianfu.events import catalogue
from jianfu.events.envelope import verify_chain

from tests.s3_semester import S3Semester


async def test_the_builders_append_events_the_catalogue_reads_with_intact_chains(store):
    semester = S3Semester(store)
    first = await semester.request("dept-fire", ["school-dwk-primary-1"])
    await semester.certify(first)
    await semester.publish(first)
    activity = await store.load("activity", str(first.activity_id))
    listed = await store.load("campus_entry_semester", semester.semester)
    for history in (activity, listed):
        assert verify_chain(history.envelopes) is None
    assert [type(catalogue.parse(e)).__name__ for e in activity.envelopes + listed.envelopes] == [
        "ActivityRequested", "ActivityCertified", "SemesterListPublished"]

