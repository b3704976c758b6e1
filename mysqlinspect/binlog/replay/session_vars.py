"""The source session a logged statement ran under, as SET statements (what mysqlbinlog writes before each Query
event): sql_mode, character_set_client / collation_connection / collation_server and time_zone from the Query
event's status variables. Routines, triggers and views keep the sql_mode and character set they were created
with, CREATE DATABASE takes collation_server, and sql_mode decides how DDL parses (ANSI_QUOTES...).

The event holds numbers (a sql_mode bitmask, collation ids) in the numbering of the source flavor; with a
SessionNames (the source server's own translation) they are written as names, which read the same on either flavor.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

import pymysql

from mysqlinspect.binlog.model import QuerySession
from mysqlinspect.connection.connect import open_connection
from mysqlinspect.connection.settings import ConnectionSettings


class Namer(Protocol):
    def sql_mode(self, mask: int) -> str | None: ...

    def collation(self, collation_id: int) -> tuple[str, str] | None: ...  # (character set, collation)


def session_statements(session: QuerySession | None, namer: Namer | None = None) -> list[str]:
    """SET statements reproducing `session` (empty when the event logged none of it)."""
    if session is None:
        return []
    out: list[str] = []
    if session.sql_mode is not None:
        names = namer.sql_mode(session.sql_mode) if namer else None
        out.append(f"SET @@session.sql_mode = '{names}'" if names is not None else
                   f"SET @@session.sql_mode = {session.sql_mode}")
    if session.charset is not None:
        out.append(_charset_statement(session.charset, namer))
    if session.time_zone:
        out.append("SET @@session.time_zone = '" + session.time_zone.replace("'", "''") + "'")
    if session.explicit_defaults_for_timestamp is False:  # the legacy TIMESTAMP defaults (only then: setting it
        out.append("SET @@session.explicit_defaults_for_timestamp = 0")  # needs SESSION_VARIABLES_ADMIN on MySQL)
    return out


def restoring_statements(session: QuerySession | None) -> list[str]:
    """What session_statements set beyond the tool's own session settings, back to the target's default."""
    if session is not None and session.explicit_defaults_for_timestamp is False:
        return ["SET @@session.explicit_defaults_for_timestamp = DEFAULT"]
    return []


def _charset_statement(charset: tuple[int, int, int], namer: Namer | None) -> str:
    client, connection, server = (namer.collation(i) for i in charset) if namer else (None, None, None)
    if client is None or connection is None or server is None:
        return (f"SET @@session.character_set_client = {charset[0]}, @@session.collation_connection = "
                f"{charset[1]}, @@session.collation_server = {charset[2]}")
    return (f"SET @@session.character_set_client = '{client[0]}', @@session.collation_connection = "
            f"'{connection[1]}', @@session.collation_server = '{server[1]}'")


class SessionNames:
    """Numbers of the source flavor -> names, asked of the source server (cached; one lazy connection per
    process). None when the server does not know the number (the statement then carries the number)."""

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings
        self._conn: Any = None
        self._pid = 0
        self._modes: dict[int, str | None] = {}
        self._collations: dict[int, tuple[str, str] | None] = {}

    def sql_mode(self, mask: int) -> str | None:
        if mask not in self._modes:
            self._modes[mask] = self._ask_sql_mode(mask)
        return self._modes[mask]

    def collation(self, collation_id: int) -> tuple[str, str] | None:
        if collation_id not in self._collations:
            row = self._one("SELECT CHARACTER_SET_NAME, COLLATION_NAME FROM information_schema.COLLATIONS "
                            "WHERE ID = %s", (collation_id,))
            self._collations[collation_id] = (str(row[0]), str(row[1])) if row else None
        return self._collations[collation_id]

    def _ask_sql_mode(self, mask: int) -> str | None:
        try:
            with self._connection().cursor() as cur:
                cur.execute("SET @mysqlinspect_saved_mode = @@session.sql_mode")
                cur.execute("SET SESSION sql_mode = %s", (mask,))
                cur.execute("SELECT @@session.sql_mode")
                row = cur.fetchone()
                cur.execute("SET SESSION sql_mode = @mysqlinspect_saved_mode")
        except pymysql.err.MySQLError:
            return None
        text = str(row[0]) if row else None
        return text if text is not None and "'" not in text else None

    def _one(self, sql: str, args: tuple[Any, ...]) -> Any:
        try:
            with self._connection().cursor() as cur:
                cur.execute(sql, args)
                return cur.fetchone()
        except pymysql.err.MySQLError:
            return None

    def _connection(self) -> Any:
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
