"""Fixtures: real servers (started here, or Docker services when an engine answers), isolation, CLI runner.

A test that needs a server and cannot get one fails with the reason; it never skips silently.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

# The server cache lives under the real home even while tests point HOME elsewhere.
os.environ.setdefault("MYSQLINSPECT_CACHE", os.path.join(os.path.expanduser("~/.cache"), "mysqlinspect"))

from mysqlinspect.cli import cli
from mysqlinspect.errors import SandboxError
from mysqlinspect.sandbox.server import SandboxServer, temporary_server
from tests.servers import (
    DOCKER_SERVICES,
    DockerServer,
    Writer,
    create_database,
    docker_engine_answers,
    drop_database,
    repo_root,
    wanted_flavors,
)

USE_DOCKER = docker_engine_answers()
SERVER_PARAMS = list(wanted_flavors()) + (list(DOCKER_SERVICES) if USE_DOCKER else [])


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No developer option files, login paths or MYSQL_* variables leak into a test."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in list(os.environ):
        if var.startswith("MYSQL_") or var in ("MYSQL_PWD", "NO_COLOR"):
            monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COLUMNS", "200")


class _ServerPool:
    def __init__(self) -> None:
        self.servers: dict[str, SandboxServer] = {}
        self.failures: dict[str, str] = {}

    def get(self, flavor: str, server_id: int) -> SandboxServer:
        if flavor in self.failures:
            pytest.fail(f"no {flavor} server for this test: {self.failures[flavor]}", pytrace=False)
        if flavor not in self.servers:
            try:
                server = temporary_server(flavor, server_id=server_id)
                server.start()
            except SandboxError as exc:
                self.failures[flavor] = str(exc)
                pytest.fail(f"no {flavor} server for this test: {exc}", pytrace=False)
            self.servers[flavor] = server
        return self.servers[flavor]

    def close(self) -> None:
        for server in self.servers.values():
            server.destroy()


@pytest.fixture(scope="session")
def server_pool() -> Iterator[_ServerPool]:
    pool = _ServerPool()
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def docker_compose_file() -> str:
    return str(repo_root() / "docker-compose.yml")


def _docker_server(request: pytest.FixtureRequest, service: str) -> DockerServer:
    import pymysql

    services = request.getfixturevalue("docker_services")
    host = request.getfixturevalue("docker_ip")
    port = services.port_for(service, 3306)

    def ready() -> bool:
        try:
            pymysql.connect(host=host, port=port, user="root", password="", connect_timeout=2).close()
            return True
        except pymysql.err.MySQLError:
            return False

    services.wait_until_responsive(timeout=180, pause=1, check=ready)
    return DockerServer(flavor=DOCKER_SERVICES[service], service=service, host=host, port=port)


@pytest.fixture(scope="session", params=SERVER_PARAMS)
def server(request: pytest.FixtureRequest, server_pool: _ServerPool) -> Any:
    """A running server shared by the session: each live test runs once per flavor."""
    name: str = request.param
    if name in DOCKER_SERVICES:
        return _docker_server(request, name)
    return server_pool.get(name, server_id=100 + SERVER_PARAMS.index(name))


@pytest.fixture(scope="session", params=list(wanted_flavors()))
def sandbox_flavor(request: pytest.FixtureRequest) -> str:
    """A flavor for tests that need a dedicated local server (restart, crash, reconfigure)."""
    return str(request.param)


@pytest.fixture
def db(server: Any) -> Iterator[str]:
    """A fresh database on the shared server, dropped afterwards."""
    name = create_database(server)
    yield name
    drop_database(server, name)


@pytest.fixture
def writer(server: Any, db: str) -> Iterator[Writer]:
    w = Writer(server, db)
    yield w
    w.stop()


@pytest.fixture
def usage_only_account(server: Any) -> Iterator[tuple[str, str]]:
    """(name, password) of an account with USAGE only on the shared server, dropped afterwards."""
    name, password = "mi_" + uuid.uuid4().hex[:10], "Pw-" + uuid.uuid4().hex[:12]
    conn = server.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE USER '{name}'@'%' IDENTIFIED BY '{password}'")
        yield name, password
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP USER IF EXISTS '{name}'@'%'")
        conn.close()


@pytest.fixture
def make_server() -> Iterator[Callable[..., SandboxServer]]:
    """Factory for dedicated servers: make_server(flavor, extra_args=[...], start=True)."""
    created: list[SandboxServer] = []

    def factory(flavor: str, extra_args: list[str] | None = None, start: bool = True,
                server_id: int = 500) -> SandboxServer:
        try:
            server = temporary_server(flavor, server_id=server_id + len(created), extra_args=extra_args)
            created.append(server)
            if start:
                server.start()
        except SandboxError as exc:
            pytest.fail(f"could not start a dedicated {flavor} server: {exc}", pytrace=False)
        return server

    yield factory
    for server in created:
        server.destroy()


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def jsonl(self) -> list[Any]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


@pytest.fixture
def run_cli() -> Callable[..., CliResult]:
    """run_cli(*args, input=None) -> CliResult, through the real group (exit-code mapping included)."""

    def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> CliResult:
        runner = CliRunner()
        result = runner.invoke(cli, list(args), input=input, env=env, catch_exceptions=False)
        return CliResult(result.exit_code, result.stdout, result.stderr)

    return invoke
