"""Issue 11's G2 surface attacked as a hostile integrator, unit and auditor would, without I/O:
the ladder fed its causes out of log order, a missed deadline heard of after the violation that
replaced it, a directory's name that would inject e-mail headers, a webhook that drips its answer
for ever, and a unit name that is markup. The broker-side attacks are in
tests/integration/test_issue11_hostile.py."""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace
from datetime import date, timedelta

import httpx
import pytest
from jianfu.events import catalogue
from jianfu.events.organisations import Channels, Directory, Organisation, OrgKind
from jianfu.events.schemas.compliance import Rule, ViolationDetected
from jianfu.events.schemas.escalation import RectificationDeadlineMissed, WarningIssued, WarningTrigger
from jianfu.events.settings import REFERENCE
from jianfu.events.working_days import WorkingCalendar
from jianfu.notifications.delivery import Alert, DeliveryError, DeliverySettings, EmailSender, WebhookSender
from jianfu.notifications.domain import ladder
from jianfu.notifications.domain.circulation_document import circulation_facts
from jianfu.notifications.domain.escalation import Escalation, escalation_id
from jianfu.notifications.rendering import render_html, render_pdf
from pypdf import PdfReader

from tests.circulation_case import NUMBER, stage3_case
from tests.factories import DIRECTORY, POLICY

FIRE, ISSUE = "dept-fire", "dept-fire:UnauthorizedCampusEntry"
WORKING = WorkingCalendar.of(POLICY.working_days)
G2 = POLICY.escalation


def found(number: int) -> ViolationDetected:
    return ViolationDetected(
        violation_id=f"v-{number}", rule=Rule.UNAUTHORIZED_CAMPUS_ENTRY, clause="S3", responsible_org_id=FIRE,
        school_id="school-changsheng-primary", semester="2026-spring", issue_key=ISSUE,
        summary="区消防大队未经认定进校园。", evidence={"report": f"r-{number}"})


class Ladder:
    """One escalation, each decided event applied with the next id (as the handler keeps it)."""

    def __init__(self) -> None:
        self.escalation = Escalation(escalation_id(FIRE, ISSUE))
        self.count = 0

    def take(self, step) -> list:
        if step is None:
            return []
        decided = [step]
        if isinstance(step, WarningIssued):
            proposal = ladder.decide_internal_proposal(self.escalation, step, f"ev-{self.count + 1}", G2)
            decided += [proposal] if proposal else []
        for event in decided:
            self.count += 1
            self.escalation.apply(event, f"ev-{self.count}")
        return decided

    def violation(self, number: int, day: date) -> list:
        return self.take(ladder.decide_step(self.escalation, found(number), day, DIRECTORY, G2, WORKING))

    def missed(self, step_event_id: str, rectify_by: date, heard_on: date) -> list:
        missed = RectificationDeadlineMissed(
            deadline_id=f"d-{step_event_id}", escalation_id=self.escalation.escalation_id, responsible_org_id=FIRE,
            step_event_id=step_event_id, rectify_by=rectify_by)
        return self.take(ladder.decide_on_missed_deadline(self.escalation, missed, heard_on, DIRECTORY, G2, WORKING))


def warnings(events: list) -> list[tuple[str, int]]:
    return [(e.trigger.value, e.warnings_in_window) for e in events if isinstance(e, WarningIssued)]


def test_g2_a_missed_deadline_heard_after_the_repeat_that_replaced_it_later_still_escalates():
    """G2 order: the sweep decides the reminder's deadline missed on 16 March; a repeat on 20 March
    replaces the deadline. The ladder's two consumers may take them in either order: both orders
    give two warnings (the deadline was missed while it was current)."""
    in_log = Ladder()
    [reminder] = in_log.violation(1, date(2026, 3, 2))
    assert reminder.rectify_by == date(2026, 3, 16)
    log_order = in_log.missed("ev-1", reminder.rectify_by, date(2026, 3, 16)) + in_log.violation(2, date(2026, 3, 20))

    swapped = Ladder()
    swapped.violation(1, date(2026, 3, 2))
    out_of_order = swapped.violation(2, date(2026, 3, 20)) + swapped.missed("ev-1", reminder.rectify_by,
                                                                              date(2026, 3, 21))
    assert warnings(log_order) == [("deadline_missed", 1), ("repeat", 2)]
    assert sorted(warnings(out_of_order)) == [("deadline_missed", 2), ("repeat", 1)]
    assert len(in_log.escalation.warnings) == len(swapped.escalation.warnings) == 2


def test_g2_a_deadline_replaced_before_it_passed_stays_stale_in_any_order():
    """G2: a repeat on 10 March replaced the 16 March deadline before it passed: a missed event for
    it (a forged or stale one) does nothing, also for another rectify_by than the step's."""
    esc = Ladder()
    [reminder] = esc.violation(1, date(2026, 3, 2))
    esc.violation(2, date(2026, 3, 10))
    assert esc.missed("ev-1", reminder.rectify_by, date(2026, 3, 17)) == []
    assert esc.missed("ev-1", date(2026, 3, 5), date(2026, 3, 17)) == []  # not the step's deadline


def test_g2_a_late_missed_deadline_after_the_case_closed_does_nothing():
    esc = Ladder()
    [reminder] = esc.violation(1, date(2026, 3, 2))
    report = ladder.report(esc.escalation, FIRE, "rect-1", "已整改。", date(2026, 3, 20))
    esc.escalation.apply(report, "ev-2")
    esc.escalation.apply(ladder.verify(esc.escalation, esc.escalation.case.issuer_org_id, "rect-1",
                                       date(2026, 3, 20), ""), "ev-3")
    assert esc.missed("ev-1", reminder.rectify_by, date(2026, 3, 21)) == []


def test_g2_the_replaced_deadlines_survive_a_snapshot():
    esc = Ladder()
    [reminder] = esc.violation(1, date(2026, 3, 2))
    esc.violation(2, date(2026, 3, 20))
    back = Escalation.from_document(esc.escalation.escalation_id, esc.escalation.to_document())
    assert back.open_case.missed_while_current("ev-1", reminder.rectify_by)
    old = esc.escalation.to_document()
    del old["case"]["superseded"]  # a snapshot written before: reads as nothing replaced
    assert not Escalation.from_document(esc.escalation.escalation_id, old).open_case.missed_while_current(
        "ev-1", reminder.rectify_by)
    assert [(w.trigger, w.warnings_in_window) for w in esc.missed("ev-1", reminder.rectify_by, date(2026, 3, 21))
            ] == [(WarningTrigger.DEADLINE_MISSED, 2)]


def test_g2_a_deadline_missed_twice_escalates_once_in_either_order():
    """G2: the sweep decides each deadline once, but a second missed event naming the same step
    (a replay under another deadline id, a forged one) finds it escalated already."""
    swapped = Ladder()
    [reminder] = swapped.violation(1, date(2026, 3, 2))
    swapped.violation(2, date(2026, 3, 20))
    assert len(swapped.missed("ev-1", reminder.rectify_by, date(2026, 3, 21))) == 1
    assert swapped.missed("ev-1", reminder.rectify_by, date(2026, 3, 22)) == []


ALERT = Alert("jf.alert.dept-fire.warning.ev-1", b'{"alert_id": "a-1", "kind": "warning", "summary": "s"}',
              "a-1", FIRE, {"alert_id": "a-1", "kind": "warning", "summary": "【警告】请整改。"})


def org(name: str = "区消防大队", emails: tuple[str, ...] = ("duty@fire.example",), url: str | None = None,
        ) -> Organisation:
    return Organisation(org_id=FIRE, kind=OrgKind.DEPARTMENT, name=name, channels=Channels(
        emails=emails, webhook_url=url, webhook_secret_env="JF_HOSTILE_KEY" if url else None))


def test_g2_a_line_break_in_an_organisation_name_adds_no_mail_header():
    """G2 delivery: the directory's name goes into the Subject; a CR/LF in it would have made the
    message builder raise (the alert redelivered for ever, nothing recorded) or, elsewhere, added
    a Bcc. It is one line now, Chinese intact."""
    message = EmailSender(DeliverySettings()).message(ALERT, org("区消防大队\r\nBcc: spy@evil.example"))
    assert message["Bcc"] is None and "\n" not in message["Subject"] and "\r" not in message["Subject"]
    assert "区消防大队" in message["Subject"]
    assert "Bcc: spy" not in message.as_string().split("\n\n", 1)[0].replace(message["Subject"], "")


def test_g2_an_address_with_a_line_break_fails_for_good_not_for_ever():
    """G2 delivery: an address of the directory holding a line break is a permanent failure (recorded
    with final=true), not an exception that redelivers the alert without end."""
    with pytest.raises(DeliveryError) as refused:
        EmailSender(DeliverySettings()).message(ALERT, org(emails=("duty@fire.example\r\nBcc: spy@evil.example",)))
    assert refused.value.permanent


async def _dripping(reader, writer, head: bytes) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(head)
    try:
        for _ in range(100_000):
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.02)
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def _send_to(head: bytes, monkeypatch) -> str:
    monkeypatch.setenv("JF_HOSTILE_KEY", "k")
    server = await asyncio.start_server(lambda r, w: _dripping(r, w, head), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sender = WebhookSender(timeout=0.5)
    try:  # the outer bound only keeps a regression from hanging the suite
        return await asyncio.wait_for(sender(ALERT, org(url=f"http://127.0.0.1:{port}/hook")), 60)
    finally:
        await sender.close()
        server.close()


async def test_g2_a_webhook_dripping_its_headers_fails_within_the_attempts_timeout(monkeypatch):
    """G2 delivery: JIANFU_DELIVERY_TIMEOUT bounds the whole attempt. httpx's timeouts are per read:
    a receiver sending a byte every 20 ms would have held the attempt (and the alert) for ever."""
    with pytest.raises(DeliveryError, match="no answer within"):
        await _send_to(b"HTTP/1.1 200 OK\r\nX-Slow: ", monkeypatch)


async def test_g2_a_webhooks_huge_answer_is_not_read(monkeypatch):
    """G2 delivery: the status decides; a 2xx whose body is endless (or huge) is delivered without
    reading it."""
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100000000000\r\n\r\n"
    assert (await _send_to(head, monkeypatch)).startswith("127.0.0.1:")


@pytest.mark.parametrize(("status", "delivered"), [(204, True), (301, False), (307, False), (404, False),
                                                  (500, False), (503, False)])
async def test_g2_a_webhooks_status_decides_and_redirects_are_not_followed(status, delivered, monkeypatch):
    """G2 delivery: only a 2xx delivers; a redirect (even to a good receiver) is a failed attempt."""
    monkeypatch.setenv("JF_HOSTILE_KEY", "k")
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(status, headers={"Location": "http://127.0.0.1:4222/"})

    sender = WebhookSender(client=httpx.AsyncClient(transport=httpx.MockTransport(answer)))
    target = org(url="https://hooks.fire.example/in?token=secret")
    if delivered:
        assert await sender(ALERT, target) == "hooks.fire.example"
    else:
        with pytest.raises(DeliveryError, match=f"HTTP {status}"):
            await sender(ALERT, target)
    assert seen == ["https://hooks.fire.example/in?token=secret"]  # once, never the Location


async def test_g2_a_webhook_key_variable_unset_fails_for_good(monkeypatch):
    monkeypatch.delenv("JF_HOSTILE_KEY", raising=False)
    with pytest.raises(DeliveryError) as refused:
        await WebhookSender()(ALERT, org(url="https://hooks.fire.example/in"))
    assert refused.value.permanent


def _hostile_facts(unit_name: str):
    case = stage3_case()
    found = circulation_facts(NUMBER, case.escalation, case.violations, catalogue.parse,
                              Directory.load(REFERENCE / "organisations.json"))
    return replace(found, unit_name=unit_name)


MARKUP = '区卫健局<script>alert(1)</script><img src=x onerror="y">&amp;<h1>假</h1>'


def test_g2_a_unit_name_that_is_markup_is_text_in_the_html():
    """G2 documents: the one template escapes what the directory or an unregistered unit's given
    name holds; no tag of it reaches the HTML."""
    html = render_html(_hostile_facts(MARKUP))
    assert "<script>" not in html and "<img" not in html and "<h1>假" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&amp;amp;" in html


def test_g2_a_pdf_of_markup_and_characters_outside_the_font_renders_the_same_bytes():
    """G2 documents: markup stays text in the PDF too, and characters the CJK font lacks (an emoji,
    a CJK extension-B ideograph, a bidi override) neither stop the rendering nor make it differ
    between two runs."""
    facts = _hostile_facts(MARKUP + "😀𠀀\u202e局")
    first, second = render_pdf(facts), render_pdf(facts)
    assert first == second
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(first)).pages).replace("\x00", "")
    assert "<script>" in "".join(text.split())  # printed as the name's text, not taken as markup


@pytest.mark.parametrize("field", ["responsible_org_id", "escalation_id"])
def test_g2_a_missed_deadline_naming_another_unit_or_escalation_warns_nobody(field):
    """G2: the warning's unit came from the missed-deadline event, not the escalation: one naming
    another unit (or escalation) would have warned that unit on this unit's case. It cannot be
    applied (ValueError: the consumer quarantines it)."""
    esc = Ladder()
    [reminder] = esc.violation(1, date(2026, 3, 2))
    fields = {"deadline_id": "d-x", "escalation_id": esc.escalation.escalation_id, "responsible_org_id": FIRE,
              "step_event_id": "ev-1", "rectify_by": reminder.rectify_by}
    fields[field] = "dept-health" if field == "responsible_org_id" else "esc-" + "0" * 32
    with pytest.raises(ValueError, match="another escalation or unit"):
        ladder.decide_on_missed_deadline(esc.escalation, RectificationDeadlineMissed(**fields), date(2026, 3, 17),
                                         DIRECTORY, G2, WORKING)


@pytest.mark.parametrize("variable", ["JIANFU_NATS_PASSWORD", "JIANFU_SMTP_PASSWORD", "JIANFU_DATABASE_URL"])
async def test_g2_a_webhook_keyed_by_a_setting_of_the_service_fails_for_good(variable, monkeypatch):
    """G2 delivery: a directory naming the service's own password as the webhook's key variable
    would let the receiver guess it offline from the signatures; nothing is sent, the failure is
    final."""
    monkeypatch.setenv(variable, "secret-of-the-service")
    seen: list[httpx.Request] = []
    sender = WebhookSender(client=httpx.AsyncClient(transport=httpx.MockTransport(
        lambda request: seen.append(request) or httpx.Response(204))))
    target = Organisation(org_id=FIRE, kind=OrgKind.DEPARTMENT, name="区消防大队", channels=Channels(
        webhook_url="https://hooks.fire.example/in", webhook_secret_env=variable))
    with pytest.raises(DeliveryError, match="setting of the service") as refused:
        await sender(ALERT, target)
    assert refused.value.permanent and seen == []


def test_g2_sweep_a_deadline_superseded_then_verified_is_never_missed_in_any_batching():
    """G2 sweep: a reminder's deadline replaced by a warning's, the case then verified before
    either passes; days ended up to and past both deadlines decide nothing, in batches of any size."""
    from tests.unit.test_g2_sweep import DUE, Sweep, days, missed, reminder, verified, warning

    facts = [reminder(), warning(DUE + timedelta(days=14)), verified(), *days(DUE - timedelta(days=3),
                                                                             DUE + timedelta(days=20))]
    for size in (1, 2, 7, 1000):
        assert missed(Sweep().fold(*facts, batch=size)) == []


def test_g2_sweep_a_step_folded_after_its_day_is_decided_once_and_a_later_day_adds_nothing():
    """G2 sweep: days ended past the deadline before the step is folded (a late step): decided at
    once, once; more days, or the same day ended again, decide nothing more."""
    from tests.unit.test_g2_sweep import DUE, Sweep, days, missed, reminder

    sweep = Sweep()
    assert missed(sweep.fold(*days(DUE - timedelta(days=2), DUE + timedelta(days=2)))) == []
    [decided] = missed(sweep.fold(reminder()))
    assert decided.rectify_by == DUE
    assert missed(sweep.fold(*days(DUE, DUE + timedelta(days=30)))) == []


@pytest.mark.parametrize(("url", "target"), [
    ("https://alerts:s3cret-token@hooks.fire.example:8443/in?key=x", "hooks.fire.example:8443"),
    ("https://token@hooks.fire.example/in", "hooks.fire.example"),
    ("http://[::1]:9000/hook", "[::1]:9000"),
    ("https://HOOKS.fire.example/in", "hooks.fire.example"),
])
def test_g2_the_recorded_webhook_target_never_holds_its_credentials(url, target):
    """G2 delivery: `target` (in AlertDelivered / AlertDeliveryFailed, read back by GetAlertDeliveries)
    is the host and port only; a URL's user and password were recorded with the host before."""
    assert WebhookSender.target(org(url=url)) == target


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999/hook", "http://127.0.0.1:65536/hook", "https://xn--zz/hook",
                                 "http://a:b:c/hook"])
async def test_g2_a_webhook_url_with_a_port_out_of_range_fails_for_good(url, monkeypatch):
    """G2 delivery: the directory's pattern lets a port out of range (or a host no IDNA codec takes) through; httpx then failed with
    an exception group that no DeliveryError caught, and the alert was redelivered without end and
    never recorded. Now the failure is final at once."""
    monkeypatch.setenv("JF_HOSTILE_KEY", "k")
    sender = WebhookSender()
    try:
        with pytest.raises(DeliveryError, match="unusable") as refused:
            await sender(ALERT, org(url=url))
    finally:
        await sender.close()
    assert refused.value.permanent
