"""Flashback: invert row changes and play transactions backwards, spilling the range to a temporary file.

Transactions are appended to an unnamed temporary file as pickles, each followed by its length and where it
starts, so the file can be read from the end without any index in memory: memory holds one transaction at a time.
A large transaction's events (a read.spill list) are copied into the file as frames before it, and read back
from there as they are used (its undo is a view: events backwards, each inverted), so even one transaction of
millions of rows is never held whole.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import struct
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any, BinaryIO

from mysqlinspect.binlog.model import EventRecord, EventTotals, RowChange, Transaction, is_logged_statement
from mysqlinspect.binlog.read.spill import EventsView, SpillList, collect_events
from mysqlinspect.errors import DataError, UsageError

_TRAILER = struct.Struct("<QQ")  # length of the pickle, where the item's bytes start
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
    """The undo of one transaction: its row events in reverse order, each with its rows reversed and inverted
    (for events kept on disk, a view that inverts them as they are read back)."""
    if isinstance(txn.events, list):
        return replace(txn, events=[invert_event(e) for e in reversed(txn.events) if e.rows])
    return replace(txn, events=EventsView(txn.events, _invert_row_event, backwards=True,
                                          totals=inverted_totals(txn.totals)))


def _invert_row_event(event: EventRecord) -> EventRecord | None:
    return invert_event(event) if event.rows else None


def inverted_totals(totals: EventTotals) -> EventTotals:
    """The totals of invert_transaction's events, from the forward ones (tables in reverse order)."""
    counts = {(table, INVERSE_OP[op]): n for (table, op), n in totals.counts.items()}
    row_tables = {table for table, _ in counts}
    return EventTotals(events=totals.row_events, rows=sum(counts.values()), row_events=totals.row_events,
                       size=totals.size, tables=dict.fromkeys(t for t in reversed(totals.tables) if t in row_tables),
                       counts=counts)


class SpillStack:
    """A last-in-first-out store of transactions on disk: push forwards, then iterate from the newest."""

    def __init__(self, directory: str | None = None) -> None:
        self._file: BinaryIO = tempfile.TemporaryFile(  # noqa: SIM115 - closed by close()
            prefix="mysqlinspect-flashback-", dir=directory)
        self._end = 0
        self.count = 0
        self.bytes = 0

    def push(self, txn: Any) -> None:
        """A Transaction (or any picklable dataclass: the events-mode flashback spills raw transactions); its
        SpillList fields are copied into this file first (views of events written out)."""
        start = self._end
        moved: dict[str, Any] = {}
        for item in dataclasses.fields(txn):
            value = getattr(txn, item.name)
            if isinstance(value, EventsView):  # computed events (a filtered transaction's): written out as events
                value = moved[item.name] = collect_events(value)
            if isinstance(value, SpillList):
                moved[item.name], self._end = value.moved_to(self._file, self._end)
        data = pickle.dumps(replace(txn, **moved) if moved else txn, protocol=pickle.HIGHEST_PROTOCOL)
        os.pwrite(self._file.fileno(), data + _TRAILER.pack(len(data), start), self._end)
        self._end += len(data) + _TRAILER.size
        self.count += 1
        self.bytes += self._end - start

    def pop_all(self) -> Iterator[Any]:
        """Yield every transaction, newest first (its SpillList fields read from this file while it is open)."""
        fd = self._file.fileno()
        pos = self._end
        while pos > 0:
            if pos < _TRAILER.size:
                raise DataError("flashback spill file is truncated")
            length, start = _TRAILER.unpack(os.pread(fd, _TRAILER.size, pos - _TRAILER.size))
            at = pos - _TRAILER.size - length
            if at < 0 or start > at:
                raise DataError("flashback spill file is corrupt")
            txn = pickle.loads(os.pread(fd, length, at))
            for item in dataclasses.fields(txn):
                value = getattr(txn, item.name)
                if isinstance(value, SpillList):
                    value.attach(self._file)
            yield txn
            pos = start

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> SpillStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def ddl_error(txn: Transaction) -> DdlInRangeError:
    query = next((e.query for e in txn.events if is_logged_statement(e)), "") or ""  # a first event: no full pass
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
