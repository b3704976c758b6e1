"""Column names and keys from the *current* table definition (information_schema), for binlogs without FULL
row metadata or with a lost primary key (binlog_checksum=NONE drops the last Table_map metadata field)."""

from __future__ import annotations

from typing import Any

from mysqlinspect.connection.connect import LazyConnection
from mysqlinspect.connection.query import query_rows
from mysqlinspect.connection.settings import ConnectionSettings


class InformationSchemaLookup:
    """Lazily connects; caches per table. Needs SELECT on the tables (information_schema shows only those)."""

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings
        self._link = LazyConnection(settings)
        self._columns: dict[tuple[str, str], list[str]] = {}
        self._keys: dict[tuple[str, str], dict[str, list[str]]] = {}

    def _connection(self) -> Any:
        return self._link.get()

    def close(self) -> None:
        self._link.close()

    def column_names(self, schema: str, table: str) -> list[str]:
        key = (schema, table)
        if key not in self._columns:
            rows = query_rows(self._connection(),
                              "SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS "
                              "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION", (schema, table))
            self._columns[key] = [str(r["name"]) for r in rows]
        return self._columns[key]

    def _unique_indexes(self, schema: str, table: str) -> dict[str, list[str]]:
        key = (schema, table)
        if key not in self._keys:
            rows = query_rows(self._connection(),
                              "SELECT INDEX_NAME AS idx, COLUMN_NAME AS col FROM information_schema.STATISTICS "
                              "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s AND NON_UNIQUE = 0 "
                              "ORDER BY INDEX_NAME, SEQ_IN_INDEX", (schema, table))
            indexes: dict[str, list[str]] = {}
            for r in rows:
                indexes.setdefault(str(r["idx"]), []).append(str(r["col"]))
            self._keys[key] = indexes
        return self._keys[key]

    def primary_key(self, schema: str, table: str) -> list[str]:
        return list(self._unique_indexes(schema, table).get("PRIMARY", []))

    def unique_keys(self, schema: str, table: str) -> list[list[str]]:
        return [cols for name, cols in self._unique_indexes(schema, table).items() if name != "PRIMARY"]
