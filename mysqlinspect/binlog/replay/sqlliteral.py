"""Exact SQL literals for binlog row values: every value renders to text the server parses back to the same value.

Rules (see the README, `binlog replay` section):
- DOUBLE as the shortest repr that round-trips, FLOAT as the shortest text that rounds back to the same 32-bit
  float (WHERE comparisons use the exact double value of the float instead), negative zero as -0e0;
- DECIMAL in plain notation; BIT as b'...'; binary strings and GEOMETRY as X'...';
- TIMESTAMP as UTC text (the session runs with time_zone '+00:00'; epoch 0 is the zero timestamp);
- JSON (a decoded document, see mysqlinspect.binlog.decode.values.convert) as CAST('...' AS JSON) on MySQL and
  as its text on MariaDB (where JSON is LONGTEXT); SET in definition order;
- text doubles quotes and falls back to `_utf8mb4 X'...'` when it holds a backslash or a control character, so
  the result does not depend on NO_BACKSLASH_ESCAPES.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
import struct
from collections.abc import Callable, Hashable, Iterable
from decimal import Decimal
from types import ModuleType
from typing import Any, TypeVar

from mysqlinspect.binlog.decode.library.jsonnull import JSON_NULL
from mysqlinspect.binlog.decode.values.convert import ZERO_DATETIME, format_time
from mysqlinspect.binlog.model import NOT_LOGGED, ColumnInfo
from mysqlinspect.errors import DataError

sqltext: ModuleType | None
try:
    from mysqlinspect.binlog.replay import _sqltext  # row tuples in C (optional, built at install)
except ImportError:
    sqltext = None
else:
    sqltext = _sqltext

BINARY_TYPES = frozenset({"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "vector"})
GEOMETRY_TYPES = frozenset({
    "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
    "geometrycollection", "geomcollection",
})
NEGATIVE_ZERO = "-0e0"
EPOCH = dt.datetime(1970, 1, 1)
FLT_MAX = 3.4028234663852886e38  # a FLOAT literal above this is out of range even when it rounds to FLT_MAX
_NEEDS_HEX = re.compile(r"[\x00-\x1f\x7f\\]")  # a backslash or a control character: text goes as hex


def quote_identifier(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def qualified_name(schema: str, table: str) -> str:
    return f"{quote_identifier(schema)}.{quote_identifier(table)}"


def string_literal(text: str) -> str:
    """A quoted string that parses the same with and without NO_BACKSLASH_ESCAPES."""
    if _NEEDS_HEX.search(text):
        return "_utf8mb4 X'" + text.encode("utf-8", "surrogatepass").hex().upper() + "'"
    return "'" + text.replace("'", "''") + "'"


def hex_literal(data: bytes | bytearray | memoryview) -> str:
    raw = bytes(data)
    return "X'" + raw.hex().upper() + "'" if raw else "''"


def double_literal(value: float) -> str:
    """repr round-trips; negative zero needs the exponent form (a decimal literal -0.0 is 0)."""
    if math.isnan(value) or math.isinf(value):
        raise DataError(f"cannot render the floating-point value {value!r} as SQL")
    if value == 0 and math.copysign(1.0, value) < 0:
        return NEGATIVE_ZERO
    return repr(value)


def float32_literal(value: float) -> str:
    """The shortest decimal text that rounds back to the same IEEE single (MySQL FLOAT)."""
    if math.isnan(value) or math.isinf(value):
        raise DataError(f"cannot render the floating-point value {value!r} as SQL")
    if value == 0 and math.copysign(1.0, value) < 0:
        return NEGATIVE_ZERO
    target = struct.pack("<f", value)
    for digits in range(1, 10):
        text = f"{value:.{digits}g}"
        try:
            if struct.pack("<f", float(text)) == target and abs(float(text)) <= FLT_MAX:
                return text
        except OverflowError:
            continue
    return repr(value)


def exact_float32_literal(value: float) -> str:
    """The exact double value of the float32 nearest to `value` (a FLOAT column compares as that double)."""
    if math.isnan(value) or math.isinf(value):
        raise DataError(f"cannot render the floating-point value {value!r} as SQL")
    return double_literal(struct.unpack("<f", struct.pack("<f", value))[0])


def decimal_literal(value: Decimal) -> str:
    return format(value, "f")


def bit_literal(value: Any) -> str:
    if isinstance(value, str) and value and set(value) <= {"0", "1"}:
        return f"b'{value}'"
    if isinstance(value, bool):
        return "b'1'" if value else "b'0'"
    if isinstance(value, int):
        return f"b'{value:b}'"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"b'{int.from_bytes(bytes(value), 'big'):b}'"
    raise DataError(f"cannot render {value!r} as a BIT value")


def datetime_text(value: dt.datetime) -> str:
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    if value.year < 1000:
        text = f"{value.year:04d}" + text[text.index("-"):]
    return text + (f".{value.microsecond:06d}" if value.microsecond else "")


def date_text(value: dt.date) -> str:
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def timestamp_text(value: dt.datetime) -> str:
    """TIMESTAMP values are UTC; epoch 0 is the stored form of the zero timestamp."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    if value == EPOCH:
        return ZERO_DATETIME
    return datetime_text(value)


def json_text(value: Any) -> str:
    """JSON document text of a decoded document (a str is a JSON string; bytes are decoded as UTF-8). DECIMAL
    values keep their digits (a float would round them: MySQL JSON decimals for a MariaDB target)."""
    if _holds_decimal(value):
        return _exact_json_text(value)
    return json.dumps(_decode_json(value), ensure_ascii=False, separators=(", ", ": "), allow_nan=False)


def _exact_json_text(value: Any) -> str:
    if isinstance(value, Decimal):
        return decimal_literal(value)
    if isinstance(value, dict):
        return "{" + ", ".join(json.dumps(str(_decode_json(k)), ensure_ascii=False) + ": " + _exact_json_text(v)
                               for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_exact_json_text(v) for v in value) + "]"
    return json.dumps(_decode_json(value), ensure_ascii=False, separators=(", ", ": "), allow_nan=False)


def _decode_json(value: Any) -> Any:
    if value is JSON_NULL:
        return None
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "surrogateescape")
    if isinstance(value, dict):
        return {_decode_json(k): _decode_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_decode_json(v) for v in value]
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return value


MYSQL_TO_MARIADB = "mysql-to-mariadb"  # the literal dialect of a MySQL source's values for a MariaDB target


def cross_flavor_dialect(source: str, target: str) -> str:
    """The `flavor` literals are rendered in: the source's, except MySQL values bound for a MariaDB target (JSON
    documents as plain text: MariaDB's JSON is a LONGTEXT alias and has no CAST(... AS JSON))."""
    return MYSQL_TO_MARIADB if source != "mariadb" and target == "mariadb" else source


def json_literal(value: Any, flavor: str) -> str:
    """MySQL: CAST of the document text, or, for a document holding DECIMAL values (which JSON text would read
    back as doubles), the document built by JSON_OBJECT/JSON_ARRAY with each decimal as a DECIMAL. MariaDB stores
    JSON as text: a str is that text, kept byte for byte. A MySQL document for a MariaDB target: its text, as a
    plain string."""
    if flavor == "mariadb":
        return string_literal(value if isinstance(value, str) else json_text(value))
    if flavor == MYSQL_TO_MARIADB:
        return string_literal(json_text(value))
    if _holds_decimal(value):
        return f"CAST({json_expression(value)} AS JSON)"
    return f"CAST({string_literal(json_text(value))} AS JSON)"


def _holds_decimal(value: Any) -> bool:
    if isinstance(value, Decimal):
        return True
    if isinstance(value, dict):
        return any(_holds_decimal(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds_decimal(v) for v in value)
    return False


def json_expression(value: Any) -> str:
    """A MySQL expression building the JSON value `value` with its scalar types kept: DECIMAL as DECIMAL (not the
    double its text would parse to), doubles as doubles, true/false/null as JSON literals."""
    if isinstance(value, dict):
        return "JSON_OBJECT(" + ", ".join(f"{string_literal(str(_decode_json(k)))}, {json_expression(v)}"
                                         for k, v in value.items()) + ")"
    if isinstance(value, (list, tuple)):
        return "JSON_ARRAY(" + ", ".join(json_expression(v) for v in value) + ")"
    if isinstance(value, Decimal):
        return decimal_cast(value)
    if isinstance(value, float):
        text = double_literal(value)
        return text if "e" in text or "E" in text else text + "e0"
    if isinstance(value, bool) or value is None or value is JSON_NULL:
        return "CAST('" + json.dumps(_decode_json(value)) + "' AS JSON)"
    if isinstance(value, int):
        return str(value)
    return f"CAST({string_literal(json_text(value))} AS JSON)"


def decimal_cast(value: Decimal) -> str:
    """CAST('text' AS DECIMAL(p,s)) keeping the value's digits and scale."""
    _sign, digits, exponent = value.as_tuple()
    scale = max(-int(exponent), 0) if isinstance(exponent, int) else 0
    precision = min(max(len(digits) + max(int(exponent), 0) if isinstance(exponent, int) else 1, scale, 1), 65)
    return f"CAST('{decimal_literal(value)}' AS DECIMAL({precision},{min(scale, 30)}))"


def set_text(value: Any, column: ColumnInfo) -> str:
    if isinstance(value, str):
        return value
    members = set(value) if isinstance(value, Iterable) else set()
    if column.set_values:
        ordered = [m for m in column.set_values if m in members]
        ordered += sorted(m for m in members if m not in column.set_values)
    else:
        ordered = sorted(members)
    return ",".join(ordered)


TEXT_TYPES = frozenset({"char", "varchar", "tinytext", "text", "mediumtext", "longtext"})


def exact_condition(column: ColumnInfo, value: Any, flavor: str = "mysql", null_safe: bool = True) -> str:
    """`column` equals `value` byte for byte: text columns are compared as the bytes of their character set, so
    a change of case or accent is seen even under a case- or accent-insensitive collation (`--verify-current`)."""
    literal = render_literal(value, column, flavor, exact_float=True)
    op = "<=>" if null_safe or value is None else "="
    condition = f"{quote_identifier(column.name)} {op} {literal}"
    if value is None or column.type_name.lower() not in TEXT_TYPES or not column.charset:
        return condition
    return (f"{condition} AND CAST(CONVERT({quote_identifier(column.name)} USING utf8mb4) AS BINARY) = "
            f"CAST({literal} AS BINARY)")  # the literal is utf8mb4 (SET NAMES utf8mb4)


def render_literal(value: Any, column: ColumnInfo, flavor: str = "mysql", exact_float: bool = False) -> str:
    """The SQL literal for `value` stored in `column`. `exact_float`: FLOAT as its exact double (for WHERE)."""
    if value is None:
        return "NULL"
    if value is NOT_LOGGED:
        raise DataError(f"column {column.name!r} is not in the logged row image (binlog_row_image is not FULL)")
    kind = column.type_name.lower()
    if kind == "json":
        return json_literal(value, flavor)
    if kind == "bit":
        return bit_literal(value)
    if kind == "set":
        return string_literal(set_text(value, column))
    if kind == "timestamp" and isinstance(value, dt.datetime):
        return "'" + timestamp_text(value) + "'"
    if kind in BINARY_TYPES and isinstance(value, str):
        value = value.encode("utf-8", "surrogateescape")  # the library gives '' for an empty binary value
    if kind == "binary" and column.length and isinstance(value, (bytes, bytearray)) and len(value) < column.length:
        return hex_literal(bytes(value) + b"\x00" * (column.length - len(value)))  # BINARY(n) is 0x00-padded
    return _render_by_value(value, kind, exact_float)


def _render_by_value(value: Any, kind: str, exact_float: bool) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if kind == "float":
            return exact_float32_literal(value) if exact_float else float32_literal(value)
        return double_literal(value)
    if isinstance(value, Decimal):
        return decimal_literal(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return hex_literal(value)
    if isinstance(value, dt.datetime):
        return "'" + datetime_text(value) + "'"
    if isinstance(value, dt.date):
        return "'" + date_text(value) + "'"
    if isinstance(value, dt.timedelta):
        return "'" + format_time(value) + "'"
    if isinstance(value, str):
        if kind in BINARY_TYPES or kind in GEOMETRY_TYPES:
            return hex_literal(value.encode("utf-8", "surrogateescape"))
        return string_literal(value)
    if isinstance(value, (set, frozenset)):
        return string_literal(",".join(sorted(str(v) for v in value)))
    raise DataError(f"cannot render a {type(value).__name__} value as SQL")


Renderer = Callable[[Any], str]
INTEGER_KINDS = frozenset({"tinyint", "smallint", "mediumint", "int", "bigint", "year"})
TEXT_KINDS = frozenset({"char", "varchar", "text", "tinytext", "mediumtext", "longtext", "enum"})
_RENDERER_CACHE: dict[tuple[int, str, bool], tuple[list[ColumnInfo], dict[str, Renderer]]] = {}


def column_renderer(column: ColumnInfo, flavor: str = "mysql", exact_float: bool = False) -> Renderer:
    """render_literal specialised for one column: the common value types skip the generic dispatch."""
    kind = column.type_name.lower()

    def generic(value: Any) -> str:
        return render_literal(value, column, flavor, exact_float)

    if kind in INTEGER_KINDS:
        return lambda v: str(v) if type(v) is int else generic(v)
    if kind in TEXT_KINDS:
        def text(v: Any) -> str:
            if type(v) is str and not _NEEDS_HEX.search(v):
                return "'" + v.replace("'", "''") + "'"
            return generic(v)
        return text
    if kind == "datetime":  # naive datetimes: isoformat is datetime_text (4-digit year, 6 fraction digits or none)
        return lambda v: "'" + v.isoformat(" ") + "'" if type(v) is dt.datetime and v.tzinfo is None else generic(v)
    if kind == "date":
        return lambda v: "'" + v.isoformat() + "'" if type(v) is dt.date else generic(v)
    if kind == "json" and flavor != "mariadb":
        return _json_renderer(flavor, generic)
    if kind == "double":
        return lambda v: repr(v) if type(v) is float and v != 0 and math.isfinite(v) else generic(v)
    if kind == "decimal":
        return lambda v: format(v, "f") if type(v) is Decimal else generic(v)
    return generic


class _NotPlainJson(Exception):
    """A value the plain JSON encoding does not write as json_text would (DECIMAL: see json_literal)."""


def _plain_json_default(value: Any) -> Any:
    """What _decode_json makes of the values the C encoder does not know; DECIMAL leaves the fast path."""
    if value is JSON_NULL:
        return None
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "surrogateescape")
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    raise _NotPlainJson


def _plain_json_encoder() -> Callable[[Any], str]:
    """json_text's output for DECIMAL-free documents: the json module's C encoder made once (JSONEncoder.encode
    makes it again for every call), or JSONEncoder.encode where the C encoder is missing."""
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "), allow_nan=False,
                               default=_plain_json_default)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return encoder.encode
    chunks = make(None, _plain_json_default, json.encoder.encode_basestring, None, ": ", ", ", False, False, False)
    plain_str = json.encoder.encode_basestring

    def encode(value: Any) -> str:
        if isinstance(value, str):
            return plain_str(value)
        return "".join(chunks(value, 0))
    return encode


_PLAIN_JSON = _plain_json_encoder()


def _json_renderer(flavor: str, generic: Renderer) -> Renderer:
    """json_literal for documents without DECIMAL values (the usual ones): encoded in one pass; anything else
    (DECIMAL, bytes keys, NaN) goes the generic way."""
    def render(v: Any) -> str:
        if v is None or v is NOT_LOGGED:
            return generic(v)
        try:
            literal = string_literal(_PLAIN_JSON(v))
        except (_NotPlainJson, TypeError, ValueError):
            return generic(v)
        return literal if flavor == MYSQL_TO_MARIADB else "CAST(" + literal + " AS JSON)"
    return render


# column_renderer's fast paths: per column kind, its number in _sqltext.c and the same test and text as a Python
# expression of a value {v} with the column's renderer {r} as the fallback (each gives what {r}({v}) gives, without
# the call); JSON documents are the C renderer's only (6, or 7 for a MariaDB target, as _json_renderer)
_FAST_PATHS: dict[str, tuple[int, str]] = {
    **dict.fromkeys(INTEGER_KINDS, (1, "(str({v}) if type({v}) is int else {r}({v}))")),
    **dict.fromkeys(TEXT_KINDS, (2, "(\"'\" + {v}.replace(\"'\", \"''\") + \"'\" if type({v}) is str and not "
                                    "_needs_hex({v}) else {r}({v}))")),
    "datetime": (3, "(\"'\" + {v}.isoformat(' ') + \"'\" if type({v}) is _datetime and {v}.tzinfo is None "
                    "else {r}({v}))"),
    "date": (4, "(\"'\" + {v}.isoformat() + \"'\" if type({v}) is _date else {r}({v}))"),
    "decimal": (5, "(format({v}, 'f') if type({v}) is _Decimal else {r}({v}))"),
}
_CALL = (0, "{r}({v})")  # no fast path: the renderer for every value
MAX_COMPILED_COLUMNS = 256  # wider rows render column by column
_INLINE_GLOBALS = {"_needs_hex": _NEEDS_HEX.search, "_datetime": dt.datetime, "_date": dt.date, "_Decimal": Decimal}


def row_tuple_renderer(columns: list[ColumnInfo], names: tuple[str, ...], flavor: str = "mysql",
                       native: bool = True) -> Callable[[dict[str, Any]], str] | None:
    """A function of a row image giving `(literal, literal, ...)` of `names` (columns of `columns`), the text
    column_renderers gives value by value: with the C extension, its row_tuple with each column's fast path (see
    _sqltext.c); else compiled once per column list, the common types' fast paths inlined, the rest calling
    their renderer (None for wide rows). `native=False` (tests): the compiled Python."""
    by_name = {c.name: c for c in columns}
    renderers = column_renderers(columns, flavor)
    kinds = [by_name[n].type_name.lower() for n in names]
    if native and sqltext is not None:
        json_code = {"mariadb": 0, MYSQL_TO_MARIADB: 7}.get(flavor, 6)  # as column_renderer: _json_renderer or not
        codes = bytes(json_code if kind == "json" else _FAST_PATHS.get(kind, _CALL)[0] for kind in kinds)
        return functools.partial(sqltext.row_tuple, names, codes, tuple(renderers[n] for n in names), Decimal)
    if len(names) > MAX_COMPILED_COLUMNS:
        return None
    scope: dict[str, Any] = dict(_INLINE_GLOBALS)
    fetch, parts = [], []
    for i, (name, kind) in enumerate(zip(names, kinds, strict=True)):
        scope[f"n{i}"], scope[f"r{i}"] = name, renderers[name]
        fetch.append(f"    v{i} = get(n{i})")
        parts.append(_FAST_PATHS.get(kind, _CALL)[1].format(v=f"v{i}", r=f"r{i}"))
    source = ("def row(image):\n    get = image.get\n" + "\n".join(fetch)
              + "\n    return '(' + ', '.join((" + "".join(p + ", " for p in parts) + ")) + ')'\n")
    exec(compile(source, "<row_tuple_renderer>", "exec"), scope)
    row: Callable[[dict[str, Any]], str] = scope["row"]
    return row


def column_renderers(columns: list[ColumnInfo], flavor: str = "mysql", exact_float: bool = False
                     ) -> dict[str, Renderer]:
    """Renderers by column name, cached per column list (the record adapters share one list per table)."""
    return per_column_list(_RENDERER_CACHE, (id(columns), flavor, exact_float), columns,
                           lambda: {c.name: column_renderer(c, flavor, exact_float) for c in columns})


_T = TypeVar("_T")
MAX_CACHED_LISTS = 1024


def per_column_list(cache: dict[Any, tuple[list[ColumnInfo], _T]], key: Hashable, columns: list[ColumnInfo],
                    make: Callable[[], _T]) -> _T:
    """make()'s value for a column list, made once per list and `key` (which holds id(columns)): the cache keeps
    the list alive, so its id cannot be reused by another list while the entry stands; more than
    MAX_CACHED_LISTS entries clear it."""
    cached = cache.get(key)
    if cached is not None and cached[0] is columns:
        return cached[1]
    if len(cache) > MAX_CACHED_LISTS:
        cache.clear()
    value = make()
    cache[key] = (columns, value)
    return value
