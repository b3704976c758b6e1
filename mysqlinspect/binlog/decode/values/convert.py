"""Faithful row values: turn mysql-replication's decoded values into the model's Python values, and those into JSON.

Model values (what RowChange.before/after hold), by ColumnInfo.type_name:
- integers, year: int (YEAR 0000 is 0, not the library's 1900); bit: int (the bit value);
- decimal: decimal.Decimal (exact); float: the shortest decimal that round-trips through float32; double: float;
- char/varchar/text/enum: str; set: list[str] in definition order ([] for the empty set, not NULL);
- binary/varbinary/blob/geometry: bytes (BINARY(n) with its trailing 0x00 padding restored);
- json: the decoded document (dict/list/str/int/float/bool) with str keys, never bytes; the JSON document
  `null` is jsonnull.JSON_NULL (None stays SQL NULL);
- datetime: naive datetime; timestamp: datetime with tzinfo=UTC (the binlog stores UTC);
  zero/invalid dates: the strings "0000-00-00" / "0000-00-00 00:00:00" (ZERO_DATE / ZERO_DATETIME);
- date: datetime.date; time: datetime.timedelta;
- None is SQL NULL; NOT_LOGGED is a column absent from a MINIMAL/NOBLOB image.

JSON rendering (`json_value`): Decimal as a string in plain notation (exact), bytes as "0x" hex, timestamp as
ISO 8601 with "Z", datetime/date ISO 8601, time as "[-]HHH:MM:SS[.ffffff]", NOT_LOGGED as the string
"<not logged>", JSON_NULL as null.
"""

from __future__ import annotations

import datetime as dt
import decimal
import struct
from collections.abc import Callable
from typing import Any

from mysqlinspect.binlog.decode.library.jsonnull import JSON_NULL
from mysqlinspect.binlog.model import NOT_LOGGED

ZERO_DATE = "0000-00-00"
ZERO_DATETIME = "0000-00-00 00:00:00"
NOT_LOGGED_TEXT = "<not logged>"
UTC = dt.UTC

# pymysqlreplication.constants.FIELD_TYPE codes -> type names (character/binary split done with the charset).
FIELD_TYPE_NAMES = {
    0: "decimal", 1: "tinyint", 2: "smallint", 3: "int", 4: "float", 5: "double", 7: "timestamp", 8: "bigint",
    9: "mediumint", 10: "date", 11: "time", 12: "datetime", 13: "year", 14: "date", 15: "varchar", 16: "bit",
    17: "timestamp", 18: "datetime", 19: "time", 245: "json", 246: "decimal", 247: "enum", 248: "set",
    249: "blob", 250: "blob", 251: "blob", 252: "blob", 253: "varchar", 254: "char", 255: "geometry",
}
_TEXT_OF_BINARY = {"blob": "text", "varchar": "varchar", "char": "char"}
_BINARY_NAMES = {"blob": "blob", "varchar": "varbinary", "char": "binary"}

NONE_NULL = "null"
NONE_NOT_LOGGED = "cols bitmap"
NONE_EMPTY_SET = "empty set"
NONE_ZERO_DATES = ("out of date range", "out of datetime range", "out of datetime2 range")


def type_name(field_type: int, charset: str | None) -> str:
    name = FIELD_TYPE_NAMES.get(field_type, f"type{field_type}")
    if name in _TEXT_OF_BINARY:
        return _BINARY_NAMES[name] if charset == "binary" else _TEXT_OF_BINARY[name]
    return name


def decode_json(value: Any) -> Any:
    """mysql-replication returns JSON keys and strings as bytes: decode them recursively (utf-8)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="backslashreplace")
    if isinstance(value, dict):
        return {decode_json(k): decode_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_json(v) for v in value]
    return value


def shortest_float32(value: float) -> float:
    """The shortest decimal that maps to the same float32 (0.30000001192092896 -> 0.3)."""
    packed = struct.pack("<f", value)
    for digits in range(6, 10):
        candidate = float(f"{value:.{digits}g}")
        if struct.pack("<f", candidate) == packed:
            return candidate
    return value


def bits_to_int(value: Any) -> Any:
    return int(value, 2) if isinstance(value, str) else value


def _set_value(column_set_values: tuple[str, ...]) -> Callable[[Any], Any]:
    order = {name: i for i, name in enumerate(column_set_values)}

    def convert(value: Any) -> Any:
        if isinstance(value, (set, frozenset)):
            return sorted(value, key=lambda v: order.get(v, len(order)))
        return value

    return convert


def _timestamp(value: Any) -> Any:
    return value.replace(tzinfo=UTC) if isinstance(value, dt.datetime) else value


def _negative_time(value: Any) -> Any:
    """mysql-replication decodes a negative TIME2 with a fraction as -(whole + (1 - fraction)): -1.25 s comes back
    as -1.75 s (the stored fraction is the complement). Undo that (both flavors; positive values are right)."""
    if not isinstance(value, dt.timedelta) or value >= dt.timedelta(0):
        return value
    magnitude = -value
    micro = magnitude.microseconds
    if not micro:
        return value
    return -(magnitude - dt.timedelta(microseconds=micro) + dt.timedelta(microseconds=1_000_000 - micro))


def _year(value: Any) -> Any:
    return 0 if value == 1900 else value


def _binary_padding(length: int) -> Callable[[Any], Any]:
    """BINARY(n) values are logged without their trailing 0x00 bytes: put them back (the stored value)."""

    def pad(value: Any) -> Any:
        if isinstance(value, str):  # the library gives '' for an empty binary value
            value = value.encode("utf-8", "surrogateescape")
        if isinstance(value, (bytes, bytearray)) and len(value) < length:
            return bytes(value) + b"\x00" * (length - len(value))
        return value

    return pad


def converter_for(type_name_: str, set_values: tuple[str, ...] = (), length: int | None = None
                  ) -> Callable[[Any], Any] | None:
    """A function fixing up a non-None library value for this column type, or None when it is already right."""
    if type_name_ == "json":
        return decode_json
    if type_name_ == "float":
        return shortest_float32
    if type_name_ == "bit":
        return bits_to_int
    if type_name_ == "set":
        return _set_value(set_values)
    if type_name_ == "timestamp":
        return _timestamp
    if type_name_ == "time":
        return _negative_time
    if type_name_ == "year":
        return _year
    if type_name_ == "binary" and length:
        return _binary_padding(length)
    return None


def none_value(type_name_: str, source: str | None) -> Any:
    """What a library None means, from its none_source: NULL, not logged, empty set or a zero date."""
    if source == NONE_NOT_LOGGED:
        return NOT_LOGGED
    if source == NONE_EMPTY_SET and type_name_ == "set":
        return []
    if source in NONE_ZERO_DATES:
        return ZERO_DATE if type_name_ == "date" else ZERO_DATETIME
    return None


def format_time(value: dt.timedelta) -> str:
    total_us = value.days * 86_400_000_000 + value.seconds * 1_000_000 + value.microseconds
    sign = "-" if total_us < 0 else ""
    total_us = abs(total_us)
    seconds, micros = divmod(total_us, 1_000_000)
    hours, rem = divmod(seconds, 3600)
    minutes, secs = divmod(rem, 60)
    frac = f".{micros:06d}" if micros else ""
    return f"{sign}{hours:02d}:{minutes:02d}:{secs:02d}{frac}"


def json_value(value: Any) -> Any:
    """A model value as a JSON-ready value (see the module docstring)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, decimal.Decimal):
        return format(value, "f")  # plain notation, all digits: 0.000000 (not 0E-6), exactly the stored value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "0x" + bytes(value).hex()
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            return value.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return format_time(value)
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_value(v) for v in value]
    if value is NOT_LOGGED:
        return NOT_LOGGED_TEXT
    if value is JSON_NULL:
        return None
    return str(value)


def json_default(value: Any) -> Any:
    """`default=` for json.dumps: the non-native model values (the encoder handles the rest natively)."""
    converted = json_value(value)
    if converted is value and value is not None:
        raise TypeError(f"not JSON serialisable: {type(value).__name__}")
    return converted


def json_row(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {k: json_value(v) for k, v in row.items()}


def display_value(value: Any, type_name_: str = "") -> str:
    """A model value for the human view: SQL-ish literals (NULL, 0x.., b'..', 'text')."""
    if value is None:
        return "NULL"
    if value is NOT_LOGGED:
        return NOT_LOGGED_TEXT
    if value is JSON_NULL:
        return "null"
    if type_name_ == "bit" and isinstance(value, int):
        return f"b'{value:b}'"
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ") + " UTC"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.timedelta):
        return format_time(value)
    if isinstance(value, list) and type_name_ == "set":
        return "'" + ",".join(value) + "'"
    if isinstance(value, (dict, list)) or type_name_ == "json":
        import json

        return json.dumps(json_value(value), ensure_ascii=False)
    if isinstance(value, str):
        return repr(value)
    return str(value)
