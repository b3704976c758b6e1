"""TABLE_MAP_EVENT (19): the table's columns, their types and metadata, and the optional metadata TLVs.

Layout: table_id u48 (u32 with a 6-byte post-header), flags u16; schema (u8 len, bytes, NUL), table (same);
packed column count; one type byte per column; packed metadata length + metadata; nullability bitmap; then TLVs
(u8 type, packed length, value) to the end of the body: SIGNEDNESS (MSB-first bitmap over numeric columns),
DEFAULT_CHARSET / COLUMN_CHARSET (over character columns), COLUMN_NAME, SET/ENUM_STR_VALUE, GEOMETRY_TYPE,
SIMPLE_PRIMARY_KEY, PRIMARY_KEY_WITH_PREFIX, ENUM_AND_SET_*_CHARSET, COLUMN_VISIBILITY, VECTOR_DIMENSIONALITY.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mysqlinspect.binlog.decode import types as T
from mysqlinspect.binlog.source.packed import packed_int
from mysqlinspect.errors import DataError

SIGNEDNESS, DEFAULT_CHARSET, COLUMN_CHARSET, COLUMN_NAME, SET_STR_VALUE, ENUM_STR_VALUE = 1, 2, 3, 4, 5, 6
GEOMETRY_TYPE, SIMPLE_PRIMARY_KEY, PRIMARY_KEY_WITH_PREFIX = 7, 8, 9
ENUM_AND_SET_DEFAULT_CHARSET, ENUM_AND_SET_COLUMN_CHARSET, COLUMN_VISIBILITY, VECTOR_DIMENSIONALITY = 10, 11, 12, 13


@dataclass
class ColumnDef:
    """One column as the Table_map describes it; `real_type` resolves STRING to ENUM/SET/STRING."""

    index: int
    type: int
    meta: int
    real_type: int
    max_length: int = 0  # CHAR/VARCHAR: max bytes; BLOB/JSON/GEOMETRY/VECTOR: length bytes; ENUM/SET: pack length
    nullable: bool = True
    name: str | None = None
    unsigned: bool = False
    collation: int | None = None
    enum_values: tuple[str, ...] = ()
    set_values: tuple[str, ...] = ()
    dimensions: int | None = None


@dataclass
class TableMap:
    table_id: int
    flags: int
    schema: str
    table: str
    columns: list[ColumnDef]
    primary_key: list[int] = field(default_factory=list)
    has_metadata: bool = False
    cache: dict[Any, Any] = field(default_factory=dict)  # compiled row plans (decode.plan)
    names_from_metadata: bool = True  # False: names set from the current table definition (may be stale)
    unique_keys: list[list[str]] = field(default_factory=list)  # from the current definition, without a PK

    @property
    def has_names(self) -> bool:
        return all(c.name for c in self.columns)


def _name(data: bytes, pos: int) -> tuple[str, int]:
    length = data[pos]
    return data[pos + 1 : pos + 1 + length].decode("utf-8", "replace"), pos + 1 + length + 1


def parse_table_map(body: bytes, post_header_len: int = 8) -> TableMap:
    id_len = 4 if post_header_len == 6 else 6
    table_id = int.from_bytes(body[0:id_len], "little")
    flags = int.from_bytes(body[id_len : id_len + 2], "little")
    schema, pos = _name(body, id_len + 2)
    table, pos = _name(body, pos)
    count, pos = packed_int(body, pos)
    type_codes = body[pos : pos + count]
    pos += count
    meta_len, pos = packed_int(body, pos)
    columns = _columns(type_codes, body[pos : pos + meta_len])
    pos += meta_len
    nulls = body[pos : pos + (count + 7) // 8]
    for c in columns:
        c.nullable = bool(nulls[c.index >> 3] >> (c.index & 7) & 1)
    pos += (count + 7) // 8
    tmap = TableMap(table_id, flags, schema, table, columns)
    if pos < len(body):
        tmap.has_metadata = True
        _apply_tlvs(tmap, body, pos)
    return tmap


def _columns(type_codes: bytes, meta: bytes) -> list[ColumnDef]:
    columns: list[ColumnDef] = []
    pos = 0
    for index, code in enumerate(type_codes):
        value = 0
        if code in T.ONE_META_BYTE:
            value, pos = meta[pos], pos + 1
        elif code in (T.VARCHAR, T.VAR_STRING, T.VARCHAR_COMPRESSED):
            value, pos = int.from_bytes(meta[pos : pos + 2], "little"), pos + 2
        elif code in T.TWO_META_BYTES:
            value, pos = meta[pos] << 8 | meta[pos + 1], pos + 2
        elif code == T.TYPED_ARRAY:
            raise DataError("a typed-array column (multi-valued index) in a row event cannot be decoded")
        columns.append(_column(index, code, value))
    return columns


def _column(index: int, code: int, meta: int) -> ColumnDef:
    col = ColumnDef(index, code, meta, code)
    if code == T.STRING:
        byte0, byte1 = meta >> 8, meta & 0xFF
        if byte0 in (T.ENUM, T.SET):
            col.real_type, col.max_length = byte0, byte1
        elif (byte0 & 0x30) != 0x30:
            col.real_type, col.max_length = byte0 | 0x30, byte1 | (((byte0 & 0x30) ^ 0x30) << 4)
        else:
            col.real_type, col.max_length = byte0, byte1
    elif code in (T.VARCHAR, T.VAR_STRING, T.VARCHAR_COMPRESSED) or code in T.ONE_META_BYTE:
        col.max_length = meta
    return col


def _apply_tlvs(tmap: TableMap, body: bytes, pos: int) -> None:
    while pos < len(body):
        kind = body[pos]
        length, pos = packed_int(body, pos + 1)
        value = body[pos : pos + length]
        pos += length
        _apply_tlv(tmap, kind, value)


def _ints(value: bytes) -> list[int]:
    out, pos = [], 0
    while pos < len(value):
        number, pos = packed_int(value, pos)
        out.append(number)
    return out


def _strings(value: bytes) -> list[str]:
    out, pos = [], 0
    while pos < len(value):
        length, pos = packed_int(value, pos)
        out.append(value[pos : pos + length].decode("utf-8", "replace"))
        pos += length
    return out


def _string_lists(value: bytes) -> list[tuple[str, ...]]:
    out, pos = [], 0
    while pos < len(value):
        count, pos = packed_int(value, pos)
        items = []
        for _ in range(count):
            length, pos = packed_int(value, pos)
            items.append(value[pos : pos + length].decode("utf-8", "replace"))
            pos += length
        out.append(tuple(items))
    return out


def _charsets(value: bytes, default_form: bool, count: int) -> list[int]:
    if not default_form:
        return _ints(value)
    numbers = _ints(value)
    ids = [numbers[0]] * count if numbers else []
    for i in range(1, len(numbers) - 1, 2):
        if numbers[i] < count:
            ids[numbers[i]] = numbers[i + 1]
    return ids


def _apply_tlv(tmap: TableMap, kind: int, value: bytes) -> None:
    cols = tmap.columns
    if kind == SIGNEDNESS:
        numeric = [c for c in cols if c.type in T.NUMERIC]
        for i, c in enumerate(numeric):
            c.unsigned = bool(value[i >> 3] & (0x80 >> (i & 7))) if i >> 3 < len(value) else False
    elif kind in (DEFAULT_CHARSET, COLUMN_CHARSET):
        chars = [c for c in cols if c.type in T.CHARACTER and c.real_type not in (T.ENUM, T.SET)]
        for c, cid in zip(chars, _charsets(value, kind == DEFAULT_CHARSET, len(chars)), strict=False):
            c.collation = cid
    elif kind in (ENUM_AND_SET_DEFAULT_CHARSET, ENUM_AND_SET_COLUMN_CHARSET):
        enums = [c for c in cols if c.real_type in (T.ENUM, T.SET)]
        for c, cid in zip(enums, _charsets(value, kind == ENUM_AND_SET_DEFAULT_CHARSET, len(enums)), strict=False):
            c.collation = cid
    elif kind == COLUMN_NAME:
        for c, name in zip(cols, _strings(value), strict=False):
            c.name = name
    elif kind in (SET_STR_VALUE, ENUM_STR_VALUE):
        real = T.SET if kind == SET_STR_VALUE else T.ENUM
        for c, values in zip([c for c in cols if c.real_type == real], _string_lists(value), strict=False):
            if real == T.SET:
                c.set_values = values
            else:
                c.enum_values = values
    elif kind == SIMPLE_PRIMARY_KEY:
        tmap.primary_key = _ints(value)
    elif kind == PRIMARY_KEY_WITH_PREFIX:
        tmap.primary_key = _ints(value)[0::2]
    elif kind == VECTOR_DIMENSIONALITY:
        for c, dims in zip([c for c in cols if c.type == T.VECTOR], _ints(value), strict=False):
            c.dimensions = dims
