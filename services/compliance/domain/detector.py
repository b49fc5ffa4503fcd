"""S3 violation rules applied to a school's report of an activity held on its campus.

The detector is a pure function of the report and of what the log had authorised up to the
report's place in the stream, so projecting the same stream twice (a restart, a rebuild) reaches
the same decisions with the same deterministic violation ids, and ``append_once`` records each
violation exactly once.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from jianfu.events.schemas.campus_entry import ActivityHeldReported
from jianfu.events.schemas.compliance import (
    RULE_CLAUSE,
    Rule,
    ViolationDetected,
    violation_id,
)
from jianfu.events.titles import normalise_title


@dataclass(frozen=True)
class Authorisation:
    """An activity certified by the education bureau, or recorded as exempt (S3): the
    organizer may enter the listed schools during the semester."""

    activity_id: str
    organizer_org_id: str
    semester: str
    school_ids: frozenset[str]
    title: str = ""


def authorising(report: ActivityHeldReported, authorisations: Iterable[Authorisation]) -> Authorisation | None:
    """The authorisation that admits this entry, if any (S3: certified or exempt, same organizer,
    school in scope, same semester, and the named activity when the school named one)."""
    for authorisation in authorisations:
        if (
            authorisation.organizer_org_id == report.organizer_org_id
            and report.school_id in authorisation.school_ids
            and authorisation.semester == report.semester
            and (report.activity_id is None or str(report.activity_id) == authorisation.activity_id)
        ):
            return authorisation
    return None


def item_key(report: ActivityHeldReported, authorisations: Iterable[Authorisation] = ()) -> str:
    """What counts as one item towards the per-school cap (S3).

    The activity id when the school named it; otherwise the authorised activity of the same
    organizer with the same title (one item reported with and without its id is still one
    item); otherwise organizer and normalised title.
    """
    if report.activity_id is not None:
        return str(report.activity_id)
    title = normalise_title(report.title)
    for authorisation in authorisations:
        if (authorisation.organizer_org_id == report.organizer_org_id and normalise_title(authorisation.title) == title
                and report.school_id in authorisation.school_ids and authorisation.semester == report.semester):
            return authorisation.activity_id
    return f"{report.organizer_org_id}:{title}"


def _evidence(report: ActivityHeldReported, report_event_id: str) -> dict:
    return {
        "report_event_id": report_event_id,
        "report_id": str(report.report_id),
        "activity_id": str(report.activity_id) if report.activity_id else None,
        "title": report.title,
        "held_on": report.held_on.isoformat(),
    }


def unauthorized_violation_id(report: ActivityHeldReported) -> str:
    """The id an unauthorised entry gets: the same entry reported twice (by mistake, or by two
    members of staff) is one violation."""
    what = str(report.activity_id) if report.activity_id else normalise_title(report.title)
    return violation_id(Rule.UNAUTHORIZED_CAMPUS_ENTRY, report.school_id, report.organizer_org_id,
                        report.held_on.isoformat(), what)


def unauthorized_campus_entry(
    report: ActivityHeldReported,
    report_event_id: str,
    authorisations: Iterable[Authorisation],
    names: Mapping[str, str] | None = None,
) -> ViolationDetected | None:
    """S3: an activity held at a school without certification or exemption."""
    if authorising(report, authorisations) is not None:
        return None
    organizer, names = report.organizer_org_id, names or {}
    return _violation(
        Rule.UNAUTHORIZED_CAMPUS_ENTRY, report, unauthorized_violation_id(report),
        f"{names.get(organizer, organizer)}于{report.held_on.isoformat()}在"
        f"{names.get(report.school_id, report.school_id)}开展“{report.title}”，"
        f"未经区教体局认定或备案（S3 社会事务进校园须申报、认定、公布）。",
        _evidence(report, report_event_id),
    )


def campus_entry_quota_exceeded(
    report: ActivityHeldReported,
    report_event_id: str,
    key: str,
    items_held: Collection[str],
    cap: int,
    names: Mapping[str, str] | None = None,
) -> ViolationDetected | None:
    """S3: a new item held at a school that already had ``cap`` items this semester.

    Every item beyond the cap is its own violation, charged to the organizer who brought it;
    an item already held (a second session of it) adds nothing.
    """
    if key in items_held or len(items_held) < cap:
        return None
    rule, organizer, names = Rule.CAMPUS_ENTRY_QUOTA_EXCEEDED, report.organizer_org_id, names or {}
    return _violation(
        rule, report, violation_id(rule, report.school_id, report.semester, key),
        f"{names.get(report.school_id, report.school_id)}本学期（{report.semester}）已有{len(items_held)}项"
        f"进校园活动，{names.get(organizer, organizer)}开展的“{report.title}”超出每校每学期{cap}项的上限（S3）。",
        {**_evidence(report, report_event_id), "item_key": key, "items_before": len(items_held), "cap": cap},
    )


def _violation(rule: Rule, report: ActivityHeldReported, found_id: str, summary: str, evidence: dict) -> ViolationDetected:
    """A violation charged to the report's organizer, grouped per organizer and rule (G2 issue)."""
    return ViolationDetected(
        violation_id=found_id,
        rule=rule,
        clause=RULE_CLAUSE[rule],
        responsible_org_id=report.organizer_org_id,
        school_id=report.school_id,
        semester=report.semester,
        issue_key=f"{report.organizer_org_id}:{rule.value}",
        summary=summary,
        evidence=evidence,
    )


def detect(
    report: ActivityHeldReported,
    report_event_id: str,
    authorisations: Collection[Authorisation],
    items_held: Collection[str],
    cap: int,
    names: Mapping[str, str] | None = None,
) -> list[ViolationDetected]:
    """Every S3 violation this report reveals, given the authorisations of its semester and the
    distinct *authorised* items already held at its school (both as of the report's place in the
    stream).

    An unauthorised entry is charged as ``UnauthorizedCampusEntry`` to its organizer and takes no
    place in the school's count: otherwise it would fill the count and the next certified
    organizer would be the one charged with ``CampusEntryQuotaExceeded`` (issue 8, finding 2).
    """
    unauthorised = unauthorized_campus_entry(report, report_event_id, authorisations, names)
    if unauthorised is not None:
        return [unauthorised]
    over = campus_entry_quota_exceeded(report, report_event_id, item_key(report, authorisations), items_held, cap,
                                       names)
    return [over] if over is not None else []


def counts_towards_the_cap(report: ActivityHeldReported, authorisations: Iterable[Authorisation]) -> bool:
    """S3: certified and exempt items fill the school's count; an unauthorised entry does not."""
    return authorising(report, authorisations) is not None
