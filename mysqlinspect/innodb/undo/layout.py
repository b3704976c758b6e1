"""On-disk constants of rollback segments and undo logs (innodb-pages.md §4.2, §6).

Names follow the server sources: trx0sys.h (TRX_SYS page), fsp0types.h / trx0rseg.h (RSEG array and rollback
segment header), trx0undo.h (undo page, segment and log headers), trx0rec.h (undo records). Offsets of headers
are relative to the header's start unless the name ends in _ABS.
"""

from __future__ import annotations

from mysqlinspect.innodb.pages.layout import FIL_PAGE_DATA

FIL_PAGE_UNDO_LOG = 2
FIL_PAGE_TYPE_SYS = 6
FIL_PAGE_TYPE_TRX_SYS = 7
FIL_PAGE_TYPE_RSEG_ARRAY = 21

# TRX_SYS page (space 0, page 5).
TRX_SYS = FIL_PAGE_DATA
TRX_SYS_TRX_ID_STORE = 0
TRX_SYS_RSEGS = 18
TRX_SYS_N_RSEGS = 128
TRX_SYS_RSEG_SPACE = 0
TRX_SYS_RSEG_PAGE_NO = 4
TRX_SYS_RSEG_SLOT_SIZE = 8

# MySQL 8 RSEG array page (undo tablespace page 3).
FSP_RSEG_ARRAY_PAGE_NO = 3
RSEG_ARRAY_HEADER = FIL_PAGE_DATA
RSEG_ARRAY_VERSION_OFFSET = 0
RSEG_ARRAY_SIZE_OFFSET = 4
RSEG_ARRAY_FSEG_HEADER_OFFSET = 8
RSEG_ARRAY_PAGES_OFFSET = 18
RSEG_ARRAY_SLOT_SIZE = 4
RSEG_ARRAY_VERSION = 0x52534547 + 1
FSP_MAX_ROLLBACK_SEGMENTS = 128

# Rollback segment header (TRX_RSEG = 38).
TRX_RSEG = FIL_PAGE_DATA
TRX_RSEG_MAX_SIZE = 0  # MySQL; MariaDB TRX_RSEG_FORMAT
TRX_RSEG_HISTORY_SIZE = 4
TRX_RSEG_HISTORY = 8
TRX_RSEG_FSEG_HEADER = 24
TRX_RSEG_UNDO_SLOTS = 34
TRX_RSEG_SLOT_SIZE = 4
MARIADB_RSEG_FORMAT_OLD = 0xFFFFFFFE
TRX_RSEG_BINLOG_NAME_LEN = 512


def trx_rseg_n_slots(page_size: int) -> int:
    """TRX_RSEG_N_SLOTS = page size / 16 (1024 for 16K)."""
    return page_size // 16


def trx_rseg_slot_end(page_size: int) -> int:
    """Where TRX_RSEG_MAX_TRX_NO (MySQL) / TRX_RSEG_MAX_TRX_ID (MariaDB) sits, relative to TRX_RSEG."""
    return TRX_RSEG_UNDO_SLOTS + TRX_RSEG_SLOT_SIZE * trx_rseg_n_slots(page_size)


# Undo page header (every undo page).
TRX_UNDO_PAGE_HDR = FIL_PAGE_DATA
TRX_UNDO_PAGE_TYPE = 0
TRX_UNDO_PAGE_START = 2
TRX_UNDO_PAGE_FREE = 4
TRX_UNDO_PAGE_NODE = 6
TRX_UNDO_PAGE_HDR_SIZE = 18
TRX_UNDO_INSERT = 1
TRX_UNDO_UPDATE = 2
UNDO_PAGE_TYPE_NAMES = {0: "insert_and_update", TRX_UNDO_INSERT: "insert", TRX_UNDO_UPDATE: "update"}

# Undo segment header (first page of an undo segment).
TRX_UNDO_SEG_HDR = TRX_UNDO_PAGE_HDR + TRX_UNDO_PAGE_HDR_SIZE  # 56
TRX_UNDO_STATE = 0
TRX_UNDO_LAST_LOG = 2
TRX_UNDO_FSEG_HEADER = 4
TRX_UNDO_PAGE_LIST = 14
TRX_UNDO_SEG_HDR_SIZE = 30
FLST_NODE_PREV = 0
FLST_NODE_NEXT = 6

# Undo segment states.
TRX_UNDO_ACTIVE = 1
TRX_UNDO_CACHED = 2
TRX_UNDO_TO_FREE = 3
TRX_UNDO_TO_PURGE = 4
TRX_UNDO_PREPARED_80028 = 5  # MySQL < 8.0.29 prepared; MariaDB TRX_UNDO_PREPARED
TRX_UNDO_PREPARED = 6  # MySQL 8.0.29+: prepared in the engine
TRX_UNDO_PREPARED_IN_TC = 7  # MySQL 8.0.29+: prepared and recorded by the transaction coordinator
UNDO_STATE_NAMES = {TRX_UNDO_ACTIVE: "active", TRX_UNDO_CACHED: "cached", TRX_UNDO_TO_FREE: "to_free",
                    TRX_UNDO_TO_PURGE: "to_purge", TRX_UNDO_PREPARED_80028: "prepared",
                    TRX_UNDO_PREPARED: "prepared", TRX_UNDO_PREPARED_IN_TC: "prepared_in_tc"}
PREPARED_STATES = frozenset({TRX_UNDO_PREPARED_80028, TRX_UNDO_PREPARED, TRX_UNDO_PREPARED_IN_TC})

# Undo log header (at TRX_UNDO_LAST_LOG on the segment's first page).
TRX_UNDO_TRX_ID = 0
TRX_UNDO_TRX_NO = 8
TRX_UNDO_DEL_MARKS = 16  # MariaDB TRX_UNDO_NEEDS_PURGE
TRX_UNDO_LOG_START = 18
TRX_UNDO_FLAGS = 20  # MariaDB TRX_UNDO_XID_EXISTS
TRX_UNDO_DICT_TRANS = 21
TRX_UNDO_TABLE_ID = 22
TRX_UNDO_NEXT_LOG = 30
TRX_UNDO_PREV_LOG = 32
TRX_UNDO_HISTORY_NODE = 34
TRX_UNDO_LOG_OLD_HDR_SIZE = 46
TRX_UNDO_XA_FORMAT = 46
TRX_UNDO_XA_TRID_LEN = 50
TRX_UNDO_XA_BQUAL_LEN = 54
TRX_UNDO_XA_XID = 58
XIDDATASIZE = 128
TRX_UNDO_LOG_XA_HDR_SIZE = TRX_UNDO_XA_XID + XIDDATASIZE  # 186
TRX_UNDO_FLAG_XID = 0x01
TRX_UNDO_FLAG_GTID = 0x02
TRX_UNDO_FLAG_XA_PREPARE_GTID = 0x04

# Server-internal XIDs (xid_t::set(my_xid)): "MySQLXid" + server_id + my_xid (8), host order. server_id is a
# `ulong` (8 bytes on 64-bit Linux, so 24 bytes as MySQL 9.7 writes them; 4 bytes where ulong is 32-bit).
MYSQL_XID_PREFIX = b"MySQLXid"
MYSQL_XID_GTRID_LENS = (8 + 4 + 8, 8 + 8 + 8)

# Undo records (trx0rec.h).
TRX_UNDO_CMPL_INFO_MULT = 16
TRX_UNDO_MODIFY_BLOB = 64  # MySQL: one more flag byte follows type_cmpl
TRX_UNDO_UPD_EXTERN = 128
TRX_UNDO_RENAME_TABLE = 9  # MariaDB
TRX_UNDO_INSERT_METADATA = 10  # MariaDB
TRX_UNDO_INSERT_REC = 11
TRX_UNDO_UPD_EXIST_REC = 12
TRX_UNDO_UPD_DEL_REC = 13
TRX_UNDO_DEL_MARK_REC = 14
TRX_UNDO_EMPTY = 15  # MariaDB
UNDO_REC_TYPE_NAMES = {TRX_UNDO_RENAME_TABLE: "rename_table", TRX_UNDO_INSERT_METADATA: "insert_metadata",
                       TRX_UNDO_INSERT_REC: "insert", TRX_UNDO_UPD_EXIST_REC: "update_existing",
                       TRX_UNDO_UPD_DEL_REC: "update_deleted", TRX_UNDO_DEL_MARK_REC: "delete_mark",
                       TRX_UNDO_EMPTY: "empty"}
