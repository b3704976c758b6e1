"""Apply MariaDB 10.8+ redo records to pages in memory, for an offline view of the pages as recovery leaves them.

Only the records that build undo log and system pages are applied: INIT_PAGE, FREE_PAGE, WRITE, MEMSET, MEMMOVE
and the EXTENDED subtypes UNDO_INIT and UNDO_APPEND (MariaDB `log_phys_t::apply()`, `trx_undo_page_init()`,
`mtr_t::undo_append()`). A page that gets an index-page record (EXTENDED row-format inserts and deletes) is marked
unknown and not used. A record applies to a page when its mini-transaction ends after the page's LSN on disk, or
after the page was initialised by the log. Nothing is written to any file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mysqlinspect.redo import layout as L
from mysqlinspect.redo.mariadb.walk import MtrRing, _varint, parse_mtr

FREE_PAGE, INIT_PAGE, EXTENDED, WRITE, MEMSET, MEMMOVE, OPTION = 0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x70
UNDO_INIT, UNDO_APPEND = 2, 3
FIL_PAGE_TYPE = 24
FIL_PAGE_UNDO_LOG = 2
UNDO_PAGE_HDR, UNDO_PAGE_HDR_SIZE, UNDO_SEG_HDR_END = 38, 18, 56 + 30
UNDO_PAGE_FREE = UNDO_PAGE_HDR + 4


@dataclass
class PageImage:
    data: bytearray
    base_lsn: int  # FIL_PAGE_LSN of the page on disk (0 when it is not on disk)
    forced: bool = False  # initialised by the log: every later record applies
    unknown: bool = False  # an index-page record touched it: not rebuilt here
    freed: bool = False
    applied: int = 0


@dataclass
class PageOverlay:
    """Pages changed by the log, by (space id, page number)."""

    pages: dict[tuple[int, int], PageImage] = field(default_factory=dict)
    records_applied: int = 0
    mtrs: int = 0
    # every page a record of the walk names, in any tablespace; those recovery does not read from their file:
    # MariaDB's initialised or freed by a record, MySQL's whose first record initialises them (brand new)
    touched: set[tuple[int, int]] = field(default_factory=set)
    initialised: set[tuple[int, int]] = field(default_factory=set)

    @property
    def read_by_recovery(self) -> set[tuple[int, int]]:
        """The pages recovery reads from their files to apply the log to them."""
        return self.touched - self.initialised

    def image(self, space_id: int, page_no: int) -> bytes | None:
        img = self.pages.get((space_id, page_no))
        if img is None or img.unknown or img.freed or not img.applied:
            return None
        return bytes(img.data)

    def load(self, space_id: int, page_no: int, page_size: int,
             read_page: Callable[[int, int], bytes | None]) -> PageImage:
        """The page's image: as the log left it, else as on disk (all zero when it is not on disk)."""
        key = (space_id, page_no)
        img = self.pages.get(key)
        if img is None:
            disk = read_page(space_id, page_no)
            if disk is None or len(disk) != page_size:
                img = PageImage(bytearray(page_size), 0)
            else:
                img = PageImage(bytearray(disk), int.from_bytes(disk[16:24], "big"))
            self.pages[key] = img
        return img

    @property
    def pages_rebuilt(self) -> int:
        return sum(1 for p in self.pages.values() if p.applied and not p.unknown and not p.freed)


def _init_page(img: PageImage, space_id: int, page_no: int) -> None:
    img.data[:] = bytes(len(img.data))
    img.data[4:8] = page_no.to_bytes(4, "big")
    img.data[8:16] = b"\xff" * 8
    img.data[34:38] = space_id.to_bytes(4, "big")
    img.forced, img.unknown, img.freed = True, False, False


def _undo_page_init(page: bytearray) -> None:
    ps = len(page)
    page[FIL_PAGE_TYPE:FIL_PAGE_TYPE + 2] = FIL_PAGE_UNDO_LOG.to_bytes(2, "big")
    start = (UNDO_PAGE_HDR + UNDO_PAGE_HDR_SIZE).to_bytes(2, "big")
    page[UNDO_PAGE_HDR:UNDO_PAGE_HDR + 6] = b"\0\0" + start + start
    page[UNDO_PAGE_HDR + 6:UNDO_PAGE_HDR + 18] = b"\xff" * 4 + b"\0\0" + b"\xff" * 4 + b"\0\0"
    page[UNDO_SEG_HDR_END:ps - 8] = bytes(ps - 8 - UNDO_SEG_HDR_END)


def undo_append(page: bytearray, data: bytes) -> bool:
    free = int.from_bytes(page[UNDO_PAGE_FREE:UNDO_PAGE_FREE + 2], "big")
    n = len(data)
    if free < UNDO_PAGE_HDR + UNDO_PAGE_HDR_SIZE or free + n + 6 >= len(page) - 8:
        return False
    new_free = (free + 4 + n).to_bytes(2, "big")
    page[UNDO_PAGE_FREE:UNDO_PAGE_FREE + 2] = new_free
    page[free:free + 2] = new_free
    page[free + 2:free + 2 + n] = data
    page[free + 2 + n:free + 4 + n] = free.to_bytes(2, "big")
    return True


class PageApplier:
    def __init__(self, page_size: int, wanted: Callable[[int], bool],
                 read_page: Callable[[int, int], bytes | None]) -> None:
        self.page_size = page_size
        self.wanted = wanted
        self.read_page = read_page
        self.overlay = PageOverlay()

    def _image(self, space_id: int, page_no: int) -> PageImage:
        return self.overlay.load(space_id, page_no, self.page_size, self.read_page)

    def mtr(self, buf: bytes | bytearray, offsets: list[int], end_lsn: int) -> None:
        got_page_op = False
        page: tuple[int, int] | None = None
        last_offset = 0
        for p in offsets:
            b = buf[p]
            q = p + 1
            rlen = b & 0x0F
            if rlen == 0:
                v, ll = _varint(buf, q)
                rlen, q = v + 15 - ll, q + ll
            body = bytes(buf[q:q + rlen])
            if b & 0x80 and not got_page_op:
                continue  # a file-level record
            if not b & 0x80:
                space_id, n1 = _varint(body, 0)
                page_no, n2 = _varint(body, n1)
                body = body[n1 + n2:]
                page, last_offset, got_page_op = (space_id, page_no), 0, True
                self.overlay.touched.add(page)
                if b & 0x70 in (INIT_PAGE, FREE_PAGE):
                    self.overlay.initialised.add(page)
            if page is None or not self.wanted(page[0]):
                continue
            img = self._image(*page)
            kind = b & 0x70
            if kind == INIT_PAGE:
                _init_page(img, *page)
                img.applied += 1
                last_offset = FIL_PAGE_TYPE
                continue
            if not (img.forced or end_lsn > img.base_lsn):
                last_offset = self._skip_offset(kind, body, last_offset)
                continue
            last_offset = self._apply(img, kind, body, last_offset)

    def _skip_offset(self, kind: int, body: bytes, last_offset: int) -> int:
        if kind in (WRITE, MEMSET, MEMMOVE):
            off, n = _varint(body, 0)
            last_offset += off
            if kind == WRITE:
                return last_offset + len(body) - n
            length, _ = _varint(body, n)
            return last_offset + length
        return FIL_PAGE_TYPE if kind == EXTENDED else 1 if kind == FREE_PAGE else last_offset

    def _apply(self, img: PageImage, kind: int, body: bytes, last_offset: int) -> int:
        page = img.data
        if kind == FREE_PAGE:
            img.freed = True
            return 1
        if kind == OPTION:
            return last_offset
        if kind == EXTENDED:
            if body and body[0] == UNDO_INIT:
                _undo_page_init(page)
            elif not (body and body[0] == UNDO_APPEND and undo_append(page, body[1:])):
                img.unknown = True
            img.applied += 1
            self.overlay.records_applied += 1
            return FIL_PAGE_TYPE
        off, n = _varint(body, 0)
        last_offset += off
        rest = body[n:]
        if kind == WRITE:
            page[last_offset:last_offset + len(rest)] = rest
            length = len(rest)
        else:
            length, n2 = _varint(rest, 0)
            rest = rest[n2:]
            if kind == MEMSET:
                fill = (rest * (length // max(len(rest), 1) + 1))[:length]
                page[last_offset:last_offset + length] = fill
            else:
                s, _ = _varint(rest, 0)
                src = last_offset - (s >> 1) - 1 if s & 1 else last_offset + (s >> 1) + 1
                page[last_offset:last_offset + length] = page[src:src + length]
        img.applied += 1
        self.overlay.records_applied += 1
        return last_offset + length


def apply_mariadb_redo(redo_file: Path, header_start_lsn: int, encrypted: bool, start_lsn: int, end_lsn: int,
                       page_size: int, wanted: Callable[[int], bool],
                       read_page: Callable[[int, int], bytes | None]) -> PageOverlay:
    """Apply the mini-transactions from `start_lsn` (the checkpoint) to `end_lsn` of a MariaDB 10.8+ log."""
    with open(redo_file, "rb") as fh:
        ring = MtrRing.from_file(fh, L.MDB_START_OFFSET, header_start_lsn, encrypted)
    applier = PageApplier(page_size, wanted, read_page)
    lsn = start_lsn
    while lsn < end_lsn:
        mtr, _why = parse_mtr(ring, lsn)
        if mtr is None:
            break
        applier.mtr(ring.buf, mtr.record_offsets, mtr.end_lsn)
        applier.overlay.mtrs += 1
        lsn = mtr.end_lsn
    return applier.overlay
