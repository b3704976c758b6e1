"""`binlog replay --execute --apply-mode events` (row events sent as BINLOG statements) against real servers: the
same result as the SQL path and the source, exactly-once across kill -9, and auto's fallback to SQL."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from mysqlinspect.exit_codes import ExitCode
from tests.live.replay_support import (
    LOGGED_TRANSACTIONS,
    Workload,
    assert_each_transaction_applied_once,
    binlog_position,
    create_schema,
    killed_then_finished,
    logged_range,
    table_dump,
    target_checkpoint_progress,
)

pytestmark = pytest.mark.live


def replay_args(server: Any, db: str, start: tuple[str, int], stop: tuple[str, int], into: str,
                target: str | None = None) -> list[str]:
    return ["binlog", "replay", *server.cli_args(), "--start-file", start[0], "--start-pos", str(start[1]),
            "--stop-file", stop[0], "--stop-pos", str(stop[1]), "--table", f"{db}.*", "--rewrite-db", f"{db}={into}",
            "--execute", "--target", target or f"127.0.0.1:{server.port}", "--allow-same-server", "--yes",
            "--format", "json"]


def test_events_mode_round_trip_equals_source_and_sql_mode(server: Any, db: str, extra_dbs: list[str],
                                                           run_cli: Any) -> None:
    conn = server.connect()
    ev, sql = f"{db}_ev", f"{db}_sql"
    extra_dbs += [ev, sql]
    for name in (db, ev, sql):
        create_schema(conn, name, server.flavor)
    start = binlog_position(conn)
    workload = Workload(conn, db, seed=11, flavor=server.flavor)
    workload.run(60)
    with conn.cursor() as cur:  # a DDL transaction in the middle goes through the SQL path
        cur.execute(f"USE `{db}`")  # unqualified: --rewrite-db rewrites the DDL's default database
        cur.execute("CREATE TABLE t_late (id INT PRIMARY KEY, v VARCHAR(10))")
        cur.execute("INSERT INTO t_late VALUES (1, 'one'), (2, 'two')")
    workload.run(60)
    stop = binlog_position(conn)
    source = table_dump(conn, db)

    events = run_cli(*replay_args(server, db, start, stop, ev), "--apply-mode", "events")
    assert events.exit_code == 0, events.stderr
    by_events = events.json()
    assert by_events["apply_mode"] == "binlog-events" and by_events["ddl"] == 1
    assert table_dump(conn, ev) == source

    auto_sql = run_cli(*replay_args(server, db, start, stop, sql), "--apply-mode", "sql")
    assert auto_sql.exit_code == 0, auto_sql.stderr
    by_sql = auto_sql.json()
    assert by_sql["apply_mode"] == "sql"
    assert table_dump(conn, sql) == source == table_dump(conn, ev)
    for key in ("transactions", "row_changes", "ddl", "counts"):
        assert by_events[key] == by_sql[key], key
    conn.close()


def test_events_mode_killed_and_resumed_applies_each_transaction_once(server: Any, db: str, extra_dbs: list[str],
                                                                      tmp_path: Path) -> None:
    conn = server.connect()
    dst = f"{db}_dst"
    extra_dbs.append(dst)
    start, stop = logged_range(conn, db, dst, server.flavor)
    checkpoint = tmp_path / "events.checkpoint"
    argv = [sys.executable, "-m", "mysqlinspect", *replay_args(server, db, start, stop, dst), "--apply-mode",
            "events", "--rate", "300", "--checkpoint", str(checkpoint)]
    kills, final = killed_then_finished(argv, (0.2, 0.4), checkpoint, target_checkpoint_progress(server))
    summary = json.loads(final.stdout)
    assert kills >= 1, "the replay finished before it could be killed: make the workload longer"
    assert summary["apply_mode"] == "binlog-events"
    assert summary["checkpoint"]["transactions"] == LOGGED_TRANSACTIONS
    assert_each_transaction_applied_once(conn, db, dst)
    conn.close()


def test_auto_falls_back_to_sql_without_the_binlog_privilege(server: Any, db: str, extra_dbs: list[str],
                                                              run_cli: Any) -> None:
    conn = server.connect()
    dst = f"{db}_dst"
    extra_dbs.append(dst)
    user = f"nb_{db[-20:]}"
    with conn.cursor() as cur:
        cur.execute(f"CREATE TABLE `{db}`.t (id INT PRIMARY KEY, v VARCHAR(10))")
        cur.execute(f"CREATE DATABASE `{dst}`")
        cur.execute(f"CREATE TABLE `{dst}`.t (id INT PRIMARY KEY, v VARCHAR(10))")
        cur.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'pw-nb-1'")
        cur.execute(f"GRANT ALL ON `{dst}`.* TO '{user}'@'%'")
    try:
        start = binlog_position(conn)
        with conn.cursor() as cur:
            cur.execute(f"INSERT INTO `{db}`.t VALUES (1, 'a'), (2, 'b')")
            cur.execute(f"UPDATE `{db}`.t SET v = 'c' WHERE id = 2")
        stop = binlog_position(conn)
        target = f"mysql://{user}:pw-nb-1@127.0.0.1:{server.port}"
        refused = run_cli(*replay_args(server, db, start, stop, dst, target), "--apply-mode", "events")
        assert refused.exit_code == ExitCode.NO_PERMISSION, refused.stderr
        assert "BINLOG" in refused.stderr
        auto = run_cli(*replay_args(server, db, start, stop, dst, target))
        assert auto.exit_code == 0, auto.stderr
        summary = auto.json()
        assert summary["apply_mode"] == "sql" and "BINLOG" in summary["apply_mode_note"]
        assert "applying as SQL" in auto.stderr
        assert table_dump(conn, dst) == table_dump(conn, db)
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP USER '{user}'@'%'")
        conn.close()


def test_events_mode_refuses_what_it_cannot_reproduce(server: Any, db: str, extra_dbs: list[str],
                                                      run_cli: Any) -> None:
    conn = server.connect(db)
    dst = f"{db}_x"
    extra_dbs.append(dst)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE t (id INT PRIMARY KEY)")
        cur.execute(f"CREATE DATABASE `{dst}`")
        cur.execute(f"CREATE TABLE `{dst}`.t (id INT PRIMARY KEY)")
        start = binlog_position(conn)
        cur.execute("INSERT INTO t VALUES (1), (2)")
        stop = binlog_position(conn)
    args = replay_args(server, db, start, stop, dst)
    refused = run_cli(*args, "--apply-mode", "events", "--op", "insert")
    assert refused.exit_code == ExitCode.USAGE and "--op" in refused.stderr
    auto = run_cli(*args, "--op", "insert")
    assert auto.exit_code == 0, auto.stderr
    assert auto.json()["apply_mode"] == "sql" and "--op" in auto.json()["apply_mode_note"]
    assert table_dump(conn, dst) == table_dump(conn, db)
    conn.close()
