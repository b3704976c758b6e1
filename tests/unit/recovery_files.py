"""Files of a crashed data directory built byte for byte as the servers write them, for the offline recovery
tests: binlog events (binlog-format.md), a MySQL 8 undo tablespace with one rollback segment and its undo logs
(innodb-pages.md §4.2, §6.3: FIL header, RSEG array, rollback segment header, undo page/segment/log headers with
the XID, undo records), every page sealed with MySQL's CRC-32C checksum."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from crc32c import crc32c

from mysqlinspect.innodb.undo import layout as U

PS = 16384
FIL_NULL = 0xFFFFFFFF
UNDO_SPACE_ID = 0xFFFFFFEF  # MySQL's first implicit undo tablespace (undo_001)
SERVER_ID = (1).to_bytes(8, "little")  # MySQL 9.7 writes server_id as an 8-byte ulong


# ---- binary log ---------------------------------------------------------------------------------------------

def event(type_code: int, body: bytes, flags: int = 0) -> bytes:
    """One event with its 19-byte header and CRC32 trailer."""
    size = 19 + len(body) + 4
    head = struct.pack("<IBIIIH", 0, type_code, 1, size, 0, flags) + body
    return head + struct.pack("<I", zlib.crc32(head))


def fde(version: str, in_use: bool = True) -> bytes:
    """FORMAT_DESCRIPTION: binlog version 4, server version, header length 19, post-header lengths, CRC32 alg."""
    body = struct.pack("<H50sIB", 4, version.encode(), 0, 19) + bytes(41) + b"\x01"
    return event(15, body, flags=1 if in_use else 0)


def query(text: str) -> bytes:
    """QUERY: thread id, exec time, db length, error code, no status variables, db "r", the text."""
    return event(2, struct.pack("<IIBHH", 1, 0, 1, 0, 0) + b"r\0" + text.encode())


def gtid() -> bytes:
    return event(33, bytes(42))


def xid_event(number: int) -> bytes:
    return event(16, struct.pack("<Q", number))


def transaction(number: int) -> bytes:
    """A committed transaction of the two-phase commit: GTID, BEGIN, ..., XID event."""
    return gtid() + query("BEGIN") + xid_event(number)


def xa_prepare(fmt: int, gtrid: bytes, bqual: bytes, one_phase: bool = False) -> bytes:
    """XA START ... XA END, then the XA_PREPARE_LOG event (one_phase, formatID, lengths, data)."""
    ids = f"X'{gtrid.hex()}',X'{bqual.hex()}',{fmt}"
    body = struct.pack("<BiII", int(one_phase), fmt, len(gtrid), len(bqual)) + gtrid + bqual
    return gtid() + query(f"XA START {ids}") + query(f"XA END {ids}") + event(38, body)


def xa_finish(verb: str, fmt: int, gtrid: bytes, bqual: bytes) -> bytes:
    return gtid() + query(f"XA {verb} X'{gtrid.hex()}',X'{bqual.hex()}',{fmt}")


def binlog_checkpoint(name: str) -> bytes:
    """MariaDB's BINLOG_CHECKPOINT: the oldest binlog file that may still hold a pending XID."""
    return event(161, struct.pack("<I", len(name)) + name.encode())


def mariadb_gtid(standalone: bool = False) -> bytes:
    """MariaDB's GTID event: seq_no, domain id, flags (FL_STANDALONE = 1)."""
    return event(162, struct.pack("<QIB", 1, 0, 1 if standalone else 0) + bytes(6))


def mariadb_transaction(number: int) -> bytes:
    return mariadb_gtid() + query("BEGIN") + xid_event(number)


def write_binlog(datadir: Path, version: str, events: bytes, in_use: bool = True, index: bool = True) -> Path:
    path = datadir / "binlog.000001"
    path.write_bytes(b"\xfebin" + fde(version, in_use) + events)
    if index:
        (datadir / "binlog.index").write_text("./binlog.000001\n")
    return path


# ---- undo tablespace ----------------------------------------------------------------------------------------

def internal_xid(number: int) -> tuple[int, bytes, bytes]:
    """The XID of the binlog two-phase commit: format 1, "MySQLXid" + server id + XID number, no bqual."""
    return 1, U.MYSQL_XID_PREFIX + SERVER_ID + number.to_bytes(8, "little"), b""


def seal(page: bytearray) -> bytes:
    """MySQL's crc32 page checksum, stored in the header and the trailer."""
    value = (crc32c(bytes(page[4:26])) ^ crc32c(bytes(page[38:PS - 8]))).to_bytes(4, "big")
    page[0:4] = page[PS - 8:PS - 4] = value
    return bytes(page)


def _fil(page_no: int, page_type: int) -> bytearray:
    page = bytearray(PS)
    struct.pack_into(">I", page, 4, page_no)
    struct.pack_into(">II", page, 8, FIL_NULL, FIL_NULL)  # prev, next
    struct.pack_into(">H", page, 24, page_type)
    struct.pack_into(">I", page, 34, UNDO_SPACE_ID)
    return page


def undo_log_page(page_no: int, state: int, trx_id: int, xid: tuple[int, bytes, bytes] | None, records: int,
                  table_id: int = 1066) -> bytes:
    """The first (and only) page of an undo segment: one undo log of `records` insert undo records."""
    page = _fil(page_no, U.FIL_PAGE_UNDO_LOG)
    header_at = U.TRX_UNDO_SEG_HDR + U.TRX_UNDO_SEG_HDR_SIZE  # 86: the first undo log header
    log_start = header_at + U.TRX_UNDO_LOG_XA_HDR_SIZE
    at = log_start
    for undo_no in range(records):
        body = bytes([U.TRX_UNDO_INSERT_REC, undo_no, table_id >> 8 | 0x80, table_id & 0xFF]) + b"\x04row!"
        end = at + 2 + len(body) + 2
        struct.pack_into(">H", page, at, end)  # offset of the next record
        page[at + 2:at + 2 + len(body)] = body
        struct.pack_into(">H", page, end - 2, at)  # the record's own start, for walking backwards
        at = end
    ph = U.TRX_UNDO_PAGE_HDR
    struct.pack_into(">HHH", page, ph, U.TRX_UNDO_INSERT, log_start, at)
    struct.pack_into(">IHIH", page, ph + U.TRX_UNDO_PAGE_NODE, FIL_NULL, 0, FIL_NULL, 0)
    seg = U.TRX_UNDO_SEG_HDR
    struct.pack_into(">HH", page, seg + U.TRX_UNDO_STATE, state, header_at)
    node = ph + U.TRX_UNDO_PAGE_NODE
    struct.pack_into(">IIHIH", page, seg + U.TRX_UNDO_PAGE_LIST, 1, page_no, node, page_no, node)
    struct.pack_into(">QQHH", page, header_at, trx_id, 0, 1, log_start)
    page[header_at + U.TRX_UNDO_FLAGS] = U.TRX_UNDO_FLAG_XID if xid else 0
    if xid is not None:
        fmt, gtrid, bqual = xid
        struct.pack_into(">iII", page, header_at + U.TRX_UNDO_XA_FORMAT, fmt, len(gtrid), len(bqual))
        data_at = header_at + U.TRX_UNDO_XA_XID
        page[data_at:data_at + len(gtrid) + len(bqual)] = gtrid + bqual
    return seal(page)


def write_undo_tablespace(datadir: Path, logs: list[bytes]) -> Path:
    """undo_001: page 0 (FSP header), page 3 (RSEG array -> page 4), page 4 (rollback segment header whose slots
    name the undo log pages that follow from page 5)."""
    n_pages = 5 + len(logs)
    fsp = _fil(0, 8)  # FIL_PAGE_TYPE_FSP_HDR
    struct.pack_into(">IIII", fsp, 38, UNDO_SPACE_ID, 0, n_pages, n_pages)  # space id, -, size, free limit
    array = _fil(3, U.FIL_PAGE_TYPE_RSEG_ARRAY)
    base = U.RSEG_ARRAY_HEADER
    struct.pack_into(">II", array, base, U.RSEG_ARRAY_VERSION, 1)
    pages_at = base + U.RSEG_ARRAY_PAGES_OFFSET
    array[pages_at:pages_at + 4 * U.FSP_MAX_ROLLBACK_SEGMENTS] = b"\xff" * (4 * U.FSP_MAX_ROLLBACK_SEGMENTS)
    struct.pack_into(">I", array, pages_at, 4)
    rseg = _fil(4, U.FIL_PAGE_TYPE_SYS)
    slots_at = U.TRX_RSEG + U.TRX_RSEG_UNDO_SLOTS
    rseg[slots_at:slots_at + 4 * U.trx_rseg_n_slots(PS)] = b"\xff" * (4 * U.trx_rseg_n_slots(PS))
    for n in range(len(logs)):
        struct.pack_into(">I", rseg, slots_at + 4 * n, 5 + n)
    pages = [seal(fsp), bytes(PS), bytes(PS), seal(array), seal(rseg), *logs]
    path = datadir / "undo_001"
    path.write_bytes(b"".join(pages))
    return path
