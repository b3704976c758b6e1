"""Raw events from local binlog / relay-log files, with no server.

Each file is walked twice over its memory-mapped bytes. The first walk reads headers only: it checks the magic,
follows every FORMAT_DESCRIPTION_EVENT (a relay log has several; each says whether the events after it end in a
CRC32), verifies CRC32 checksums (zlib.crc32, in C), refuses encrypted binlogs and finds where valid data ends:
after the last complete transaction, before a partial event, a torn write or an uncommitted transaction (a file
still being written, or cut by a crash or a copy). The second walk yields `RawEvent`s up to that point. What the
first walk found is kept as a `FileEnd` per file (`LocalBinlogSource.ends`), like the redo recovery preview.

Both walks give back the pages of the mapping they have passed (MADV_DONTNEED, every RELEASE_EVERY bytes): they
stay in the page cache, but the process's resident memory does not grow with the file.

A checksum mismatch is a DataError (exit 65) naming the file and position, unless it is the very last event of a
file left open (a torn write: the file ends before it); `verify_checksum=False` reads on without checking.
"""

from __future__ import annotations

import mmap
import re
import struct
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mysqlinspect.binlog.source.boundaries import (
    MARIADB_GTID,
    MYSQL_GTIDS,
    PAYLOAD,
    QUERY_COMPRESSED,
    XA_PREPARE,
    XID,
    BoundaryTracker,
)
from mysqlinspect.binlog.source.fde import (
    CHECKSUM_LEN,
    HEADER_LEN,
    FormatDescription,
    crc_ok,
    is_checksum_aware,
    server_version,
)
from mysqlinspect.binlog.source.files import display_name, open_bytes, resolve_inputs
from mysqlinspect.binlog.source.rawdump import Frame, RawEvent
from mysqlinspect.errors import DataError, EncryptedBinlogError

try:  # the walk's loop in C (optional; _walk_events runs it in Python without it)
    from mysqlinspect.binlog.source._walk import select as native_select
    from mysqlinspect.binlog.source._walk import walk as native_walk
except ImportError:  # pragma: no cover - no compiler at install
    native_walk = native_select = None  # type: ignore[assignment]

BINLOG_MAGIC = b"\xfebin"
MYSQL_ENCRYPTED_MAGIC = b"\xfdbin"
HEADER = struct.Struct("<IBIIIH")
FORMAT_DESCRIPTION_EVENT = 15
ROTATE_EVENT, STOP_EVENT = 4, 3
START_ENCRYPTION_EVENT = 164
QUERY_EVENT = 2
IN_USE_FLAG = 0x0001
FDE_FLAGS_OFFSET = 17

Buffer = bytes | memoryview | mmap.mmap
RELEASE_EVERY = 8 << 20
_BODY_NEEDED = frozenset({2, 162, 165, FORMAT_DESCRIPTION_EVENT})  # boundary tracking reads these bodies
_TRACKED = MYSQL_GTIDS | {MARIADB_GTID, QUERY_EVENT, QUERY_COMPRESSED, XID, XA_PREPARE, PAYLOAD}  # move boundaries


@dataclass(frozen=True)
class FileEnd:
    """How a file ends: where valid data stops and what (if anything) follows it."""

    file: str
    path: str
    size: int
    valid_end: int  # resume position: after the last complete transaction (or outside event)
    closed: bool  # the server closed the file (in-use flag clear in its FDE)
    last_event: str  # "rotate", "stop" or "" when the file ends without either
    stop_reason: str  # "" (complete) or what follows valid_end: see describe()
    trailing_events: int  # complete events after valid_end (an uncommitted transaction)

    @property
    def complete(self) -> bool:
        return self.valid_end == self.size

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "path": self.path, "size": self.size, "valid_end": self.valid_end,
                "complete": self.complete, "closed": self.closed, "last_event": self.last_event or None,
                "stop_reason": self.stop_reason or None, "trailing_events": self.trailing_events}

    def describe(self) -> str:
        if self.complete:
            how = {"rotate": "rotated", "stop": "server stopped"}.get(self.last_event, "no Rotate/Stop event")
            state = "closed" if self.closed else "still open or not closed cleanly"
            return f"{self.file}: complete, {self.size} bytes ({how}; {state})"
        follows = self.stop_reason
        if self.trailing_events:
            follows += f"; {self.trailing_events} complete events of an uncommitted transaction"
        return (f"{self.file}: valid data ends at {self.valid_end} of {self.size} bytes; "
                f"{self.size - self.valid_end} bytes follow ({follows})")


@dataclass
class _Walk:
    valid_end: int = 4
    last_event: str = ""
    stop_reason: str = ""
    trailing_events: int = 0
    closed: bool = False


class LocalBinlogSource:
    """Iterate RawEvents over local files or directories (see module doc); `ends` grows as files finish."""

    def __init__(self, paths: Sequence[str | Path], verify_checksum: bool = True) -> None:
        self.files = resolve_inputs([str(p) for p in paths])
        self.verify_checksum = verify_checksum
        self.ends: list[FileEnd] = []

    def __iter__(self) -> Iterator[RawEvent]:
        for path in self.files:
            yield from self.read_file(path)

    def frames(self) -> Iterator[Frame]:
        """The events as dump-style frame tuples whose data is the body (no header, no checksum): what the stats
        header loop reads, without building RawEvents."""
        for path in self.files:
            yield from self.read_file(path, as_frames=True)

    def of_types(self, codes: frozenset[int], keep_from: Callable[[str], int] = lambda name: 4) -> Iterator[RawEvent]:
        """Only the events of these type codes (not Format_description) starting at or after keep_from(file name)
        (the others' bodies are not copied): a pre-pass over a range. Query events whose text is BEGIN and a
        Table_map equal to the one listed before it may be left out (they add nothing to a pre-pass over tables
        and statements)."""
        for path in self.files:
            with self.opened(path) as (name, data, valid_end):
                yield from selected_events(data, name, valid_end, codes, keep_from(name))

    def read_file(self, path: Path, as_frames: bool = False) -> Iterator[Any]:
        with self.opened(path) as (name, data, valid_end):
            if as_frames:
                yield from frames_until(data, name, valid_end)
            else:
                yield from events_until(data, name, valid_end)

    @contextmanager
    def opened(self, path: Path) -> Iterator[tuple[str, Buffer, int]]:
        """(name, bytes, where valid data ends) of one file after the first walk (its FileEnd recorded), for a
        reader of its own over the bytes."""
        name = display_name(path)
        with open_bytes(path) as data:
            walk = walked_file(path, data, name, self.verify_checksum)
            self.ends.append(FileEnd(name, str(path), len(data), walk.valid_end, walk.closed, walk.last_event,
                                     walk.stop_reason, walk.trailing_events))
            yield name, data, walk.valid_end


def check_magic(data: Buffer, name: str) -> None:
    magic = bytes(data[:4])
    if magic == MYSQL_ENCRYPTED_MAGIC:
        raise EncryptedBinlogError(f"{name}: an encrypted MySQL binlog (binlog_encryption=ON); mysqlinspect cannot "
                                   "read encrypted binlogs (decrypt with mysqlbinlog --read-from-remote-server from "
                                   "the server)")
    if magic != BINLOG_MAGIC:
        raise DataError(f"{name}: not a binlog or relay-log file (no \\xfebin magic at offset 0)")


_WalkKey = tuple[str, int, int, int, int, int, str, bool]
_WALKS: dict[_WalkKey, _Walk] = {}


SETTLED_NS = 2_000_000_000  # a file last modified this long ago may have its walk kept


def walked_file(path: Path, data: Buffer, name: str, verify: bool) -> _Walk:
    """walk_file, once per process for an unchanged file (replay's pre-pass and its reading pass walk the same
    files): kept by path, device, inode, size, modification time and the bytes read, and only for a file not
    modified in the last SETTLED_NS (any later write gives it a newer modification time even on file systems with
    coarse timestamps); any other file (one being written) is walked every time."""
    try:
        st = path.stat()
    except OSError:
        return walk_file(data, name, verify)
    key = (str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, len(data), name, verify)
    walk = _WALKS.get(key)
    if walk is None:
        walk = walk_file(data, name, verify)
        if time.time_ns() - st.st_mtime_ns < SETTLED_NS:
            return walk
        if len(_WALKS) > 1024:
            _WALKS.clear()
        _WALKS[key] = walk
    return replace(walk)  # a copy: the caller's to keep


def walk_file(data: Buffer, name: str, verify: bool) -> _Walk:
    """The first walk: headers, FDEs, checksums, transaction boundaries; where valid data ends."""
    size = len(data)
    if size < 4:
        raise DataError(f"{name}: not a binlog file ({size} bytes)")
    check_magic(data, name)
    walk, tracker = _Walk(), BoundaryTracker()
    with memoryview(data) as view:
        _walk_events(data, view, name, verify, walk, tracker)
    if tracker.inside and not walk.stop_reason:
        walk.stop_reason = "an uncommitted transaction at the end of the file"
    elif walk.trailing_events == 0 and walk.stop_reason == "" and walk.valid_end != size:
        walk.stop_reason = "unknown data"
    return walk


def _walk_events(data: Buffer, view: memoryview, name: str, verify: bool, walk: _Walk,
                 tracker: BoundaryTracker) -> None:
    """walk_file's loop (CRCs over zero-copy views; only the events that move a boundary reach the tracker;
    locals rather than attributes in the loop: it runs once per event)."""
    fde: FormatDescription | None = None
    size, pos, csum, post = len(data), 4, 0, 13
    valid_end, trailing, last_code = 4, 0, 0
    unpack, crc32, from_bytes, tracked = HEADER.unpack_from, zlib.crc32, int.from_bytes, _TRACKED
    check = verify
    release = PageRelease(data, pos)
    while pos < size:
        if pos >= release.next:
            release.passed(pos)
        if fde is not None and native_walk is not None:  # the common events in C, up to one it leaves here
            pos, ended, added, inside, in_begin, code, stopped = native_walk(
                data, pos, min(size, release.next), size, fde.checksum_len, check, tracker.inside, tracker.in_begin,
                post)
            tracker.inside, tracker.in_begin = bool(inside), bool(in_begin)
            valid_end, trailing = (ended, added) if ended >= 0 else (valid_end, trailing + added)
            last_code = code or last_code
            if not stopped:
                continue
        if pos + HEADER_LEN > size:
            walk.stop_reason = f"a partial event header ({size - pos} bytes)"
            break
        _, code, _, ev_size, _, flags = unpack(data, pos)
        end = pos + ev_size
        if ev_size < HEADER_LEN or end > size:
            walk.stop_reason = _partial_reason(ev_size, size - pos)
            break
        if code == FORMAT_DESCRIPTION_EVENT:
            fde = _read_fde(data[pos:end], name, pos, verify)
            if pos == 4:
                walk.closed = not flags & IN_USE_FLAG
            csum, post = 0, fde.post_header(QUERY_EVENT)
            check = verify and fde.checksum_len > 0
        elif fde is None:
            raise DataError(f"{name}: the first event at position {pos} is not a Format_description event")
        else:
            csum = fde.checksum_len
            if check and crc32(view[pos : end - CHECKSUM_LEN]) != from_bytes(data[end - CHECKSUM_LEN : end], "little"):
                if end == size and not walk.closed:
                    walk.stop_reason = "a torn last event (bad CRC32 in a file left open)"
                    break
                raise DataError(f"{name}: event at position {pos} (type {code}, {ev_size} bytes) fails its "
                                "CRC32 checksum; the file is corrupt (--no-verify-checksum reads on)")
        if code in tracked:
            tracker.feed(code, bytes(view[pos + HEADER_LEN : end - csum]) if code in _BODY_NEEDED else b"", post)
        elif code == START_ENCRYPTION_EVENT:
            raise EncryptedBinlogError(f"{name}: an encrypted MariaDB binlog (Start_encryption event at {pos}, "
                            "encrypt_binlog=ON); mysqlinspect cannot read encrypted binlogs")
        elif code in (ROTATE_EVENT, STOP_EVENT):
            last_code = code
        pos = end
        if tracker.inside:
            trailing += 1
        else:
            valid_end, trailing = pos, 0
    walk.valid_end, walk.trailing_events = valid_end, trailing
    if last_code:
        walk.last_event = "rotate" if last_code == ROTATE_EVENT else "stop"


class PageRelease:
    """Give back the pages of a read-only file mapping a sequential walk has passed (no-op for other buffers)."""

    def __init__(self, data: Buffer, start: int) -> None:
        self.mapping = data if isinstance(data, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED") else None
        self.done = start - start % mmap.PAGESIZE
        self.next = start + RELEASE_EVERY if self.mapping is not None else 1 << 62

    def passed(self, pos: int) -> None:
        """Called when pos >= self.next."""
        assert self.mapping is not None
        upto = pos - pos % mmap.PAGESIZE
        if upto > self.done:
            self.mapping.madvise(mmap.MADV_DONTNEED, self.done, upto - self.done)
            self.done = upto
        self.next = pos + RELEASE_EVERY


def _partial_reason(ev_size: int, left: int) -> str:
    if ev_size < HEADER_LEN:
        return "no valid event header (zero or garbage bytes)"
    return f"a partial event ({left} of {ev_size} bytes)"


def _read_fde(event: Buffer, name: str, pos: int, verify: bool) -> FormatDescription:
    version = server_version(bytes(event[HEADER_LEN:]))
    if int.from_bytes(event[HEADER_LEN : HEADER_LEN + 2], "little") != 4:
        raise DataError(f"{name}: binlog format version below 4 at position {pos} (MySQL 4.x or older)")
    if not is_checksum_aware(version):
        return FormatDescription.from_body(bytes(event[HEADER_LEN:]))
    if verify:
        # the CRC was computed with the in-use flag clear; the server clears it in place on close
        copy = bytearray(event)
        copy[FDE_FLAGS_OFFSET] &= ~IN_USE_FLAG & 0xFF
        if not crc_ok(bytes(copy)):
            raise DataError(f"{name}: the Format_description event at position {pos} fails its CRC32 checksum")
    return FormatDescription.from_body(bytes(event[HEADER_LEN:-CHECKSUM_LEN]))


def selected_events(data: Buffer, name: str, end: int, codes: frozenset[int], keep_from: int) -> Iterator[RawEvent]:
    """LocalBinlogSource.of_types over one file (Format_description events are followed, never listed): listed
    in C (_walk.select) between them, or by frames_until without it."""
    if native_select is None:
        yield from (RawEvent(*f) for f in frames_until(data, name, end, codes=codes)
                    if f[1] >= keep_from and f[4] != FORMAT_DESCRIPTION_EVENT)
        return
    wanted = bytes(1 if code in codes else 0 for code in range(256))
    pos, csum, post = 4, 0, 13
    release = PageRelease(data, pos)
    while pos < end:
        if pos >= release.next:
            release.passed(pos)
        limit = min(end, pos + RELEASE_EVERY)
        listed, pos = native_select(data, pos, limit, end, csum, post, wanted, keep_from)
        for at, _, size in listed:
            body = bytes(data[at + HEADER_LEN : at + size - csum])
            yield RawEvent(name, at, at + size, *_header_fields(data, at), body)
        if pos + HEADER_LEN > end:
            return  # the end of the valid data (the walk found where it is)
        if HEADER.unpack_from(data, pos)[1] != FORMAT_DESCRIPTION_EVENT:
            if pos >= limit:
                continue  # RELEASE_EVERY bytes listed: on from here
            return  # no valid header (the walk ends the valid data before such an event)
        fde = _frame_fde(data, pos)
        csum, post = fde.checksum_len, fde.post_header(QUERY_EVENT) or 13
        pos += HEADER.unpack_from(data, pos)[3]


def _header_fields(data: Buffer, at: int) -> tuple[int, int, int, int, int]:
    """timestamp, type code, server id, size and flags of the event at `at`."""
    timestamp, code, server_id, size, _, flags = HEADER.unpack_from(data, at)
    return timestamp, code, server_id, size, flags


def _frame_fde(data: Buffer, pos: int) -> FormatDescription:
    body = bytes(data[pos + HEADER_LEN : pos + HEADER.unpack_from(data, pos)[3]])
    if is_checksum_aware(server_version(body)):
        body = body[:-CHECKSUM_LEN]
    return FormatDescription.from_body(body)


def events_until(data: Buffer, name: str, end: int, start: int = 4, checksum_len: int = 0) -> Iterator[RawEvent]:
    """The second walk: RawEvents (bodies without checksum; an FDE body keeps its checksum_alg byte). From a
    `start` other than 4, `checksum_len` is the checksum length of the events there (from their FDE)."""
    for frame in frames_until(data, name, end, start, checksum_len):
        yield RawEvent(*frame)


def frames_until(data: Buffer, name: str, end: int, start: int = 4, checksum_len: int = 0,
                 codes: frozenset[int] | None = None) -> Iterator[Frame]:
    """The second walk as RawEvent-shaped tuples (file, start, end, timestamp, type, server id, size, flags,
    body); with `codes`, only the events of those type codes."""
    unpack = HEADER.unpack_from
    pos, csum = start, checksum_len
    release = PageRelease(data, start)
    while pos < end:
        if pos >= release.next:
            release.passed(pos)
        timestamp, code, server_id, ev_size, _, flags = unpack(data, pos)
        next_pos = pos + ev_size
        if code == FORMAT_DESCRIPTION_EVENT:
            body = bytes(data[pos + HEADER_LEN : next_pos])
            if is_checksum_aware(server_version(body)):
                body = body[:-CHECKSUM_LEN]
            csum = FormatDescription.from_body(body).checksum_len
        elif codes is not None and code not in codes:
            pos = next_pos
            continue
        else:
            body = bytes(data[pos + HEADER_LEN : next_pos - csum])
        if codes is None or code in codes:
            yield name, pos, next_pos, timestamp, code, server_id, ev_size, flags, body
        pos = next_pos


@dataclass(frozen=True)
class FilesOrigin:
    """Who wrote a set of binlog files, from the first file's Format_description event."""

    flavor: str  # "mariadb" or "mysql"
    version: str  # the FDE's server_version, e.g. "9.7.0-log" or "10.11.9-MariaDB-log"
    server_id: int

    @property
    def version_tuple(self) -> tuple[int, int, int]:
        numbers = [int(p) for p in re.findall(r"\d+", self.version)[:3]] + [0, 0, 0]
        return numbers[0], numbers[1], numbers[2]


def files_origin(paths: Sequence[str | Path]) -> FilesOrigin:
    """The flavor, version and server_id of the server that wrote the first of `paths` (files or directories)."""
    first = resolve_inputs([str(p) for p in paths])
    if not first:
        raise DataError("no binlog files to read")
    name = display_name(first[0])
    with open_bytes(first[0]) as data:
        check_magic(data, name)
        if len(data) < 4 + HEADER_LEN:
            raise DataError(f"{name}: no Format_description event")
        _, code, server_id, ev_size, _, _ = HEADER.unpack_from(data, 4)
        if code != FORMAT_DESCRIPTION_EVENT or 4 + ev_size > len(data):
            raise DataError(f"{name}: the first event at position 4 is not a Format_description event")
        version = server_version(bytes(data[4 + HEADER_LEN : 4 + ev_size]))
    return FilesOrigin("mariadb" if "MariaDB" in version else "mysql", version, server_id)
