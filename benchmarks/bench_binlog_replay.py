"""Benchmark: `binlog replay --execute` against `mysqlbinlog | mysql` on the same range, in the same run.

Starts a sandbox server (MySQL 9.7 by default), writes >= 200k row changes (inserts, updates, deletes in
transactions of 100 rows) into database `src`, then applies that range four ways and checks all give `src`:
  1. mysqlinspect binlog replay --execute --apply-mode events (src -> dst)  rows/s (row events as BINLOG)
  1b. the same with --apply-mode sql (into dst2)                          rows/s (generated SQL)
  2. mysqlbinlog --rewrite-db src->ref | mysql (the reference tools)     rows/s, and the ratio 1/2 (target >= 0.8)
  3. mysqlinspect binlog replay --output FILE (dry-run SQL generation)   rows/s
Each side runs --repeat times, alternating; the best time of each counts (the machine may be shared).

    .venv/bin/python benchmarks/bench_binlog_replay.py [--flavor mysql|mariadb] [--rows 200000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pymysql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mysqlinspect.sandbox.server import SandboxServer, temporary_server  # noqa: E402
from tests.live.replay_support import binlog_position  # noqa: E402

SCHEMA = ("CREATE TABLE t (id INT PRIMARY KEY, a INT NOT NULL, b VARCHAR(40), c DOUBLE, d DATETIME(3), "
          "e DECIMAL(12,2), KEY (a)) ENGINE=InnoDB")
BATCH = 100


def connect(server: SandboxServer, db: str | None = None) -> Any:
    return pymysql.connect(host="127.0.0.1", port=server.port, user="root", password="", database=db,
                           autocommit=True, charset="utf8mb4")


def write_workload(conn: Any, rows: int) -> int:
    """inserts 50%, updates 35%, deletes 15% of `rows` row changes, BATCH rows per transaction."""
    inserts, updates = rows // 2, rows * 35 // 100
    deletes = rows - inserts - updates
    with conn.cursor() as cur:
        for first in range(0, inserts, BATCH):
            values = ",".join(f"({i}, {i % 997}, 'name-{i}', {i / 7!r}, '2024-01-01 00:00:00.123', {i}.25)"
                              for i in range(first, min(first + BATCH, inserts)))
            cur.execute(f"INSERT INTO t VALUES {values}")
        for first in range(0, updates, BATCH):
            lo = first % inserts
            cur.execute(f"UPDATE t SET a = a + 1, b = CONCAT(b, '+'), c = c * 2 WHERE id >= {lo} "
                        f"AND id < {lo + BATCH}")
        for first in range(0, deletes, BATCH):
            cur.execute(f"DELETE FROM t WHERE id >= {inserts - first - BATCH} AND id < {inserts - first}")
    return inserts + updates + deletes


def checksum(conn: Any, db: str) -> Any:
    with conn.cursor() as cur:
        cur.execute(f"CHECKSUM TABLE `{db}`.t")
        return cur.fetchone()[1]


def timed(argv: list[str], **kwargs: Any) -> float:
    started = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, **kwargs)
    if proc.returncode != 0:
        raise SystemExit(f"{argv[0]} failed: {proc.stderr[-2000:]!r}")
    return time.monotonic() - started


def reference(server: SandboxServer, start: tuple[str, int], stop: tuple[str, int], files: list[str]) -> float:
    conn_args = ["--host=127.0.0.1", f"--port={server.port}", "--user=root"]
    if server.flavor == "mariadb":
        tool, client, extra = ["mariadb-binlog"], ["mariadb"], ["--database=src"]
    else:
        tool, client, extra = server.program("mysqlbinlog"), server.program("mysql"), ["--skip-gtids",
                                                                                      "--database=ref"]
    dump = [*tool, "--no-defaults", "--read-from-remote-server", *conn_args, f"--start-position={start[1]}",
            f"--stop-position={stop[1]}", "--rewrite-db=src->ref", *extra, *files]
    started = time.monotonic()
    producer = subprocess.Popen(dump, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    consumer = subprocess.run([*client, "--no-defaults", *conn_args, "--binary-mode"], stdin=producer.stdout,
                              capture_output=True)
    assert producer.stdout is not None
    producer.stdout.close()
    producer.wait()
    if producer.returncode or consumer.returncode:
        raise SystemExit(f"reference failed: {consumer.stderr[-2000:]!r}")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flavor", choices=("mysql", "mariadb"), default="mysql")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each side; the best counts")
    args = parser.parse_args()
    server = temporary_server(args.flavor, server_id=77)
    server.start()
    try:
        run(server, args.rows, args.repeat)
    finally:
        server.destroy()


def run(server: SandboxServer, rows: int, repeat: int) -> None:
    conn = connect(server)
    with conn.cursor() as cur:
        for db in ("src", "dst", "dst2", "ref"):
            cur.execute(f"CREATE DATABASE {db}")
            cur.execute(f"CREATE TABLE {db}.{SCHEMA[len('CREATE TABLE '):]}")
        cur.execute("FLUSH BINARY LOGS")
    start = binlog_position(conn)
    started = time.monotonic()
    changes = write_workload(connect(server, "src"), rows)
    stop = binlog_position(conn)
    with conn.cursor() as cur:
        cur.execute("SHOW BINARY LOGS")
        files = [str(r[0]) for r in cur.fetchall() if start[0] <= str(r[0]) <= stop[0]]
    print(f"server: {server.flavor} {server.distribution.version}; workload: {changes} row changes, "
          f"{stop[1] - start[1] if start[0] == stop[0] else 'several files'} bytes of binlog, written in "
          f"{time.monotonic() - started:.1f}s")
    cli = [sys.executable, "-m", "mysqlinspect", "binlog", "replay", *server.cli_args(), "--start-file", start[0],
           "--start-pos", str(start[1]), "--stop-file", stop[0], "--stop-pos", str(stop[1]), "--table", "src.*"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    ours_runs, sql_runs, theirs_runs = [], [], []
    for _ in range(repeat):  # alternating, best of `repeat`: the machine may be shared
        for db in ("dst", "dst2", "ref"):
            with conn.cursor() as cur:
                cur.execute(f"TRUNCATE TABLE {db}.t")
        execute = ["--execute", "--target", f"127.0.0.1:{server.port}", "--allow-same-server", "--yes",
                   "--format", "json"]
        ours_runs.append(timed([*cli, "--rewrite-db", "src=dst", *execute, "--apply-mode", "events"], env=env))
        sql_runs.append(timed([*cli, "--rewrite-db", "src=dst2", *execute, "--apply-mode", "sql"], env=env))
        theirs_runs.append(reference(server, start, stop, files))
    ours, ours_sql, theirs = min(ours_runs), min(sql_runs), min(theirs_runs)
    with tempfile.TemporaryDirectory() as tmp:
        dry = timed([*cli, "--output", str(Path(tmp) / "replay.sql"), "--format", "json"], env=env)
    same = checksum(conn, "src") == checksum(conn, "dst") == checksum(conn, "dst2") == checksum(conn, "ref")
    print("runs (s): mysqlinspect events " + ", ".join(f"{t:.2f}" for t in ours_runs) + "; sql "
          + ", ".join(f"{t:.2f}" for t in sql_runs) + "; reference " + ", ".join(f"{t:.2f}" for t in theirs_runs))
    print(f"replay --execute --apply-mode events : {ours:7.2f}s  {changes / ours:10,.0f} rows/s")
    print(f"replay --execute --apply-mode sql    : {ours_sql:7.2f}s  {changes / ours_sql:10,.0f} rows/s")
    print(f"mysqlbinlog | mysql (reference)      : {theirs:7.2f}s  {changes / theirs:10,.0f} rows/s")
    print(f"ratio events (target >= 0.80)        : {theirs / ours:7.2f}x")
    print(f"ratio sql                            : {theirs / ours_sql:7.2f}x")
    print(f"dry run SQL generation (--output)    : {dry:7.2f}s  {changes / dry:10,.0f} rows/s")
    print(f"targets identical to the source      : {same}")


if __name__ == "__main__":
    main()
