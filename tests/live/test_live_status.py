"""Live redo / undo / doublewrite status against the shared servers, cross-checked with the server's own view."""

from __future__ import annotations

import itertools
import re
import time
from typing import Any

import pymysql

from mysqlinspect.collectors.innodb_status import parse_history_list_length
from tests.servers import wait_for


def status_vars(server: Any) -> dict[str, str]:
    conn = server.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW GLOBAL STATUS")
            return {str(k).lower(): str(v) for k, v in cur.fetchall()}
    finally:
        conn.close()


def variable(server: Any, name: str) -> str | None:
    conn = server.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW GLOBAL VARIABLES LIKE %s", (name,))
            row = cur.fetchone()
            return None if row is None else str(row[1])
    finally:
        conn.close()


def engine_status(server: Any) -> str:
    conn = server.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW ENGINE INNODB STATUS")
            return str(cur.fetchone()[2])
    finally:
        conn.close()


def wait_for_commits(writer: Any, count: int = 50) -> None:
    wait_for(lambda: writer.committed >= count or writer.errors, timeout=60)
    assert not writer.errors, writer.errors


def redo_json(run_cli: Any, server: Any) -> dict[str, Any]:
    result = run_cli("redo", "status", *server.cli_args(), "--format", "json")
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = result.json()
    return data


def test_redo_status_matches_server_under_load(server: Any, writer: Any, run_cli: Any) -> None:
    writer.start()
    wait_for_commits(writer)
    seen: list[Any] = []

    def sample_with_age() -> bool:
        before_status = status_vars(server)
        data = redo_json(run_cli, server)
        after_status = status_vars(server)
        seen[:] = [before_status, data, after_status]
        return bool(data["checkpoint_age_bytes"])

    wait_for(sample_with_age, timeout=30, interval=0.5)
    before, data, after = seen
    for key in ("current_lsn", "flushed_lsn", "checkpoint_lsn", "checkpoint_age_bytes", "capacity_bytes",
                "checkpoint_age_pct"):
        assert isinstance(data[key], (int, float)), key
        assert key in data["sources"], key
    # LSNs only move forward: the tool's read lies between two reads of the same source (its status variable;
    # SHOW ENGINE INNODB STATUS computes its "Log sequence number" differently and may lag it by a block).
    for key in ("current_lsn", "checkpoint_lsn"):
        name = data["sources"][key].split()[-1].lower()
        assert name.startswith("innodb_"), data["sources"][key]
        assert int(before[name]) <= data[key] <= int(after[name]), (key, before[name], data[key], after[name])
    assert data["checkpoint_lsn"] <= data["flushed_lsn"] <= data["current_lsn"]
    assert data["checkpoint_age_bytes"] == data["current_lsn"] - data["checkpoint_lsn"] > 0
    assert data["checkpoint_age_pct"] == round(100 * data["checkpoint_age_bytes"] / data["capacity_bytes"], 2)
    status = status_vars(server)
    if server.flavor == "mysql":
        assert data["capacity_bytes"] == int(status["innodb_redo_log_capacity_resized"])
        assert data["sources"]["current_lsn"].endswith("Innodb_redo_log_current_lsn")
        assert data["redo_enabled"] is True and data["resize_status"] == "OK"
        assert data["files"], "performance_schema.innodb_redo_log_files rows expected"
        last = data["files"][-1]
        assert last["start_lsn"] <= data["current_lsn"] and last["name"].endswith(f"#ib_redo{last['file_id']}")
    else:
        assert data["capacity_bytes"] == int(variable(server, "innodb_log_file_size") or 0)
        assert data["sync_flush_point_bytes"] == int(status["innodb_checkpoint_max_age"])
    assert 0 < data["async_flush_point_bytes"] < data["sync_flush_point_bytes"] < data["capacity_bytes"]
    assert data["bytes_written"] <= int(status["innodb_os_log_written"])
    assert data["log_waits"] <= int(status["innodb_log_waits"])
    assert data["flush_policy"]["value"] == int(variable(server, "innodb_flush_log_at_trx_commit") or -1)
    assert {t["name"] for t in data["flush_triggers"]} >= {"redo checkpoint age", "dirty pages % of buffer pool"}
    assert data["missing_grants"] == []


def test_redo_status_table(server: Any, run_cli: Any) -> None:
    result = run_cli("redo", "status", *server.cli_args(), "--format", "table")
    assert result.exit_code == 0, result.stderr
    for text in ("checkpoint age", "sync flushing", "innodb_flush_log_at_trx_commit", "Flush triggers"):
        assert text in result.stdout


def hold_read_view(server: Any, db: str) -> pymysql.connections.Connection:
    """A transaction with one modified row and an open read view (purge cannot remove newer history)."""
    conn = server.connect(db)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE holder (id INT PRIMARY KEY)")
        cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT")
        cur.execute("INSERT INTO holder VALUES (1)")
        cur.execute("SELECT COUNT(*) FROM holder")
        cur.fetchall()
    return conn


def test_undo_open_read_view_raises_history(server: Any, db: str, writer: Any, run_cli: Any) -> None:
    holder = hold_read_view(server, db)
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT CONNECTION_ID()")
            thread_id = int(cur.fetchone()[0])
        start_hll = parse_history_list_length(engine_status(server)) or 0
        writer.start()
        wait_for_commits(writer, 100)
        time.sleep(1.1)  # so the holder's age is at least one second
        seen: dict[str, Any] = {}

        def history_grew() -> bool:
            before = parse_history_list_length(engine_status(server))
            result = run_cli("undo", *server.cli_args(), "--format", "json")
            assert result.exit_code == 0, result.stderr
            after = parse_history_list_length(engine_status(server))
            seen.update(data=result.json(), before=before, after=after)
            return bool(result.json()["history_list_length"] > start_hll + 50)

        wait_for(history_grew, timeout=30, interval=0.5)
        # The length is not monotonic (purge still removes logs older than the held read view), so the tool's
        # read is compared with the server's once it is steady: no more commits, only what the view holds back.
        writer.stop()

        def steady() -> bool:
            before = parse_history_list_length(engine_status(server))
            result = run_cli("undo", *server.cli_args(), "--format", "json")
            after = parse_history_list_length(engine_status(server))
            seen.update(data=result.json(), before=before, after=after)
            return bool(before == after == result.json()["history_list_length"])

        wait_for(steady, timeout=60, interval=1.0)
        data = seen["data"]
        assert data["history_list_length"] > start_hll + 50
        assert "history_list_length" in data["sources"]
        mine = [t for t in data["oldest_transactions"] if t["thread_id"] == thread_id]
        assert mine, data["oldest_transactions"]
        assert mine[0]["age_seconds"] >= 1
        assert mine[0]["rows_modified"] == 1 and mine[0]["undo_records"] == 1
        assert data["oldest_transactions"][0]["age_seconds"] >= mine[0]["age_seconds"]
        assert data["oldest_transaction_age_seconds"] >= 1
        assert data["tablespaces"], "undo tablespaces expected"
        if server.flavor == "mysql":
            names = {t["name"] for t in data["tablespaces"]}
            assert {"innodb_undo_001", "innodb_undo_002"} <= names
            assert all(t["state"] == "active" and t["size_bytes"] > 0 for t in data["tablespaces"])
            assert data["undo_tablespaces_active"] == int(status_vars(server)["innodb_undo_tablespaces_active"])
        table = run_cli("undo", *server.cli_args(), "--format", "table")
        assert table.exit_code == 0 and "history list length" in table.stdout and str(thread_id) in table.stdout
    finally:
        holder.rollback()
        holder.close()


def test_doublewrite_counters_match_server(server: Any, writer: Any, run_cli: Any) -> None:
    writer.start()
    wait_for_commits(writer)
    before = status_vars(server)
    result = run_cli("doublewrite", *server.cli_args(), "--format", "json")
    after = status_vars(server)
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["mode"] == "ON" and data["repairs_torn_pages"] is True
    pages_before, pages_after = int(before["innodb_dblwr_pages_written"]), int(after["innodb_dblwr_pages_written"])
    assert pages_before <= data["pages_written"] <= pages_after
    assert int(before["innodb_dblwr_writes"]) <= data["writes"] <= int(after["innodb_dblwr_writes"])
    if data["writes"]:
        assert data["pages_per_write"] == round(data["pages_written"] / data["writes"], 2)
    if server.flavor == "mysql":
        assert data["files_setting"] == int(variable(server, "innodb_doublewrite_files") or 0)
        assert data["pages_setting"] == int(variable(server, "innodb_doublewrite_pages") or 0)
        assert data["files"] and all(re.fullmatch(r"#ib_\d+_\d+\.b?dblwr", f["name"]) for f in data["files"])
    else:
        assert "system tablespace" in data["location"]
    table = run_cli("doublewrite", *server.cli_args(), "--format", "table")
    assert table.exit_code == 0 and "pages per write" in table.stdout


def test_durability_report_matches_settings(server: Any, run_cli: Any) -> None:
    result = run_cli("durability", *server.cli_args(), "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    names = [s["name"] for s in data["scenarios"]]
    assert names[:3] == ["mysqld_crash", "os_crash", "torn_page"]
    settings = {s["name"]: s["value"] for s in data["settings"]}
    for name in ("log_bin", "sync_binlog", "innodb_flush_log_at_trx_commit", "innodb_doublewrite"):
        assert settings[name] == variable(server, name), name
    assert data["binlog_enabled"] is True and data["two_phase_commit"].startswith("on")
    os_crash = next(s for s in data["scenarios"] if s["name"] == "os_crash")
    if data["sync_binlog"] == 1 and data["flush_log_at_trx_commit"] == 1:
        assert os_crash["verdict"] == "safe"
    else:
        assert os_crash["verdict"] == "loss"
        assert any(c["setting"] == f"sync_binlog={data['sync_binlog']}" for c in os_crash["consequences"]) or any(
            c["setting"].startswith("innodb_flush_log_at_trx_commit") for c in os_crash["consequences"])
    assert data["prepared_xa_transactions"] == 0
    table = run_cli("durability", *server.cli_args(), "--format", "table")
    assert table.exit_code == 0 and "OS crash or power loss" in table.stdout


def test_watch_json_lines_have_rates(server: Any, writer: Any, run_cli: Any) -> None:
    writer.start()
    wait_for_commits(writer)
    result = run_cli("watch", *server.cli_args(), "--count", "3", "--interval", "0.4", "--format", "json")
    assert result.exit_code == 0, result.stderr
    samples = result.jsonl()
    assert [s["sample"] for s in samples] == [1, 2, 3]
    assert samples[0]["interval_seconds"] is None and samples[0]["rates"]["redo_bytes_per_second"] is None
    for prev, cur in itertools.pairwise(samples):
        assert cur["current_lsn"] >= prev["current_lsn"]
        assert 0.3 <= cur["interval_seconds"] <= 5
        expected = (cur["current_lsn"] - prev["current_lsn"]) / (cur["timestamp"] - prev["timestamp"])
        assert abs(cur["rates"]["redo_bytes_per_second"] - expected) <= max(1.0, expected * 0.01)
        assert cur["history_list_length"] is not None and cur["dblwr_pages_written"] is not None
        assert cur["oldest_transaction_age_seconds"] >= 0
    assert any(s["rates"]["redo_bytes_per_second"] for s in samples[1:]), "redo written under load"
    table = run_cli("watch", *server.cli_args(), "--count", "2", "--interval", "0.2", "--format", "table")
    assert table.exit_code == 0, table.stderr
    assert "sample 1" in table.stdout and "sample 2" in table.stdout and "redo generated" in table.stdout


def test_undo_table_prints_statements_that_look_like_markup(server: Any, db: str, run_cli: Any) -> None:
    """Regression: a running statement containing "[/x]" was read as rich markup and crashed the table (exit 70)."""
    import threading

    conn = server.connect(db)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE t (id INT PRIMARY KEY)")
        cur.execute("BEGIN")
        cur.execute("INSERT INTO t VALUES (1)")
    sleeper = threading.Thread(target=lambda: conn.cursor().execute("SELECT SLEEP(4), '[/oops] [bold]x'"))
    sleeper.start()
    try:
        def statement_visible() -> bool:
            data = run_cli("undo", *server.cli_args(), "--format", "json").json()
            return any("[/oops]" in (t["statement"] or "") for t in data["oldest_transactions"])

        wait_for(statement_visible, timeout=3, interval=0.2)
        table = run_cli("undo", *server.cli_args(), "--format", "table")
        assert table.exit_code == 0, table.stderr
        assert "[/oops]" in table.stdout and "[bold]x" in table.stdout
    finally:
        sleeper.join()
        conn.rollback()
        conn.close()


def test_doublewrite_file_sizes_are_the_servers_files(server: Any, run_cli: Any) -> None:
    """The server runs on this host: each dblwr file's size is the size of that file in its directory."""
    import os

    data = run_cli("doublewrite", *server.cli_args(), "--format", "json").json()
    if server.flavor == "mariadb":
        assert data["files"] == []
        return
    directory = variable(server, "innodb_doublewrite_dir") or variable(server, "datadir") or ""
    assert data["files"]
    for f in data["files"]:
        path = f["path"] if os.path.isabs(f["path"]) else os.path.join(directory, f["path"])
        assert f["size_bytes"] == os.stat(path).st_size, f
