"""A rebuild reads the log and never writes to it (issue 7, item 2): an auditor's rebuild cannot
add a retroactive violation to the immutable log, even when it finds one the live projector
never recorded and even when it is handed a detection that could append."""

from __future__ import annotations

from jianfu.compliance.rebuild import rebuild_read_model

from tests.s3_semester import S3Semester


async def test_s3_a_rebuild_that_finds_an_unrecorded_violation_appends_nothing(log, engine):
    s = S3Semester(log.store)
    await s.held("school-dwk-primary-1", "dept-housing", "燃气安全宣传")  # unauthorised: S3 violation
    before = await log.store.last_sequence()
    for switch in (False, True):
        result = await rebuild_read_model(engine, log.store, switch=switch)
        assert result.last_sequence == before
    assert await log.store.last_sequence() == before
    assert [e.envelope.event_type async for e in log.store.replay(1)] == ["ActivityHeldReported"]
