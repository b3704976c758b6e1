"""Parallel decoding of local binlog files (`--jobs N`): chunks of whole transactions decoded in forked
processes, their outputs put back in file order.

A header-only scan of each file cuts it at GTID events (a transaction start) into chunks of about `chunk_bytes`,
noting for each chunk the Format_description in force, the position of the latest Table_map of every table id
before it (a rows event whose Table_map came earlier is served from there) and how many transactions start in
it. Each chunk is decoded, assembled, selected (range and filters) and rendered to bytes by the caller's `render`
in a forked child (mysqlinspect.innodb.pages.workers: the child shares the file's memory map) into an in-memory file
(memfd), at most `jobs` at a time; the parent copies the outputs out in order, in 1 MiB blocks, so memory stays
bounded. A chunk of more than DIRECT_CHUNK bytes (a transaction that large: its output would fill the
in-memory file) is decoded by the parent once the chunks before it are out, as are chunks to decode again: straight
to the output, or, for a ChunkRender whose output the parent cuts (the replay's SQL, a checkpointed tail), through
a spool file on disk, since the cuts are known only from the chunk's final state; a large transaction's events
spill to disk as in one process (read.spill), and a render gives its output in parts. The checksum walk of a
large file (where its valid data ends) runs in another child beside the first chunks; nothing of the file is
output before it is known.

The result is exactly the one-process output: transaction numbers start where the previous chunk's ended (a
chunk that opened a different number of transactions than predicted, e.g. one not starting with a GTID event,
is decoded again here with the right numbers); a chunk that ends the range (a --stop-* option) stops the read;
a chunk across the end of the valid data is decoded again up to it; an error is raised after the output of the
transactions before it; only the first chunk's decoder warnings are shown, as one decoder would warn once.
"""

from __future__ import annotations

import io
import itertools
import os
import signal
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from mysqlinspect.binlog.decode.events import EventDecoder
from mysqlinspect.binlog.decode.schema_fallback import SchemaFallback
from mysqlinspect.binlog.model import EventRecord, Transaction
from mysqlinspect.binlog.read import spill
from mysqlinspect.binlog.read.transactions import TransactionAssembler
from mysqlinspect.binlog.source.files import display_name, open_bytes
from mysqlinspect.binlog.source.local import HEADER, Buffer, FileEnd, PageRelease, events_until, walk_file
from mysqlinspect.errors import MysqlInspectError
from mysqlinspect.innodb.pages import workers

if TYPE_CHECKING:
    from mysqlinspect.binlog.read.local.transactions import FileTransactions
    from mysqlinspect.binlog.source.local import _Walk


class Selection(Protocol):
    """What a chunk's transactions go through (FileTransactions; a server range's ServerSelection): the range and
    the filters, and where the decoder finds names the binlog lacks (`chunk_schema`: filled before the fork)."""

    skipped: Callable[[Transaction], None]
    warn: Callable[[str], None]
    chunk_schema: SchemaFallback | None

    def select(self, item: Transaction | EventRecord) -> tuple[bool, Transaction | None]: ...

    def past_stop(self, txn: Transaction) -> bool: ...


Render = Callable[[Transaction], Iterable[bytes]]  # a transaction's output, in parts (a large one as it is made)
Cut = tuple[int, bytes, Callable[[], None] | None]  # at this offset of a chunk's output: once the bytes before
# it are written out, call this (a checkpoint moving past a transaction), then insert these bytes
Cuts = Callable[[object], Iterable[Cut]]  # a chunk's state -> its cuts, in offset order


class ChunkRender:
    """A render that keeps state within a chunk: begin() before a chunk's first transaction, state() after its
    last, skipped(txn) for a transaction the range or filters leave out. The parent gets the state with the
    chunk's output and cuts that output where the state says (`cuts`): to put in bytes the chunk could not know
    (the replay's session setting in force before it) or to act once a transaction's output is written (a
    checkpoint). The state is complete only once the chunk's output is, so a chunk decoded in the parent (a large
    transaction) is spooled to a temporary file on disk before it is cut, rather than streamed."""

    def skipped(self, txn: Transaction) -> None:
        """A transaction read but not rendered."""

    def __call__(self, txn: Transaction) -> Iterable[bytes]:
        raise NotImplementedError

    def begin(self) -> None:
        """A chunk starts."""

    def state(self) -> object:
        return None


TRANSACTION_STARTS = frozenset({33, 34, 42, 162})  # GTID, ANONYMOUS_GTID, TAGGED_GTID, MariaDB GTID
FDE, TABLE_MAP, HEADER_LEN = 15, 19, 19
MIN_CHUNK, MAX_CHUNK = 256 << 10, 4 << 20
DIRECT_CHUNK = 16 << 20  # a chunk this large is decoded by the parent: streamed, or spooled on disk when cut
SPOOL_BLOCK = 1 << 20
MEMORY_SPOOL = 64 << 20  # a chunk's output in memory; the rest on disk


@dataclass(frozen=True)
class Chunk:
    start: int
    end: int
    first_number: int  # the number its first transaction gets, if every transaction starts with a GTID event
    starts: int  # GTID events in it
    fde_pos: int  # the Format_description in force at `start`
    table_maps: dict[int, int]  # table id -> position of its latest Table_map before `start`


@dataclass
class ChunkOutput:
    opened: int = 0  # transaction numbers used
    stopped: bool = False  # a transaction past the range's stop: the read ends here
    warnings: list[str] = field(default_factory=list)
    error: BaseException | None = None
    state: object = None  # a ChunkRender's state()


def chunk_size(valid_bytes: int, jobs: int, chunk_bytes: int | None) -> int:
    if chunk_bytes:
        return chunk_bytes
    return max(MIN_CHUNK, min(MAX_CHUNK, valid_bytes // (4 * jobs)))


def plan_chunks(data: Buffer, end: int, target: int, first_number: int) -> Iterator[Chunk]:
    """Chunks of [4, end) cut before a GTID event once they hold `target` bytes (headers and Table_map ids only)."""
    unpack = HEADER.unpack_from
    pos = start = fde_pos = chunk_fde = 4
    maps: dict[int, int] = {}
    chunk_maps: dict[int, int] = {}
    starts = 0
    release = PageRelease(data, pos)  # the header walk touches every page of the file
    while pos + HEADER_LEN <= end:
        if pos >= release.next:
            release.passed(pos)
        _, code, _, size, _, _ = unpack(data, pos)
        if size < HEADER_LEN or pos + size > end:
            break  # a partial or garbage event: the walk (valid_end) says where the file's valid data ends
        if code in TRANSACTION_STARTS:
            if pos - start >= target:
                yield Chunk(start, pos, first_number, starts, chunk_fde, chunk_maps)
                first_number += starts
                start, starts, chunk_fde, chunk_maps = pos, 0, fde_pos, dict(maps)
            starts += 1
        elif code == TABLE_MAP:
            maps[int.from_bytes(data[pos + HEADER_LEN : pos + HEADER_LEN + 6], "little")] = pos
        elif code == FDE:
            fde_pos = pos
        pos += size
    if start < pos:
        yield Chunk(start, pos, first_number, starts, chunk_fde, chunk_maps)


def decode_chunk(reader: Selection, data: Buffer, name: str, chunk: Chunk, first_number: int,
                 render: Render, write: Callable[[bytes], object]) -> ChunkOutput:
    """One chunk decoded, assembled, selected and rendered to `write` (in a child process); an error is kept in
    the result, for the parent to raise after the chunk's output."""
    out = ChunkOutput()
    try:
        for part in chunk_parts(reader, data, name, chunk, first_number, render, out, out.warnings.append):
            write(part)
    except Exception as exc:  # raised by the parent after this chunk's output, as in one process
        out.error = exc
    return out


def chunk_parts(reader: Selection, data: Buffer, name: str, chunk: Chunk, first_number: int, render: Render,
                out: ChunkOutput, warn: Callable[[str], None]) -> Iterator[bytes]:
    """The rendered output of one chunk's selected transactions; `out` says how many numbers it used and whether
    it reached the range's stop."""
    decoder = EventDecoder(warn=warn, schema=reader.chunk_schema)
    checksum_len = 0
    if chunk.start != chunk.fde_pos:
        fde_end = chunk.fde_pos + HEADER.unpack_from(data, chunk.fde_pos)[3]
        for raw in events_until(data, name, fde_end, start=chunk.fde_pos):
            decoder.decode(raw)
        checksum_len = decoder.fde.checksum_len

    def load_table_map(table_id: int) -> None:
        at = chunk.table_maps.get(table_id)
        if at is not None:
            for raw in events_until(data, name, at + HEADER.unpack_from(data, at)[3], at, checksum_len):
                decoder.decode(raw)

    decoder.missing_table = load_table_map
    assembler = TransactionAssembler(next_number=first_number)
    skipped = reader.skipped
    if isinstance(render, ChunkRender):
        render.begin()
        reader.skipped = render.skipped
    opened: Transaction | None = None
    try:
        for raw in events_until(data, name, chunk.end, chunk.start, checksum_len):
            for record in decoder.decode(raw):
                for item in assembler.feed(record):
                    stop, txn = reader.select(item)
                    if stop:
                        out.stopped = True
                        return
                    if txn is not None:
                        yield from render(txn)
                if assembler.current is not opened:
                    opened = assembler.current
                    if opened is not None and reader.past_stop(opened):  # not read: it may be large
                        out.stopped = True
                        return
        out.opened = assembler.next_number - first_number
    finally:
        reader.skipped = skipped
        if isinstance(render, ChunkRender):
            out.state = render.state()


class SpoolError(MysqlInspectError):
    """A chunk (its binlog bytes, its output) could not be kept in memory or in the temporary directory (no space,
    no memory, no descriptor): not a lost connection, so never retried."""


@contextmanager
def spooling() -> Iterator[None]:
    """Local writes of chunks and their outputs: an OSError becomes a SpoolError with its reason."""
    try:
        yield
    except OSError as exc:
        raise SpoolError(f"cannot keep binlog chunks or their output in memory or in the temporary directory "
                         f"{spill.directory() or tempfile.gettempdir()} ({exc.strerror or exc})") from exc


class Spool:
    """A chunk's output: an anonymous in-memory file (memfd; a temporary file elsewhere) the child writes and the
    parent copies out in blocks, so no large buffer is built, pickled or held by either. Past MEMORY_SPOOL bytes the
    output goes on in an unnamed file on disk made with it (a chunk of many narrow rows: a 1,000,000-row DELETE
    logged with minimal images is a few MB of binlog and hundreds of MB of output)."""

    def __init__(self, on_disk: bool = False) -> None:
        self.overflow: int | None = None
        with spooling():
            if hasattr(os, "memfd_create") and not on_disk:
                self.fd = os.memfd_create("mysqlinspect-chunk")
                try:
                    self.overflow = unnamed_file()
                except BaseException:
                    os.close(self.fd)
                    raise
            else:  # a large transaction's output: memory is what it must not take
                self.fd = unnamed_file()

    def fill(self, reader: Selection, data: Buffer, name: str, chunk: Chunk, first_number: int,
             render: Render) -> ChunkOutput:
        with io.BufferedWriter(_SpoolFiles(self.fd, self.overflow), SPOOL_BLOCK) as out:
            return decode_chunk(reader, data, name, chunk, first_number, render, out.write)

    def blocks(self, cuts: Iterable[Cut] = ()) -> Iterator[bytes]:
        """The output in blocks, cut where `cuts` say (see Cut): each action runs when the consumer asks for
        what follows it, i.e. once everything before it was written out."""
        for fd in (self.fd, self.overflow):
            if fd is not None:
                os.lseek(fd, 0, os.SEEK_SET)
        done = 0
        for at, insert, then in cuts:
            yield from self._read(at - done)
            done = at
            if then is not None:
                then()
            if insert:
                yield insert
        while block := self._next(SPOOL_BLOCK):
            yield block

    def _read(self, count: int) -> Iterator[bytes]:
        while count > 0 and (block := self._next(min(count, SPOOL_BLOCK))):
            count -= len(block)
            yield block

    def _next(self, count: int) -> bytes:
        block = os.read(self.fd, count)
        if not block and self.overflow is not None:
            block = os.read(self.overflow, count)
        return block

    def close(self) -> None:
        os.close(self.fd)
        if self.overflow is not None:
            os.close(self.overflow)


def unnamed_file(prefix: str = "mysqlinspect-chunk-") -> int:
    """A file in the temporary directory (read.spill's) with no name: gone with its last descriptor."""
    fd, path = tempfile.mkstemp(prefix=prefix, dir=spill.directory())
    try:
        os.unlink(path)
    except BaseException:
        os.close(fd)
        raise
    return fd


def memory_file(name: str) -> int:
    """An anonymous in-memory file (memfd), or an unnamed temporary file where the system has none."""
    return os.memfd_create(name) if hasattr(os, "memfd_create") else unnamed_file()


class _SpoolFiles(io.RawIOBase):
    """The child's end of a Spool: the in-memory file up to MEMORY_SPOOL bytes, then the overflow file."""

    def __init__(self, fd: int, overflow: int | None) -> None:
        self.fd, self.overflow, self.size = fd, overflow, 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        fd = self.fd if self.overflow is None or self.size < MEMORY_SPOOL else self.overflow
        with spooling():
            written = os.write(fd, data)
        self.size += written
        return written


@dataclass
class Ordered:
    """The parent's state across files: the next transaction number and whether decoder warnings were shown."""

    reader: Selection
    render: Render
    cuts: Cuts | None = None
    next_number: int = 1
    warned: bool = False
    stopped: bool = False

    def emit(self, data: Buffer, name: str, chunk: Chunk, spool: Spool | None, result: ChunkOutput | None
             ) -> Iterator[bytes]:
        """A chunk's output in blocks, then its error. A chunk not decoded, or numbered otherwise, is decoded here:
        straight to the output, or - when its output is cut (its cuts known only at its end) - into a spool, on disk
        for a large chunk."""
        if spool is None or result is None or chunk.first_number != self.next_number:
            if spool is not None:
                spool.close()
            if self.cuts is None:
                yield from self._decode_here(data, name, chunk)
                return
            spool = Spool(on_disk=chunk.end - chunk.start > DIRECT_CHUNK)
            result = spool.fill(self.reader, data, name, chunk, self.next_number, self.render)
        try:
            if result.warnings and not self.warned:
                self.warned = True
                for message in result.warnings:
                    self.reader.warn(message)
            self.next_number += result.opened
            self.stopped = result.stopped
            yield from spool.blocks(self.cuts(result.state) if self.cuts is not None else ())
        finally:
            spool.close()
        if result.error is not None:
            raise result.error

    def _decode_here(self, data: Buffer, name: str, chunk: Chunk) -> Iterator[bytes]:
        out = ChunkOutput()

        def warn(message: str) -> None:
            if not self.warned:
                out.warnings.append(message)
                self.reader.warn(message)

        yield from chunk_parts(self.reader, data, name, chunk, self.next_number, self.render, out, warn)
        self.warned = self.warned or bool(out.warnings)
        self.next_number += out.opened
        self.stopped = out.stopped


class _FileWalk:
    """The header walk of one file (checksums, where valid data ends): done here for a small file, else by a forked
    child while the first chunks decode; nothing of the file is output before it is known, so a corrupt file
    still gives no output. Its FileEnd is recorded when known."""

    def __init__(self, reader: FileTransactions, path: Path, data: Buffer, in_child: bool) -> None:
        self.reader, self.path, self.data = reader, path, data
        self.name = display_name(path)
        self.child: tuple[int, int] | None = None
        self.walk: _Walk | None = None
        self.past_end = False  # a chunk after the valid data was reached: nothing more of this file
        if in_child:
            self.child = workers.start(walk_file, (data, self.name, reader.source.verify_checksum))
        else:
            self._record(walk_file(data, self.name, reader.source.verify_checksum))

    def valid_end(self) -> int:
        if self.walk is None:
            assert self.child is not None
            child, self.child = self.child, None
            self._record(workers.collect(*child))
        assert self.walk is not None
        return self.walk.valid_end

    def _record(self, walk: _Walk) -> None:
        self.walk = walk
        self.reader.source.ends.append(FileEnd(self.name, str(self.path), len(self.data), walk.valid_end, walk.closed,
                                               walk.last_event, walk.stop_reason, walk.trailing_events))

    def abandon(self) -> None:
        if self.child is not None:
            workers.abandon(*self.child)
            self.child = None


def ordered_outputs(reader: FileTransactions, render: Render, jobs: int, chunk_bytes: int | None = None,
                    cuts: Cuts | None = None) -> Iterator[bytes]:
    """The rendered selected transactions of every file, in order, decoded by up to `jobs` child processes
    (`cuts`: see ChunkRender)."""
    state = Ordered(reader, render, cuts)
    for path in reader.source.files:
        with open_bytes(path) as data:
            target = chunk_size(len(data), jobs, chunk_bytes)
            walk = _FileWalk(reader, path, data, in_child=len(data) > target)
            try:
                end = len(data) if walk.walk is None else walk.valid_end()
                yield from _file_outputs(state, walk, plan_chunks(data, end, target, state.next_number), jobs)
                walk.valid_end()  # recorded (or its error raised) even when no chunk needed it
            finally:
                walk.abandon()
        if state.stopped:
            return


Running = deque[tuple[Chunk, tuple[int, int], Spool]]


def _file_outputs(state: Ordered, walk: _FileWalk, chunks: Iterator[Chunk], jobs: int) -> Iterator[bytes]:
    data, name = walk.data, walk.name
    first, second = next(chunks, None), next(chunks, None)
    if first is None:
        return
    if second is None:  # a small file: one chunk, decoded here (no fork)
        yield from state.emit(data, name, replace(first, end=min(first.end, walk.valid_end())), None, None)
        return
    running: Running = deque()
    try:
        for chunk in itertools.chain((first, second), chunks):
            if chunk.end - chunk.start > DIRECT_CHUNK:  # a large transaction: decoded here after the chunks before it
                while running and not (state.stopped or walk.past_end):
                    yield from _next_output(state, walk, running)
                if state.stopped or walk.past_end:
                    return
                yield from _direct_output(state, walk, chunk)
                if state.stopped or walk.past_end:
                    return
                continue
            spool = Spool()
            try:
                child = workers.start(fill_in_child, (spool, state.reader, data, name, chunk, state.render))
            except BaseException:
                spool.close()
                raise
            running.append((chunk, child, spool))
            if len(running) >= jobs:
                yield from _next_output(state, walk, running)
                if state.stopped or walk.past_end:
                    return
        while running and not (state.stopped or walk.past_end):
            yield from _next_output(state, walk, running)
    finally:
        for _, child, spool in running:
            workers.abandon(*child)
            spool.close()


def fill_in_child(spool: Spool, reader: Selection, data: Buffer, name: str, chunk: Chunk, render: Render
                   ) -> ChunkOutput:
    """A child's chunk. Ctrl-C is the parent's to handle (it stops at a transaction's end and ends the children):
    the child ignores it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return spool.fill(reader, data, name, chunk, chunk.first_number, render)


def _direct_output(state: Ordered, walk: _FileWalk, chunk: Chunk) -> Iterator[bytes]:
    """A chunk decoded here, straight to the output (or through a spool on disk when it is cut), within the file's
    valid data."""
    valid_end = walk.valid_end()
    if chunk.start >= valid_end:
        walk.past_end = True
        return
    yield from state.emit(walk.data, walk.name, replace(chunk, end=min(chunk.end, valid_end)), None, None)


def _next_output(state: Ordered, walk: _FileWalk, running: Running) -> Iterator[bytes]:
    """The oldest chunk's output, within the file's valid data: a chunk past its end is dropped (the read of this
    file ends), one across it is decoded again here up to it."""
    chunk, child, spool = running.popleft()
    try:
        result: ChunkOutput | None = workers.collect(*child)
        valid_end = walk.valid_end()
    except BaseException:
        spool.close()
        raise
    if chunk.start >= valid_end:
        spool.close()
        walk.past_end = True
        return
    if chunk.end > valid_end:
        chunk, result = replace(chunk, end=valid_end), None
    yield from state.emit(walk.data, walk.name, chunk, spool, result)
