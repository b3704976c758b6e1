"""One large transaction streams with bounded memory (issue 10, item 4): its events spill to disk (read/spill.py)
and are read back as they are written out, by `binlog tail --format jsonl` and `binlog replay` (SQL, --execute
through SQL and through row events, --flashback), from a server and from files.

Peak RSS of the tool's process (and of the processes it forks) is measured with wait4(); a transaction held
whole needs more than 1 KB per row (about 300 MB for the 200,000 rows here), so the bounds below can only hold
when it is not held. The same output, byte for byte, whether a transaction spills or not."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest

from mysqlinspect.binlog.read import spill
from mysqlinspect.binlog.read.local import chunks
from tests.live.decode_support import binlog_path, flush
from tests.live.replay_support import binlog_position
from tests.servers import create_database, drop_database, repo_root

pytestmark = pytest.mark.live

CHECK_ROWS, SMALL_ROWS, LARGE_ROWS = 12_000, 50_000, 200_000
PEAK_BOUND_MB = 120  # held whole, the 200,000-row transaction took 331 MB (tail) and 224 MB (replay SQL)
GROWTH_BOUND_MB = 40  # 50,000 -> 200,000 rows


@dataclass
class Workload:
    db: str
    files: list[Path]  # one binlog file per transaction (the third followed by a small transaction; MySQL: a
    # fourth with a compressed transaction)
    starts: list[tuple[str, int]]  # where each transaction starts (then the small one)


def _insert_transaction(conn: Any, db: str, first: int, rows: int, one_statement: bool = False) -> None:
    """Rows in one transaction: INSERTs of 5,000 rows, or one INSERT ... SELECT of them all (its row events are
    one statement, larger than a BINLOG statement of the events mode: cut in parts, Table_maps sent again)."""
    table = "staging" if one_statement else "t"
    with conn.cursor() as cur:
        if one_statement:
            cur.execute("SET SESSION sql_log_bin = 0")
            cur.execute(f"CREATE TABLE `{db}`.staging LIKE `{db}`.t")
        cur.execute("BEGIN")
        for lo in range(first, first + rows, 5000):
            values = ",".join(f"({i}, {i % 97}, 'row-{i}-abcdefghij', {i}.25, '2024-01-02 03:04:05.678')"
                              for i in range(lo, min(first + rows, lo + 5000)))
            cur.execute(f"INSERT INTO `{db}`.`{table}` VALUES {values}")
        cur.execute("COMMIT")
        if one_statement:
            cur.execute("SET SESSION sql_log_bin = 1")
            cur.execute(f"INSERT INTO `{db}`.t SELECT * FROM `{db}`.staging")


@pytest.fixture(scope="module")
def workload(server: Any) -> Iterator[Workload]:
    db = create_database(server)
    conn = server.connect(db)
    try:
        with conn.cursor() as cur:
            for name in (db, f"{db}_ev", f"{db}_sq", f"{db}_e5"):
                cur.execute(f"CREATE DATABASE IF NOT EXISTS `{name}`")
                cur.execute(f"CREATE TABLE `{name}`.t (id INT PRIMARY KEY, k INT, c VARCHAR(64), d DECIMAL(12,2), "
                            "ts DATETIME(3)) ENGINE=InnoDB")
        files, starts = [], []
        for first_id, rows in ((0, CHECK_ROWS), (CHECK_ROWS, SMALL_ROWS), (CHECK_ROWS + SMALL_ROWS, LARGE_ROWS)):
            files.append(binlog_path(server, flush(conn)[0]))
            starts.append(binlog_position(conn))
            _insert_transaction(conn, db, first_id, rows, one_statement=rows == LARGE_ROWS)
        starts.append(binlog_position(conn))
        with conn.cursor() as cur:
            cur.execute("UPDATE t SET k = k + 1 WHERE id < 3")
        if server.flavor == "mysql":  # a compressed transaction (TRANSACTION_PAYLOAD), in a file of its own
            files.append(binlog_path(server, flush(conn)[0]))
            with conn.cursor() as cur:
                cur.execute("SET SESSION binlog_transaction_compression = ON")
                cur.execute("DELETE FROM t WHERE id < %s", (CHECK_ROWS,))
                cur.execute("SET SESSION binlog_transaction_compression = OFF")
        flush(conn)
    finally:
        conn.close()
    assert [p.name for p in files[:3]] == [s[0] for s in starts[:3]] and starts[3][0] == files[2].name
    yield Workload(db, files, starts)
    for name in (db, f"{db}_ev", f"{db}_sq", f"{db}_e5"):
        drop_database(server, name)


def _range(work: Workload, index: int) -> list[str]:
    """The options selecting transaction `index` alone (its file holds no other transaction before it)."""
    stop = work.starts[index + 1] if index == 2 else (work.starts[index][0], None)
    return ["--start-file", work.starts[index][0], "--stop-file", stop[0],
            *(["--stop-pos", str(stop[1])] if stop[1] is not None else []), "--table", f"{work.db}.t"]


# the same output, spilled or held ---------------------------------------------------------------------------------
class _CountedEvents(spill.SpilledEvents):
    made: ClassVar[list[int]] = []

    def __init__(self, *args: Any) -> None:
        self.made.append(1)
        super().__init__(*args)


def _spilling(monkeypatch: pytest.MonkeyPatch, spills: bool) -> list[int]:
    """Transactions spill from 256 KiB of events, or never; the returned list grows by one per spilled one. When
    they spill, a --jobs chunk of more than 64 KiB counts as a large one too (decoded by the parent: streamed, or
    spooled on disk when its output is cut)."""
    made: ClassVar[list[int]] = []
    monkeypatch.setattr(_CountedEvents, "made", made)
    monkeypatch.setattr(spill, "EVENT_HOLD", 1 << 18 if spills else 1 << 50)
    monkeypatch.setattr(chunks, "DIRECT_CHUNK", 1 << 16 if spills else 16 << 20)
    monkeypatch.setattr(spill, "SpilledEvents", _CountedEvents)
    return made


def test_a_spilled_transaction_gives_the_same_bytes(server: Any, workload: Workload, run_cli: Any,
                                                    monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    work = workload
    source, file = _range(work, 0), str(work.files[0])
    both = [str(work.files[0]), str(work.files[1]), "--table", f"{work.db}.t"]  # two transactions, two files
    commands = {
        "tail file": ["binlog", "tail", file, *source, "--format", "jsonl", "--jobs", "1"],
        "tail file, 2 jobs": ["binlog", "tail", file, *source, "--format", "jsonl", "--jobs", "2"],
        "tail files, 2 jobs, checkpoint": ["binlog", "tail", *both, "--format", "jsonl", "--jobs", "2",
                                           "--checkpoint", "{checkpoint}"],
        "tail files": ["binlog", "tail", *both, "--format", "jsonl", "--jobs", "1"],
        "replay files, 2 jobs": ["binlog", "replay", *both, "--batch-rows", "50", "--jobs", "2"],
        "replay files": ["binlog", "replay", *both, "--batch-rows", "50", "--jobs", "1"],
        "tail file, event types": ["binlog", "tail", file, *source, "--format", "jsonl", "--event-type", "WriteRows",
                                   "--event-type", "TableMap", "--rows-only"],
        "tail server": ["binlog", "tail", *server.cli_args(), *source, "--format", "jsonl"],
        "replay file": ["binlog", "replay", file, *source, "--batch-rows", "50"],
        "flashback file": ["binlog", "replay", file, *source, "--flashback"],
    }
    if server.flavor == "mysql":
        compressed = str(work.files[3])
        commands["compressed tail"] = ["binlog", "tail", compressed, "--format", "jsonl", "--jobs", "1"]
        commands["compressed replay"] = ["binlog", "replay", compressed, "--table", f"{work.db}.t"]
    outputs: dict[bool, dict[str, str]] = {}
    for spills in (False, True):
        made = _spilling(monkeypatch, spills)
        outputs[spills] = {}
        for name, args in commands.items():
            before = len(made)
            checkpoint = str(tmp_path / f"{name}-{spills}.checkpoint".replace(" ", "_").replace(",", ""))
            result = run_cli(*(arg.replace("{checkpoint}", checkpoint) for arg in args))
            assert result.exit_code == 0, (name, result.stderr)
            outputs[spills][name] = result.stdout
            assert (len(made) > before) == spills, name
            if name == "tail server":  # the 50,000-row transaction after the range (next file) is not read at all
                assert len(made) - before == int(spills)
    for name in commands:
        assert outputs[True][name] == outputs[False][name], name
    lines = outputs[True]["tail file"].splitlines()
    assert len(lines) == CHECK_ROWS + 1 and f'"rows":{CHECK_ROWS}' in lines[-1]
    assert outputs[True]["tail file, 2 jobs"] == outputs[True]["tail file"]
    assert outputs[True]["tail files, 2 jobs, checkpoint"] == outputs[True]["tail files"]
    assert outputs[True]["replay files, 2 jobs"] == outputs[True]["replay files"]
    assert outputs[True]["flashback file"].count("DELETE FROM") == CHECK_ROWS
    if server.flavor == "mysql":
        assert '"compressed":true' in outputs[True]["compressed tail"]
        assert outputs[True]["compressed replay"].count("DELETE FROM") == CHECK_ROWS


# peak memory -------------------------------------------------------------------------------------------------------
_MEASURE = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[2:]).returncode
with open(sys.argv[1], "w") as out:
    out.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code)
"""


def _peak(args: list[str], out: Path) -> int:
    """Run the CLI; its peak RSS in MB (of it and the processes it forked), its stdout in `out`. A small process
    in between starts it: a child exec'd straight from this (large) test process inherits its peak RSS."""
    env = {**os.environ, "PYTHONPATH": str(repo_root())}
    peak = out.with_suffix(".peak")
    with out.open("wb") as stdout:
        proc = subprocess.run([sys.executable, "-c", _MEASURE, str(peak), sys.executable, "-m", "mysqlinspect",
                               *args], stdout=stdout, stderr=subprocess.PIPE, env=env, cwd=repo_root())
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    return int(peak.read_text()) // 1024


def _binlog_bytes(server: Any) -> int:
    conn = server.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW BINARY LOGS")
            return sum(int(row[1]) for row in cur.fetchall())
    finally:
        conn.close()


def _numberless_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as lines:
        for line in lines:
            digest.update(re.sub(rb'"transaction_no":\d+', b"", line))
    return digest.hexdigest()


def _rows_of(server: Any, db: str, first_id: int) -> tuple[Any, ...]:
    conn = server.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT COUNT(*), SUM(CRC32(CONCAT_WS('|', id, k, c, d, ts))) FROM `{db}`.t "
                        f"WHERE id >= {first_id}")
            return tuple(cur.fetchone())
    finally:
        conn.close()


def test_a_large_transaction_streams_with_bounded_memory(server: Any, workload: Workload, tmp_path: Path) -> None:
    work = workload
    large, file = _range(work, 2), str(work.files[2])
    out = tmp_path / "out"
    peaks = {"tail file 50k": _peak(["binlog", "tail", str(work.files[1]), "--format", "jsonl"], out)}
    peaks["tail file"] = _peak(["binlog", "tail", file, *large, "--format", "jsonl"], out)
    with out.open() as lines:
        assert sum(1 for _ in lines) == LARGE_ROWS + 1
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    peaks["tail server"] = _peak(["binlog", "tail", *server.cli_args(), *large, "--format", "jsonl"], out)
    assert hashlib.sha256(out.read_bytes()).hexdigest() == digest
    peaks["replay SQL file"] = _peak(["binlog", "replay", file, *large, "--batch-rows", "100",
                                      "--output", str(tmp_path / "r.sql")], out)
    target = ["--execute", "--target", f"127.0.0.1:{server.port}", "--allow-same-server", "--yes", "--format", "json"]
    peaks["execute events"] = _peak(["binlog", "replay", *server.cli_args(), *large, *target,
                                     "--rewrite-db", f"{work.db}={work.db}_ev", "--apply-mode", "events"], out)
    assert '"apply_mode": "binlog-events"' in out.read_text()
    logged = _binlog_bytes(server)
    _peak(["binlog", "replay", *server.cli_args(), *_range(work, 1), *target, "--rewrite-db", f"{work.db}={work.db}_e5",
           "--apply-mode", "events"], out)
    # ten statements in row events: the target's binlog holds them once (MariaDB: with one annotation each, the
    # BINLOG statement's text; several statements in one BINLOG statement would log its whole text each time)
    assert _binlog_bytes(server) - logged < 3 * work.files[1].stat().st_size
    peaks["execute SQL"] = _peak(["binlog", "replay", file, *large, *target,
                                  "--rewrite-db", f"{work.db}={work.db}_sq", "--apply-mode", "sql"], out)
    expected = _rows_of(server, work.db, CHECK_ROWS + SMALL_ROWS)
    assert expected[0] == LARGE_ROWS
    assert _rows_of(server, f"{work.db}_ev", 0) == expected
    assert _rows_of(server, f"{work.db}_sq", 0) == expected
    print(f"peak RSS (MB), {server.flavor}: {peaks}")
    assert all(peak < PEAK_BOUND_MB for peak in peaks.values()), peaks
    assert peaks["tail file"] - peaks["tail file 50k"] < GROWTH_BOUND_MB, peaks
