"""MySQL 8.0.30+ redo log records (mlog_id_t, mtr0types.h): where each one ends, read as recovery reads them.

`parse_record()` follows recv_parse_log_rec() and recv_parse_or_apply_log_rec_body() (log/log0recv.cc) without
applying anything: the type byte (MLOG_SINGLE_REC_FLAG: the record is a whole mini-transaction), the compressed
space id and page number, then the body, one parser per record type below (the server's parse function named
beside it). The pre-8.0.30 `*_8027` types, MLOG_TEST and the debug-only MLOG_LSN are not read: such a record
raises UnsupportedRecord and the walk stops there rather than guess a length.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mysqlinspect.redo.mysql.index import skip_index
from mysqlinspect.redo.mysql.mach import (
    mach_parse_compressed,
    mach_parse_u64_much_compressed,
    mach_u64_parse_compressed,
    need,
    read_2,
)

MLOG_SINGLE_REC_FLAG = 128
MLOG_1BYTE, MLOG_2BYTES, MLOG_4BYTES, MLOG_8BYTES = 1, 2, 4, 8
MLOG_REC_SEC_DELETE_MARK = 11
MLOG_PAGE_CREATE = 19
MLOG_UNDO_INSERT = 20
MLOG_UNDO_ERASE_END = 21
MLOG_UNDO_INIT = 22
MLOG_UNDO_HDR_REUSE = 24
MLOG_UNDO_HDR_CREATE = 25
MLOG_REC_MIN_MARK = 26
MLOG_IBUF_BITMAP_INIT = 27
MLOG_INIT_FILE_PAGE = 29
MLOG_WRITE_STRING = 30
MLOG_MULTI_REC_END = 31
MLOG_DUMMY_RECORD = 32
MLOG_FILE_CREATE = 33
MLOG_FILE_RENAME = 34
MLOG_FILE_DELETE = 35
MLOG_COMP_REC_MIN_MARK = 36
MLOG_COMP_PAGE_CREATE = 37
MLOG_ZIP_WRITE_NODE_PTR = 48
MLOG_ZIP_WRITE_BLOB_PTR = 49
MLOG_ZIP_WRITE_HEADER = 50
MLOG_ZIP_PAGE_COMPRESS = 51
MLOG_PAGE_CREATE_RTREE = 57
MLOG_COMP_PAGE_CREATE_RTREE = 58
MLOG_INIT_FILE_PAGE2 = 59
MLOG_INDEX_LOAD = 61
MLOG_TABLE_DYNAMIC_META = 62
MLOG_PAGE_CREATE_SDI = 63
MLOG_COMP_PAGE_CREATE_SDI = 64
MLOG_FILE_EXTEND = 65
MLOG_TEST = 66
MLOG_REC_INSERT = 67
MLOG_REC_CLUST_DELETE_MARK = 68
MLOG_REC_DELETE = 69
MLOG_REC_UPDATE_IN_PLACE = 70
MLOG_LIST_END_COPY_CREATED = 71
MLOG_PAGE_REORGANIZE = 72
MLOG_ZIP_PAGE_REORGANIZE = 73
MLOG_ZIP_PAGE_COMPRESS_NO_DATA = 74
MLOG_LIST_END_DELETE = 75
MLOG_LIST_START_DELETE = 76

FILE_RECORDS = frozenset({MLOG_FILE_CREATE, MLOG_FILE_RENAME, MLOG_FILE_DELETE, MLOG_FILE_EXTEND})
# dict0dict.h persistent_type_t of MLOG_TABLE_DYNAMIC_META
PM_INDEX_CORRUPTED, PM_TABLE_AUTO_INC = 1, 2
UNIV_SQL_NULL = 0xFFFFFFFF
DATA_ROLL_PTR_LEN = 7
REC_NODE_PTR_SIZE = 4
BTR_EXTERN_FIELD_REF_SIZE = 20


class UnsupportedRecord(Exception):
    """A record type (or variant) this parser does not read: its length is unknown."""


class CorruptRecord(Exception):
    """A record the server would call corrupt (found_corrupt_log)."""


@dataclass(frozen=True, slots=True)
class MysqlRecord:
    type: int
    single: bool  # MLOG_SINGLE_REC_FLAG: a mini-transaction of this one record
    space_id: int | None  # None for records without a page (MLOG_MULTI_REC_END, MLOG_TABLE_DYNAMIC_META, ...)
    page_no: int | None
    start: int  # position of the type byte
    body: int  # position of the body
    end: int  # position after the record


Body = Callable[[bytes, int, int, int], int]


def _nothing(buf: bytes, p: int, end: int, kind: int) -> int:
    return p


def _nbytes(buf: bytes, p: int, end: int, kind: int) -> int:
    """mlog_parse_nbytes(): offset(2), value compressed (MLOG_8BYTES: mach_u64_parse_compressed)."""
    _offset, p = read_2(buf, p, end)
    if kind == MLOG_8BYTES:
        return mach_u64_parse_compressed(buf, p, end)[1]
    value, p = mach_parse_compressed(buf, p, end)
    if (kind == MLOG_1BYTE and value > 0xFF) or (kind == MLOG_2BYTES and value > 0xFFFF):
        raise CorruptRecord(f"MLOG_{kind}BYTE{'S' if kind > 1 else ''} value {value} does not fit")
    return p


def _string(buf: bytes, p: int, end: int, kind: int) -> int:
    """mlog_parse_string(): offset(2), len(2), bytes."""
    p = need(p, 2, end)
    length, p = read_2(buf, p, end)
    return need(p, length, end)


def _undo_insert(buf: bytes, p: int, end: int, kind: int) -> int:
    """trx_undo_parse_add_undo_rec(): len(2), the undo record."""
    length, p = read_2(buf, p, end)
    return need(p, length, end)


def _compressed(buf: bytes, p: int, end: int, kind: int) -> int:
    """trx_undo_parse_page_init(): the undo page type, compressed."""
    return mach_parse_compressed(buf, p, end)[1]


def _u64_compressed(buf: bytes, p: int, end: int, kind: int) -> int:
    """trx_undo_parse_page_header(): the transaction id (mach_u64_parse_compressed)."""
    return mach_u64_parse_compressed(buf, p, end)[1]


def _offset_only(buf: bytes, p: int, end: int, kind: int) -> int:
    """btr_parse_set_min_rec_mark(): the record offset(2)."""
    return need(p, 2, end)


def _sec_delete_mark(buf: bytes, p: int, end: int, kind: int) -> int:
    """btr_cur_parse_del_mark_set_sec_rec(): value(1), offset(2)."""
    return need(p, 3, end)


def _sys_vals(buf: bytes, p: int, end: int) -> int:
    """row_upd_parse_sys_vals(): DB_TRX_ID position (compressed), DB_ROLL_PTR(7), DB_TRX_ID (u64 compressed)."""
    p = mach_parse_compressed(buf, p, end)[1]
    p = need(p, DATA_ROLL_PTR_LEN, end)
    return mach_u64_parse_compressed(buf, p, end)[1]


def _insert(buf: bytes, p: int, end: int, kind: int) -> int:
    """mlog_parse_index() + page_cur_parse_insert_rec(): cursor offset(2), end_seg_len (compressed; bit 0: info
    bits(1), origin offset and mismatch index follow, compressed), then end_seg_len >> 1 bytes."""
    p = need(skip_index(buf, p, end), 2, end)
    seg, p = mach_parse_compressed(buf, p, end)
    if seg & 1:
        p = need(p, 1, end)
        p = mach_parse_compressed(buf, p, end)[1]
        p = mach_parse_compressed(buf, p, end)[1]
    return need(p, seg >> 1, end)


def _clust_delete_mark(buf: bytes, p: int, end: int, kind: int) -> int:
    """mlog_parse_index() + btr_cur_parse_del_mark_set_clust_rec(): flags(1), value(1), sys vals, offset(2)."""
    p = need(skip_index(buf, p, end), 2, end)
    return need(_sys_vals(buf, p, end), 2, end)


def _update_in_place(buf: bytes, p: int, end: int, kind: int) -> int:
    """mlog_parse_index() + btr_cur_parse_update_in_place(): flags(1), sys vals, offset(2), then
    row_upd_index_parse(): info bits(1), n fields (compressed), each field number and length (compressed) and
    the bytes (none for UNIV_SQL_NULL)."""
    p = need(skip_index(buf, p, end), 1, end)
    p = need(_sys_vals(buf, p, end), 3, end)
    n_fields, p = mach_parse_compressed(buf, p, end)
    for _ in range(n_fields):
        p = mach_parse_compressed(buf, p, end)[1]
        length, p = mach_parse_compressed(buf, p, end)
        if length != UNIV_SQL_NULL:
            p = need(p, length, end)
    return p


def _index_offset(buf: bytes, p: int, end: int, kind: int) -> int:
    """mlog_parse_index() + page_cur_parse_delete_rec() / page_parse_delete_rec_list(): offset(2)."""
    return need(skip_index(buf, p, end), 2, end)


def _copy_created(buf: bytes, p: int, end: int, kind: int) -> int:
    """mlog_parse_index() + page_parse_copy_rec_list_to_created_page(): length(4), the records."""
    p = need(skip_index(buf, p, end), 4, end)
    return need(p, int.from_bytes(buf[p - 4:p], "big"), end)


def _index_only(buf: bytes, p: int, end: int, kind: int) -> int:
    """mlog_parse_index() + btr_parse_page_reorganize() of an uncompressed page: nothing more."""
    return skip_index(buf, p, end)


def _index_level(buf: bytes, p: int, end: int, kind: int) -> int:
    """mlog_parse_index() + compression level(1): MLOG_ZIP_PAGE_REORGANIZE, MLOG_ZIP_PAGE_COMPRESS_NO_DATA."""
    return need(skip_index(buf, p, end), 1, end)


def _zip_node_ptr(buf: bytes, p: int, end: int, kind: int) -> int:
    """page_zip_parse_write_node_ptr(): offset(2), z_offset(2), REC_NODE_PTR_SIZE bytes."""
    return need(p, 4 + REC_NODE_PTR_SIZE, end)


def _zip_blob_ptr(buf: bytes, p: int, end: int, kind: int) -> int:
    """page_zip_parse_write_blob_ptr(): offset(2), z_offset(2), BTR_EXTERN_FIELD_REF_SIZE bytes."""
    return need(p, 4 + BTR_EXTERN_FIELD_REF_SIZE, end)


def _zip_header(buf: bytes, p: int, end: int, kind: int) -> int:
    """page_zip_parse_write_header(): offset(1), len(1), bytes."""
    p = need(p, 2, end)
    return need(p, buf[p - 1], end)


def _zip_compress(buf: bytes, p: int, end: int, kind: int) -> int:
    """page_zip_parse_compress(): size(2), trailer size(2), FIL_PAGE_PREV and FIL_PAGE_NEXT(8), size + trailer
    size bytes."""
    size, p = read_2(buf, p, end)
    trailer, p = read_2(buf, p, end)
    return need(p, 8 + size + trailer, end)


def _index_load(buf: bytes, p: int, end: int, kind: int) -> int:
    """MLOG_INDEX_LOAD: 8 bytes."""
    return need(p, 8, end)


def _file_create(buf: bytes, p: int, end: int, kind: int) -> int:
    """fil_tablespace_redo_create(): flags(4), name length(2), name."""
    return _file_name(buf, need(p, 4, end), end, kind)


def _file_name(buf: bytes, p: int, end: int, kind: int) -> int:
    """fil_tablespace_redo_delete(): name length(2), name."""
    length, p = read_2(buf, p, end)
    return need(p, length, end)


def _file_rename(buf: bytes, p: int, end: int, kind: int) -> int:
    """fil_tablespace_redo_rename(): from and to, each a length(2) and a name."""
    return _file_name(buf, _file_name(buf, p, end, kind), end, kind)


def _file_extend(buf: bytes, p: int, end: int, kind: int) -> int:
    """fil_tablespace_redo_extend(): initial offset(8), size(8)."""
    return need(p, 16, end)


BODY: dict[int, Body] = {
    MLOG_1BYTE: _nbytes, MLOG_2BYTES: _nbytes, MLOG_4BYTES: _nbytes, MLOG_8BYTES: _nbytes,
    MLOG_WRITE_STRING: _string,
    MLOG_REC_SEC_DELETE_MARK: _sec_delete_mark,
    MLOG_PAGE_CREATE: _nothing, MLOG_COMP_PAGE_CREATE: _nothing,
    MLOG_PAGE_CREATE_RTREE: _nothing, MLOG_COMP_PAGE_CREATE_RTREE: _nothing,
    MLOG_PAGE_CREATE_SDI: _nothing, MLOG_COMP_PAGE_CREATE_SDI: _nothing,
    MLOG_UNDO_INSERT: _undo_insert, MLOG_UNDO_ERASE_END: _nothing, MLOG_UNDO_INIT: _compressed,
    MLOG_UNDO_HDR_REUSE: _u64_compressed, MLOG_UNDO_HDR_CREATE: _u64_compressed,
    MLOG_REC_MIN_MARK: _offset_only, MLOG_COMP_REC_MIN_MARK: _offset_only,
    MLOG_IBUF_BITMAP_INIT: _nothing, MLOG_INIT_FILE_PAGE: _nothing, MLOG_INIT_FILE_PAGE2: _nothing,
    MLOG_FILE_CREATE: _file_create, MLOG_FILE_RENAME: _file_rename, MLOG_FILE_DELETE: _file_name,
    MLOG_FILE_EXTEND: _file_extend, MLOG_INDEX_LOAD: _index_load,
    MLOG_ZIP_WRITE_NODE_PTR: _zip_node_ptr, MLOG_ZIP_WRITE_BLOB_PTR: _zip_blob_ptr,
    MLOG_ZIP_WRITE_HEADER: _zip_header, MLOG_ZIP_PAGE_COMPRESS: _zip_compress,
    MLOG_ZIP_PAGE_COMPRESS_NO_DATA: _index_level, MLOG_ZIP_PAGE_REORGANIZE: _index_level,
    MLOG_REC_INSERT: _insert, MLOG_REC_CLUST_DELETE_MARK: _clust_delete_mark,
    MLOG_REC_DELETE: _index_offset, MLOG_LIST_END_DELETE: _index_offset, MLOG_LIST_START_DELETE: _index_offset,
    MLOG_REC_UPDATE_IN_PLACE: _update_in_place, MLOG_LIST_END_COPY_CREATED: _copy_created,
    MLOG_PAGE_REORGANIZE: _index_only,
}


def _dynamic_meta(buf: bytes, p: int, end: int) -> int:
    """mlog_parse_initial_dict_log_record() + MetadataRecover::parseMetadataLog(): table id and version (much
    compressed), persister type(1), then the persister's data: PM_TABLE_AUTO_INC a much-compressed counter,
    PM_INDEX_CORRUPTED a count(1) and per index space id(4) and index id(8)."""
    p = mach_parse_u64_much_compressed(buf, p, end)[1]
    p = mach_parse_u64_much_compressed(buf, p, end)[1]
    need(p, 2, end)
    kind, p = buf[p], p + 1
    if kind == PM_TABLE_AUTO_INC:
        return mach_parse_u64_much_compressed(buf, p, end)[1]
    if kind == PM_INDEX_CORRUPTED:
        count, p = buf[p], p + 1
        return need(p, 12 * count, end)
    raise CorruptRecord(f"MLOG_TABLE_DYNAMIC_META of unknown persistent type {kind}")


def parse_record(buf: bytes, p: int, end: int) -> MysqlRecord:
    """The record at `p` (Incomplete when it does not end by `end`)."""
    first = buf[need(p, 1, end) - 1]
    kind, single = first & ~MLOG_SINGLE_REC_FLAG, bool(first & MLOG_SINGLE_REC_FLAG)
    if kind in (MLOG_MULTI_REC_END, MLOG_DUMMY_RECORD):
        if single:
            raise CorruptRecord(f"record type {kind} with MLOG_SINGLE_REC_FLAG")
        return MysqlRecord(kind, False, None, None, p, p + 1, p + 1)
    if kind == MLOG_TABLE_DYNAMIC_META:
        return MysqlRecord(kind, single, None, None, p, p + 1, _dynamic_meta(buf, p + 1, end))
    body = BODY.get(kind)
    if body is None:
        raise UnsupportedRecord(f"record type {kind}")
    need(p + 1, 2, end)
    space_id, q = mach_parse_compressed(buf, p + 1, end)
    page_no, q = mach_parse_compressed(buf, q, end)
    return MysqlRecord(kind, single, space_id, page_no, p, q, body(buf, q, end, kind))
