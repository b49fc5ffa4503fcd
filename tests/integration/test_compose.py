"""The deployment files agree with the code, and the broker's permissions prove who sends what.

docker-compose.yml is parsed and checked against the code (apps importable, env names are
settings, CLI commands exist, NATS users exist); ``docker compose config`` runs where a compose
client is installed. deploy/nats.conf is checked to be what deploy/make_nats_conf.py writes, then
run in a real nats-server: an organisation cannot speak for another or write the log, a service
can, and real services work under their own users.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

import nats
import pytest
import typer
import yaml
from faststream import FastStream
from jianfu.cli.client import JianfuClient
from jianfu.cli.main import app as cli
from jianfu.cli.supervisor import SERVICES
from jianfu.events.envelope import SYSTEM_ACTOR
from jianfu.events.provisioning import provision
from jianfu.events.recording import CommandContext
from jianfu.events.runtime import make_broker
from jianfu.events.schemas.compliance import Rule, ViolationDetected, violation_id
from jianfu.events.settings import Settings
from jianfu.events.store import EventStore
from nats.errors import NoServersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import ConsumerConfig

from tests.broker import NATS_CONF, ComposeNats, login
from tests.factories import DIRECTORY, POLICY, application

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DEFAULTED = re.compile(r"^\$\{(?P<var>[A-Z0-9_]+):-(?P<default>[^}]*)\}$")


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def resolved(value: str) -> str:
    """A compose value with ``${VAR:-default}`` parts replaced by their defaults."""
    return re.sub(r"\$\{[A-Z0-9_]+:-([^}]*)\}", r"\1", str(value))


def settings_class(service: str) -> type[Settings]:
    """The service's own settings (a subclass of the shared ones), if it has any."""
    try:
        module = importlib.import_module(f"jianfu.{service}.settings")
    except ModuleNotFoundError:
        return Settings
    own = [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, Settings) and v is not Settings]
    return own[0] if own else Settings


def make_nats_conf():
    spec = importlib.util.spec_from_file_location("make_nats_conf", ROOT / "deploy" / "make_nats_conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def conf_passwords() -> dict[str, str]:
    return dict(re.findall(r'\{user: "([^"]+)", password: "([^"]*)"', NATS_CONF.read_text(encoding="utf-8")))


# docker-compose.yml


def test_compose_runs_nats_postgres_the_migrate_job_and_the_four_services():
    services = compose()["services"]
    assert set(services) == {"nats", "postgres", "migrate", *SERVICES}
    assert services["nats"]["command"] == ["-c", "/etc/nats/nats.conf"]
    assert "./deploy/nats.conf:/etc/nats/nats.conf:ro" in services["nats"]["volumes"]
    assert services["postgres"]["image"].startswith("postgres:16") and "healthcheck" in services["postgres"]
    assert all("container_name" not in spec for spec in services.values())  # replicas need free names


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_runs_its_faststream_app_after_the_migrate_job(service):
    spec = compose()["services"][service]
    assert spec["command"] == ["faststream", "run", f"jianfu.{service}.app:app"]
    module = importlib.import_module(f"jianfu.{service}.app")
    assert isinstance(module.app, FastStream)
    assert spec["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert spec["restart"] == "unless-stopped"  # a service that exits 75 (connection lost for good) comes back
    assert spec.get("deploy", {}).get("replicas", 1) >= 1


@pytest.mark.parametrize("service", ["migrate", *SERVICES])
def test_environment_names_are_settings_and_their_values_parse(service, monkeypatch):
    env = {key: resolved(value) for key, value in compose()["services"][service]["environment"].items()}
    cls = settings_class(service)
    assert {f"JIANFU_{name.upper()}" for name in cls.model_fields} >= set(env)
    assert {"JIANFU_NATS_URL", "JIANFU_NATS_USER", "JIANFU_NATS_PASSWORD", "JIANFU_DATABASE_URL"} <= set(env)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = cls()
    assert settings.database_url.startswith("postgresql+asyncpg://") and settings.log_format == "json"
    assert settings.nats_url == "nats://nats:4222"


@pytest.mark.parametrize("service", ["migrate", *SERVICES])
def test_each_container_logs_in_as_a_nats_user_of_deploy_nats_conf_with_its_password(service):
    env = compose()["services"][service]["environment"]
    user = env["JIANFU_NATS_USER"]
    assert user == ("operator" if service == "migrate" else service)
    defaulted = DEFAULTED.match(env["JIANFU_NATS_PASSWORD"])
    assert defaulted, "passwords come from the environment, with the demo default"
    assert defaulted["var"] == f"NATS_PASSWORD_{user.upper()}"
    assert conf_passwords()[user] == defaulted["default"]


def test_the_migrate_job_provisions_the_streams_and_migrates_with_cli_commands_that_exist():
    spec = compose()["services"]["migrate"]
    script = spec["command"][-1]
    assert script == "jianfu provision && jianfu migrate"
    assert {"provision", "migrate"} <= set(typer.main.get_command(cli).commands)
    assert spec["restart"] == "no"
    assert spec["depends_on"] == {"nats": {"condition": "service_healthy"},
                                  "postgres": {"condition": "service_healthy"}}


def _compose_client() -> list[str] | None:
    for command in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(command[0]) is None:
            continue
        if subprocess.run([*command, "version"], capture_output=True, timeout=30).returncode == 0:
            return command
    return None


def test_docker_compose_accepts_the_file():
    command = _compose_client()
    if command is None:
        pytest.skip("no docker compose client on this machine")
    result = subprocess.run([*command, "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True,
                            timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_dockerfile_installs_the_project_with_pip_and_runs_as_a_non_root_user():
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim", text, re.M)
    assert "pip install" in text
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")


# deploy/nats.conf


def test_nats_conf_is_what_the_generator_writes_from_the_directory(monkeypatch):
    for key in [k for k in os.environ if k.startswith("NATS_PASSWORD_")]:
        monkeypatch.delenv(key)
    assert make_nats_conf().main(["--check"]) == 0
    users = set(conf_passwords())
    assert users == {*SERVICES, "operator", *(org.org_id for org in DIRECTORY.organisations)}


def test_nats_conf_syncs_every_write_on_the_single_node():
    assert re.search(r"^\s*sync_interval: always", NATS_CONF.read_text(encoding="utf-8"), re.M)


@pytest.fixture(scope="module")
async def secured(tmp_path_factory):
    server = ComposeNats(tmp_path_factory.mktemp("compose-nats")).start()
    admin = await login(server, "operator")
    await provision(admin.nc.jetstream())
    yield server
    await admin.nc.close()
    server.stop()


async def test_an_organisation_may_not_send_commands_as_another_or_write_the_log(secured):
    fire, requests = await login(secured, "dept-fire"), await login(secured, "requests")
    seen = []

    async def record(msg) -> None:
        seen.append(msg.subject)

    await requests.nc.subscribe("jf.cmd.>", cb=record)
    await requests.nc.flush()
    events_before = (await requests.nc.jetstream().stream_info("JIANFU_EVENTS")).state.messages

    await fire.nc.publish("jf.cmd.dept-fire.requests.RequestActivity", b"{}")  # its own org: allowed
    await fire.nc.publish("jf.cmd.dept-health.requests.RequestActivity", b"{}")  # another org
    await fire.nc.publish("jf.ev.violation.v-forged", b"{}")  # the log
    await fire.nc.subscribe("jf.alert.dept-health.>")  # another org's alerts

    errors = await fire.settle()
    await requests.settle()
    assert seen == ["jf.cmd.dept-fire.requests.RequestActivity"]
    assert any("permissions violation for publish to \"jf.cmd.dept-health." in e for e in errors), errors
    assert any("permissions violation for publish to \"jf.ev.violation.v-forged\"" in e for e in errors), errors
    assert any("permissions violation for subscription to \"jf.alert.dept-health.>\"" in e for e in errors), errors
    assert not any("dept-fire" in e for e in errors), errors
    assert (await requests.nc.jetstream().stream_info("JIANFU_EVENTS")).state.messages == events_before
    await fire.nc.close()
    await requests.nc.close()


async def test_a_service_may_write_its_own_events_into_the_log(secured):
    compliance = await login(secured, "compliance")
    ack = await compliance.nc.jetstream().publish(f"jf.ev.violation.{uuid.uuid4().hex}", b"{}", stream="JIANFU_EVENTS")
    assert ack.seq > 0 and await compliance.settle() == []
    await compliance.nc.close()


@pytest.mark.parametrize("service", ["requests", "approvals", "compliance", "notifications"])
async def test_every_service_may_raise_an_operator_alert_and_it_is_kept(secured, service):
    session = await login(secured, service)
    ack = await session.nc.jetstream().publish(f"jf.sys.alert.{service}.quarantine", b"{}", stream="JIANFU_OPS")
    assert ack.seq > 0 and await session.settle() == []
    await session.nc.close()


async def test_a_wrong_password_is_refused(secured):
    with pytest.raises((NoServersError, nats.errors.Error)):
        await nats.connect(secured.url, user="dept-fire", password="guess", allow_reconnect=False,
                           max_reconnect_attempts=0, connect_timeout=2)


def test_the_migrate_jobs_provision_logs_in_as_the_operator(secured):
    """docker-compose's migrate job runs `jianfu provision` with JIANFU_NATS_USER=operator."""
    env = {**os.environ, "JIANFU_NATS_URL": secured.url, "JIANFU_NATS_USER": "operator",
           "JIANFU_NATS_PASSWORD": "operator-demo"}
    result = subprocess.run([str(Path(sys.executable).parent / "jianfu"), "provision"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "updated JIANFU_EVENTS" in result.stdout


def logged_in_as(server: ComposeNats, client_id: int) -> str | None:
    """The user the server authenticated connection ``client_id`` as (monitoring ``/connz``)."""
    url = f"http://127.0.0.1:{server.monitor_port}/connz?cid={client_id}&auth=1"
    with urllib.request.urlopen(url, timeout=5) as response:
        connections = json.load(response)["connections"]
    return connections[0].get("authorized_user") if connections else None


async def test_the_shared_runtime_logs_a_service_in_as_its_user(secured):
    broker = make_broker(Settings(nats_url=secured.url, nats_user="requests", nats_password="requests-demo"))
    await broker.connect()
    try:
        assert await asyncio.to_thread(logged_in_as, secured, broker.connection.client_id) == "requests"
    finally:
        await broker.stop()


async def test_services_work_under_their_own_users(secured):
    """An organisation's command is answered by requests; a violation reaches the unit as an alert
    from notifications; each service logged in with its own restricted user."""
    from jianfu.notifications import app as notifications_app
    from jianfu.requests.app import build as build_requests

    def settings(user: str) -> Settings:
        return Settings(nats_url=secured.url, nats_user=user, nats_password=f"{user}-demo",
                        clock="fixed:2026-07-10", log_level="WARNING")

    apps = [build_requests(settings("requests")), notifications_app.build(settings("notifications"))]
    for app in apps:
        await app.start()
    police, fire = await login(secured, "dept-public-security"), await login(secured, "dept-fire")
    compliance = await login(secured, "compliance")
    alerts = []

    try:
        reply = await JianfuClient(police.nc, timeout=5).command(
            "dept-public-security", "requests", "RequestActivity", application())
        assert reply["ok"] is True, reply

        # G2: an organisation reads its alerts from the stream, through its own filtered consumer.
        fire_js = fire.nc.jetstream()
        await fire_js.add_consumer("JIANFU_ALERTS", ConsumerConfig(name="dept-fire", durable_name="dept-fire",
                                                                   filter_subject="jf.alert.dept-fire.>"))
        stored = await fire_js.pull_subscribe_bind(durable="dept-fire", stream="JIANFU_ALERTS")
        found = ViolationDetected(
            violation_id=violation_id(Rule.UNAUTHORIZED_CAMPUS_ENTRY, uuid.uuid4().hex),
            rule=Rule.UNAUTHORIZED_CAMPUS_ENTRY, clause="S3", responsible_org_id="dept-fire",
            school_id="school-dwk-primary-1", semester="2026-autumn", issue_key="dept-fire:UnauthorizedCampusEntry",
            summary="区消防大队未经认定进校园。", evidence={},
        )
        context = CommandContext(SYSTEM_ACTOR, found.violation_id,
                                 "corr-compose", POLICY.version, datetime(2026, 10, 21, tzinfo=UTC))
        await EventStore(compliance.nc.jetstream()).append_once(context.event(found, found.violation_id))
        for _ in range(50):
            try:
                for msg in await stored.fetch(10, timeout=0.2):
                    alerts.append(json.loads(msg.data))
                    await msg.ack()
            except NatsTimeoutError:
                pass
            if alerts:
                break
        assert [a["violation_id"] for a in alerts] == [found.violation_id]
        assert alerts[0]["issued_by"] == "supervision-office"
        assert await police.settle() == [] and await fire.settle() == []
    finally:
        for app in apps:
            await app.stop()
        for session in (police, fire, compliance):
            await session.nc.close()
