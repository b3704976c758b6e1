"""A Query event's status variables -> the QuerySession its statement ran under (sql_mode, charsets, time zone,
explicit_defaults_for_timestamp), from the variables source/status_vars.py walks.
"""

from __future__ import annotations

from mysqlinspect.binlog.model import QuerySession
from mysqlinspect.binlog.source.status_vars import (
    Q_CHARSET,
    Q_EXPLICIT_DEFAULTS_FOR_TIMESTAMP,
    Q_FLAGS2,
    Q_SQL_MODE,
    Q_TIME_ZONE,
    status_variables,
)

MARIADB_EXPLICIT_DEFAULTS_TS = 0x1000000  # Q_FLAGS2 bit of explicit_defaults_for_timestamp (MariaDB)
MAX_CACHED_SESSIONS = 4096
_SESSIONS: dict[tuple[bytes, bool], QuerySession] = {}  # by status block: the same for most BEGINs of a session


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
    """The session of a status block (QuerySession is frozen: one object per distinct block, cached)."""
    key = (status, mariadb)
    found = _SESSIONS.get(key)
    if found is None:
        if len(_SESSIONS) > MAX_CACHED_SESSIONS:
            _SESSIONS.clear()
        found = _SESSIONS[key] = _parse_session(status, mariadb)
    return found


def _parse_session(status: bytes, mariadb: bool) -> QuerySession:
    values = status_variables(status)
    return build_session(_int(values.get(Q_SQL_MODE)), _charset(values.get(Q_CHARSET)),
                         _zone(values.get(Q_TIME_ZONE)), _int(values.get(Q_EXPLICIT_DEFAULTS_FOR_TIMESTAMP)),
                         _int(values.get(Q_FLAGS2)), mariadb)


def _int(value: bytes | None) -> int | None:
    return int.from_bytes(value, "little") if value is not None else None


def _charset(value: bytes | None) -> tuple[int, int, int] | None:
    if value is None:
        return None
    return (int.from_bytes(value[0:2], "little"), int.from_bytes(value[2:4], "little"),
            int.from_bytes(value[4:6], "little"))


def _zone(value: bytes | None) -> bytes | None:
    return value[1:] if value is not None and len(value) > 1 else None
