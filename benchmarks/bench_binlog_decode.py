"""Benchmark: reading a local binlog file with our own engine, against `mysqlbinlog -vv --base64-output=decode-rows`
on the same file, measured in the same run (issue 10's "Speed" section).

Starts a throw-away MySQL 9.7 sandbox and builds issue 10's workload: table t(id INT PRIMARY KEY, k INT,
c VARCHAR(64), d DECIMAL(12,2), ts DATETIME(3), j JSON), 1000 transactions of 1000-row INSERTs, then 100,000
single-row UPDATE transactions (SET k=k+1, c=CONCAT(c,'u')); `--scale 0.1` builds a tenth of both (the rows per
INSERT stay 1000). Then, each in its own process, with its time, k row changes/s, ratio to `mysqlbinlog -vv` and
peak RSS (GNU time's %M when installed, else wait4's ru_maxrss):
  mysqlbinlog -vv --base64-output=decode-rows FILE   (the reference, 1.00x)
  own decoder: source + decode to records, no output
  binlog tail FILE --format jsonl (default --jobs, then --jobs 1)
  binlog tail --format jsonl from the server, over the same file (default --jobs, then --jobs 1)
  binlog replay FILE (dry-run SQL; default --jobs, then --jobs 1)
  binlog stats FILE (or from the server over the same file when stats does not take files)
  mysql-replication BinLogStreamReader plain iteration from the server
Every reader writes its output to a temporary file (the reference too). Wall time decides the ratio; the CPU time
(user + system of the process and its children, i.e. all --jobs processes) and its ratio are printed too: on a
loaded machine they say more about the code. Not a timed test: figures vary with load, so the readers run in
`--repeat N` rounds (default 3), every reader once per round, and each reader's fastest run is shown. `--keep
DIR` copies the binlog file there (for profiling); `--only NAME[,NAME]` runs a subset of the readers (names:
mysqlbinlog, decoder, tail, tail1, tailserver, tailserver1, replay, replay1, stats, library).

    .venv/bin/python benchmarks/bench_binlog_decode.py [--scale 0.1] [--keep /tmp/bench] [--only mysqlbinlog,tail]
                                                       [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from mysqlinspect.sandbox.server import SandboxServer, temporary_server

ROWS_PER_INSERT = 1000
FULL_INSERTS = 1000
FULL_UPDATES = 100_000

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


@dataclass(frozen=True)
class Workload:
    inserts: int
    updates: int

    @property
    def rows(self) -> int:
        return self.inserts * ROWS_PER_INSERT + self.updates


def generate(server: SandboxServer, work: Workload) -> str:
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
        for txn in range(work.inserts):
            base = txn * ROWS_PER_INSERT
            cur.execute(f"""INSERT INTO bench.t
                WITH RECURSIVE seq (n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < {ROWS_PER_INSERT - 1})
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
        cur.execute("CALL bench.touch(%s, %s)", (work.updates, work.inserts * ROWS_PER_INSERT))
        cur.execute("FLUSH BINARY LOGS")
        print(f"generated {work.rows:,} row changes ({work.inserts} INSERTs of {ROWS_PER_INSERT} rows, "
              f"{work.updates} single-row UPDATEs) in {time.perf_counter() - t0:.1f}s into {file}", flush=True)
    conn.close()
    return file


GNU_TIME = "/usr/bin/time"


@dataclass(frozen=True)
class Measured:
    seconds: float
    cpu: float  # user + system seconds of the child and its children (all --jobs processes)
    peak_mb: float
    returncode: int
    head: str  # the first 4 kB of stdout
    stderr: str


def measured(argv: list[str]) -> Measured:
    """One child process: wall time, peak RSS, exit status and the start of its output. The RSS comes from GNU time
    when installed: a child forked by this (larger) Python process inherits its high-water mark under wait4."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile() as report:
        use_time = os.path.exists(GNU_TIME)
        prefix = [GNU_TIME, "-f", "%M", "-o", report.name] if use_time else []
        t0 = time.perf_counter()
        proc = subprocess.Popen([*prefix, *argv], stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        peak = usage.ru_maxrss / 1024
        cpu = usage.ru_utime + usage.ru_stime
        if use_time:
            words = Path(report.name).read_text().split()
            peak = int(words[-1]) / 1024 if words and words[-1].isdigit() else float("nan")
        out.seek(0)
        err.seek(0)
        return Measured(seconds, cpu, peak, proc.returncode, out.read(4096).decode(errors="replace"),
                        err.read().decode(errors="replace"))


def fastest_in_rounds(runs: dict[str, list[str]], repeat: int) -> dict[str, Measured]:
    """Each reader's fastest of `repeat` runs, taken in rounds: every round runs every reader once, the reference
    included, so a minute when the machine is slow (its speed moves by a third from minute to minute) falls on all
    readers alike rather than on the ones measured then. A reader whose run fails is not run again."""
    best: dict[str, Measured] = {}
    for _ in range(max(repeat, 1)):
        for key, argv in runs.items():
            if key in best and best[key].returncode:
                continue
            result = measured(argv)
            if key not in best or result.returncode or result.seconds < best[key].seconds:
                best[key] = result
    return best


def refuses_files(result: Measured) -> bool:
    """A command of this checkout that does not take FILE arguments yet (usage error, exit 64)."""
    return result.returncode in (2, 64) and ("Got unexpected extra argument" in result.stderr
                                       or "No such option" in result.stderr or "FILE" in result.stderr)


def cases(server: SandboxServer, path: str, file: str) -> list[tuple[str, str, list[str]]]:
    cli = [sys.executable, "-m", "mysqlinspect", "binlog"]
    return [
        ("mysqlbinlog", "mysqlbinlog -vv --base64-output=decode-rows",
         [*server.program("mysqlbinlog"), "-vv", "--base64-output=decode-rows", path]),
        ("decoder", "own decoder (source + decode, records)", [sys.executable, "-c", DECODE_SNIPPET, path]),
        ("tail", f"binlog tail FILE --format jsonl (--jobs {os.cpu_count()})",
         [*cli, "tail", path, "--format", "jsonl"]),
        ("tail1", "binlog tail FILE --format jsonl --jobs 1", [*cli, "tail", path, "--format", "jsonl", "--jobs", "1"]),
        ("tailserver", f"binlog tail --format jsonl (server, same file, --jobs {os.cpu_count()})",
         [*cli, "tail", *server.cli_args(), "--start-file", file, "--start-pos", "4", "--stop-file", file,
          "--format", "jsonl"]),
        ("tailserver1", "binlog tail --format jsonl --jobs 1 (server, same file)",
         [*cli, "tail", *server.cli_args(), "--start-file", file, "--start-pos", "4", "--stop-file", file,
          "--format", "jsonl", "--jobs", "1"]),
        ("replay", f"binlog replay FILE (dry-run SQL, --jobs {os.cpu_count()})", [*cli, "replay", path]),
        ("replay1", "binlog replay FILE (dry-run SQL) --jobs 1", [*cli, "replay", path, "--jobs", "1"]),
        ("stats", "binlog stats FILE", [*cli, "stats", path, "--format", "json"]),
        ("library", "mysql-replication plain iteration (server)",
         [sys.executable, "-c", LIBRARY_SNIPPET, str(server.port), file]),
    ]


def server_stats(server: SandboxServer, file: str) -> list[str]:
    return [sys.executable, "-m", "mysqlinspect", "binlog", "stats", *server.cli_args(), "--start-file", file,
            "--stop-file", file, "--format", "json"]


def run(server: SandboxServer, args: argparse.Namespace) -> int:
    work = Workload(max(1, round(FULL_INSERTS * args.scale)), max(1, round(FULL_UPDATES * args.scale)))
    file = generate(server, work)
    path = str(server.datadir / file)
    if args.keep:
        Path(args.keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, args.keep)
    print(f"{file}: {os.path.getsize(path) / 2**20:.1f} MB, {work.rows:,} row changes; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} before the runs", flush=True)
    only = set(args.only.split(",")) if args.only else None
    chosen = [(key, name, argv) for key, name, argv in cases(server, path, file)
              if only is None or key in only or key == "mysqlbinlog"]
    print(f"{len(chosen)} readers, {args.repeat} rounds ...", flush=True)
    results = fastest_in_rounds({key: argv for key, _, argv in chosen}, args.repeat)
    reference = reference_cpu = 0.0
    print(f"{'reader':58s} {'wall':>8s} {'':>15s} {'vs C':>6s}  {'cpu time, vs C':>16s}", flush=True)
    for key, name, _ in chosen:
        result = results[key]
        if key == "stats" and refuses_files(result):
            name = "binlog stats (server, same file)"
            result = measured(server_stats(server, file))
        if refuses_files(result):
            print(f"{name:58s} skipped: this checkout's command does not take FILE arguments", flush=True)
            continue
        if result.returncode:
            raise SystemExit(f"{name} failed ({result.returncode}): {result.stderr[-800:]}")
        if key in ("decoder", "library") and int(result.head.strip() or 0) != work.rows:
            raise SystemExit(f"{name}: {result.head.strip()} rows decoded, {work.rows} expected")
        reference = reference or result.seconds
        reference_cpu = reference_cpu or result.cpu
        print(f"{name:58s} {result.seconds:7.1f}s {work.rows / result.seconds / 1000:8.1f} k rows/s "
              f"{reference / result.seconds:6.2f}x  cpu {result.cpu:6.1f}s {reference_cpu / result.cpu:5.2f}x  "
              f"peak RSS {result.peak_mb:7.1f} MB", flush=True)
    print(f"load average {os.getloadavg()[0]:.2f} after the runs", flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="fraction of issue 10's workload (1.0: 1000 x 1000-row INSERTs + 100,000 UPDATEs)")
    parser.add_argument("--keep", metavar="DIR", help="copy the generated binlog file into DIR")
    parser.add_argument("--only", metavar="NAMES", help="comma-separated readers to run (mysqlbinlog always runs)")
    parser.add_argument("--repeat", type=int, default=3, metavar="N",
                        help="rounds, each running every reader once; each one's fastest is shown (default 3)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a kill still removes the sandbox (finally below)
    server = temporary_server("mysql", server_id=4243)
    server.start()
    try:
        return run(server, args)
    finally:
        server.destroy()


if __name__ == "__main__":
    sys.exit(main())
