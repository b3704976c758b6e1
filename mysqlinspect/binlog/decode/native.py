"""The C row-image reader (`_rowimage.c`, optional): one compiled plan per Table_map, every image of a rows event
read in one call. The one place that loads the extension.

`spec_for` turns a column's definition and its Python codec (values/columns.py) into the tuple the C plan reads:
(kind, a, b, obj, fallback). The C reader produces exactly the Python readers' values: for rare forms (zero or
partial dates, undecodable text, JSON with opaque values, MariaDB compressed columns, VECTOR) it calls the
column's Python converter or reader, and when anything is out of the ordinary in an event (an image running past
its end, a converter raising) it returns None and the event is decoded by the Python plan (plan.py), which then
gives the same values or the same error. `ENABLED = False` (tests) forces the Python plan.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from types import ModuleType
from typing import Any

from mysqlinspect.binlog.decode import types as T
from mysqlinspect.binlog.decode.library.jsonnull import JSON_NULL
from mysqlinspect.binlog.decode.tablemap import ColumnDef
from mysqlinspect.binlog.decode.values.columns import ColumnCodec, encoding_of
from mysqlinspect.binlog.decode.values.convert import shortest_float32
from mysqlinspect.binlog.model import NOT_LOGGED

rowimage: ModuleType | None
try:
    from mysqlinspect.binlog.decode import _rowimage
except ImportError:  # not built (no compiler at install time)
    rowimage = None
else:
    rowimage = _rowimage if sys.byteorder == "little" else None  # FLOAT/DOUBLE are copied as host floats

ENABLED = rowimage is not None

(K_INT, K_FLOAT, K_DOUBLE, K_YEAR, K_DECIMAL, K_BIT, K_ENUM, K_SET, K_CALL_BYTES, K_CALL_UINT, K_DATETIME2,
 K_TIMESTAMP2, K_TIME2, K_DATE, K_TEXT, K_BYTES, K_JSON, K_READ) = range(1, 19)
Spec = tuple[int, int, int, Any, Any]
_INT_SIZES = {"b": 1, "h": 2, "i": 4, "q": 8}
_TEMPORAL = {T.DATETIME2: K_DATETIME2, T.TIMESTAMP2: K_TIMESTAMP2, T.TIME2: K_TIME2}


def compile_plan(columns: list[ColumnDef], names: list[str], codecs: list[ColumnCodec], mariadb: bool) -> Any:
    """The C plan of a table (a capsule), or None when the extension is missing or a column has no spec."""
    if rowimage is None:
        return None
    specs = [spec_for(col, codec, mariadb) for col, codec in zip(columns, codecs, strict=True)]
    if any(s is None for s in specs):
        return None
    try:
        return rowimage.compile(tuple(names), tuple(specs), NOT_LOGGED, JSON_NULL, Decimal, "")
    except (ValueError, TypeError):  # a spec out of the C reader's range: the Python plan reads this table
        return None


def spec_for(col: ColumnDef, codec: ColumnCodec, mariadb: bool) -> Spec | None:
    if codec.fmt is not None:
        return _fixed_spec(col, codec)
    if codec.encoding is not None:
        return (K_TEXT, codec.length_size, 0, codec.encoding, codec.read)
    return _variable_spec(col, codec, mariadb)


def _fixed_spec(col: ColumnDef, codec: ColumnCodec) -> Spec | None:
    """The native reading of a fixed-width column, in codec_for's order; else a call of its converter."""
    t, size, fmt, convert = col.real_type, codec.size, codec.fmt or "", codec.convert
    if fmt.lower() in _INT_SIZES and convert is None:
        return (K_INT, size, int(fmt.isupper()), None, None)
    if t == T.INT24:
        return (K_INT, 3, int(col.unsigned), None, None)
    if t == T.FLOAT and convert is shortest_float32:
        return (K_FLOAT, 0, 0, None, convert)
    if t == T.DOUBLE and convert is None:
        return (K_DOUBLE, 0, 0, None, None)
    if t == T.YEAR:
        return (K_YEAR, 0, 0, None, None)
    if t == T.NEWDECIMAL and 0 <= col.meta & 0xFF <= min(col.meta >> 8, 30) and col.meta >> 8 <= 65:
        return (K_DECIMAL, col.meta >> 8, col.meta & 0xFF, None, convert)
    if t == T.BIT and size <= 8:
        return (K_BIT, size, 0, None, None)
    if t == T.ENUM:
        return (K_ENUM, size, 0, ("", *col.enum_values) if col.enum_values else None, None)
    if t == T.SET and size <= 8:
        return (K_SET, size, 0, tuple(col.set_values), None)
    if t not in T.NUMERIC and col.type in _TEMPORAL:
        return (_TEMPORAL[col.type], col.meta, 0, None, convert)
    if t not in T.NUMERIC and col.type in (T.DATE, T.NEWDATE):
        return (K_DATE, 0, 0, None, convert)
    return _call_spec(fmt, size, convert)


def _call_spec(fmt: str, size: int, convert: Any) -> Spec | None:
    """A column whose Python converter does the work: its raw bytes ("Ns") or unsigned integer ("I", "Q")."""
    if convert is None:
        return None
    if fmt.endswith("s"):
        return (K_CALL_BYTES, size, 0, None, convert)
    if fmt in ("B", "H", "I", "Q"):
        return (K_CALL_UINT, size, 0, None, convert)
    return None


def _variable_spec(col: ColumnDef, codec: ColumnCodec, mariadb: bool) -> Spec:
    t = col.real_type
    if t in (T.VARCHAR, T.VAR_STRING, T.STRING) and encoding_of(col, mariadb) == "binary":
        pad_to = col.max_length if t == T.STRING else 0
        return (K_BYTES, 2 if col.max_length > 255 else 1, pad_to, None, None)
    if t == T.BLOB and encoding_of(col, mariadb) == "binary":
        return (K_BYTES, col.max_length, 0, None, None)
    if t == T.GEOMETRY:
        return (K_BYTES, col.max_length, 0, None, None)
    if t == T.JSON:
        return (K_JSON, col.max_length, 0, None, codec.read)
    return (K_READ, 0, 0, None, codec.read)
