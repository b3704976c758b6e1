"""Binlog column type codes (enum_field_types as written in Table_map events) and how metadata is laid out."""

from __future__ import annotations

DECIMAL_OLD, TINY, SHORT, LONG, FLOAT, DOUBLE, NULL, TIMESTAMP, LONGLONG, INT24 = range(10)
DATE, TIME, DATETIME, YEAR, NEWDATE, VARCHAR, BIT, TIMESTAMP2, DATETIME2, TIME2, TYPED_ARRAY = range(10, 21)
BLOB_COMPRESSED, VARCHAR_COMPRESSED = 140, 141  # MariaDB
VECTOR, JSON, NEWDECIMAL, ENUM, SET = 242, 245, 246, 247, 248
TINY_BLOB, MEDIUM_BLOB, LONG_BLOB, BLOB, VAR_STRING, STRING, GEOMETRY = 249, 250, 251, 252, 253, 254, 255

ONE_META_BYTE = frozenset({FLOAT, DOUBLE, BLOB, GEOMETRY, JSON, VECTOR, TIMESTAMP2, DATETIME2, TIME2,
                           BLOB_COMPRESSED, TINY_BLOB, MEDIUM_BLOB, LONG_BLOB})
TWO_META_BYTES = frozenset({VARCHAR, VAR_STRING, BIT, NEWDECIMAL, STRING, VARCHAR_COMPRESSED, ENUM, SET})

# Which columns each per-column optional-metadata list counts (rows_event.h / sql/log_event.cc).
NUMERIC = frozenset({TINY, SHORT, INT24, LONG, LONGLONG, YEAR, FLOAT, DOUBLE, DECIMAL_OLD, NEWDECIMAL})
CHARACTER = frozenset({STRING, VAR_STRING, VARCHAR, BLOB, VARCHAR_COMPRESSED, BLOB_COMPRESSED})

NAMES = {
    TINY: "tinyint", SHORT: "smallint", INT24: "mediumint", LONG: "int", LONGLONG: "bigint", FLOAT: "float",
    DOUBLE: "double", NEWDECIMAL: "decimal", BIT: "bit", YEAR: "year", DATE: "date", NEWDATE: "date",
    TIME: "time", TIME2: "time", DATETIME: "datetime", DATETIME2: "datetime", TIMESTAMP: "timestamp",
    TIMESTAMP2: "timestamp", JSON: "json", ENUM: "enum", SET: "set", GEOMETRY: "geometry", VECTOR: "vector",
}
