"""Open PyMySQL connections from ConnectionSettings and map driver errors to domain errors."""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pymysql
import pymysql.cursors

from mysqlinspect.connection.settings import ConnectionSettings
from mysqlinspect.errors import AuthError, ConnectError, MysqlInspectError, PrivilegeError, UsageError

# Server error codes (include/mysqld_error.h, errmsg.h).
ER_DBACCESS_DENIED = 1044
ER_ACCESS_DENIED = 1045
ER_SPECIFIC_ACCESS_DENIED = 1227
ER_TABLEACCESS_DENIED = 1142
ER_COLUMNACCESS_DENIED = 1143
CR_CONNECTION_ERROR = 2002
CR_CONN_HOST_ERROR = 2003
CR_SERVER_GONE = 2006
CR_SERVER_LOST = 2013
CR_SSL_NOT_SUPPORTED = 2026
ER_PLUGIN_AUTH = (1251, 1698, 2059, 2061)

_PRIVILEGE_CODES = {ER_DBACCESS_DENIED, ER_SPECIFIC_ACCESS_DENIED, ER_TABLEACCESS_DENIED, ER_COLUMNACCESS_DENIED, 1227}


def pymysql_kwargs(settings: ConnectionSettings) -> dict[str, Any]:
    """The keyword arguments for pymysql.connect (also used for mysql-replication's connection_settings)."""
    kwargs: dict[str, Any] = {
        "user": settings.user,
        "password": settings.password or "",
        "connect_timeout": settings.connect_timeout,
        "charset": "utf8mb4",
        "autocommit": True,
    }
    if settings.uses_socket:
        kwargs["unix_socket"] = settings.socket
    else:
        kwargs["host"] = settings.host
        kwargs["port"] = settings.port
    ssl_ctx = _ssl_context(settings)
    if ssl_ctx is not None:
        kwargs["ssl"] = ssl_ctx
    elif settings.ssl_mode == "DISABLED":
        kwargs["ssl_disabled"] = True  # PyMySQL >= 1.1.2 otherwise tries TLS by itself (its own PREFERRED)
    return kwargs


def _ssl_context(settings: ConnectionSettings) -> ssl.SSLContext | None:
    mode = settings.ssl_mode
    if mode == "DISABLED" or (mode == "PREFERRED" and settings.uses_socket):
        return None
    try:
        ctx = ssl.create_default_context(cafile=settings.ssl_ca) if settings.ssl_ca else ssl.create_default_context()
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(f"cannot load --ssl-ca {settings.ssl_ca}: {_ssl_reason(exc)}") from exc
    if settings.ssl_cert:
        try:
            ctx.load_cert_chain(settings.ssl_cert, settings.ssl_key)
        except (OSError, ssl.SSLError) as exc:
            key = f" / --ssl-key {settings.ssl_key}" if settings.ssl_key else ""
            raise UsageError(f"cannot load --ssl-cert {settings.ssl_cert}{key}: {_ssl_reason(exc)}") from exc
    ctx.check_hostname = mode == "VERIFY_IDENTITY"
    if mode not in ("VERIFY_CA", "VERIFY_IDENTITY"):
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _ssl_reason(exc: OSError | ssl.SSLError) -> str:
    return str(getattr(exc, "reason", None) or exc.strerror or exc)


def translate_error(exc: BaseException, settings: ConnectionSettings) -> MysqlInspectError:
    """Turn a PyMySQL/OS error into a one-line domain error."""
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
    message = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    if code == ER_ACCESS_DENIED or code in ER_PLUGIN_AUTH:
        return AuthError(f"authentication failed for user {settings.user!r} at {settings.endpoint}: {message}")
    if code in _PRIVILEGE_CODES:
        return PrivilegeError(message)
    if code in (CR_CONNECTION_ERROR, CR_CONN_HOST_ERROR, CR_SERVER_GONE, CR_SERVER_LOST) or isinstance(
        exc, OSError
    ):
        return ConnectError(f"cannot connect to {settings.endpoint}: {_short_reason(message)}")
    if isinstance(exc, ssl.SSLError):
        return ConnectError(f"TLS failure with {settings.endpoint}: {exc}")
    return ConnectError(f"server error at {settings.endpoint}: {message}")


def _short_reason(message: str) -> str:
    reason = message.split("(", 1)[-1].rstrip(")") if "(" in message else message
    return reason.strip() or message


def open_connection(settings: ConnectionSettings, read_only: bool = True) -> pymysql.connections.Connection:
    """Connect; on read-only sessions set `transaction_read_only` where the server allows it."""
    if settings.uses_socket and settings.socket and not _socket_exists(settings.socket):
        raise ConnectError(f"cannot connect to {settings.endpoint}: socket file does not exist")
    kwargs = pymysql_kwargs(settings)
    try:
        conn = connect_preferring_tls(settings, kwargs)
    except (pymysql.err.MySQLError, OSError, ssl.SSLError) as exc:
        raise translate_error(exc, settings) from exc
    if settings.ssl_mode in ("REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY") and not _is_tls(conn):
        conn.close()
        raise ConnectError(f"--ssl-mode={settings.ssl_mode} but {settings.endpoint} does not offer TLS")
    if read_only:
        make_session_read_only(conn)
    return conn


def connect_preferring_tls(settings: ConnectionSettings, kwargs: dict[str, Any]) -> pymysql.connections.Connection:
    """PREFERRED: use TLS when the server offers it, plain otherwise (PyMySQL alone would refuse)."""
    try:
        return pymysql.connect(**kwargs)
    except pymysql.err.OperationalError as exc:
        if settings.ssl_mode != "PREFERRED" or "ssl" not in kwargs or exc.args[0] != CR_SSL_NOT_SUPPORTED:
            raise
    plain = {k: v for k, v in kwargs.items() if k != "ssl"}
    return pymysql.connect(**plain)


def _socket_exists(path: str) -> bool:
    import os

    return os.path.exists(path)


def _is_tls(conn: pymysql.connections.Connection) -> bool:
    return isinstance(getattr(conn, "_sock", None), ssl.SSLSocket)


def make_session_read_only(conn: pymysql.connections.Connection) -> None:
    for statement in ("SET SESSION transaction_read_only = 1", "SET SESSION tx_read_only = 1"):
        try:
            with conn.cursor() as cur:
                cur.execute(statement)
            return
        except pymysql.err.MySQLError:
            continue


@contextmanager
def connect(settings: ConnectionSettings, read_only: bool = True) -> Iterator[pymysql.connections.Connection]:
    """Context manager around open_connection that always closes."""
    conn = open_connection(settings, read_only=read_only)
    try:
        yield conn
    finally:
        try:
            conn.close()
        except pymysql.err.Error:
            pass


class LazyConnection:
    """One read-only connection opened on first use, per process: a forked child opens its own instead of reusing
    the parent's socket. `get()` returns it; `close()` closes it (only in the process that opened it)."""

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings
        self._conn: Any = None
        self._pid = 0

    def get(self) -> Any:
        if self._conn is None or self._pid != os.getpid():
            self._conn = open_connection(self.settings)
            self._pid = os.getpid()
        return self._conn

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            try:
                self._conn.close()
            except Exception:
                pass
        self._conn = None
