"""Flashback: invert row changes and play transactions backwards, spilling the range to a temporary file.

Transactions are appended to an unnamed temporary file as pickles, each followed by its 8-byte length, so the
file can be read from the end without any index in memory: memory holds one transaction at a time.
"""

from __future__ import annotations

import pickle
import struct
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any, BinaryIO

from mysqlinspect.binlog.model import EventRecord, RowChange, Transaction, is_logged_statement
from mysqlinspect.errors import DataError, UsageError

_LENGTH = struct.Struct("<Q")
INVERSE_OP = {"insert": "delete", "delete": "insert", "update": "update"}


class DdlInRangeError(UsageError):
    """A DDL statement sits inside a flashback range."""


def invert_change(change: RowChange) -> RowChange:
    """INSERT <-> DELETE, UPDATE with before and after swapped."""
    return replace(change, op=INVERSE_OP[change.op], before=change.after, after=change.before)


def invert_event(event: EventRecord) -> EventRecord:
    op = INVERSE_OP.get(event.op or "", event.op)
    return replace(event, op=op, rows=[invert_change(r) for r in reversed(event.rows)])


def invert_transaction(txn: Transaction) -> Transaction:
    """The undo of one transaction: its row events in reverse order, each with its rows reversed and inverted."""
    events = [invert_event(e) for e in reversed(txn.events) if e.rows]
    return replace(txn, events=events)


class SpillStack:
    """A last-in-first-out store of transactions on disk: push forwards, then iterate from the newest."""

    def __init__(self, directory: str | None = None) -> None:
        self._file: BinaryIO = tempfile.TemporaryFile(  # noqa: SIM115 - closed by close()
            prefix="mysqlinspect-flashback-", dir=directory)
        self.count = 0
        self.bytes = 0

    def push(self, txn: Any) -> None:
        """A Transaction (or any picklable item: the events-mode flashback spills raw transactions)."""
        data = pickle.dumps(txn, protocol=pickle.HIGHEST_PROTOCOL)
        self._file.write(data)
        self._file.write(_LENGTH.pack(len(data)))
        self.count += 1
        self.bytes += len(data) + _LENGTH.size

    def pop_all(self) -> Iterator[Any]:
        """Yield every transaction, newest first (the file is consumed)."""
        self._file.flush()
        pos = self._file.seek(0, 2)
        while pos > 0:
            if pos < _LENGTH.size:
                raise DataError("flashback spill file is truncated")
            self._file.seek(pos - _LENGTH.size)
            (length,) = _LENGTH.unpack(self._file.read(_LENGTH.size))
            start = pos - _LENGTH.size - length
            if start < 0:
                raise DataError("flashback spill file is corrupt")
            self._file.seek(start)
            txn = pickle.loads(self._file.read(length))
            yield txn
            pos = start

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> SpillStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def ddl_error(txn: Transaction) -> DdlInRangeError:
    query = next((e.query for e in txn.events if is_logged_statement(e)), "") or ""
    short = " ".join(query.split())[:120]
    return DdlInRangeError(
        f"DDL at {txn.file}:{txn.start_pos} is inside the flashback range ({short}); a flashback cannot undo DDL. "
        "Narrow the range or pass --skip-ddl to leave DDL out"
    )


def spill_range(transactions: Iterable[Transaction], stack: SpillStack, skip_ddl: bool) -> SpillStack:
    """Read the whole range forwards into the stack; DDL stops everything unless skip_ddl."""
    for txn in transactions:
        if txn.is_ddl:
            if skip_ddl:
                continue
            raise ddl_error(txn)
        if txn.row_count:
            stack.push(txn)
    return stack


def flashback_transactions(stack: SpillStack) -> Iterator[Transaction]:
    """Inverted transactions, newest first."""
    for txn in stack.pop_all():
        yield invert_transaction(txn)
