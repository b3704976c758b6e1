"""Transactions too large to hold in memory: their events (or raw event bytes) kept on an unnamed temporary file.

A SpillList keeps its items in memory until their estimated size passes `hold` bytes; it then writes them, and
every later item, in frames of about `frame` bytes (pickled lists) to an unnamed temporary file (gone when it is
closed or garbage-collected, or when the process dies). Iterating it - forwards or backwards, any number of times,
each iteration reading with its own offsets - reads one frame at a time, so memory holds at most `hold` bytes of
items plus a frame, whatever the size of the transaction.

Frame: u64 length, pickle of a list of items, u64 length (the trailing length lets reversed() walk from the end).
Events are pickled as tuples (`encode_events`): a rows event's table, columns and keys once, each row as its
operation and its two image dicts, which halves the cost of writing and reading them back.

SpilledEvents is the SpillList of a Transaction's events (model.StoredEvents): the assembler switches a
transaction to it once its events pass EVENT_HOLD, and keeps its EventTotals (rows, tables, counts, DDL...) as
they are added, so the transaction's properties never read the events back. `StoredEvents` views (reversed and
inverted for a flashback) read through another SpillList.

Files go to the temporary directory (TMPDIR), or to `set_directory()`'s (`binlog replay --spill-dir`).
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import struct
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO, Generic, TypeVar

from mysqlinspect.binlog.model import EventRecord, Events, EventTotals, RowChange, StoredEvents

T = TypeVar("T")
_LENGTH = struct.Struct("<Q")
EVENT_HOLD = 24 << 20  # estimated bytes of decoded events held in memory before a transaction spills
EVENT_FRAME = 1 << 20
ROW_COST = 1024  # estimated bytes of one decoded row (its dicts and values)
EVENT_COST = 512
RAW_HOLD = 8 << 20  # raw event bytes (the events mode's transactions) held before they spill
RAW_FRAME = 1 << 20

_directory: str | None = None


def set_directory(directory: str | None) -> None:
    """Where spill files are made (None: the system temporary directory)."""
    global _directory
    _directory = directory


def directory() -> str | None:
    return _directory


def weigh_event(event: EventRecord) -> int:
    """The estimated memory of a decoded event."""
    return EVENT_COST + event.size + ROW_COST * len(event.rows)


class SpillList(Generic[T]):
    """An append-only sequence, in memory up to `hold` estimated bytes, then on an unnamed temporary file (see the
    module docstring). `weigh(item)` estimates an item's memory."""

    def __init__(self, items: Iterable[T] = (), *, weigh: Callable[[T], int], hold: int, frame: int,
                 encode: Callable[[list[T]], Any] = list, decode: Callable[[Any], list[T]] = list) -> None:
        self.weigh = weigh
        self.encode = encode
        self.decode = decode
        self.hold = hold
        self.frame = frame
        self.count = 0
        self._tail: list[T] = []  # items not written to the file (all of them until it spills)
        self._tail_weight = 0
        self._file: BinaryIO | None = None
        self._owns_file = True
        self._start = 0  # the frames: [start, end) of the file
        self._end = 0
        self.extend(items)

    # writing -----------------------------------------------------------------------------------------------------
    def append(self, item: T) -> None:
        self._tail.append(item)
        self.count += 1
        self._tail_weight += self.weigh(item)
        limit = self.frame if self._file is not None else self.hold
        if self._tail_weight >= limit:
            self._write_tail()

    def extend(self, items: Iterable[T]) -> None:
        for item in items:
            self.append(item)

    def extend_list(self, other: SpillList[T]) -> None:
        """Append `other`'s items; its frames are copied as they are (not read back and written again)."""
        if other._file is None:
            self.extend(other._tail)
            return
        self._write_tail(force=True)
        assert self._file is not None
        self._end = _copy_range(other._file, other._start, other._end, self._file, self._end)
        self.count += other.count - len(other._tail)
        self.extend(other._tail)

    @property
    def spilled(self) -> bool:
        return self._file is not None

    def _write_tail(self, force: bool = False) -> None:
        if not self._tail and not force:
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="mysqlinspect-spill-", dir=_directory)  # noqa: SIM115
            self._owns_file = True
        for batch in self._frames(self._tail):
            self._end = _write_frame(self._file, self._end, self.encode(batch))
        self._tail, self._tail_weight = [], 0

    def _frames(self, items: list[T]) -> Iterator[list[T]]:
        batch: list[T] = []
        weight = 0
        for item in items:
            batch.append(item)
            weight += self.weigh(item)
            if weight >= self.frame:
                yield batch
                batch, weight = [], 0
        if batch:
            yield batch

    @property
    def held(self) -> int:
        """Estimated bytes of the items held in memory."""
        return self._tail_weight

    # reading -----------------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.count

    def __bool__(self) -> bool:
        return self.count > 0

    def __iter__(self) -> Iterator[T]:
        tail = list(self._tail)
        if self._file is not None:
            fd, pos, end = self._file.fileno(), self._start, self._end
            while pos < end:
                (length,) = _LENGTH.unpack(os.pread(fd, _LENGTH.size, pos))
                yield from self.decode(pickle.loads(os.pread(fd, length, pos + _LENGTH.size)))
                pos += length + 2 * _LENGTH.size
        yield from tail

    def __reversed__(self) -> Iterator[T]:
        yield from reversed(list(self._tail))
        if self._file is not None:
            fd, pos, start = self._file.fileno(), self._end, self._start
            while pos > start:
                (length,) = _LENGTH.unpack(os.pread(fd, _LENGTH.size, pos - _LENGTH.size))
                pos -= length + 2 * _LENGTH.size
                yield from reversed(self.decode(pickle.loads(os.pread(fd, length, pos + _LENGTH.size))))

    # moving into another file (the flashback's stack) ------------------------------------------------------------
    def moved_to(self, file: BinaryIO, offset: int) -> tuple[SpillList[T], int]:
        """A copy of this list whose frames are at `offset` of `file` (written there now; the copy does not own the
        file), and the end of what was written."""
        copy = self._empty_copy()
        copy._file, copy._owns_file, copy._start = file, False, offset
        end = _copy_range(self._file, self._start, self._end, file, offset)
        for batch in self._frames(self._tail):
            end = _write_frame(file, end, self.encode(batch))
        copy._end, copy.count = end, self.count
        return copy, end

    def _empty_copy(self) -> SpillList[T]:
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy._tail, copy._tail_weight = [], 0
        return copy

    def attach(self, file: BinaryIO) -> None:
        """After unpickling a moved list: the file its frames are in."""
        self._file = file

    def __getstate__(self) -> dict[str, Any]:
        if self._owns_file or self._tail:
            raise TypeError("a SpillList is pickled only after moved_to(): its items would be held whole")
        state = dict(self.__dict__)
        state["_file"] = None
        return state

    def close(self) -> None:
        if self._file is not None and self._owns_file:
            self._file.close()
        self._file = None
        self._tail = []


def _write_frame(file: BinaryIO, offset: int, items: Any) -> int:
    data = pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL)
    length = _LENGTH.pack(len(data))
    fd = file.fileno()
    os.pwrite(fd, length, offset)  # three writes: a frame of one huge event is not copied once more
    _pwrite_all(fd, data, offset + _LENGTH.size)
    os.pwrite(fd, length, offset + _LENGTH.size + len(data))
    return offset + len(data) + 2 * _LENGTH.size


def _pwrite_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


def _copy_range(source: BinaryIO | None, start: int, end: int, dest: BinaryIO, offset: int) -> int:
    if source is None:
        return offset
    src, dst = source.fileno(), dest.fileno()
    while start < end:
        block = os.pread(src, min(end - start, 1 << 20), start)
        os.pwrite(dst, block, offset)
        start += len(block)
        offset += len(block)
    return offset


class SpilledEvents(SpillList[EventRecord]):
    """The events of a large transaction (model.StoredEvents): totals kept as events are added; `xid` (known only
    at the transaction's end) is set on events read back that have none, as the assembler sets it on a list."""

    def __init__(self, events: Iterable[EventRecord] = ()) -> None:
        self.totals = EventTotals()
        self.xid: int | None = None
        super().__init__(events, weigh=weigh_event, hold=EVENT_HOLD, frame=EVENT_FRAME, encode=encode_events,
                         decode=decode_events)

    def append(self, item: EventRecord) -> None:
        self.totals.add(item)
        super().append(item)

    def extend_list(self, other: SpillList[EventRecord]) -> None:
        raise NotImplementedError("events are added one at a time (their totals)")

    def __iter__(self) -> Iterator[EventRecord]:
        return self._with_xid(super().__iter__())

    def __reversed__(self) -> Iterator[EventRecord]:
        return self._with_xid(super().__reversed__())

    def _with_xid(self, events: Iterator[EventRecord]) -> Iterator[EventRecord]:
        xid = self.xid
        if xid is None:
            yield from events
            return
        for event in events:
            if event.xid is None:
                event.xid = xid
            yield event


_EVENT_FIELDS = tuple(f.name for f in dataclasses.fields(EventRecord))  # in order: EventRecord(*fields)
_ROW_SHARED = ("schema", "table", "columns", "primary_key", "unique_keys", "names_from_metadata")


def encode_events(events: list[EventRecord]) -> list[tuple[Any, ...]]:
    """Events as tuples for a frame: (fields, None) or, for a rows event, (fields, shared, rows) where `shared` is
    what all its rows have in common (the very same objects) and each row is (op, before, after); (fields,
    RowChanges) when its rows differ in more. Pickle writes the images' dicts in C, their key strings once."""
    out: list[tuple[Any, ...]] = []
    for event in events:
        rows = event.rows
        fields = tuple([None if name == "rows" else getattr(event, name) for name in _EVENT_FIELDS])
        if not rows:
            out.append((fields, None))
            continue
        first = rows[0]
        columns, key, uniques = first.columns, first.primary_key, first.unique_keys
        if all(row.columns is columns and row.primary_key is key and row.unique_keys is uniques
               and row.schema == first.schema and row.table == first.table
               and row.names_from_metadata == first.names_from_metadata for row in rows):
            shared = (first.schema, first.table, columns, key, uniques, first.names_from_metadata)
            out.append((fields, shared, [(row.op, row.before, row.after) for row in rows]))
        else:
            out.append((fields, rows))
    return out


def decode_events(frame: list[tuple[Any, ...]]) -> list[EventRecord]:
    out: list[EventRecord] = []
    for item in frame:
        event = EventRecord(*item[0])
        if len(item) == 2:
            event.rows = item[1] if item[1] is not None else []
        else:
            schema, table, columns, primary_key, unique_keys, named = item[1]
            event.rows = [RowChange(op, schema, table, columns, primary_key, before, after, unique_keys, named)
                          for op, before, after in item[2]]
        out.append(event)
    return out


def collect_events(events: Iterable[EventRecord]) -> Events:
    """A list of the events, or SpilledEvents once they pass EVENT_HOLD."""
    held: list[EventRecord] = []
    weight = 0
    iterator = iter(events)
    for event in iterator:
        held.append(event)
        weight += weigh_event(event)
        if weight >= EVENT_HOLD:
            stored = SpilledEvents(held)
            for rest in iterator:
                stored.append(rest)
            return stored
    return held


class EventsView:
    """StoredEvents computed from other StoredEvents on each iteration: `transform` applied to each event (None:
    left out), in reverse order with `backwards` (the flashback's undo). Totals are given, or counted by one pass."""

    def __init__(self, source: StoredEvents, transform: Callable[[EventRecord], EventRecord | None],
                 backwards: bool = False, totals: EventTotals | None = None) -> None:
        self.source = source
        self.transform = transform
        self.backwards = backwards
        self._totals = totals

    @property
    def totals(self) -> EventTotals:
        if self._totals is None:
            self._totals = EventTotals.of(iter(self))
        return self._totals

    def __iter__(self) -> Iterator[EventRecord]:
        return self._walk(reversed(self.source) if self.backwards else iter(self.source))

    def __reversed__(self) -> Iterator[EventRecord]:
        return self._walk(iter(self.source) if self.backwards else reversed(self.source))

    def _walk(self, events: Iterator[EventRecord]) -> Iterator[EventRecord]:
        transform = self.transform
        for event in events:
            out = transform(event)
            if out is not None:
                yield out

    def __len__(self) -> int:
        return self.totals.events

    def append(self, event: EventRecord) -> None:
        raise TypeError("a view of stored events is read-only")
