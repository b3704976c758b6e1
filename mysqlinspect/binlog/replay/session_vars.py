"""The source session a logged statement ran under, as SET statements (what mysqlbinlog writes before each Query
event): sql_mode, character_set_client / collation_connection / collation_server and time_zone from the Query
event's status variables. Routines, triggers and views keep the sql_mode and character set they were created
with, CREATE DATABASE takes collation_server, and sql_mode decides how DDL parses (ANSI_QUOTES...).

The event holds numbers (a sql_mode bitmask, collation ids) in the numbering of the source flavor; with a
SessionNames (the source server's own translation) they are written as names, which read the same on either flavor.
"""

from __future__ import annotations

from typing import Any, Protocol

import pymysql

from mysqlinspect.binlog.model import QuerySession
from mysqlinspect.connection.connect import LazyConnection
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
        self._link = LazyConnection(settings)
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
        return self._link.get()

    def close(self) -> None:
        self._link.close()


# sql_mode names a server of each flavor accepts (SET fails on any other). MySQL 8.0+ dropped NO_AUTO_CREATE_USER
# and never had MariaDB's own modes; MariaDB lacks only TIME_TRUNCATE_FRACTIONAL (its default behaviour).
MYSQL_SQL_MODES = frozenset({
    "ALLOW_INVALID_DATES", "ANSI", "ANSI_QUOTES", "ERROR_FOR_DIVISION_BY_ZERO", "HIGH_NOT_PRECEDENCE", "IGNORE_SPACE",
    "NO_AUTO_VALUE_ON_ZERO", "NO_BACKSLASH_ESCAPES", "NO_DIR_IN_CREATE", "NO_ENGINE_SUBSTITUTION",
    "NO_UNSIGNED_SUBTRACTION", "NO_ZERO_DATE", "NO_ZERO_IN_DATE", "ONLY_FULL_GROUP_BY", "PAD_CHAR_TO_FULL_LENGTH",
    "PIPES_AS_CONCAT", "REAL_AS_FLOAT", "STRICT_ALL_TABLES", "STRICT_TRANS_TABLES", "TIME_TRUNCATE_FRACTIONAL",
    "TRADITIONAL",
})
NOT_ON_MARIADB = frozenset({"TIME_TRUNCATE_FRACTIONAL"})


class TargetSessionNames(SessionNames):
    """The source session's names as a target of the other flavor accepts them: sql_mode without the modes it does
    not have, and a collation it lacks (MySQL's utf8mb4_0900_ai_ci on MariaDB) replaced by the default collation
    of the same character set there (asked of the target)."""

    def __init__(self, source_names: Namer, target: ConnectionSettings, target_family: str) -> None:
        super().__init__(target)
        self.source_names = source_names
        self.target_family = target_family
        self._target_collations: dict[int, tuple[str, str] | None] = {}

    def sql_mode(self, mask: int) -> str | None:
        names = self.source_names.sql_mode(mask)
        if names is None:
            return None
        if self.target_family == "mariadb":
            kept = [n for n in names.split(",") if n and n.upper() not in NOT_ON_MARIADB]
        else:
            kept = [n for n in names.split(",") if n.upper() in MYSQL_SQL_MODES]
        return ",".join(kept)

    def collation(self, collation_id: int) -> tuple[str, str] | None:
        if collation_id not in self._target_collations:
            self._target_collations[collation_id] = self._on_target(self.source_names.collation(collation_id))
        return self._target_collations[collation_id]

    def _on_target(self, pair: tuple[str, str] | None) -> tuple[str, str] | None:
        if pair is None:
            return None
        charset, collation = pair
        if self._one("SELECT 1 FROM information_schema.COLLATIONS WHERE COLLATION_NAME = %s", (collation,)):
            return pair
        row = self._one("SELECT DEFAULT_COLLATE_NAME FROM information_schema.CHARACTER_SETS "
                        "WHERE CHARACTER_SET_NAME = %s", (charset,))
        return (charset, str(row[0])) if row else None
