"""An index B-tree's pages in key order (`page0page.h`, `btr0btr.h`): down the leftmost edge to the leaf level, then
along the leaves by FIL_PAGE_NEXT. The record format (COMPACT or REDUNDANT) is the caller's: it gives the page of a
number (checked as it expects) and the child page of a non-leaf page's first record."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator

from mysqlinspect.errors import DataError
from mysqlinspect.innodb.pages import layout as L

PAGE_LEVEL = L.FIL_PAGE_DATA + 26  # PAGE_HEADER + PAGE_LEVEL: 0 on leaf pages
FIL_NULL = 0xFFFFFFFF
MAX_LEVELS = 64  # a B-tree is never this deep: a loop in damaged pages stops here

PageAt = Callable[[int], memoryview]


def leaf_pages(page_at: PageAt, root: int, first_child: Callable[[memoryview], int], what: str
               ) -> Iterator[memoryview]:
    """The leaf pages of the index rooted at `root`, in key order (each page once, even in a damaged chain)."""
    page_no = _leftmost_leaf(page_at, root, first_child, what)
    seen: set[int] = set()
    while page_no != FIL_NULL and page_no not in seen:
        seen.add(page_no)
        page = page_at(page_no)
        yield page
        page_no = struct.unpack_from(">I", page, L.FIL_PAGE_NEXT)[0]


def _leftmost_leaf(page_at: PageAt, page_no: int, first_child: Callable[[memoryview], int], what: str) -> int:
    for _ in range(MAX_LEVELS):
        page = page_at(page_no)
        if struct.unpack_from(">H", page, PAGE_LEVEL)[0] == 0:
            return page_no
        page_no = first_child(page)
    raise DataError(f"{what}: the index is deeper than {MAX_LEVELS} levels (damaged pages)")
