"""Column names and keys a binlog does not carry, from the current table definition (a SchemaLookup).

Both decoders use it: without FULL row metadata a Table_map has no column names and no primary key, and a
table without a primary key may still have unique keys. Names are taken only when the current definition has
as many columns as the event; otherwise columns are @1..@n. One warning per table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


class SchemaLookup(Protocol):
    """Where column names and keys come from when the binlog lacks FULL metadata (the current definition)."""

    def column_names(self, schema: str, table: str) -> list[str]: ...

    def primary_key(self, schema: str, table: str) -> list[str]: ...

    def unique_keys(self, schema: str, table: str) -> list[list[str]]: ...


@dataclass
class SchemaFallback:
    lookup: SchemaLookup | None = None
    warn: Callable[[str], None] = lambda message: None
    _warned: set[str] = field(default_factory=set)

    def names(self, schema: str, table: str, count: int) -> list[str]:
        """The current definition's column names if it has `count` columns, else @1..@count (with a warning)."""
        names: list[str] = []
        if self.lookup is not None:
            names = _safe(lambda: self.lookup.column_names(schema, table), [])  # type: ignore[union-attr]
        ident = f"{schema}.{table}"
        if len(names) == count:
            self._warn_once(ident, f"{ident}: the binlog has no column names (binlog_row_metadata is not FULL); "
                                   "names are taken from the current table definition and may be wrong if the "
                                   "table changed since")
            return names
        self._warn_once(ident, f"{ident}: the binlog has no column names and the current definition does not "
                               f"match ({len(names)} columns now, {count} in the event); columns shown as @1..@{count}")
        return [f"@{i + 1}" for i in range(count)]

    def keys(self, schema: str, table: str) -> tuple[list[str], list[list[str]]]:
        """(primary key, unique keys when there is no primary key) of the current definition."""
        if self.lookup is None:
            return [], []
        pk = _safe(lambda: self.lookup.primary_key(schema, table), [])  # type: ignore[union-attr]
        if pk:
            return pk, []
        return [], _safe(lambda: self.lookup.unique_keys(schema, table), [])  # type: ignore[union-attr]

    def _warn_once(self, ident: str, message: str) -> None:
        if ident not in self._warned:
            self._warned.add(ident)
            self.warn(message)


def _safe(fn: Callable[[], Any], default: Any) -> Any:
    try:
        return fn()
    except Exception:
        return default
