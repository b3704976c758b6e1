"""Walk one undo segment: its first page's headers, then the records of its last undo log, page by page.

innodb-pages.md §6.4: pages in TRX_UNDO_PAGE_LIST order; on the header page the log's records run from
TRX_UNDO_LOG_START to TRX_UNDO_NEXT_LOG (or TRX_UNDO_PAGE_FREE), on later pages from the end of the page header
to TRX_UNDO_PAGE_FREE; each record starts with the offset of the next one. The server's "top" undo number is the
one of the last record of the last page.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from mysqlinspect.errors import DataError
from mysqlinspect.innodb.pages.layout import FIL_NULL
from mysqlinspect.innodb.pages.structs import FilHeader
from mysqlinspect.innodb.undo import layout as U
from mysqlinspect.innodb.undo.redo import PageSource
from mysqlinspect.innodb.undo.structs import UndoLogHeader, UndoPageHeader, UndoRecordHead, UndoSegmentHeader

FIRST_RECORD_ON_PAGE = U.TRX_UNDO_SEG_HDR  # 56: records on non-header pages start after the page header


@dataclass
class UndoSegment:
    """One used undo segment slot of a rollback segment, with its (last) undo log and what the records say."""

    space_id: int
    page_no: int
    rseg: str  # "space:page" of the rollback segment header
    slot: int
    state: int
    state_name: str
    kind: str  # insert, update, insert_and_update (MariaDB 10.3+)
    header: UndoLogHeader | None = None
    pages: int = 0
    records: int = 0
    top_undo_no: int | None = None
    table_ids: list[int] = field(default_factory=list)
    record_types: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    # a page of the segment is not an undo page on disk: older than the log (not yet flushed), or damaged
    not_undo_page: bool = False

    @property
    def row_operations(self) -> int:
        """What the server counts for this log: the top record's undo number + 1 (0 when empty)."""
        return 0 if self.top_undo_no is None else self.top_undo_no + 1

    def to_dict(self) -> dict[str, Any]:
        h = self.header
        return {"space_id": self.space_id, "page_no": self.page_no, "rollback_segment": self.rseg,
                "slot": self.slot, "state": self.state_name, "state_value": self.state, "kind": self.kind,
                "trx_id": h.trx_id if h else None, "trx_no": h.trx_no if h else None,
                "log_header_offset": h.offset if h else None, "dict_trans": h.dict_trans if h else None,
                "xid": h.xid.to_dict() if h and h.xid else None, "pages": self.pages, "undo_records": self.records,
                "top_undo_no": self.top_undo_no, "row_operations": self.row_operations, "table_ids": self.table_ids,
                "record_types": self.record_types, "problems": self.problems}


def read_segment(ts: PageSource, page_no: int, rseg: str, slot: int) -> UndoSegment:
    """The undo segment whose first page is `page_no`; damage is recorded in `problems`, never raised."""
    first = ts.page(page_no)
    fil = FilHeader.from_bytes(first)
    seg = UndoSegmentHeader.from_page(first)
    page_header = UndoPageHeader.from_page(first)
    space_id = ts.fsp_header.space_id if ts.fsp_header else fil.space_id
    out = UndoSegment(space_id, page_no, rseg, slot, seg.state, seg.state_name, page_header.kind)
    if fil.page_type != U.FIL_PAGE_UNDO_LOG:
        out.problems.append(f"page {page_no} is of type {fil.type_name}, not an undo log page")
        out.not_undo_page = True
        return out
    # checked in MariaDB's order (trx_undo_mem_create_at_db_start()), in its words: type, offset, state
    if page_header.page_type > U.TRX_UNDO_UPDATE:
        out.problems.append(f"unsupported undo header type {page_header.page_type}")
        return out
    ps = ts.physical_page_size
    if not U.TRX_UNDO_SEG_HDR + U.TRX_UNDO_SEG_HDR_SIZE <= seg.last_log < ps - U.TRX_UNDO_LOG_OLD_HDR_SIZE:
        out.problems.append(f"invalid undo header offset {seg.last_log}")
        return out
    if seg.state not in U.UNDO_STATE_NAMES:
        out.problems.append(f"unsupported undo header state {seg.state}")
        return out
    out.header = UndoLogHeader.from_page(first, seg.last_log)
    if seg.state == U.TRX_UNDO_TO_FREE:
        return out  # the server does not trust a to-free segment's page list
    try:
        _walk_records(ts, out, seg, page_header)
    except (DataError, IndexError, ValueError) as exc:
        out.problems.append(f"undo log pages cannot be read: {exc}")
    return out


def _walk_records(ts: PageSource, out: UndoSegment, seg: UndoSegmentHeader, first_header: UndoPageHeader) -> None:
    assert out.header is not None
    modify_blob_byte = first_header.page_type != 0  # MySQL undo pages carry a type; MariaDB 10.3+ writes 0
    types: Counter[str] = Counter()
    tables: dict[int, None] = {}
    page_no, seen = out.page_no, set[int]()
    while page_no != FIL_NULL:
        if page_no in seen or len(seen) > seg.page_list.length:
            out.problems.append(f"undo page list of segment {out.page_no} loops or is longer than its length"
                                f" {seg.page_list.length}")
            break
        seen.add(page_no)
        page = ts.page(page_no)
        fil = FilHeader.from_bytes(page)
        if fil.page_type != U.FIL_PAGE_UNDO_LOG:
            out.problems.append(f"page {page_no} of the list is of type {fil.type_name}, not an undo log page")
            out.not_undo_page = True
            break
        header = UndoPageHeader.from_page(page)
        if page_no == out.page_no:
            start, end = out.header.log_start, out.header.next_log or header.free
        else:
            start, end = FIRST_RECORD_ON_PAGE, header.free
        for rec in _records(page, start, end, page_no, ts.physical_page_size, modify_blob_byte, out.problems):
            out.records += 1
            out.top_undo_no = rec.undo_no
            types[rec.type_name] += 1
            tables.setdefault(rec.table_id, None)
        page_no = header.next_page
    out.pages = len(seen)
    if len(seen) != seg.page_list.length and not out.problems:
        out.problems.append(f"undo page list holds {len(seen)} pages, its length says {seg.page_list.length}")
    out.record_types = dict(sorted(types.items()))
    out.table_ids = list(tables)


def _records(page: memoryview, start: int, end: int, page_no: int, page_size: int, modify_blob_byte: bool,
             problems: list[str]) -> list[UndoRecordHead]:
    found = []
    rec = start
    while rec != end:
        if not FIRST_RECORD_ON_PAGE <= rec < end <= page_size:
            problems.append(f"undo record offset {rec} on page {page_no} is outside [{start}, {end})")
            break
        head = UndoRecordHead.from_page(page, rec, modify_blob_byte)
        if head.next_offset <= rec:
            problems.append(f"undo record at {rec} on page {page_no} points back to {head.next_offset}")
            break
        found.append(head)
        rec = head.next_offset
    return found
