"""The transaction coordinator's side of crash recovery: which binary logs it reads, the XIDs found there, and
the fate of every prepared transaction (innodb-pages.md §6.6).

MySQL 8.0.30+: the last binary log, if it was not closed cleanly: internal XIDs committed iff an XID event names
them; external XA transactions committed or rolled back when an `XA COMMIT`/`XA ROLLBACK` follows, kept prepared
when prepared in the TC (XA_PREPARE event, or undo state "prepared in TC"), else rolled back. MariaDB: from the
file of the last Binlog_checkpoint event to the last file; internal XIDs as MySQL; external XA stays prepared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mysqlinspect.binlog.source.file_scan import BinlogFileScan, XaKey, binlog_files_in_order, scan_binlog_file
from mysqlinspect.innodb.undo.segments import RecoveredTransaction

COMMIT, ROLL_BACK, STAYS_PREPARED = "commit", "roll back", "stays prepared"


@dataclass
class BinlogRecovery:
    files: list[Path]
    scanned: list[BinlogFileScan]
    crashed: bool  # the last file still has the in-use flag: the server runs binlog crash recovery
    server: str
    xids: set[int] = field(default_factory=set)
    xa_prepared: dict[XaKey, bool] = field(default_factory=dict)  # key -> one phase
    xa_completed: dict[XaKey, str] = field(default_factory=dict)

    @property
    def last(self) -> BinlogFileScan | None:
        return self.scanned[-1] if self.scanned else None

    @property
    def truncate_to(self) -> int | None:
        """MySQL trims a crashed last binlog to the end of its last complete transaction ("Crashed binlog file ...
        Binlog trimmed to N bytes"); MariaDB leaves a partly written transaction in the file and ignores it."""
        last = self.last
        if last is None or not self.crashed or not last.partial_bytes or self.server != "mysql":
            return None
        return last.last_complete_end

    def to_dict(self) -> dict[str, Any]:
        last = self.last
        return {"files": [p.name for p in self.files], "scanned": [s.to_dict() for s in self.scanned],
                "crash_recovery": self.crashed, "xids_found": len(self.xids),
                "last_file": last.path.name if last else None,
                "truncate_to": self.truncate_to,
                "partial_transaction_bytes": last.partial_bytes if last else 0,
                "last_complete_transaction_end": last.last_complete_end if last else None}


def read_binlogs(datadir: Path, server: str) -> BinlogRecovery | None:
    files = binlog_files_in_order(datadir)
    if not files:
        return None
    last = scan_binlog_file(files[-1])
    scanned = [last]
    if server == "mariadb" and last.checkpoint_names:
        start = Path(last.checkpoint_names[-1]).name
        names = [p.name for p in files]
        if start in names and start != files[-1].name:
            scanned = [scan_binlog_file(p) for p in files[names.index(start):-1]] + [last]
    out = BinlogRecovery(files, scanned, last.in_use, server)
    for scan in scanned:
        out.xids.update(scan.xids)
        out.xa_prepared.update(dict(scan.xa_prepared))
        out.xa_completed.update(dict(scan.xa_completed))
    return out


@dataclass
class PreparedFate:
    trx: RecoveredTransaction
    fate: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {**self.trx.to_dict(), "fate": self.fate, "reason": self.reason}


def _key(trx: RecoveredTransaction) -> XaKey | None:
    return XaKey(trx.xid.format_id, trx.xid.gtrid, trx.xid.bqual) if trx.xid else None


def decide(trx: RecoveredTransaction, binlog: BinlogRecovery | None, server: str) -> PreparedFate:
    xid = trx.xid
    if xid is None:
        return PreparedFate(trx, ROLL_BACK, "prepared without an XID in its undo log header")
    if not xid.external:
        if binlog is None or not binlog.crashed:
            return PreparedFate(trx, ROLL_BACK, "internal XID and no binary log to recover from")
        if xid.my_xid in binlog.xids:
            return PreparedFate(trx, COMMIT, f"XID {xid.my_xid} is in the binary log")
        return PreparedFate(trx, ROLL_BACK, f"XID {xid.my_xid} is not in the binary log")
    if server != "mysql":
        return PreparedFate(trx, STAYS_PREPARED, "external XA transaction: waits for XA COMMIT or XA ROLLBACK")
    key = _key(trx)
    if binlog is not None and key in binlog.xa_completed:
        done = binlog.xa_completed[key]
        return PreparedFate(trx, COMMIT if done == "commit" else ROLL_BACK, f"XA {done.upper()} is in the binary log")
    if binlog is not None and key in binlog.xa_prepared:
        if binlog.xa_prepared[key]:
            return PreparedFate(trx, COMMIT, "XA COMMIT ... ONE PHASE is in the binary log")
        return PreparedFate(trx, STAYS_PREPARED, "XA PREPARE is in the binary log: waits for XA COMMIT or XA"
                                                 " ROLLBACK")
    if trx.prepared_in_tc:
        return PreparedFate(trx, STAYS_PREPARED, "prepared in the transaction coordinator (undo state)")
    return PreparedFate(trx, ROLL_BACK, "external XA transaction not prepared in the binary log")
