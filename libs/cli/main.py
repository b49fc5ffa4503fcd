"""The ``jianfu`` command.

``jianfu run --demo`` starts everything on one machine with no servers installed: an embedded
nats-server, the stream, the embedded database and the four services as separate processes,
then walks a demo semester, an inspection year, a year of teachers' time and a unit escalated to circulation. The other commands serve operators and auditors.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path

import typer
from jianfu.cli import catalogue, circulation
from jianfu.cli.embedded_nats import EmbeddedNats, free_port
from jianfu.events.connection import connect
from jianfu.events.logging import configure_logging
from jianfu.events.settings import FileClock, Settings

app = typer.Typer(help="jianfu (减负): enforce the plan for reducing teachers' non-teaching burden.",
                  no_args_is_help=True, add_completion=False)
app.add_typer(catalogue.app, name="catalogue")
app.add_typer(circulation.app, name="circulation")


@app.callback()
def _logging() -> None:
    """Log lines go to stderr (readable, or JSON when JIANFU_LOG_FORMAT=json); stdout carries results."""
    settings = Settings()
    configure_logging(settings.log_format if "JIANFU_LOG_FORMAT" in os.environ else "console", settings.log_level)


def _port_or_free(port: int) -> int:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
            return port
        except OSError:
            return free_port()


class ClockRefused(ValueError):
    """JIANFU_CLOCK cannot serve this run; nothing has been started."""


@dataclass(frozen=True)
class RunClock:
    setting: str  # JIANFU_CLOCK as the services get it
    demo_file: Path | None  # the clock file the demo rewrites to move time, when --demo


def run_clock(configured: str | None, demo: bool, data_dir: Path) -> RunClock:
    """The clock of ``jianfu run``: JIANFU_CLOCK when set, else the system clock (or, for --demo, a
    file clock in the data folder). The demo moves time by rewriting its clock file, so with --demo
    JIANFU_CLOCK must be unset or ``file:PATH``; a clock the demo cannot move is refused rather
    than silently replaced."""
    if not configured:
        return RunClock(f"file:{data_dir / 'today'}", data_dir / "today") if demo else RunClock("system", None)
    kind, _, arg = configured.partition(":")
    if kind == "file":
        path = Path(arg).resolve()
        if not demo:
            _check_clock_file(path)
        return RunClock(f"file:{path}", path if demo else None)
    try:
        Settings(clock=configured).make_clock()
    except ValueError as error:
        raise ClockRefused(f"JIANFU_CLOCK={configured!r} is not a clock: {error}") from error
    if demo:
        raise ClockRefused(f"--demo moves time by rewriting a clock file, which JIANFU_CLOCK={configured} is not: "
                           "unset JIANFU_CLOCK or set it to file:/path/to/today")
    return RunClock(configured, None)


def _check_clock_file(path: Path) -> None:
    try:
        FileClock(path).today()
    except (OSError, ValueError) as error:
        raise ClockRefused(f"JIANFU_CLOCK=file:{path}: the file must hold one ISO date, e.g. 2026-07-15 "
                           f"({error})") from error


@app.command()
def run(
    demo: bool = typer.Option(False, help="Walk a demo semester, an inspection year, teachers' time and a G2 escalation once the services are up."),
    data_dir: Path = typer.Option(Path("var"), help="Where NATS, the database and logs live."),
    nats_port: int = typer.Option(4222, help="Port of the embedded nats-server (another free one if taken)."),
    database_url: str = typer.Option("", help="Read-model database; default: SQLite in the data folder."),
    exit_after_demo: bool = typer.Option(False, help="Stop everything once the demo has run."),
    fresh: bool = typer.Option(False, help="Delete the data folder first."),
) -> None:
    """Run the whole system on this machine, on the clock JIANFU_CLOCK names (see run_clock).
    Its nats-server has the accounts of deploy/nats.conf: every process logs in as its own user."""
    from jianfu.cli.accounts import OPERATOR, accounts_block, code_grants, password
    from jianfu.cli.supervisor import Fleet, service_env

    try:
        clock = run_clock(os.environ.get("JIANFU_CLOCK"), demo, data_dir.resolve())
    except ClockRefused as refused:
        typer.echo(f"jianfu run: {refused}", err=True)
        raise typer.Exit(2) from refused
    if fresh and data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir = data_dir.resolve()
    accounts = accounts_block(code_grants(Settings().directory))
    server = EmbeddedNats(data_dir / "nats", _port_or_free(nats_port), accounts=accounts).start()
    fleet = None
    try:  # whatever fails from here on, the embedded server is stopped
        if clock.demo_file:
            clock.demo_file.parent.mkdir(parents=True, exist_ok=True)
            FileClock.move_to(clock.demo_file, date.today())
        database_url = database_url or f"sqlite+aiosqlite:///{data_dir / 'compliance.db'}"
        fleet = Fleet(service_env(server.url, database_url, clock.setting), data_dir / "logs", passwords=password)
        asyncio.run(_provision(Settings(nats_url=server.url, nats_user=OPERATOR, nats_password=password(OPERATOR))))
        fleet.start()
        asyncio.run(fleet.wait_ready())
        typer.echo(f"jianfu is running: NATS at {server.url} (users of deploy/nats.conf, passwords "
                   f"NATS_PASSWORD_<USER> or <user>-demo), logs in {data_dir / 'logs'}, clock {clock.setting}")
        if clock.demo_file:
            asyncio.run(_demo(server.url, clock.demo_file, password, data_dir / "circulations"))
        if not exit_after_demo:
            typer.echo("Press Ctrl-C to stop.")
            _supervise(fleet)
    finally:
        if fleet is not None:
            fleet.stop()
        server.stop()


def _supervise(fleet, poll: float = 1.0) -> None:
    """Until Ctrl-C or SIGTERM: start again any service that exited, as compose would."""
    stop = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop)
    while signal.sigtimedwait(stop, poll) is None:
        for name, code in fleet.restart_exited():
            typer.echo(f"jianfu run: {name} exited with {code}; started again", err=True)


async def _provision(settings: Settings, replicas: int | None = None) -> list[str]:
    from jianfu.events.provisioning import provision as provision_streams

    nc = await connect(settings)
    try:
        return await provision_streams(nc.jetstream(), replicas=replicas)
    finally:
        await nc.close()


async def _demo(url: str, clock_file: Path, password: Callable[[str], str], circulations: Path) -> None:
    from jianfu.cli.client import JianfuClient, organisation_login
    from jianfu.cli.demo import S1S2_RULES, SEMESTER, YEAR, walk_inspection_year, walk_semester
    from jianfu.cli.g2_walk import CONFIRMER, report_lines, save_documents, walk_g2
    from jianfu.cli.g2_walk import summary as g2_summary
    from jianfu.cli.teachers_year import TEACHERS_RULES, headline, walk_teachers_year
    from jianfu.cli.teachers_year import summary as teachers_summary

    client = JianfuClient(login=organisation_login(url, password))
    try:
        move = partial(FileClock.move_to, clock_file)
        demo = await walk_semester(client, Settings().directory, move)
        typer.echo(f"demo: catalogue edition {demo.catalogue['edition']} imported ({demo.catalogue['item_count']} "
                   f"items), {len(demo.activities)} declarations, list edition {demo.published_edition} published, "
                   f"{len(demo.reports)} reports of activities held")
        year = await walk_inspection_year(client, Settings().directory, move)
        typer.echo(f"demo: inspection year {YEAR}: {len(year.items)} items proposed, 1 merger, checklist edition "
                   f"{year.checklist['edition']} published ({year.checklist['row_count']} rows), "
                   f"{sum(v['reports'] for v in year.visits.values())} visit reports of {len(year.visits)} visits, "
                   f"{len(year.requests)} data requests")
        teachers_year = await walk_teachers_year(client, Settings().directory, move)
        typer.echo(headline(teachers_year))
        g2 = await walk_g2(client, move)  # G2: after the teachers' year, one unit to a confirmed circulation
        g2.documents = await save_documents(Settings(nats_url=url, nats_user=CONFIRMER, nats_password=password(CONFIRMER)),
                                            g2.document_number, circulations)
        await _settled(client)  # let the projector, the detector and the notifier catch up before showing results
        listed = await client.query("dept-public-security", "compliance", "GetSemesterList", {"semester": SEMESTER})
        typer.echo(json.dumps(listed, ensure_ascii=False, indent=2))
        found = await _all_violations(client)
        s3 = [v for v in found if v["semester"] == SEMESTER and v["rule"] not in S1S2_RULES + TEACHERS_RULES]
        typer.echo(json.dumps({"ok": True, "clause": "S3", "semester": SEMESTER, "count": len(s3), "violations": s3},
                              ensure_ascii=False, indent=2))
        checklist = await client.query("dept-public-security", "compliance", "GetInspectionChecklist", {"year": YEAR})
        typer.echo(json.dumps(checklist, ensure_ascii=False, indent=2))
        s1s2 = [v for v in found if v["rule"] in S1S2_RULES and v["semester"] == SEMESTER]  # not G2's walk
        typer.echo(json.dumps({"ok": True, "clause": "S1/S2", "year": YEAR, "count": len(s1s2), "violations": s1s2},
                              ensure_ascii=False, indent=2))
        typer.echo(json.dumps(teachers_summary(teachers_year, found), ensure_ascii=False, indent=2))
        typer.echo(json.dumps(g2_summary(g2), ensure_ascii=False, indent=2))
        typer.echo("\n".join(report_lines(g2)))
    finally:
        await client.close()


async def _settled(client, quiet: float = 1.5, timeout: float = 60.0) -> None:
    """Wait until the read model has stopped moving (its sequence unchanged for ``quiet`` seconds):
    the detector's violations and the notifier's reminders are then projected."""
    loop = asyncio.get_running_loop()
    deadline, last, since = loop.time() + timeout, None, loop.time()
    while loop.time() < deadline:
        reply = await client.query("edu-bureau", "compliance", "GetViolations", {"limit": 1})
        if reply.get("as_of_sequence") != last:
            last, since = reply.get("as_of_sequence"), loop.time()
        elif loop.time() - since >= quiet:
            return
        await asyncio.sleep(0.25)


async def _all_violations(client) -> list[dict]:
    """Every violation on record, oldest pages last, as the education bureau reads them."""
    found, cursor = [], None
    while True:
        reply = await client.query("edu-bureau", "compliance", "GetViolations",
                                   {"limit": 100, **({"cursor": cursor} if cursor else {})})
        found += reply["violations"]
        cursor = reply.get("next_cursor")
        if not cursor:
            return found


@app.command()
def provision(
    replicas: int | None = typer.Option(None, min=1, help="Replicas of every stream (3 in a cluster); never "
                                        "lowered. Default: 1 for a new stream, an existing one keeps its own."),
) -> None:
    """Create or update the JIANFU_EVENTS, JIANFU_ALERTS, JIANFU_OPS, JIANFU_COMMANDS and JIANFU_SNAPSHOTS streams
    and create the JIANFU_DOCUMENTS object store when missing (JIANFU_NATS_URL), logged in as the operator
    (JIANFU_NATS_USER=operator): no other user may."""
    from jianfu.events.provisioning import ReplicasRefused

    try:
        changed = asyncio.run(_provision(Settings(), replicas))
    except ReplicasRefused as refused:
        typer.echo(f"jianfu provision: {refused}", err=True)
        raise typer.Exit(2) from refused
    for line in changed:
        typer.echo(line)


@app.command()
def migrate() -> None:
    """Bring the read-model database (JIANFU_DATABASE_URL) to the latest schema."""
    from jianfu.compliance.migrations import migrate as migrate_compliance

    asyncio.run(migrate_compliance(Settings().database_url))
    typer.echo("compliance schema at head")


@app.command()
def rebuild(
    verify_only: bool = typer.Option(False, "--verify", help="Compare with the live model; switch nothing, "
                                      "append nothing; exit 1 if they differ."),
) -> None:
    """Replay the whole log into fresh read-model tables and switch them in (JIANFU_DATABASE_URL);
    print the digests of the rebuild and of the live model it replaced. On a terminal, a progress
    bar on standard error shows the events replayed of the total, the rate and the time left."""
    from dataclasses import asdict

    from jianfu.compliance.rebuild import progress_bar, rebuild_with

    with progress_bar() as bar:
        result = asyncio.run(rebuild_with(Settings(), switch=not verify_only, progress=bar))
    typer.echo(json.dumps({**asdict(result), "matched": result.matched}, indent=2))
    raise typer.Exit(1 if verify_only and result.matched is False else 0)


@app.command()
def status() -> None:
    """Print as JSON the log's last sequence, each durable consumer's pending and ack-pending
    counts, and the quarantined events: alerts kept in JIANFU_OPS and, when JIANFU_DATABASE_URL
    is set and reachable, the compliance projector's quarantine table."""
    from jianfu.cli.status import status_report

    report = asyncio.run(status_report(Settings(), with_database="JIANFU_DATABASE_URL" in os.environ))
    typer.echo(json.dumps(report, ensure_ascii=False, indent=2, default=str))


async def _quiet(error: Exception) -> None:
    """The report says what failed; nats-py need not print a traceback per attempt as well."""


@app.command()
def verify(
    seal: list[str] = typer.Option([], "--seal", help="The hash of a seal (`last_seal.hash`) kept from an earlier "
                                   "check; the log must still hold it. Repeatable."),
) -> None:
    """Auditor's check: read the whole log (JIANFU_NATS_URL, JIANFU_STREAM) and check sequence
    continuity, every hash chain, every event's schema and every seal; print a JSON report that
    names the first break of each kind; exit 1 unless the log is intact."""
    from jianfu.events.audit import AuditReport, verify_log
    from jianfu.events.store import EventStore
    from nats.errors import Error as NatsError

    async def check() -> AuditReport:
        settings = Settings()
        try:
            nc = await connect(settings, max_reconnect_attempts=1, connect_timeout=3, error_cb=_quiet)
        except (NatsError, OSError) as error:
            return AuditReport(incomplete=f"could not connect to {settings.nats_url}: {type(error).__name__}")
        try:
            return await verify_log(EventStore(nc.jetstream(), settings.stream), known_seals=seal)
        finally:
            await nc.close()

    report = asyncio.run(check())
    typer.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    raise typer.Exit(0 if report.intact else 1)


@app.command()
def asyncapi(out: Path = typer.Option(Path("docs/asyncapi"), help="Folder for one document per service.")) -> None:
    """Write the AsyncAPI document of every service, generated from the code."""
    from jianfu.cli.asyncapi import write_documents

    for path in write_documents(out):
        typer.echo(str(path))


if __name__ == "__main__":
    app()
