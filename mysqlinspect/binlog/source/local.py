"""Raw events from local binlog / relay-log files, with no server.

Each file is walked twice over its memory-mapped bytes. The first walk reads headers only: it checks the magic,
follows every FORMAT_DESCRIPTION_EVENT (a relay log has several; each says whether the events after it end in a
CRC32), verifies CRC32 checksums (zlib.crc32, in C), refuses encrypted binlogs and finds where valid data ends:
after the last complete transaction, before a partial event, a torn write or an uncommitted transaction (a file
still being written, or cut by a crash or a copy). The second walk yields `RawEvent`s up to that point. What the
first walk found is kept as a `FileEnd` per file (`LocalBinlogSource.ends`), like the redo recovery preview.

A checksum mismatch is a DataError (exit 65) naming the file and position, unless it is the very last event of a
file left open (a torn write: the file ends before it); `verify_checksum=False` reads on without checking.
"""

from __future__ import annotations

import mmap
import struct
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from mysqlinspect.binlog.source.boundaries import BoundaryTracker
from mysqlinspect.binlog.source.fde import (
    CHECKSUM_LEN,
    HEADER_LEN,
    FormatDescription,
    is_checksum_aware,
    server_version,
)
from mysqlinspect.binlog.source.files import display_name, open_bytes, resolve_inputs
from mysqlinspect.binlog.source.rawdump import RawEvent
from mysqlinspect.errors import DataError

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
_BODY_NEEDED = frozenset({2, 162, 165, FORMAT_DESCRIPTION_EVENT})  # boundary tracking reads these bodies


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

    def read_file(self, path: Path) -> Iterator[RawEvent]:
        name = display_name(path)
        with open_bytes(path) as data:
            walk = walk_file(data, name, self.verify_checksum)
            self.ends.append(FileEnd(name, str(path), len(data), walk.valid_end, walk.closed, walk.last_event,
                                     walk.stop_reason, walk.trailing_events))
            yield from events_until(data, name, walk.valid_end)


def check_magic(data: Buffer, name: str) -> None:
    magic = bytes(data[:4])
    if magic == MYSQL_ENCRYPTED_MAGIC:
        raise DataError(f"{name}: an encrypted MySQL binlog (binlog_encryption=ON); mysqlinspect cannot read "
                        "encrypted binlogs (decrypt with mysqlbinlog --read-from-remote-server from the server)")
    if magic != BINLOG_MAGIC:
        raise DataError(f"{name}: not a binlog or relay-log file (no \\xfebin magic at offset 0)")


def walk_file(data: Buffer, name: str, verify: bool) -> _Walk:
    """The first walk: headers, FDEs, checksums, transaction boundaries; where valid data ends."""
    size = len(data)
    if size < 4:
        raise DataError(f"{name}: not a binlog file ({size} bytes)")
    check_magic(data, name)
    walk, tracker = _Walk(), BoundaryTracker()
    fde: FormatDescription | None = None
    pos = 4
    while pos < size:
        if pos + HEADER_LEN > size:
            walk.stop_reason = f"a partial event header ({size - pos} bytes)"
            break
        _, code, _, ev_size, _, flags = HEADER.unpack_from(data, pos)
        if ev_size < HEADER_LEN or pos + ev_size > size:
            walk.stop_reason = _partial_reason(ev_size, size - pos)
            break
        event = data[pos : pos + ev_size] if verify or code in _BODY_NEEDED else b""
        if code == FORMAT_DESCRIPTION_EVENT:
            fde = _read_fde(event, name, pos, verify)
            if pos == 4:
                walk.closed = not flags & IN_USE_FLAG
            csum = 0
        else:
            if fde is None:
                raise DataError(f"{name}: the first event at position {pos} is not a Format_description event")
            csum = fde.checksum_len
            if verify and csum and not _crc_ok(event):
                if pos + ev_size == size and not walk.closed:
                    walk.stop_reason = "a torn last event (bad CRC32 in a file left open)"
                    break
                raise DataError(f"{name}: event at position {pos} (type {code}, {ev_size} bytes) fails its "
                                "CRC32 checksum; the file is corrupt (--no-verify-checksum reads on)")
        if code == START_ENCRYPTION_EVENT:
            raise DataError(f"{name}: an encrypted MariaDB binlog (Start_encryption event at {pos}, "
                            "encrypt_binlog=ON); mysqlinspect cannot read encrypted binlogs")
        if code in _BODY_NEEDED:
            tracker.feed(code, event[HEADER_LEN : ev_size - csum], fde.post_header(QUERY_EVENT) if fde else 13)
        else:
            tracker.feed(code, b"", 0)
        pos += ev_size
        if code in (ROTATE_EVENT, STOP_EVENT):
            walk.last_event = "rotate" if code == ROTATE_EVENT else "stop"
        if tracker.inside:
            walk.trailing_events += 1
        else:
            walk.valid_end, walk.trailing_events = pos, 0
    if tracker.inside and not walk.stop_reason:
        walk.stop_reason = "an uncommitted transaction at the end of the file"
    elif walk.trailing_events == 0 and walk.stop_reason == "" and walk.valid_end != size:
        walk.stop_reason = "unknown data"
    return walk


def _partial_reason(ev_size: int, left: int) -> str:
    if ev_size < HEADER_LEN:
        return "no valid event header (zero or garbage bytes)"
    return f"a partial event ({left} of {ev_size} bytes)"


def _crc_ok(event: Buffer) -> bool:
    return zlib.crc32(event[:-CHECKSUM_LEN]) == int.from_bytes(event[-CHECKSUM_LEN:], "little")


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
        if not _crc_ok(bytes(copy)):
            raise DataError(f"{name}: the Format_description event at position {pos} fails its CRC32 checksum")
    return FormatDescription.from_body(bytes(event[HEADER_LEN:-CHECKSUM_LEN]))


def events_until(data: Buffer, name: str, end: int, start: int = 4, checksum_len: int = 0) -> Iterator[RawEvent]:
    """The second walk: RawEvents (bodies without checksum; an FDE body keeps its checksum_alg byte). From a
    `start` other than 4, `checksum_len` is the checksum length of the events there (from their FDE)."""
    unpack = HEADER.unpack_from
    pos, csum = start, checksum_len
    while pos < end:
        timestamp, code, server_id, ev_size, _, flags = unpack(data, pos)
        next_pos = pos + ev_size
        if code == FORMAT_DESCRIPTION_EVENT:
            body = bytes(data[pos + HEADER_LEN : next_pos])
            if is_checksum_aware(server_version(body)):
                body = body[:-CHECKSUM_LEN]
            csum = FormatDescription.from_body(body).checksum_len
        else:
            body = bytes(data[pos + HEADER_LEN : next_pos - csum])
        yield RawEvent(name, pos, next_pos, timestamp, code, server_id, ev_size, flags, body)
        pos = next_pos
