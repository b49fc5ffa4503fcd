"""G2 stages 3–4, documents: a CirculationConfirmed in the log leads to its HTML and PDF in the
object store JIANFU_DOCUMENTS under the document number; `jianfu circulation get` reads them back;
a rebuild (the durable replaying from sequence 1) writes nothing new; any organisation reads the
documents and none writes them. Against a real nats-server running the generated deploy/nats.conf,
each user logged in as itself."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest
from faststream import FastStream
from jianfu.events.dependencies import Deps
from jianfu.events.organisations import Directory
from jianfu.events.provisioning import DOCUMENT_BUCKET, provision
from jianfu.events.reactions import on_events
from jianfu.events.runtime import make_broker
from jianfu.events.settings import REFERENCE, Settings
from jianfu.events.store import EventStore
from jianfu.notifications.documents import (
    DOCUMENTS_DURABLE,
    ESCALATIONS,
    DocumentShelf,
    object_digest,
    on_circulation_confirmed,
)
from pypdf import PdfReader

from tests.broker import ComposeNats, login
from tests.circulation_case import NUMBER, UNIT_NAME, stage3_case

DIRECTORY = Directory.load(REFERENCE / "organisations.json")
NAMES = (f"{NUMBER}.html", f"{NUMBER}.pdf")


@pytest.fixture(scope="module")
async def server(tmp_path_factory):
    server = ComposeNats(tmp_path_factory.mktemp("documents-nats")).start()
    operator = await login(server, "operator")
    await provision(operator.nc.jetstream())
    await operator.nc.close()
    case = stage3_case()
    compliance = await login(server, "compliance")
    store = EventStore(compliance.nc.jetstream(timeout=5))
    for violation in case.violations:
        await store.append(await store.load("violation", violation.aggregate_id), [violation])
    await compliance.nc.close()
    notifications = await login(server, "notifications")
    store = EventStore(notifications.nc.jetstream(timeout=5))
    await store.append(await store.load("escalation", case.escalation[0].aggregate_id), case.escalation)
    await notifications.nc.close()
    yield server
    server.stop()


def settings_of(server, user: str) -> Settings:
    return Settings(nats_url=server.url, nats_user=user, nats_password=f"{user}-demo", log_level="WARNING")


async def run_documents_reaction(server) -> None:
    """The notifications service's documents reaction, logged in as notifications, until its
    durable has handled every escalation event of the log."""
    settings = settings_of(server, "notifications")
    broker = make_broker(settings)
    app = FastStream(broker)
    store = EventStore(None)
    shelf = DocumentShelf(store)
    deps = Deps(store, DIRECTORY, settings.policy, settings.make_clock())
    on_events(broker, settings, ESCALATIONS, DOCUMENTS_DURABLE,
              partial(on_circulation_confirmed, deps=deps, shelf=shelf), service="notifications")

    @app.on_startup
    async def bind() -> None:
        await broker.connect()
        store.js = broker.connection.jetstream()

    await app.start()
    try:
        js = broker.connection.jetstream()
        for _ in range(400):
            info = await js.consumer_info("JIANFU_EVENTS", DOCUMENTS_DURABLE)
            if info.num_pending == 0 and info.num_ack_pending == 0 and info.delivered.stream_seq > 0:
                break
            await asyncio.sleep(0.05)
    finally:
        await app.stop()


async def bucket_state(server) -> tuple[int, dict[str, str]]:
    """The bucket stream's last sequence, and each object's digest."""
    session = await login(server, "operator")
    js = session.nc.jetstream(timeout=5)
    store = await js.object_store(DOCUMENT_BUCKET)
    digests = {name: (await store.get_info(name)).digest for name in NAMES}
    last = (await js.stream_info(f"OBJ_{DOCUMENT_BUCKET}")).state.last_seq
    await session.nc.close()
    return last, digests


@pytest.fixture(scope="module")
async def documents(server):
    await run_documents_reaction(server)
    return await bucket_state(server)


def jianfu(server, user: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "JIANFU_NATS_URL": server.url, "JIANFU_NATS_USER": user,
           "JIANFU_NATS_PASSWORD": f"{user}-demo"}
    return subprocess.run([str(Path(sys.executable).parent / "jianfu"), *args], env=env, capture_output=True,
                          timeout=60)


async def test_g2_a_confirmed_circulation_stores_its_html_and_pdf_under_its_number(server, documents):
    _, digests = documents
    assert set(digests) == set(NAMES) and all(d.startswith("SHA-256=") for d in digests.values())


async def test_g2_an_organisation_reads_the_documents_back_with_the_cli(server, documents, tmp_path):
    _, digests = documents
    html, pdf = tmp_path / "c.html", tmp_path / "c.pdf"
    done = await asyncio.to_thread(jianfu, server, "dept-fire", "circulation", "get", NUMBER,
                                   "--html", str(html), "--pdf", str(pdf))
    assert done.returncode == 0, done.stderr.decode()
    assert "permissions violation" not in done.stderr.decode().lower(), done.stderr.decode()  # the grants suffice
    assert object_digest(html.read_bytes()) == digests[f"{NUMBER}.html"]
    assert object_digest(pdf.read_bytes()) == digests[f"{NUMBER}.pdf"]
    text = html.read_text(encoding="utf-8")
    assert UNIT_NAME in text and NUMBER in text and "S3" in text
    extracted = "".join(PdfReader(io.BytesIO(pdf.read_bytes())).pages[0].extract_text().replace("\x00", "").split())
    assert UNIT_NAME in extracted and "S3" in extracted


async def test_g2_the_cli_prints_the_html_without_a_file_and_fails_cleanly_on_an_unknown_number(server, documents):
    printed = await asyncio.to_thread(jianfu, server, "school-dwk-primary-1", "circulation", "get", NUMBER)
    assert printed.returncode == 0 and UNIT_NAME in printed.stdout.decode()
    missing = await asyncio.to_thread(jianfu, server, "dept-fire", "circulation", "get", "大教减负通〔2026〕99号")
    assert missing.returncode == 1 and "no circulation document" in missing.stderr.decode()


async def test_g2_a_rebuild_renders_the_same_bytes_and_writes_nothing_new(server, documents):
    last, digests = documents
    operator = await login(server, "operator")
    await operator.nc.jetstream().delete_consumer("JIANFU_EVENTS", DOCUMENTS_DURABLE)  # replay from sequence 1
    await operator.nc.close()
    await run_documents_reaction(server)
    assert await bucket_state(server) == (last, digests)


async def test_g2_an_organisation_cannot_write_a_document(server, documents):
    last, digests = documents
    session = await login(server, "dept-fire")
    store = await session.nc.jetstream(timeout=1).object_store(DOCUMENT_BUCKET)
    with pytest.raises(Exception):  # noqa: B017 - refused: a timeout or a permissions error, whichever comes
        await store.put(f"{NUMBER}.forged.html", b"<p>forged</p>")
    await session.settle()
    chunks = f'permissions violation for publish to "$o.{DOCUMENT_BUCKET.lower()}.c.'
    assert any(chunks in error.lower() for error in session.errors), session.errors
    await session.nc.close()
    assert await bucket_state(server) == (last, digests)


@pytest.mark.parametrize("number, code", [("大教减负通〔2026〕3号\t", 1), ("a\u0007b", 2), ("x" * 81, 2), ("   ", 2),
                                          ("jf.>*", 1), ("../../etc/passwd", 1)])
async def test_g2_hostile_numbers_get_a_clear_refusal_not_a_traceback(server, documents, number, code):
    """A tab is trimmed (the real number, then found: exit 0 means it was read); control characters,
    over-long or empty numbers are refused before connecting (2); wildcards and paths are only names
    that no document has (1)."""
    done = await asyncio.to_thread(jianfu, server, "dept-fire", "circulation", "get", number)
    expected = 0 if number.strip() == NUMBER else code
    assert done.returncode == expected, done.stderr.decode()
    assert "Traceback" not in done.stderr.decode()


async def test_g2_a_wrong_password_exits_with_a_message(server, documents):
    env = {**os.environ, "JIANFU_NATS_URL": server.url, "JIANFU_NATS_USER": "dept-fire", "JIANFU_NATS_PASSWORD": "no"}
    done = await asyncio.to_thread(subprocess.run, [str(Path(sys.executable).parent / "jianfu"), "circulation", "get",
                                                    NUMBER], env=env, capture_output=True, timeout=60)
    assert done.returncode == 2 and "jianfu circulation get:" in done.stderr.decode()
    assert "Traceback" not in done.stderr.decode()


async def test_g2_an_issued_document_is_never_replaced_by_other_bytes(server, documents):
    """Should a later release render other bytes for a stored number, the stored document stays."""
    last, digests = documents
    session = await login(server, "notifications")
    shelf = DocumentShelf(EventStore(session.nc.jetstream(timeout=5)))
    assert await shelf.keep(f"{NUMBER}.html", b"<p>rendered otherwise</p>") is False
    await session.nc.close()
    assert await bucket_state(server) == (last, digests)
