"""Apply MySQL 8.0.30+ redo records to undo and system pages in memory (the offline undo view after a crash).

The walk (mysql_mtrwalk) gives every record from the checkpoint to the end of the last whole mini-transaction;
those for the wanted tablespaces are applied when the record starts at or after the page's LSN on disk
(recv_recover_page(): `recv->start_lsn >= page_lsn`). Applied: MLOG_1BYTE..8BYTES, MLOG_WRITE_STRING,
MLOG_INIT_FILE_PAGE(2) (fsp_init_file_page_low()), MLOG_UNDO_INIT (trx_undo_page_init()), MLOG_UNDO_INSERT
(trx_undo_parse_add_undo_rec()), MLOG_UNDO_ERASE_END (trx_undo_erase_page_end()), MLOG_UNDO_HDR_CREATE
(trx_undo_header_create()) and MLOG_UNDO_HDR_REUSE (trx_undo_insert_header_reuse()). A page that gets any other
page record (B-tree, change buffer) is marked unknown and not used. Nothing is written to any file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mysqlinspect.innodb.undo import layout as U
from mysqlinspect.redo.blockwalk import BlockLayout
from mysqlinspect.redo.mariadb.apply import PageImage, PageOverlay, undo_append
from mysqlinspect.redo.mysql.mach import mach_parse_compressed, mach_u64_parse_compressed
from mysqlinspect.redo.mysql.records import (
    FILE_RECORDS,
    MLOG_1BYTE,
    MLOG_2BYTES,
    MLOG_4BYTES,
    MLOG_8BYTES,
    MLOG_INDEX_LOAD,
    MLOG_INIT_FILE_PAGE,
    MLOG_INIT_FILE_PAGE2,
    MLOG_UNDO_ERASE_END,
    MLOG_UNDO_HDR_CREATE,
    MLOG_UNDO_HDR_REUSE,
    MLOG_UNDO_INIT,
    MLOG_UNDO_INSERT,
    MLOG_WRITE_STRING,
    MysqlRecord,
)
from mysqlinspect.redo.mysql.stream import BlockSource, LogStream
from mysqlinspect.redo.mysql.walk import MysqlWalkResult, walk_mysql_mtrs

FIL_PAGE_OFFSET, FIL_PAGE_SPACE_ID, FIL_PAGE_TYPE, FIL_PAGE_DATA_END = 4, 34, 24, 8
PAGE_FREE = U.TRX_UNDO_PAGE_HDR + U.TRX_UNDO_PAGE_FREE
PAGE_START = U.TRX_UNDO_PAGE_HDR + U.TRX_UNDO_PAGE_START
SEG_STATE = U.TRX_UNDO_SEG_HDR + U.TRX_UNDO_STATE
SEG_LAST_LOG = U.TRX_UNDO_SEG_HDR + U.TRX_UNDO_LAST_LOG


class OutsidePage(Exception):
    """A record writes past the end of the page (the server calls such a log corrupt)."""


def _w(page: bytearray, at: int, value: int, width: int) -> None:
    _put(page, at, value.to_bytes(width, "big"))


def _put(page: bytearray, at: int, data: bytes) -> None:
    if at + len(data) > len(page):
        raise OutsidePage
    page[at:at + len(data)] = data


def _r2(page: bytearray, at: int) -> int:
    return int.from_bytes(page[at:at + 2], "big")


def init_file_page(page: bytearray, space_id: int, page_no: int) -> None:
    """fsp_init_file_page_low(): a zeroed page with its number and space id."""
    page[:] = bytes(len(page))
    _w(page, FIL_PAGE_OFFSET, page_no, 4)
    _w(page, FIL_PAGE_SPACE_ID, space_id, 4)


def undo_page_init(page: bytearray, undo_type: int) -> None:
    """trx_undo_page_init()."""
    first = U.TRX_UNDO_PAGE_HDR + U.TRX_UNDO_PAGE_HDR_SIZE
    _w(page, U.TRX_UNDO_PAGE_HDR + U.TRX_UNDO_PAGE_TYPE, undo_type, 2)
    _w(page, PAGE_START, first, 2)
    _w(page, PAGE_FREE, first, 2)
    _w(page, FIL_PAGE_TYPE, U.FIL_PAGE_UNDO_LOG, 2)


def undo_header_create(page: bytearray, trx_id: int) -> None:
    """trx_undo_header_create(): a new undo log header at the page's free offset."""
    free = _r2(page, PAGE_FREE)
    new_free = free + U.TRX_UNDO_LOG_OLD_HDR_SIZE
    _w(page, PAGE_START, new_free, 2)
    _w(page, PAGE_FREE, new_free, 2)
    _w(page, SEG_STATE, U.TRX_UNDO_ACTIVE, 2)
    prev_log = _r2(page, SEG_LAST_LOG)
    if prev_log:
        _w(page, prev_log + U.TRX_UNDO_NEXT_LOG, free, 2)
    _w(page, SEG_LAST_LOG, free, 2)
    _w(page, free + U.TRX_UNDO_DEL_MARKS, 1, 2)
    _w(page, free + U.TRX_UNDO_TRX_ID, trx_id, 8)
    _w(page, free + U.TRX_UNDO_LOG_START, new_free, 2)
    _w(page, free + U.TRX_UNDO_FLAGS, 0, 1)
    _w(page, free + U.TRX_UNDO_DICT_TRANS, 0, 1)
    _w(page, free + U.TRX_UNDO_NEXT_LOG, 0, 2)
    _w(page, free + U.TRX_UNDO_PREV_LOG, prev_log, 2)


def undo_header_reuse(page: bytearray, trx_id: int) -> None:
    """trx_undo_insert_header_reuse(): the header right after the segment header, all space freed."""
    free = U.TRX_UNDO_SEG_HDR + U.TRX_UNDO_SEG_HDR_SIZE
    new_free = free + U.TRX_UNDO_LOG_OLD_HDR_SIZE
    _w(page, PAGE_START, new_free, 2)
    _w(page, PAGE_FREE, new_free, 2)
    _w(page, SEG_STATE, U.TRX_UNDO_ACTIVE, 2)
    _w(page, free + U.TRX_UNDO_TRX_ID, trx_id, 8)
    _w(page, free + U.TRX_UNDO_LOG_START, new_free, 2)
    _w(page, free + U.TRX_UNDO_FLAGS, 0, 1)
    _w(page, free + U.TRX_UNDO_DICT_TRANS, 0, 1)


def undo_erase_page_end(page: bytearray) -> None:
    """trx_undo_erase_page_end(): 0xFF from the free offset to the page trailer."""
    free = _r2(page, PAGE_FREE)
    end = len(page) - FIL_PAGE_DATA_END
    if free < end:
        page[free:end] = b"\xff" * (end - free)


class MysqlPageApplier:
    def __init__(self, page_size: int, wanted: Callable[[int], bool],
                 read_page: Callable[[int, int], bytes | None]) -> None:
        self.page_size, self.wanted, self.read_page = page_size, wanted, read_page
        self.overlay = PageOverlay()

    def _image(self, space_id: int, page_no: int) -> PageImage:
        return self.overlay.load(space_id, page_no, self.page_size, self.read_page)

    def visit(self, data: bytes, rec: MysqlRecord, start_lsn: int, _mtr_end_lsn: int) -> None:
        if rec.space_id is None or rec.page_no is None or rec.type in FILE_RECORDS or rec.type == MLOG_INDEX_LOAD:
            return
        key = (rec.space_id, rec.page_no)
        if key not in self.overlay.touched and rec.type in (MLOG_INIT_FILE_PAGE, MLOG_INIT_FILE_PAGE2):
            self.overlay.initialised.add(key)  # recv_page_is_brand_new(): its first record initialises it
        self.overlay.touched.add(key)
        if not self.wanted(rec.space_id):
            return
        img = self._image(rec.space_id, rec.page_no)
        if start_lsn < img.base_lsn:
            return
        try:
            self._apply(img, data, rec)
        except OutsidePage:
            img.unknown = True
        img.applied += 1
        self.overlay.records_applied += 1

    def _apply(self, img: PageImage, data: bytes, rec: MysqlRecord) -> None:
        page, p, kind = img.data, rec.body, rec.type
        if kind in (MLOG_INIT_FILE_PAGE, MLOG_INIT_FILE_PAGE2):
            init_file_page(page, rec.space_id or 0, rec.page_no or 0)
            img.unknown = img.freed = False
        elif kind in (MLOG_1BYTE, MLOG_2BYTES, MLOG_4BYTES, MLOG_8BYTES):
            offset = (data[p] << 8) | data[p + 1]
            parse = mach_u64_parse_compressed if kind == MLOG_8BYTES else mach_parse_compressed
            _w(page, offset, parse(data, p + 2, rec.end)[0], kind)
        elif kind == MLOG_WRITE_STRING:
            offset, length = (data[p] << 8) | data[p + 1], (data[p + 2] << 8) | data[p + 3]
            _put(page, offset, data[p + 4:p + 4 + length])
        elif kind == MLOG_UNDO_INSERT:
            if not undo_append(page, data[p + 2:rec.end]):
                img.unknown = True
        elif kind == MLOG_UNDO_INIT:
            undo_page_init(page, mach_parse_compressed(data, p, rec.end)[0])
        elif kind == MLOG_UNDO_ERASE_END:
            undo_erase_page_end(page)
        elif kind == MLOG_UNDO_HDR_CREATE:
            undo_header_create(page, mach_u64_parse_compressed(data, p, rec.end)[0])
        elif kind == MLOG_UNDO_HDR_REUSE:
            undo_header_reuse(page, mach_u64_parse_compressed(data, p, rec.end)[0])
        else:
            img.unknown = True  # a B-tree, change buffer or compressed-page record: not rebuilt here


@dataclass
class MysqlApplyResult:
    overlay: PageOverlay
    walk: MysqlWalkResult


def apply_mysql_redo(layout: BlockLayout, checkpoint_lsn: int, end_lsn: int, page_size: int,
                     wanted: Callable[[int], bool],
                     read_page: Callable[[int, int], bytes | None]) -> MysqlApplyResult:
    """Apply the whole mini-transactions from the checkpoint to `end_lsn` (the end of the valid log)."""
    source = BlockSource(layout, checkpoint_lsn, end_lsn)
    stream = LogStream(b"", source.first_block_lsn)
    applier = MysqlPageApplier(page_size, wanted, read_page)
    try:
        walk = walk_mysql_mtrs(stream, checkpoint_lsn, applier.visit, source)
    finally:
        source.close()
    applier.overlay.mtrs = walk.mtrs
    return MysqlApplyResult(applier.overlay, walk)
