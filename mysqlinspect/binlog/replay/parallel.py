"""Forward `--execute` on two processes: a forked child reads, decodes and writes the SQL of the range while the
parent applies it, so decoding (CPU) and applying (the target's work and round trips) run at the same time.

The child sends prepared transactions in order through a bounded queue: the transaction's identity (its rows
stripped), its statements (each keeping one row for conflict reports), its row count and counts per table and
operation. A transaction of more than PART_ROWS row changes (and a large one, its events on disk) is sent in
parts instead - its identity, its statements in parts of about PART_BYTES of SQL, then its counts - and the parent
applies the parts as they come, in one target transaction, so neither process holds it whole and the queue holds
at most QUEUE_DEPTH parts. The parent alone touches the target and the checkpoint, so
exactly-once works as in the one-process path. The child dies with the parent (PR_SET_PDEATHSIG) and is killed
when the parent stops for any reason.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import queue
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from typing import Any

from mysqlinspect.binlog.model import Transaction, is_logged_statement
from mysqlinspect.binlog.replay.apply import Applier, SourcePoint
from mysqlinspect.binlog.replay.replay import (
    LocalCheckpoint,
    ReplayMode,
    ReplaySummary,
    already_applied,
    ordered_transactions,
)
from mysqlinspect.binlog.replay.sqlgen import (
    SqlOptions,
    Statement,
    WarningTap,
    iter_statements,
    transaction_statements,
)
from mysqlinspect.errors import DataError, MysqlInspectError
from mysqlinspect.exit_codes import ExitCode

PR_SET_PDEATHSIG = 1
QUEUE_DEPTH = 64
PART_BYTES = 256 << 10  # SQL text per part of a large transaction
PART_ROWS = 2000  # a transaction of more row changes is sent in parts (the queue then holds at most its depth in
# parts, whatever the transactions' sizes)

TransactionSource = Callable[[], AbstractContextManager[Iterator[Transaction]]]


@dataclass
class Prepared:
    txn: Transaction  # rows stripped; DDL events kept (is_ddl)
    statements: list[Statement]
    row_count: int
    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def prepare(txn: Transaction, options: SqlOptions) -> Prepared:
    statements = transaction_statements(txn, options)
    counts: dict[tuple[str, str], int] = {}
    for event in txn.events:
        for row in event.rows:
            key = (f"{row.schema}.{row.table}", row.op)
            counts[key] = counts.get(key, 0) + 1
    light = replace(txn, events=[e for e in txn.events if is_logged_statement(e)] if txn.is_ddl else [])
    trimmed = [replace(st, rows=st.rows[:1]) for st in statements]
    warnings = list(dict.fromkeys(st.warning for st in statements if st.warning))
    return Prepared(light, trimmed, txn.row_count, counts, warnings)


def send_in_parts(txn: Transaction, options: SqlOptions, out: Any) -> None:
    """A large transaction: ("begin", identity, row count), ("part", statements)..., ("last", counts, warnings)."""
    light = replace(txn, events=[e for e in txn.events if is_logged_statement(e)] if txn.is_ddl else [])
    out.put(("begin", light, txn.row_count))
    statements = WarningTap(iter_statements(txn, options))
    part: list[Statement] = []
    size = 0
    for st in statements:
        part.append(replace(st, rows=st.rows[:1]))
        size += len(st.sql)
        if size >= PART_BYTES:
            out.put(("part", part))
            part, size = [], 0
    if part:
        out.put(("part", part))
    out.put(("last", dict(txn.totals.counts), list(statements.warnings)))


def _die_with_parent() -> None:
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _child(source: TransactionSource, options: SqlOptions, mode: ReplayMode, out: Any, parent: int,
           ddl_applied: Any) -> None:
    _die_with_parent()
    if os.getppid() != parent:
        return
    summary = ReplaySummary(mode=mode.name, executed=True)
    try:
        with source() as transactions:
            for txn in ordered_transactions(transactions, mode, summary):
                if txn.stored or txn.row_count > PART_ROWS:
                    send_in_parts(txn, options, out)
                else:
                    out.put(("txn", prepare(txn, options)))
                if txn.is_ddl and not _wait_for_parent(ddl_applied, parent):
                    return
        out.put(("end", summary.skipped_ddl))
    except BaseException as exc:  # reported to the parent, which owns the exit code
        code = exc.exit_code if isinstance(exc, MysqlInspectError) else ExitCode.SOFTWARE
        text = str(exc) if isinstance(exc, MysqlInspectError) else f"{type(exc).__name__}: {exc}"
        out.put(("error", int(code), text))
    finally:
        out.close()
        out.join_thread()


def _wait_for_parent(ddl_applied: Any, parent: int) -> bool:
    """After DDL: the statements that follow are written from table definitions the DDL may change, so wait
    until the parent has applied it. False when the parent is gone."""
    while not ddl_applied.acquire(timeout=1.0):
        if os.getppid() != parent:
            return False
    return True


def _child_error(code: int, text: str) -> MysqlInspectError:
    error = MysqlInspectError(text)
    error.exit_code = ExitCode(code)
    return error


def _items(proc: Any, inbox: Any) -> Iterator[tuple[Any, ...]]:
    while True:
        try:
            yield inbox.get(timeout=1.0)
        except queue.Empty:
            if not proc.is_alive():
                raise DataError(f"the decoding process exited unexpectedly (exit code {proc.exitcode})") from None


class _Parts:
    """The statements of a large transaction as its parts arrive (the parent's side of send_in_parts)."""

    def __init__(self, items: Iterator[tuple[Any, ...]]) -> None:
        self.items = items
        self.end: tuple[Any, ...] | None = None

    def __iter__(self) -> Iterator[Statement]:
        for item in self.items:
            if item[0] == "part":
                yield from item[1]
            elif item[0] == "last":
                self.end = item
                return
            elif item[0] == "error":
                raise _child_error(int(item[1]), str(item[2]))
            else:
                raise DataError(f"the decoding process sent {item[0]!r} inside a transaction")
        raise DataError("the decoding process stopped inside a transaction")

    def finish(self) -> tuple[dict[tuple[str, str], int], list[str]]:
        if self.end is None:  # the applier stopped reading early (no statements): read up to the end
            for _ in self:
                pass
        assert self.end is not None
        return dict(self.end[1]), list(self.end[2])


def execute_parallel(source: TransactionSource, options: SqlOptions, mode: ReplayMode, applier: Applier,
                     summary: ReplaySummary, resume_from: SourcePoint | None = None,
                     local: LocalCheckpoint | None = None, save_every: float = 1.0) -> None:
    """Forward replay: the child decodes, this process applies (see the module docstring)."""
    if mode.flashback:
        raise ValueError("execute_parallel is for forward replay")
    started = time.monotonic()
    done_txns = resume_from.transactions if resume_from else 0
    done_rows = resume_from.row_changes if resume_from else 0
    last_save = 0.0
    ctx = multiprocessing.get_context("fork")
    inbox = ctx.Queue(QUEUE_DEPTH)
    ddl_applied = ctx.Semaphore(0)
    proc = ctx.Process(target=_child, args=(source, options, mode, inbox, os.getpid(), ddl_applied), daemon=True,
                       name="mysqlinspect-decode")
    proc.start()
    items_of = _items(proc, inbox)
    try:
        for item in items_of:
            if item[0] == "end":
                summary.skipped_ddl += int(item[1])
                break
            if item[0] == "error":
                raise _child_error(int(item[1]), str(item[2]))
            if item[0] == "begin":
                parts = _Parts(items_of)
                prepared = Prepared(item[1], [], int(item[2]))
                statements: Iterable[Statement] = parts
            else:
                prepared = item[1]
                parts, statements = None, prepared.statements
            if already_applied(prepared.txn, resume_from, False):
                summary.skipped_applied += 1
                for _ in statements:  # a large transaction's parts are read and dropped
                    pass
                if prepared.txn.is_ddl:
                    ddl_applied.release()
                continue
            done_txns += 1
            done_rows += prepared.row_count
            point = SourcePoint.of(prepared.txn, done_txns, done_rows)
            applier.apply(prepared.txn, statements, point, prepared.row_count)
            if parts is not None:
                prepared.counts, prepared.warnings = parts.finish()
            if prepared.txn.is_ddl:
                ddl_applied.release()
            summary.add_prepared(prepared.txn.is_ddl, prepared.row_count, prepared.counts, prepared.warnings)
            summary.checkpoint = point.to_dict()
            if local is not None and time.monotonic() - last_save >= save_every:
                local.last = summary.checkpoint
                local.save()
                last_save = time.monotonic()
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(timeout=10)
        inbox.close()
        inbox.cancel_join_thread()
    if local is not None and summary.checkpoint is not None:
        local.last = summary.checkpoint
        local.save()
    summary.elapsed_seconds = time.monotonic() - started
