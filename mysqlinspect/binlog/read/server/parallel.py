"""Parallel decoding of a server's binlog range (`binlog tail --format jsonl` from a server, `--jobs N`): the dump
is received here and cut into chunks of whole transactions, which forked children decode, select and render as they
do a local file's chunks (read.local.chunks); their outputs are put back in order.

Each chunk is written as it arrives into its own in-memory file (memfd; a file on disk once it is larger than
DIRECT_CHUNK) at the positions its events have in the server's file, with the file's Format_description at
position 4 and the Table_maps it uses from earlier chunks at theirs: a sparse copy of what the chunk decoder reads
of a local file. Here the events' CRC32s are verified as they arrive, and a Table_map whose table needs the
current definition (no column names or no primary key logged) is completed through the range's schema lookup, in
order: the children find the names in the lookup's cache (they never ask the server: its connection is this
process's), and the warnings are given once, here. A chunk larger than DIRECT_CHUNK (a transaction that large) is
decoded here from its file on disk, once the chunks before it are out, as is a range of one chunk (no fork).

A dropped connection is reopened at the start of the chunk being received, with the stream's retry policy: the
chunks before it are complete, so nothing is lost or output twice. The dump ends at the range's stop position (a
chunk reaching the range's stop ends the read) or at the end of the log. RangeReader.rendered uses this for a
bounded range without --checkpoint, a --gtid start still to pass or an --include-gtids set (whose state is kept in
order); those are read in one process.
"""

from __future__ import annotations

import mmap
import os
import struct
import time
import zlib
from collections import deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field

from mysqlinspect.binlog.decode.events import complete_table_map
from mysqlinspect.binlog.decode.payload import payload_events
from mysqlinspect.binlog.decode.schema_fallback import SchemaFallback
from mysqlinspect.binlog.decode.tablemap import parse_table_map
from mysqlinspect.binlog.model import EventRecord, Transaction
from mysqlinspect.binlog.position import FIRST_EVENT_POS, BinlogPosition
from mysqlinspect.binlog.read.filters import EventFilter
from mysqlinspect.binlog.read.local import chunks
from mysqlinspect.binlog.read.local.chunks import (
    TRANSACTION_STARTS,
    Chunk,
    Ordered,
    Render,
    Spool,
    SpoolError,
    fill_in_child,
    memory_file,
    spooling,
    unnamed_file,
)
from mysqlinspect.binlog.read.range import RangeGate
from mysqlinspect.binlog.read.server.stream import RetryPolicy, StopBound
from mysqlinspect.binlog.source.fde import CHECKSUM_LEN, FormatDescription, crc_ok
from mysqlinspect.binlog.source.rawdump import (
    FORMAT_DESCRIPTION_EVENT,
    HEADER,
    HEADER_LEN,
    ROTATE_EVENT,
    TABLE_MAP_EVENT,
    TRANSACTION_PAYLOAD_EVENT,
    RawDump,
    packets,
)
from mysqlinspect.binlog.source.server import ARTIFICIAL_FLAG, HEARTBEATS, read_fde, rotate_target
from mysqlinspect.connection.settings import ConnectionSettings
from mysqlinspect.errors import DataError
from mysqlinspect.innodb.pages import workers

WRITE_BLOCK = 1 << 20  # events are written to a chunk's file in blocks of this size
SIZE_AT = 10  # event size and log_pos in a dump packet (after the OK byte, timestamp, type and server id)
SIZE_AND_POSITION = struct.Struct("<II")
# events that start a transaction or change what follows (the file, its format, Table_maps) or are no event
SPECIAL = TRANSACTION_STARTS | HEARTBEATS | {ROTATE_EVENT, FORMAT_DESCRIPTION_EVENT, TABLE_MAP_EVENT,
                                              TRANSACTION_PAYLOAD_EVENT}


class ServerSelection:
    """A server range's transactions as RangeReader.transactions selects them (without a checkpoint): complete ones
    before the stop, through the range's gate and the filters."""

    def __init__(self, stop: StopBound, gate: RangeGate, event_filter: EventFilter, warn: Callable[[str], None],
                 chunk_schema: SchemaFallback | None = None) -> None:
        self.stop, self.gate, self.filter, self.warn = stop, gate, event_filter, warn
        self.chunk_schema = chunk_schema
        self.skipped: Callable[[Transaction], None] = lambda txn: None

    def select(self, item: Transaction | EventRecord) -> tuple[bool, Transaction | None]:
        if not isinstance(item, Transaction) or not item.complete:
            return False, None
        if self.stop.reached(item):
            return True, None
        kept = self.filter.filter_transaction(item) if self.gate.admit(item) else None
        if kept is None:
            self.skipped(item)
        return False, kept

    def past_stop(self, txn: Transaction) -> bool:
        return self.stop.reached(txn)


@dataclass
class ReceivedChunk:
    """A chunk of one server file, in its own file descriptor (mapped: `data`); `last`: the dump ended with it."""

    name: str
    chunk: Chunk
    fd: int
    data: mmap.mmap
    last: bool = False
    closed: bool = False

    @property
    def large(self) -> bool:
        """A transaction that large: decoded by the parent, from disk (on disk past a block more)."""
        return self.chunk.end - self.chunk.start > chunks.DIRECT_CHUNK

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.data.close()
            os.close(self.fd)


@dataclass
class _Receiving:
    """The chunk being received: its events, written to `fd` at their positions in blocks."""

    name: str
    start: int
    fd: int
    first_number: int
    end: int = 0
    written: int = 0  # bytes from `start` in the file
    starts: int = 0
    on_disk: bool = False
    pending: list[memoryview] = field(default_factory=list)  # events after `written`, in order
    maps: dict[int, tuple[int, bytes]] = field(default_factory=dict)  # the file's Table_maps when it opened

    def flush(self) -> None:
        if self.pending:
            block = b"".join(self.pending)
            with spooling():
                os.pwrite(self.fd, block, self.start + self.written)
            self.written += len(block)
            self.pending = []

    def move_to_disk(self) -> None:
        """A large transaction: its events go on disk, not in memory."""
        self.flush()
        with spooling():
            fd = unnamed_file("mysqlinspect-dump-")
            try:
                done = 0
                while done < self.written:
                    block = os.pread(self.fd, min(WRITE_BLOCK, self.written - done), self.start + done)
                    os.pwrite(fd, block, self.start + done)
                    done += len(block)
            except BaseException:
                os.close(fd)
                raise
        os.close(self.fd)
        self.fd, self.on_disk = fd, True


def _memory_file() -> int:
    with spooling():
        return memory_file("mysqlinspect-dump")


class DumpChunks:
    """Receive a server's binlog from `start` and cut it into chunks of about `target` bytes before a transaction's
    first event (see the module doc); `chunks()` yields them, reconnecting after a dropped connection."""

    def __init__(self, settings: ConnectionSettings, start: BinlogPosition, *, server_id: int, target: int,
                 stop: BinlogPosition | None, verify_checksum: bool, retry: RetryPolicy,
                 schema: SchemaFallback | None, warn: Callable[[str], None]) -> None:
        self.settings, self.server_id, self.target, self.stop = settings, server_id, target, stop
        self.verify, self.retry, self.schema, self.warn = verify_checksum, retry, schema, warn
        self.resume_at = start  # the start of the chunk being received (or of the file it will start)
        self.name = start.file
        self.next_number = 1
        self.fde: FormatDescription | None = None
        self.fde_event = b""
        self.maps: dict[int, tuple[int, bytes]] = {}  # this file's latest Table_map per table id
        self.completed: set[bytes] = set()  # Table_map bodies completed from the current definition
        self.current: _Receiving | None = None
        self.unsent: ReceivedChunk | None = None  # finished by an event whose own handling has not ended yet
        self.ended = False  # the range's stop was reached: nothing more is read

    def close(self) -> None:
        current, self.current = self.current, None
        if current is not None:
            os.close(current.fd)
        unsent, self.unsent = self.unsent, None
        if unsent is not None:
            unsent.close()

    def chunks(self) -> Generator[ReceivedChunk, None, None]:
        """The chunks in order. A dropped connection is reopened at the chunk being received; a failure that is
        not retried yields what was received before it first (a last chunk: its complete transactions are output,
        as one process outputs them before the error), then is raised."""
        policy = self.retry
        delay, last_progress = policy.first_delay, time.monotonic()
        while True:
            try:
                for got in self._receive():
                    yield got
                    delay, last_progress = policy.first_delay, time.monotonic()  # the consumer's time is no stall
                return
            except Exception as exc:
                failure = policy.failure(exc, self.resume_at, last_progress)
                if failure is not None:
                    yield from self._received_before_failure()
                    if failure is exc:
                        raise
                    raise failure from exc
                self.close()  # the chunk being received: received again after the reconnect
                delay = policy.wait(exc, self.resume_at, delay, self.warn)

    def _received_before_failure(self) -> list[ReceivedChunk]:
        """What was received before a failure: a chunk finished but not yet handed on (the failure came with the
        event after it), and the chunk being received up to the event that failed; the last one says so."""
        kept = [self.unsent] if self.unsent is not None else []
        self.unsent = None
        if self.current is not None:
            try:
                kept.append(self._finish())
            except SpoolError:
                pass
        if kept:
            kept[-1].last = True
        return kept

    def _receive(self) -> Iterator[ReceivedChunk]:
        """One dump from `resume_at`. An event that neither starts a transaction nor changes what follows (the
        file, its format, the Table_maps) and follows the one before it is only checked and queued, here."""
        dump = RawDump(self.settings, self.resume_at, server_id=self.server_id, blocking=False, read_timeout=None,
                       annotate=True)
        self.name = self.resume_at.file
        crc32, from_bytes, unpack = zlib.crc32, int.from_bytes, SIZE_AND_POSITION.unpack_from
        try:
            verify = self._verifies()
            for data in packets(dump.open(), None):
                current = self.current
                if data[5] not in SPECIAL and current is not None:
                    size, log_pos = unpack(data, SIZE_AT)
                    if log_pos - size == current.end:
                        event = memoryview(data)[1:]
                        if verify and crc32(event[:-CHECKSUM_LEN]) != from_bytes(event[-CHECKSUM_LEN:], "little"):
                            raise self._checksum_error(data)
                        current.pending.append(event)
                        current.end = log_pos
                        if log_pos - current.start - current.written >= WRITE_BLOCK:
                            self._flush(current)
                        continue
                got = self._event(data)
                verify = self._verifies()
                if got is not None:
                    yield got
                if self.ended:
                    return
            if self.current is not None:
                yield self._finish(last=True)
        finally:
            dump.close()

    def _verifies(self) -> bool:
        """Whether the events from here on carry a CRC32 to verify."""
        return self.verify and self.fde is not None and self.fde.checksum_len > 0

    def _checksum_error(self, data: bytes) -> DataError:
        _, code, _, size, log_pos, _ = HEADER.unpack_from(data, 1)
        return DataError(f"{self.name}: event at position {log_pos - size} (type {code}, {size} bytes) fails its "
                         "CRC32 checksum as the server sent it (--no-verify-checksum reads on)")

    def _event(self, data: bytes) -> ReceivedChunk | None:
        """One dump packet (OK byte, event): a chunk when it ends one (before this event, or with it)."""
        _, code, _, size, log_pos, flags = HEADER.unpack_from(data, 1)
        if code in HEARTBEATS:
            return None
        event = memoryview(data)[1:]
        if code == ROTATE_EVENT and (log_pos == 0 or flags & ARTIFICIAL_FLAG):
            return self._next_file(rotate_target(event, CHECKSUM_LEN if crc_ok(event) else 0))
        if code == FORMAT_DESCRIPTION_EVENT:
            _, self.fde = read_fde(event, self.verify and log_pos != 0, self.name, log_pos - size)
            self.fde_event = bytes(event)
            if log_pos == 0:  # re-sent at a dump's start past position 4: the file's own is at 4
                return None
        elif log_pos == 0:
            return None  # other artificial events (MariaDB's Gtid_list at a dump's start)
        elif self._verifies() and not crc_ok(event):
            raise self._checksum_error(data)
        start = log_pos - size
        finished = None
        if code in TRANSACTION_STARTS:
            finished = self._transaction_start(start)
            if self.ended:
                return finished
        self.unsent = finished  # kept for the output should this event fail
        self._add(code, event, start)
        self.unsent = None
        if code == ROTATE_EVENT:  # the file's last event: the next one starts the next file
            return self._next_file(rotate_target(event, self.fde.checksum_len if self.fde is not None else 0),
                                   finished)
        return finished

    def _transaction_start(self, start: int) -> ReceivedChunk | None:
        """The chunk before a transaction's first event, once it holds `target` bytes, or at the range's stop."""
        current = self.current
        if self.stop is not None and BinlogPosition(self.name, start) >= self.stop:
            self.ended = True
            return self._finish(last=True) if current is not None else None
        if current is not None and current.end - current.start >= self.target:
            return self._finish()
        return None

    def _add(self, code: int, event: memoryview, start: int) -> None:
        current = self.current
        if current is None:
            earlier = {table_id: known for table_id, known in self.maps.items() if known[0] < start}
            current = self.current = _Receiving(self.name, start, _memory_file(), self.next_number, end=start,
                                                maps=earlier)
            self.resume_at = BinlogPosition(self.name, start)
        elif start != current.end:
            raise DataError(f"{self.name}: the event at position {start} does not follow the one before it (which "
                            f"ends at {current.end}); read this range with --jobs 1")
        if code in TRANSACTION_STARTS:
            current.starts += 1
        elif code == TABLE_MAP_EVENT:
            self._table_map(event, start)
        elif code == TRANSACTION_PAYLOAD_EVENT and self.schema is not None:
            self._payload_table_maps(event)
        current.pending.append(event)
        current.end += len(event)
        if current.end - current.start - current.written >= WRITE_BLOCK:
            self._flush(current)

    @staticmethod
    def _flush(current: _Receiving) -> None:
        current.flush()
        if not current.on_disk and current.end - current.start > chunks.DIRECT_CHUNK:
            current.move_to_disk()

    def _table_map(self, event: memoryview, start: int) -> None:
        assert self.fde is not None
        post = self.fde.post_header(TABLE_MAP_EVENT)
        body = bytes(event[HEADER_LEN : len(event) - self.fde.checksum_len])
        self.maps[int.from_bytes(body[0 : 4 if post == 6 else 6], "little")] = (start, bytes(event))
        self._complete(body, post)

    def _payload_table_maps(self, event: memoryview) -> None:
        """The Table_maps inside a compressed transaction (binlog_transaction_compression), completed here too."""
        assert self.fde is not None
        post = self.fde.post_header(TABLE_MAP_EVENT)
        for inner in payload_events(bytes(event[HEADER_LEN : len(event) - self.fde.checksum_len])):
            if inner[4] == TABLE_MAP_EVENT:
                self._complete(bytes(inner[HEADER_LEN:]), post)

    def _complete(self, body: bytes, post: int) -> None:
        """A Table_map of a table that needs its current definition (no column names or no primary key logged):
        looked up now, in order, so that the children find it in the lookup's cache (and the warning is given
        once, here)."""
        if self.schema is None or body in self.completed:
            return
        if len(self.completed) > 10_000:
            self.completed.clear()
        self.completed.add(body)
        tmap = parse_table_map(body, post)
        if not tmap.has_names or not tmap.primary_key:
            complete_table_map(tmap, self.schema)

    def _next_file(self, target: str, finished: ReceivedChunk | None = None) -> ReceivedChunk | None:
        """A Rotate: the events that follow come from `target` (at a dump's start: the start file itself)."""
        if target == self.name:
            return finished
        if finished is None and self.current is not None:
            finished = self._finish()
        self.name, self.maps, self.fde = target, {}, None
        self.resume_at = BinlogPosition(target, FIRST_EVENT_POS)
        if self.stop is not None and self.resume_at >= self.stop:
            self.ended = True
            if finished is not None:
                finished.last = True
        return finished

    def _finish(self, last: bool = False) -> ReceivedChunk:
        current, self.current = self.current, None
        assert current is not None
        try:
            current.flush()
            with spooling():
                if current.start > FIRST_EVENT_POS and self.fde_event:
                    os.pwrite(current.fd, self.fde_event, FIRST_EVENT_POS)
                for at, event in current.maps.values():  # in case a rows event uses a Table_map of an earlier chunk
                    os.pwrite(current.fd, event, at)
                size = max(current.end, mmap.PAGESIZE)  # a chunk cut short by a failure may hold no event
                if os.fstat(current.fd).st_size < size:
                    os.ftruncate(current.fd, size)
                data = mmap.mmap(current.fd, size, prot=mmap.PROT_READ)
        except BaseException:
            os.close(current.fd)
            raise
        chunk = Chunk(current.start, current.end, current.first_number, current.starts, FIRST_EVENT_POS,
                      {table_id: at for table_id, (at, _) in current.maps.items()})
        self.next_number += current.starts
        return ReceivedChunk(current.name, chunk, current.fd, data, last)


Running = deque[tuple[ReceivedChunk, tuple[int, int], Spool]]


def server_outputs(selection: ServerSelection, receiver: DumpChunks, render: Render, jobs: int) -> Iterator[bytes]:
    """The rendered selected transactions of the dump, in order, decoded by up to `jobs` child processes. A failure
    of the dump (after what was received before it) is raised once the chunks before it are out, unless one of
    them reached the range's stop."""
    state = Ordered(selection, render)
    running: Running = deque()
    received = receiver.chunks()
    failure: Exception | None = None
    try:
        while True:
            try:
                got = next(received, None)
            except Exception as exc:  # the dump's: raised after the output before it
                failure = exc
                break
            if got is None:
                break
            if got.large or (got.last and not running):
                try:
                    while running and not state.stopped:
                        yield from _oldest_output(state, running)
                    if not state.stopped:
                        yield from state.emit(got.data, got.name, got.chunk, None, None)
                finally:
                    got.close()
            else:
                start_child(state, running, got)
                if len(running) >= jobs:
                    yield from _oldest_output(state, running)
            if state.stopped:
                return
        while running and not state.stopped:
            yield from _oldest_output(state, running)
        if failure is not None and not state.stopped:
            raise failure
    finally:
        for got, child, spool in running:
            workers.abandon(*child)
            spool.close()
            got.close()
        received.close()
        receiver.close()


def start_child(state: Ordered, running: Running, got: ReceivedChunk) -> None:
    try:
        spool = Spool()
    except BaseException:
        got.close()
        raise
    try:
        child = workers.start(fill_in_child, (spool, state.reader, got.data, got.name, got.chunk, state.render))
    except BaseException:
        spool.close()
        got.close()
        raise
    running.append((got, child, spool))


def _oldest_output(state: Ordered, running: Running) -> Iterator[bytes]:
    got, child, spool = running.popleft()
    try:
        try:
            result = workers.collect(*child)
        except KeyboardInterrupt:  # while waiting: the child may still run
            workers.abandon(*child)
            spool.close()
            raise
        except BaseException:
            spool.close()
            raise
        yield from state.emit(got.data, got.name, got.chunk, spool, result)
    finally:
        got.close()
