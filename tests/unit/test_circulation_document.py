"""G2 stages 3–4: a confirmed circulation's document, from the log's events only. Given an
escalation's reminder, warnings, proposal and confirmation and the violations they rest on, the
facts, the HTML and the PDF (text extracted with pypdf) name the unit, the clause, the dates and the
number; the same events give the same bytes. No I/O but the packaged font and template."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from jianfu.events import catalogue
from jianfu.events.organisations import Directory
from jianfu.events.recording import CommandContext
from jianfu.events.schemas.escalation import CirculationConfirmed, CirculationProposed
from jianfu.events.settings import REFERENCE
from jianfu.notifications.domain.circulation_document import (
    CirculationNotFound,
    ViolationsMissing,
    circulation_facts,
    org_name,
)
from jianfu.notifications.domain.plan_clauses import CLAUSES, plan_clause
from jianfu.notifications.rendering import FONT_SHA256, digest, font_path, render_html, render_pdf
from pypdf import PdfReader

from tests.circulation_case import CONFIRMED_ON, DAYS, NUMBER, RECTIFY_BY, UNIT_NAME, stage3_case

DIRECTORY = Directory.load(REFERENCE / "organisations.json")
PLAN = Path(__file__).parents[2] / "docs" / "source" / "plan-2021-08-20.txt"
S3_OPENING = "各级党政机关、群团组织提前梳理进校园活动"


def facts(number: str = NUMBER, case=None):
    case = case or stage3_case()
    return circulation_facts(number, case.escalation, case.violations, catalogue.parse, DIRECTORY)


def pdf_text(content: bytes) -> str:
    """The PDF's text, whitespace and NULs left out: pypdf reads fpdf2's two-byte glyph codes as
    a NUL before each character (the ToUnicode map itself is right: every code maps to its
    character), and puts line breaks where the layout wrapped."""
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return "".join(text.replace("\x00", "").split())


def test_g2_facts_of_a_circulation_name_unit_violations_clause_steps_and_deadline():
    found = facts()
    assert (found.document_number, found.stage, found.title) == (NUMBER, 3, "通报批评")
    assert (found.unit_org_id, found.unit_name) == ("dept-health", UNIT_NAME)
    assert found.issuing_body == "大武口区委教育工作领导小组办公室"
    assert found.issued_on == CONFIRMED_ON and found.rectify_by == RECTIFY_BY
    assert [v.day for v in found.violations] == list(DAYS)
    assert [c.clause for c in found.clauses] == ["S3"] and found.clauses[0].text.startswith(S3_OPENING)
    assert [(s.day, s.step) for s in found.steps] == [(DAYS[0], "提醒（整改通知）"), (DAYS[1], "约谈警告"),
                                                      (DAYS[2], "约谈警告")]
    assert found.report_to == "大武口区委督查室"


def test_g2_an_unknown_number_is_not_found():
    with pytest.raises(CirculationNotFound):
        facts("大教减负通〔2026〕99号")


def test_g2_a_violation_the_caller_did_not_load_is_reported_not_left_out():
    case = stage3_case()
    case.violations.pop()
    with pytest.raises(ViolationsMissing, match="v-health-3"):
        circulation_facts(NUMBER, case.escalation, case.violations, catalogue.parse, DIRECTORY)


def test_g2_an_unregistered_unit_is_named_as_the_violation_named_it():
    assert org_name(DIRECTORY, "unregistered unit: 某某公司") == "某某公司"
    assert org_name(DIRECTORY, "dept-unknown") == "dept-unknown"


def test_g2_clause_texts_are_copied_verbatim_from_the_plan():
    plan = "".join(PLAN.read_text(encoding="utf-8").split())
    for clause in CLAUSES.values():
        assert "".join(clause.text.split()) in plan, clause.clause
    assert plan_clause("G1").text == ""


def test_g2_html_names_the_unit_the_clause_the_dates_and_the_number():
    html = render_html(facts())
    for expected in (UNIT_NAME, NUMBER, "S3", S3_OPENING, "通报批评", RECTIFY_BY.isoformat(),
                     CONFIRMED_ON.isoformat(), *(day.isoformat() for day in DAYS), "大武口区委督查室"):
        assert expected in html, expected


def test_g2_html_escapes_what_the_events_carry():
    case = stage3_case()
    html = render_html(circulation_facts(NUMBER, case.escalation, case.violations, catalogue.parse,
                                         Directory(district="d", organisations=[])))
    assert "<script" not in render_html(facts()) and "dept-health" in html  # unknown unit: its id


def test_g2_pdf_text_extracted_contains_the_unit_and_the_clause():
    text = pdf_text(render_pdf(facts()))
    for expected in (UNIT_NAME, NUMBER, "S3", S3_OPENING, RECTIFY_BY.isoformat(), DAYS[0].isoformat()):
        assert expected in text, expected


def test_g2_pdf_embeds_the_cjk_font_as_a_subset():
    reader = PdfReader(io.BytesIO(render_pdf(facts())))
    fonts = [font for page in reader.pages for font in page["/Resources"]["/Font"].values()]
    descriptors = [font.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"] for font in fonts]
    assert descriptors and all("/FontFile3" in d or "/FontFile2" in d for d in descriptors)
    assert all("+" in str(d["/FontName"]) for d in descriptors)  # a subset tag: ABCDEF+NotoSansSC


def test_g2_same_events_give_the_same_bytes():
    assert render_pdf(facts()) == render_pdf(facts())
    assert render_html(facts()) == render_html(facts())


def test_g2_another_number_gives_another_document():
    other = stage3_case(number="大教减负通〔2026〕4号")
    assert digest(render_pdf(facts("大教减负通〔2026〕4号", other))) != digest(render_pdf(facts()))


def test_g2_the_font_is_the_pinned_file():
    assert digest(font_path().read_bytes()) == FONT_SHA256


def test_g2_a_circulation_without_earlier_steps_still_renders():
    case = stage3_case()
    case = type(case)([e for e in case.escalation if e.event_type in ("CirculationProposed", "CirculationConfirmed")],
                      case.violations)
    found = facts(case=case)
    assert found.steps == () and "无。" in render_html(found)
    assert found.report_to == "大武口区委督查室" and date(2026, 10, 9) == found.rectify_by


def test_g2_a_public_circulation_lists_the_internal_one_before_it_and_stands_alone():
    """Stage 4 (公开通报) after the case's stage 3 (通报批评) missed its deadline: the document is
    found by its own number and names the earlier circulation among the steps already taken."""
    case = stage3_case()
    office = case.escalation[-1]
    proposed = CirculationProposed(proposal_id="prop-health-4", escalation_id=office.aggregate_id,
                                   responsible_org_id="dept-health", issue_key="dept-health:UnauthorizedCampusEntry",
                                   rule="UnauthorizedCampusEntry", stage=4,
                                   violation_ids=("v-health-1", "v-health-2", "v-health-3"), warning_event_ids=(),
                                   proposed_on=date(2026, 10, 10), summary="逾期仍未整改，建议公开通报。")
    confirmed = CirculationConfirmed(proposal_id="prop-health-4", escalation_id=office.aggregate_id,
                                     responsible_org_id="dept-health", stage=4, document_number="大教减负通〔2026〕5号",
                                     year=2026, confirmed_by_org_id="leading-group-office", confirmed_on=date(2026, 10, 12),
                                     rectify_by=date(2026, 10, 26))
    context = CommandContext(office.actor, "confirm:prop-health-4", "corr-health", "dawukou-2021.1",
                             datetime(2026, 10, 12, 2, tzinfo=UTC))
    case.escalation.extend([context.event(proposed, office.aggregate_id), context.event(confirmed, office.aggregate_id)])
    public = facts("大教减负通〔2026〕5号", case)
    assert (public.stage, public.title, public.audience) == (4, "公开通报", "社会各界")
    assert public.steps[-1].step == "通报批评" and public.steps[-1].detail == NUMBER
    assert facts(NUMBER, case).stage == 3  # the internal one is still rendered as it was
    assert render_pdf(facts(NUMBER, case)) == render_pdf(facts(NUMBER))  # later events change nothing before


def test_g2_a_case_with_many_violations_runs_over_pages_and_stays_deterministic():
    """A hostile or simply long case (60 violations, each a long summary) still renders: the table
    runs over pages, every violation's day is in the text, the bytes are the same twice."""
    case = stage3_case()
    many = []
    for index, envelope in enumerate(case.violations * 20):
        data = {**envelope.data, "violation_id": f"v-many-{index:03}", "summary": "长" * 300}
        many.append(envelope.model_copy(update={"data": data, "aggregate_id": f"v-many-{index:03}"}))
    proposal = next(e for e in case.escalation if e.event_type == "CirculationProposed")
    cited = proposal.model_copy(update={"data": {**proposal.data, "violation_ids": [e.aggregate_id for e in many]}})
    escalation = [cited if e is proposal else e for e in case.escalation]
    found = circulation_facts(NUMBER, escalation, many, catalogue.parse, DIRECTORY)
    content = render_pdf(found)
    assert len(found.violations) == 60 and len(PdfReader(io.BytesIO(content)).pages) > 3
    assert content == render_pdf(found)
    assert all(day.isoformat() in pdf_text(content) for day in DAYS)
