"""The hot path of `pages verify`: find the pages of a chunk that are not plainly valid, with C-level operations.

For a chunk of consecutive uncompressed pages in one buffer, the header and trailer words of every page are
gathered with strided memoryview casts (one C call each) and the CRC-32C of every page is computed by `map()`
over precomputed slice objects (no Python bytecode runs per page: slicing, the CRC calls and the xor of the two
ranges of a crc32 page all happen in C). Whole arrays are then compared at once. Only the pages where something
differs (empty, damaged, other checksum algorithms, page_compressed or encrypted pages) go to the per-page checks
of checksum.py, which decide their status. Words are compared in host order, so this needs a little-endian host
(callers fall back to the per-page checks elsewhere).

Every page's checksum is computed, whatever the others hold: nothing is sampled or aggregated across pages.
"""

from __future__ import annotations

import sys
from array import array
from functools import lru_cache
from operator import xor

from mysqlinspect.crc import crc32c

AVAILABLE = sys.byteorder == "little"


@lru_cache(maxsize=64)
def _ranges(n: int, ps: int, first: int, last: int) -> tuple[slice, ...]:
    """slice(o + first, o + ps - last) for the n pages of a chunk (built once per chunk size)."""
    return tuple(slice(o + first, o + ps - last) for o in range(0, n * ps, ps))


def classic_crcs(view: memoryview, n: int, ps: int) -> list[int]:
    """buf_calc_page_crc32() of each of the n pages (CRC-32C of [4,26) xor CRC-32C of [38, ps-8)), as the
    little-endian reading of the big-endian bytes the page stores (comparable with the words of `view`)."""
    part = view.__getitem__
    heads = map(crc32c, map(part, _ranges(n, ps, 4, ps - 26)))
    bodies = map(crc32c, map(part, _ranges(n, ps, 38, 8)))
    crcs = array("I", map(xor, heads, bodies))
    crcs.byteswap()
    return crcs.tolist()


def full_crc32_crcs(view: memoryview, n: int, ps: int) -> list[int]:
    """CRC-32C of [0, ps-4) of each of the n pages, byte-swapped as in classic_crcs()."""
    crcs = array("I", map(crc32c, map(view.__getitem__, _ranges(n, ps, 0, 4))))
    crcs.byteswap()
    return crcs.tolist()


def _expected_ids(first_page: int, n: int, space_id: int | None) -> tuple[list[int], int | None]:
    expected = array("I", range(first_page, first_page + n))
    expected.byteswap()
    if space_id is None:
        return expected.tolist(), None
    want = array("I", [space_id])
    want.byteswap()
    return expected.tolist(), want[0]


def classic_suspects(view: memoryview, n: int, ps: int, first_page: int, space_id: int | None) -> list[int]:
    """Indices of pages that are not crc32-valid with matching LSN halves, page number and space id."""
    q = ps // 4
    words = view[:n * ps].cast("I")
    f1, f2 = words[0::q].tolist(), words[q - 2::q].tolist()
    lsn_head, lsn_tail = words[5::q].tolist(), words[q - 1::q].tolist()
    page_nos = words[1::q].tolist()
    spaces = view[2:n * ps - 2].cast("I")[8::q].tolist()  # offset 34 = 2 + 4 * 8
    crc = classic_crcs(view, n, ps)
    expected, want_space = _expected_ids(first_page, n, space_id)
    if (crc == f1 == f2 and lsn_head == lsn_tail and page_nos == expected
            and (want_space is None or spaces.count(want_space) == n)):
        return []
    return [i for i in range(n) if crc[i] != f1[i] or f1[i] != f2[i] or lsn_head[i] != lsn_tail[i]
            or page_nos[i] != expected[i] or (want_space is not None and spaces[i] != want_space)]


def full_crc32_suspects(view: memoryview, n: int, ps: int, first_page: int, space_id: int | None) -> list[int]:
    """Indices of pages that are not plain full_crc32-valid (uncompressed, key version 0, LSN halves, ids)."""
    q = ps // 4
    words = view[:n * ps].cast("I")
    key_versions, stored = words[0::q].tolist(), words[q - 1::q].tolist()
    lsn_head, lsn_tail = words[5::q].tolist(), words[q - 2::q].tolist()
    type_words = words[6::q].tolist()  # byte 24 (high byte of FIL_PAGE_TYPE) is the low byte here
    page_nos = words[1::q].tolist()
    spaces = view[2:n * ps - 2].cast("I")[8::q].tolist()
    crc = full_crc32_crcs(view, n, ps)
    expected, want_space = _expected_ids(first_page, n, space_id)
    if (crc == stored and lsn_head == lsn_tail and page_nos == expected and key_versions.count(0) == n
            and not any(t & 0x80 for t in type_words) and (want_space is None or spaces.count(want_space) == n)):
        return []
    return [i for i in range(n) if crc[i] != stored[i] or lsn_head[i] != lsn_tail[i] or key_versions[i]
            or type_words[i] & 0x80 or page_nos[i] != expected[i]
            or (want_space is not None and spaces[i] != want_space)]
