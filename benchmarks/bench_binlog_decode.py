"""Benchmark: our own binlog decoder (mysqlinspect.binlog.source + decode) reading a local binlog file, against
`mysqlbinlog -vv --base64-output=decode-rows` on the same file and mysql-replication's plain iteration.

Starts a throw-away MySQL 9.7 sandbox and builds issue 10's workload shape, scaled down by default: table
t(id INT PRIMARY KEY, k INT, c VARCHAR(64), d DECIMAL(12,2), ts DATETIME(3), j JSON), --transactions INSERT
transactions of --rows-per-txn rows each, then --updates single-row UPDATE transactions (SET k=k+1,
c=CONCAT(c,'u')). Then, in this run, each in its own process (peak RSS measured per process with wait4):
  A. our decoder over the file: every event decoded to records with model values;
  B. `mysqlinspect binlog tail FILE --format jsonl > /dev/null` (decoder + transactions + JSON output);
  C. `mysqlbinlog -vv --base64-output=decode-rows FILE > /dev/null` (the reference, 1.00x);
  D. pymysqlreplication.BinLogStreamReader plain iteration over the same range from the server (`.rows`).
Row changes per second are printed for each, and the ratio to C. Not a timed test: figures vary with load.

    .venv/bin/python benchmarks/bench_binlog_decode.py [--transactions 100 --rows-per-txn 1000 --updates 20000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mysqlinspect.sandbox.server import SandboxServer, temporary_server

DECODE_SNIPPET = """
import sys
from mysqlinspect.binlog.decode.events import EventDecoder
from mysqlinspect.binlog.source.local import LocalBinlogSource
decoder = EventDecoder()
rows = 0
for raw in LocalBinlogSource(sys.argv[1:]):
    for record in decoder.decode(raw):
        rows += len(record.rows)
print(rows)
"""
LIBRARY_SNIPPET = """
import sys
from pymysqlreplication import BinLogStreamReader
from pymysqlreplication.row_event import RowsEvent
port, file = int(sys.argv[1]), sys.argv[2]
reader = BinLogStreamReader(connection_settings={"host": "127.0.0.1", "port": port, "user": "root", "passwd": ""},
                            server_id=987654322, resume_stream=True, blocking=False, log_file=file, log_pos=4,
                            enable_logging=False)
rows = 0
for event in reader:
    if isinstance(event, RowsEvent) and reader.log_file == file:
        rows += len(event.rows)
reader.close()
print(rows)
"""


def generate(server: SandboxServer, transactions: int, per_txn: int, updates: int) -> str:
    conn = server.connect()
    with conn.cursor() as cur:
        cur.execute("SET SESSION cte_max_recursion_depth = 1000000")
        cur.execute("CREATE DATABASE bench")
        cur.execute("CREATE TABLE bench.t (id INT PRIMARY KEY, k INT, c VARCHAR(64), d DECIMAL(12,2), "
                    "ts DATETIME(3), j JSON)")
        cur.execute("FLUSH BINARY LOGS")
        cur.execute("SHOW BINARY LOG STATUS")
        file = str(cur.fetchone()[0])
        t0 = time.perf_counter()
        for txn in range(transactions):
            base = txn * per_txn
            cur.execute(f"""INSERT INTO bench.t
                WITH RECURSIVE seq (n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < {per_txn - 1})
                SELECT {base} + n, n % 97, CONCAT('row-', {base} + n), ({base} + n) / 7, NOW(3),
                       JSON_OBJECT('i', {base} + n, 's', 'some text') FROM seq""")
        cur.execute("""CREATE PROCEDURE bench.touch(n INT, m INT)
            BEGIN
              DECLARE i INT DEFAULT 0;
              WHILE i < n DO
                UPDATE bench.t SET k = k + 1, c = CONCAT(c, 'u') WHERE id = i % m;
                SET i = i + 1;
              END WHILE;
            END""")
        cur.execute("CALL bench.touch(%s, %s)", (updates, transactions * per_txn))
        cur.execute("FLUSH BINARY LOGS")
        print(f"generated {transactions * per_txn + updates:,} row changes in {time.perf_counter() - t0:.1f}s "
              f"into {file}", flush=True)
    conn.close()
    return file


GNU_TIME = "/usr/bin/time"


def measured(argv: list[str]) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, stdout) of one child process; stdout is kept in a temporary file. The RSS comes
    from GNU time when installed: a child forked by this (larger) Python process inherits its high-water mark."""
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile() as report:
        use_time = os.path.exists(GNU_TIME)
        prefix = [GNU_TIME, "-f", "%M", "-o", report.name] if use_time else []
        t0 = time.perf_counter()
        proc = subprocess.run([*prefix, *argv], stdout=out, stderr=subprocess.PIPE, check=False)
        seconds = time.perf_counter() - t0
        if proc.returncode:
            raise SystemExit(f"{argv[:3]} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
        peak = int(Path(report.name).read_text().split()[-1]) / 1024 if use_time else float("nan")
        out.seek(0)
        text = out.read(4096).decode(errors="replace")
    return seconds, peak, text


def run(server: SandboxServer, args: argparse.Namespace) -> int:
    file = generate(server, args.transactions, args.rows_per_txn, args.updates)
    path = str(server.datadir / file)
    print(f"{file}: {os.path.getsize(path) / 2**20:.1f} MB", flush=True)
    rows = args.transactions * args.rows_per_txn + args.updates
    mysqlbinlog = server.program("mysqlbinlog")
    cases = [
        ("C mysqlbinlog -vv --base64-output=decode-rows", [*mysqlbinlog, "-vv", "--base64-output=decode-rows", path]),
        ("A own decoder (source + decode)", [sys.executable, "-c", DECODE_SNIPPET, path]),
        ("B binlog tail FILE --format jsonl", [sys.executable, "-m", "mysqlinspect", "binlog", "tail", path,
                                              "--format", "jsonl"]),
        ("D mysql-replication plain iteration", [sys.executable, "-c", LIBRARY_SNIPPET, str(server.port), file]),
    ]
    reference = 0.0
    for name, argv in cases:
        seconds, peak, out = measured(argv)
        if name[0] in "AD" and int(out.strip() or 0) != rows:
            raise SystemExit(f"{name}: {out.strip()} rows decoded, {rows} expected")
        reference = reference or seconds
        print(f"{name:46s} {seconds:7.1f}s {rows / seconds / 1000:8.1f} k rows/s "
              f"{reference / seconds:6.2f}x  peak RSS {peak:7.1f} MB", flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transactions", type=int, default=100)
    parser.add_argument("--rows-per-txn", type=int, default=1000)
    parser.add_argument("--updates", type=int, default=20000)
    args = parser.parse_args()
    server = temporary_server("mysql", server_id=4243)
    server.start()
    try:
        return run(server, args)
    finally:
        server.destroy()


if __name__ == "__main__":
    sys.exit(main())
