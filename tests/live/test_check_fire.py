"""`check` rules made to fire for real: one dedicated server per flavor started with many bad settings at once.

Rate and load rules fire under a write load; redo disable/resize (MySQL) at run time; binary logging off needs a
restart (done last in the module's own test, and undone).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pymysql
import pytest

from mysqlinspect.sandbox.server import SandboxServer
from tests.servers import create_database, dedicated_server, wait_for, write_load

COMMON_BAD = [
    "--sync-binlog=0", "--binlog-format=MIXED", "--binlog-row-image=MINIMAL", "--binlog-checksum=NONE",
    "--binlog-expire-logs-seconds=3600", "--binlog-cache-size=4096",
    # slow page flushing, so that the checkpoint age climbs towards the sync flush point under load
    "--innodb-io-capacity=100", "--innodb-io-capacity-max=100", "--innodb-adaptive-flushing=OFF",
    "--innodb-max-dirty-pages-pct=99", "--innodb-max-dirty-pages-pct-lwm=0",
]
BAD_ARGS = {
    "mysql": [*COMMON_BAD, "--innodb-flush-log-at-trx-commit=2", "--innodb-doublewrite=OFF",
              "--innodb-redo-log-capacity=8M", "--innodb-log-checksums=OFF", "--gtid-mode=OFF",
              "--enforce-gtid-consistency=OFF", "--innodb-log-buffer-size=256K"],
    "mariadb": [*COMMON_BAD, "--innodb-flush-log-at-trx-commit=0", "--skip-innodb-doublewrite",
                "--innodb-log-file-size=4M", "--old-alter-table=COPY", "--innodb-undo-tablespaces=0"],
}
BINLOG_OFF = {"mysql": "--disable-log-bin", "mariadb": "--skip-log-bin"}


@pytest.fixture(scope="module")
def bad(sandbox_flavor: str) -> Iterator[SandboxServer]:
    """A dedicated server per flavor with every bad setting the rules look for."""
    with dedicated_server(sandbox_flavor, 700, list(BAD_ARGS[sandbox_flavor])) as server:
        yield server


def findings(result: Any) -> dict[str, dict[str, Any]]:
    return {f["id"]: f for f in result.json()["findings"]}


def variable(server: SandboxServer, name: str) -> str:
    conn = server.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW GLOBAL VARIABLES LIKE %s", (name,))
            row = cur.fetchone()
            if row is None:
                cur.execute("SHOW GLOBAL STATUS LIKE %s", (name,))
                row = cur.fetchone()
    finally:
        conn.close()
    return str(row[1]) if row else ""


def test_setting_rules_fire(bad: SandboxServer, run_cli: Callable[..., Any]) -> None:
    result = run_cli("check", *bad.cli_args(), "--format", "json")
    assert result.exit_code == 2, result.stderr
    f = findings(result)
    doc = result.json()
    assert doc["status"] == "CRITICAL" and doc["exit_code"] == 2
    expected = {"R7": "WARNING", "R8": "WARNING", "R9": "CRITICAL", "R11a": "WARNING", "R11b": "WARNING",
                "R12": "WARNING", "R13a": "WARNING", "R19": "WARNING"}
    if bad.flavor == "mysql":
        expected |= {"R13b": "WARNING", "R18": "WARNING", "R17": "OK", "R4": "OK", "R5": "OK"}
    else:
        expected |= {"R17": "WARNING", "R13b": "OK", "R18": "OK"}
    assert {k: f[k]["status"] for k in expected} == expected
    # values are the server's own
    assert f["R7"]["value"] == int(variable(bad, "innodb_flush_log_at_trx_commit"))
    assert f["R8"]["value"] == int(variable(bad, "sync_binlog")) == 0
    assert f["R12"]["value"] == int(variable(bad, "binlog_expire_logs_seconds")) == 3600
    assert f["R9"]["value"] == "OFF" and "torn page" in f["R9"]["message"]
    assert f["R9"]["thresholds"] == {"op": None, "warn": "DETECT_ONLY", "crit": "OFF"}
    assert f["R19"]["value"] >= 1
    if bad.flavor == "mysql":
        assert "binlog_format" in f["R19"]["message"]
        assert f["R17"]["value"] == int(variable(bad, "Innodb_undo_tablespaces_active")) == 2
    else:
        assert "old_alter_table" in f["R19"]["message"]
        assert f["R17"]["value"] == 0
        assert f["R18"]["applicable"] is False and f["R13b"]["applicable"] is False
    for finding in f.values():
        assert set(finding) >= {"name", "status", "value", "thresholds", "message", "hint"}


def test_undo_rule_fires_with_a_raised_threshold(bad: SandboxServer, run_cli: Callable[..., Any]) -> None:
    result = run_cli("check", *bad.cli_args(), "--format", "json", "--only", "undo_tablespaces",
                     "--warn", "undo_tablespaces=3")
    assert result.exit_code == 1
    assert findings(result)["R17"]["status"] == "WARNING"


def _checkpoint_findings(bad: SandboxServer, run_cli: Callable[..., Any]) -> dict[str, dict[str, Any]]:
    """R1 (with a 40% warning: MariaDB's sync point is ~64% of its log) and R1b (defaults) until both fire."""
    f: dict[str, dict[str, Any]] = {}
    for _ in range(20):
        result = run_cli("check", *bad.cli_args(), "--format", "json", "--only", "R1,R1b",
                         "--warn", "checkpoint_age=40")
        f = findings(result)
        if f["R1"]["status"] != "OK" and f["R1b"]["status"] != "OK":
            break
        time.sleep(0.5)
    return f


def test_load_rules_fire(bad: SandboxServer, run_cli: Callable[..., Any]) -> None:
    db = create_database(bad)
    with write_load(bad, db, payload_bytes=2000, rows_per_txn=20) as writer:
        wait_for(lambda: writer.committed > 20, timeout=30)
        age = _checkpoint_findings(bad, run_cli)
        result = run_cli("check", *bad.cli_args(), "--format", "json", "--interval", "2", "--only", "R2,R14")
    assert not writer.errors
    assert age["R1b"]["status"] in ("WARNING", "CRITICAL") and age["R1b"]["value"] >= 80
    assert age["R1"]["status"] in ("WARNING", "CRITICAL") and 40 <= age["R1"]["value"] < 100
    assert age["R1b"]["thresholds"] == {"op": ">=", "warn": 80, "crit": 100}
    assert result.exit_code == 2, result.stdout
    f = findings(result)
    assert f["R2"]["status"] == "CRITICAL" and f["R2"]["value"] < 15
    capacity = int(variable(bad, "Innodb_redo_log_capacity_resized" if bad.flavor == "mysql"
                            else "innodb_log_file_size"))
    assert age["R1"]["evidence"]["capacity_bytes"] == capacity == f["R2"]["evidence"]["capacity_bytes"]
    assert f["R14"]["status"] == "CRITICAL" and f["R14"]["value"] > 10
    assert f["R14"]["evidence"]["binlog_cache_size"] == 4096


def _stalls_logged(server: SandboxServer) -> int:
    conn = server.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM performance_schema.error_log WHERE ERROR_CODE IN "
                        "('MY-013865', 'MY-014089', 'MY-014084')")
            return int(cur.fetchone()[0])
    finally:
        conn.close()


def test_redo_stall_rule_fires(bad: SandboxServer, run_cli: Callable[..., Any]) -> None:
    if bad.flavor == "mariadb":
        result = run_cli("check", *bad.cli_args(), "--format", "json", "--only", "redo_stalls")
        assert findings(result)["R6"]["applicable"] is False and result.exit_code == 0
        return
    db = create_database(bad)
    if not _stalls_logged(bad):
        with write_load(bad, db, payload_bytes=2000, rows_per_txn=50):
            wait_for(lambda: _stalls_logged(bad) > 0, timeout=60, interval=0.5)
    result = run_cli("check", *bad.cli_args(), "--format", "json", "--only", "redo_stalls")
    f = findings(result)["R6"]
    assert f["status"] in ("WARNING", "CRITICAL") and f["value"] == _stalls_logged(bad)
    assert result.exit_code in (1, 2)


def _blob_burst(server: SandboxServer, db: str, seconds: float, threads: int = 6, size: int = 4_000_000) -> None:
    stop = time.monotonic() + seconds

    def work() -> None:
        conn = server.connect(db)
        try:
            with conn.cursor() as cur:
                while time.monotonic() < stop:
                    cur.execute("INSERT INTO blobs (b) VALUES (REPEAT('x', %s))", (size,))
                    cur.execute("DELETE FROM blobs ORDER BY id LIMIT 1")
        finally:
            conn.close()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


def test_log_waits_rule_fires(bad: SandboxServer, run_cli: Callable[..., Any]) -> None:
    """MySQL (256 KiB log buffer): large concurrent BLOB writes make InnoDB wait for log buffer space.

    MariaDB 10.11 does not go below a 2 MiB buffer and writes it out whenever half of it is used, so it waits only
    when one mini-transaction needs more than ~1 MiB (rare): one short burst is tried, and the rule must then agree
    with the server's own counter either way.
    """
    db = create_database(bad)
    conn = bad.connect(db)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE blobs (id INT AUTO_INCREMENT PRIMARY KEY, b LONGBLOB)")
        cur.execute("SET GLOBAL max_allowed_packet = 67108864")
    conn.close()
    budget = 40 if bad.flavor == "mysql" else 2
    deadline = time.monotonic() + budget
    while int(variable(bad, "Innodb_log_waits")) == 0 and time.monotonic() < deadline:
        _blob_burst(bad, db, seconds=2, threads=6 if bad.flavor == "mysql" else 8,
                    size=4_000_000 if bad.flavor == "mysql" else 8_000_000)
    waits = int(variable(bad, "Innodb_log_waits"))
    result = run_cli("check", *bad.cli_args(), "--format", "json", "--only", "log_waits")
    f = findings(result)["R3"]
    assert f["evidence"]["waits"] == waits
    if bad.flavor == "mysql":
        assert waits > 0, "the blob burst did not make InnoDB wait for log buffer space"
    if waits:
        assert f["status"] in ("WARNING", "CRITICAL") and f["value"] > 0
        assert result.exit_code in (1, 2)
    else:
        assert f["status"] == "OK" and f["value"] == 0 and result.exit_code == 0


def test_redo_disabled_and_resize_rules_fire(bad: SandboxServer, run_cli: Callable[..., Any]) -> None:
    if bad.flavor == "mariadb":
        result = run_cli("check", *bad.cli_args(), "--format", "json", "--only", "R4,R5")
        f = findings(result)
        assert result.exit_code == 0 and not f["R4"]["applicable"] and not f["R5"]["applicable"]
        return
    conn = bad.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("ALTER INSTANCE DISABLE INNODB REDO_LOG")
        try:
            result = run_cli("check", *bad.cli_args(), "--format", "json", "--only", "redo_log_enabled")
        finally:
            with conn.cursor() as cur:
                cur.execute("ALTER INSTANCE ENABLE INNODB REDO_LOG")
        assert result.exit_code == 2
        assert findings(result)["R4"]["status"] == "CRITICAL" and findings(result)["R4"]["value"] == "OFF"
        assert _resize_seen_by_check(bad, conn, run_cli)
    finally:
        conn.close()


def _resize_seen_by_check(bad: SandboxServer, conn: pymysql.connections.Connection,
                          run_cli: Callable[..., Any]) -> bool:
    """Grow the redo log, fill it under load, shrink it: `check` sees "Resizing down" while it lasts."""
    db = create_database(bad)
    for _ in range(5):
        with conn.cursor() as cur:
            cur.execute("SET GLOBAL innodb_redo_log_capacity = 33554432")
        with write_load(bad, db, payload_bytes=2000, rows_per_txn=20):
            time.sleep(1.5)
            with conn.cursor() as cur:
                cur.execute("SET GLOBAL innodb_redo_log_capacity = 8388608")
            result = run_cli("check", *bad.cli_args(), "--format", "json", "--only", "redo_resize")
        f = findings(result)["R5"]
        if f["status"] == "WARNING":
            assert f["value"] != "OK" and result.exit_code == 1
            return True
    return False


def test_binlog_off_rule_fires(bad: SandboxServer, run_cli: Callable[..., Any]) -> None:
    """Needs a restart with binary logging disabled (the flag comes after the sandbox's --log-bin)."""
    original = list(bad.extra_args)
    bad.restart([*original, BINLOG_OFF[bad.flavor]])
    try:
        assert variable(bad, "log_bin") == "OFF"
        result = run_cli("check", *bad.cli_args(), "--format", "json",
                         "--only", "binlog,sync_binlog,binlog_format,binlog_retention,binlog_cache_spills")
        f = findings(result)
        assert f["R10"]["status"] == "WARNING" and f["R10"]["value"] == "OFF"
        for rule in ("R8", "R11a", "R12", "R14"):
            assert f[rule]["applicable"] is False and f[rule]["status"] == "OK"
        assert result.exit_code == 1
    finally:
        bad.restart(original)
