"""One frozen dataclass per on-disk structure of rollback segments and undo logs, each built by `from_page()`.

TRX_SYS rollback segment slots, the MySQL 8 RSEG array, the rollback segment header, the undo page header, the
undo segment header, the undo log header with its XID, and the head of an undo record. Offsets and names from
undo_layout (innodb-pages.md §4.2, §6). Decoders do not judge content; the walk in `undo` does.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from mysqlinspect.innodb.pages.layout import FIL_NULL
from mysqlinspect.innodb.pages.structs import ListBase, u16, u32, u64
from mysqlinspect.innodb.undo import layout as U

_XID_HEAD = struct.Struct(">iII")


@dataclass(frozen=True, slots=True)
class RsegSlot:
    """Where one rollback segment header lives: TRX_SYS slot (space, page) or RSEG array entry (page)."""

    source: str  # "trx_sys" or "rseg_array"
    slot: int
    space_id: int
    page_no: int


def trx_sys_rseg_slots(page: bytes | memoryview) -> list[RsegSlot]:
    """The used TRX_SYS_RSEGS slots of the TRX_SYS page (page `FIL_NULL` = unused)."""
    slots = []
    for n in range(U.TRX_SYS_N_RSEGS):
        at = U.TRX_SYS + U.TRX_SYS_RSEGS + n * U.TRX_SYS_RSEG_SLOT_SIZE
        page_no = u32(page, at + U.TRX_SYS_RSEG_PAGE_NO)
        if page_no != FIL_NULL:
            slots.append(RsegSlot("trx_sys", n, u32(page, at + U.TRX_SYS_RSEG_SPACE), page_no))
    return slots


@dataclass(frozen=True, slots=True)
class RsegArrayHeader:
    """MySQL 8 RSEG array header on page 3 of an undo tablespace; slots stop at the first FIL_NULL."""

    version: int
    size: int
    pages: tuple[int, ...]

    @classmethod
    def from_page(cls, page: bytes | memoryview) -> RsegArrayHeader:
        base = U.RSEG_ARRAY_HEADER
        pages = []
        for n in range(U.FSP_MAX_ROLLBACK_SEGMENTS):
            page_no = u32(page, base + U.RSEG_ARRAY_PAGES_OFFSET + n * U.RSEG_ARRAY_SLOT_SIZE)
            if page_no == FIL_NULL:
                break
            pages.append(page_no)
        return cls(u32(page, base + U.RSEG_ARRAY_VERSION_OFFSET), u32(page, base + U.RSEG_ARRAY_SIZE_OFFSET),
                   tuple(pages))

    @property
    def valid(self) -> bool:
        return self.version == U.RSEG_ARRAY_VERSION


@dataclass(frozen=True, slots=True)
class RsegHeader:
    """A rollback segment header (TRX_RSEG): history list and the undo segment slots (page numbers)."""

    max_size_or_format: int  # MySQL TRX_RSEG_MAX_SIZE, MariaDB TRX_RSEG_FORMAT
    history_size: int
    history: ListBase
    undo_slots: tuple[tuple[int, int], ...]  # (slot number, page number) of used slots
    max_trx_no_or_id: int  # MySQL TRX_RSEG_MAX_TRX_NO, MariaDB TRX_RSEG_MAX_TRX_ID

    @classmethod
    def from_page(cls, page: bytes | memoryview, page_size: int) -> RsegHeader:
        base = U.TRX_RSEG
        slots = []
        for n in range(U.trx_rseg_n_slots(page_size)):
            page_no = u32(page, base + U.TRX_RSEG_UNDO_SLOTS + n * U.TRX_RSEG_SLOT_SIZE)
            if page_no != FIL_NULL:
                slots.append((n, page_no))
        return cls(u32(page, base + U.TRX_RSEG_MAX_SIZE), u32(page, base + U.TRX_RSEG_HISTORY_SIZE),
                   ListBase.from_bytes(page, base + U.TRX_RSEG_HISTORY), tuple(slots),
                   u64(page, base + U.trx_rseg_slot_end(page_size)))


@dataclass(frozen=True, slots=True)
class UndoPageHeader:
    """The header of every undo page: page type (MySQL insert/update, MariaDB 0), start, free, list node."""

    page_type: int
    start: int
    free: int
    next_page: int  # TRX_UNDO_PAGE_NODE's FLST_NEXT page, FIL_NULL at the end

    @classmethod
    def from_page(cls, page: bytes | memoryview) -> UndoPageHeader:
        base = U.TRX_UNDO_PAGE_HDR
        return cls(u16(page, base + U.TRX_UNDO_PAGE_TYPE), u16(page, base + U.TRX_UNDO_PAGE_START),
                   u16(page, base + U.TRX_UNDO_PAGE_FREE),
                   u32(page, base + U.TRX_UNDO_PAGE_NODE + U.FLST_NODE_NEXT))

    @property
    def kind(self) -> str:
        return U.UNDO_PAGE_TYPE_NAMES.get(self.page_type, f"type_{self.page_type}")


@dataclass(frozen=True, slots=True)
class UndoSegmentHeader:
    """The segment header on an undo segment's first page: state, last log header, list of its pages."""

    state: int
    last_log: int
    page_list: ListBase

    @classmethod
    def from_page(cls, page: bytes | memoryview) -> UndoSegmentHeader:
        base = U.TRX_UNDO_SEG_HDR
        return cls(u16(page, base + U.TRX_UNDO_STATE), u16(page, base + U.TRX_UNDO_LAST_LOG),
                   ListBase.from_bytes(page, base + U.TRX_UNDO_PAGE_LIST))

    @property
    def state_name(self) -> str:
        return U.UNDO_STATE_NAMES.get(self.state, f"state_{self.state}")


@dataclass(frozen=True, slots=True)
class Xid:
    """An XA transaction id as stored in the undo log header (formatID -1 = null XID)."""

    format_id: int
    gtrid: bytes
    bqual: bytes

    @classmethod
    def from_page(cls, page: bytes | memoryview, header_at: int) -> Xid | None:
        fmt, gtrid_len, bqual_len = _XID_HEAD.unpack_from(page, header_at + U.TRX_UNDO_XA_FORMAT)
        if fmt == -1 or gtrid_len == 0 or gtrid_len > 64 or bqual_len > 64:
            return None  # null XID; MySQL also sets the XID flag with an empty XID on non-XA undo logs
        data = bytes(page[header_at + U.TRX_UNDO_XA_XID: header_at + U.TRX_UNDO_XA_XID + gtrid_len + bqual_len])
        return cls(fmt, data[:gtrid_len], data[gtrid_len:])

    @property
    def my_xid(self) -> int:
        """The server's own XID number for an internal (binlog two-phase commit) XID, else 0 (external XA)."""
        if self.format_id != 1 or len(self.gtrid) not in U.MYSQL_XID_GTRID_LENS or self.bqual:
            return 0
        if not self.gtrid.startswith(U.MYSQL_XID_PREFIX):
            return 0
        return int.from_bytes(self.gtrid[-8:], "little")

    @property
    def external(self) -> bool:
        return self.my_xid == 0

    def text(self) -> str:
        """The XA RECOVER-like form: X'gtrid',X'bqual',formatID."""
        return f"X'{self.gtrid.hex()}',X'{self.bqual.hex()}',{self.format_id}"

    def to_dict(self) -> dict[str, Any]:
        return {"format_id": self.format_id, "gtrid": _printable(self.gtrid), "bqual": _printable(self.bqual),
                "gtrid_hex": self.gtrid.hex(), "bqual_hex": self.bqual.hex(), "external": self.external,
                "my_xid": self.my_xid or None, "text": self.text()}


def _printable(raw: bytes) -> str | None:
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return None
    return text if text.isprintable() else None


@dataclass(frozen=True, slots=True)
class UndoLogHeader:
    """An undo log header (TRX_UNDO_TRX_ID ...) at `offset` on a segment's first page."""

    offset: int
    trx_id: int
    trx_no: int
    del_marks: int
    log_start: int
    flags: int
    dict_trans: bool
    table_id: int
    next_log: int
    prev_log: int
    xid: Xid | None

    @classmethod
    def from_page(cls, page: bytes | memoryview, offset: int) -> UndoLogHeader:
        flags = page[offset + U.TRX_UNDO_FLAGS]
        xid = Xid.from_page(page, offset) if flags & U.TRX_UNDO_FLAG_XID else None
        return cls(offset, u64(page, offset + U.TRX_UNDO_TRX_ID), u64(page, offset + U.TRX_UNDO_TRX_NO),
                   u16(page, offset + U.TRX_UNDO_DEL_MARKS), u16(page, offset + U.TRX_UNDO_LOG_START), flags,
                   bool(page[offset + U.TRX_UNDO_DICT_TRANS]), u64(page, offset + U.TRX_UNDO_TABLE_ID),
                   u16(page, offset + U.TRX_UNDO_NEXT_LOG), u16(page, offset + U.TRX_UNDO_PREV_LOG), xid)


def read_compressed(buf: bytes | memoryview, at: int) -> tuple[int, int]:
    """mach_read_compressed(): (value, bytes used) of a 1-5 byte compressed 32-bit integer."""
    first = buf[at]
    if first < 0x80:
        return first, 1
    if first < 0xC0:
        return (first << 8 | buf[at + 1]) & 0x3FFF, 2
    if first < 0xE0:
        return (first << 16 | buf[at + 1] << 8 | buf[at + 2]) & 0x1FFFFF, 3
    if first < 0xF0:
        return (first << 24 | buf[at + 1] << 16 | buf[at + 2] << 8 | buf[at + 3]) & 0x0FFFFFFF, 4
    return u32(buf, at + 1), 5


def read_much_compressed(buf: bytes | memoryview, at: int) -> tuple[int, int]:
    """mach_u64_read_much_compressed(): 0xFF + compressed high + compressed low, else one compressed value."""
    if buf[at] != 0xFF:
        return read_compressed(buf, at)
    high, n1 = read_compressed(buf, at + 1)
    low, n2 = read_compressed(buf, at + 1 + n1)
    return high << 32 | low, 1 + n1 + n2


@dataclass(frozen=True, slots=True)
class UndoRecordHead:
    """The start of an undo record: next record offset, type, undo number and table id."""

    offset: int
    next_offset: int
    type: int
    cmpl_info: int
    extern: bool
    undo_no: int
    table_id: int

    @classmethod
    def from_page(cls, page: bytes | memoryview, offset: int, modify_blob_byte: bool) -> UndoRecordHead:
        type_cmpl = page[offset + 2]
        at = offset + 3
        if modify_blob_byte and type_cmpl & U.TRX_UNDO_MODIFY_BLOB:
            at += 1
        undo_no, n = read_much_compressed(page, at)
        table_id, _ = read_much_compressed(page, at + n)
        return cls(offset, u16(page, offset), type_cmpl & (U.TRX_UNDO_CMPL_INFO_MULT - 1),
                   (type_cmpl // U.TRX_UNDO_CMPL_INFO_MULT) & 3, bool(type_cmpl & U.TRX_UNDO_UPD_EXTERN),
                   undo_no, table_id)

    @property
    def type_name(self) -> str:
        return U.UNDO_REC_TYPE_NAMES.get(self.type, f"type_{self.type}")
