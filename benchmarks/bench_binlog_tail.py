"""Benchmark: `binlog tail --format jsonl` vs plain BinLogStreamReader iteration over the same range, and
`binlog stats --headers-only` (the fastest path) vs the MySQL 9.7 `mysqlbinlog` reading the same files.

Starts a throw-away MySQL sandbox, writes N single-row INSERT statements (each one a Table_map + Write_rows
event; 1000 statements per transaction), then times, in this run:
  A. plain iteration of pymysqlreplication.BinLogStreamReader over the range, decoding every row (`.rows`);
  B. `mysqlinspect binlog tail --start-file ... --format jsonl > /dev/null` (subprocess; the own decoder), and
     B'. the same with `--decoder library` (mysql-replication, the previous path);
  C. `mysqlinspect binlog stats --headers-only --format json > /dev/null` (fastest path, subprocess);
  D. `mysqlbinlog --read-from-remote-server` of the same files > /dev/null (and, as a second reference,
     `mysqlbinlog` reading the local files directly);
  E. `mysqlinspect binlog stats FILE...` of the same files, with no server (--headers-only, then the default
     row count), against C.
Targets: B/A overhead <= 15 %; C within 2x of D; E no slower than C.

    .venv/bin/python benchmarks/bench_binlog_tail.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from pymysqlreplication import BinLogStreamReader
from pymysqlreplication.row_event import RowsEvent

from mysqlinspect.sandbox.server import SandboxServer, temporary_server

CLI = [sys.executable, "-m", "mysqlinspect"]


def generate(server: SandboxServer, rows: int) -> tuple[str, int]:
    conn = server.connect()
    with conn.cursor() as cur:
        cur.execute("CREATE DATABASE bench")
        cur.execute("CREATE TABLE bench.t (id INT PRIMARY KEY, k INT, c VARCHAR(40), d DECIMAL(10,2), "
                    "ts DATETIME(3), j JSON)")
        cur.execute("""CREATE PROCEDURE bench.fill(n INT)
            BEGIN
              DECLARE i INT DEFAULT 0;
              START TRANSACTION;
              WHILE i < n DO
                INSERT INTO bench.t VALUES (i, i % 97, CONCAT('row-', i), i / 7, NOW(3), JSON_OBJECT('i', i));
                SET i = i + 1;
                IF i % 1000 = 0 THEN COMMIT; START TRANSACTION; END IF;
              END WHILE;
              COMMIT;
            END""")
        cur.execute("FLUSH BINARY LOGS")
        cur.execute("SHOW BINARY LOG STATUS")
        start = cur.fetchone()
        t0 = time.perf_counter()
        cur.execute("CALL bench.fill(%s)", (rows,))
        print(f"generated {rows:,} row events in {time.perf_counter() - t0:.1f}s", flush=True)
    conn.close()
    return str(start[0]), int(start[1])


def plain_iteration(server: SandboxServer, start: tuple[str, int]) -> tuple[float, int, int]:
    settings = {"host": "127.0.0.1", "port": server.port, "user": "root", "passwd": ""}
    t0 = time.perf_counter()
    reader = BinLogStreamReader(connection_settings=settings, server_id=987654321, resume_stream=True, blocking=False,
                                log_file=start[0], log_pos=start[1], enable_logging=False)
    events = rows = 0
    for event in reader:
        events += 1
        if isinstance(event, RowsEvent):
            rows += len(event.rows)
    reader.close()
    return time.perf_counter() - t0, events, rows


def timed(argv: list[str], capture: bool = False) -> tuple[float, str]:
    """Run argv; stdout goes to /dev/null unless captured (only small outputs are captured)."""
    t0 = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.PIPE if capture else subprocess.DEVNULL, stderr=subprocess.PIPE,
                          check=True, text=True)
    return time.perf_counter() - t0, proc.stdout or ""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2, help="A/B rounds (0: only the stats comparison)")
    args = parser.parse_args()
    server = temporary_server("mysql", server_id=4242)
    server.start()
    try:
        return run(server, args.rows, args.rounds)
    finally:
        server.destroy()


def compare_tail(server: SandboxServer, start: tuple[str, int], rounds: int) -> None:
    """A/B alternated `rounds` times; the minimum of each is the least disturbed run."""
    plain_times, tail_times, library_times = [], [], []
    events = 0
    for round_no in range(1, rounds + 1):
        plain_s, events, decoded = plain_iteration(server, start)
        plain_times.append(plain_s)
        print(f"round {round_no} A plain BinLogStreamReader: {plain_s:.1f}s  {events:,} events "
              f"({events / plain_s:,.0f}/s), {decoded:,} rows", flush=True)
        tail_s, _ = timed([*CLI, "binlog", "tail", *server.cli_args(), "--start-file", start[0], "--start-pos",
                           str(start[1]), "--format", "jsonl"])
        tail_times.append(tail_s)
        print(f"round {round_no} B binlog tail --format jsonl: {tail_s:.1f}s ({events / tail_s:,.0f} events/s)",
              flush=True)
        library_s, _ = timed([*CLI, "binlog", "tail", *server.cli_args(), "--start-file", start[0], "--start-pos",
                              str(start[1]), "--format", "jsonl", "--decoder", "library"])
        library_times.append(library_s)
        print(f"round {round_no} B' the same with --decoder library: {library_s:.1f}s "
              f"({events / library_s:,.0f} events/s)", flush=True)
    plain_s, tail_s = min(plain_times), min(tail_times)
    print(f"B'/B best of {rounds}: the own decoder is {min(library_times) / tail_s:.2f}x the library path",
          flush=True)
    print(f"A/B best of {rounds}: plain {plain_s:.1f}s ({events / plain_s:,.0f} events/s), tail {tail_s:.1f}s "
          f"({events / tail_s:,.0f} events/s): overhead {100 * (tail_s / plain_s - 1):+.1f}% (target <= 15%)",
          flush=True)


def compare_stats(server: SandboxServer, start: tuple[str, int], files: list[str]) -> None:
    stats_s, out = timed([*CLI, "binlog", "stats", *server.cli_args(), "--start-file", start[0], "--start-pos",
                          str(start[1]), "--headers-only", "--format", "json"], capture=True)
    events = json.loads(out)["events"]
    mysqlbinlog = server.program("mysqlbinlog")
    remote_s, _ = timed([*mysqlbinlog, "--read-from-remote-server", "-h", "127.0.0.1", "-P", str(server.port), "-u",
                         "root", f"--start-position={start[1]}", *files])
    local_s, _ = timed([*mysqlbinlog, f"--start-position={start[1]}", *[str(server.datadir / f) for f in files]])
    print(f"C binlog stats (fast path): {stats_s:.1f}s ({events / stats_s:,.0f} events/s)", flush=True)
    print(f"D mysqlbinlog remote: {remote_s:.1f}s, local files: {local_s:.1f}s", flush=True)
    print(f"stats / mysqlbinlog remote = {stats_s / remote_s:.2f}x, / local = {stats_s / local_s:.2f}x "
          "(target <= 2x)", flush=True)
    paths = [str(server.datadir / f) for f in files]
    rows_s, _ = timed([*CLI, "binlog", "stats", *server.cli_args(), "--start-file", start[0], "--start-pos",
                       str(start[1]), "--format", "json"])
    for label, extra, reference in (("--headers-only", ["--headers-only"], stats_s), ("rows counted", [], rows_s)):
        files_s, out = timed([*CLI, "binlog", "stats", *paths, *extra, "--format", "json"], capture=True)
        print(f"E binlog stats FILE... {label}: {files_s:.1f}s ({json.loads(out)['events'] / files_s:,.0f} events/s)"
              f" = {files_s / reference:.2f}x the same from the server (target <= 1x)", flush=True)


def run(server: SandboxServer, rows: int, rounds: int) -> int:
    start = generate(server, rows)
    conn = server.connect()
    with conn.cursor() as cur:
        cur.execute("SHOW BINARY LOGS")
        files = [r[0] for r in cur.fetchall() if r[0] >= start[0]]
    conn.close()
    if rounds:
        compare_tail(server, start, rounds)
    for _ in range(2):  # twice: the second run shows how much the first was disturbed
        compare_stats(server, start, files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
