"""Forward `--execute` in events mode (passthrough): raw row-event transactions applied with BINLOG statements
on a worker thread while the reader goes on; the others (DDL...) decoded (by the files' reader already, or again
for their positions) and applied as SQL, in order. The raw transactions come from a server's dump or from local
files alike. Progress, checkpoints and summary counts work as on the SQL path (replay.execute). The raw
transactions waiting for the worker hold at most QUEUED_BYTES of events in memory (a large one's events are on
disk: read.spill)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any

from mysqlinspect.binlog.model import Transaction
from mysqlinspect.binlog.position import BinlogPosition
from mysqlinspect.binlog.replay.apply import Applier, ApplyThread, ReplayConflictError, SourcePoint
from mysqlinspect.binlog.replay.flashback import INVERSE_OP, SpillStack, invert_transaction
from mysqlinspect.binlog.replay.passthrough import RowEventsRefused, apply_raw, start_events_session
from mysqlinspect.binlog.replay.raw_assembly import RawTransaction
from mysqlinspect.binlog.replay.raw_flashback import iter_inverted_chunks
from mysqlinspect.binlog.replay.replay import (
    LocalCheckpoint,
    ReplayMode,
    ReplaySummary,
    already_applied,
    ordered_transactions,
)
from mysqlinspect.binlog.replay.sqlgen import SqlOptions, WarningTap, iter_statements
from mysqlinspect.errors import MysqlInspectError

# decode(start, stop) -> the decoded transactions of that stretch of the log (the SQL path's reader)
Decoder = Callable[[BinlogPosition, BinlogPosition], Iterable[Transaction]]
QUEUED_BYTES = 32 << 20
QUEUED_ROWS = 50_000


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


def execute_events(transactions: Iterable[RawTransaction], decode: Decoder, options: SqlOptions, mode: ReplayMode,
                   applier: Applier, summary: ReplaySummary, resume_from: SourcePoint | None = None,
                   local: LocalCheckpoint | None = None, save_every: float = 1.0,
                   session_fde: bytes | None = None,
                   before_sql: Callable[[set[tuple[str, str]]], None] | None = None) -> None:
    """Apply every transaction not yet applied; `session_fde`: the Format_description already sent (the probe).
    `before_sql` sees the tables of a transaction whose row events the target refused before it is applied as
    SQL instead, and may raise (the trigger check: SQL would fire triggers the row events would not)."""
    started = time.monotonic()
    progress = _Progress(summary, resume_from, local, save_every)
    sent_fde: list[bytes | None] = [session_fde]
    worker = ApplyThread(max_weight=QUEUED_BYTES)

    def ensure_fde(fde: bytes | None) -> None:
        if fde is not None and fde != sent_fde[0]:
            start_events_session(applier, fde)
            sent_fde[0] = fde

    def apply_events(raw: RawTransaction, fde: bytes | None, point: SourcePoint) -> None:
        ensure_fde(fde)
        try:
            apply_raw(applier, raw, point, checksum_len=raw.checksum_len)
        except RowEventsRefused as refused:  # rolled back: the SQL path applies it, or reports the conflicting row
            decoded = list(_numbered(raw, _decoded(raw, decode)))
            if before_sql is not None:
                try:
                    before_sql({(e.schema, e.table) for t in decoded for e in t.events if e.rows and e.schema
                                and e.table})
                except MysqlInspectError as exc:
                    raise ReplayConflictError(f"{refused}; it was not applied as SQL instead: {exc}") from exc
            for txn in decoded:
                apply_sql(txn, point)
            return
        summary.add_prepared(False, raw.row_count, raw.counts, [])
        progress.applied(point)

    def apply_sql(txn: Transaction, point: SourcePoint) -> None:
        statements = WarningTap(iter_statements(txn, options))
        applier.apply(txn, statements, point)
        summary.count(txn, statements.warnings)
        progress.applied(point)

    try:
        for raw in transactions:
            if already_applied(raw.model, resume_from, False):
                summary.skipped_applied += 1
                continue
            if raw.simple:
                point = progress.next_point(raw.model, raw.row_count)
                worker.submit(_bind(apply_events, raw, raw.fde, point), weight=raw.chunks.held)
                continue
            for txn in ordered_transactions(_numbered(raw, _decoded(raw, decode)), mode, summary):
                held = 0 if txn.stored else min(txn.row_count, QUEUED_ROWS) * (QUEUED_BYTES // QUEUED_ROWS)
                worker.submit(_bind(apply_sql, txn, progress.next_point(txn, txn.row_count)), weight=held)
    finally:
        worker.close()
    if local is not None and summary.checkpoint is not None:
        local.last = summary.checkpoint
        local.save()
    summary.elapsed_seconds = time.monotonic() - started


def execute_events_flashback(transactions: Iterable[RawTransaction], decode: Decoder, options: SqlOptions,
                             mode: ReplayMode, applier: Applier, summary: ReplaySummary,
                             resume_from: SourcePoint | None = None, local: LocalCheckpoint | None = None,
                             save_every: float = 1.0,
                             session_fde: bytes | None = None,
                             before_sql: Callable[[set[tuple[str, str]]], None] | None = None) -> None:
    """Flashback through inverted row events (raw_flashback), newest transaction first. The whole range is spilled
    to disk first; a transaction that is not plain row events is decoded, inverted and kept for the SQL path, and
    `before_sql` gets their tables before anything is applied (the trigger check). DDL was refused by the caller's
    decoded pre-pass unless --skip-ddl; here it is left out."""
    started = time.monotonic()
    progress = _Progress(summary, resume_from, local, save_every)
    sent_fde: list[bytes | None] = [session_fde]
    with SpillStack(mode.spill_dir) as stack:
        as_sql: set[tuple[str, str]] = set()  # tables of the transactions applied as SQL
        for raw in transactions:
            if raw.simple:
                stack.push(raw)
                continue
            for txn in _numbered(raw, _decoded(raw, decode)):
                if txn.is_ddl:
                    summary.skipped_ddl += 1
                elif txn.row_count:
                    stack.push(txn)
                    as_sql.update((e.schema, e.table) for e in txn.events if e.rows and e.schema and e.table)
        if before_sql is not None and as_sql:
            before_sql(as_sql)
        for item in stack.pop_all():
            model = item.model if isinstance(item, RawTransaction) else item
            if already_applied(model, resume_from, True):
                summary.skipped_applied += 1
                continue
            if isinstance(item, RawTransaction):
                _apply_inverted(applier, item, progress, summary, sent_fde)
            else:
                undo = invert_transaction(item)
                statements = WarningTap(iter_statements(undo, options))
                point = progress.next_point(undo, undo.row_count)
                applier.apply(undo, statements, point)
                summary.count(undo, statements.warnings)
                progress.applied(point)
    if local is not None and summary.checkpoint is not None:
        local.last = summary.checkpoint
        local.save()
    summary.elapsed_seconds = time.monotonic() - started


def _apply_inverted(applier: Applier, raw: RawTransaction, progress: _Progress, summary: ReplaySummary,
                    sent_fde: list[bytes | None]) -> None:
    if raw.fde is not None and raw.fde != sent_fde[0]:
        start_events_session(applier, raw.fde)
        sent_fde[0] = raw.fde
    undo = replace(raw, counts={(table, INVERSE_OP[op]): n for (table, op), n in raw.counts.items()})
    point = progress.next_point(raw.model, raw.row_count)
    try:
        apply_raw(applier, undo, point, iter_inverted_chunks(raw.chunks, raw.checksum_len), raw.checksum_len)
    except RowEventsRefused as exc:
        raise ReplayConflictError(f"undo of {exc}") from exc
    summary.add_prepared(False, undo.row_count, undo.counts, [])
    progress.applied(point)


def _decoded(raw: RawTransaction, decode: Decoder) -> Iterable[Transaction]:
    """The decoded path's transactions for `raw`: read with it (local files), else decoded again for its
    positions."""
    if raw.decoded is not None:
        return raw.decoded
    return decode(BinlogPosition(raw.model.file, raw.model.start_pos),
                  BinlogPosition(raw.model.end_file, raw.model.end_pos))


def _numbered(raw: RawTransaction, decoded: Iterable[Transaction]) -> Iterator[Transaction]:
    """The decoded stretch of one raw transaction, numbered from the start of the range (as the SQL path numbers
    it), not from the start of the stretch."""
    for offset, txn in enumerate(decoded):
        txn.number = raw.model.number + offset
        yield txn


def _bind(function: Callable[..., None], *args: Any) -> Callable[[], None]:
    return lambda: function(*args)
