"""binlog tail --follow --checkpoint under faults, on a dedicated server: dump threads killed, the tail process
interrupted and restarted, the server restarted. Every committed transaction must be emitted exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pymysql
import pytest

from tests.live.test_binlog_tail import write_position
from tests.servers import restore_sigint, sigint_ignored, wait_for

pytestmark = [pytest.mark.live, pytest.mark.dedicated]


class NumberedWriter:
    """Commits transactions numbered 1, 2, 3 ... (two rows each), reconnecting through failures."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.next = 1
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> NumberedWriter:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_flag.set()
        self.thread.join(timeout=60)

    def _connect(self) -> pymysql.connections.Connection | None:
        try:
            return pymysql.connect(host="127.0.0.1", port=self.server.port, user="root", database="f",
                                   autocommit=True, connect_timeout=2, read_timeout=10, write_timeout=10)
        except pymysql.err.MySQLError:
            return None

    def _loop(self) -> None:
        conn = None
        while not self.stop_flag.is_set():
            if conn is None:
                conn = self._connect()
                if conn is None:
                    time.sleep(0.2)
                    continue
                if self._exists(conn, self.next):
                    self.next += 1
            try:
                with conn.cursor() as cur:
                    cur.execute("BEGIN")
                    cur.execute("INSERT INTO seq VALUES (%s, 'a'), (%s, 'b')", (self.next * 10, self.next * 10 + 1))
                    cur.execute("COMMIT")
                self.next += 1
                time.sleep(0.003)
            except pymysql.err.MySQLError:
                try:
                    conn.close()
                except pymysql.err.Error:
                    pass
                conn = None

    @staticmethod
    def _exists(conn: pymysql.connections.Connection, n: int) -> bool:
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT COUNT(*) FROM seq WHERE n = %s", (n * 10,))
                row = cur.fetchone()
                return bool(row and row[0])
        except pymysql.err.MySQLError:
            return False


def committed_numbers(server: Any) -> list[int]:
    conn = server.connect("f")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT n FROM seq ORDER BY n")
            return [int(r[0]) for r in cur.fetchall()]
    finally:
        conn.close()


def kill_dump_threads(server: Any) -> int:
    conn = server.connect()
    killed = 0
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'")
            for (pid,) in cur.fetchall():
                try:
                    cur.execute(f"KILL {int(pid)}")
                    killed += 1
                except pymysql.err.MySQLError:
                    pass
    finally:
        conn.close()
    return killed


def emitted_numbers(out: Path, finished: bool = False) -> list[int]:
    """The inserted numbers the tail has written: complete lines only while it runs (the last one may be half
    written as we read); once it has exited every line must be complete."""
    *lines, rest = out.read_text().split("\n")
    assert not (finished and rest), f"a torn last line after the tail exited: {rest[:200]!r}"
    numbers = []
    for line in lines:
        if line.strip():
            rec = json.loads(line)
            if rec["kind"] == "row" and rec["op"] == "insert":
                numbers.append(int(rec["after"]["n"]))
    return numbers


def start_tail(server: Any, start: tuple[str, int], checkpoint: Path, out: Path, err: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "mysqlinspect", "binlog", "tail", *server.cli_args(), "--start-file", start[0],
            "--start-pos", str(start[1]), "--follow", "--checkpoint", str(checkpoint), "--format", "jsonl",
            "--table", "f.seq", "--rows-only", "--retry-timeout", "90"]
    # started as from a background job (SIGINT ignored), with SIGINT restored in the child so that Ctrl-C works
    with open(out, "ab") as stdout, open(err, "ab") as stderr, sigint_ignored():
        return subprocess.Popen(argv, stdout=stdout, stderr=stderr, env=dict(os.environ), preexec_fn=restore_sigint)


def interrupt(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGINT)
    return proc.wait(timeout=30)


def test_resume_exactly_once_under_faults(sandbox_flavor: str, make_server: Any, tmp_path: Path, run_cli: Any) -> None:
    srv = make_server(sandbox_flavor)
    conn = srv.connect()
    with conn.cursor() as cur:
        cur.execute("CREATE DATABASE f")
        cur.execute("CREATE TABLE f.seq (n INT PRIMARY KEY, pad VARCHAR(10))")
    conn.close()
    start = write_position(srv)
    checkpoint, out, err = tmp_path / "tail.ckpt", tmp_path / "out.jsonl", tmp_path / "err.txt"
    writer = NumberedWriter(srv).start()
    tail = start_tail(srv, start, checkpoint, out, err)
    try:
        wait_for(lambda: len(emitted_numbers(out)) > 50, timeout=60)
        for _ in range(3):
            wait_for(lambda: kill_dump_threads(srv) > 0, timeout=30)
            time.sleep(0.6)
        assert interrupt(tail) == 130
        tail = start_tail(srv, start, checkpoint, out, err)
        time.sleep(1.0)
        wait_for(lambda: kill_dump_threads(srv) > 0, timeout=30)
        time.sleep(0.5)
        srv.restart()
        time.sleep(1.0)
        flush = srv.connect()
        with flush.cursor() as cur:
            cur.execute("FLUSH BINARY LOGS")  # a rotation while the tail follows
        flush.close()
        time.sleep(0.5)
        wait_for(lambda: kill_dump_threads(srv) > 0, timeout=60)
        time.sleep(1.0)
        writer.stop()
        committed = committed_numbers(srv)
        assert len(committed) > 200
        wait_for(lambda: max(emitted_numbers(out), default=0) >= committed[-1], timeout=90)
        time.sleep(0.5)
        assert interrupt(tail) == 130
    except AssertionError as exc:
        raise AssertionError(f"{exc}; tail exit={tail.poll()}; stderr: {err.read_text()[-3000:]}") from exc
    finally:
        writer.stop()
        if tail.poll() is None:
            tail.kill()
    emitted = emitted_numbers(out, finished=True)
    log = err.read_text()
    assert sorted(emitted) == committed, log[-2000:]
    assert len(emitted) == len(set(emitted))
    assert "resuming from checkpoint" in log and "binlog connection lost" in log
    saved = json.loads(checkpoint.read_text())
    assert saved["transactions"] >= len(committed) // 2 and saved["last_gtid"]

    # Without FULL row metadata: names come from the current definition, with a warning; --strict refuses.
    conn = srv.connect()
    with conn.cursor() as cur:
        cur.execute("SET GLOBAL binlog_row_metadata = 'MINIMAL'")
    conn.close()
    start = write_position(srv)
    conn = srv.connect("f")
    with conn.cursor() as cur:
        cur.execute("INSERT INTO seq VALUES (7, 'minimal')")
    conn.close()
    args = ("binlog", "tail", *srv.cli_args(), "--start-file", start[0], "--start-pos", str(start[1]),
            "--table", "f.seq", "--format", "jsonl", "--rows-only")
    minimal = run_cli(*args)
    assert minimal.exit_code == 0, minimal.stderr
    (row,) = minimal.jsonl()
    assert row["after"] == {"n": 7, "pad": "minimal"} and row["primary_key"] == {"n": 7}
    assert row["names_from_current_definition"] is True
    assert "binlog_row_metadata" in minimal.stderr and "current table definition" in minimal.stderr
    strict = run_cli(*args, "--strict")
    assert strict.exit_code == 69 and "binlog_row_metadata" in strict.stderr

    if sandbox_flavor == "mysql":  # tagged GTIDs (MySQL 8.3+): tail, the GTID search and list decode them
        conn = srv.connect("f")
        with conn.cursor() as cur:
            cur.execute("SELECT @@server_uuid")
            uuid = cur.fetchone()[0]
            cur.execute("SET gtid_next = 'AUTOMATIC:batch_7'")
            cur.execute("INSERT INTO seq VALUES (8, 'tagged')")
            cur.execute("SET gtid_next = 'AUTOMATIC'")
            cur.execute("FLUSH BINARY LOGS")
        conn.close()
        tagged = run_cli("binlog", "tail", *srv.cli_args(), "--include-gtids", f"{uuid}:batch_7:1",
                         "--format", "jsonl", "--rows-only")
        assert tagged.exit_code == 0, tagged.stderr
        assert [(r["gtid"], r["after"]["n"]) for r in tagged.jsonl()] == [(f"{uuid}:batch_7:1", 8)]
        listing = run_cli("binlog", "list", *srv.cli_args(), "--format", "json")
        assert f"{uuid}:batch_7:1" in listing.json()["files"][-1]["previous_gtids"]

    # The same server without binary logging: a clear error, not a traceback.
    srv.restart(extra_args=["--skip-log-bin"])
    for command in (("binlog", "tail", "--start-file", "binlog.000001"), ("binlog", "list")):
        result = run_cli(*command, *srv.cli_args())
        assert result.exit_code == 69, result.stderr
        assert "binary logging is not enabled" in result.stderr
