"""`binlog replay FILE|DIR...` with no source server: the same SQL (forwards and --flashback) as from the server
that wrote the files; without FULL row metadata SQL needs --schema-from (refused, exit 64, otherwise)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.live.decode_support import binlog_path, flush
from tests.live.replay_support import binlog_position

pytestmark = pytest.mark.live

SCHEMA = ("CREATE TABLE c (id INT PRIMARY KEY, name VARCHAR(40) CHARACTER SET utf8mb4, amount DECIMAL(10,2), "
          "doubled DECIMAL(11,2) AS (amount * 2) STORED, seen TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP "
          "ON UPDATE CURRENT_TIMESTAMP, kind ENUM('a','b','c'))")
WORK = ("INSERT INTO c (id, name, amount, kind) VALUES (1, 'ä', 1.50, 'a'), (2, 'b', -2.25, 'c')",
        "UPDATE c SET name = 'changed', kind = 'b' WHERE id = 1",
        "DELETE FROM c WHERE id = 2",
        "INSERT INTO c (id, name, amount) VALUES (3, NULL, 0)")


def _range_file(server: Any, db: str, metadata: str = "FULL") -> tuple[Path, list[str]]:
    """The workload in a file of its own (written with binlog_row_metadata=`metadata`); (path, range options)."""
    conn = server.connect(db)
    try:
        with conn.cursor() as cur:
            cur.execute(SCHEMA)
            cur.execute(f"SET GLOBAL binlog_row_metadata = '{metadata}'")
        try:
            flush(conn)
            start = binlog_position(conn)
            other = server.connect(db)  # a new session: it takes the global metadata setting
            try:
                with other.cursor() as cur:
                    cur.execute("SET time_zone = '+00:00'")
                    for statement in WORK:
                        cur.execute(statement)
            finally:
                other.close()
            stop = binlog_position(conn)
            flush(conn)
        finally:
            with conn.cursor() as cur:
                cur.execute("SET GLOBAL binlog_row_metadata = 'FULL'")
    finally:
        conn.close()
    return binlog_path(server, start[0]), ["--start-file", start[0], "--start-pos", str(start[1]), "--stop-file",
                                            stop[0], "--stop-pos", str(stop[1]), "--table", f"{db}.*"]


def _sql(run_cli: Any, *args: str) -> str:
    result = run_cli("binlog", "replay", *args)
    assert result.exit_code == 0, result.stderr
    return str(result.stdout)


def test_sql_from_files_equals_sql_from_the_server(server: Any, db: str, run_cli: Any) -> None:
    path, rng = _range_file(server, db)
    schema = ["--schema-from", f"mysql://root@127.0.0.1:{server.port}"]
    for mode in ([], ["--flashback"]):
        from_server = _sql(run_cli, *server.cli_args(), *rng, *mode)
        assert from_server.count("COMMIT;") == 4
        assert _sql(run_cli, str(path), *rng, *mode, *schema) == from_server
    unchecked = run_cli("binlog", "replay", str(path.parent), *rng)  # a directory, no schema server
    assert unchecked.exit_code == 0, unchecked.stderr
    assert "no --schema-from: generated and ON UPDATE columns" in unchecked.stderr
    assert "`doubled`" in unchecked.stdout  # without definitions, the generated column is assigned as logged


def test_files_without_column_names_need_a_schema_server(server: Any, db: str, run_cli: Any) -> None:
    path, rng = _range_file(server, db, metadata="MINIMAL")
    refused = run_cli("binlog", "replay", str(path), *rng)
    assert refused.exit_code == 64 and refused.stdout == ""
    assert f"{db}.c: logged without column names" in refused.stderr and "--schema-from" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    schema = ["--schema-from", f"mysql://root@127.0.0.1:{server.port}"]
    named = _sql(run_cli, str(path), *rng, *schema)
    assert "`name` = 'changed'" in named and "@1" not in named
    assert "`kind` = 2" in named  # without FULL metadata an ENUM is logged as its index, which SQL accepts


def test_tail_names_columns_from_a_schema_server(server: Any, db: str, run_cli: Any) -> None:
    """`binlog tail FILE` without FULL metadata: @1..@n with one warning, as mysqlbinlog; with --schema-from the
    current definitions' names (flagged as such in the JSON), the same rows as the server path gives."""
    path, rng = _range_file(server, db, metadata="MINIMAL")
    tail = ["binlog", "tail", str(path), *rng, "--format", "jsonl", "--rows-only"]
    unnamed = run_cli(*tail)
    assert unnamed.exit_code == 0, unnamed.stderr
    assert "@1" in unnamed.stdout and "no column names" in unnamed.stderr
    named = run_cli(*tail, "--schema-from", f"mysql://root@127.0.0.1:{server.port}")
    assert named.exit_code == 0, named.stderr
    rows = named.jsonl()
    assert rows and all("@1" not in str(r) for r in rows)
    from_server = run_cli("binlog", "tail", *server.cli_args(), *rng, "--format", "jsonl", "--rows-only")
    assert from_server.exit_code == 0, from_server.stderr
    assert [r.get("after") or r.get("before") for r in rows] == [
        r.get("after") or r.get("before") for r in from_server.jsonl()]
    refused = run_cli("binlog", "tail", *server.cli_args(), "--schema-from", "mysql://root@127.0.0.1:1")
    assert refused.exit_code == 64 and "--schema-from is for FILE|DIR" in refused.stderr


def test_sql_from_files_with_jobs_gives_the_same_bytes(server: Any, db: str, run_cli: Any, tmp_path: Path) -> None:
    """--jobs 2 with a chunk per transaction (each rendered in its own process) writes exactly the --jobs 1 SQL:
    the foreign_key_checks settings between transactions (a MariaDB source's rows applied with checks on, a
    session's with them off), DDL between row transactions, --skip-ddl, a --stop-pos, a filter, an --output file."""
    conn = server.connect(db)
    try:
        with conn.cursor() as cur:
            cur.execute(SCHEMA)
        first = flush(conn)
        with conn.cursor() as cur:
            for statement in WORK:
                cur.execute(statement)
            cur.execute("SET foreign_key_checks = 0")
            cur.execute("INSERT INTO c (id, name, amount) VALUES (4, 'fk off', 4)")
            cur.execute("ALTER TABLE c ADD COLUMN note VARCHAR(10)")
            cur.execute("INSERT INTO c (id, name, amount, note) VALUES (5, 'fk off after DDL', 5, 'n')")
            cur.execute("SET foreign_key_checks = 1")
            cur.execute("CREATE TABLE other (id INT PRIMARY KEY)")
            cur.execute("INSERT INTO c (id, name, amount) VALUES (6, 'fk on', 6)")
            cur.execute("INSERT INTO other VALUES (1)")
        flush(conn)
    finally:
        conn.close()
    path = binlog_path(server, first[0])
    serial = _sql(run_cli, str(path), "--jobs", "1")
    if server.flavor == "mariadb":
        assert "SET SESSION foreign_key_checks = 1;" in serial and serial.count("SET SESSION foreign_key_checks") >= 3
    txns = [line for line in serial.splitlines() if line.startswith("-- txn ")]
    middle = txns[len(txns) // 2].split()[3].split("-")[0].split(":")[1]  # the start of a transaction mid-range
    for extra in ([], ["--skip-ddl"], ["--table", f"{db}.c"], ["--stop-file", path.name, "--stop-pos", middle],
                  ["--start-file", path.name, "--start-pos", middle]):
        one = run_cli("binlog", "replay", str(path), "--jobs", "1", *extra)
        two = run_cli("binlog", "replay", str(path), "--jobs", "2", "--chunk-bytes", "1", *extra)
        assert one.exit_code == two.exit_code == 0, (extra, one.stderr, two.stderr)
        assert "COMMIT;" in one.stdout and two.stdout == one.stdout, extra
        assert two.stderr == one.stderr, extra
    files = [tmp_path / "one.sql", tmp_path / "two.sql"]
    for jobs, out in zip((["--jobs", "1"], ["--jobs", "2", "--chunk-bytes", "1"]), files, strict=True):
        written = run_cli("binlog", "replay", str(path), *jobs, "--output", str(out))
        assert written.exit_code == 0, written.stderr
    assert files[0].read_bytes() == files[1].read_bytes()
