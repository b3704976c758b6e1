"""The server dump connection: its pymysql arguments (PREFERRED TLS falling back to plain), a unique replica id, and
what its errors mean (transient and retried, or a mysqlinspect error with the right exit code).

Shared by both server sources: the library-decoded `read/server/stream.py` and the header-only `source/rawdump.py`.
"""

from __future__ import annotations

import random
import struct
from typing import Any

import pymysql

from mysqlinspect.binlog.position import BinlogPosition
from mysqlinspect.connection.connect import CR_SSL_NOT_SUPPORTED, pymysql_kwargs
from mysqlinspect.connection.settings import ConnectionSettings
from mysqlinspect.errors import (
    AuthError,
    BinlogNotEnabledError,
    ConnectError,
    DataError,
    InputNotFoundError,
    MysqlInspectError,
    PrivilegeError,
)

ER_MASTER_FATAL_ERROR_READING_BINLOG = 1236
ER_NO_BINARY_LOGGING = 1381
ER_ACCESS_DENIED = 1045
PRIVILEGE_CODES = frozenset({1044, 1142, 1143, 1227, 1370})
TRANSIENT_CODES = frozenset({0, 1053, 1077, 1152, 1158, 1159, 1160, 1161, 1317, 1927, 2002, 2003, 2006, 2013, 2055})
REPLICA_ID_RANGE = (1_000_000_000, 4_000_000_000)


_TLS_REFUSED: set[str] = set()


def dump_connection_kwargs(settings: ConnectionSettings) -> dict[str, Any]:
    """pymysql.connect arguments for a dump connection; PREFERRED TLS falls back to plain like the CLI does."""
    kwargs = pymysql_kwargs(settings)
    if "ssl" not in kwargs or settings.ssl_mode != "PREFERRED":
        return kwargs
    if settings.endpoint in _TLS_REFUSED:
        kwargs.pop("ssl")
        return kwargs
    try:
        pymysql.connect(**kwargs).close()
    except pymysql.err.OperationalError as exc:
        if exc.args and exc.args[0] == CR_SSL_NOT_SUPPORTED:
            _TLS_REFUSED.add(settings.endpoint)
            kwargs.pop("ssl")
    return kwargs


def random_replica_id(avoid: int | None = None) -> int:
    """A replica server id unlikely to collide with real replicas or other tails."""
    while True:
        value = random.randint(*REPLICA_ID_RANGE)
        if value != avoid:
            return value


class DumpEnded(ConnectionError):
    """A blocking (--follow) dump that the server ended: reconnect like after a dropped connection."""


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, MysqlInspectError):
        return False
    if isinstance(exc, (pymysql.err.OperationalError, pymysql.err.InternalError, pymysql.err.InterfaceError)):
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
        return code in TRANSIENT_CODES
    return isinstance(exc, (ConnectionError, OSError, EOFError, struct.error, IndexError))


def translate_stream_error(exc: BaseException, start: BinlogPosition) -> MysqlInspectError:
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
    message = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    if code == ER_NO_BINARY_LOGGING:
        return BinlogNotEnabledError("binary logging is not enabled on this server (log_bin=OFF)")
    if code == ER_MASTER_FATAL_ERROR_READING_BINLOG:
        if "first log file" in message.lower() or "could not find" in message.lower():
            return InputNotFoundError(f"binlog file {start.file} is not on the server (purged?): {message}")
        return DataError(f"the server cannot send the binlog from {start}: {message}")
    if isinstance(exc, MysqlInspectError):
        return exc
    if code == ER_ACCESS_DENIED:
        return AuthError(f"authentication failed for the binlog dump: {message}")
    if code in PRIVILEGE_CODES:
        return PrivilegeError(f"{message} (reading the binlog needs REPLICATION SLAVE; listing files needs "
                              "REPLICATION CLIENT or BINLOG MONITOR)", grant="REPLICATION SLAVE")
    return ConnectError(f"binlog stream failed: {message}")
