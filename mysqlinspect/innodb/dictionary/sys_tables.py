"""MariaDB (and MySQL before 8.0) InnoDB table names from the internal dictionary in the system tablespace.

Page 7 of ibdata1 is the dictionary header (`dict0boot.h`: DICT_HDR = 38; the root of SYS_TABLES' unique
secondary index on ID, `DICT_HDR_TABLE_IDS`, at +36). That index (ID_IND) holds one REDUNDANT-format record per
table: ID (8 bytes, big-endian), NAME (`db/table`, the server's file-name encoding). Non-leaf records end with the
child page number. Record layout from `rem0rec.h` (old-style records: 6 extra bytes, field end offsets of 1 or 2
bytes stored backwards before them), page layout from `page0page.h` (PAGE_OLD_INFIMUM = 101).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from mysqlinspect.errors import MysqlInspectError
from mysqlinspect.innodb.pages import layout as L
from mysqlinspect.innodb.pages.btree import leaf_pages
from mysqlinspect.innodb.pages.reader import TablespaceFile

DICT_HDR_PAGE_NO = 7
DICT_HDR = L.FIL_PAGE_DATA
DICT_HDR_TABLE_IDS = DICT_HDR + 36
FIL_PAGE_INDEX = 17855
PAGE_HEADER = L.FIL_PAGE_DATA
PAGE_N_HEAP = PAGE_HEADER + 4
PAGE_OLD_INFIMUM = PAGE_HEADER + 36 + 2 * 10 + 1 + 6  # PAGE_DATA + 1 + REC_N_OLD_EXTRA_BYTES = 101
PAGE_OLD_SUPREMUM = PAGE_HEADER + 36 + 2 * 10 + 2 + 2 * 6 + 8  # 116
REC_N_OLD_EXTRA_BYTES = 6
REC_OLD_INFO_BITS = 6  # info bits in the high nibble
REC_INFO_DELETED_FLAG = 0x20
REC_OLD_N_FIELDS = 4  # u16: n_fields << 1 | 1-byte-offsets flag
REC_NEXT = 2  # u16: absolute offset of the next record in old-style pages
REC_1BYTE_SQL_NULL_MASK = 0x80
REC_2BYTE_SQL_NULL_MASK = 0x8000
REC_2BYTE_EXTERN_MASK = 0x4000


class DictionaryError(MysqlInspectError):
    """Dictionary pages that cannot be read as the server writes them."""


def table_ids_from_dictionary(system: TablespaceFile) -> dict[int, str]:
    """InnoDB table id -> `db.table` from SYS_TABLES' ID index (records marked deleted left out)."""
    root = struct.unpack_from(">I", system.page(DICT_HDR_PAGE_NO), DICT_HDR_TABLE_IDS)[0]
    out: dict[int, str] = {}
    for fields in _leaf_records(system, root):
        if len(fields) >= 2 and fields[0] is not None and len(fields[0]) == 8 and fields[1] is not None:
            name = fields[1].decode("utf-8", "replace")
            out[int.from_bytes(fields[0], "big")] = name.replace("/", ".", 1)
    return out


def _leaf_records(ts: TablespaceFile, root: int) -> Iterator[list[bytes | None]]:
    def first_child(page: memoryview) -> int:
        child = _fields(page, _next(page, PAGE_OLD_INFIMUM))[-1]
        if child is None or len(child) != 4:
            raise DictionaryError(f"{ts.path}: a node pointer without a child page number")
        return int.from_bytes(child, "big")

    for page in leaf_pages(lambda n: _index_page(ts, n), root, first_child, f"{ts.path}: SYS_TABLES"):
        rec = _next(page, PAGE_OLD_INFIMUM)
        for _ in range(len(page)):  # never more records than bytes: a loop in damaged pages stops
            if rec == PAGE_OLD_SUPREMUM:
                break
            if not page[rec - REC_OLD_INFO_BITS] & REC_INFO_DELETED_FLAG:
                yield _fields(page, rec)
            rec = _next(page, rec)


def _index_page(ts: TablespaceFile, page_no: int) -> memoryview:
    page = ts.page(page_no)
    page_type = struct.unpack_from(">H", page, L.FIL_PAGE_TYPE)[0]
    if page_type != FIL_PAGE_INDEX or struct.unpack_from(">H", page, PAGE_N_HEAP)[0] & 0x8000:
        raise DictionaryError(f"{ts.path}: page {page_no} is not a REDUNDANT index page of the dictionary"
                              f" (type {page_type})")
    return page


def _next(page: memoryview, rec: int) -> int:
    nxt = int(struct.unpack_from(">H", page, rec - REC_NEXT)[0])
    if not PAGE_OLD_INFIMUM <= nxt < len(page) - 8:
        raise DictionaryError(f"a dictionary record points outside its page ({nxt})")
    return nxt


def _fields(page: memoryview, rec: int) -> list[bytes | None]:
    """The fields of an old-style record (None for SQL NULL)."""
    info = struct.unpack_from(">H", page, rec - REC_OLD_N_FIELDS)[0]
    count, one_byte = (info >> 1) & 0x3FF, info & 1
    out: list[bytes | None] = []
    start = 0
    for n in range(count):
        if one_byte:
            raw = page[rec - (REC_N_OLD_EXTRA_BYTES + n + 1)]
            end, null = raw & ~REC_1BYTE_SQL_NULL_MASK, bool(raw & REC_1BYTE_SQL_NULL_MASK)
        else:
            raw = struct.unpack_from(">H", page, rec - (REC_N_OLD_EXTRA_BYTES + 2 * n + 2))[0]
            end = raw & ~(REC_2BYTE_SQL_NULL_MASK | REC_2BYTE_EXTERN_MASK)
            null = bool(raw & REC_2BYTE_SQL_NULL_MASK)
        out.append(None if null else bytes(page[rec + start:rec + end]))
        start = end
    return out
