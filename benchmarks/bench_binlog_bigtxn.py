"""Benchmark: one very large transaction (issue 10, item 4: 1,000,000 rows, peak RSS under 256 MB) through every
path of `binlog tail` and `binlog replay`, against `mysqlbinlog` measured in the same run.

Starts a throw-away sandbox (MySQL 9.7 by default) and writes one transaction of --rows rows (default 1,000,000)
into src.t(id INT PRIMARY KEY, k INT, c VARCHAR(64), d DECIMAL(12,2), ts DATETIME(3), j JSON) as ONE statement
(INSERT ... SELECT: its row events are one statement, the hardest case for the events mode, which must cut it
into several BINLOG statements). Then, each in its own process, with wall time, k rows/s, the ratio to the
matching `mysqlbinlog` reference and peak RSS (GNU time's %M, of the process and the processes it forks):

  mysqlbinlog -vv --base64-output=decode-rows FILE > /dev/null     reference for reading (1.00x)
  binlog tail FILE --format jsonl / from the server                 vs the reading reference
  binlog replay FILE / from the server (dry-run SQL)                vs the reading reference
  binlog replay --flashback FILE (dry-run SQL)                      vs the reading reference
  mysqlbinlog FILE | mysql (into ref.t)                             reference for applying (1.00x)
  binlog replay --execute --apply-mode sql | events | auto         vs the applying reference (into s.t, e.t, a.t)
  binlog replay FILE --execute --apply-mode sql | events           vs the applying reference (into sf.t, ef.t)
  binlog replay --flashback --execute (auto: events) on a.t         vs the applying reference (a.t emptied)

Every target table is checked against src.t (CHECKSUM TABLE); the flashback must leave a.t empty. Not a timed
test: figures vary with the machine's load. `--only NAME[,NAME]` runs a subset (names: tail, tail-server,
replay, replay-server, flashback, execute-sql, execute-events, execute-sql-file, execute-events-file, execute-auto,
flashback-execute; the references always run); `--keep` leaves the sandbox directory in place.

    .venv/bin/python benchmarks/bench_binlog_bigtxn.py [--flavor mysql|mariadb] [--rows 1000000] [--only tail]
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mysqlinspect.sandbox.server import SandboxServer, temporary_server  # noqa: E402
from tests.live.replay_support import binlog_position  # noqa: E402

GNU_TIME = "/usr/bin/time"
TARGETS = {"execute-sql": "s", "execute-events": "e", "execute-auto": "a", "execute-sql-file": "sf",
           "execute-events-file": "ef"}
BOUND_MB = 256


@dataclass(frozen=True)
class Measured:
    seconds: float
    cpu: float
    peak_mb: float
    stdout: str


def connect(server: SandboxServer) -> Any:
    return pymysql.connect(host="127.0.0.1", port=server.port, user="root", password="", autocommit=True,
                           charset="utf8mb4", read_timeout=3600)


def measured(argv: list[str], name: str) -> Measured:
    """One child process (through GNU time, whose %M is the peak RSS of its child and that child's children):
    wall time, CPU (user + system of the whole tree), peak RSS, the start of its stdout; a failure stops all."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile() as report:
        prefix = [GNU_TIME, "-f", "%M", "-o", report.name] if os.path.exists(GNU_TIME) else []
        started = time.perf_counter()
        proc = subprocess.Popen([*prefix, *argv], stdout=out, stderr=err, cwd=ROOT,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        words = Path(report.name).read_text().split() if prefix else []
        peak = int(words[-1]) / 1024 if words and words[-1].isdigit() else usage.ru_maxrss / 1024
        out.seek(0)
        err.seek(0)
        if code:
            raise SystemExit(f"{name} failed ({code}): {err.read().decode(errors='replace')[-1500:]}")
        return Measured(seconds, usage.ru_utime + usage.ru_stime, peak, out.read(65536).decode(errors="replace"))


def generate(server: SandboxServer, rows: int) -> tuple[str, int, int]:
    """The transaction in a binlog file of its own: (file, start, end)."""
    conn = connect(server)
    json_type = "LONGTEXT" if server.flavor == "mariadb" else "JSON"
    with conn.cursor() as cur:
        for db in ("src", "ref", *TARGETS.values()):
            cur.execute(f"CREATE DATABASE {db}")
            cur.execute(f"CREATE TABLE {db}.t (id INT PRIMARY KEY, k INT, c VARCHAR(64), d DECIMAL(12,2), "
                        f"ts DATETIME(3), j {json_type}) ENGINE=InnoDB")
        cur.execute("SET SESSION max_recursive_iterations = 100000000" if server.flavor == "mariadb" else
                    "SET SESSION cte_max_recursion_depth = 100000000")
        cur.execute("FLUSH BINARY LOGS")
        file, start = binlog_position(conn)
        started = time.perf_counter()
        json = "JSON_OBJECT('i', n, 's', 'some text')"
        cur.execute(f"""INSERT INTO src.t
            WITH RECURSIVE seq (n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < {rows - 1})
            SELECT n, n % 97, CONCAT('row-', n, '-abcdefghij'), n / 7, '2024-01-02 03:04:05.678', {json} FROM seq""")
        _, end = binlog_position(conn)
        cur.execute("FLUSH BINARY LOGS")
        print(f"wrote {rows:,} rows in one transaction (one statement) in {time.perf_counter() - started:.1f}s: "
              f"{file} {start}..{end}, {(end - start) / 2**20:.1f} MB", flush=True)
    conn.close()
    return file, start, end


def checksum(server: SandboxServer, db: str) -> tuple[int, int]:
    conn = connect(server)
    with conn.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {db}.t")
        count = int(cur.fetchone()[0])
        cur.execute(f"CHECKSUM TABLE {db}.t")
        value = int(cur.fetchone()[1] or 0)
    conn.close()
    return count, value


def tools(server: SandboxServer) -> tuple[list[str], list[str]]:
    if server.flavor == "mariadb":
        return ["mariadb-binlog"], ["mariadb"]
    return server.program("mysqlbinlog"), server.program("mysql")


def run(server: SandboxServer, args: argparse.Namespace) -> None:
    rows = args.rows
    file, start, end = generate(server, rows)
    path = str(server.datadir / file)
    binlog, client = tools(server)
    conn_args = ["--host=127.0.0.1", f"--port={server.port}", "--user=root"]
    cli = [sys.executable, "-m", "mysqlinspect", "binlog"]
    source = ["--start-file", file, "--start-pos", str(start), "--stop-file", file, "--stop-pos", str(end),
              "--table", "src.*"]
    server_args = server.cli_args()
    target = ["--execute", "--target", f"127.0.0.1:{server.port}", "--allow-same-server", "--yes", "--format", "json"]
    only = set(args.only.split(",")) if args.only else None
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} before the runs", flush=True)

    results: list[tuple[str, Measured, Measured | None]] = []
    read_ref = measured([*binlog, "--no-defaults", "-vv", "--base64-output=decode-rows", path],
                        "mysqlbinlog -vv")
    results.append(("mysqlbinlog -vv --base64-output=decode-rows FILE", read_ref, None))
    skip_gtids = [] if server.flavor == "mariadb" else ["--skip-gtids"]
    dump = [*binlog, "--no-defaults", *skip_gtids, f"--start-position={start}", f"--stop-position={end}",
            "--rewrite-db=src->ref", path]
    load = [*client, "--no-defaults", *conn_args, "--binary-mode", "--max-allowed-packet=1G"]
    pipeline = shlex.join(dump) + " | " + shlex.join(load)
    apply_ref = measured(["bash", "-o", "pipefail", "-c", pipeline], "mysqlbinlog | mysql")
    results.append(("mysqlbinlog FILE | mysql", apply_ref, None))

    ours: list[tuple[str, str, list[str], Measured]] = [
        ("tail", "binlog tail FILE --format jsonl", [*cli, "tail", path, *source, "--format", "jsonl"], read_ref),
        ("tail-server", "binlog tail --format jsonl (server)",
         [*cli, "tail", *server_args, *source, "--format", "jsonl"], read_ref),
        ("replay", "binlog replay FILE (dry-run SQL)", [*cli, "replay", path, *source], read_ref),
        ("replay-server", "binlog replay (dry-run SQL, server)", [*cli, "replay", *server_args, *source], read_ref),
        ("flashback", "binlog replay --flashback FILE (dry-run SQL)",
         [*cli, "replay", path, *source, "--flashback"], read_ref),
        ("execute-sql", "replay --execute --apply-mode sql",
         [*cli, "replay", *server_args, *source, *target, "--rewrite-db", "src=s", "--apply-mode", "sql"], apply_ref),
        ("execute-events", "replay --execute --apply-mode events",
         [*cli, "replay", *server_args, *source, *target, "--rewrite-db", "src=e", "--apply-mode", "events"],
         apply_ref),
        ("execute-sql-file", "replay FILE --execute --apply-mode sql",
         [*cli, "replay", path, *source, *target, "--rewrite-db", "src=sf", "--apply-mode", "sql"], apply_ref),
        ("execute-events-file", "replay FILE --execute --apply-mode events",
         [*cli, "replay", path, *source, *target, "--rewrite-db", "src=ef", "--apply-mode", "events"], apply_ref),
        ("execute-auto", "replay --execute (auto)",
         [*cli, "replay", *server_args, *source, *target, "--rewrite-db", "src=a"], apply_ref),
        ("flashback-execute", "replay --flashback --execute (auto) on a.t",
         [*cli, "replay", *server_args, *source, *target, "--rewrite-db", "src=a", "--flashback"], apply_ref),
    ]
    for key, name, argv, reference in ours:
        if only is not None and key not in only:
            continue
        result = measured(argv, name)
        results.append((name, result, reference))
        if key.startswith("execute"):
            mode = "binlog-events" if '"apply_mode": "binlog-events"' in result.stdout else "sql"
            results[-1] = (f"{name} [{mode}]", result, reference)
        print(f"  {name}: {result.seconds:.1f}s, peak {result.peak_mb:.0f} MB", flush=True)

    print(f"\n{rows:,} rows in one transaction; {server.flavor} {server.distribution.version}; "
          f"load average {os.getloadavg()[0]:.2f} after the runs")
    print(f"{'path':52s} {'wall':>8s} {'k rows/s':>9s} {'vs ref':>7s} {'cpu':>8s} {'peak RSS':>9s}")
    for name, result, reference in results:
        ratio = f"{reference.seconds / result.seconds:6.2f}x" if reference else "  1.00x"
        print(f"{name:52s} {result.seconds:7.1f}s {rows / result.seconds / 1000:9.1f} {ratio:>7s} "
              f"{result.cpu:7.1f}s {result.peak_mb:6.0f} MB")
    expected = checksum(server, "src")
    checks = {"ref": expected}
    for key, db in TARGETS.items():
        if only is None or key in only:
            checks[db] = checksum(server, db)
    if only is None or "flashback-execute" in only:
        checks["a"] = checksum(server, "a")
        wanted = {db: (expected if db != "a" else (0, 0)) for db in checks}
    else:
        wanted = dict.fromkeys(checks, expected)
    print("targets as expected (CHECKSUM TABLE; a.t empty after the flashback):", checks == wanted,
          {db: value for db, value in checks.items() if value != wanted[db]} or "")
    over = [name for name, result, reference in results if reference and result.peak_mb >= BOUND_MB]
    print(f"every mysqlinspect path under {BOUND_MB} MB peak RSS:", not over, over or "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flavor", choices=("mysql", "mariadb"), default="mysql")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--only", help="a subset of the mysqlinspect paths (see above)")
    parser.add_argument("--keep", action="store_true", help="leave the sandbox directory")
    args = parser.parse_args()
    server = temporary_server(args.flavor, server_id=78, extra_args=["--max-allowed-packet=1G"])
    server.start()
    try:
        run(server, args)
    finally:
        if args.keep:
            server.stop()
            print(f"sandbox left in {server.base}")
        else:
            server.destroy()


if __name__ == "__main__":
    main()
