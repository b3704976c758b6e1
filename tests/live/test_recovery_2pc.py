"""Transactions caught between the two phases of the commit with the binary log: the preview's fate for each is
what the server does, checked on the rows after restart.

MariaDB's group-commit wait (`binlog_commit_wait_usec`/`_count`) holds a group after the InnoDB prepare and before
the binlog is written (prepared, XID not in the binlog -> roll back); the dirty pages are flushed meanwhile, then
the server is killed. A copy without its binlogs is refused by MariaDB and by the preview alike. Each session
inserts a distinct number of rows, which names it in the undo logs.

MySQL: its group-commit sync delay (`binlog_group_commit_sync_delay`, at most 1 s) holds a group after the binlog
write and before the InnoDB commit (prepared, XID in the binlog -> commit); a `FLUSH BINARY LOGS` issued then holds
the binlog's lock until that group has committed, so the next group waits prepared before the binlog write (XID not
in the binlog -> roll back). The server is killed with both groups waiting, without a page flush (the preview
applies the redo log to the undo pages). Where each session waits is read from the Performance Schema's binlog mutex
and condition instruments (enabled at start): the processlist shows `COMMIT` and `FLUSH BINARY LOGS` before they
reach their waits, which on a busy machine let group B reach the binlog first.
"""

from __future__ import annotations

import random
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pymysql
import pytest

from mysqlinspect.binlog.source.file_scan import binlog_files_in_order, binlog_index_files
from mysqlinspect.errors import SandboxError
from mysqlinspect.sandbox.server import SandboxServer
from tests.live.test_recovery_crash import SMALL_REDO, restart_log, rows
from tests.servers import flush_dirty_pages, wanted_flavors

pytestmark = [pytest.mark.live, pytest.mark.dedicated]

WIDEN = ["SET GLOBAL binlog_commit_wait_count = 1000", "SET GLOBAL binlog_commit_wait_usec = 30000000"]
WINDOW_SECONDS = 20.0


def _dirty(cur: Any) -> int:
    cur.execute("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'")
    return int(cur.fetchone()[1])


def _committing(cur: Any) -> int:
    cur.execute("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = 'COMMIT'")
    return int(cur.fetchone()[0])


def _committer(server: SandboxServer, tag: int, count: int, done: list[int]) -> None:
    try:
        conn = server.connect()
        with conn.cursor() as cur:
            cur.execute("BEGIN")
            cur.executemany("INSERT INTO r.p (tag, pad) VALUES (%s, 'x')", [(tag,)] * count)
            cur.execute("COMMIT")
        done.append(tag)
    except pymysql.err.MySQLError:
        pass  # the server was killed under it


def catch_prepared(server: SandboxServer, rnd: random.Random, widen: list[str], sessions: tuple[int, int],
                   attempts: int, in_window: Callable[[Any, int], bool]) -> dict[int, int]:
    """Start committing sessions and kill the server once `in_window(cursor, sessions started)` says they wait
    between the two phases. Returns row count -> tag of the sessions caught (another attempt if a group finishes
    first)."""
    admin = server.connect()
    cur = admin.cursor()
    for sql in widen:
        cur.execute(sql)
    tag = 0
    for _attempt in range(attempts):
        counts = rnd.sample(range(5, 60), rnd.randint(*sessions))
        done: list[int] = []
        threads = []
        batch = {}
        for count in counts:
            tag += 1
            batch[count] = tag
            threads.append(threading.Thread(target=_committer, args=(server, tag, count, done), daemon=True))
        for t in threads:
            t.start()
        deadline = time.monotonic() + WINDOW_SECONDS
        while time.monotonic() < deadline and not done:
            if in_window(cur, len(batch)) and not done:
                server.kill()
                for t in threads:
                    t.join(timeout=10)
                return {c: batch[c] for c in batch if batch[c] not in done}
            time.sleep(0.002)
        for t in threads:
            t.join(timeout=30)
    raise AssertionError(f"no group of commits was caught between prepare and commit in {attempts} attempts")


def catch_prepared_mariadb(server: SandboxServer, rnd: random.Random) -> dict[int, int]:
    """Killed while the sessions wait in MariaDB's group commit with no dirty page left."""
    return catch_prepared(server, rnd, WIDEN, (2, 4), 3,
                          lambda cur, n: _committing(cur) == n and _dirty(cur) == 0)


def _table_with_rows(server: SandboxServer) -> None:
    conn = server.connect()
    with conn.cursor() as cur:
        cur.execute("CREATE DATABASE r")
        cur.execute("CREATE TABLE r.p (id INT AUTO_INCREMENT PRIMARY KEY, tag INT, pad VARCHAR(10))")
        cur.execute("INSERT INTO r.p (tag, pad) VALUES " + ", ".join(["(0, 'c')"] * 100))
    if server.flavor == "mariadb":  # its undo pages are read from disk, as they are not rebuilt from the redo log
        flush_dirty_pages(conn)
    conn.close()


@pytest.mark.parametrize("flavor", [f for f in wanted_flavors() if f == "mariadb"])
@pytest.mark.parametrize("seed", [5, 8])
def test_prepared_in_two_phase_commit_is_rolled_back(flavor: str, make_server: Callable[..., SandboxServer],
                                                     run_cli: Callable[..., Any], tmp_path: Path, seed: int) -> None:
    """MariaDB: the prepared transactions whose XID the binlog lacks are rolled back at restart. A copy without
    its binlogs (and their index) is refused: the preview fails (exit 65) with the message the server stops
    with when started on that copy."""
    server = make_server(flavor, extra_args=SMALL_REDO[flavor])
    _table_with_rows(server)
    caught = catch_prepared_mariadb(server, random.Random(seed))
    copy = tmp_path / "copy"
    shutil.copytree(server.datadir, copy)

    result = run_cli("recovery", str(copy), "--format", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    preview = result.json()
    prepared = preview["prepared"]
    assert prepared, f"no prepared transaction found; sessions caught: {caught}"
    assert all(p["xid"] and not p["xid"]["external"] for p in prepared)
    fates = {p["row_operations"]: p["fate"] for p in prepared}
    assert set(fates) <= set(caught)
    assert set(fates.values()) == {"roll back"} and len(fates) == len(caught)
    assert preview["coordinator"]["server_messages"] == [f"Found {len(fates)} prepared transaction(s) in InnoDB"]

    check_refused_without_binlog(server, tmp_path, run_cli, len(fates))
    log = restart_log(server)
    for line in preview["coordinator"]["server_messages"]:
        assert line in log
    for count, fate in fates.items():
        present = rows(server, f"SELECT COUNT(*) FROM r.p WHERE tag = {caught[count]}")
        assert present == (count if fate == "commit" else 0), (count, fate, present)


def check_refused_without_binlog(server: SandboxServer, tmp_path: Path, run_cli: Callable[..., Any],
                                 prepared: int) -> None:
    """The binlogs and their index removed from a copy: nothing decides the internal prepared transactions."""
    base = tmp_path / "no-binlog"
    shutil.copytree(server.datadir, base / "data")
    for path in [*binlog_files_in_order(base / "data"), *binlog_index_files(base / "data")]:
        path.unlink()
    result = run_cli("recovery", str(base / "data"), "--format", "json")
    assert result.exit_code == 65, result.stdout + result.stderr
    [failure] = result.json()["failures"]
    assert failure.startswith(f"Found {prepared} prepared transactions! It means that server was not shut down")
    assert {p["fate"] for p in result.json()["prepared"]} == {"undecided"}
    other = SandboxServer(server.flavor, base=base, server_id=server.server_id + 100,
                          extra_args=list(server.extra_args))
    try:
        with pytest.raises(SandboxError):
            other.start()
        assert failure in other.error_log.read_text()
    finally:
        other.destroy()


BINLOG_WAITS = ["--performance-schema-instrument=wait/synch/%/sql/MYSQL_BIN_LOG::%=ON",
                "--performance-schema-consumer-events-waits-current=ON"]
MYSQL_WIDEN = ["SET GLOBAL binlog_group_commit_sync_delay = 1000000", "SET GLOBAL sync_binlog = 1"]


def _open_transaction(server: SandboxServer, tag: int, count: int) -> pymysql.connections.Connection:
    conn = server.connect()
    with conn.cursor() as cur:
        cur.execute("BEGIN")
        cur.executemany("INSERT INTO r.p (tag, pad) VALUES (%s, 'x')", [(tag,)] * count)
    return conn


def _commit(conn: pymysql.connections.Connection, done: list[int], tag: int) -> None:
    try:
        with conn.cursor() as cur:
            cur.execute("COMMIT")
        done.append(tag)
    except pymysql.err.MySQLError:
        pass  # the server was killed under it


def _flush_logs(conn: pymysql.connections.Connection) -> None:
    try:
        with conn.cursor() as cur:
            cur.execute("FLUSH BINARY LOGS")
    except pymysql.err.MySQLError:
        pass


def _processlist(cur: Any, info: str) -> int:
    cur.execute("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = %s", (info,))
    return int(cur.fetchone()[0])


def _binlog_waits(cur: Any, sessions: list[int]) -> dict[int, str]:
    """The latest instrumented wait of each session: `LOCK_log` while it waits for that mutex, `LOCK_sync over`
    once it has it; "" when none."""
    marks = ", ".join(["%s"] * len(sessions))
    cur.execute("SELECT t.PROCESSLIST_ID, w.EVENT_NAME, w.END_EVENT_ID IS NULL"
                " FROM performance_schema.events_waits_current w JOIN performance_schema.threads t USING (THREAD_ID)"
                f" WHERE t.PROCESSLIST_ID IN ({marks}) ORDER BY w.EVENT_ID", sessions)
    waits = dict.fromkeys(sessions, "")
    for session, name, waiting in cur.fetchall():
        waits[int(session)] = str(name).rsplit("::", 1)[-1] + ("" if waiting else " over")
    return waits


def _wait_in_binlog(cur: Any, sessions: list[int], allowed: list[str], done: list[int]) -> bool:
    """Until every session waits on one of `allowed`, one of them on the first; False if a commit returned first
    (the window is gone)."""
    deadline = time.monotonic() + 30
    while not done:
        waits = _binlog_waits(cur, sessions)
        if set(waits.values()) <= set(allowed) and allowed[0] in waits.values():
            return True
        if time.monotonic() > deadline:
            raise AssertionError(f"sessions never waited on {allowed}: {waits}")
        time.sleep(0.002)
    return False


def _start(target: Callable[..., None], *args: Any) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread


def catch_both_phases_mysql(server: SandboxServer, rnd: random.Random, attempts: int = 4) -> tuple[
        dict[int, int], dict[int, int]]:
    """Kill MySQL with one group of commits on each side of the binlog write. Group A commits and sleeps in the
    group-commit sync delay (binlog written, InnoDB commit pending: prepared, XIDs in the binlog). A `FLUSH BINARY
    LOGS` then takes the binlog's LOCK_log and waits for A's prepared XIDs to be committed (`new_file_impl()`), so
    group B, committing next, is prepared in InnoDB and waits for LOCK_log in the flush stage: its XIDs are not in
    the binlog. A commit that skips the binlog (`sql_log_bin = 0`) flushes the redo log past B's prepare records
    (the binlog flush stage that would flush them is blocked). Then kill -9, while A still sleeps and FLUSH still
    waits. Returns (row count -> tag) of A and of B; another attempt when the window closed first."""
    admin = server.connect()
    cur = admin.cursor()
    for sql in MYSQL_WIDEN:
        cur.execute(sql)
    tag = 1000
    for _attempt in range(attempts):
        counts = rnd.sample(range(5, 60), rnd.randint(4, 6))
        half = len(counts) // 2
        groups: list[dict[int, int]] = [{}, {}]
        conns: list[list[pymysql.connections.Connection]] = [[], []]
        for n, count in enumerate(counts):
            tag += 1
            side = 0 if n < half else 1
            groups[side][count] = tag
            conns[side].append(_open_transaction(server, tag, count))
        flusher = server.connect()
        done: list[int] = []
        threads = [_start(_commit, c, done, t) for c, t in zip(conns[0], groups[0].values(), strict=True)]
        group_a = [c.thread_id() for c in conns[0]]  # leader in the sync stage's delay, followers wait for it
        flushing = _wait_in_binlog(cur, group_a, ["LOCK_sync over", "COND_done", "LOCK_sync"], done)
        threads.append(_start(_flush_logs, flusher))
        flushing = flushing and _wait_in_binlog(cur, [flusher.thread_id()], ["prep_xids_cond"], done)  # has LOCK_log
        threads += [_start(_commit, c, done, t) for c, t in zip(conns[1], groups[1].values(), strict=True)]
        group_b = [c.thread_id() for c in conns[1]]  # leader waits for LOCK_log, followers for the leader
        flushing = flushing and _wait_in_binlog(cur, group_b, ["LOCK_log", "COND_done"], done)
        cur.execute("SET SESSION sql_log_bin = 0")
        cur.execute("INSERT INTO r.p (tag, pad) VALUES (-1, 'no binlog')")
        cur.execute("SET SESSION sql_log_bin = 1")
        still = _binlog_waits(cur, [flusher.thread_id()])[flusher.thread_id()] == "prep_xids_cond"
        if flushing and still and not done and _processlist(cur, "COMMIT") == len(counts):
            server.kill()
            for t in threads:
                t.join(timeout=10)
            return groups[0], groups[1]
        for t in threads:
            t.join(timeout=60)
        for c in [*conns[0], *conns[1], flusher]:
            c.close()
    raise AssertionError(f"the window between the two phases closed before the kill in {attempts} attempts")


@pytest.mark.parametrize("flavor", [f for f in wanted_flavors() if f == "mysql"])
@pytest.mark.parametrize("seed", [3, 7])
def test_prepared_in_two_phase_commit_is_decided_by_the_binlog(
        flavor: str, make_server: Callable[..., SandboxServer], run_cli: Callable[..., Any], tmp_path: Path,
        seed: int) -> None:
    """MySQL: the prepared transactions whose XID the binlog holds are committed at restart, the others rolled
    back; the preview says which for each session (the rows after restart agree) and prints the coordinator's
    lines as the server does ("Crash recovery finished in InnoDB engine. Successfully committed N, rolled back M
    internal transaction(s).")."""
    server = make_server(flavor, extra_args=SMALL_REDO[flavor] + BINLOG_WAITS)
    _table_with_rows(server)
    in_binlog, not_in_binlog = catch_both_phases_mysql(server, random.Random(seed))
    caught = {**in_binlog, **not_in_binlog}
    copy = tmp_path / "copy"
    shutil.copytree(server.datadir, copy)

    result = run_cli("recovery", str(copy), "--format", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    preview = result.json()
    fates = {p["row_operations"]: p["fate"] for p in preview["prepared"]}
    assert all(p["xid"] and not p["xid"]["external"] for p in preview["prepared"])
    assert preview["coordinator"]["rules"] == "MySQL 8.0.30+"
    assert set(fates) == set(caught), (fates, in_binlog, not_in_binlog, preview["notes"])
    assert {fates[c] for c in in_binlog} == {"commit"} and {fates[c] for c in not_in_binlog} == {"roll back"}

    log = restart_log(server, wait_rollback=True)
    for line in preview["coordinator"]["server_messages"]:
        assert line in log, (line, log[-4000:])
    assert (f"Successfully committed {len(in_binlog)}, rolled back {len(not_in_binlog)} internal transaction(s)."
            in " ".join(preview["coordinator"]["server_messages"]))
    for count, tag in caught.items():
        present = rows(server, f"SELECT COUNT(*) FROM r.p WHERE tag = {tag}")
        assert present == (count if fates[count] == "commit" else 0), (count, fates[count], present)
