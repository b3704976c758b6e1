"""A Query event's status variables (binlog-format.md §3.3): code -> raw value bytes.

Sizes: libbinlogevents statement_events.cpp and MariaDB log_event.h. The walk stops at a code it does not know
(its size is unknown, so is everything after it); what was read so far is kept.
"""

from __future__ import annotations

Q_FLAGS2, Q_SQL_MODE, Q_CATALOG, Q_AUTO_INCREMENT, Q_CHARSET, Q_TIME_ZONE, Q_CATALOG_NZ = 0, 1, 2, 3, 4, 5, 6
Q_INVOKER, Q_UPDATED_DB_NAMES, Q_EXPLICIT_DEFAULTS_FOR_TIMESTAMP = 11, 12, 16
Q_DDL_LOGGED_WITH_XID = 17  # MySQL 8.0 atomic DDL: the DDL statement is its own commit
Q_XID, Q_GTID_FLAGS3, Q_CHARACTER_SET_COLLATIONS = 129, 130, 131  # MariaDB
OVER_MAX_DBS = 254  # Q_UPDATED_DB_NAMES count: more databases than logged, no names follow
MARIADB_FL_ALTER_E1 = 0x06  # FL_COMMIT_ALTER_E1 | FL_ROLLBACK_ALTER_E1: a u64 seq_no follows Q_GTID_FLAGS3
FIXED_SIZES = {Q_FLAGS2: 4, Q_SQL_MODE: 8, Q_AUTO_INCREMENT: 4, Q_CHARSET: 6, 7: 2, 8: 2, 9: 8, 10: 4, 13: 3,
               14: 0, 15: 0, Q_EXPLICIT_DEFAULTS_FOR_TIMESTAMP: 1, Q_DDL_LOGGED_WITH_XID: 8, 18: 2, 19: 1, 20: 1,
               21: 1, 128: 3, Q_XID: 8}  # 128: MariaDB Q_HRNOW


def status_variables(status: bytes) -> dict[int, bytes]:
    """The variables of a status block (the bytes after the Query post-header, status_len of them)."""
    values: dict[int, bytes] = {}
    pos, end = 0, len(status)
    while pos < end:
        code = status[pos]
        pos += 1
        size = _size(status, pos, code)
        if size is None or pos + size > end:
            break
        values[code] = status[pos : pos + size]
        pos += size
    return values


def _size(status: bytes, pos: int, code: int) -> int | None:
    fixed = FIXED_SIZES.get(code)
    if fixed is not None:
        return fixed
    if code in (Q_TIME_ZONE, Q_CATALOG_NZ):  # u8 length + text
        return 1 + status[pos]
    if code == Q_CATALOG:  # u8 length + text + NUL
        return 2 + status[pos]
    if code == Q_INVOKER:  # user, host
        user = status[pos]
        return 2 + user + status[pos + 1 + user]
    if code == Q_UPDATED_DB_NAMES:
        return _db_names_size(status, pos)
    if code == Q_GTID_FLAGS3:
        return 9 if status[pos] & MARIADB_FL_ALTER_E1 else 1
    if code == Q_CHARACTER_SET_COLLATIONS:  # u8 count + count x (charset id, collation id)
        return 1 + 4 * status[pos]
    return None


def _db_names_size(status: bytes, pos: int) -> int:
    count, at = status[pos], pos + 1
    if count == OVER_MAX_DBS:
        return 1
    for _ in range(count):
        at = status.index(b"\x00", at) + 1
    return at - pos
