"""Connection settings, option files, login paths and server detection (no click, no rich)."""

from __future__ import annotations

from mysqlinspect.connection.connect import connect, open_connection, pymysql_kwargs
from mysqlinspect.connection.settings import CommandLineOptions, ConnectionSettings, resolve_settings

__all__ = [
    "CommandLineOptions",
    "ConnectionSettings",
    "connect",
    "open_connection",
    "pymysql_kwargs",
    "resolve_settings",
]
