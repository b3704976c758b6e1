"""Group EventRecords into Transactions: GTID/BEGIN ... XID/COMMIT, or one standalone statement (DDL).

MySQL: GTID, BEGIN, [Rows_query], Table_map, rows..., XID (DDL: GTID, Query). MariaDB: GTID (implies BEGIN unless
its FL_STANDALONE flag is set), Table_map, rows..., XID (DDL: standalone GTID, Query). Events between
transactions (Rotate, Format_description, Previous_gtids, Gtid_list, Binlog_checkpoint, Stop) are returned as
they are so the reader can track positions.

A transaction whose events pass spill.EVENT_HOLD (estimated memory) goes on with its events on disk
(spill.SpilledEvents): memory stays bounded whatever its size, and it is still yielded only once complete.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mysqlinspect.binlog.model import EventRecord, Transaction
from mysqlinspect.binlog.read import spill

OUTSIDE_TYPES = frozenset({
    "RotateEvent", "FormatDescriptionEvent", "PreviousGtidsEvent", "MariadbGtidListEvent",
    "MariadbBinLogCheckPointEvent", "StopEvent", "MariadbStartEncryptionEvent",
})
ENDING_OPS = frozenset({"commit", "rollback", "xa_prepare"})
STATEMENT_OPS = frozenset({"ddl", "other", "xa"})
NO_FOREIGN_KEY_CHECKS_F = 0x0002  # Rows event flag


@dataclass
class TransactionAssembler:
    """feed() records in order; it returns what completed: Transactions and events outside transactions."""

    next_number: int = 1
    current: Transaction | None = None
    in_begin: bool = False
    _pending: list[Transaction | EventRecord] = field(default_factory=list)
    _held: int = 0  # estimated memory of the open transaction's events while they are in a list

    def feed(self, rec: EventRecord) -> list[Transaction | EventRecord]:
        out: list[Transaction | EventRecord] = []
        if rec.event_type in OUTSIDE_TYPES:
            if self.current is not None and rec.event_type != "RotateEvent":
                out.append(self._close(complete=False))
            out.append(rec)
            return out
        op = rec.op
        if op == "gtid":
            if self.current is not None:
                out.append(self._close(complete=False))
            self._open(rec)
            self.in_begin = rec.event_type == "MariadbGtidEvent" and not (rec.gtid_flags & 0x01)
            return out
        if self.current is None:
            self._open(rec)
        else:
            self._append(rec)
        if op == "begin":
            self.in_begin = True
        elif op in ENDING_OPS or (op in STATEMENT_OPS and rec.event_type == "QueryEvent" and not self.in_begin):
            out.append(self._close(complete=True))
        return out

    def reset(self) -> None:
        """Drop a partial transaction (after a reconnect the reader resumes before it, and it keeps its number)."""
        if self.current is not None:
            self.next_number = self.current.number
            self._drop(self.current)
        self.current = None
        self.in_begin = False

    def flush(self) -> Transaction | None:
        """The open transaction at the end of the input, marked incomplete."""
        return self._close(complete=False) if self.current is not None else None

    def _open(self, rec: EventRecord) -> None:
        self.current = Transaction(number=self.next_number, file=rec.file, start_pos=rec.start_pos,
                                   end_pos=rec.end_pos, end_file=rec.file, timestamp=rec.timestamp,
                                   server_id=rec.server_id, gtid=rec.gtid, xid=None, end_timestamp=rec.timestamp)
        self.next_number += 1
        self.in_begin = False
        self._held = 0
        self._append(rec)

    def _append(self, rec: EventRecord) -> None:
        txn = self.current
        assert txn is not None
        rec.transaction_no = txn.number
        if rec.gtid is None:
            rec.gtid = txn.gtid
        events = txn.events
        events.append(rec)
        if isinstance(events, list):
            self._held += spill.weigh_event(rec)
            if self._held >= spill.EVENT_HOLD:
                txn.events = spill.SpilledEvents(events)
        txn.end_pos = rec.end_pos
        txn.end_file = rec.file
        if rec.timestamp > txn.end_timestamp:
            txn.end_timestamp = rec.timestamp
        if rec.xid is not None:
            txn.xid = rec.xid
        if rec.compressed:
            txn.compressed = True
        if rec.rows_flags & NO_FOREIGN_KEY_CHECKS_F:
            txn.no_foreign_key_checks = True

    def _close(self, complete: bool) -> Transaction:
        txn = self.current
        assert txn is not None
        self.current = None
        self.in_begin = False
        txn.complete = complete
        events = txn.events
        if txn.end_file == txn.file:
            txn.size_bytes = txn.end_pos - txn.start_pos
        else:
            txn.size_bytes = sum(e.size for e in events) if isinstance(events, list) else events.totals.size
        if isinstance(events, spill.SpilledEvents):
            events.xid = txn.xid  # set on the events as they are read back
        else:
            for e in events:
                e.xid = txn.xid if e.xid is None else e.xid
        return txn

    @staticmethod
    def _drop(txn: Transaction) -> None:
        if isinstance(txn.events, spill.SpilledEvents):
            txn.events.close()
