"""`binlog replay FILE|DIR --execute --apply-mode events|auto`: the source's row events sent to a target from local
binlog / relay-log files (.gz/.zst copies too), with no source server. Each way leaves the target as
`mysqlbinlog | mysql` of the same range does (and as the SQL path does); kill -9 and resume applies each
transaction exactly once; compressed transactions (MySQL TRANSACTION_PAYLOAD, MariaDB log_bin_compress) are
applied through row events from the server and from files, forwards and undone; GTID and datetime ranges."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import zstandard

from mysqlinspect.binlog.source.local import LocalBinlogSource
from tests.live.decode_support import flush
from tests.live.replay_support import (
    LOGGED_TRANSACTIONS,
    TABLES,
    Workload,
    assert_each_transaction_applied_once,
    binlog_files_between,
    binlog_position,
    create_schema,
    killed_then_finished,
    logged_range,
    reference_replay,
    table_dump,
    target_checkpoint_progress,
)
from tests.servers import start_replica, wait_for

pytestmark = pytest.mark.live
COMPRESSED_TYPES = {"mysql": {40}, "mariadb": {165, 166, 167, 168}}  # TRANSACTION_PAYLOAD; Query/Rows compressed


def copy_binlogs(server: Any, conn: Any, start: str, stop: str, dest: Path,
                 compress: Callable[[int], str] = lambda i: ("", ".gz", ".zst")[i % 3]) -> Path:
    """The binlog files from `start` to `stop` copied into `dest` (file i plain, gzip or zstd as `compress` says)."""
    dest.mkdir()
    for i, name in enumerate(binlog_files_between(conn, start, stop)):
        data = (Path(server.datadir) / name).read_bytes()
        suffix = compress(i)
        if suffix == ".gz":
            data = gzip.compress(data)
        elif suffix == ".zst":
            data = zstandard.ZstdCompressor().compress(data)
        (dest / (name + suffix)).write_bytes(data)
    return dest


def files_args(server: Any, files: Path | list[Path], db: str, into: str, *range_args: str) -> list[str]:
    paths = [str(p) for p in files] if isinstance(files, list) else [str(files)]
    return ["binlog", "replay", *paths, *range_args, "--table", f"{db}.*", "--rewrite-db", f"{db}={into}",
            "--execute", "--target", f"mysql://root@127.0.0.1:{server.port}", "--yes", "--format", "json"]


def positions(start: tuple[str, int], stop: tuple[str, int]) -> list[str]:
    return ["--start-file", start[0], "--start-pos", str(start[1]), "--stop-file", stop[0], "--stop-pos", str(stop[1])]


def applied(run_cli: Any, *args: str) -> dict[str, Any]:
    result = run_cli(*args)
    assert result.exit_code == 0, result.stderr
    summary: dict[str, Any] = result.json()
    return summary


def test_events_from_files_equal_the_reference(server: Any, db: str, extra_dbs: list[str], run_cli: Any,
                                               tmp_path: Path) -> None:
    """Three files (plain, .gz, .zst) with a DDL in between: events, auto and sql from the files, and mysqlbinlog |
    mysql of the range, all leave the target equal to the source."""
    conn = server.connect()
    ev, auto, sql, ref = (f"{db}_{suffix}" for suffix in ("ev", "auto", "sql", "ref"))
    extra_dbs += [ev, auto, sql, ref]
    for name in (db, ev, auto, sql, ref):
        create_schema(conn, name, server.flavor)
    start = flush(conn)
    workload = Workload(conn, db, seed=21, flavor=server.flavor)
    workload.run(30)
    flush(conn)
    with conn.cursor() as cur:
        cur.execute(f"USE `{db}`")  # unqualified: --rewrite-db rewrites the DDL's default database
        cur.execute("CREATE TABLE t_late (id INT PRIMARY KEY, v VARCHAR(10))")
        cur.execute("INSERT INTO t_late VALUES (1, 'one'), (2, 'two')")
    workload.run(30)
    flush(conn)
    workload.run(30)
    stop = binlog_position(conn)
    flush(conn)
    source = table_dump(conn, db)
    copied = copy_binlogs(server, conn, start[0], stop[0], tmp_path / "binlogs")
    assert {p.suffix for p in copied.iterdir()} >= {".gz", ".zst"}

    by_events = applied(run_cli, *files_args(server, copied, db, ev, *positions(start, stop)), "--apply-mode", "events")
    by_auto = applied(run_cli, *files_args(server, copied, db, auto, *positions(start, stop)))
    by_sql = applied(run_cli, *files_args(server, copied, db, sql, *positions(start, stop)), "--apply-mode", "sql")
    reference_replay(server, conn, start, stop, db, ref)

    assert by_events["apply_mode"] == by_auto["apply_mode"] == "binlog-events"
    assert by_sql["apply_mode"] == "sql"
    assert by_events["ddl"] == 1
    for key in ("transactions", "row_changes", "ddl", "counts"):
        assert by_events[key] == by_sql[key] == by_auto[key], key
    assert table_dump(conn, ref) == source
    for name in (ev, auto, sql):
        assert table_dump(conn, name) == source, name
    conn.close()


def test_events_from_files_killed_and_resumed_applies_each_transaction_once(server: Any, db: str,
                                                                            extra_dbs: list[str],
                                                                            tmp_path: Path) -> None:
    conn = server.connect()
    dst = f"{db}_dst"
    extra_dbs.append(dst)
    flush(conn)
    start, stop = logged_range(conn, db, dst, server.flavor)
    flush(conn)
    copied = copy_binlogs(server, conn, start[0], stop[0], tmp_path / "binlogs", lambda i: ".zst")
    checkpoint = tmp_path / "events-files.checkpoint"
    argv = [sys.executable, "-m", "mysqlinspect", *files_args(server, copied, db, dst, *positions(start, stop)),
            "--apply-mode", "events", "--rate", "300", "--checkpoint", str(checkpoint)]
    kills, final = killed_then_finished(argv, (0.2, 0.4, 0.3), checkpoint, target_checkpoint_progress(server))
    summary = json.loads(final.stdout)
    assert kills >= 2, "the replay finished before it could be killed: make the workload longer"
    assert summary["apply_mode"] == "binlog-events"
    assert summary["checkpoint"]["transactions"] == LOGGED_TRANSACTIONS
    assert_each_transaction_applied_once(conn, db, dst)
    conn.close()


def _compressed_session(server: Any, db: str) -> Any:
    """A session whose transactions are logged compressed (MariaDB: the global log_bin_compress, set by the
    caller; MySQL: the session's binlog_transaction_compression)."""
    conn = server.connect(db)
    if server.flavor == "mysql":
        with conn.cursor() as cur:
            cur.execute("SET SESSION binlog_transaction_compression = ON")
    return conn


def _set_globals(server: Any, settings: dict[str, Any]) -> dict[str, Any]:
    conn = server.connect()
    saved = {}
    try:
        with conn.cursor() as cur:
            for name, value in settings.items():
                cur.execute(f"SELECT @@global.{name}")
                saved[name] = cur.fetchone()[0]
                cur.execute(f"SET GLOBAL {name} = %s", (value,))
    finally:
        conn.close()
    return saved


def test_compressed_transactions_through_row_events(server: Any, db: str, extra_dbs: list[str], run_cli: Any,
                                                    tmp_path: Path) -> None:
    """Compressed transactions (and, on MariaDB, a compressed DDL statement) are applied through row events from
    the server and from files (they were dropped without a word before), equal to the reference; a flashback
    through row events from the files undoes them."""
    conn = server.connect()
    srv, fil, ref = f"{db}_srv", f"{db}_fil", f"{db}_ref"
    extra_dbs += [srv, fil, ref]
    for name in (db, srv, fil, ref):
        create_schema(conn, name, server.flavor)
    empty = table_dump(conn, db)
    mariadb = server.flavor == "mariadb"
    saved = _set_globals(server, {"log_bin_compress": "ON", "log_bin_compress_min_len": 10}) if mariadb else {}
    try:
        start = flush(conn)
        zipped = _compressed_session(server, db)
        try:
            Workload(zipped, db, seed=33, flavor=server.flavor).run(40)
            with zipped.cursor() as cur:
                cur.execute("CREATE TABLE t_late (id INT PRIMARY KEY, v VARCHAR(40)) COMMENT 'logged compressed "
                            "on MariaDB (log_bin_compress_min_len)'")
                cur.execute("INSERT INTO t_late VALUES (1, REPEAT('a', 30)), (2, REPEAT('b', 30))")
                cur.execute("UPDATE t_late SET v = REPEAT('c', 30) WHERE id = 2")
        finally:
            zipped.close()
        stop = binlog_position(conn)
        # from the server, while log_bin_compress is still ON (the own decoder reads it: not refused)
        server_run = applied(run_cli, "binlog", "replay", *server.cli_args(), *positions(start, stop), "--table",
                             f"{db}.*", "--rewrite-db", f"{db}={srv}", "--execute", "--target",
                             f"127.0.0.1:{server.port}", "--allow-same-server", "--yes", "--format", "json",
                             "--apply-mode", "events")
    finally:
        if saved:
            _set_globals(server, saved)
    flush(conn)
    source = table_dump(conn, db)
    copied = copy_binlogs(server, conn, start[0], stop[0], tmp_path / "binlogs", lambda i: ".gz")
    types = {event.type_code for event in LocalBinlogSource(sorted(copied.iterdir()))}
    assert COMPRESSED_TYPES[server.flavor] <= types, types
    files_run = applied(run_cli, *files_args(server, copied, db, fil, *positions(start, stop)),
                        "--apply-mode", "events")
    reference_replay(server, conn, start, stop, db, ref)
    assert table_dump(conn, ref) == source
    assert table_dump(conn, srv) == source
    assert table_dump(conn, fil) == source
    for summary in (server_run, files_run):
        assert summary["apply_mode"] == "binlog-events" and summary["ddl"] == 1
    assert server_run["row_changes"] == files_run["row_changes"] > 40

    undo = applied(run_cli, *files_args(server, copied, db, fil, *positions(start, stop)), "--flashback",
                   "--skip-ddl", "--apply-mode", "events")
    assert undo["apply_mode"] == "binlog-events"
    undone = table_dump(conn, fil)
    assert undone.pop("t_late") == []
    assert undone == empty
    conn.close()


def _independent_transactions(conn: Any, db: str, count: int, base: int) -> None:
    """Transaction n inserts rows n and 1000 + n at second base + n: any subset applies on its own."""
    with conn.cursor() as cur:
        cur.execute(f"USE `{db}`")
        for n in range(count):
            cur.execute("SET timestamp = %s", (base + n,))
            cur.execute("BEGIN")
            cur.execute("INSERT INTO t_uk VALUES (%s, %s, 'a'), (%s, %s, 'b')", (n, n, 1000 + n, n))
            cur.execute("COMMIT")
        cur.execute("SET timestamp = DEFAULT")


def _gtids(run_cli: Any, files: Path, db: str) -> list[str]:
    tail = run_cli("binlog", "tail", str(files), "--table", f"{db}.*", "--format", "jsonl")
    assert tail.exit_code == 0, tail.stderr
    return [line["gtid"] for line in tail.jsonl() if line["kind"] == "transaction"]


def _ids(conn: Any, db: str) -> list[int]:
    with conn.cursor() as cur:
        cur.execute(f"SELECT u FROM `{db}`.t_uk WHERE u < 1000 ORDER BY u")
        return [int(r[0]) for r in cur.fetchall()]


def test_gtid_and_datetime_ranges_in_events_mode(server: Any, db: str, extra_dbs: list[str], run_cli: Any,
                                                 tmp_path: Path) -> None:
    """--start-datetime/--stop-datetime, --gtid and --include-gtids with --apply-mode events, from files and from
    the server: the transactions the SQL path applies, no more, no less; auto keeps SQL for a GTID range."""
    conn = server.connect()
    create_schema(conn, db, server.flavor)
    start = flush(conn)
    base = int(time.time()) + 5  # distinct seconds of their own, after everything the server logged before
    _independent_transactions(conn, db, 12, base)
    stop = binlog_position(conn)  # no flush: the newest file (by creation time) is the one active at base + 10
    copied = copy_binlogs(server, conn, start[0], stop[0], tmp_path / "binlogs", lambda i: "")
    gtids = _gtids(run_cli, copied, db)
    assert len(gtids) == 12
    server_args = ["binlog", "replay", *server.cli_args(), "--table", f"{db}.*", "--execute", "--target",
                   f"127.0.0.1:{server.port}", "--allow-same-server", "--yes", "--format", "json"]
    datetimes = ["--start-datetime", _iso(base + 4), "--stop-datetime", _iso(base + 9)]
    cases: list[tuple[str, list[str], list[int]]] = [
        ("files", datetimes, list(range(4, 9))),
        ("files", ["--gtid", gtids[3], "--stop-file", stop[0], "--stop-pos", str(stop[1])], list(range(3, 12))),
        ("files", ["--include-gtids", gtids[5]], [5]),
        ("server", ["--start-file", start[0], "--start-pos", str(start[1]), *datetimes[2:]], list(range(9))),
        ("server", ["--gtid", gtids[7], "--stop-file", stop[0], "--stop-pos", str(stop[1])], list(range(7, 12))),
        ("server", ["--start-datetime", _iso(base + 10), "--stop-file", stop[0], "--stop-pos", str(stop[1])],
         [10, 11]),
    ]
    for i, (where, options, expected) in enumerate(cases):
        got = {}
        for mode in ("events", "sql"):
            into = f"{db}_{i}{mode[0]}"
            extra_dbs.append(into)
            create_schema(conn, into, server.flavor)
            if where == "files":
                summary = applied(run_cli, *files_args(server, copied, db, into, *options), "--apply-mode", mode)
            else:
                summary = applied(run_cli, *server_args, "--rewrite-db", f"{db}={into}", *options, "--apply-mode",
                                  mode)
            assert summary["apply_mode"] == ("binlog-events" if mode == "events" else "sql"), (where, options)
            assert summary["transactions"] == len(expected), (where, options, summary)
            got[mode] = table_dump(conn, into)
            assert _ids(conn, into) == expected, (where, options, mode)
        assert got["events"] == got["sql"], (where, options)
    auto_into = f"{db}_auto"
    extra_dbs.append(auto_into)
    create_schema(conn, auto_into, server.flavor)
    auto = applied(run_cli, *server_args, "--rewrite-db", f"{db}={auto_into}", *cases[4][1])
    assert auto["apply_mode"] == "sql" and "GTID" in auto["apply_mode_note"]
    assert _ids(conn, auto_into) == cases[4][2]
    conn.close()


def _iso(timestamp: int) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat()


def _replica_rows(replica: Any, db: str) -> Any:
    conn = replica.connect()
    try:
        return table_dump(conn, db)
    finally:
        conn.close()


def test_events_from_relay_logs(server: Any, db: str, extra_dbs: list[str], make_server: Any,
                                run_cli: Any) -> None:
    """A replica's relay logs (its own Format_description and the source's; source positions in the event
    headers) replayed through row events give the source's tables."""
    replica = make_server(server.flavor, extra_args=["--relay-log-purge=OFF"], server_id=710)
    conn = server.connect()
    dst = f"{db}_relay"
    extra_dbs.append(dst)
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{dst}`")
    start = flush(conn)
    create_schema(conn, db, server.flavor)
    Workload(conn, db, seed=41, flavor=server.flavor).run(40)
    flush(conn)
    source = table_dump(conn, db)
    start_replica(server, replica, start, f"CREATE DATABASE `{db}`")
    wait_for(lambda: _replica_rows(replica, db) == source, timeout=120)
    rconn = replica.connect()
    with rconn.cursor() as cur:
        cur.execute("FLUSH RELAY LOGS")
    rconn.close()
    relay_files = sorted(Path(replica.datadir).glob("*relay-bin.[0-9]*"))
    summary = applied(run_cli, *files_args(server, relay_files, db, dst))
    assert summary["apply_mode"] == "binlog-events"
    assert summary["ddl"] >= len(TABLES)
    assert table_dump(conn, dst) == source
    conn.close()
