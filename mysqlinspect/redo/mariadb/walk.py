"""MariaDB 10.8+ ("Phys") log: walk mini-transactions from the checkpoint to the end of the log.

Implements section 8 of the project reference redo-formats.md: pass 1 from the checkpoint slot's end_lsn to the
FILE_CHECKPOINT(checkpoint_lsn) mtr, pass 2 from checkpoint_lsn (or right after that mtr) until an mtr fails the
framing test (end byte = sequence bit, CRC-32C). Record types are counted on the way in pass 2.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from mysqlinspect.crc import crc32c as _crc32c
from mysqlinspect.redo import layout as L
from mysqlinspect.redo.mariadb.spans import add_page_kinds, walk_page_mtrs

ProgressCallback = Callable[[int, int], None]
PROGRESS_EVERY = 1 << 20
_WRAP_COPY = L.MDB_MTR_SIZE_MAX + 64

PAGE_RECORD_TYPES = {0x00: "FREE_PAGE", 0x10: "INIT_PAGE", 0x20: "EXTENDED", 0x30: "WRITE", 0x40: "MEMSET",
                     0x50: "MEMMOVE", 0x60: "RESERVED", 0x70: "OPTION"}
FILE_RECORD_TYPES = {0x80: "FILE_CREATE", 0x90: "FILE_DELETE", 0xA0: "FILE_RENAME", 0xB0: "FILE_MODIFY",
                     0xF0: "FILE_CHECKPOINT"}


class MtrRing:
    """The circular record area of ib_logfile0 as one linear buffer, with the wrap point copied past its end."""

    def __init__(self, area: bytes | bytearray, first_lsn: int, encrypted: bool, capacity: int | None = None) -> None:
        """`area` is the record area; with `capacity`, it already has that many bytes plus room for the copy."""
        self.capacity = len(area) if capacity is None else capacity
        self.first_lsn = first_lsn
        self.nonce = L.MDB_NONCE_SIZE if encrypted else 0
        cap = self.capacity
        if capacity is not None:
            if not isinstance(area, bytearray):
                raise TypeError("a preallocated ring area must be a bytearray")
            self.buf: bytes | bytearray = area
            extra = len(area) - cap
            done = 0
            while done < extra:  # copy the start of the ring past its end (several laps for tiny rings)
                step = min(cap, extra - done)
                area[cap + done:cap + done + step] = area[:step]
                done += step
        elif cap >= _WRAP_COPY:
            self.buf = area + area[:_WRAP_COPY]
        else:  # an mtr is never longer than the ring: one more lap (and a little) is enough
            extra = cap + 64
            self.buf = (area * (2 + -(-extra // max(cap, 1))))[:cap + extra]

    @classmethod
    def from_file(cls, fh: BinaryIO, offset: int, first_lsn: int, encrypted: bool) -> MtrRing:
        """Read the record area after `offset` into one buffer (file size + at most 1 MiB of memory)."""
        size = os.fstat(fh.fileno()).st_size - offset
        extra = _WRAP_COPY if size >= _WRAP_COPY else size + 64
        buf = bytearray(size + extra)
        got = os.preadv(fh.fileno(), [memoryview(buf)[:size]], offset)
        if got < size:
            del buf[got:]
            size, extra = got, 0
        return cls(buf, first_lsn, encrypted, capacity=size)

    def pos(self, lsn: int) -> int:
        return (lsn - self.first_lsn) % self.capacity

    def sequence_bit(self, lsn: int) -> int:
        return 0 if ((lsn - self.first_lsn) // self.capacity) & 1 else 1


@dataclass
class Mtr:
    start_lsn: int
    end_lsn: int  # LSN right after the CRC
    record_types: list[int]  # first byte of each record
    record_offsets: list[int]  # position of each record's first byte in the ring buffer


def _varint(buf: bytes | bytearray, p: int) -> tuple[int, int]:
    """mlog_decode_varint: (value, length); value 0xFFFFFFFF for an invalid first byte."""
    b = buf[p]
    if b < 0x80:
        return b, 1
    if b < 0xC0:
        return 0x80 + (((b & 0x3F) << 8) | buf[p + 1]), 2
    if b < 0xE0:
        return 0x4080 + (((b & 0x1F) << 16) | (buf[p + 1] << 8) | buf[p + 2]), 3
    if b < 0xF0:
        return 0x204080 + (((b & 0x0F) << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]), 4
    if b == 0xF0:
        return 0x10204080 + int.from_bytes(buf[p + 1:p + 5], "big"), 5
    return 0xFFFFFFFF, 1


def parse_mtr(ring: MtrRing, lsn: int) -> tuple[Mtr | None, str]:
    """The framing test of log_parse_start(): (mtr, "") or (None, why the log ends here)."""
    buf = ring.buf
    start = p = ring.pos(lsn)
    limit = len(buf) - 16
    if buf[p] <= 1:
        return None, "end_marker"
    types: list[int] = []
    offsets: list[int] = []
    total = 0
    while True:
        if total >= L.MDB_MTR_SIZE_MAX or p >= limit:
            return None, "too_long"
        b = buf[p]
        if b <= 1:
            break
        types.append(b)
        offsets.append(p)
        n = b & 0x0F
        p += 1
        if n == 0:
            value, _ = _varint(buf, p)
            if value >= L.MDB_MTR_SIZE_MAX:
                return None, "bad_length"
            n = value + 15
        p += n
        total += n
    if p + 5 + ring.nonce > len(buf):
        return None, "too_long"
    end_byte_lsn = lsn + (p - start)
    if buf[p] != ring.sequence_bit(end_byte_lsn):
        return None, "sequence_bit"
    crc_at = p + 1 + ring.nonce
    crc = _crc32c(buf[start:p])
    if ring.nonce:
        crc = _crc32c(buf[p + 1:crc_at], crc)
    if crc != int.from_bytes(buf[crc_at:crc_at + 4], "big"):
        return None, "crc_mismatch"
    return Mtr(lsn, lsn + (crc_at + 4 - start), types, offsets), ""


def skip_mtr(ring: MtrRing, lsn: int, counts: dict[int, int]) -> tuple[int, str]:
    """The framing test without building an Mtr: (LSN after the mtr or -1, why it ends), counting record kinds.

    `counts` is keyed by record kind: `b & 0xF0` (0x80..0xF0) for file-level records, `b & 0x70` for page records.
    """
    buf = ring.buf
    start = p = (lsn - ring.first_lsn) % ring.capacity
    limit = len(buf) - 16
    if buf[p] <= 1:
        return -1, "end_marker"
    kinds: list[int] = []
    got_page_op = False
    total = 0
    max_size = L.MDB_MTR_SIZE_MAX
    while True:
        if total >= max_size or p >= limit:
            return -1, "too_long"
        b = buf[p]
        if b <= 1:
            break
        if b & 0x80 and not got_page_op:
            kinds.append(b & 0xF0)
        else:
            kinds.append(b & 0x70)
            got_page_op = True
        n = b & 0x0F
        p += 1
        if n == 0:
            value = buf[p] if buf[p] < 0x80 else _varint(buf, p)[0]
            if value >= max_size:
                return -1, "bad_length"
            n = value + 15
        p += n
        total += n
    if p + 5 + ring.nonce > len(buf):
        return -1, "too_long"
    if buf[p] != ring.sequence_bit(lsn + (p - start)):
        return -1, "sequence_bit"
    crc_at = p + 1 + ring.nonce
    crc = _crc32c(buf[start:p])
    if ring.nonce:
        crc = _crc32c(buf[p + 1:crc_at], crc)
    if crc != int.from_bytes(buf[crc_at:crc_at + 4], "big"):
        return -1, "crc_mismatch"
    for kind in kinds:
        counts[kind] = counts.get(kind, 0) + 1
    return lsn + (crc_at + 4 - start), ""


def kind_name(kind: int) -> str:
    if kind & 0x80:
        return FILE_RECORD_TYPES.get(kind, f"FILE_0x{kind:02X}")
    return PAGE_RECORD_TYPES[kind]


def file_checkpoint_lsn(ring: MtrRing, mtr: Mtr) -> int | None:
    """The LSN of the FILE_CHECKPOINT record ending `mtr`, if it ends with one."""
    if not mtr.record_types or mtr.record_types[-1] != 0xFA:
        return None
    p = mtr.record_offsets[-1]
    buf = ring.buf
    if buf[p + 1] != 0 or buf[p + 2] != 0:
        return None
    return int.from_bytes(buf[p + 3:p + 11], "big")


def record_type_name(first_byte: int, got_page_op: bool) -> tuple[str, bool]:
    if first_byte & 0x80 and not got_page_op:
        kind = first_byte & 0xF0
        return FILE_RECORD_TYPES.get(kind, f"FILE_0x{kind:02X}"), False
    return PAGE_RECORD_TYPES[first_byte & 0x70], True


def count_records(mtr: Mtr, counts: Counter[str]) -> None:
    got_page_op = False
    for first in mtr.record_types:
        name, page = record_type_name(first, got_page_op)
        got_page_op = got_page_op or page
        counts[name] += 1


@dataclass
class MtrWalkResult:
    scan_start_lsn: int
    file_checkpoint_end: int | None  # LSN right after the FILE_CHECKPOINT(checkpoint_lsn) mtr
    end_lsn: int
    stop_reason: str
    mtrs_scanned: int
    record_counts: Counter[str] = field(default_factory=Counter)
    error: str | None = None


def find_file_checkpoint(ring: MtrRing, checkpoint_lsn: int, slot_end_lsn: int) -> tuple[int | None, int, str]:
    """Pass 1: (LSN after the FILE_CHECKPOINT(checkpoint_lsn) mtr or None, LSN reached, reason)."""
    lsn = slot_end_lsn
    while True:
        mtr, reason = parse_mtr(ring, lsn)
        if mtr is None:
            return None, lsn, reason
        first = mtr.record_types[0]
        if first != 0xFA and not 0xB0 <= first <= 0xBF:
            return None, lsn, "unexpected_record"
        if file_checkpoint_lsn(ring, mtr) == checkpoint_lsn:
            return mtr.end_lsn, lsn, ""
        lsn = mtr.end_lsn


def walk_mtrs(ring: MtrRing, checkpoint_lsn: int, slot_end_lsn: int,
              progress: ProgressCallback | None = None) -> MtrWalkResult:
    """Both passes of MariaDB recovery: where the log ends and what it holds."""
    file_ckpt, reached, reason = find_file_checkpoint(ring, checkpoint_lsn, slot_end_lsn)
    if file_ckpt is None:
        return MtrWalkResult(slot_end_lsn, None, reached, "missing_file_checkpoint", 0,
                             error=f"Missing FILE_CHECKPOINT({checkpoint_lsn}) at LSN {reached} ({reason})")
    start = lsn = checkpoint_lsn if slot_end_lsn != checkpoint_lsn else file_ckpt
    kinds: dict[int, int] = {}
    mtrs = 0
    next_report = lsn + PROGRESS_EVERY
    cap = ring.capacity
    firsts = bytearray()
    while True:
        pos = (lsn - ring.first_lsn) % cap
        endpos = min(cap, pos + start + cap - lsn, len(ring.buf) - 16)  # this lap, at most one capacity
        fast_end, taken = walk_page_mtrs(ring.buf, pos, endpos, ring.nonce, ring.sequence_bit(lsn), firsts)
        mtrs += taken
        lsn += fast_end - pos
        after, reason = skip_mtr(ring, lsn, kinds)
        if after < 0:
            break
        mtrs += 1
        lsn = after
        if progress is not None and lsn >= next_report:
            progress(min(lsn - start, cap), cap)
            next_report = lsn + PROGRESS_EVERY
        if lsn - start > cap:
            reason = "wrapped"
            break
    add_page_kinds(firsts, kinds)
    counts: Counter[str] = Counter({kind_name(kind): n for kind, n in kinds.items()})
    result = MtrWalkResult(start, file_ckpt, lsn, reason, mtrs, counts)
    if lsn < file_ckpt:
        result.error = f"the log was only scanned up to LSN {lsn}, before FILE_CHECKPOINT ending at {file_ckpt}"
    return result
