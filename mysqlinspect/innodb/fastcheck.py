"""The hot path of `pages verify`: find the pages of a chunk that are not plainly valid, with C-level operations.

For a chunk of consecutive uncompressed pages in one buffer, the header and trailer words of every page are
gathered with strided memoryview casts (one C call each), the CRC-32C of every page is computed in one list
comprehension, and whole lists are compared at once. Only the pages where something differs (empty, damaged,
other checksum algorithms, page_compressed or encrypted pages) go to the per-page checks of checksum.py, which
decide their status. Words are compared in host order, so this needs a little-endian host (callers fall back to
the per-page checks elsewhere).
"""

from __future__ import annotations

import sys
from array import array

from crc32c import crc32c

AVAILABLE = sys.byteorder == "little"


def _swapped(values: list[int]) -> list[int]:
    arr = array("I", values)
    arr.byteswap()
    return arr.tolist()


def _ids(view: memoryview, n: int, ps: int, first_page: int, space_id: int | None) -> tuple[list[int], list[int],
                                                                                            list[int], int | None]:
    """(stored page numbers, expected, stored space ids, expected space id), all in host order of BE bytes."""
    q = ps // 4
    words = view[:n * ps].cast("I")
    page_nos = words[1::q].tolist()
    expected = _swapped(list(range(first_page, first_page + n)))
    spaces = view[2:n * ps - 2].cast("I")[8::q].tolist()  # offset 34 = 2 + 4 * 8
    want_space = _swapped([space_id])[0] if space_id is not None else None
    return page_nos, expected, spaces, want_space


def classic_suspects(view: memoryview, n: int, ps: int, first_page: int, space_id: int | None) -> list[int]:
    """Indices of pages that are not crc32-valid with matching LSN halves, page number and space id."""
    q = ps // 4
    words = view[:n * ps].cast("I")
    f1, f2 = words[0::q].tolist(), words[q - 2::q].tolist()
    lsn_head, lsn_tail = words[5::q].tolist(), words[q - 1::q].tolist()
    crc = _swapped([crc32c(view[o + 4:o + 26]) ^ crc32c(view[o + 38:o + ps - 8]) for o in range(0, n * ps, ps)])
    page_nos, expected, spaces, want_space = _ids(view, n, ps, first_page, space_id)
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
    crc = _swapped([crc32c(view[o:o + ps - 4]) for o in range(0, n * ps, ps)])
    page_nos, expected, spaces, want_space = _ids(view, n, ps, first_page, space_id)
    if (crc == stored and lsn_head == lsn_tail and page_nos == expected and key_versions.count(0) == n
            and not any(t & 0x80 for t in type_words) and (want_space is None or spaces.count(want_space) == n)):
        return []
    return [i for i in range(n) if crc[i] != stored[i] or lsn_head[i] != lsn_tail[i] or key_versions[i]
            or type_words[i] & 0x80 or page_nos[i] != expected[i]
            or (want_space is not None and spaces[i] != want_space)]
