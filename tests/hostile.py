"""Hypothesis strategies for hostile input to the command and query edge (issue 5).

Bodies are built from a valid body of each command and query (``SEEDS``) with hostile values
mixed in, so that some get through and the properties about what is accepted are exercised,
not only the refusals. A mutated body remembers why it must be refused, when it must: a value
of another JSON type than the field's ("1" for 1, true for 1), a key the schema does not have,
a non-finite or overlong number, a control character or a lone surrogate in a string, JSON
nested deeper than any command.
"""

from __future__ import annotations

import copy
import json
import math
import re
import time
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from tests.factories import SCHOOLS, application, held_report

SEMESTER = "2026-autumn"
COMMAND_ID, ACTIVITY_ID = "6a2f41a0-6e6f-4b6b-8f3c-1f2e3d4c5b6a", "0b6f3c1e-2d4a-4f5b-9c8d-7e6f5a4b3c2d"
ITEM_ID = "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
SEEDS: dict[str, dict[str, Any]] = {
    "RequestActivity": application(command_id=COMMAND_ID),
    "RecordActivityHeld": held_report("dept-public-security", command_id=COMMAND_ID),
    "RecordEntryRefused": {"command_id": COMMAND_ID, "organizer_name": "宁夏某教育科技有限公司", "title": "研学产品推介会",
                           "refused_on": "2026-10-20", "refusal_code": "NOT_ON_LIST", "note": "不在公布清单内"},
    "CertifyActivity": {"command_id": COMMAND_ID, "activity_id": ACTIVITY_ID, "note": "材料齐全", "urgency_confirmed": True},
    "DecideCertificationRound": {"command_id": COMMAND_ID, "semester": SEMESTER, "note": "集中认定", "rejections": [
        {"activity_id": ACTIVITY_ID, "refusal_code": "SCOPE_TOO_BROAD", "reason": "覆盖全区学校，范围过大"}]},
    "RejectActivity": {"command_id": COMMAND_ID, "activity_id": ACTIVITY_ID, "refusal_code": "SCOPE_TOO_BROAD",
                       "reason": "覆盖全区学校，范围过大"},
    "PublishSemesterList": {"command_id": COMMAND_ID, "semester": SEMESTER},
    "ApproveInspectionItem": {"command_id": COMMAND_ID, "item_id": ITEM_ID, "note": "同意，由区教体局统筹实施"},
    "RejectInspectionItem": {"command_id": COMMAND_ID, "item_id": ITEM_ID, "refusal_code": "DUPLICATES_EXISTING_ITEM",
                             "reason": "与区教体局安全检查重复，应合并"},
    "MergeInspectionItems": {"command_id": COMMAND_ID, "item_ids": [ITEM_ID, ACTIVITY_ID], "title": "学校安全与卫生联合检查",
                             "note": "同类事项合并"},
    "PublishInspectionChecklist": {"command_id": COMMAND_ID, "year": 2027},
    "ImportRegionalCatalogue": {"command_id": COMMAND_ID, "title": "宁夏回族自治区中小学进校园活动目录（2026年）",
                                "in_force_from": "2026-09-01",
                                "rows": [{"item_name": "法治进校园", "organizer": "区公安分局、区司法局",
                                          "period_or_time": "全年", "frequency": "每年1-2次", "scope": "全区中小学校"}]},
    "ProposeInspectionItem": {"command_id": COMMAND_ID, "year": 2026, "title": "学校食品安全专项检查",
                              "category": "inspection", "policy_basis": "《学校食品安全与营养健康管理规定》",
                              "target": {"all_schools": True, "sample_share": 0.2}, "method": "实地检查、查阅材料",
                              "indicators": 12, "frequency_per_year": 1, "planned_months": [10, 11],
                              "data_fields": ["食堂从业人员健康证"], "archive_sets": 1},
    "ReportInspectionVisit": {"command_id": COMMAND_ID, "visited_on": "2026-10-20", "visiting_org_id": "dept-health",
                              "label": "research", "graded": True, "grading": "优秀/合格/不合格"},
    "IssueDataRequest": {"command_id": COMMAND_ID, "title": "学生体质健康数据填报", "fields": ["学生人数", "体测合格率"],
                         "school_ids": SCHOOLS[:2], "deadline": "2026-03-10T17:00:00+08:00"},
    "ConsentToSecondment": {"command_id": COMMAND_ID, "teacher_id": "t-0001", "secondment_id": ITEM_ID, "note": "同意"},
    "ApproveSecondment": {"command_id": COMMAND_ID, "teacher_id": "t-0001", "secondment_id": ITEM_ID, "note": "审批备案"},
    "RefuseSecondment": {"command_id": COMMAND_ID, "teacher_id": "t-0001", "secondment_id": ITEM_ID,
                         "refusal_code": "AFFECTS_TEACHING", "reason": "毕业班教学任务重"},
    "PublishTrainingPlan": {"command_id": COMMAND_ID, "semester": "2027-spring", "sessions": [
        {"code": "2027S-BB-01", "title": "初中语文骨干教师培训", "level": "backbone",
         "organiser_org_id": "teaching-research-office", "months": [3, 4], "hours": 24}]},
    "RegisterTeacher": {"command_id": COMMAND_ID, "teacher_id": "t-0001", "name": "张老师", "subject": "语文"},
    "RequestSecondment": {"command_id": COMMAND_ID, "teacher_id": "t-0001", "task": "乡村振兴驻村工作",
                          "starts_on": "2026-11-01", "ends_on": "2027-01-31"},
    "ReportTeacherSeconded": {"command_id": COMMAND_ID, "teacher_id": "t-0001", "left_on": "2026-10-08",
                              "borrowing_org_id": "dept-publicity", "secondment_id": ACTIVITY_ID},
    "ReportTeacherReturned": {"command_id": COMMAND_ID, "teacher_id": "t-0001", "returned_on": "2026-10-12"},
    "ReportTrainingSession": {"command_id": COMMAND_ID, "title": "新课标校本研修", "held_on": "2026-10-12",
                              "level": "school_based", "plan_code": "2026A-SB-01", "teachers_required": True,
                              "teacher_ids": ["t-0001", "t-0002"], "participants": 40},
    "ScheduleMeeting": {"command_id": COMMAND_ID, "title": "全区安全工作部署会", "concerns_teaching": False,
                        "held_on": "2026-11-05", "mode": "video", "venue_id": "venue-edu-bureau",
                        "sub_venue_ids": ["venue-district-hall"],
                        "participants": [{"teacher_id": "t-0001", "school_id": SCHOOLS[0]}]},
    "ListOrganisations": {"kind": "school"},
    "GetSemesterList": {"semester": SEMESTER},
    "GetApplications": {"semester": SEMESTER, "status": "certified", "limit": 20},
    "GetCampusEntryCounters": {"semester": SEMESTER, "school_id": SCHOOLS[0]},
    "GetViolations": {"semester": SEMESTER, "limit": 10},
    "GetInspectionChecklist": {"year": 2026, "limit": 20},
    "GetInspectionItems": {"year": 2026, "status": "approved", "limit": 20},
    "GetInspectionCounters": {"year": 2026, "school_id": SCHOOLS[0]},
    "GetTeachers": {"school_id": SCHOOLS[0], "limit": 20},
    "GetSecondments": {"teacher_id": "t-0001", "status": "away", "limit": 20},
    "GetSecondmentCounters": {"year": 2026, "teacher_id": "t-0001"},
    "GetTrainingPlan": {"semester": "2027-spring", "limit": 20},
    "GetTrainingSessions": {"semester": SEMESTER, "limit": 20},
    "GetMeetings": {"semester": SEMESTER, "limit": 20},
    "GetMeetingCounters": {"semester": SEMESTER, "school_id": SCHOOLS[0]},
    "GetCases": {"stage": 2, "responsible_org_id": "dept-publicity", "open": True, "limit": 20},  # G2
    "GetCaseHistory": {"escalation_id": "esc-0123456789abcdef0123456789abcdef", "limit": 20},
    "GetCirculations": {"year": 2026, "limit": 20},
    "GetAlertDeliveries": {"org_id": "dept-publicity", "alert_id": "a-1", "limit": 20},
    "ConfirmCirculation": {"command_id": COMMAND_ID,  # G2
                           "proposal_id": "esc-0123456789abcdef0123456789abcdef-0123456789abcdef", "note": "同意通报"},
    "DeclineCirculation": {"command_id": COMMAND_ID,
                           "proposal_id": "esc-0123456789abcdef0123456789abcdef-0123456789abcdef", "reason": "先行约谈整改"},
    "ReportRectification": {"command_id": COMMAND_ID, "escalation_id": "esc-0123456789abcdef0123456789abcdef",
                            "report": "已停止未经认定的进校园活动，并建立审批台账。"},
    "VerifyRectification": {"command_id": COMMAND_ID, "escalation_id": "esc-0123456789abcdef0123456789abcdef",
                            "report_id": "rect-0123456789abcdef0123456789abcdef", "note": "整改到位"},
    "RejectRectification": {"command_id": COMMAND_ID, "escalation_id": "esc-0123456789abcdef0123456789abcdef",
                            "report_id": "rect-0123456789abcdef0123456789abcdef", "reason": "整改材料不全"},
}
"""A valid body of every command and query; ``command_id`` is drawn afresh for each example."""

CONTROLS = [chr(c) for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))]
LONE_SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff"]
ODD_CHARACTERS = ["\u2028", "\ufeff", "\uffff", "\u00a0", "٢", "字", " ", '"', "\\", "{", "]"]
# Control characters no field may hold: \t \n \v \f \r and U+0085 are whitespace, trimmed at the ends.
ALWAYS_REFUSED_CHARACTER = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff]")
MAX_NUMBER_CHARS = 24
MISSING = object()


class Repeated(str):
    """A long run of one character, shown as ``'x' * 600000`` in a failing example."""

    def __repr__(self) -> str:
        return f"{self[:1]!r} * {len(self)}"

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(repr(self))


class Abridged(bytes):
    """A long body, shown by its start and its length in a failing example."""

    def __repr__(self) -> str:
        return f"<{len(self)} bytes: {bytes(self[:60])!r}...>"

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(repr(self))


def abridged(body: bytes) -> bytes:
    return Abridged(body) if len(body) > 2000 else body


@dataclass(frozen=True)
class Raw:
    """JSON text written as it is: literals no encoder writes, and no field may hold."""

    text: str

    def __repr__(self) -> str:
        shown = self.text if len(self.text) <= 60 else f"{self.text[:20]}... ({len(self.text)} characters)"
        return f"Raw({shown!r})"


RAW_LITERALS = [
    "NaN", "-NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1E400", "9" * 5000, "1" + "0" * 30,
    '"\\ud800"', '"x\\udc00"', '"\\u0000"', '"\\x41"', '"\x00"', "01", "+1", ".5", "tru", "'x'", "undefined",
    "[" * 9 + "]" * 9, "[" * 1000 + "]" * 1000, '{"a":' * 30 + "1" + "}" * 30, "[" * 30000,
]

characters = st.one_of(st.characters(), st.sampled_from(CONTROLS + LONE_SURROGATES + ODD_CHARACTERS))
strings = st.one_of(
    st.text(characters, max_size=30),
    st.sampled_from(["", " ", "1", "1.5", "-0", "yes", "true", "null", "NaN", "2026-autumn", "٢٠٢٦-autumn"]),
    st.sampled_from([201, 1001, 4001, 22_000]).map(lambda n: Repeated("字" * n)),
)
numbers = st.one_of(
    st.integers(), st.floats(), st.integers(-(2**70), 2**70),
    st.sampled_from([0, -1, 1, 100, 101, 1_000_001, 2**53 + 1, -0.0, 1e-300, 1.5, 1e308]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, strings)
values = st.one_of(
    scalars,
    st.sampled_from(RAW_LITERALS).map(Raw),
    st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(strings, inner, max_size=3),
                 max_leaves=6),
)


def coercions(seed: Any) -> st.SearchStrategy:
    """What a lax parser would take for ``seed``: "1" or true for 1, "yes" or 1 for true."""
    if isinstance(seed, bool):
        return st.sampled_from([1, 0, "true", "yes", "1", "on"])
    if isinstance(seed, int | float):
        return st.sampled_from([str(seed), json.dumps(seed), True, False, [seed], {"value": seed}])
    if isinstance(seed, str):
        return st.sampled_from([0, 1, 2026, True, None, [seed], {"value": seed}])
    return st.nothing()


def json_kind(value: Any) -> str | None:
    if isinstance(value, Raw) or value is None or value is MISSING:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "string" if isinstance(value, str) else "array" if isinstance(value, list) else "object"


def always_refused(value: Any) -> str | None:
    """Why no field of any command may hold ``value`` (wherever it is put), or None."""
    if isinstance(value, Raw):
        return f"the literal {value.text[:20]}"
    if isinstance(value, float) and not math.isfinite(value):
        return "a non-finite number"
    if isinstance(value, int) and not isinstance(value, bool) and len(str(value)) > MAX_NUMBER_CHARS:
        return "a number too long for any field"
    if isinstance(value, str) and ALWAYS_REFUSED_CHARACTER.search(value):
        return "a control character or lone surrogate"
    return None


Path = tuple[str | int, ...]


def at(document: Any, path: Path) -> Any:
    """The value at ``path``, or ``MISSING``."""
    for step in path:
        if isinstance(document, dict) and step in document:
            document = document[step]
        elif isinstance(document, list) and isinstance(step, int) and step < len(document):
            document = document[step]
        else:
            return MISSING
    return document


def paths(document: Any, prefix: Path = ()) -> list[Path]:
    """Every place in ``document`` a value could be put, depth first."""
    if isinstance(document, dict):
        items = document.items()
    elif isinstance(document, list):
        items = enumerate(document)
    else:
        return []
    found = []
    for key, value in items:
        found += [(*prefix, key), *paths(value, (*prefix, key))]
    return found


def dotted(path: Path) -> str:
    return ".".join(str(step) for step in path)


@dataclass
class Mutated:
    """A body derived from a valid one; ``fields`` must each be named in the refusal's errors,
    ``reasons`` say why it must be refused at all."""

    document: dict
    fields: dict[Path, str] = field(default_factory=dict)
    reasons: dict[Path, str] = field(default_factory=dict)

    def inside(self, path: Path) -> Any:
        found = at(self.document, path)
        assert found is not MISSING, path
        return found

    def forget_under(self, path: Path) -> None:
        for claims in (self.fields, self.reasons):
            for claimed in [p for p in claims if p[:len(path)] == path]:
                del claims[claimed]


@st.composite
def mutated(draw, seed: dict) -> Mutated:
    """``seed`` with up to four changes: a value replaced, a key dropped or a key added."""
    seed = {**seed, "command_id": str(draw(st.uuids()))} if "command_id" in seed else seed
    body = Mutated(copy.deepcopy(seed))
    for _ in range(draw(st.integers(0, 4))):
        path = draw(st.sampled_from([(), *paths(body.document)]))
        target = at(body.document, path)
        if isinstance(target, dict) and draw(st.booleans()):
            key = "x-" + draw(st.text(characters, max_size=12))  # never the name of a field
            target[key] = draw(values)
            if isinstance(at(seed, path), dict):
                body.fields[(*path, key)] = body.reasons[(*path, key)] = "a key the schema does not have"
            continue
        if not path:
            continue
        parent, step = body.inside(path[:-1]), path[-1]
        body.forget_under(path)
        if isinstance(parent, dict) and draw(st.integers(0, 4)) == 0:
            del parent[step]
            continue
        original = at(seed, path)
        parent[step] = draw(st.one_of(values, coercions(original)))
        _claim(body, path, original, parent[step])
    return body


def _claim(body: Mutated, path: Path, original: Any, value: Any) -> None:
    kinds = json_kind(original), json_kind(value)
    if None not in kinds and kinds[0] != kinds[1]:
        body.fields[path] = body.reasons[path] = f"a {kinds[1]} where the field takes a {kinds[0]}"
    elif why := refused_anywhere(value):
        body.reasons[path] = why


def refused_anywhere(value: Any) -> str | None:
    """Why ``value``, or anything inside it, can be no field's value; or None."""
    for inner in [value, *(at(value, p) for p in paths(value))]:
        if why := always_refused(inner):
            return why
    for key in [p[-1] for p in paths(value) if isinstance(p[-1], str)]:
        if ALWAYS_REFUSED_CHARACTER.search(key):
            return "a control character in a key"
    return None


def encode(value: Any, ascii_only: bool) -> str:
    """JSON text of ``value``, with ``Raw`` literals written as they are."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{encode(str(k), ascii_only)}:{encode(v, ascii_only)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(encode(v, ascii_only) for v in value) + "]"
    return json.dumps(value, ensure_ascii=ascii_only)


def as_bytes(document: Any, ascii_only: bool = False) -> bytes:
    """``document`` as UTF-8 (lone surrogates as CESU bytes, which are not UTF-8) or escaped ASCII."""
    return abridged(encode(document, ascii_only).encode("utf-8", "surrogatepass"))


def body_bytes(document: Any) -> st.SearchStrategy[bytes]:
    return st.booleans().map(lambda ascii_only: as_bytes(document, ascii_only))


def any_body(seed: dict) -> st.SearchStrategy[bytes]:
    """Whatever a client could send: a mutated seed, another JSON value, or any bytes at all."""
    return st.one_of(
        mutated(seed).flatmap(lambda m: body_bytes(m.document)),
        values.flatmap(body_bytes),
        st.binary(max_size=200),
        st.sampled_from([b"", b" ", b"\n\t", b"{}", b"null", b"\xef\xbb\xbf{}", b"{\x00}", b"\xff\xfe\xfd"]),
        st.sampled_from(RAW_LITERALS).map(str.encode).map(abridged),
        st.integers(65_000, 70_000).map(lambda n: Abridged(b'{"title":"' + b"x" * n + b'"}')),
    )


correlation_ids = st.one_of(
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:/+=-]{0,127}", fullmatch=True),
    st.text(characters, max_size=40),
    st.sampled_from([129, 65_536, 600_000]).map(lambda n: Repeated("x" * n)),
)
persons = st.one_of(
    st.text(characters, max_size=120),
    st.sampled_from(["王警官", " 王 ", "\u2028", Repeated("p" * 101), Repeated("p" * 300_000)]),
)
"""Values of the two headers that travel into every event of a command."""


REPLY_WITHIN = 2.0
"""Seconds within which a hostile request must get its structured reply."""


async def ask(nc, org: str, kind: str, context: str, name: str, body: dict | bytes,
              within: float = REPLY_WITHIN) -> dict:
    """One request, answered with a structured reply within ``within`` seconds."""
    data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    started = time.monotonic()
    reply = json.loads((await nc.request(f"jf.{kind}.{org}.{context}.{name}", data, timeout=within)).data)
    assert time.monotonic() - started < within
    return reply


def refusal(reply: dict) -> tuple[str, str | None]:
    assert reply["ok"] is False, reply
    return reply["error"]["code"], reply["error"].get("field")
