"""`binlog replay` and `--flashback` against real servers: exact round trips (checked against mysqlbinlog | mysql),
flashback to a snapshot, the verify-current stop, preflight refusals and the SQL file contract."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from mysqlinspect.binlog.replay.replay import verify_sql_file
from mysqlinspect.exit_codes import ExitCode
from mysqlinspect.sandbox.distributions import distribution
from tests.live.replay_support import (
    Workload,
    binlog_position,
    create_schema,
    reference_replay,
    run_workload,
    table_dump,
)

pytestmark = pytest.mark.live


def range_args(start: tuple[str, int], stop: tuple[str, int]) -> list[str]:
    return ["--start-file", start[0], "--start-pos", str(start[1]), "--stop-file", stop[0], "--stop-pos", str(stop[1])]


def target_args(server: Any) -> list[str]:
    return ["--execute", "--target", f"127.0.0.1:{server.port}", "--allow-same-server", "--yes"]


def client_argv(flavor: str) -> list[str]:
    return ["mariadb"] if flavor == "mariadb" else distribution("mysql").program("mysql")


def test_round_trip_equals_source_and_mysqlbinlog(server: Any, db: str, extra_dbs: list[str], run_cli: Any,
                                                  tmp_path: Path) -> None:
    conn = server.connect()
    dst, ref, sql_db = f"{db}_dst", f"{db}_ref", f"{db}_sql"
    extra_dbs += [dst, ref, sql_db]
    for name in (db, dst, ref, sql_db):
        create_schema(conn, name, server.flavor)
    start = binlog_position(conn)
    run_workload(conn, db, seed=7, transactions=150, flavor=server.flavor)
    stop = binlog_position(conn)
    source = table_dump(conn, db)
    assert sum(len(rows) for rows in source.values()) > 50

    result = run_cli("binlog", "replay", *server.cli_args(), *range_args(start, stop), "--table", f"{db}.*",
                     "--rewrite-db", f"{db}={dst}", *target_args(server), "--format", "json")
    assert result.exit_code == 0, result.stderr
    summary = result.json()
    assert summary["executed"] and 140 <= summary["transactions"] <= 150
    assert table_dump(conn, dst) == source

    reference_replay(server, conn, start, stop, db, ref)
    assert table_dump(conn, ref) == source

    out = tmp_path / "replay.sql"
    result = run_cli("binlog", "replay", *server.cli_args(), *range_args(start, stop), "--table", f"{db}.*",
                     "--rewrite-db", f"{db}={sql_db}", "--output", str(out), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert verify_sql_file(str(out))
    header = out.read_text().split("SET NAMES", 1)[0]
    assert f"-- body sha256: {result.json()['sha256']}" in header and f"{db}.t_all: insert=" in header
    subprocess.run([*client_argv(server.flavor), "--no-defaults", "-h", "127.0.0.1", "-P", str(server.port),
                    "-u", "root", "--binary-mode"], stdin=out.open("rb"), check=True, capture_output=True,
                   timeout=120)
    assert table_dump(conn, sql_db) == source
    conn.close()


def test_tricky_values_round_trip(server: Any, db: str, extra_dbs: list[str], run_cli: Any) -> None:
    """The cases binlog2sql gets wrong: floats in WHERE, BIT, binary, JSON (null document too), zero dates."""
    conn = server.connect(db)
    dst = f"{db}_dst"
    extra_dbs.append(dst)
    ddl = ("CREATE TABLE {}.t (f FLOAT, d DOUBLE, b BIT(9), bin VARBINARY(8), j JSON, dt DATETIME(6), da DATE, "
           "ts TIMESTAMP(6) NULL, tm TIME(3), note VARCHAR(10))")
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{dst}`")
        for name in (db, dst):
            cur.execute(ddl.format(f"`{name}`"))
            cur.execute(f"CREATE TABLE `{name}`.bk (id BINARY(4) PRIMARY KEY, v INT)")  # 0x00 padding in keys
        cur.execute("SET SESSION sql_mode = ''")
        start = binlog_position(conn)
        cur.execute("INSERT INTO bk VALUES (X'AB00', 1), (X'AB0000FF', 2), (X'00', 3)")
        cur.execute("UPDATE bk SET v = v + 10")
        cur.execute("DELETE FROM bk WHERE v = 13")
        cur.execute("INSERT INTO t VALUES (0.1, 0.1, b'101010101', X'00FF0027005C', 'null', '0000-00-00 00:00:00', "
                    "'0000-00-00', '0000-00-00 00:00:00', '-00:00:01.250', 'a'), (3.4e38, -0e0, b'0', '', "
                    "'{\"k\": [1.5, \"\\\\u00e9\", null]}', '2024-02-29 23:59:59.999999', '1000-01-01', "
                    "'2038-01-19 03:14:07.999999', '838:59:59', 'b'), (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
                    "NULL, 'c')")
        cur.execute("UPDATE t SET note = 'x' WHERE note = 'a'")  # no key: every column in WHERE, floats included
        cur.execute("UPDATE t SET note = 'y' WHERE note = 'b'")
        cur.execute("DELETE FROM t WHERE note = 'c'")
        stop = binlog_position(conn)
    result = run_cli("binlog", "replay", *server.cli_args(), *range_args(start, stop), "--table", f"{db}.*",
                     "--rewrite-db", f"{db}={dst}", *target_args(server), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert table_dump(conn, dst) == table_dump(conn, db)
    undo = run_cli(*flashback_args(server, db, start, stop))
    assert undo.exit_code == 0, undo.stderr
    with conn.cursor() as cur:
        cur.execute("SELECT (SELECT COUNT(*) FROM t) + (SELECT COUNT(*) FROM bk)")
        assert cur.fetchone()[0] == 0
    conn.close()


def flashback_args(server: Any, db: str, start: tuple[str, int], stop: tuple[str, int]) -> list[str]:
    return ["binlog", "replay", *server.cli_args(), *range_args(start, stop), "--table", f"{db}.*", "--flashback",
            *target_args(server), "--format", "json"]


def test_flashback_restores_snapshot_and_stops_on_later_change(server: Any, db: str, run_cli: Any) -> None:
    conn = server.connect()
    create_schema(conn, db, server.flavor)
    workload = Workload(conn, db, seed=11, flavor=server.flavor)
    workload.run(40)
    snapshot = table_dump(conn, db)
    start = binlog_position(conn)
    workload.run(80)
    stop = binlog_position(conn)
    changed = table_dump(conn, db)
    assert changed != snapshot

    row_id = workload.ids[-1]  # inserted or changed inside the range
    with conn.cursor() as cur:
        cur.execute(f"UPDATE `{db}`.t_all SET vc = CONCAT(IFNULL(vc, ''), '!') WHERE id = %s", (row_id,))
    edited = table_dump(conn, db)
    result = run_cli(*flashback_args(server, db, start, stop))
    assert result.exit_code == ExitCode.DATA_ERROR, result.stderr
    assert "Nothing was applied" in result.stderr and f"{db}.t_all row (id={row_id})" in result.stderr
    assert table_dump(conn, db) == edited  # the pre-check stopped it before any change

    with conn.cursor() as cur:
        cur.execute(f"UPDATE `{db}`.t_all SET vc = LEFT(vc, CHAR_LENGTH(vc) - 1) WHERE id = %s", (row_id,))
    assert table_dump(conn, db) == changed
    result = run_cli(*flashback_args(server, db, start, stop))
    assert result.exit_code == 0, result.stderr
    assert result.json()["mode"] == "flashback" and result.json()["prechecked_keys"] > 0
    assert table_dump(conn, db) == snapshot
    conn.close()


def test_flashback_refuses_ddl_in_range_unless_skipped(server: Any, db: str, run_cli: Any) -> None:
    conn = server.connect(db)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE t (id INT PRIMARY KEY, v INT)")
        start = binlog_position(conn)
        cur.execute("INSERT INTO t VALUES (1, 1), (2, 2)")
        cur.execute("ALTER TABLE t ADD COLUMN w INT")
        cur.execute("UPDATE t SET v = 5 WHERE id = 2")
        stop = binlog_position(conn)
    result = run_cli("binlog", "replay", *server.cli_args(), *range_args(start, stop), "--table", f"{db}.*",
                     "--flashback")
    assert result.exit_code == ExitCode.USAGE
    assert "DDL" in result.stderr and "--skip-ddl" in result.stderr and result.stdout == ""
    result = run_cli("binlog", "replay", *server.cli_args(), *range_args(start, stop), "--table", f"{db}.*",
                     "--flashback", "--skip-ddl")
    assert result.exit_code == 0, result.stderr
    body = [line for line in result.stdout.splitlines() if line and not line.startswith(("--", "SET "))]
    assert body == ["BEGIN;", f"UPDATE `{db}`.`t` SET `v` = 2 WHERE `id` = 2;", "COMMIT;", "BEGIN;",
                    f"DELETE FROM `{db}`.`t` WHERE `id` = 2;", f"DELETE FROM `{db}`.`t` WHERE `id` = 1;", "COMMIT;"]
    forward = run_cli("binlog", "replay", *server.cli_args(), *range_args(start, stop), "--table", f"{db}.*")
    assert "USE `" + db + "`;\nALTER TABLE t ADD COLUMN w INT;" in forward.stdout
    conn.close()


def test_execute_guards(server: Any, db: str, run_cli: Any) -> None:
    conn = server.connect(db)
    start = binlog_position(conn)
    args = ["binlog", "replay", *server.cli_args(), "--start-file", start[0], "--start-pos", str(start[1])]
    same = run_cli(*args, "--execute", "--target", f"127.0.0.1:{server.port}", "--yes")
    assert same.exit_code == ExitCode.USAGE and "--allow-same-server" in same.stderr
    unconfirmed = run_cli(*args, "--execute", "--target", f"127.0.0.1:{server.port}", "--allow-same-server")
    assert unconfirmed.exit_code == ExitCode.USAGE and "--yes" in unconfirmed.stderr
    assert run_cli(*args, "--execute").exit_code == ExitCode.USAGE
    assert run_cli(*args, "--checkpoint", "x.json").exit_code == ExitCode.USAGE
    missing_dir = run_cli(*args, "--flashback", "--spill-dir", "/nonexistent/spill")  # review fix: no traceback
    assert missing_dir.exit_code == ExitCode.USAGE and "--spill-dir" in missing_dir.stderr
    bad_port = run_cli(*args, "--execute", "--target", "mysql://root@127.0.0.1:abc", "--yes")
    assert bad_port.exit_code == ExitCode.USAGE and "port" in bad_port.stderr
    conn.close()


def test_preflight_refuses_what_cannot_be_reproduced(server: Any, db: str, run_cli: Any) -> None:
    conn = server.connect()
    with conn.cursor() as cur:
        cur.execute("SET GLOBAL binlog_row_image = 'MINIMAL'")
    try:
        start = binlog_position(conn)
        result = run_cli("binlog", "replay", *server.cli_args(), "--start-file", start[0])
    finally:
        with conn.cursor() as cur:
            cur.execute("SET GLOBAL binlog_row_image = 'FULL'")
        conn.close()
    assert result.exit_code == ExitCode.UNAVAILABLE
    assert "binlog_row_image=MINIMAL" in result.stderr and "exactly" in result.stderr


def test_sql_log_bin_0_keeps_applied_changes_out_of_the_binlog(server: Any, db: str, extra_dbs: list[str],
                                                               run_cli: Any) -> None:
    conn = server.connect(db)
    dst = f"{db}_dst"
    extra_dbs.append(dst)
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{dst}`")
        cur.execute("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))")
        cur.execute(f"CREATE TABLE `{dst}`.t (id INT PRIMARY KEY, v VARCHAR(10))")
        start = binlog_position(conn)
        cur.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
        cur.execute("UPDATE t SET v = 'c' WHERE id = 2")
        stop = binlog_position(conn)
    result = run_cli("binlog", "replay", *server.cli_args(), *range_args(start, stop), "--table", f"{db}.t",
                     "--rewrite-db", f"{db}={dst}", *target_args(server), "--sql-log-bin", "0", "--no-parallel",
                     "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert binlog_position(conn) == stop
    assert table_dump(conn, dst) == table_dump(conn, db)
    again = run_cli("binlog", "replay", *server.cli_args(), *range_args(start, stop), "--table", f"{db}.t",
                    "--rewrite-db", f"{db}={dst}", *target_args(server), "--format", "json")
    assert again.exit_code == ExitCode.DATA_ERROR
    assert f"{dst}.t row (id=1); expected no row with this key; found (id=1, " in again.stderr
    assert table_dump(conn, dst) == table_dump(conn, db)
    conn.close()


def test_generated_columns_are_left_to_the_server(server: Any, db: str, extra_dbs: list[str], run_cli: Any) -> None:
    conn = server.connect(db)
    dst = f"{db}_dst"
    extra_dbs.append(dst)
    ddl = "CREATE TABLE {}.t (id INT PRIMARY KEY, a INT, v INT AS (a * 2) VIRTUAL, s INT AS (a + 1) STORED)"
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{dst}`")
        for name in (db, dst):
            cur.execute(ddl.format(f"`{name}`"))
        start = binlog_position(conn)
        cur.execute("INSERT INTO t (id, a) VALUES (1, 5), (2, 6)")
        cur.execute("UPDATE t SET a = 7 WHERE id = 1")
        cur.execute("DELETE FROM t WHERE id = 2")
        stop = binlog_position(conn)
    result = run_cli("binlog", "replay", *server.cli_args(), *range_args(start, stop), "--table", f"{db}.t",
                     "--rewrite-db", f"{db}={dst}", *target_args(server), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert table_dump(conn, dst) == table_dump(conn, db)
    sql = run_cli("binlog", "replay", *server.cli_args(), *range_args(start, stop), "--table", f"{db}.t").stdout
    assert f"INSERT INTO `{db}`.`t` (`id`, `a`) VALUES (1, 5);" in sql
    assert f"UPDATE `{db}`.`t` SET `a` = 7 WHERE `id` = 1;" in sql
    result = run_cli(*flashback_args(server, db, start, stop))
    assert result.exit_code == 0, result.stderr
    with conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM t")
        assert cur.fetchone()[0] == 0
    conn.close()


def test_statement_logged_dml_is_refused_and_other_statements_kept(server: Any, db: str, run_cli: Any) -> None:
    conn = server.connect(db)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE t (id INT PRIMARY KEY)")
        start = binlog_position(conn)
        cur.execute("BEGIN")
        cur.execute("INSERT INTO t VALUES (1)")
        cur.execute("SAVEPOINT sp")  # logged as a statement inside the transaction
        cur.execute("INSERT INTO t VALUES (3)")
        cur.execute("COMMIT")
        middle = binlog_position(conn)
    ok = run_cli("binlog", "replay", *server.cli_args(), *range_args(start, middle))
    assert ok.exit_code == 0, ok.stderr
    assert (f"INSERT INTO `{db}`.`t` (`id`) VALUES (1);\nSAVEPOINT `sp`;\nINSERT INTO `{db}`.`t` (`id`) VALUES (3);"
            in ok.stdout)  # in its place, as mysqlbinlog writes it: no logged statement is dropped
    with conn.cursor() as cur:
        cur.execute("SET SESSION binlog_format = 'STATEMENT'")
        cur.execute("INSERT INTO t VALUES (2)")
        stop = binlog_position(conn)
    refused = run_cli("binlog", "replay", *server.cli_args(), *range_args(middle, stop))
    assert refused.exit_code == ExitCode.DATA_ERROR, refused.stderr
    assert "statement-logged" in refused.stderr and "INSERT INTO t VALUES (2)" in refused.stderr
    conn.close()


def test_partly_zero_dates_round_trip(server: Any, db: str, run_cli: Any) -> None:
    """'2024-00-15' is a legal DATE without NO_ZERO_IN_DATE; it must not come back as 0000-00-00."""
    conn = server.connect(db)
    with conn.cursor() as cur:
        cur.execute("SET SESSION sql_mode = ''")
        cur.execute("CREATE TABLE d (id INT PRIMARY KEY, da DATE, dtm DATETIME(1))")
        start = binlog_position(conn)
        cur.execute("INSERT INTO d VALUES (1, '2024-00-15', '2024-05-00 10:11:12.5'), (2, '0000-00-00', NULL)")
        stop = binlog_position(conn)
    tail = run_cli("binlog", "tail", *server.cli_args(), *range_args(start, stop), "--format", "json")
    assert tail.exit_code == 0, tail.stderr
    afters = [c["after"] for t in tail.json()["transactions"] for c in t["changes"]]
    assert afters[0]["da"] == "2024-00-15" and afters[0]["dtm"].startswith("2024-05-00 10:11:12.5")
    assert afters[1]["da"] == "0000-00-00"
    sql = run_cli("binlog", "replay", *server.cli_args(), *range_args(start, stop))
    assert sql.exit_code == 0, sql.stderr
    assert "'2024-00-15'" in sql.stdout and "'2024-05-00 10:11:12.5'" in sql.stdout
    conn.close()


def test_review_execute_with_default_tls_and_nothing_written_before_confirmation(server: Any, db: str,
                                                                                   extra_dbs: list[str],
                                                                                   run_cli: Any,
                                                                                   tmp_path: Path) -> None:
    """Without --ssl-mode the target connection prefers TLS and falls back to plain like the source's (a server
    without TLS used to be refused); an unconfirmed --execute writes no checkpoint, locally or on the target."""
    conn = server.connect(db)
    dst = f"{db}_dst"
    extra_dbs.append(dst)
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{dst}`")
        for name in (db, dst):
            cur.execute(f"CREATE TABLE `{name}`.t (id INT PRIMARY KEY, v VARCHAR(10))")
        start = binlog_position(conn)
        cur.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
        cur.execute("UPDATE t SET v = 'c' WHERE id = 2")
        stop = binlog_position(conn)
    default_tls = ["-h", "127.0.0.1", "-P", str(server.port), "-u", "root"]
    args = ["binlog", "replay", *default_tls, *range_args(start, stop), "--table", f"{db}.*",
            "--rewrite-db", f"{db}={dst}", "--execute", "--target", f"127.0.0.1:{server.port}",
            "--allow-same-server"]
    checkpoint = tmp_path / "job.json"
    unconfirmed = run_cli(*args, "--checkpoint", str(checkpoint))
    assert unconfirmed.exit_code == ExitCode.USAGE and "--yes" in unconfirmed.stderr
    assert not checkpoint.exists()
    applied = run_cli(*args, "--yes", "--checkpoint", str(checkpoint), "--format", "json")
    assert applied.exit_code == 0, applied.stderr
    assert applied.json()["row_changes"] == 3 and checkpoint.exists()
    assert table_dump(conn, dst) == table_dump(conn, db)
    conn.close()


def test_review_unique_key_swaps_replay_with_batching(server: Any, db: str, extra_dbs: list[str],
                                                       run_cli: Any) -> None:
    """Rows that pass a UNIQUE value along (3: 30->40, 2: 20->30, 1: 10->20) replay with the default --execute
    batching: they used to share one UPDATE ... JOIN, which the server may apply in another order (duplicate key)."""
    conn = server.connect(db)
    dst = f"{db}_dst"
    extra_dbs.append(dst)
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{dst}`")
        for name in (db, dst):
            cur.execute(f"CREATE TABLE `{name}`.t (id INT PRIMARY KEY, u INT, w INT, UNIQUE KEY (u))")
            cur.execute(f"INSERT INTO `{name}`.t VALUES (1, 10, 0), (2, 20, 0), (3, 30, 0)")
        start = binlog_position(conn)
        cur.execute("BEGIN")
        for row_id, value in ((3, 40), (2, 30), (1, 20)):
            cur.execute("UPDATE t SET u = %s WHERE id = %s", (value, row_id))
        cur.execute("UPDATE t SET w = w + 1")  # no unique column: still batched
        cur.execute("COMMIT")
        stop = binlog_position(conn)
    result = run_cli("binlog", "replay", *server.cli_args(), *range_args(start, stop), "--table", f"{db}.*",
                     "--rewrite-db", f"{db}={dst}", *target_args(server), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert table_dump(conn, dst) == table_dump(conn, db)
    conn.close()
