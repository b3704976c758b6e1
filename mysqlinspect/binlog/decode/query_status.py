"""A Query event's status variables -> the QuerySession its statement ran under (sql_mode, charsets, time zone,
explicit_defaults_for_timestamp). Codes and sizes: libbinlogevents statement_events.cpp, MariaDB log_event.h.

Parsing stops at a code it does not know (its size is unknown); what was read so far is kept.
"""

from __future__ import annotations

from mysqlinspect.binlog.model import QuerySession

Q_FLAGS2, Q_SQL_MODE, Q_CATALOG, Q_AUTO_INCREMENT, Q_CHARSET, Q_TIME_ZONE, Q_CATALOG_NZ = 0, 1, 2, 3, 4, 5, 6
Q_INVOKER, Q_UPDATED_DB_NAMES, Q_EXPLICIT_DEFAULTS_FOR_TIMESTAMP = 11, 12, 16
MARIADB_EXPLICIT_DEFAULTS_TS = 0x1000000  # Q_FLAGS2 bit of explicit_defaults_for_timestamp (MariaDB)
OVER_MAX_DBS = 254
FIXED_SIZES = {Q_FLAGS2: 4, Q_SQL_MODE: 8, Q_AUTO_INCREMENT: 4, Q_CHARSET: 6, 7: 2, 8: 2, 9: 8, 10: 4, 13: 3,
               14: 0, 15: 0, Q_EXPLICIT_DEFAULTS_FOR_TIMESTAMP: 1, 17: 8, 18: 2, 19: 1, 20: 1,
               128: 3, 129: 8, 130: 1}  # 128.. MariaDB: Q_HRNOW, Q_XID, Q_GTID_FLAGS3


def build_session(sql_mode: int | None, charset: tuple[int, int, int] | None, time_zone: str | bytes | None,
                  explicit_defaults: int | None, flags2: int | None, mariadb: bool) -> QuerySession:
    """The session from the variables logged (None: not logged). MariaDB logs explicit_defaults_for_timestamp
    as a Q_FLAGS2 bit, MySQL as a variable of its own."""
    if mariadb and flags2 is not None:
        explicit_defaults = flags2 & MARIADB_EXPLICIT_DEFAULTS_TS
    zone = time_zone.decode("ascii", "replace") if isinstance(time_zone, bytes) else time_zone
    return QuerySession(sql_mode=int(sql_mode) if sql_mode is not None else None, charset=charset, time_zone=zone,
                        explicit_defaults_for_timestamp=bool(explicit_defaults) if explicit_defaults is not None
                        else None)


def parse_session(status: bytes, mariadb: bool) -> QuerySession:
    values: dict[int, bytes] = {}
    pos, end = 0, len(status)
    while pos < end:
        code = status[pos]
        pos += 1
        size = _size(status, pos, code)
        if size is None:
            break
        values[code] = status[pos : pos + size]
        pos += size
    return build_session(_int(values.get(Q_SQL_MODE)), _charset(values.get(Q_CHARSET)),
                         _zone(values.get(Q_TIME_ZONE)), _int(values.get(Q_EXPLICIT_DEFAULTS_FOR_TIMESTAMP)),
                         _int(values.get(Q_FLAGS2)), mariadb)


def _size(status: bytes, pos: int, code: int) -> int | None:
    fixed = FIXED_SIZES.get(code)
    if fixed is not None:
        return fixed
    if code in (Q_TIME_ZONE, Q_CATALOG_NZ):
        return 1 + status[pos]
    if code == Q_CATALOG:
        return 2 + status[pos]
    if code == Q_INVOKER:
        user = status[pos]
        return 2 + user + status[pos + 1 + user]
    if code == Q_UPDATED_DB_NAMES:
        count = status[pos]
        if count == OVER_MAX_DBS:
            return 1
        at = pos + 1
        for _ in range(count):
            at = status.index(b"\x00", at) + 1
        return at - pos
    return None


def _int(value: bytes | None) -> int | None:
    return int.from_bytes(value, "little") if value is not None else None


def _charset(value: bytes | None) -> tuple[int, int, int] | None:
    if value is None:
        return None
    return (int.from_bytes(value[0:2], "little"), int.from_bytes(value[2:4], "little"),
            int.from_bytes(value[4:6], "little"))


def _zone(value: bytes | None) -> bytes | None:
    return value[1:] if value is not None and len(value) > 1 else None
