"""Forward `--execute` in events mode (passthrough): raw row-event transactions applied with BINLOG statements
on a worker thread while the reader goes on; the others (DDL...) decoded again and applied as SQL, in order.
Progress, checkpoints and summary counts work as on the SQL path (replay.execute)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from mysqlinspect.binlog.apply import Applier, ApplyThread, SourcePoint
from mysqlinspect.binlog.model import Transaction
from mysqlinspect.binlog.passthrough import (
    RawTransaction,
    RawTransactions,
    RowEventsRefused,
    apply_raw,
    start_events_session,
)
from mysqlinspect.binlog.position import BinlogPosition
from mysqlinspect.binlog.replay import LocalCheckpoint, ReplayMode, ReplaySummary, already_applied, ordered_transactions
from mysqlinspect.binlog.sqlgen import SqlOptions, transaction_statements

# decode(start, stop) -> the decoded transactions of that stretch of the log (the SQL path's reader)
Decoder = Callable[[BinlogPosition, BinlogPosition], Iterable[Transaction]]


class _Progress:
    def __init__(self, summary: ReplaySummary, resume_from: SourcePoint | None, local: LocalCheckpoint | None,
                 save_every: float) -> None:
        self.summary = summary
        self.txns = resume_from.transactions if resume_from else 0
        self.rows = resume_from.row_changes if resume_from else 0
        self.local = local
        self.save_every = save_every
        self.last_save = 0.0

    def next_point(self, txn: Transaction, rows: int) -> SourcePoint:
        self.txns += 1
        self.rows += rows
        return SourcePoint.of(txn, self.txns, self.rows)

    def applied(self, point: SourcePoint) -> None:
        self.summary.checkpoint = point.to_dict()
        if self.local is not None and time.monotonic() - self.last_save >= self.save_every:
            self.local.last = point.to_dict()
            self.local.save()
            self.last_save = time.monotonic()


def execute_events(transactions: RawTransactions, decode: Decoder, options: SqlOptions, mode: ReplayMode,
                   applier: Applier, summary: ReplaySummary, resume_from: SourcePoint | None = None,
                   local: LocalCheckpoint | None = None, save_every: float = 1.0,
                   session_fde: bytes | None = None) -> None:
    """Apply every transaction not yet applied; `session_fde`: the Format_description already sent (the probe)."""
    started = time.monotonic()
    progress = _Progress(summary, resume_from, local, save_every)
    sent_fde: list[bytes | None] = [session_fde]
    worker = ApplyThread()

    def ensure_fde(fde: bytes | None) -> None:
        if fde is not None and fde != sent_fde[0]:
            start_events_session(applier, fde)
            sent_fde[0] = fde

    def apply_events(raw: RawTransaction, fde: bytes | None, point: SourcePoint) -> None:
        ensure_fde(fde)
        try:
            apply_raw(applier, raw, point)
        except RowEventsRefused:  # rolled back: the SQL path applies it, or reports the conflicting row
            for txn in _numbered(raw, decode(BinlogPosition(raw.model.file, raw.model.start_pos),
                                             BinlogPosition(raw.model.end_file, raw.model.end_pos))):
                apply_sql(txn, point)
            return
        summary.add_prepared(False, raw.row_count, raw.counts, [])
        progress.applied(point)

    def apply_sql(txn: Transaction, point: SourcePoint) -> None:
        statements = transaction_statements(txn, options)
        applier.apply(txn, statements, point)
        summary.count(txn, (s.warning for s in statements))
        progress.applied(point)

    try:
        for raw in transactions:
            if already_applied(raw.model, resume_from, False):
                summary.skipped_applied += 1
                continue
            if raw.simple:
                point = progress.next_point(raw.model, raw.row_count)
                worker.submit(_bind(apply_events, raw, transactions.fde, point))
                continue
            start = BinlogPosition(raw.model.file, raw.model.start_pos)
            stop = BinlogPosition(raw.model.end_file, raw.model.end_pos)
            for txn in ordered_transactions(_numbered(raw, decode(start, stop)), mode, summary):
                worker.submit(_bind(apply_sql, txn, progress.next_point(txn, txn.row_count)))
    finally:
        worker.close()
    if local is not None and summary.checkpoint is not None:
        local.last = summary.checkpoint
        local.save()
    summary.elapsed_seconds = time.monotonic() - started


def _numbered(raw: RawTransaction, decoded: Iterable[Transaction]) -> Iterator[Transaction]:
    """The decoded stretch of one raw transaction, numbered from the start of the range (as the SQL path numbers
    it), not from the start of the stretch."""
    for offset, txn in enumerate(decoded):
        txn.number = raw.model.number + offset
        yield txn


def _bind(function: Callable[..., None], *args: Any) -> Callable[[], None]:
    return lambda: function(*args)
