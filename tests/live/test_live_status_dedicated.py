"""One dedicated server per flavor with several non-default crash-safety settings: the conclusions follow them."""

from __future__ import annotations

from typing import Any

import pytest

from mysqlinspect.collectors import redo_limits
from tests.servers import create_database, wait_for, write_load

# Several settings at once, different per flavor so that both spellings of each conclusion are covered.
UNSAFE_ARGS = {
    "mysql": ["--sync-binlog=0", "--innodb-flush-log-at-trx-commit=2", "--innodb-doublewrite=OFF",
              "--binlog-checksum=NONE", "--innodb-log-checksums=OFF", "--innodb-redo-log-capacity=8M",
              "--gtid-mode=OFF", "--enforce-gtid-consistency=OFF"],
    "mariadb": ["--sync-binlog=5", "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0",
                "--binlog-checksum=NONE", "--innodb-log-file-size=8M", "--binlog-format=MIXED"],
}
SMALL_REDO = 8 * 1024 * 1024

pytestmark = pytest.mark.dedicated


def settings_of(scenario: dict[str, Any]) -> set[str]:
    return {c["setting"] for c in scenario["consequences"] if c["severity"] in ("loss", "risk", "info")}


def by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in report["scenarios"]}


def check_mysql_report(report: dict[str, Any]) -> None:
    s = by_name(report)
    assert s["mysqld_crash"]["verdict"] == "safe"  # =2 hands the redo to the OS at commit
    assert s["os_crash"]["verdict"] == "loss"
    assert {"innodb_flush_log_at_trx_commit=2", "sync_binlog=0", "innodb_log_checksums=OFF"} <= settings_of(
        s["os_crash"])
    assert s["torn_page"]["verdict"] == "loss"
    assert {"innodb_doublewrite=OFF", "binlog_checksum=NONE"} <= settings_of(s["torn_page"])
    assert "gtid_mode=OFF" in settings_of(s["replication"])


def check_mariadb_report(report: dict[str, Any]) -> None:
    s = by_name(report)
    assert s["mysqld_crash"]["verdict"] == "loss"  # =0: the log buffer dies with the process
    texts = " ".join(c["what"] for c in s["mysqld_crash"]["consequences"])
    assert "binary log keeps transactions the engine lost" in texts
    assert s["os_crash"]["verdict"] == "loss"
    assert any("up to 4 commit groups" in c["what"] for c in s["os_crash"]["consequences"])
    # Doublewrite off, but innodb_use_atomic_writes=ON: a risk that depends on the storage, not a certain loss.
    assert s["torn_page"]["verdict"] == "risk"
    assert {"innodb_doublewrite=OFF", "binlog_checksum=NONE"} <= settings_of(s["torn_page"])
    assert "binlog_format=MIXED" in settings_of(s["replication"])


def enable_flush_point_metrics(server: Any) -> None:
    conn = server.connect()
    with conn.cursor() as cur:
        cur.execute("SET GLOBAL innodb_monitor_enable = 'log_max_modified_age%'")
    conn.close()


def metric(server: Any, name: str) -> int | None:
    conn = server.connect()
    with conn.cursor() as cur:
        cur.execute("SELECT `COUNT` FROM information_schema.INNODB_METRICS WHERE NAME = %s", (name,))
        row = cur.fetchone()
    conn.close()
    return None if row is None else int(row[0])


def test_unsafe_settings_change_every_conclusion(sandbox_flavor: str, make_server: Any, run_cli: Any) -> None:
    server = make_server(sandbox_flavor, extra_args=UNSAFE_ARGS[sandbox_flavor])
    args = server.cli_args()

    result = run_cli("durability", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = result.json()
    assert report["verdict"] == "loss"
    (check_mysql_report if sandbox_flavor == "mysql" else check_mariadb_report)(report)
    assert "LOSS" in run_cli("durability", *args, "--format", "table").stdout

    dblwr = run_cli("doublewrite", *args, "--format", "json").json()
    assert dblwr["mode"] == "OFF" and dblwr["repairs_torn_pages"] is False and dblwr["enabled"] is False

    with write_load(server, create_database(server)) as writer:
        wait_for(lambda: writer.committed >= 200 or writer.errors, timeout=60)
        assert not writer.errors, writer.errors
        redo = run_cli("redo", "status", *args, "--format", "json").json()
    assert redo["capacity_bytes"] == SMALL_REDO
    assert redo["flush_policy"]["value"] == (2 if sandbox_flavor == "mysql" else 0)
    assert "~1s of committed transactions" in redo["flush_policy"]["os_crash_loss"]
    assert redo["checkpoint_age_pct_of_sync"] is not None
    assert redo["flush_triggers"][0]["state"] in ("idle", "near", "active", "stalling")

    # The flush points the tool computes are the ones the server itself reports once the counters are enabled.
    enable_flush_point_metrics(server)
    if sandbox_flavor == "mysql":
        expected = redo_limits.mysql_8030_points(SMALL_REDO)
        assert metric(server, "log_max_modified_age_async") == expected.async_bytes
        assert metric(server, "log_max_modified_age_sync") == expected.sync_bytes
        redo = run_cli("redo", "status", *args, "--format", "json").json()
        assert redo["sources"]["sync_flush_point_bytes"].startswith("INFORMATION_SCHEMA.INNODB_METRICS")
        assert redo["sync_flush_point_bytes"] == expected.sync_bytes
        check_resize_and_disabled_redo(server, run_cli)
    else:
        assert metric(server, "log_max_modified_age_async") == redo["async_flush_point_bytes"]


def execute(server: Any, sql: str) -> None:
    conn = server.connect()
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


def check_resize_and_disabled_redo(server: Any, run_cli: Any) -> None:
    """MySQL 8.0.30+: a resize up is immediate; disabling redo logging shows in redo status and durability."""
    execute(server, "SET GLOBAL innodb_redo_log_capacity = 16777216")
    redo = run_cli("redo", "status", *server.cli_args(), "--format", "json").json()
    assert redo["capacity_bytes"] == redo["configured_capacity_bytes"] == 2 * SMALL_REDO
    assert redo["resize_status"] == "OK"
    execute(server, "ALTER INSTANCE DISABLE INNODB REDO_LOG")
    try:
        redo = run_cli("redo", "status", *server.cli_args(), "--format", "json").json()
        assert redo["redo_enabled"] is False
        report = run_cli("durability", *server.cli_args(), "--format", "json").json()
        assert report["scenarios"][0]["name"] == "redo_disabled" and report["verdict"] == "loss"
    finally:
        execute(server, "ALTER INSTANCE ENABLE INNODB REDO_LOG")
