"""The fast path of the MariaDB 10.8+ mtr walk: runs of page-record mtrs inside one lap, in one tight loop.

Most of a log is mtrs of page records (first byte < 0x80). For those the loop keeps no per-record objects: a
record's length comes from a 256-entry table (low nibble 1..15, or 0 and a one- or two-byte varint), its first
byte goes into one bytearray (counted by kind once, at the end of the walk), and each mtr costs one CRC-32C
call over a bytes slice (faster than over a memoryview slice with this binding) and one precompiled struct read
of the stored CRC. Anything else (file-level records, longer varints, the mtr that crosses the wrap point, an
invalid mtr) stops the run: the exact per-mtr path (`mtrwalk.skip_mtr`) takes that one mtr and says how the
log ends when it does.

`walk_page_mtrs` is the C loop `mtr_run` of the `_pagecheck` extension (same rules, SSE4.2 CRC-32C) when that is
built and usable, else `walk_page_mtrs_py` below.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from mysqlinspect.crc import crc32c as _crc32c
from mysqlinspect.crc import pagecheck
from mysqlinspect.redo import layout as L

# Bytes from a record's first byte to the next record for a length nibble of 1..15; 0: a varint follows.
_STEP = tuple((b & 0x0F) + 1 if b & 0x0F else 0 for b in range(256))
_KIND_OF_PAGE_BYTE = bytes(b & 0x70 for b in range(256))
_STORED_CRC = struct.Struct(">I").unpack_from


def walk_page_mtrs_py(buf: bytes | bytearray, pos: int, endpos: int, nonce: int, bit: int,
                      firsts: bytearray) -> tuple[int, int]:
    """Take valid page-record mtrs from `pos` while they end by `endpos`: (position after the last one, count).

    `bit` is the terminator byte of this lap (every terminator before `endpos` lies in it). The first byte of
    every record taken is appended to `firsts` (see `add_page_kinds`).
    """
    step, max_size, tail = _STEP, L.MDB_MTR_SIZE_MAX, 5 + nonce
    append = firsts.append
    taken = 0
    p = start = pos
    mark = len(firsts)
    try:
        while True:
            start = p
            b = buf[p]
            if not 1 < b < 0x80:
                return start, taken
            mark = len(firsts)
            while True:  # records: no bounds check per record, the mtr is checked against endpos below
                n = step[b]
                if n:
                    p += n
                else:
                    v = buf[p + 1]
                    if v < 0x80:
                        p += v + 16
                    elif v < 0xC0:
                        p += 0x80 + (((v & 0x3F) << 8) | buf[p + 2]) + 16
                    else:
                        p = endpos  # a three- or four-byte varint: left to the exact path
                        break
                append(b)
                b = buf[p]
                if b <= 1:
                    break
            end = p + tail
            if end > endpos or b != bit or p - start >= max_size or (
                    _crc32c(buf[p + 1:p + 1 + nonce], _crc32c(buf[start:p])) if nonce
                    else _crc32c(buf[start:p])) != _STORED_CRC(buf, end - 4)[0]:
                del firsts[mark:]
                return start, taken
            taken += 1
            p = end
    except IndexError:  # records ran past the buffer: not a valid mtr
        del firsts[mark:]
        return start, taken


WalkPageMtrs = Callable[[bytes | bytearray, int, int, int, int, bytearray], tuple[int, int]]
walk_page_mtrs_native: WalkPageMtrs | None = getattr(pagecheck, "mtr_run", None) if pagecheck is not None else None
walk_page_mtrs: WalkPageMtrs = walk_page_mtrs_native or walk_page_mtrs_py


def add_page_kinds(firsts: bytearray, kinds: dict[int, int]) -> None:
    """Count the page-record first bytes gathered by walk_page_mtrs by kind (`b & 0x70`) into `kinds`."""
    kind_bytes = bytes(firsts).translate(_KIND_OF_PAGE_BYTE)
    for kind in range(0, 0x80, 0x10):
        found = kind_bytes.count(kind.to_bytes(1, "big"))
        if found:
            kinds[kind] = kinds.get(kind, 0) + found
