"""The S9/S10 read model as a batch fold: the meetings of each semester, the similar meetings of
one organiser in one week (S9: merge them), and per teacher and semester the meetings a teacher
was required at.

``merge_with`` is a flag for the organiser, not a violation: the other meetings of the same
organiser in the same ISO week whose titles are alike (``titles.normalise_title`` equal, or one
contained in the other). Both meetings name each other, whichever was scheduled first.

What depends on reference data outside the log is left to the query: how many participants
come from further than the policy's distance (the district's distance table) and which
organisers are outside the education system (the directory). The verdicts
(``VideoSubVenueRequired``, ``NonEducationMeetingForTeachers``, ``MeetingQuotaExceeded``) are the
detector's: the rows record the violations that name them (evidence ``meeting_id``; for the
quota, the violation's ``teacher_id`` and ``semester``).
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from jianfu.compliance.domain.folding import Batch, Fact, Need, On, Projection
from jianfu.events.schemas.compliance import Rule, ViolationDetected
from jianfu.events.schemas.meetings import MeetingScheduled
from jianfu.events.titles import normalise_title

MERGE_WITH_MAX = 20
"""S9: the most alike meetings one meeting names in ``merge_with``. It is a flag, and twenty
examples make it; unbounded, a unit scheduling thousands of alike meetings in one week made each
new one rewrite every other row with a list as long as the week (the projector stalled, and a
row outgrew a reply)."""

MARKS = {
    Rule.VIDEO_SUB_VENUE_REQUIRED: "sub_venue_violation_id",
    Rule.NON_EDUCATION_MEETING_FOR_TEACHERS: "non_education_violation_id",
}

KEYS = {
    "meetings": ("meeting_id",),
    "meeting_weeks": ("organiser_org_id", "week", "meeting_id"),
    "teacher_meetings": ("semester", "teacher_id", "organiser_org_id"),
    "teacher_semesters": ("semester", "teacher_id"),
}


def week_of(day: date) -> str:
    """The ISO week a day is in, e.g. ``2026-W45`` (a week across a year's end is one week)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def similar(title_key: str, other_key: str) -> bool:
    """S9: titles alike enough to merge the meetings: equal once normalised, or one inside the other."""
    return bool(title_key and other_key) and (title_key in other_key or other_key in title_key)


def _meeting_needs(fact: Fact):
    meeting: MeetingScheduled = fact.data
    yield Need("meetings", (str(meeting.meeting_id),))
    yield Need("meeting_weeks", (meeting.organiser_org_id, week_of(meeting.held_on)))
    for participant in meeting.participants:
        yield Need("teacher_semesters", (meeting.semester, participant.teacher_id))
        yield Need("teacher_meetings", (meeting.semester, participant.teacher_id, meeting.organiser_org_id))


def _meeting(batch: Batch, fact: Fact) -> None:
    meeting: MeetingScheduled = fact.data
    meeting_id = str(meeting.meeting_id)
    if batch["meetings"].get(meeting_id) is not None:
        return  # recorded already
    schools = Counter(participant.school_id for participant in meeting.participants)
    batch["meetings"].put({
        "meeting_id": meeting_id, "semester": meeting.semester, "organiser_org_id": meeting.organiser_org_id,
        "title": meeting.title, "concerns_teaching": meeting.concerns_teaching, "held_on": meeting.held_on,
        "week": week_of(meeting.held_on), "mode": meeting.mode.value, "venue_id": meeting.venue_id,
        "sub_venue_ids": list(meeting.sub_venue_ids), "participants": len(meeting.participants),
        "schools": dict(sorted(schools.items())), "scheduled_on": meeting.scheduled_on,
        "sub_venue_violation_id": None, "non_education_violation_id": None, "quota_violations": 0,
        "event_id": fact.event_id, "sequence": fact.sequence})
    _week(batch, meeting, meeting_id)
    for participant in meeting.participants:
        _attend(batch, meeting, participant.teacher_id, participant.school_id)


def _week(batch: Batch, meeting: MeetingScheduled, meeting_id: str) -> None:
    """S9: the meeting and the alike ones of its organiser that week name each other, each at
    most ``MERGE_WITH_MAX`` of them: those with the smallest ids, whatever order they came in."""
    weeks, week = batch["meeting_weeks"], week_of(meeting.held_on)
    title_key = normalise_title(meeting.title)
    alike = []
    for other in weeks.group(meeting.organiser_org_id, week):
        if similar(title_key, other["title_key"]):
            alike.append(other["meeting_id"])
            named = _bounded({*other["merge_with"], meeting_id})
            if named != other["merge_with"]:
                weeks.update(other, merge_with=named)
    weeks.put({"organiser_org_id": meeting.organiser_org_id, "week": week, "meeting_id": meeting_id,
               "title_key": title_key, "merge_with": _bounded(alike)})


def _bounded(meeting_ids) -> list[str]:
    return sorted(meeting_ids)[:MERGE_WITH_MAX]


def _attend(batch: Batch, meeting: MeetingScheduled, teacher_id: str, school_id: str) -> None:
    semesters, by_organiser = batch["teacher_semesters"], batch["teacher_meetings"]
    row = semesters.get(meeting.semester, teacher_id) or {
        "semester": meeting.semester, "teacher_id": teacher_id, "meetings": 0, "quota_violations": 0}
    semesters.put({**row, "school_id": school_id, "meetings": row["meetings"] + 1})
    key = (meeting.semester, teacher_id, meeting.organiser_org_id)
    counted = by_organiser.get(*key) or dict(zip(by_organiser.key, key, strict=True), meetings=0)
    by_organiser.put({**counted, "meetings": counted["meetings"] + 1})


# ViolationDetected: the S9/S10 verdicts on the rows they name.

def _meeting_named(event: ViolationDetected) -> str | None:
    meeting_id = event.evidence.get("meeting_id")
    return meeting_id if isinstance(meeting_id, str) and meeting_id else None


def _quota_named(event: ViolationDetected) -> tuple[str, str] | None:
    if event.rule is Rule.MEETING_QUOTA_EXCEEDED and event.semester and event.teacher_id:
        return event.semester, event.teacher_id
    return None


def _violation_needs(fact: Fact):
    event: ViolationDetected = fact.data
    meeting_id = _meeting_named(event)
    if meeting_id and (event.rule in MARKS or event.rule is Rule.MEETING_QUOTA_EXCEEDED):
        yield Need("meetings", (meeting_id,))
    if _quota_named(event):
        yield Need("teacher_semesters", _quota_named(event))


def _violation(batch: Batch, fact: Fact) -> None:
    event: ViolationDetected = fact.data
    meeting_id = _meeting_named(event)
    meeting = batch["meetings"].get(meeting_id) if meeting_id else None
    if meeting is not None and event.rule in MARKS and meeting[MARKS[event.rule]] is None:
        batch["meetings"].update(meeting, **{MARKS[event.rule]: event.violation_id})
    if meeting is not None and event.rule is Rule.MEETING_QUOTA_EXCEEDED:
        batch["meetings"].update(meeting, quota_violations=meeting["quota_violations"] + 1)
    named = _quota_named(event)
    row = batch["teacher_semesters"].get(*named) if named else None
    if row is not None:
        batch["teacher_semesters"].update(row, quota_violations=row["quota_violations"] + 1)


MEETING_VIEW = Projection("meetings", KEYS, {
    MeetingScheduled.__name__: On(_meeting_needs, _meeting),
    ViolationDetected.__name__: On(_violation_needs, _violation),
})
