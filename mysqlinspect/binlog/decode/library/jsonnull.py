"""The JSON `null` document, kept apart from SQL NULL (mysql-replication returns None for both).

`install()` wraps the library's per-row column reader: it starts each row image with fresh none-sources (the
library keeps them per event, so a value can inherit the reason of an earlier row) and marks a JSON column that
is None without a recorded reason (the null bitmap was clear) as JSON_NULL. Replay installs it; the SQL literal
of JSON_NULL is CAST('null' AS JSON).
"""

from __future__ import annotations

from typing import Any

from pymysqlreplication.constants import FIELD_TYPE
from pymysqlreplication.row_event import RowsEvent

_NONE_SOURCES = "_RowsEvent__none_sources"
INSTALLED_FLAG = "_mysqlinspect_json_null"  # set on every wrapper that already handles JSON null


class _JsonNull:
    """Sentinel: a JSON column holding the JSON literal null (not SQL NULL)."""

    _instance: _JsonNull | None = None

    def __new__(cls) -> _JsonNull:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "JSON_NULL"

    def __reduce__(self) -> str:
        return "JSON_NULL"


JSON_NULL = _JsonNull()


def install() -> None:
    """Patch RowsEvent._read_column_data once (idempotent)."""
    original = RowsEvent._read_column_data
    if getattr(original, INSTALLED_FLAG, False):
        return

    def read_column_data(self: Any, cols_bitmap: Any, row_image_type: Any = None) -> dict[str, Any]:
        setattr(self, _NONE_SOURCES, {})
        values: dict[str, Any] = original(self, cols_bitmap, row_image_type)
        sources = getattr(self, _NONE_SOURCES)
        table = self.table_map[self.table_id]
        for i, column in enumerate(self.columns):
            if column.type != FIELD_TYPE.JSON:
                continue
            name = table.columns[i].name or f"UNKNOWN_COL{i}"
            if name in values and values[name] is None and name not in sources:
                values[name] = JSON_NULL
        return values

    setattr(read_column_data, INSTALLED_FLAG, True)
    RowsEvent._read_column_data = read_column_data
