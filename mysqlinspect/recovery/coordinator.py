"""The transaction coordinator's side of crash recovery: which binary logs it reads, the XIDs found there, and
the fate of every prepared transaction (innodb-pages.md §6.6), by the rules of the server version that crashed.

MySQL reads only the last binary log, and only if it was not closed cleanly (rotation waits until every prepared
XID is committed, so no earlier file can hold a pending one). Internal XIDs are committed iff an XID event (or a
DDL's Query event) names them, else rolled back (one two-phase-commit engine: rollback is forced, even without a
binlog to read). External XA transactions:
  * MySQL 8.0.30+ (`sql/xa/recovery.cc`): the last XA step the binlog records decides (`XA COMMIT`, `XA COMMIT ...
    ONE PHASE` -> commit; `XA ROLLBACK` -> roll back; `XA PREPARE` -> stays prepared); with none, or a binlog
    closed cleanly, one prepared in the coordinator (undo state 7, or 5 from before 8.0.29) stays prepared and the
    others are rolled back;
  * MySQL before 8.0.30 (`xarecover_handlerton()`, `sql/xa.cc`): every external XA transaction stays prepared.
MariaDB (`sql/handler.cc`, `sql/log.cc`): the binlogs from the file named by the last Binlog_checkpoint event to
the last file; internal XIDs as MySQL, but without a crashed binlog to read it does not roll them back: it stops
("Found N prepared transactions! ... --tc-heuristic-recover"); external XA transactions stay prepared.
The server reads its binlogs through the index file: binlog files without one are not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mysqlinspect.binlog.source.file_scan import (
    BinlogFileScan,
    XaKey,
    binlog_files_in_order,
    binlog_index_files,
    scan_binlog_file,
)
from mysqlinspect.innodb.undo.segments import RecoveredTransaction

COMMIT, ROLL_BACK, STAYS_PREPARED, UNDECIDED = "commit", "roll back", "stays prepared", "undecided"
MYSQL, MYSQL_BEFORE_8_0_30, MARIADB = "MySQL 8.0.30+", "MySQL before 8.0.30", "MariaDB"
TC_LOG_FILE = "tc.log"  # opt_tc_log_file's default, named in MariaDB's refusal
_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")


@dataclass
class BinlogRecovery:
    files: list[Path]
    scanned: list[BinlogFileScan]
    crashed: bool  # the last file still has the in-use flag: the server runs binlog crash recovery
    server: str
    xids: set[int] = field(default_factory=set)
    xa_state: dict[XaKey, str] = field(default_factory=dict)  # last XA step per XID: prepared/one_phase/commit/...
    indexed: bool = True  # listed by an index file: what the server reads (else it starts a new binlog)

    @property
    def last(self) -> BinlogFileScan | None:
        return self.scanned[-1] if self.scanned else None

    @property
    def recovers(self) -> bool:
        """The server runs binlog crash recovery: the last file it knows (through the index) is still in use."""
        return self.crashed and self.indexed

    @property
    def truncate_to(self) -> int | None:
        """MySQL trims a crashed last binlog to the end of its last complete transaction ("Crashed binlog file ...
        Binlog trimmed to N bytes"); MariaDB leaves a partly written transaction in the file and ignores it."""
        last = self.last
        if last is None or not self.recovers or not last.partial_bytes or self.server != "mysql":
            return None
        return last.last_complete_end

    def to_dict(self) -> dict[str, Any]:
        last = self.last
        return {"files": [p.name for p in self.files], "scanned": [s.to_dict() for s in self.scanned],
                "crash_recovery": self.recovers, "indexed": self.indexed, "xids_found": len(self.xids),
                "last_file": last.path.name if last else None,
                "truncate_to": self.truncate_to,
                "partial_transaction_bytes": last.partial_bytes if last else 0,
                "last_complete_transaction_end": last.last_complete_end if last else None}


def read_binlogs(datadir: Path, server: str, indexes: list[Path] | None = None) -> BinlogRecovery | None:
    """The binlogs the coordinator reads: the last one (MySQL), or from the last checkpoint's file (MariaDB)."""
    indexes = binlog_index_files(datadir) if indexes is None else indexes
    files = binlog_files_in_order(datadir, indexes or None)
    if not files:
        return None
    last = scan_binlog_file(files[-1])
    scanned = [last]
    if server == "mariadb" and last.checkpoint_names:
        start = Path(last.checkpoint_names[-1]).name
        names = [p.name for p in files]
        if start in names and start != files[-1].name:
            scanned = [scan_binlog_file(p) for p in files[names.index(start):-1]] + [last]
    out = BinlogRecovery(files, scanned, last.in_use, server, indexed=bool(indexes))
    for scan in scanned:
        out.xids.update(scan.xids)
        for key, step in scan.xa_events:
            out.xa_state[key] = step
    return out


def parse_version(text: str) -> tuple[int, int, int] | None:
    match = _VERSION.search(text or "")
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def coordinator_rules(server: str, binlog: BinlogRecovery | None, mysql_redo_8_0_30: bool | None) -> str:
    """Whose rules decide: MariaDB's, or MySQL's of the version that wrote the last binlog (else the one the redo
    log format tells: #innodb_redo is 8.0.30+, ib_logfile* older)."""
    written_by = binlog.last.server_version if binlog is not None and binlog.last is not None else ""
    if server == "mariadb" or (server == "unknown" and "MariaDB" in written_by):
        return MARIADB
    version = parse_version(written_by)
    if version is not None:
        return MYSQL if version >= (8, 0, 30) else MYSQL_BEFORE_8_0_30
    return MYSQL_BEFORE_8_0_30 if mysql_redo_8_0_30 is False else MYSQL


@dataclass
class PreparedFate:
    trx: RecoveredTransaction
    fate: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {**self.trx.to_dict(), "fate": self.fate, "reason": self.reason}


def _key(trx: RecoveredTransaction) -> XaKey | None:
    return XaKey(trx.xid.format_id, trx.xid.gtrid, trx.xid.bqual) if trx.xid else None


def decide(trx: RecoveredTransaction, binlog: BinlogRecovery | None, rules: str) -> PreparedFate:
    xid = trx.xid
    if xid is None:
        return PreparedFate(trx, ROLL_BACK, "prepared without an XID in its undo log header")
    if not xid.external:
        return _internal(trx, xid.my_xid, binlog, rules)
    if rules == MARIADB:
        return PreparedFate(trx, STAYS_PREPARED, "external XA transaction: waits for XA COMMIT or XA ROLLBACK")
    if rules == MYSQL_BEFORE_8_0_30:
        return PreparedFate(trx, STAYS_PREPARED, "external XA transaction: MySQL before 8.0.30 keeps every one"
                                                 " prepared (waits for XA COMMIT or XA ROLLBACK)")
    return _external_mysql(trx, binlog)


def _internal(trx: RecoveredTransaction, number: int, binlog: BinlogRecovery | None, rules: str) -> PreparedFate:
    if binlog is not None and binlog.recovers:
        if number in binlog.xids:
            return PreparedFate(trx, COMMIT, f"XID {number} is in the binary log")
        return PreparedFate(trx, ROLL_BACK, f"XID {number} is not in the binary log")
    why = _no_binlog_recovery(binlog)
    if rules == MARIADB:
        return PreparedFate(trx, UNDECIDED, f"internal XID {number} and {why}: the server stops (start it with"
                                            f" --tc-heuristic-recover)")
    return PreparedFate(trx, ROLL_BACK, f"internal XID {number} and {why}: rolled back")


def _no_binlog_recovery(binlog: BinlogRecovery | None) -> str:
    if binlog is None:
        return "no binary log"
    if not binlog.indexed:
        return "no binlog index file (the server starts a new binary log)"
    return "the binary log was closed cleanly (no binlog crash recovery)"


def _external_mysql(trx: RecoveredTransaction, binlog: BinlogRecovery | None) -> PreparedFate:
    key = _key(trx)
    step = binlog.xa_state.get(key) if binlog is not None and binlog.recovers and key is not None else None
    if step in ("commit", "one_phase"):
        done = "XA COMMIT" if step == "commit" else "XA COMMIT ... ONE PHASE"
        return PreparedFate(trx, COMMIT, f"{done} is in the binary log")
    if step == "rollback":
        return PreparedFate(trx, ROLL_BACK, "XA ROLLBACK is in the binary log")
    if step == "prepared":
        return PreparedFate(trx, STAYS_PREPARED, "XA PREPARE is in the binary log: waits for XA COMMIT or XA"
                                                 " ROLLBACK")
    if trx.prepared_in_tc:
        return PreparedFate(trx, STAYS_PREPARED, "prepared in the transaction coordinator (undo state)")
    return PreparedFate(trx, ROLL_BACK, "external XA transaction not prepared in the transaction coordinator")


def refusal(fates: list[PreparedFate]) -> str | None:
    """MariaDB's reason to stop when internal prepared transactions have no binlog to decide them."""
    undecided = sum(1 for f in fates if f.fate == UNDECIDED)
    if not undecided:
        return None
    return (f"Found {undecided} prepared transactions! It means that server was not shut down properly last time and"
            f" critical recovery information (last binlog or {TC_LOG_FILE} file) was manually deleted after a crash."
            f" You have to start server with --tc-heuristic-recover switch to commit or rollback pending"
            f" transactions.")


def server_messages(fates: list[PreparedFate], binlog: BinlogRecovery | None, rules: str) -> list[str]:
    """The lines the server's transaction coordinator prints for these prepared transactions (error log)."""
    lines = [f"Found {len(fates)} prepared transaction(s) in InnoDB"] if fates else []
    if rules == MYSQL and binlog is not None:
        lines.append(f"Crash recovery finished in InnoDB engine. {_mysql_stats(fates)}")
    external = sum(1 for f in fates if f.trx.xid is not None and f.trx.xid.external)
    if external:
        lines.append(f"Found {external} prepared XA transactions")
    stop = refusal(fates)
    if stop:
        lines.append(stop)
    return lines


def _mysql_stats(fates: list[PreparedFate]) -> str:
    """`print_stats()` of sql/xa/recovery.cc: what was committed, rolled back and kept prepared, per kind."""
    internal = [f.fate for f in fates if f.trx.xid is not None and not f.trx.xid.external]
    external = [f.fate for f in fates if f.trx.xid is not None and f.trx.xid.external]
    parts = [_stat(internal, "internal transaction(s)"), _stat(external, "XA transaction(s)")]
    text = " ".join(p for p in parts if p)
    return text or "No attempts to commit, rollback or prepare any transactions."


def _stat(fates: list[str], kind: str) -> str:
    counts = [(fates.count(COMMIT), "committed"), (fates.count(ROLL_BACK), "rolled back"),
              (fates.count(STAYS_PREPARED), "prepared")]
    done = [f"{word} {n}" for n, word in counts if n]
    return f"Successfully {', '.join(done)} {kind}." if done else ""
