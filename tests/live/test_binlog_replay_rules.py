"""Replay rules against real servers (issue 9): server ids that are taken, messages that number transactions from
the start of the range and say what a duplicate key found, --verify-current comparing bytes, foreign-key
cascades as the reference applies them, triggers that must not fire again, cross-flavor targets."""

from __future__ import annotations

import json
import struct
import subprocess
from collections.abc import Iterator
from typing import Any

import pymysql
import pytest

from mysqlinspect.exit_codes import ExitCode
from tests.live.replay_support import (
    Workload,
    binlog_files_between,
    binlog_position,
    create_schema,
    reference_replay,
    table_dump,
)
from tests.servers import wanted_flavors

pytestmark = pytest.mark.live


def range_args(server: Any, start: tuple[str, int], stop: tuple[str, int]) -> list[str]:
    return ["binlog", "replay", *server.cli_args(), "--start-file", start[0], "--start-pos", str(start[1]),
            "--stop-file", stop[0], "--stop-pos", str(stop[1])]


def execute_args(server: Any, db: str, into: str, start: tuple[str, int], stop: tuple[str, int],
                 target: Any = None) -> list[str]:
    target = target or server
    return [*range_args(server, start, stop), "--table", f"{db}.*", "--rewrite-db", f"{db}={into}", "--execute",
            "--target", f"127.0.0.1:{target.port}", "--allow-same-server", "--yes", "--format", "json"]


def run_sql(conn: pymysql.connections.Connection, *statements: str) -> None:
    with conn.cursor() as cur:
        for sql in statements:
            cur.execute(sql)


# item 12 ----------------------------------------------------------------------------------------------------------
@pytest.fixture
def registered_replica(server: Any) -> Iterator[int]:
    """A connection registered as a replica (COM_REGISTER_SLAVE) with server id 4242, listed by SHOW REPLICAS."""
    conn = server.connect()
    host, user = b"replica-test", b"root"
    payload = (struct.pack("<I", 4242) + bytes([len(host)]) + host + bytes([len(user)]) + user + b"\x00"
               + struct.pack("<HII", 3306, 0, 0))
    conn._execute_command(0x15, payload)  # COM_REGISTER_SLAVE
    conn._read_ok_packet()
    yield 4242
    conn.close()


@pytest.mark.parametrize("command", ["replay", "tail", "stats"])
def test_replica_server_id_of_the_source_or_a_connected_replica_is_refused(
        server: Any, registered_replica: int, run_cli: Any, command: str) -> None:
    conn = server.connect()
    with conn.cursor() as cur:
        cur.execute("SELECT @@server_id")
        source_id = int(cur.fetchone()[0])
    conn.close()
    for taken, words in ((source_id, "source's own server_id"), (registered_replica, "replica connected")):
        result = run_cli("binlog", command, *server.cli_args(), "--replica-server-id", str(taken))
        assert result.exit_code == ExitCode.USAGE, result.stderr
        assert words in result.stderr and "Traceback" not in result.stderr


# item 13 ----------------------------------------------------------------------------------------------------------
def test_duplicate_key_message_numbers_from_the_range_start_and_says_what_it_found(
        server: Any, db: str, extra_dbs: list[str], run_cli: Any) -> None:
    conn = server.connect()
    dst = f"{db}_dst"
    extra_dbs.append(dst)
    for name in (db, dst):
        run_sql(conn, f"CREATE DATABASE IF NOT EXISTS `{name}`",
                f"CREATE TABLE `{name}`.t (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB")
    start = binlog_position(conn)
    for n in range(1, 41):
        run_sql(conn, f"INSERT INTO `{db}`.t VALUES ({n}, 'v{n}')")
    run_sql(conn, f"USE `{db}`", "CREATE TABLE other (id INT PRIMARY KEY)")  # a DDL transaction: number 41
    run_sql(conn, f"INSERT INTO `{db}`.t VALUES (41, 'source')")  # 42, collides on the target
    stop = binlog_position(conn)
    run_sql(conn, f"INSERT INTO `{dst}`.t VALUES (41, 'there')")

    messages = {}
    for mode in ("auto", "sql"):
        run_sql(conn, f"DELETE FROM `{dst}`.t WHERE id <= 40", f"DROP TABLE IF EXISTS `{dst}`.other")
        result = run_cli(*execute_args(server, db, dst, start, stop), "--apply-mode", mode)
        assert result.exit_code == ExitCode.DATA_ERROR, result.stderr
        messages[mode] = result.stderr
    for mode, message in messages.items():
        assert "source transaction 42 " in message, (mode, message)
        assert "expected no row with this key; found (id=41, v='there')" in message, (mode, message)
        assert "Duplicate entry '41'" in message, (mode, message)
        assert "current absent" not in message
    conn.close()


# item 11 ----------------------------------------------------------------------------------------------------------
def test_verify_current_sees_a_case_only_change(server: Any, db: str, extra_dbs: list[str], run_cli: Any) -> None:
    conn = server.connect()
    dst = f"{db}_dst"
    extra_dbs.append(dst)
    for name in (db, dst):
        run_sql(conn, f"CREATE DATABASE IF NOT EXISTS `{name}`",
                f"CREATE TABLE `{name}`.t (id INT PRIMARY KEY, v VARCHAR(20) CHARACTER SET utf8mb4 "
                "COLLATE utf8mb4_general_ci, l VARCHAR(20) CHARACTER SET latin1) ENGINE=InnoDB")
    run_sql(conn, f"INSERT INTO `{db}`.t VALUES (1, 'Alpha', 'Été'), (2, 'beta', 'b')",
            f"INSERT INTO `{dst}`.t VALUES (1, 'ALPHA', 'Été'), (2, 'beta', 'B')")
    start = binlog_position(conn)
    run_sql(conn, f"UPDATE `{db}`.t SET v = 'alpha2' WHERE id = 1", f"UPDATE `{db}`.t SET v = 'beta2' WHERE id = 2")
    stop = binlog_position(conn)

    forward = run_cli(*execute_args(server, db, dst, start, stop), "--verify-current")
    assert forward.exit_code == ExitCode.DATA_ERROR, forward.stderr
    assert "source transaction 1 " in forward.stderr and "no row matches" in forward.stderr
    assert table_dump(conn, dst)["t"] == [(1, "ALPHA", "Été"), (2, "beta", "B")]

    run_sql(conn, f"UPDATE `{db}`.t SET l = 'été' WHERE id = 1")  # after the range, case only, latin1
    undo = run_cli(*range_args(server, start, stop), "--table", f"{db}.*", "--flashback", "--execute", "--target",
                   f"127.0.0.1:{server.port}", "--allow-same-server", "--yes")
    assert undo.exit_code == ExitCode.DATA_ERROR, undo.stderr
    assert "pre-check of the flashback" in undo.stderr and "Nothing was applied" in undo.stderr
    assert table_dump(conn, db)["t"] == [(1, "alpha2", "été"), (2, "beta2", "b")]
    conn.close()


# item 4 -----------------------------------------------------------------------------------------------------------
FK_SCHEMA = (
    "CREATE TABLE parent (id INT PRIMARY KEY, v VARCHAR(10)) ENGINE=InnoDB",
    "CREATE TABLE child_cascade (id INT PRIMARY KEY, pid INT, FOREIGN KEY (pid) REFERENCES parent (id) "
    "ON DELETE CASCADE ON UPDATE CASCADE) ENGINE=InnoDB",
    "CREATE TABLE child_null (id INT PRIMARY KEY, pid INT, FOREIGN KEY (pid) REFERENCES parent (id) "
    "ON DELETE SET NULL ON UPDATE SET NULL) ENGINE=InnoDB",
    "INSERT INTO parent VALUES (1, 'a'), (2, 'b'), (3, 'c')",
    "INSERT INTO child_cascade VALUES (10, 1), (11, 1), (12, 2), (13, 3)",
    "INSERT INTO child_null VALUES (20, 1), (21, 2), (22, 3)",
)


def fk_schema(conn: pymysql.connections.Connection, name: str) -> None:
    run_sql(conn, f"CREATE DATABASE IF NOT EXISTS `{name}`", f"USE `{name}`", *FK_SCHEMA)


def pipe_into_client(server: Any, sql: str) -> None:
    """The dry-run SQL loaded by the server's own client, as a user would."""
    client = ["mariadb"] if server.flavor == "mariadb" else server.program("mysql")
    subprocess.run([*client, "--no-defaults", "--host=127.0.0.1", f"--port={server.port}", "--user=root",
                    "--binary-mode"], input=sql.encode(), capture_output=True, check=True, timeout=300)


@pytest.mark.parametrize("mode", ["dry-run", "sql", "auto", "events"])
def test_foreign_key_cascades_match_the_reference(server: Any, db: str, extra_dbs: list[str], run_cli: Any,
                                                 mode: str) -> None:
    conn = server.connect()
    ref, dst = f"{db}_ref", f"{db}_dst"
    extra_dbs += [ref, dst]
    for name in (db, ref, dst):
        fk_schema(conn, name)
    start = binlog_position(conn)
    run_sql(conn, f"USE `{db}`", "DELETE FROM parent WHERE id = 1", "UPDATE parent SET id = 4 WHERE id = 3",
            "BEGIN", "DELETE FROM parent WHERE id = 2", "INSERT INTO parent VALUES (5, 'e')",
            "INSERT INTO child_cascade VALUES (14, 5)", "COMMIT",
            "SET SESSION foreign_key_checks = 0", "INSERT INTO child_cascade VALUES (15, 99)",  # an orphan, logged
            "SET SESSION foreign_key_checks = 1", "DELETE FROM parent WHERE id = 5")  # with NO_FOREIGN_KEY_CHECKS_F
    stop = binlog_position(conn)
    reference_replay(server, conn, start, stop, db, ref)
    if mode == "dry-run":
        result = run_cli(*range_args(server, start, stop), "--table", f"{db}.*", "--rewrite-db", f"{db}={dst}")
        assert result.exit_code == 0, result.stderr
        pipe_into_client(server, result.stdout)
    else:
        result = run_cli(*execute_args(server, db, dst, start, stop), "--apply-mode", mode)
        assert result.exit_code == 0, result.stderr
    assert table_dump(conn, ref) == table_dump(conn, db)
    assert table_dump(conn, dst) == table_dump(conn, ref)
    conn.close()


# item 3 -----------------------------------------------------------------------------------------------------------
TRIGGER_SCHEMA = (
    "CREATE TABLE item (id INT PRIMARY KEY, v VARCHAR(40), stamp VARCHAR(20)) ENGINE=InnoDB",
    "CREATE TABLE audit (id INT PRIMARY KEY, what VARCHAR(20)) ENGINE=InnoDB",
    "CREATE TRIGGER item_bi BEFORE INSERT ON item FOR EACH ROW SET NEW.stamp = CONCAT('set by trigger ', "
    "CONNECTION_ID() MOD 1)",
    "CREATE TRIGGER item_ai AFTER INSERT ON item FOR EACH ROW INSERT INTO audit VALUES (NEW.id, 'insert')",
    "CREATE TRIGGER item_bu BEFORE UPDATE ON item FOR EACH ROW SET NEW.v = CONCAT(NEW.v, '+')",
)


def trigger_schema(conn: pymysql.connections.Connection, name: str) -> None:
    run_sql(conn, f"CREATE DATABASE IF NOT EXISTS `{name}`", f"USE `{name}`", *TRIGGER_SCHEMA)


def trigger_range(conn: pymysql.connections.Connection, db: str) -> tuple[tuple[str, int], tuple[str, int]]:
    start = binlog_position(conn)
    run_sql(conn, f"USE `{db}`", "INSERT INTO item (id, v) VALUES (1, 'one'), (2, 'two')",
            "UPDATE item SET v = 'uno' WHERE id = 1", "DELETE FROM item WHERE id = 2",
            "INSERT INTO item (id, v) VALUES (3, 'three')")
    return start, binlog_position(conn)


def test_sql_replay_refuses_triggers_that_would_fire_again(server: Any, db: str, extra_dbs: list[str],
                                                           run_cli: Any) -> None:
    conn = server.connect()
    dst = f"{db}_dst"
    extra_dbs.append(dst)
    for name in (db, dst):
        trigger_schema(conn, name)
    start, stop = trigger_range(conn, db)
    before = table_dump(conn, dst)

    dry = run_cli(*range_args(server, start, stop), "--table", f"{db}.*")
    assert dry.exit_code == ExitCode.USAGE, dry.stderr
    assert dry.stdout == ""
    for name in ("item_ai", "item_bi", "item_bu"):
        assert f"{db}.item: {name}" in dry.stderr
    sql = run_cli(*execute_args(server, db, dst, start, stop), "--apply-mode", "sql")
    assert sql.exit_code == ExitCode.USAGE, sql.stderr
    assert f"{dst}.item: item_ai (AFTER INSERT)" in sql.stderr and "--allow-triggers" in sql.stderr
    assert table_dump(conn, dst) == before

    allowed = run_cli(*range_args(server, start, stop), "--table", f"{db}.*", "--allow-triggers")
    assert allowed.exit_code == 0, allowed.stderr
    assert "INSERT INTO" in allowed.stdout and "item_bi" in allowed.stderr and "--allow-triggers" in allowed.stderr
    conn.close()


def test_row_event_replay_fires_no_trigger_and_equals_the_reference(server: Any, db: str, extra_dbs: list[str],
                                                                     run_cli: Any) -> None:
    conn = server.connect()
    ref, dst = f"{db}_ref", f"{db}_dst"
    extra_dbs += [ref, dst]
    for name in (db, ref, dst):
        trigger_schema(conn, name)
    start, stop = trigger_range(conn, db)
    reference_replay(server, conn, start, stop, db, ref)
    result = run_cli(*execute_args(server, db, dst, start, stop))
    assert result.exit_code == 0, result.stderr
    assert result.json()["apply_mode"] == "binlog-events"
    assert table_dump(conn, dst) == table_dump(conn, ref) == table_dump(conn, db)
    conn.close()


# item 9 -----------------------------------------------------------------------------------------------------------
@pytest.fixture
def other_server(server: Any, server_pool: Any) -> Any:
    """The shared server of the other flavor (the pool starts it when this session has not yet)."""
    other = "mariadb" if server.flavor != "mariadb" else "mysql"
    flavors = list(wanted_flavors())
    return server_pool.get(other, server_id=100 + (flavors.index(other) if other in flavors else len(flavors)))


CROSS_TABLE = ("CREATE TABLE t (id INT PRIMARY KEY, j JSON, v VARCHAR(30) CHARACTER SET utf8mb4, d DECIMAL(20,6), "
               "dt DATETIME(6), b VARBINARY(20), e ENUM('a','b'), f DOUBLE) ENGINE=InnoDB")


def cross_rows(conn: pymysql.connections.Connection, name: str) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(f"SELECT id, j, v, d, dt, b, e, f FROM `{name}`.t ORDER BY id")
        return [(r[0], json.loads(r[1]) if r[1] is not None else None, *r[2:]) for r in cur.fetchall()]


def test_cross_flavor_target_is_applied_as_sql(server: Any, other_server: Any, db: str, run_cli: Any) -> None:
    conn, target = server.connect(), other_server.connect()
    run_sql(conn, f"USE `{db}`", CROSS_TABLE)
    run_sql(target, f"DROP DATABASE IF EXISTS `{db}`", f"CREATE DATABASE `{db}`", f"USE `{db}`", CROSS_TABLE)
    try:
        start = binlog_position(conn)
        run_sql(conn, f"USE `{db}`",
                "INSERT INTO t VALUES (1, '{\"a\": [1, 2.5, \"x\"], \"b\": null}', 'héllo', 12.5, "
                "'2020-02-29 23:59:59.123456', X'00ff', 'b', 0.1)",
                "INSERT INTO t VALUES (2, '\"just a string\"', NULL, -1, NULL, NULL, NULL, 1e300)",
                "INSERT INTO t VALUES (3, '[]', 'x', 0, '1999-01-01', X'', 'a', -0.5)",
                "UPDATE t SET j = '{\"k\": \"v\"}', v = 'ünïcode' WHERE id = 1", "DELETE FROM t WHERE id = 3")
        stop = binlog_position(conn)
        base = [*range_args(server, start, stop), "--table", f"{db}.*", "--execute", "--target",
                f"127.0.0.1:{other_server.port}", "--yes", "--format", "json"]
        events = run_cli(*base, "--apply-mode", "events")
        assert events.exit_code == ExitCode.USAGE, events.stderr
        assert "a server applies only row events of its own flavor" in events.stderr
        assert cross_rows(target, db) == []
        auto = run_cli(*base)
        assert auto.exit_code == 0, auto.stderr
        summary = auto.json()
        assert summary["apply_mode"] == "sql" and "own flavor" in summary["apply_mode_note"]
        assert cross_rows(target, db) == cross_rows(conn, db)
        run_sql(target, f"DELETE FROM `{db}`.t")
        sql = run_cli(*base, "--apply-mode", "sql")
        assert sql.exit_code == 0, sql.stderr
        assert cross_rows(target, db) == cross_rows(conn, db)
    finally:
        run_sql(target, f"DROP DATABASE IF EXISTS `{db}`")
        target.close()
        conn.close()


def test_flashback_through_row_events_fires_no_trigger(server: Any, db: str, run_cli: Any) -> None:
    conn = server.connect()
    trigger_schema(conn, db)
    run_sql(conn, f"USE `{db}`", "INSERT INTO item (id, v) VALUES (7, 'seven'), (8, 'eight')")
    before = table_dump(conn, db)
    start = binlog_position(conn)
    run_sql(conn, f"USE `{db}`", "BEGIN", "INSERT INTO item (id, v) VALUES (1, 'one'), (2, 'two')",
            "UPDATE item SET v = 'uno' WHERE id IN (1, 7)", "DELETE FROM item WHERE id = 8", "COMMIT",
            "DELETE FROM item WHERE id = 2", "UPDATE item SET id = 9 WHERE id = 7")
    stop = binlog_position(conn)
    base = [*range_args(server, start, stop), "--table", f"{db}.*", "--flashback", "--execute", "--target",
            f"127.0.0.1:{server.port}", "--allow-same-server", "--yes", "--format", "json"]
    refused = run_cli(*base, "--apply-mode", "sql")
    assert refused.exit_code == ExitCode.USAGE and f"{db}.item: item_bi" in refused.stderr, refused.stderr
    undo = run_cli(*base)
    assert undo.exit_code == 0, undo.stderr
    summary = undo.json()
    assert summary["apply_mode"] == "binlog-events" and summary["prechecked_keys"] > 0
    assert summary["counts"][f"{db}.item"] == {"insert": 2, "update": 3, "delete": 2}
    assert table_dump(conn, db) == before
    conn.close()


def test_events_mode_applies_compressed_transactions_on_tables_with_triggers(server: Any, db: str,
                                                                            extra_dbs: list[str],
                                                                            run_cli: Any) -> None:
    """Compressed transactions (MySQL binlog_transaction_compression, MariaDB log_bin_compress) go through row
    events like any other (their inner events expanded): no trigger fires, the target equals the source. (They
    used to be dropped without a word by the events mode, and applying them as SQL would fire the triggers.)"""
    conn = server.connect()
    dst = f"{db}_dst"
    extra_dbs.append(dst)
    for name in (db, dst):
        trigger_schema(conn, name)
    mariadb = server.flavor == "mariadb"
    if mariadb:
        run_sql(conn, "SET GLOBAL log_bin_compress = ON", "SET GLOBAL log_bin_compress_min_len = 10")
    try:
        zipped = server.connect()
        if not mariadb:
            run_sql(zipped, "SET SESSION binlog_transaction_compression = ON")
        start, stop = trigger_range(zipped, db)
        zipped.close()
    finally:
        if mariadb:
            run_sql(conn, "SET GLOBAL log_bin_compress = OFF", "SET GLOBAL log_bin_compress_min_len = 256")
    result = run_cli(*execute_args(server, db, dst, start, stop))
    assert result.exit_code == 0, result.stderr
    summary = result.json()
    assert summary["apply_mode"] == "binlog-events"
    assert summary["counts"][f"{db}.item"] == {"insert": 3, "update": 1, "delete": 1}
    assert table_dump(conn, dst) == table_dump(conn, db)
    conn.close()


def comparable(dump: dict[str, list[tuple[Any, ...]]], conn: pymysql.connections.Connection,
               name: str) -> dict[str, list[tuple[Any, ...]]]:
    """Across flavors: JSON documents parsed (MySQL prints them normalised, MariaDB keeps the text as written),
    FLOAT/DOUBLE as numbers (the flavors print them differently: 3.03e-12 vs 0.00000000000303)."""
    out = {}
    with conn.cursor() as cur:
        for table, rows in dump.items():
            cur.execute("SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND "
                        "TABLE_NAME = %s ORDER BY ORDINAL_POSITION", (name, table))
            kinds = ["json" if c == "j" else t for c, t in cur.fetchall()]
            convert = {"json": json.loads, "float": float, "double": float}
            out[table] = [tuple(convert[k](v) if k in convert and v is not None else v for k, v in zip(kinds, row,
                                                                                                         strict=True))
                          for row in rows]
    return out


def test_cross_flavor_sql_replay_of_every_common_type(server: Any, other_server: Any, db: str,
                                                      run_cli: Any) -> None:
    conn, target = server.connect(), other_server.connect()
    create_schema(conn, db, server.flavor)
    run_sql(target, f"DROP DATABASE IF EXISTS `{db}`")
    create_schema(target, db, other_server.flavor)
    try:
        start = binlog_position(conn)
        Workload(conn, db, seed=21, flavor=server.flavor).run(80)
        stop = binlog_position(conn)
        result = run_cli(*range_args(server, start, stop), "--table", f"{db}.*", "--execute", "--target",
                         f"127.0.0.1:{other_server.port}", "--yes", "--format", "json")
        assert result.exit_code == 0, result.stderr
        assert result.json()["apply_mode"] == "sql"
        assert comparable(table_dump(target, db), target, db) == comparable(table_dump(conn, db), conn, db)
    finally:
        run_sql(target, f"DROP DATABASE IF EXISTS `{db}`")
        target.close()
        conn.close()


def reference_flashback(server: Any, conn: pymysql.connections.Connection, start: tuple[str, int],
                        stop: tuple[str, int], db: str) -> None:
    """mariadb-binlog --flashback of the range, piped into mariadb (the MariaDB reference; MySQL has none)."""
    files = binlog_files_between(conn, start[0], stop[0])
    conn_args = ["--host=127.0.0.1", f"--port={server.port}", "--user=root"]
    dump = subprocess.run(["mariadb-binlog", "--no-defaults", "--read-from-remote-server", *conn_args, "--flashback",
                           f"--start-position={start[1]}", f"--stop-position={stop[1]}", f"--database={db}", *files],
                          capture_output=True, check=True, timeout=300)
    subprocess.run(["mariadb", "--no-defaults", *conn_args, "--binary-mode"], input=dump.stdout,
                   capture_output=True, check=True, timeout=300)


@pytest.mark.parametrize("mode", ["auto", "sql", "dry-run"])
def test_flashback_of_cascades_matches_the_reference_or_is_refused(server: Any, db: str, extra_dbs: list[str],
                                                                   run_cli: Any, mode: str) -> None:
    """MySQL 9.7 logs the cascaded rows: the flashback restores everything. MariaDB does not: the reference
    (mariadb-binlog --flashback) brings the parent back and leaves the cascaded child changes as they are, so the
    result is not the state before the range; mysqlinspect refuses such a flashback before writing anything
    (exit 65), naming the constraint."""
    conn = server.connect()
    ref = f"{db}_ref"
    extra_dbs.append(ref)
    ranges = {}
    for name in (db, ref):
        fk_schema(conn, name)
    snapshot = table_dump(conn, db)
    for name in (db, ref):
        start = binlog_position(conn)
        run_sql(conn, f"USE `{name}`", "DELETE FROM parent WHERE id = 1", "UPDATE parent SET id = 4 WHERE id = 3")
        ranges[name] = (start, binlog_position(conn))
    after = table_dump(conn, db)
    start, stop = ranges[db]
    options = ["--apply-mode", mode, "--execute", "--target", f"127.0.0.1:{server.port}", "--allow-same-server",
               "--yes", "--format", "json"] if mode != "dry-run" else []
    undo = run_cli(*range_args(server, start, stop), "--table", f"{db}.*", "--flashback", *options)
    if server.flavor == "mariadb":
        reference_flashback(server, conn, *ranges[ref], ref)
        assert table_dump(conn, ref) != snapshot, "the reference cannot restore unlogged cascades"
        assert undo.exit_code == ExitCode.DATA_ERROR, undo.stderr
        assert "MariaDB does not log cascaded changes" in undo.stderr, undo.stderr
        assert f"{db}.child_cascade_ibfk_1" in undo.stderr and f"{db}.child_null_ibfk_1" in undo.stderr
        assert undo.stdout == "" and table_dump(conn, db) == after, "the refused flashback wrote something"
    else:
        assert undo.exit_code == 0, undo.stderr
        if mode == "dry-run":
            pipe_into_client(server, undo.stdout)
        else:
            assert undo.json()["apply_mode"] == ("binlog-events" if mode == "auto" else "sql")
        assert table_dump(conn, db) == snapshot
    conn.close()


def test_flashback_of_cascade_parents_whose_keys_stay_is_not_refused(server: Any, db: str, run_cli: Any) -> None:
    """Inserts into a cascading parent and updates that keep its referenced key cascade nothing: undone on both
    flavors (only deletes, and key changes under ON UPDATE CASCADE / SET NULL, are refused on MariaDB)."""
    conn = server.connect()
    fk_schema(conn, db)
    snapshot = table_dump(conn, db)
    start = binlog_position(conn)
    run_sql(conn, f"USE `{db}`", "UPDATE parent SET v = 'z' WHERE id = 2", "INSERT INTO parent VALUES (5, 'e')",
            "INSERT INTO child_cascade VALUES (14, 5)", "DELETE FROM child_null WHERE id = 21")
    stop = binlog_position(conn)
    undo = run_cli(*range_args(server, start, stop), "--table", f"{db}.*", "--flashback", "--execute", "--target",
                   f"127.0.0.1:{server.port}", "--allow-same-server", "--yes", "--format", "json")
    assert undo.exit_code == 0, undo.stderr
    assert table_dump(conn, db) == snapshot
    conn.close()


def test_row_events_refused_are_not_applied_as_sql_on_tables_with_triggers(server: Any, db: str,
                                                                          extra_dbs: list[str],
                                                                          run_cli: Any) -> None:
    """The target's column type differs (row events refuse the conversion; SQL would not): falling back to SQL
    would fire the target's trigger, so the replay stops instead, naming it."""
    conn = server.connect()
    dst = f"{db}_dst"
    extra_dbs.append(dst)
    run_sql(conn, f"CREATE TABLE `{db}`.t (id INT PRIMARY KEY, v BIGINT, w VARCHAR(20)) ENGINE=InnoDB",
            f"CREATE DATABASE `{dst}`", f"CREATE TABLE `{dst}`.t (id INT PRIMARY KEY, v INT, w VARCHAR(20)) "
            "ENGINE=InnoDB", f"CREATE TRIGGER `{dst}`.t_bi BEFORE INSERT ON `{dst}`.t FOR EACH ROW SET NEW.w = 'x'")
    start = binlog_position(conn)
    run_sql(conn, f"INSERT INTO `{db}`.t VALUES (1, 5, 'source')")
    stop = binlog_position(conn)
    result = run_cli(*execute_args(server, db, dst, start, stop))
    assert result.exit_code == ExitCode.DATA_ERROR, result.stderr
    assert "refused its row events" in result.stderr and f"{dst}.t: t_bi" in result.stderr
    assert table_dump(conn, dst)["t"] == []
    run_sql(conn, f"DROP TRIGGER `{dst}`.t_bi")
    again = run_cli(*execute_args(server, db, dst, start, stop))
    assert again.exit_code == 0, again.stderr
    assert table_dump(conn, dst)["t"] == [(1, 5, "source")]
    conn.close()


ONE_FLAVOR_COLLATION = {"mysql": "utf8mb4_ja_0900_as_cs_ks", "mariadb": "utf8mb4_nopad_bin"}


def test_cross_flavor_ddl_with_an_unknown_collation_is_refused_up_front(server: Any, other_server: Any, db: str,
                                                                       run_cli: Any) -> None:
    conn, target = server.connect(), other_server.connect()
    run_sql(target, f"DROP DATABASE IF EXISTS `{db}`", f"CREATE DATABASE `{db}`")
    try:
        start = binlog_position(conn)
        run_sql(conn, f"USE `{db}`", "CREATE TABLE t0 (id INT PRIMARY KEY)", "INSERT INTO t0 VALUES (1)",
                f"CREATE TABLE t1 (id INT PRIMARY KEY, v VARCHAR(10)) CHARACTER SET utf8mb4 "
                f"COLLATE {ONE_FLAVOR_COLLATION[server.flavor]}", "INSERT INTO t1 VALUES (1, 'a')")
        stop = binlog_position(conn)
        result = run_cli(*range_args(server, start, stop), "--table", f"{db}.*", "--execute", "--target",
                         f"127.0.0.1:{other_server.port}", "--yes")
        assert result.exit_code == ExitCode.UNAVAILABLE, result.stderr
        assert ONE_FLAVOR_COLLATION[server.flavor] in result.stderr and "nothing was applied" in result.stderr
        with target.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s", (db,))
            assert cur.fetchone()[0] == 0
    finally:
        run_sql(target, f"DROP DATABASE IF EXISTS `{db}`")
        target.close()
        conn.close()


def test_a_trigger_created_in_the_range_is_refused_too(server: Any, db: str, run_cli: Any) -> None:
    conn = server.connect()
    run_sql(conn, f"USE `{db}`", "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))",
            "CREATE TABLE u (id INT PRIMARY KEY, v VARCHAR(10))")
    start = binlog_position(conn)
    run_sql(conn, f"USE `{db}`", "CREATE TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW SET NEW.v = 'trigger'",
            "CREATE TRIGGER u_bi BEFORE INSERT ON u FOR EACH ROW SET NEW.v = 'trigger'",
            "INSERT INTO t VALUES (1, 'a')")
    stop = binlog_position(conn)
    run_sql(conn, f"USE `{db}`", "DROP TRIGGER t_bi", "DROP TRIGGER u_bi")  # only the range knows them now
    dry = run_cli(*range_args(server, start, stop), "--table", f"{db}.*")
    assert dry.exit_code == ExitCode.USAGE, dry.stderr
    assert "t_bi (created in the range)" in dry.stderr and dry.stdout == ""
    assert "u_bi" not in dry.stderr  # on a table the range does not change: it fires for none of its rows
    conn.close()
