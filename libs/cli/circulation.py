"""``jianfu circulation get NUMBER [--html FILE] [--pdf FILE]``: a circulation document (G2) by its
number, read from the object store ``JIANFU_DOCUMENTS`` as the organisation logged in
(JIANFU_NATS_USER; every organisation may read it). Without a file option the HTML goes to stdout.
A number with no document exits 1 with a message on stderr."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from pathlib import Path

import typer
from jianfu.events.connection import connect
from jianfu.events.provisioning import DOCUMENT_BUCKET
from jianfu.events.settings import Settings
from nats.errors import Error as NatsError
from nats.js.client import JetStreamContext
from nats.js.errors import BucketNotFoundError, NotFoundError, ObjectNotFoundError
from nats.js.object_store import ObjectStore

app = typer.Typer(help="Circulation documents (通报, G2), by number.", no_args_is_help=True)


MAX_NUMBER_LENGTH = 80  # 大教减负通〔2026〕3号 is 16; a subject token holds the name's base64


class DocumentMissing(LookupError):
    pass


def document_number(text: str) -> str:
    """The number as typed, trimmed; refused when empty, too long or holding control characters."""
    number = text.strip()
    if not number or len(number) > MAX_NUMBER_LENGTH or any(ord(c) < 32 or ord(c) == 127 for c in number):
        raise typer.BadParameter(f"not a document number (1 to {MAX_NUMBER_LENGTH} printable characters, "
                                 "e.g. 大教减负通〔2026〕3号)", param_hint="NUMBER")
    return number


async def read_object(js: JetStreamContext, store: ObjectStore, name: str) -> bytes:
    """An object's bytes, checked against its digest. nats-py's ``ObjectStore.get`` would first
    look the stream up by subject (``STREAM.NAMES``), which organisations are not granted; the
    stream is known, so its chunks are read with an ordered consumer on it directly."""
    try:
        info = await store.get_info(name)
    except (ObjectNotFoundError, NotFoundError) as missing:
        raise DocumentMissing(f"no circulation document {name}") from missing
    subscription = await js.subscribe(f"$O.{DOCUMENT_BUCKET}.C.{info.nuid}", stream=f"OBJ_{DOCUMENT_BUCKET}",
                                      ordered_consumer=True)
    try:
        chunks = [(await subscription.next_msg(timeout=10)).data for _ in range(info.chunks or 0)]
    finally:
        await subscription.unsubscribe()
    content = b"".join(chunks)
    digest = "SHA-256=" + base64.urlsafe_b64encode(hashlib.sha256(content).digest()).decode()
    if digest != info.digest:
        raise DocumentMissing(f"{name} is damaged: digest {digest}, recorded {info.digest}")
    return content


async def _quiet(error: Exception) -> None:
    """The command's own message says what failed; nats-py need not print a traceback as well."""


async def fetch(settings: Settings, number: str, kinds: tuple[str, ...]) -> dict[str, bytes]:
    """The document's renderings by kind (``html``, ``pdf``)."""
    nc = await connect(settings, max_reconnect_attempts=1, connect_timeout=3, error_cb=_quiet)
    try:
        js = nc.jetstream(timeout=10)
        store = await js.object_store(DOCUMENT_BUCKET)
        return {kind: await read_object(js, store, f"{number}.{kind}") for kind in kinds}
    except BucketNotFoundError as missing:
        raise DocumentMissing(f"no {DOCUMENT_BUCKET} bucket: run jianfu provision") from missing
    finally:
        await nc.close()


@app.command()
def get(
    number: str = typer.Argument(..., help="The document number, e.g. 大教减负通〔2026〕3号.",
                                 callback=document_number),
    html: Path | None = typer.Option(None, "--html", help="Write the HTML here."),
    pdf: Path | None = typer.Option(None, "--pdf", help="Write the PDF here."),
) -> None:
    """Fetch a circulation document by number; print what was written as JSON."""
    kinds = tuple(kind for kind, path in (("html", html), ("pdf", pdf)) if path) or ("html",)
    try:
        found = asyncio.run(fetch(Settings(), number, kinds))
    except DocumentMissing as missing:
        typer.echo(f"jianfu circulation get: {missing}", err=True)
        raise typer.Exit(1) from missing
    except (NatsError, OSError) as error:
        typer.echo(f"jianfu circulation get: {type(error).__name__}: {error}", err=True)
        raise typer.Exit(2) from error
    if not (html or pdf):
        typer.echo(found["html"].decode(), nl=False)
        return
    written = {}
    for kind, path in (("html", html), ("pdf", pdf)):
        if path:
            path.write_bytes(found[kind])
            written[kind] = {"path": str(path), "bytes": len(found[kind])}
    typer.echo(json.dumps({"document_number": number, **written}, ensure_ascii=False))
