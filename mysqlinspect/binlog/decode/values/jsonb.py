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

from mysqlinspect.binlog.decode.values.convert import decode_json

SMALL_OBJECT, LARGE_OBJECT, SMALL_ARRAY, LARGE_ARRAY, LITERAL = 0, 1, 2, 3, 4
INT16, UINT16, INT32, UINT32, INT64, UINT64, DOUBLE, STRING, OPAQUE = 5, 6, 7, 8, 9, 10, 11, 12, 15
_SCALARS = {t: struct.Struct(f) for t, f in ((INT16, "<h"), (UINT16, "<H"), (INT32, "<i"), (UINT32, "<I"),
                                              (INT64, "<q"), (UINT64, "<Q"), (DOUBLE, "<d"))}
_SMALL_HEADER, _LARGE_HEADER = struct.Struct("<HH"), struct.Struct("<II")
_LITERALS = (None, True, False)


def parse_document(data: bytes) -> Any:
    """The value of a whole document (type byte first). JSON null is None. A document holds fewer values than
    bytes (each has its own entry or bytes), so one whose containers count more (entries pointing at one child,
    or looping: a damaged or crafted document, whose values would multiply) fails before that work."""
    budget = [len(data)]
    try:
        if data[0] == SMALL_OBJECT:
            return _small_object(data, 1, budget)
        return _value(data[0], data, 1, budget)
    except RecursionError as exc:  # MySQL nests at most 100 levels; a looping entry recurses up to the budget
        raise ValueError(f"binary JSON document of {len(data)} bytes nests too deeply (looping entries: "
                         "damaged)") from exc


def _spend(budget: list[int], count: int, data: bytes) -> None:
    budget[0] -= count
    if budget[0] < 0:
        raise ValueError(f"binary JSON document of {len(data)} bytes references more values than it can hold "
                         "(shared or looping entries: damaged)")


def _small_object(data: bytes, base: int, budget: list[int]) -> Any:
    """The usual document, read in one loop: a small object (2-byte offsets)."""
    count = data[base] | data[base + 1] << 8
    layout = _LAYOUTS.get((True, True, count)) or _entries(True, True, count, len(data) - base)
    _spend(budget, count, data)
    fields = layout.unpack_from(data, base)
    out = {}
    at = 2 + 2 * count
    for k in range(2, at, 2):
        offset = base + fields[k]
        key = data[offset : offset + fields[k + 1]].decode("utf-8", "backslashreplace")
        vt, raw = fields[at], fields[at + 1]
        at += 2
        if vt == STRING:
            start = base + raw
            length = data[start]
            if length < 0x80:
                out[key] = data[start + 1 : start + 1 + length].decode("utf-8", "backslashreplace")
                continue
        if vt in _INLINE_SMALL:
            out[key] = _inline(vt, raw)
        elif vt in _SCALARS:
            out[key] = _SCALARS[vt].unpack_from(data, base + raw)[0]
        else:
            out[key] = _value(vt, data, base + raw, budget)
    return out


def _varlen(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _value(t: int, data: bytes, pos: int, budget: list[int]) -> Any:
    if t <= LARGE_ARRAY:
        return _container(t, data, pos, budget)
    if t == STRING:
        length, pos = _varlen(data, pos)
        _spend(budget, length, data)  # its bytes are its own: entries sharing one long string would multiply it
        return data[pos : pos + length].decode("utf-8", "backslashreplace")
    scalar = _SCALARS.get(t)
    if scalar is not None:
        return scalar.unpack_from(data, pos)[0]
    if t == LITERAL:
        return _LITERALS[data[pos]]
    if t == OPAQUE:  # field type, length, bytes: only its own bytes are copied (not the rest of the document)
        length, start = _varlen(data, pos + 1)
        _spend(budget, length, data)
        return decode_json(parse_json(t, data[pos : start + length]))
    raise ValueError(f"unknown binary JSON type {t}")


_LAYOUTS: dict[tuple[bool, bool, int], struct.Struct] = {}


def _entries(small: bool, is_object: bool, count: int, room: int) -> struct.Struct:
    """count, size, then key entries (offset, u16 length) and value entries (type u8, offset/inline) as one
    precompiled layout per container shape. A count whose entries cannot fit in the `room` bytes left (a damaged
    document: up to 2**32 entries) fails as a short buffer would, before a layout of that size is built."""
    key = (small, is_object, count)
    layout = _LAYOUTS.get(key)
    if layout is None:
        width = 2 if small else 4
        needed = 2 * width + count * ((width + 2) * is_object + 1 + width)
        if needed > room:
            raise struct.error(f"unpack_from requires a buffer of at least {needed} bytes (JSON container of "
                               f"{count} entries, {room} bytes left)")
        o = "H" if small else "I"
        layout = struct.Struct("<" + o + o + (o + "H") * count * is_object + ("B" + o) * count)
        if len(_LAYOUTS) < 4096:
            _LAYOUTS[key] = layout
    return layout


def _inline(t: int, raw: int) -> Any:
    if t == LITERAL:
        return _LITERALS[raw & 0xFF]
    if t == UINT16:
        return raw & 0xFFFF
    if t == INT16:
        raw &= 0xFFFF
        return raw - 0x10000 if raw & 0x8000 else raw
    if t == INT32:
        return raw - 0x100000000 if raw & 0x80000000 else raw
    return raw  # UINT32


_INLINE_SMALL = frozenset({LITERAL, INT16, UINT16})
_INLINE_LARGE = frozenset({LITERAL, INT16, UINT16, INT32, UINT32})


def _container(t: int, data: bytes, base: int, budget: list[int]) -> Any:
    small = t <= SMALL_ARRAY and t != LARGE_OBJECT
    is_object = t <= LARGE_OBJECT
    count = data[base] | data[base + 1] << 8 if small else int.from_bytes(data[base : base + 4], "little")
    layout = _LAYOUTS.get((small, is_object, count)) or _entries(small, is_object, count, len(data) - base)
    _spend(budget, count, data)
    fields = layout.unpack_from(data, base)
    inline = _INLINE_SMALL if small else _INLINE_LARGE
    scalars = _SCALARS
    values: list[Any] = []
    append = values.append
    at = 2 + 2 * count * is_object
    for k in range(at, at + 2 * count, 2):
        vt = fields[k]
        if vt == STRING:  # the usual case, read here: a 1-byte length prefix below 128
            start = base + fields[k + 1]
            length = data[start]
            if length < 0x80:
                append(data[start + 1 : start + 1 + length].decode("utf-8", "backslashreplace"))
                continue
        if vt in inline:
            append(_inline(vt, fields[k + 1]))
        elif vt in scalars:
            append(scalars[vt].unpack_from(data, base + fields[k + 1])[0])
        else:
            append(_value(vt, data, base + fields[k + 1], budget))
    if not is_object:
        return values
    return {data[base + fields[k] : base + fields[k] + fields[k + 1]].decode("utf-8", "backslashreplace"): value
            for k, value in zip(range(2, at, 2), values, strict=True)}
