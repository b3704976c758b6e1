"""`recovery DATADIR` and offline `undo PATH` agree with what the server does when it starts on the same files.

One dedicated server per flavor and seed: committed rows, long uncommitted transactions with seeded numbers of
inserts, updates and deletes, external XA transactions (one left prepared, one prepared then committed), then all
dirty pages flushed (the undo logs are read from the pages on disk, not from the redo log) and kill -9. The data
directory is copied and previewed (first a partly written transaction is appended to the last binlog, as a crash
during its write leaves it, and the pages of the test's tables that the doublewrite buffer holds are torn); the
server is started on the original and its error log, XA RECOVER, the binlog's size and the rows are compared with
the preview.
"""

from __future__ import annotations

import contextlib
import random
import re
import shutil
import struct
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymysql
import pytest
from crc32c import crc32c

from mysqlinspect.binlog.source.file_scan import binlog_files_in_order
from mysqlinspect.errors import SandboxError
from mysqlinspect.innodb.undo.segments import read_undo
from mysqlinspect.sandbox.server import SandboxServer
from tests.servers import Writer, create_database, flush_dirty_pages, wait_for

pytestmark = [pytest.mark.live, pytest.mark.dedicated]

SMALL_REDO = {"mysql": ["--innodb-redo-log-capacity=8M"], "mariadb": ["--innodb-log-file-size=8M"]}
N_TRX = re.compile(r"(\d+) transaction\(s\) which must be rolled back or cleaned up in total (\d+) row operations")
MYSQL_ROLLING = re.compile(r"Rolling back trx with id (\d+), (\d+) rows to undo")
MARIADB_ROLLED = re.compile(r"Rolled back recovered transaction (\d+)")
PREPARED_AFTER = re.compile(r"Transaction (\d+) in prepared state after recovery")
RESTORED_LINE = re.compile(r"(?:Recovered|Restoring|Restored) page \[page id: space=(\d+), page number=(\d+)\]"
                           r".*doublewrite", re.I)
PS = 16384
XA_LEFT = ("xa_left", "b1", 7)
XA_DONE = ("xa_done", "b2", 7)


@dataclass
class Workload:
    committed_rows: int = 0
    open_conns: list[pymysql.connections.Connection] = field(default_factory=list)
    open_ops: list[int] = field(default_factory=list)  # row operations of each uncommitted transaction


def _xa(cur: Any, verb: str, xid: tuple[str, str, int]) -> None:
    cur.execute(f"XA {verb} '{xid[0]}','{xid[1]}',{xid[2]}")


def drive(server: SandboxServer, seed: int, flush: bool = True) -> Workload:
    rnd = random.Random(seed)
    work = Workload()
    conn = server.connect()
    with conn.cursor() as cur:
        cur.execute("CREATE DATABASE r")
        cur.execute("CREATE TABLE r.t (id INT AUTO_INCREMENT PRIMARY KEY, v INT, pad VARCHAR(200))")
        cur.execute("CREATE TABLE r.x (id INT PRIMARY KEY, v INT)")
        work.committed_rows = rnd.randint(400, 600)
        cur.executemany("INSERT INTO r.t (v, pad) VALUES (%s, REPEAT('p', 150))",
                        [(i,) for i in range(work.committed_rows)])
    for n in range(rnd.randint(2, 3)):
        trx = server.connect()
        trx.autocommit(False)
        with trx.cursor() as cur:
            inserts = rnd.randint(50, 400)
            cur.executemany("INSERT INTO r.t (v, pad) VALUES (%s, 'uncommitted')", [(-1,)] * inserts)
            low = n * 100
            updated = cur.execute(f"UPDATE r.t SET v = v + 1 WHERE id > {low} AND id <= {low + 50}")
            deleted = cur.execute(f"DELETE FROM r.t WHERE id > {low + 50} AND id <= {low + 50 + rnd.randint(1, 9)}")
        work.open_conns.append(trx)
        work.open_ops.append(inserts + updated + deleted)
    xa = server.connect()
    with xa.cursor() as cur:
        _xa(cur, "START", XA_LEFT)
        cur.executemany("INSERT INTO r.x VALUES (%s, 1)", [(i,) for i in range(rnd.randint(1, 20))])
        _xa(cur, "END", XA_LEFT)
        _xa(cur, "PREPARE", XA_LEFT)
    work.open_conns.append(xa)
    done = server.connect()
    with done.cursor() as cur:
        _xa(cur, "START", XA_DONE)
        cur.execute("INSERT INTO r.x VALUES (1000, 2)")
        _xa(cur, "END", XA_DONE)
        _xa(cur, "PREPARE", XA_DONE)
        _xa(cur, "COMMIT", XA_DONE)
    done.close()
    if flush:
        flush_dirty_pages(conn)
        with conn.cursor() as cur:  # page writes of the test tables last, so the doublewrite buffer holds copies
            cur.execute("INSERT INTO r.x VALUES (2000, 0)")
            cur.execute("UPDATE r.t SET pad = REPEAT('q', 150) WHERE id BETWEEN 300 AND 399")  # rows no one locks
        flush_dirty_pages(conn)
        hold_page_cleaner(conn)
    conn.close()
    return work


def hold_page_cleaner(conn: Any) -> None:
    """No more flushing until the kill (purge and the page cleaner's idle flushing would write other pages through
    the doublewrite buffer, over the copies of the test tables' pages just written)."""
    with conn.cursor() as cur:
        cur.execute("SET GLOBAL innodb_max_dirty_pages_pct = 90")
        cur.execute("SET GLOBAL innodb_max_dirty_pages_pct_lwm = 0")
        cur.execute("SHOW GLOBAL VARIABLES LIKE 'innodb_idle_flush_pct'")
        if cur.fetchone():  # MySQL 8.0.18+
            cur.execute("SET GLOBAL innodb_idle_flush_pct = 0")


ROLLBACK_DONE = "Rollback of non-prepared transactions completed"


def slow_step_warning(step: str, began: float, limit: float = 60.0) -> None:
    """A step that took over `limit` seconds is named in the run's warnings summary: one of these tests
    sometimes takes about two minutes more in full runs, and which step does is not known yet."""
    took = time.monotonic() - began
    if took > limit:
        warnings.warn(f"{step} took {took:.0f}s", stacklevel=2)


def restart_log(server: SandboxServer, wait_rollback: bool = False) -> str:
    """The error log of a start. With `wait_rollback`, once the background rollback of the recovered
    transactions has finished: both servers log ROLLBACK_DONE; should the message not come, the server's own
    view says it too (no recovered transaction left rolling back or active, only the prepared ones)."""
    before = len(server.error_log_text())
    began = time.monotonic()
    server.start()
    slow_step_warning("restart", began)
    if wait_rollback:
        try:
            wait_for(lambda: ROLLBACK_DONE in server.error_log_text()[before:] or rollback_finished(server),
                     timeout=240, interval=0.5)
        except AssertionError as exc:
            try:
                left: Any = recovered_transactions(server)
            except pymysql.err.MySQLError as gone:
                left = f"none readable ({gone}; server process alive: {server.is_running()})"
            raise AssertionError(f"{exc}: recovered transactions {left}; error log: "
                                 f"{server.error_log_text()[before:][-6000:]}") from exc
    return server.error_log_text()[before:]


def recovered_transactions(server: SandboxServer) -> list[tuple[Any, ...]]:
    """INNODB_TRX rows of transactions resurrected at start-up (no client thread): id, state, rows modified."""
    conn = server.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT trx_id, trx_state, trx_rows_modified FROM information_schema.INNODB_TRX"
                        " WHERE trx_mysql_thread_id = 0")
            return [tuple(r) for r in cur.fetchall()]
    finally:
        conn.close()


def rollback_finished(server: SandboxServer) -> bool:
    """Only the prepared transactions remain (XA RECOVER lists them; they are not rolled back)."""
    try:
        left = recovered_transactions(server)
    except pymysql.err.MySQLError:
        return False
    return len(left) <= len(xa_recover(server)) and all(state != "ROLLING BACK" for _, state, _ in left)


def server_rollbacks(flavor: str, log: str) -> set[int]:
    if flavor == "mysql":
        return {int(i) for i, _ in MYSQL_ROLLING.findall(log)}
    return {int(i) for i in MARIADB_ROLLED.findall(log)}


def xa_recover(server: SandboxServer) -> set[str]:
    conn = server.connect()
    with conn.cursor() as cur:
        cur.execute("XA RECOVER")
        found = {row[3].decode() if isinstance(row[3], bytes) else row[3] for row in cur.fetchall()}
    conn.close()
    return found


def rows(server: SandboxServer, sql: str) -> int:
    conn = server.connect()
    with conn.cursor() as cur:
        cur.execute(sql)
        value = int(cur.fetchone()[0])
    conn.close()
    return value


def use_undo_tablespaces(server: SandboxServer, count: int) -> None:
    """MariaDB: move the rollback segments into `count` undo tablespaces (possible after a slow shutdown)."""
    conn = server.connect()
    with conn.cursor() as cur:
        cur.execute("SET GLOBAL innodb_fast_shutdown = 0")
    conn.close()
    server.stop()
    server.extra_args.append(f"--innodb-undo-tablespaces={count}")
    server.start()


@pytest.mark.parametrize(("seed", "undo_tablespaces"), [(11, 0), (23, 3)])
def test_recovery_preview_matches_the_server(
        sandbox_flavor: str, make_server: Callable[..., SandboxServer], run_cli: Callable[..., Any],
        tmp_path: Path, seed: int, undo_tablespaces: int) -> None:
    """MySQL keeps its rollback segments in undo_001/undo_002; MariaDB in ibdata1, or (second run) in undo001..3."""
    server = make_server(sandbox_flavor, extra_args=SMALL_REDO[sandbox_flavor])
    if undo_tablespaces and sandbox_flavor == "mariadb":
        use_undo_tablespaces(server, undo_tablespaces)
    work = drive(server, seed)
    server.kill()
    for conn in work.open_conns:
        conn.close()
    binlog = binlog_files_in_order(server.datadir)[-1]
    complete_end, partial = append_partial_transaction(binlog)
    torn = tear_user_pages(server.datadir, run_cli)
    assert torn or sandbox_flavor == "mariadb"  # MariaDB ignores copies older than its checkpoint: none to tear
    copy = tmp_path / "copy"
    shutil.copytree(server.datadir, copy)
    check_failing_copies(server, copy, tmp_path, run_cli)

    undo = run_cli("undo", str(copy), "--format", "json")
    assert undo.exit_code == 0, undo.stdout + undo.stderr
    if undo_tablespaces:
        assert {f for f in undo.json()["files"] if f.startswith("undo")} and all(
            not seg.startswith("0:") for t in undo.json()["transactions"] for seg in t["undo_segments"])
    result = run_cli("recovery", str(copy), "--format", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    preview = result.json()
    assert preview["outcome"] == "recovers"
    restored = {(d["space_id"], d["page_no"]) for d in preview["doublewrite"]["restored"]}
    assert restored == torn and preview["doublewrite"]["unrecoverable"] == []
    assert preview["undo"]["server_message"] == undo.json()["server_message"]
    rolled = {t["trx_id"]: t for t in preview["roll_back"]}
    assert sorted(t["row_operations"] for t in rolled.values()) == sorted(work.open_ops)
    # the uncommitted transactions changed r.t only: named by MySQL's SDI, by MariaDB's SYS_TABLES in ibdata1
    assert all(t["tables"] == ["r.t"] and len(t["table_ids"]) == 1 for t in rolled.values())
    assert preview["binlog"]["last_complete_transaction_end"] == complete_end
    assert preview["binlog"]["partial_transaction_bytes"] == partial > 0
    assert preview["binlog"]["truncate_to"] == (complete_end if sandbox_flavor == "mysql" else None)
    [left] = preview["prepared"]
    assert (left["xid"]["gtrid"], left["xid"]["bqual"], left["xid"]["format_id"]) == XA_LEFT
    assert left["fate"] == "stays prepared"

    log_start = len(server.error_log_text())
    log = restart_log(server, wait_rollback=True)
    printed = N_TRX.findall(log)
    assert printed, log[-3000:]
    n, m = printed[-1]
    assert preview["undo"]["server_message"] == (f"{n} transaction(s) which must be rolled back or cleaned up in"
                                                 f" total {m} row operations to undo")
    assert int(m) == sum(work.open_ops)
    if sandbox_flavor == "mysql":
        assert (f"size is {complete_end + partial}, but recovered up to {complete_end}. Binlog trimmed to"
                f" {complete_end} bytes") in log
    assert binlog.stat().st_size == complete_end + (0 if sandbox_flavor == "mysql" else partial)
    assert server_rollbacks(sandbox_flavor, log) == set(rolled)
    if sandbox_flavor == "mysql":
        assert {int(i): int(r) for i, r in MYSQL_ROLLING.findall(log)} == {
            i: t["row_operations"] for i, t in rolled.items()}
    assert {int(i) for i in PREPARED_AFTER.findall(log)} == {left["trx_id"]}
    check_coordinator_lines(preview, sandbox_flavor, log)
    assert xa_recover(server) == {XA_LEFT[0] + XA_LEFT[1]}
    assert rows(server, "SELECT COUNT(*) FROM r.t") == work.committed_rows
    assert rows(server, "SELECT COUNT(*) FROM r.t WHERE pad = 'uncommitted'") == 0
    assert rows(server, "SELECT COUNT(*) FROM r.x WHERE id = 1000") == 1
    # MySQL restores a tablespace's pages when it opens it: after the queries above, every test table has been
    later = server.error_log_text()[log_start:]
    assert {(int(sp), int(pg)) for sp, pg in RESTORED_LINE.findall(later)} == restored
    check_clean_stop(server, tmp_path, run_cli)


def check_coordinator_lines(preview: dict[str, Any], flavor: str, log: str) -> None:
    """The transaction coordinator's lines the preview announces are in the error log: prepared transactions
    found, external XA ones kept (and MySQL's per-engine summary: committed, rolled back, prepared)."""
    coordinator = preview["coordinator"]
    assert coordinator["rules"] == ("MySQL 8.0.30+" if flavor == "mysql" else "MariaDB")
    lines = coordinator["server_messages"]
    assert "Found 1 prepared XA transactions" in lines
    if flavor == "mysql":
        assert any(line.startswith("Crash recovery finished in InnoDB engine. ") for line in lines)
    for line in lines:
        assert line in log, (line, log[-4000:])


def check_clean_stop(server: SandboxServer, tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    """After XA ROLLBACK and a clean stop: outcome "clean", nothing to undo, and the server resurrects nothing."""
    conn = server.connect()
    with conn.cursor() as cur:
        _xa(cur, "ROLLBACK", XA_LEFT)
    conn.close()
    began = time.monotonic()
    server.stop()
    slow_step_warning("clean stop", began)
    clean = tmp_path / "clean"
    shutil.copytree(server.datadir, clean)
    result = run_cli("recovery", str(clean), "--format", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    preview = result.json()
    assert (preview["outcome"], preview["roll_back"], preview["prepared"]) == ("clean", [], [])
    assert preview["undo"]["server_message"] is None
    assert preview["binlog"]["crash_recovery"] is False
    log = restart_log(server)
    assert not N_TRX.search(log) and not PREPARED_AFTER.search(log)


def tear_user_pages(datadir: Path, run_cli: Callable[..., Any]) -> set[tuple[int, int]]:
    """Tear (zero the second half of) the pages of the test's tables whose doublewrite copy recovery would use."""
    report = run_cli("doublewrite", str(datadir), "--format", "json").json()
    checkpoint = report["checkpoint_lsn"] or 0
    usable = {(c["space_id"], c["page_no"]): c for c in report["copies"]
              if c["checksum_valid"] and (c["target"] or "").startswith("r/") and c["page_no"] > 3
              and c["verdict"] in ("current", "newer_than_page")
              and (report["layout"] == "dblwr_files" or c["lsn"] >= checkpoint)}
    for (_space, page_no), copy in usable.items():
        with open(datadir / copy["target"], "r+b") as fh:
            fh.seek(page_no * PS + PS // 2)
            fh.write(bytes(PS // 2))
    return set(usable)


def append_partial_transaction(binlog: Path) -> tuple[int, int]:
    """Append the events of the last committed transaction without its XID event (a transaction the crash cut
    before its commit event); returns (end of the last complete transaction, bytes appended)."""
    data = binlog.read_bytes()
    pos, group_start, last_pair = 4, None, None
    while pos < len(data):
        _ts, type_code, _sid, size, _pos, _flags = struct.unpack_from("<IBIIIH", data, pos)
        if type_code in (33, 162):  # GTID (MySQL, MariaDB)
            group_start = pos
        elif type_code == 16 and group_start is not None:  # XID
            last_pair = (group_start, pos)
        pos += size
    assert last_pair is not None
    with open(binlog, "ab") as fh:
        fh.write(data[last_pair[0]:last_pair[1]])
    return len(data), last_pair[1] - last_pair[0]


def _first_page_of(undo_json: dict[str, Any], state: str) -> tuple[str, int]:
    seg = next(s for s in undo_json["undo_segments"] if s["state"] == state)
    rseg = next(r for r in undo_json["rollback_segments"] if r["space_id"] == seg["space_id"] and r["file"])
    return rseg["file"], seg["page_no"]


def _overwrite_page(path: Path, page_no: int, data: bytes, full_crc32: bool, ps: int = 16384) -> None:
    """Write `data` at the page body's start and store a valid checksum again (the page is damaged in content,
    not torn: the doublewrite buffer has nothing to repair)."""
    with open(path, "r+b") as fh:
        fh.seek(page_no * ps)
        page = bytearray(fh.read(ps))
        page[38:38 + len(data)] = data
        if full_crc32:
            page[ps - 4:] = crc32c(bytes(page[:ps - 4])).to_bytes(4, "big")
        else:
            value = (crc32c(bytes(page[4:26])) ^ crc32c(bytes(page[38:ps - 8]))).to_bytes(4, "big")
            page[0:4] = page[ps - 8:ps - 4] = value
        fh.seek(page_no * ps)
        fh.write(page)


GARBAGE_UNDO = "Transaction ID: 0 found for resurrecting"  # MySQL, from an overwritten undo page
CRASH_MARKERS = ("got signal ", "Assertion failure")  # an aborting server's report (its stack dump may hang)


def _crashed(server: SandboxServer) -> bool:
    return server.error_log.exists() and any(m in server.error_log.read_text(errors="replace") for m in CRASH_MARKERS)


def start_on_copy(server: SandboxServer, datadir: Path, stops_with: str | None = None) -> tuple[bool, str]:
    """Start a server of the same flavor and options on a copied data directory: (started, its error log). With
    `stops_with`, a line expected in the error log: once it is there the start counts as failed (MySQL does not
    exit after a corrupt page in recovery, it stays in recovery) and the process is killed. A server that aborts
    (an assertion, a signal) counts as failed once it has had 15 s to exit on its own: a crashing mysqld can hang
    in its stack dump, and the start would wait out its whole timeout (120 s; seen on a loaded machine)."""
    other = SandboxServer(server.flavor, base=datadir.parent, server_id=server.server_id + 100,
                          extra_args=list(server.extra_args))
    outcome: list[bool] = []

    def start() -> None:
        try:
            other.start()
            outcome.append(True)
        except SandboxError:
            outcome.append(False)

    thread = threading.Thread(target=start, daemon=True)
    thread.start()
    began = time.monotonic()
    try:
        wait_for(lambda: outcome or _crashed(other) or (stops_with is not None and other.error_log.exists()
                                                        and stops_with in other.error_log.read_text()),
                 timeout=240, interval=0.5)
        if not outcome and _crashed(other):
            with contextlib.suppress(AssertionError):
                wait_for(lambda: outcome, timeout=15, interval=0.5)
        return bool(outcome and outcome[0]), other.error_log.read_text()
    finally:
        other.kill()
        thread.join(timeout=60)
        other.destroy()
        slow_step_warning(f"start on copy {datadir.parent.name}", began)


def check_failing_copies(server: SandboxServer, copy: Path, tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    """Each damaged copy is also started: the preview fails (exit 65) exactly when the server does, with its
    words. No redo log; a corrupt undo log (its first page overwritten): both stop the server. A damaged page the
    doublewrite buffer has no copy of: the server starts when no redo record names it (recovery does not read
    it; the usual case here, the pages were flushed before the kill), and the preview says so in a note."""
    no_redo = tmp_path / "no-redo" / "data"
    shutil.copytree(copy, no_redo, ignore=shutil.ignore_patterns("ib_logfile*", "#innodb_redo"))
    result = run_cli("recovery", str(no_redo), "--format", "json")
    assert result.exit_code == 65, result.stdout + result.stderr
    reason = result.json()["failures"][0].split(" (")[0]
    started, log = start_on_copy(server, no_redo, stops_with=reason)
    assert not started and reason in log, (reason, log[-2000:])

    bad_undo = tmp_path / "bad-undo" / "data"
    shutil.copytree(copy, bad_undo)
    undo = run_cli("undo", str(bad_undo), "--format", "json").json()
    file, page_no = _first_page_of(undo, "active")
    _overwrite_page(bad_undo / file, page_no, b"\x00\x00" + b"\xff" * 16 + b"\x00\x09\xff\xf0",
                    full_crc32=undo["server"] == "mariadb")
    result = run_cli("recovery", str(bad_undo), "--format", "json")
    assert result.exit_code == 65, result.stdout + result.stderr
    [failure] = [f for f in result.json()["failures"] if "corrupt undo log" in f]
    assert run_cli("undo", str(bad_undo), "--format", "json").exit_code == 65
    # MySQL stops on an assertion while reading the records, or (some overwrites) reads them in an endless loop:
    # the garbage names transaction id 0 ("Records read: ..." every 30 s, for ever)
    started, log = start_on_copy(server, bad_undo, stops_with=GARBAGE_UNDO)
    assert not started
    if server.flavor == "mariadb":  # MySQL stops on an assertion while reading the records
        assert f"InnoDB: {failure.split(': ')[-1]}" in log, (failure, log[-2000:])

    bad_page = tmp_path / "bad-page" / "data"
    shutil.copytree(copy, bad_page)
    held = {c["page_no"] for c in run_cli("doublewrite", str(bad_page), "--format", "json").json()["copies"]
            if c["target"] == "r/t.ibd"}
    page_no = next(n for n in range(3, (bad_page / "r/t.ibd").stat().st_size // PS) if n not in held)
    with open(bad_page / "r/t.ibd", "r+b") as fh:  # a damaged page the doublewrite buffer has no copy of
        fh.seek(page_no * PS + 1000)
        fh.write(b"\xde\xad" * 50)
    result = run_cli("recovery", str(bad_page), "--format", "json")
    assert result.exit_code in (0, 65), result.stdout + result.stderr
    line = result.json()["failures"][0].split(" (")[0] if result.exit_code else None
    started, log = start_on_copy(server, bad_page, stops_with=line)
    assert started == (result.exit_code == 0), (result.json()["failures"], log[-2000:])
    if started:  # the usual case: the pages were flushed before the kill, no redo record names this one
        assert any(f"page number={page_no}]" in n and "no valid copy" in n and "the server starts" in n
                   for n in result.json()["notes"])
    else:
        assert line is not None and line in log


def fill_doublewrite_buffer(conn: Any) -> None:
    """A filler table changed after the test table: its pages are flushed after the test table's, through the
    doublewrite buffer (about 350 pages, more than its slots: 128 in MariaDB's system tablespace, 256 in MySQL's
    flush-list file), so the buffer no longer holds copies of the test table's pages."""
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE r.filler (id INT PRIMARY KEY, pad VARCHAR(1000))")
        cur.executemany("INSERT INTO r.filler VALUES (%s, REPEAT('f', 900))", [(i,) for i in range(1, 6001)])


CHECKPOINT_STATUS = {"mysql": ("Innodb_redo_log_checkpoint_lsn", "Innodb_redo_log_current_lsn"),
                     "mariadb": ("Innodb_lsn_last_checkpoint", "Innodb_lsn_current")}


def _status(cur: Any, name: str) -> int:
    cur.execute("SHOW GLOBAL STATUS LIKE %s", (name,))
    return int(cur.fetchone()[1])


@pytest.mark.parametrize("seed", [5, 9])
def test_damaged_page_stops_recovery_only_when_recovery_reads_it(
        sandbox_flavor: str, make_server: Callable[..., SandboxServer], run_cli: Callable[..., Any], tmp_path: Path,
        seed: int) -> None:
    """A table's pages flushed and checkpointed, then some of its rows updated and the server killed: recovery
    reads the updated pages to apply their redo records, the others it does not read. One page of each kind is
    damaged in its own copy (neither has a doublewrite copy): the preview fails (exit 65) with the server's line
    for the first, and the server on that copy stops with that line; for the second both start. The pages are
    picked from the tool's redo walk; the server judges."""
    server = make_server(sandbox_flavor, extra_args=SMALL_REDO[sandbox_flavor])
    rnd = random.Random(seed)
    conn = server.connect()
    with conn.cursor() as cur:
        cur.execute("CREATE DATABASE r")
        cur.execute("CREATE TABLE r.d (id INT PRIMARY KEY, v INT, pad VARCHAR(200))")
        cur.executemany("INSERT INTO r.d VALUES (%s, 0, REPEAT('d', 190))", [(i,) for i in range(1, 1201)])
        fill_doublewrite_buffer(conn)
        checkpoint, current = CHECKPOINT_STATUS[sandbox_flavor]
        target = _status(cur, current)  # read before the flush: an idle MariaDB makes no checkpoint past its own
        flush_dirty_pages(conn)
        wait_for(lambda: _status(cur, checkpoint) >= target, timeout=90, interval=0.5)
        hold_page_cleaner(conn)  # the updated pages stay dirty until the kill: no doublewrite copy of them
        for first in rnd.sample(range(1, 1150), 3):
            cur.execute(f"UPDATE r.d SET v = v + 1 WHERE id BETWEEN {first} AND {first + 20}")
    server.kill()
    copy = tmp_path / "copy"
    shutil.copytree(server.datadir, copy)
    table = "r/d.ibd"
    space_id = int.from_bytes((copy / table).read_bytes()[38:42], "big")
    view = read_undo(copy).redo
    assert view is not None and view.applied and view.overlay is not None, view
    held = {c["page_no"] for c in run_cli("doublewrite", str(copy), "--format", "json").json()["copies"]
            if c["target"] == table}
    pages = [n for n in range(3, (copy / table).stat().st_size // PS) if n not in held]
    read = [n for n in pages if (space_id, n) in view.overlay.read_by_recovery]
    not_read = [n for n in pages if (space_id, n) not in view.overlay.touched]
    assert read and not_read, (read, not_read, sorted(p for s, p in view.overlay.touched if s == space_id))
    for label, page_no, fails in (("read", rnd.choice(read), True), ("not-read", rnd.choice(not_read), False)):
        damaged = tmp_path / f"damaged-{label}" / "data"
        shutil.copytree(copy, damaged)
        with open(damaged / table, "r+b") as fh:
            fh.seek(page_no * PS + 1000)
            fh.write(b"\xde\xad" * 50)
        result = run_cli("recovery", str(damaged), "--format", "json")
        assert result.exit_code == (65 if fails else 0), result.json()["failures"]
        line = result.json()["failures"][0].split(" (")[0] if fails else None
        started, log = start_on_copy(server, damaged, stops_with=line)
        assert started != fails, (label, page_no, log[-2000:])
        assert line is None or line in log, (line, log[-2000:])
        if not fails:
            assert any(f"page number={page_no}]" in n and "the server starts" in n for n in result.json()["notes"])


@pytest.mark.parametrize("seed", [31, 47])
def test_preview_under_write_load_without_a_flush(
        sandbox_flavor: str, make_server: Callable[..., SandboxServer], run_cli: Callable[..., Any], tmp_path: Path,
        seed: int) -> None:
    """No flush before the kill, a writer committing small transactions meanwhile: the undo pages on disk are
    stale, only the redo log has their changes. The preview applies the redo log to them (MariaDB 10.8+ and MySQL
    8.0.30+ logs) and gives the server's answer: the transactions rolled back, with their ids and row operations,
    and the prepared ones."""
    flavor = sandbox_flavor
    server = make_server(flavor, extra_args=SMALL_REDO[flavor])
    work = drive(server, seed, flush=False)
    writer = Writer(server, create_database(server), rows_per_txn=30, payload_bytes=800).start()
    time.sleep(3)
    server.kill()
    writer.stop()
    for conn in work.open_conns:
        conn.close()
    copy = tmp_path / "copy"
    shutil.copytree(server.datadir, copy)
    result = run_cli("recovery", str(copy), "--format", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    preview = result.json()
    assert any("redo applied to" in n for n in preview["notes"]), preview["notes"]
    assert preview["undo"]["redo"]["applied"] and preview["undo"]["redo"]["records_applied"] > 0
    rolled = {t["trx_id"]: t for t in preview["roll_back"]}
    remaining = [t["row_operations"] for t in rolled.values()]
    for ops in work.open_ops:  # each long transaction is among those rolled back (the writer's may be too)
        remaining.remove(ops)
    prepared = {p["trx_id"] for p in preview["prepared"]}

    log = restart_log(server, wait_rollback=True)
    printed = N_TRX.findall(log)
    assert printed, log[-3000:]
    assert preview["undo"]["server_message"] == (f"{printed[-1][0]} transaction(s) which must be rolled back or"
                                                 f" cleaned up in total {printed[-1][1]} row operations to undo")
    assert server_rollbacks(flavor, log) == set(rolled)
    if flavor == "mysql":
        assert {int(i): int(r) for i, r in MYSQL_ROLLING.findall(log)} == {
            i: t["row_operations"] for i, t in rolled.items()}
    assert {int(i) for i in PREPARED_AFTER.findall(log)} == prepared
    check_coordinator_lines(preview, flavor, log)
    assert XA_LEFT[0] + XA_LEFT[1] in xa_recover(server)
    assert rows(server, "SELECT COUNT(*) FROM r.t WHERE pad = 'uncommitted'") == 0
