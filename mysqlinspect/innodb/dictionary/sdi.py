"""MySQL 8 Serialized Dictionary Information (SDI) read from a tablespace's own pages, as `ibd2sdi` does.

Page 0 names the SDI index root (`fsp_header_get_sdi_offset()`: SDI_VERSION u32, root page u32). The SDI index
is an ordinary compact-format B-tree (FIL_PAGE_SDI) whose clustered records are (type u32, id u64, DB_TRX_ID,
DB_ROLL_PTR, uncompressed_len u32, compressed_len u32, data BLOB): `data` is the zlib-compressed JSON of one
dictionary object (type 1 = table, 2 = tablespace), inline or in FIL_PAGE_SDI_BLOB pages (`dict0sdi`,
`ibd2sdi.cc`, `rem0rec.h`, `page0page.h`, `btr0cur.cc` btr_copy_blob_prefix).

`table_names()` maps InnoDB table ids (the `se_private_id` of each table and partition, the id undo records
carry) to `schema.table` names.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mysqlinspect.errors import MysqlInspectError
from mysqlinspect.innodb.pages import layout as L
from mysqlinspect.innodb.pages.btree import FIL_NULL, leaf_pages
from mysqlinspect.innodb.pages.reader import TablespaceFile

SDI_VERSION = 1
FIL_PAGE_SDI = 17853
FIL_PAGE_SDI_BLOB = 18
PAGE_HEADER = L.FIL_PAGE_DATA
PAGE_N_HEAP = PAGE_HEADER + 4
PAGE_NEW_INFIMUM = PAGE_HEADER + 36 + 2 * 10 + 5  # PAGE_DATA + REC_N_NEW_EXTRA_BYTES = 99
REC_STATUS_SUPREMUM = 3
REC_NEXT = 2  # the relative next-record offset sits 2 bytes before the origin
REC_N_NEW_EXTRA_BYTES = 5
# Clustered record of the SDI index: type, id, DB_TRX_ID, DB_ROLL_PTR, uncompressed_len, compressed_len, data.
SDI_FIXED = struct.Struct(">IQ6s7sII")
SDI_KEY_LEN = 12  # type + id: the key of a node-pointer record, followed by the child page number
BTR_EXTERN_FIELD_REF_SIZE = 20
BLOB_HDR_PART_LEN, BLOB_HDR_NEXT_PAGE_NO, BLOB_HDR_SIZE = 0, 4, 8
SDI_TYPE_TABLE = 1
NO_SE_ID = 0xFFFFFFFFFFFFFFFF  # a partitioned table's own se_private_id: its partitions have the real ids


@dataclass(frozen=True)
class SdiRecord:
    """One SDI record: an object type (1 table, 2 tablespace), its dictionary id and its JSON document."""

    type: int
    id: int
    document: dict[str, Any]


def sdi_offset(page_size: int) -> int:
    """fsp_header_get_sdi_offset(): after the encryption information on page 0 (16K: 10505)."""
    return L.encryption_offset(page_size) + L.ENCRYPTION_INFO_MAX_SIZE


def sdi_root(ts: TablespaceFile) -> int | None:
    """The SDI root page number, or None when the tablespace has none (no SDI flag, or not written)."""
    if ts.flags is None or not ts.flags.sdi or ts.flags.zip_size:
        return None
    version, root = struct.unpack_from(">II", ts.head, sdi_offset(ts.physical_page_size))
    return root if version == SDI_VERSION and 0 < root < ts.page_count else None


def read_sdi(ts: TablespaceFile) -> list[SdiRecord]:
    """Every SDI record of the tablespace, in key order."""
    root = sdi_root(ts)
    if root is None:
        return []
    return [_record(ts, page, rec) for page, rec in _leaf_records(ts, root)]


def _leaf_records(ts: TablespaceFile, root: int) -> Iterator[tuple[memoryview, int]]:
    def first_child(page: memoryview) -> int:
        return int(struct.unpack_from(">I", page, _next_record(page, PAGE_NEW_INFIMUM) + SDI_KEY_LEN)[0])

    for page in leaf_pages(lambda n: _sdi_page(ts, n), root, first_child, f"{ts.path}: SDI"):
        rec = _next_record(page, PAGE_NEW_INFIMUM)
        while page[rec - 3] & 0x07 != REC_STATUS_SUPREMUM:
            yield page, rec
            rec = _next_record(page, rec)


def _next_record(page: memoryview, rec: int) -> int:
    delta = struct.unpack_from(">h", page, rec - REC_NEXT)[0]
    nxt = (rec + delta) % len(page)
    if not PAGE_NEW_INFIMUM <= nxt < len(page) - 8:
        raise SdiError(f"an SDI record points outside its page ({nxt})")
    return nxt


def _sdi_page(ts: TablespaceFile, page_no: int) -> memoryview:
    page = ts.page(page_no)
    page_type = struct.unpack_from(">H", page, L.FIL_PAGE_TYPE)[0]
    compact = struct.unpack_from(">H", page, PAGE_N_HEAP)[0] & 0x8000
    if page_type != FIL_PAGE_SDI or not compact:
        raise SdiError(f"{ts.path}: page {page_no} is not an SDI index page (type {page_type})")
    return page


def _record(ts: TablespaceFile, page: memoryview, rec: int) -> SdiRecord:
    length, external = _data_length(page, rec)
    obj_type, obj_id, _trx, _roll, uncompressed, compressed = SDI_FIXED.unpack_from(page, rec)
    start = rec + SDI_FIXED.size
    data = bytes(page[start:start + length])
    if external:
        data = data[:-BTR_EXTERN_FIELD_REF_SIZE] + _external(ts, data[-BTR_EXTERN_FIELD_REF_SIZE:])
    try:
        text = zlib.decompress(data[:compressed])
    except zlib.error as exc:
        raise SdiError(f"{ts.path}: SDI record ({obj_type}, {obj_id}) does not inflate: {exc}") from exc
    if len(text) != uncompressed:
        raise SdiError(f"{ts.path}: SDI record ({obj_type}, {obj_id}) inflates to {len(text)} bytes, not"
                       f" {uncompressed}")
    return SdiRecord(obj_type, obj_id, json.loads(text))


def _data_length(page: memoryview, rec: int) -> tuple[int, bool]:
    """The one variable-length field's length (rem0rec: 1 byte, or 2 with 0x80 set; 0x40 = stored externally)."""
    first = page[rec - REC_N_NEW_EXTRA_BYTES - 1]
    if not first & 0x80:
        return first, False
    second = page[rec - REC_N_NEW_EXTRA_BYTES - 2]
    return ((first & 0x3F) << 8) | second, bool(first & 0x40)


def _external(ts: TablespaceFile, ref: bytes) -> bytes:
    """The externally stored part of a field: a chain of FIL_PAGE_SDI_BLOB pages (btr_copy_blob_prefix)."""
    _space, page_no, offset, length = struct.unpack(">III4xI", ref)
    parts: list[bytes] = []
    got = 0
    while got < length and page_no != FIL_NULL:
        page = ts.page(page_no)
        part_len, page_no = struct.unpack_from(">II", page, offset + BLOB_HDR_PART_LEN)
        parts.append(bytes(page[offset + BLOB_HDR_SIZE:offset + BLOB_HDR_SIZE + part_len]))
        got += part_len
        offset = L.FIL_PAGE_DATA
    return b"".join(parts)[:length]


class SdiError(MysqlInspectError):
    """SDI pages that cannot be read as the server writes them."""


def table_ids(records: list[SdiRecord]) -> dict[int, str]:
    """InnoDB table id -> `schema.table` (partitions: `schema.table#p#name`, as the server names their files)."""
    out: dict[int, str] = {}
    for record in records:
        obj = record.document.get("dd_object") or {}
        if record.type != SDI_TYPE_TABLE or not obj.get("name"):
            continue
        name = f"{obj.get('schema_ref', '?')}.{obj['name']}"
        if _real_id(obj):
            out[obj["se_private_id"]] = name
        for part in _partitions(obj.get("partitions") or []):
            if _real_id(part):
                out[part["se_private_id"]] = f"{name}#p#{part.get('name', '?')}"
    return out


def _real_id(obj: dict[str, Any]) -> bool:
    value = obj.get("se_private_id")
    return isinstance(value, int) and 0 < value < NO_SE_ID


def _partitions(parts: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for part in parts:
        yield part
        yield from _partitions(part.get("subpartitions") or [])


def table_names(files: list[Path], wanted: set[int] | None = None) -> tuple[dict[int, str], list[str]]:
    """Table ids to names from the SDI of each tablespace file (until every `wanted` id is named); problems
    (unreadable SDI) as notes."""
    names: dict[int, str] = {}
    notes: list[str] = []
    for path in files:
        if wanted is not None and wanted <= names.keys():
            break
        try:
            with TablespaceFile(path) as ts:
                names.update(table_ids(read_sdi(ts)))
        except MysqlInspectError as exc:
            notes.append(f"table names: {exc}")
    return names, notes
