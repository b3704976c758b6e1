"""The transaction coordinator's decision for each prepared transaction (recovery/coordinator.py), by the rules of
the server version that crashed: MySQL 8.0.30+ (sql/xa/recovery.cc), MySQL before 8.0.30 (xarecover_handlerton()
of sql/xa.cc: every external XA transaction kept prepared) and MariaDB (sql/handler.cc: external ones kept
prepared, internal ones without a crashed binlog stop the server). First the rules case by case, then from files
laid out as the servers write them: an undo tablespace with prepared undo logs (states 5/6/7 with their XIDs) and a
binary log with XID, XA_PREPARE and XA COMMIT/ROLLBACK events, read by `recovery DATADIR`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mysqlinspect.binlog.source.file_scan import XaKey
from mysqlinspect.innodb.undo import layout as U
from mysqlinspect.innodb.undo.segments import RecoveredTransaction
from mysqlinspect.innodb.undo.structs import Xid
from mysqlinspect.recovery.coordinator import (
    COMMIT,
    MARIADB,
    MYSQL,
    MYSQL_BEFORE_8_0_30,
    ROLL_BACK,
    STAYS_PREPARED,
    UNDECIDED,
    BinlogRecovery,
    coordinator_rules,
    decide,
    read_binlogs,
    server_messages,
)
from mysqlinspect.recovery.settings import read_binlog_location
from mysqlinspect.redo import layout as RL
from mysqlinspect.redo import synthetic as S
from tests.unit import recovery_files as F

KIB = 1024


def internal(number: int) -> Xid:
    """The XID MySQL/MariaDB give a transaction of the binlog two-phase commit: "MySQLXid" + server id + number."""
    return Xid(*F.internal_xid(number))


def prepared(xid: Xid | None, in_tc: bool = False, trx_id: int = 7) -> RecoveredTransaction:
    return RecoveredTransaction(trx_id, "prepared", 3, 3, [1], xid, in_tc, ["1:3"])


def binlog(xids: frozenset[int] = frozenset(), crashed: bool = True, server: str = "mysql",
           xa: dict[XaKey, str] | None = None, indexed: bool = True) -> BinlogRecovery:
    return BinlogRecovery([Path("binlog.000001")], [], crashed, server, set(xids), xa or {}, indexed)


EXTERNAL = Xid(7, b"order-42", b"b1")
KEY = XaKey(7, b"order-42", b"b1")


@pytest.mark.parametrize(("trx", "log", "rules", "fate"), [
    (prepared(None), binlog(), MYSQL, ROLL_BACK),
    # internal XIDs: the binlog decides when the server runs binlog crash recovery
    (prepared(internal(10)), binlog(frozenset({10})), MYSQL, COMMIT),
    (prepared(internal(10)), binlog(frozenset({10})), MYSQL_BEFORE_8_0_30, COMMIT),
    (prepared(internal(10)), binlog(frozenset({11})), MYSQL, ROLL_BACK),
    (prepared(internal(10)), binlog(frozenset({10}), server="mariadb"), MARIADB, COMMIT),
    (prepared(internal(10)), binlog(frozenset({11}), server="mariadb"), MARIADB, ROLL_BACK),
    # ... and without one MySQL forces the rollback (one 2PC engine), MariaDB stops
    (prepared(internal(10)), binlog(frozenset({10}), crashed=False), MYSQL, ROLL_BACK),
    (prepared(internal(10)), binlog(frozenset({10}), indexed=False), MYSQL, ROLL_BACK),
    (prepared(internal(10)), None, MYSQL, ROLL_BACK),
    (prepared(internal(10)), None, MYSQL_BEFORE_8_0_30, ROLL_BACK),
    (prepared(internal(10)), None, MARIADB, UNDECIDED),
    (prepared(internal(10)), binlog(frozenset({10}), crashed=False, server="mariadb"), MARIADB, UNDECIDED),
    # external XA: MariaDB and MySQL before 8.0.30 keep every one prepared, whatever the binlog says
    (prepared(EXTERNAL), binlog(), MARIADB, STAYS_PREPARED),
    (prepared(EXTERNAL), binlog(xa={KEY: "commit"}), MYSQL_BEFORE_8_0_30, STAYS_PREPARED),
    (prepared(EXTERNAL), binlog(xa={KEY: "rollback"}), MYSQL_BEFORE_8_0_30, STAYS_PREPARED),
    (prepared(EXTERNAL), None, MYSQL_BEFORE_8_0_30, STAYS_PREPARED),
    # MySQL 8.0.30+: the last XA step in the binlog, else the undo state (prepared in the TC or not)
    (prepared(EXTERNAL), binlog(xa={KEY: "commit"}), MYSQL, COMMIT),
    (prepared(EXTERNAL), binlog(xa={KEY: "rollback"}), MYSQL, ROLL_BACK),
    (prepared(EXTERNAL), binlog(xa={KEY: "one_phase"}), MYSQL, COMMIT),
    (prepared(EXTERNAL), binlog(xa={KEY: "prepared"}), MYSQL, STAYS_PREPARED),
    (prepared(EXTERNAL, in_tc=True), binlog(), MYSQL, STAYS_PREPARED),
    (prepared(EXTERNAL), binlog(), MYSQL, ROLL_BACK),
    # a binlog closed cleanly is not read: the undo state alone
    (prepared(EXTERNAL), binlog(xa={KEY: "commit"}, crashed=False), MYSQL, ROLL_BACK),
    (prepared(EXTERNAL, in_tc=True), binlog(xa={KEY: "commit"}, crashed=False), MYSQL, STAYS_PREPARED),
    (prepared(EXTERNAL, in_tc=True), None, MYSQL, STAYS_PREPARED),
    (prepared(EXTERNAL), None, MYSQL, ROLL_BACK),
])
def test_fate_of_a_prepared_transaction(trx: RecoveredTransaction, log: BinlogRecovery | None, rules: str,
                                        fate: str) -> None:
    assert decide(trx, log, rules).fate == fate


def test_an_internal_xid_is_read_as_the_binlog_numbers_it() -> None:
    assert internal(123456789).my_xid == 123456789 and not internal(1).external
    assert EXTERNAL.external and EXTERNAL.my_xid == 0


@pytest.mark.parametrize(("version", "server", "redo_8_0_30", "rules"), [
    ("8.0.28", "mysql", None, MYSQL_BEFORE_8_0_30),
    ("8.0.29-log", "mysql", True, MYSQL_BEFORE_8_0_30),  # the binlog's writer, not the redo format, decides
    ("8.0.30", "mysql", None, MYSQL),
    ("9.7.4", "mysql", None, MYSQL),
    ("", "mysql", False, MYSQL_BEFORE_8_0_30),  # no version in the binlog: ib_logfile* is before 8.0.30
    ("", "mysql", True, MYSQL),
    ("10.11.6-MariaDB-log", "unknown", None, MARIADB),
    ("", "mariadb", None, MARIADB),
])
def test_rules_by_the_version_that_crashed(tmp_path: Path, version: str, server: str, redo_8_0_30: bool | None,
                                           rules: str) -> None:
    F.write_binlog(tmp_path, version, F.transaction(5))
    assert coordinator_rules(server, read_binlogs(tmp_path, server), redo_8_0_30) == rules


def test_the_last_xa_step_of_an_xid_counts(tmp_path: Path) -> None:
    """An XID used again after its XA COMMIT: prepared again, the coordinator keeps it prepared."""
    fmt, gtrid, bqual = 7, b"order-42", b"b1"
    F.write_binlog(tmp_path, "9.7.4", F.xa_prepare(fmt, gtrid, bqual) + F.xa_finish("COMMIT", fmt, gtrid, bqual)
                   + F.xa_prepare(fmt, gtrid, bqual) + F.transaction(9))
    log = read_binlogs(tmp_path, "mysql")
    assert log is not None and log.xa_state == {KEY: "prepared"} and log.xids == {9}
    assert decide(prepared(EXTERNAL), log, MYSQL).fate == STAYS_PREPARED


@pytest.mark.parametrize(("checkpoint", "read", "xids"), [
    ("mariadb-bin.000001", ["mariadb-bin.000001", "mariadb-bin.000002"], {1, 2}),
    ("mariadb-bin.000002", ["mariadb-bin.000002"], {2}),
])
def test_mariadb_reads_from_its_last_binlog_checkpoint(tmp_path: Path, checkpoint: str, read: list[str],
                                                       xids: set[int]) -> None:
    """MariaDB (MDEV-181): every file from the one the last Binlog_checkpoint event names; MySQL: the last only."""
    version = "10.11.6-MariaDB-log"
    first = tmp_path / "mariadb-bin.000001"
    first.write_bytes(b"\xfebin" + F.fde(version, in_use=False) + F.binlog_checkpoint("mariadb-bin.000001")
                      + F.mariadb_transaction(1))
    second = tmp_path / "mariadb-bin.000002"
    second.write_bytes(b"\xfebin" + F.fde(version) + F.binlog_checkpoint(checkpoint) + F.mariadb_transaction(2))
    (tmp_path / "mariadb-bin.index").write_text("./mariadb-bin.000001\n./mariadb-bin.000002\n")
    log = read_binlogs(tmp_path, "mariadb")
    assert log is not None and [s.path.name for s in log.scanned] == read and log.xids == xids
    assert coordinator_rules("mariadb", log, None) == MARIADB
    assert decide(prepared(internal(1)), log, MARIADB).fate == (COMMIT if 1 in xids else ROLL_BACK)
    mysql = read_binlogs(tmp_path, "mysql")
    assert mysql is not None and [s.path.name for s in mysql.scanned] == ["mariadb-bin.000002"]


def test_binlogs_without_an_index_are_not_read_by_the_server(tmp_path: Path) -> None:
    F.write_binlog(tmp_path, "9.7.4", F.transaction(10), index=False)
    log = read_binlogs(tmp_path, "mysql")
    assert log is not None and log.crashed and not log.indexed and not log.recovers
    assert decide(prepared(internal(10)), log, MYSQL).fate == ROLL_BACK
    assert decide(prepared(internal(10)), log, MARIADB).fate == UNDECIDED


@pytest.mark.parametrize(("fates", "rules", "log", "expected"), [
    ([(internal(1), False), (internal(2), False), (internal(3), False)], MYSQL, binlog(frozenset({1, 2})),
     ["Found 3 prepared transaction(s) in InnoDB",
      "Crash recovery finished in InnoDB engine. Successfully committed 2, rolled back 1 internal transaction(s)."]),
    ([(EXTERNAL, True)], MYSQL, binlog(),
     ["Found 1 prepared transaction(s) in InnoDB",
      "Crash recovery finished in InnoDB engine. Successfully prepared 1 XA transaction(s).",
      "Found 1 prepared XA transactions"]),
    ([(internal(1), False), (EXTERNAL, False)], MYSQL, binlog(frozenset({1}), xa={KEY: "rollback"}),
     ["Found 2 prepared transaction(s) in InnoDB",
      "Crash recovery finished in InnoDB engine. Successfully committed 1 internal transaction(s). Successfully"
      " rolled back 1 XA transaction(s).", "Found 1 prepared XA transactions"]),
    ([], MYSQL, binlog(), ["Crash recovery finished in InnoDB engine. No attempts to commit, rollback or prepare any"
                           " transactions."]),
    ([(EXTERNAL, True)], MYSQL_BEFORE_8_0_30, binlog(),
     ["Found 1 prepared transaction(s) in InnoDB", "Found 1 prepared XA transactions"]),
    ([(internal(4), False), (internal(5), False)], MARIADB, None,
     ["Found 2 prepared transaction(s) in InnoDB",
      "Found 2 prepared transactions! It means that server was not shut down properly last time and critical"
      " recovery information (last binlog or tc.log file) was manually deleted after a crash. You have to start"
      " server with --tc-heuristic-recover switch to commit or rollback pending transactions."]),
])
def test_what_the_coordinator_prints(fates: list[tuple[Xid, bool]], rules: str, log: BinlogRecovery | None,
                                     expected: list[str]) -> None:
    decided = [decide(prepared(x, in_tc=tc, trx_id=n), log, rules) for n, (x, tc) in enumerate(fates)]
    assert server_messages(decided, log, rules) == expected


def test_binlog_location_from_the_defaults_file(tmp_path: Path) -> None:
    datadir, logs = tmp_path / "data", tmp_path / "logs"
    datadir.mkdir()
    logs.mkdir()
    (logs / "mysql-bin.000001").write_bytes(b"\xfebin" + F.fde("9.7.4") + F.transaction(10))
    (logs / "mysql-bin.index").write_text(f"{logs}/mysql-bin.000001\n")
    cnf = tmp_path / "my.cnf"
    cnf.write_text("[mysqld]\nlog-bin = ../logs/mysql-bin\n")
    where = read_binlog_location(datadir, str(cnf))
    assert where.indexes == [logs / "mysql-bin.index"] and not where.disabled
    log = read_binlogs(datadir, "mysql", where.indexes)
    assert log is not None and log.recovers and log.xids == {10}
    cnf.write_text(f"[mysqld]\nlog_bin_index={logs}/mysql-bin.index\n")
    assert read_binlog_location(datadir, str(cnf)).indexes == [logs / "mysql-bin.index"]
    cnf.write_text("[mysqld]\nlog-bin=mysql-bin\n[mariadb]\nskip-log-bin\n")
    off = read_binlog_location(datadir, str(cnf))
    assert off.disabled and off.source and "[mariadb]" in off.source
    assert read_binlog_location(datadir, None).indexes is None


# ---- from files laid out as the servers write them -----------------------------------------------------------

XA_DONE = (7, b"xa-done", b"b1")  # XA PREPARE, then XA COMMIT logged before the crash
XA_LEFT = (7, b"xa-left", b"b2")  # XA PREPARE only


def crashed_datadir(root: Path, binlog_version: str, redo_8_0_30: bool) -> Path:
    """An undo tablespace with an active transaction and four prepared ones (two internal XIDs, 41 in the binlog
    and 42 not; two external XA transactions), a binlog that was not closed, and a redo log of that version."""
    root.mkdir()
    prepared_state = U.TRX_UNDO_PREPARED_IN_TC if redo_8_0_30 else U.TRX_UNDO_PREPARED_80028
    F.write_undo_tablespace(root, [
        F.undo_log_page(5, U.TRX_UNDO_ACTIVE, 100, None, 4),
        F.undo_log_page(6, U.TRX_UNDO_PREPARED, 101, F.internal_xid(41), 2),
        F.undo_log_page(7, U.TRX_UNDO_PREPARED, 102, F.internal_xid(42), 3),
        F.undo_log_page(8, prepared_state, 103, XA_DONE, 1),
        F.undo_log_page(9, prepared_state, 104, XA_LEFT, 5),
    ])
    F.write_binlog(root, binlog_version, F.transaction(40) + F.xa_prepare(*XA_DONE) + F.xa_prepare(*XA_LEFT)
                   + F.transaction(41) + F.xa_finish("COMMIT", *XA_DONE))
    start = 8 * 8192
    if redo_8_0_30:
        S.write_mysql_8_0_30_set(root, 0, 2, 64 * KIB, start, start + 4000, start + 4000)
    else:
        S.write_ring_group(root, RL.FORMAT_8_0_28, 2, 64 * KIB, start, start + 4000, start + 9000,
                           creator=f"MySQL {binlog_version or '8.0.28'}")
    return root


@pytest.mark.parametrize(("version", "redo_8_0_30", "rules", "xa_done", "printed"), [
    ("9.7.4", True, MYSQL, COMMIT,
     "Crash recovery finished in InnoDB engine. Successfully committed 1, rolled back 1 internal transaction(s)."
     " Successfully committed 1, prepared 1 XA transaction(s)."),
    ("8.0.28", False, MYSQL_BEFORE_8_0_30, STAYS_PREPARED, None),
    ("", False, MYSQL_BEFORE_8_0_30, STAYS_PREPARED, None),
])
def test_preview_of_a_crashed_mysql_datadir(tmp_path: Path, run_cli: Callable[..., Any], version: str,
                                            redo_8_0_30: bool, rules: str, xa_done: str, printed: str | None) -> None:
    """MySQL 8.0.30+ commits the XA transaction whose XA COMMIT the binlog holds; before 8.0.30 it stays prepared
    (only XA COMMIT from a client ends it). Internal XIDs: committed when in the binlog, else rolled back."""
    datadir = crashed_datadir(tmp_path / "data", version, redo_8_0_30)
    result = run_cli("recovery", str(datadir), "--format", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    preview = result.json()
    assert preview["coordinator"]["rules"] == rules
    assert [(t["trx_id"], t["row_operations"]) for t in preview["roll_back"]] == [(100, 4)]
    fates = {p["trx_id"]: p["fate"] for p in preview["prepared"]}
    assert fates == {101: COMMIT, 102: ROLL_BACK, 103: xa_done, 104: STAYS_PREPARED}
    assert preview["undo"]["server_message"] == ("5 transaction(s) which must be rolled back or cleaned up in total"
                                                 " 4 row operations to undo")
    messages = preview["coordinator"]["server_messages"]
    assert messages[0] == "Found 4 prepared transaction(s) in InnoDB" and "Found 2 prepared XA transactions" in messages
    assert (printed in messages) if printed else not any("Crash recovery finished" in m for m in messages)
    table = run_cli("recovery", str(datadir), "--format", "table")
    assert table.exit_code == 0 and f"{rules} rules" in table.stdout



def test_defaults_file_settings_and_a_disabled_binlog(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    """--defaults-file: the durability story from its settings, and `skip-log-bin` there: the binlog in DATADIR is
    not read, so MySQL rolls back the internal prepared transactions."""
    datadir = crashed_datadir(tmp_path / "data", "9.7.4", True)
    cnf = tmp_path / "my.cnf"
    cnf.write_text("[mysqld]\ninnodb_flush_log_at_trx_commit = 2\nsync_binlog = 0\nskip-log-bin\n")
    result = run_cli("recovery", str(datadir), "--defaults-file", str(cnf), "--format", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    preview = result.json()
    assert preview["binlog"] is None and any("binary log: disabled" in n for n in preview["notes"])
    assert {p["trx_id"]: p["fate"] for p in preview["prepared"]} == {101: ROLL_BACK, 102: ROLL_BACK,
                                                                      103: STAYS_PREPARED, 104: STAYS_PREPARED}
    settings = preview["settings"]
    assert (settings["innodb_flush_log_at_trx_commit"], settings["sync_binlog"]) == ("2", "0")
    assert all(str(cnf) in where for where in settings["sources"].values())
    assert any("up to ~1s of committed transactions" in line for line in settings["story"])
