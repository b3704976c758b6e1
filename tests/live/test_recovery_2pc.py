"""Transactions caught between the two phases of the commit with the binary log: the preview's fate for each is
what the server does, checked on the rows after restart.

MariaDB's group-commit wait (`binlog_commit_wait_usec`/`_count`) holds a group after the InnoDB prepare and before
the binlog is written (prepared, XID not in the binlog -> roll back); the dirty pages are flushed meanwhile, then
the server is killed. Each session inserts a distinct number of rows, which names it in the undo logs.

MySQL: its group-commit sync delay (`binlog_group_commit_sync_delay`, at most 1 s) holds a group after the binlog
write and before the InnoDB commit (prepared, XID in the binlog -> commit); the server is killed inside it, without
a page flush (the preview applies the redo log to the undo pages). Its window between the prepare and the binlog
write cannot be widened in a release build, so MySQL's "roll back" fate of the coordinator is covered by the
decision rules' unit tests and MariaDB's test, not here.
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
    server = make_server(flavor, extra_args=SMALL_REDO[flavor])
    _table_with_rows(server)
    caught = catch_prepared_mariadb(server, random.Random(seed))
    copy = tmp_path / "copy"
    shutil.copytree(server.datadir, copy)

    result = run_cli("recovery", str(copy), "--format", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    prepared = result.json()["prepared"]
    assert prepared, f"no prepared transaction found; sessions caught: {caught}"
    assert all(p["xid"] and not p["xid"]["external"] for p in prepared)
    fates = {p["row_operations"]: p["fate"] for p in prepared}
    assert set(fates) <= set(caught)
    assert set(fates.values()) == {"roll back"} and len(fates) == len(caught)

    log = restart_log(server)
    assert f"Found {len(fates)} prepared transaction(s) in InnoDB" in log
    for count, fate in fates.items():
        present = rows(server, f"SELECT COUNT(*) FROM r.p WHERE tag = {caught[count]}")
        assert present == (count if fate == "commit" else 0), (count, fate, present)


MYSQL_WIDEN = ["SET GLOBAL binlog_group_commit_sync_delay = 1000000", "SET GLOBAL sync_binlog = 1"]


def catch_prepared_mysql(server: SandboxServer, rnd: random.Random) -> dict[int, int]:
    """Start committing sessions and kill the server while the first group sleeps in its sync delay (binlog
    written, not yet committed in InnoDB: XIDs in the binlog) and later ones wait at the flush stage (prepared,
    XIDs not written). The undo pages are not flushed: the preview applies the redo log. Returns row count -> tag
    of the sessions caught (another attempt if every session finished first)."""

    def in_sync_delay(cur: Any, sessions: int) -> bool:
        if _committing(cur) != sessions:
            return False
        time.sleep(0.2)  # inside the first group's one-second sync delay
        return True

    return catch_prepared(server, rnd, MYSQL_WIDEN, (3, 5), 4, in_sync_delay)


@pytest.mark.parametrize("flavor", [f for f in wanted_flavors() if f == "mysql"])
@pytest.mark.parametrize("seed", [3, 7])
def test_prepared_in_two_phase_commit_is_decided_by_the_binlog(
        flavor: str, make_server: Callable[..., SandboxServer], run_cli: Callable[..., Any], tmp_path: Path,
        seed: int) -> None:
    """MySQL: the transactions whose XID the binlog holds are committed at restart, the others rolled back; the
    preview's fate for each equals what the rows show afterwards."""
    server = make_server(flavor, extra_args=SMALL_REDO[flavor])
    _table_with_rows(server)
    caught = catch_prepared_mysql(server, random.Random(seed))
    copy = tmp_path / "copy"
    shutil.copytree(server.datadir, copy)

    result = run_cli("recovery", str(copy), "--format", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    preview = result.json()
    fates = {p["row_operations"]: p["fate"] for p in preview["prepared"]}
    rolled = {t["row_operations"] for t in preview["roll_back"]}
    assert fates, f"no prepared transaction found; sessions caught: {caught}; notes: {preview['notes']}"
    assert all(p["xid"] and not p["xid"]["external"] for p in preview["prepared"])
    assert set(fates) <= set(caught) and set(caught) <= set(fates) | rolled | {0}

    restart_log(server, wait_rollback=True)
    for count, tag in caught.items():
        present = rows(server, f"SELECT COUNT(*) FROM r.p WHERE tag = {tag}")
        expected = count if fates.get(count) == "commit" else 0
        assert present == expected, (count, fates.get(count, "active: rolled back"), present)
