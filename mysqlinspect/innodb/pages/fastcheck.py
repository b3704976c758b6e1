"""The hot path of `pages verify`: find the pages of a chunk that are not plainly valid, with C-level operations.

`SUSPECTS` maps each format to the function used: the C extension `_pagecheck` (_pagecheck.c: one call per
chunk, the CRC-32C of three pages at a time with the SSE4.2 crc32 instruction) when it was built and the CPU has
the instruction, else the pure-Python functions below, which flag exactly the same pages.

In the pure-Python path, for a chunk of consecutive uncompressed pages in one buffer, the header and trailer words
of every page are gathered with strided memoryview casts (one C call each) and the CRC-32C of every page is
computed by `map()` over precomputed slice objects (no Python bytecode runs per page: slicing, the CRC calls and
the xor of the two ranges of a crc32 page all happen in C). Whole byte strings are then compared at once.

Either way, only the pages where something differs (empty, damaged, other checksum algorithms, page_compressed or
encrypted pages) go to the per-page checks of checksum.py, which decide their status. Fields are compared as the
raw big-endian bytes the pages hold, the computed checksums turned into the same bytes.

Every page's checksum is computed, whatever the others hold: nothing is sampled or aggregated across pages.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Callable
from functools import lru_cache
from operator import xor

from mysqlinspect.crc import crc32c, pagecheck

AVAILABLE = True  # any byte order: fields are compared as stored bytes
NATIVE = pagecheck is not None  # the extension is built and the CPU has SSE4.2
Suspects = Callable[[memoryview, int, int, int, "int | None"], list[int]]


@lru_cache(maxsize=64)
def _ranges(n: int, ps: int, first: int, last: int) -> tuple[slice, ...]:
    """slice(o + first, o + ps - last) for the n pages of a chunk (built once per chunk size)."""
    return tuple(slice(o + first, o + ps - last) for o in range(0, n * ps, ps))


def _big_endian(values: array[int]) -> bytes:
    if sys.byteorder == "little":
        values.byteswap()
    return values.tobytes()


def classic_crcs(view: memoryview, n: int, ps: int) -> bytes:
    """buf_calc_page_crc32() of each of the n pages (CRC-32C of [4,26) xor CRC-32C of [38, ps-8)), as the 4n
    big-endian bytes the pages store them as."""
    part = view.__getitem__
    heads = map(crc32c, map(part, _ranges(n, ps, 4, ps - 26)))
    bodies = map(crc32c, map(part, _ranges(n, ps, 38, 8)))
    return _big_endian(array("I", map(xor, heads, bodies)))


def full_crc32_crcs(view: memoryview, n: int, ps: int) -> bytes:
    """CRC-32C of [0, ps-4) of each of the n pages, as 4n big-endian bytes."""
    return _big_endian(array("I", map(crc32c, map(view.__getitem__, _ranges(n, ps, 0, 4)))))


class _Fields:
    """The same 4-byte field of every page of a chunk, gathered as raw bytes by strided casts (one C call per
    field); compared as whole byte strings, decoded to numbers only when something differs."""

    def __init__(self, view: memoryview, n: int, ps: int) -> None:
        self.n, self.ps = n, ps
        self._words = view[:n * ps].cast("I")
        self._shifted = view[2:n * ps - 2].cast("I")  # for fields at offsets 2 mod 4 (space id @34)

    def at(self, offset: int) -> bytes:
        q = self.ps // 4
        if offset % 4 == 0:
            return self._words[offset // 4::q].tobytes()
        return self._shifted[(offset - 2) // 4::q].tobytes()


def _numbers(raw: bytes) -> list[int]:
    values = array("I")
    values.frombytes(raw)
    if sys.byteorder == "little":
        values.byteswap()
    return values.tolist()


def _page_numbers(first_page: int, n: int) -> bytes:
    return _big_endian(array("I", range(first_page, first_page + n)))


def classic_suspects(view: memoryview, n: int, ps: int, first_page: int, space_id: int | None) -> list[int]:
    """Indices of pages that are not crc32-valid with matching LSN halves, page number and space id."""
    fields = _Fields(view, n, ps)
    f1, f2 = fields.at(0), fields.at(ps - 8)
    lsn_head, lsn_tail = fields.at(20), fields.at(ps - 4)
    page_nos, expected = fields.at(4), _page_numbers(first_page, n)
    spaces = fields.at(34) if space_id is not None else b""
    want_spaces = space_id.to_bytes(4, "big") * n if space_id is not None else b""
    crc = classic_crcs(view, n, ps)
    if crc == f1 == f2 and lsn_head == lsn_tail and page_nos == expected and spaces == want_spaces:
        return []
    c, a, b = _numbers(crc), _numbers(f1), _numbers(f2)
    lh, lt, no, ex = _numbers(lsn_head), _numbers(lsn_tail), _numbers(page_nos), _numbers(expected)
    sp = _numbers(spaces)
    return [i for i in range(n) if c[i] != a[i] or a[i] != b[i] or lh[i] != lt[i] or no[i] != ex[i]
            or (space_id is not None and sp[i] != space_id)]


def full_crc32_suspects(view: memoryview, n: int, ps: int, first_page: int, space_id: int | None) -> list[int]:
    """Indices of pages that are not plain full_crc32-valid (uncompressed, key version 0, LSN halves, ids)."""
    fields = _Fields(view, n, ps)
    key_versions, stored = fields.at(0), fields.at(ps - 4)
    lsn_head, lsn_tail = fields.at(20), fields.at(ps - 8)
    type_high = view[24:n * ps:ps].tobytes()  # high byte of FIL_PAGE_TYPE: bit 7 marks page_compressed
    page_nos, expected = fields.at(4), _page_numbers(first_page, n)
    spaces = fields.at(34) if space_id is not None else b""
    want_spaces = space_id.to_bytes(4, "big") * n if space_id is not None else b""
    crc = full_crc32_crcs(view, n, ps)
    if (crc == stored and lsn_head == lsn_tail and page_nos == expected and key_versions == bytes(4 * n)
            and max(type_high) < 0x80 and spaces == want_spaces):
        return []
    c, st, kv = _numbers(crc), _numbers(stored), _numbers(key_versions)
    lh, lt, no, ex = _numbers(lsn_head), _numbers(lsn_tail), _numbers(page_nos), _numbers(expected)
    sp = _numbers(spaces)
    return [i for i in range(n) if c[i] != st[i] or lh[i] != lt[i] or kv[i] or type_high[i] & 0x80
            or no[i] != ex[i] or (space_id is not None and sp[i] != space_id)]


def native_classic_suspects(view: memoryview, n: int, ps: int, first_page: int, space_id: int | None) -> list[int]:
    """classic_suspects() in one C call (needs NATIVE)."""
    assert pagecheck is not None
    return pagecheck.suspects(view, n, ps, first_page, -1 if space_id is None else space_id, False)


def native_full_crc32_suspects(view: memoryview, n: int, ps: int, first_page: int,
                               space_id: int | None) -> list[int]:
    """full_crc32_suspects() in one C call (needs NATIVE)."""
    assert pagecheck is not None
    return pagecheck.suspects(view, n, ps, first_page, -1 if space_id is None else space_id, True)


PYTHON_SUSPECTS: dict[str, Suspects] = {"crc32": classic_suspects, "full_crc32": full_crc32_suspects}
NATIVE_SUSPECTS: dict[str, Suspects] = {"crc32": native_classic_suspects, "full_crc32": native_full_crc32_suspects}
SUSPECTS = NATIVE_SUSPECTS if NATIVE else PYTHON_SUSPECTS
