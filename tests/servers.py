"""Test-side server helpers: the shared live servers, Docker services, fresh databases and write load."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymysql
import pytest

from mysqlinspect.connection.settings import ConnectionSettings
from mysqlinspect.errors import SandboxError
from mysqlinspect.sandbox.server import SandboxServer, temporary_server

LOCAL_FLAVORS = ("mysql", "mariadb")
DOCKER_SERVICES = {"mysql-8.0": "mysql", "mysql-8.4": "mysql", "mariadb-11.4": "mariadb"}


def wanted_flavors() -> tuple[str, ...]:
    """MYSQLINSPECT_TEST_FLAVORS=mysql (or mariadb) narrows a local run; CI runs both."""
    env = os.environ.get("MYSQLINSPECT_TEST_FLAVORS")
    if not env:
        return LOCAL_FLAVORS
    return tuple(f.strip() for f in env.split(",") if f.strip())


def docker_engine_answers() -> bool:
    if os.environ.get("MYSQLINSPECT_NO_DOCKER") or shutil.which("docker") is None:
        return False
    try:
        proc = subprocess.run(["docker", "info"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


@dataclass
class DockerServer:
    """A compose service reached through pytest-docker (same surface as SandboxServer, minus restarts)."""

    flavor: str
    service: str
    host: str
    port: int

    def settings(self, user: str = "root", password: str | None = None) -> ConnectionSettings:
        return ConnectionSettings(host=self.host, port=self.port, user=user, password=password, ssl_mode="PREFERRED")

    def connect(self, database: str | None = None, **kwargs: Any) -> pymysql.connections.Connection:
        return pymysql.connect(host=self.host, port=self.port, user="root", password="", database=database,
                               autocommit=True, charset="utf8mb4", **kwargs)

    def cli_args(self) -> list[str]:
        return ["-h", self.host, "-P", str(self.port), "-u", "root", "--ssl-mode", "DISABLED"]


def create_database(server: Any) -> str:
    name = "t_" + uuid.uuid4().hex[:12]
    conn = server.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}`")
    finally:
        conn.close()
    return name


def drop_database(server: Any, name: str) -> None:
    try:
        conn = server.connect()
    except pymysql.err.MySQLError:
        return
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        conn.close()


@dataclass
class Writer:
    """Background write load: inserts, updates and deletes on one table, in small transactions."""

    server: Any
    database: str
    rows_per_txn: int = 10
    pause: float = 0.0
    payload_bytes: int = 200
    committed: int = 0
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def setup(self) -> None:
        conn = self.server.connect(self.database)
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS load_t (id INT AUTO_INCREMENT PRIMARY KEY, v INT, "
                        "pad VARCHAR(2000), ts TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB")
        conn.close()

    def run_once(self, conn: pymysql.connections.Connection, rnd: random.Random) -> None:
        pad = "x" * self.payload_bytes
        with conn.cursor() as cur:
            cur.execute("BEGIN")
            for _ in range(self.rows_per_txn):
                cur.execute("INSERT INTO load_t (v, pad) VALUES (%s, %s)", (rnd.randint(0, 1 << 30), pad))
            cur.execute("UPDATE load_t SET v = v + 1 ORDER BY id DESC LIMIT 3")
            if rnd.random() < 0.3:
                cur.execute("DELETE FROM load_t ORDER BY id LIMIT 2")
            cur.execute("COMMIT")
        self.committed += 1

    def _loop(self) -> None:
        rnd = random.Random(1)
        try:
            conn = self.server.connect(self.database)
        except pymysql.err.MySQLError as exc:
            self.errors.append(str(exc))
            return
        try:
            while not self._stop.is_set():
                try:
                    self.run_once(conn, rnd)
                except pymysql.err.MySQLError as exc:
                    self.errors.append(str(exc))
                    return
                if self.pause:
                    time.sleep(self.pause)
        finally:
            try:
                conn.close()
            except pymysql.err.Error:
                pass

    def start(self) -> Writer:
        self.setup()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def run_for(self, seconds: float) -> None:
        self.start()
        time.sleep(seconds)
        self.stop()


@contextmanager
def write_load(server: Any, database: str, **kwargs: Any) -> Iterator[Writer]:
    writer = Writer(server, database, **kwargs).start()
    try:
        yield writer
    finally:
        writer.stop()


def wait_for(predicate: Any, timeout: float = 30.0, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def restore_sigint() -> None:
    """preexec_fn for a child the test will Ctrl-C: a suite started as a background job (or by a CI wrapper)
    ignores SIGINT, the child inherits that, and Python then installs no KeyboardInterrupt handler."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextmanager
def sigint_ignored() -> Iterator[None]:
    """Run the block as a background job would: SIGINT ignored in this process (and in children by default)."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def dedicated_server(flavor: str, server_id: int, extra_args: list[str] | None = None) -> Iterator[SandboxServer]:
    """A started server of its own (for a module whose tests restart, crash or reconfigure it), destroyed
    afterwards; the test fails, never skips, when it cannot start."""
    server = temporary_server(flavor, server_id=server_id, extra_args=extra_args)
    try:
        server.start()
    except SandboxError as exc:
        server.destroy()
        pytest.fail(f"could not start a dedicated {flavor} server: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.destroy()


def flush_dirty_pages(conn: Any) -> None:
    """Every dirty page of the buffer pool written (the settings that make the page cleaner flush all are left set)."""
    with conn.cursor() as cur:
        cur.execute("SET GLOBAL innodb_max_dirty_pages_pct_lwm = 0")
        cur.execute("SET GLOBAL innodb_max_dirty_pages_pct = 0")
        for _ in range(600):
            cur.execute("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'")
            if int(cur.fetchone()[1]) == 0:
                return
            time.sleep(0.1)
    raise AssertionError("dirty pages were not flushed within 60 s")


def start_replica(source: Any, replica: Any, start: tuple[str, int], *first: str) -> None:
    """`replica` replicating from `source` at binlog position `start` (after running the statements `first`)."""
    conn = replica.connect()
    try:
        with conn.cursor() as cur:
            for statement in first:
                cur.execute(statement)
            if source.flavor == "mysql":
                cur.execute(f"CHANGE REPLICATION SOURCE TO SOURCE_HOST='127.0.0.1', SOURCE_PORT={source.port}, "
                            f"SOURCE_USER='root', SOURCE_PASSWORD='', SOURCE_LOG_FILE='{start[0]}', "
                            f"SOURCE_LOG_POS={start[1]}, GET_SOURCE_PUBLIC_KEY=1")
                cur.execute("START REPLICA")
            else:
                cur.execute(f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={source.port}, "
                            f"MASTER_USER='root', MASTER_PASSWORD='', MASTER_LOG_FILE='{start[0]}', "
                            f"MASTER_LOG_POS={start[1]}, MASTER_USE_GTID=no")
                cur.execute("START SLAVE")
    finally:
        conn.close()
