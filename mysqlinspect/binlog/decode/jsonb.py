"""MySQL binary JSON (sql-common/json_binary.cc) straight to Python values with str keys and strings.

A document is a type byte + value. Objects/arrays (small: 2-byte, large: 4-byte counts and offsets, relative to
the count field): count, size, key entries (offset, u16 length), value entries (type + inline value or offset).
LITERAL/INT16/UINT16 are always inline, INT32/UINT32 inline in large containers. Opaque values (DECIMAL, dates
inside JSON) go through mysql-replication's parser so they come out as on the library path.
"""

from __future__ import annotations

import struct
from typing import Any

from pymysqlreplication.packet import parse_json

from mysqlinspect.binlog.values import decode_json

SMALL_OBJECT, LARGE_OBJECT, SMALL_ARRAY, LARGE_ARRAY, LITERAL = 0, 1, 2, 3, 4
INT16, UINT16, INT32, UINT32, INT64, UINT64, DOUBLE, STRING, OPAQUE = 5, 6, 7, 8, 9, 10, 11, 12, 15
_SCALARS = {t: struct.Struct(f) for t, f in ((INT16, "<h"), (UINT16, "<H"), (INT32, "<i"), (UINT32, "<I"),
                                              (INT64, "<q"), (UINT64, "<Q"), (DOUBLE, "<d"))}
_SMALL_HEADER, _LARGE_HEADER = struct.Struct("<HH"), struct.Struct("<II")
_LITERALS = (None, True, False)


def parse_document(data: bytes) -> Any:
    """The value of a whole document (type byte first). JSON null is None."""
    return _value(data[0], data, 1)


def _varlen(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _value(t: int, data: bytes, pos: int) -> Any:
    if t <= LARGE_ARRAY:
        return _container(t, data, pos)
    if t == STRING:
        length, pos = _varlen(data, pos)
        return data[pos : pos + length].decode("utf-8", "backslashreplace")
    scalar = _SCALARS.get(t)
    if scalar is not None:
        return scalar.unpack_from(data, pos)[0]
    if t == LITERAL:
        return _LITERALS[data[pos]]
    if t == OPAQUE:
        return decode_json(parse_json(t, data[pos:]))
    raise ValueError(f"unknown binary JSON type {t}")


def _container(t: int, data: bytes, base: int) -> Any:
    small = t in (SMALL_OBJECT, SMALL_ARRAY)
    header, osz = (_SMALL_HEADER, 2) if small else (_LARGE_HEADER, 4)
    count, _ = header.unpack_from(data, base)
    entry = base + 2 * osz
    keys: list[str] = []
    if t <= LARGE_OBJECT:
        key_entry = osz + 2
        for i in range(count):
            at = entry + i * key_entry
            offset = int.from_bytes(data[at : at + osz], "little")
            length = int.from_bytes(data[at + osz : at + osz + 2], "little")
            keys.append(data[base + offset : base + offset + length].decode("utf-8", "backslashreplace"))
        entry += count * key_entry
    values = []
    inline_wide = not small
    for i in range(count):
        at = entry + i * (1 + osz)
        vt = data[at]
        if vt in (LITERAL, INT16, UINT16) or (inline_wide and vt in (INT32, UINT32)):
            values.append(_value(vt, data, at + 1))
        else:
            values.append(_value(vt, data, base + int.from_bytes(data[at + 1 : at + 1 + osz], "little")))
    return dict(zip(keys, values, strict=True)) if t <= LARGE_OBJECT else values
