"""binlog tail from a server decoded by several processes (read/server/parallel.py): the same bytes as one process,
over several files, tables that need the current definition (no column names, no primary key), a large
transaction, range stops inside a file, filters, and dropped connections at any point of the dump."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pymysql
import pytest

from mysqlinspect.binlog.read.local import chunks
from mysqlinspect.binlog.read.server import parallel
from tests.live.test_binlog_tail import write_position
from tests.servers import create_database, drop_database

pytestmark = pytest.mark.live

LARGE_ROWS = 3000


def _workload(server: Any, db: str) -> tuple[tuple[str, int], tuple[str, int], tuple[str, int]]:
    """Three files of transactions; (start, a position inside the last file, the end)."""
    conn = server.connect(db)
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE t (id INT PRIMARY KEY, k INT, c VARCHAR(64) DEFAULT 'x', d DECIMAL(12,2), "
                        "ts DATETIME(3) DEFAULT CURRENT_TIMESTAMP(3), j JSON)")
            cur.execute("CREATE TABLE nopk (a INT NOT NULL, b VARCHAR(20), UNIQUE KEY ua (a))")
            cur.execute("CREATE TABLE heap (a INT, b TEXT)")
            cur.execute("CREATE TABLE zt (id INT PRIMARY KEY, v VARCHAR(20))")
            start = write_position(server)
            for i in range(60):
                cur.execute(f"INSERT INTO t (id, k, c, d, j) VALUES ({i}, {i % 7}, 'r{i}', {i}.25, "
                            f"JSON_OBJECT('i', {i}, 'a', JSON_ARRAY(1, 'x')))")
                cur.execute(f"INSERT INTO nopk VALUES ({i}, 'n{i}')")
                cur.execute(f"INSERT INTO heap VALUES ({i}, REPEAT('h', {i}))")
            cur.execute("FLUSH BINARY LOGS")
            cur.execute("SET GLOBAL binlog_row_metadata = 'MINIMAL'")
            try:
                for i in range(40):  # logged without column names: they come from the current definition
                    cur.execute(f"UPDATE t SET k = k + 1, c = CONCAT(c, 'u') WHERE id = {i}")
                    cur.execute(f"UPDATE nopk SET b = CONCAT(b, 'm') WHERE a = {i}")
                if server.flavor == "mysql":  # their Table_maps inside compressed transactions too
                    cur.execute("SET SESSION binlog_transaction_compression = ON")
                    for i in range(20):
                        cur.execute(f"INSERT INTO zt VALUES ({i}, 'z{i}')")
                    cur.execute("SET SESSION binlog_transaction_compression = OFF")
            finally:
                cur.execute("SET GLOBAL binlog_row_metadata = 'FULL'")
            variable = "max_recursive_iterations" if server.flavor == "mariadb" else "cte_max_recursion_depth"
            cur.execute(f"SET SESSION {variable} = 100000")
            cur.execute(f"""INSERT INTO t (id, k, c, d, j) WITH RECURSIVE s (n) AS
                (SELECT 1000 UNION ALL SELECT n + 1 FROM s WHERE n < {999 + LARGE_ROWS})
                SELECT n, n % 5, REPEAT('L', 40), n / 3, JSON_ARRAY(n) FROM s""")  # one large transaction
            cur.execute("FLUSH BINARY LOGS")
            for i in range(30):
                cur.execute(f"DELETE FROM t WHERE id = {i}")
                cur.execute(f"DELETE FROM heap WHERE a = {i}")
                if i == 20:
                    middle = write_position(server)
    finally:
        conn.close()
    return start, middle, write_position(server)


@pytest.fixture(scope="module")
def ranges(server: Any) -> Iterator[tuple[str, tuple[str, int], tuple[str, int], tuple[str, int]]]:
    """The workload, once per server for the module's tests."""
    db = create_database(server)
    try:
        start, middle, end = _workload(server, db)
        yield db, start, middle, end
    finally:
        drop_database(server, db)


def _run_tail(run_cli: Any, server: Any, start: tuple[str, int], stop: tuple[str, int], *extra: str) -> Any:
    return run_cli("binlog", "tail", *server.cli_args(), "--start-file", start[0], "--start-pos", str(start[1]),
                   "--stop-file", stop[0], "--stop-pos", str(stop[1]), "--format", "jsonl", *extra)


def _tail(run_cli: Any, server: Any, start: tuple[str, int], stop: tuple[str, int], *extra: str) -> tuple[str, str]:
    result = _run_tail(run_cli, server, start, stop, *extra)
    assert result.exit_code == 0, result.stderr
    return result.stdout, result.stderr


def _hooked(real: Any, hook: Callable[[int, bytes], bytes]) -> Any:
    """`packets` whose every payload goes through hook(its number, it) first: a fault put into the dump as it is
    received (the hook returns the payload to use, or raises, or signals)."""
    def packets(conn: Any, timeout: Any) -> Iterator[bytes]:
        for count, payload in enumerate(real(conn, timeout)):
            yield hook(count, payload)
    return packets


def test_parallel_tail_gives_the_bytes_of_one_process(server: Any, ranges: Any, run_cli: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    db, start, middle, end = ranges
    forked: list[int] = []
    real_start = parallel.start_child
    monkeypatch.setattr(parallel, "start_child", lambda *args: (forked.append(1), real_start(*args))[1])
    filters = ((), ("--table", f"{db}.t", "--rows-only"), ("--all-events",),
               ("--op", "delete", "--exclude-table", f"{db}.heap"))
    for stop, extras in ((end, filters), (middle, filters[:2])):
        for extra in extras:
            one, one_err = _tail(run_cli, server, start, stop, *extra, "--jobs", "1")
            if stop == end and not extra:
                full, full_err = one, one_err
            assert one.count("\n") > 100 or extra, one[-500:]
            for jobs, chunk_bytes in (("2", None), ("2", "3000"), ("3", "20000")):
                more = ("--jobs", jobs, *(("--chunk-bytes", chunk_bytes) if chunk_bytes else ()))
                out, err = _tail(run_cli, server, start, stop, *extra, *more)
                assert out == one, (extra, more)
                assert err == one_err, (extra, more)
    whole_file = []  # --stop-file without --stop-pos: the read ends at the next file's Rotate
    for jobs in ("1", "2"):
        result = run_cli("binlog", "tail", *server.cli_args(), "--start-file", start[0], "--start-pos",
                         str(start[1]), "--stop-file", start[0], "--format", "jsonl", "--jobs", jobs,
                         "--chunk-bytes", "3000")
        assert result.exit_code == 0, result.stderr
        whole_file.append(result.stdout)
    assert whole_file[0] == whole_file[1] and whole_file[0] and full.startswith(whole_file[0])
    assert len(whole_file[0]) < len(full)
    assert "current table definition" in full_err  # the MINIMAL updates' names, warned once, as in one process
    assert server.flavor != "mysql" or (f"{db}.zt" in full_err and '"compressed":true' in full)
    assert len(forked) > 100  # chunks decoded by children (the parallel path was taken)
    monkeypatch.setattr(chunks, "DIRECT_CHUNK", 1 << 16)  # the large transaction: decoded by the parent from disk
    monkeypatch.setattr(chunks, "MEMORY_SPOOL", 1 << 12)  # the children's outputs past 4 kB: on disk
    assert _tail(run_cli, server, start, end, "--jobs", "2", "--chunk-bytes", "3000") == \
        _tail(run_cli, server, start, end, "--jobs", "1")


def test_a_dropped_connection_loses_and_repeats_nothing(server: Any, ranges: Any, run_cli: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    _, start, _, end = ranges
    one, _ = _tail(run_cli, server, start, end, "--jobs", "1")
    received = packets_in_range(run_cli, server, start, end, monkeypatch)
    real_packets = parallel.packets
    for drop_after in (3, received // 3, received // 2 + 7, received - 2):
        dropped: list[int] = []

        def drop(count: int, payload: bytes, drop_after: int = drop_after, dropped: list[int] = dropped) -> bytes:
            if count == drop_after and not dropped:
                dropped.append(count)
                raise pymysql.err.OperationalError(2013, "Lost connection to MySQL server during query")
            return payload

        monkeypatch.setattr(parallel, "packets", _hooked(real_packets, drop))
        out, err = _tail(run_cli, server, start, end, "--jobs", "2", "--chunk-bytes", "3000")
        assert dropped, drop_after
        assert "binlog connection lost" in err and "resuming at" in err
        assert out == one, drop_after


def _corrupting(real: Any, after: int, done: list[int]) -> Any:
    """`packets` with the CRC of the first rows event from the `after`th packet on broken (once)."""
    def corrupt(count: int, payload: bytes) -> bytes:
        if count >= after and not done and payload[5] in (23, 24, 25, 30, 31, 32):
            done.append(count)
            return payload[:40] + bytes([payload[40] ^ 0xFF]) + payload[41:]
        return payload
    return _hooked(real, corrupt)


def test_a_failing_dump_outputs_what_came_before_it_as_one_process(server: Any, ranges: Any, run_cli: Any,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A corrupt event (CRC32) or a connection lost for good: the transactions before it are output, then the error,
    exactly as in one process, also when the children were decoding chunks received before it."""
    from mysqlinspect.binlog.source import server as server_source

    _, start, _, end = ranges
    received = packets_in_range(run_cli, server, start, end, monkeypatch)
    for after in (5, received // 2):
        results = []
        for jobs in ("1", "2"):
            done: list[int] = []
            monkeypatch.setattr(parallel, "packets", _corrupting(server_source.packets, after, done))
            monkeypatch.setattr(server_source, "packets", _corrupting(server_source.packets, after, done))
            result = _run_tail(run_cli, server, start, end, "--jobs", jobs, "--chunk-bytes", "3000")
            monkeypatch.undo()
            assert done and result.exit_code == 65, (jobs, result.stderr)
            results.append((result.stdout, result.stderr))
        assert results[0] == results[1], after
        assert "fails its CRC32 checksum" in results[0][1]


def packets_in_range(run_cli: Any, server: Any, start: tuple[str, int], end: tuple[str, int],
                     monkeypatch: pytest.MonkeyPatch) -> int:
    """The packets a parallel tail of the range receives (counted on a run)."""
    seen: list[int] = []

    def count(number: int, payload: bytes) -> bytes:
        seen.append(number)
        return payload

    monkeypatch.setattr(parallel, "packets", _hooked(parallel.packets, count))
    _tail(run_cli, server, start, end, "--jobs", "2", "--chunk-bytes", "3000")
    monkeypatch.undo()
    return len(seen)


def _forked_children() -> list[int]:
    """Processes forked from this one and still there (same command line, this process as parent)."""
    me = str(os.getpid())
    own = Path(f"/proc/{me}/cmdline").read_bytes()
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "stat").read_text().split(") ")[1].split()[1] == me \
                    and (entry / "cmdline").read_bytes() == own:
                found.append(int(entry.name))
        except (OSError, IndexError):
            continue
    return found


def test_ctrl_c_ends_the_output_at_a_line_end_and_leaves_no_child(server: Any, ranges: Any, run_cli: Any,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _, start, _, end = ranges
    full, _ = _tail(run_cli, server, start, end, "--jobs", "1")

    def interrupt(count: int, payload: bytes) -> bytes:
        if count == 400:  # inside the output loop: the Ctrl-C is the writer's to take at a line end
            os.kill(os.getpid(), signal.SIGINT)
        return payload

    monkeypatch.setattr(parallel, "packets", _hooked(parallel.packets, interrupt))
    result = _run_tail(run_cli, server, start, end, "--jobs", "2", "--chunk-bytes", "3000")
    assert result.exit_code == 130, result.stderr
    assert 0 < len(result.stdout) < len(full) and full.startswith(result.stdout) and result.stdout.endswith("\n")
    assert not _forked_children()
