"""Column roles a replayed statement needs from a table definition (row images do not carry them):

- generated columns (VIRTUAL or STORED), which INSERT/UPDATE must not assign: the server refuses a value for them
  (error 3105) and computes them anyway. Only these: a column with an expression default (`DEFAULT
  CURRENT_TIMESTAMP`, `DEFAULT (uuid())`, MySQL's EXTRA `DEFAULT_GENERATED`) is an ordinary column whose logged
  value must be written;
- `ON UPDATE CURRENT_TIMESTAMP` columns, which UPDATE must always assign: left out of SET, the target would set
  them to its own clock even where the row image kept the value.

Definitions are the target's when applying, the source's for SQL output; `forget()` drops the cached ones after
DDL (a CREATE TABLE of the range defines the columns of the rows that follow it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mysqlinspect.connection.connect import LazyConnection
from mysqlinspect.connection.query import query_rows
from mysqlinspect.connection.settings import ConnectionSettings

# MySQL: EXTRA 'VIRTUAL GENERATED' / 'STORED GENERATED' (an expression default is 'DEFAULT_GENERATED').
# MariaDB: EXTRA 'VIRTUAL GENERATED' / 'STORED GENERATED' (PERSISTENT is reported as STORED), IS_GENERATED 'ALWAYS'.
SQL = ("SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s "
       "AND (EXTRA LIKE '%%VIRTUAL GENERATED%%' OR EXTRA LIKE '%%STORED GENERATED%%' "
       "OR EXTRA LIKE '%%PERSISTENT GENERATED%%')")
ON_UPDATE_SQL = ("SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
                 "AND TABLE_NAME = %s AND EXTRA LIKE '%%on update%%'")
UNIQUE_SQL = ("SELECT DISTINCT COLUMN_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %s "
              "AND TABLE_NAME = %s AND NON_UNIQUE = 0 AND INDEX_NAME <> 'PRIMARY' AND COLUMN_NAME IS NOT NULL")


class GeneratedColumns:
    """Callable (source schema, table) -> generated column names of the table `rename(schema)`.table on the
    server of `settings`; one lazy connection per process (fork-safe)."""

    query = SQL

    def __init__(self, settings: ConnectionSettings, rename: Callable[[str], str] = str) -> None:
        self.settings = settings
        self.rename = rename
        self._link = LazyConnection(settings)
        self._cache: dict[tuple[str, str], frozenset[str]] = {}

    def __call__(self, source_schema: str, table: str) -> frozenset[str]:
        schema = self.rename(source_schema)
        key = (schema, table)
        names = self._cache.get(key)
        if names is None:
            rows = query_rows(self._connection(), self.query, (schema, table))
            names = frozenset(str(r["name"]) for r in rows)
            self._cache[key] = names
        return names

    def forget(self) -> None:
        """Drop every cached definition (called after DDL)."""
        self._cache.clear()

    def _connection(self) -> Any:
        return self._link.get()

    def close(self) -> None:
        self._link.close()


class OnUpdateColumns(GeneratedColumns):
    """Callable (source schema, table) -> the `ON UPDATE CURRENT_TIMESTAMP` columns of the table."""

    query = ON_UPDATE_SQL


class UniqueKeyColumns(GeneratedColumns):
    """Callable (source schema, table) -> the columns in a secondary UNIQUE key of the table. A multi-row UPDATE
    that assigns them cannot be batched: the server checks uniqueness row by row in an order of its choosing,
    so a swap of values that the source did in a safe order can fail as a duplicate key."""

    query = UNIQUE_SQL
