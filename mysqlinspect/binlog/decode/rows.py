"""ROWS events: v1 (23-25, MariaDB), v2 (30-32, MySQL), PARTIAL_UPDATE (39), MariaDB compressed (166-171).

Post-header: table_id u48 (u32 with a 6-byte post-header), flags u16, [v2: extra_data_len u16 incl. itself +
extra data]. Body: packed width, columns-present bitmap (two for updates), then row images to the end. The
compressed MariaDB variants hold everything after the bitmaps as one zlib record.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from mysqlinspect.binlog.decode import native
from mysqlinspect.binlog.decode import types as T
from mysqlinspect.binlog.decode.plan import RowPlan, image_readers, plan_for, read_image
from mysqlinspect.binlog.decode.tablemap import ColumnDef, TableMap
from mysqlinspect.binlog.decode.values.columns import encoding_of
from mysqlinspect.binlog.decode.values.convert import type_name
from mysqlinspect.binlog.decode.values.jsondiff import PartialJson, apply_diffs
from mysqlinspect.binlog.model import ColumnInfo, RowChange
from mysqlinspect.binlog.source.compressed import uncompress_record
from mysqlinspect.binlog.source.packed import packed_int
from mysqlinspect.errors import DataError

WRITE, UPDATE, DELETE = "insert", "update", "delete"
ROW_OPS = {23: WRITE, 24: UPDATE, 25: DELETE, 30: WRITE, 31: UPDATE, 32: DELETE, 39: UPDATE,
           166: WRITE, 167: UPDATE, 168: DELETE, 169: WRITE, 170: UPDATE, 171: DELETE}
EVENT_NAMES = {WRITE: "WriteRowsEvent", UPDATE: "UpdateRowsEvent", DELETE: "DeleteRowsEvent"}
PARTIAL_UPDATE_ROWS = 39
PARTIAL_JSON = 1


@dataclass(slots=True)
class RowsHeader:
    table_id: int
    flags: int
    width: int
    before_bitmap: bytes
    after_bitmap: bytes
    rows_at: int


def parse_rows_header(body: bytes, type_code: int, post_header_len: int) -> RowsHeader:
    id_len = 4 if post_header_len == 6 else 6
    table_id = int.from_bytes(body[0:id_len], "little")
    flags = int.from_bytes(body[id_len : id_len + 2], "little")
    pos = id_len + 2
    if post_header_len == 10:
        pos += int.from_bytes(body[pos : pos + 2], "little")
    width, pos = packed_int(body, pos)
    nbytes = (width + 7) // 8
    first = body[pos : pos + nbytes]
    pos += nbytes
    second = first
    if ROW_OPS[type_code] == UPDATE:
        second = body[pos : pos + nbytes]
        pos += nbytes
    return RowsHeader(table_id, flags, width, first, second, pos)


def decode_rows(body: bytes, type_code: int, post_header_len: int, tmap: TableMap, mariadb: bool
                ) -> list[RowChange]:
    header = parse_rows_header(body, type_code, post_header_len)
    if header.width != len(tmap.columns):
        raise DataError(f"rows event for {tmap.schema}.{tmap.table} has {header.width} columns, its table map "
                        f"{len(tmap.columns)}")
    data, pos = body, header.rows_at
    if type_code >= 166:
        data, pos = uncompress_record(body[pos:]), 0
    op = ROW_OPS[type_code]
    plan = plan_for(tmap, mariadb)
    columns, pk = column_infos(tmap, mariadb)
    try:
        if type_code == PARTIAL_UPDATE_ROWS:
            out = _partial_updates(data, pos, header, plan, tmap, columns, pk)
        else:
            out = _full_images(data, pos, header, op, plan, tmap, columns, pk)
    except (struct.error, IndexError) as exc:
        raise DataError(f"a row image of {tmap.schema}.{tmap.table} runs past the end of its event") from exc
    return out


def _full_images(data: bytes, pos: int, header: RowsHeader, op: str, plan: RowPlan, tmap: TableMap,
                 columns: list[ColumnInfo], pk: list[str]) -> list[RowChange]:
    """The hot loop: every image in one call of the C plan (decode.native) when there is one; else per image one
    null-bitmap slice, one dict lookup and one compiled reader call."""
    schema, table, uniques = tmap.schema, tmap.table, tmap.unique_keys
    named = names_logged(tmap) and tmap.names_from_metadata
    if plan.native is not None and native.ENABLED:
        changes = _native_changes(data, pos, header, op, plan, tmap, columns, pk, named)
        if changes is not None:
            return changes
    first = image_readers(plan, header.before_bitmap)
    first_len, first_get, first_compile = first.null_len, first.layouts.get, first.compile
    out: list[RowChange] = []
    append, end = out.append, len(data)
    if op == UPDATE:
        second = image_readers(plan, header.after_bitmap)
        second_len, second_get, second_compile = second.null_len, second.layouts.get, second.compile
        while pos < end:
            nulls = data[pos : pos + first_len]
            before, pos = (first_get(nulls) or first_compile(nulls))(data, pos + first_len)
            nulls = data[pos : pos + second_len]
            after, pos = (second_get(nulls) or second_compile(nulls))(data, pos + second_len)
            append(RowChange(op, schema, table, columns, pk, before, after, uniques, named))
    else:
        insert = op == WRITE
        while pos < end:
            nulls = data[pos : pos + first_len]
            image, pos = (first_get(nulls) or first_compile(nulls))(data, pos + first_len)
            append(RowChange(op, schema, table, columns, pk, None if insert else image, image if insert else None,
                             uniques, named))
    if pos > end:
        raise DataError(f"a row image of {schema}.{table} runs past the end of its event")
    return out


def _native_changes(data: bytes, pos: int, header: RowsHeader, op: str, plan: RowPlan, tmap: TableMap,
                    columns: list[ColumnInfo], pk: list[str], named: bool) -> list[RowChange] | None:
    """Every image in one call of the C plan (decode.native), which makes the RowChanges too when it may; None when
    it hands the event back (the Python plan then reads it)."""
    read = native.rowimage.images  # type: ignore[union-attr]
    after = header.after_bitmap if op == UPDATE else None
    template = _change_template(tmap, op, columns, pk, named)
    if template is not None:
        changes: list[RowChange] | None = read(plan.native, data, pos, header.before_bitmap, after, RowChange,
                                               template, _NATIVE_OPS[op])
        return changes
    images = read(plan.native, data, pos, header.before_bitmap, after)
    if images is None:
        return None
    return _changes(images, op, tmap.schema, tmap.table, columns, pk, tmap.unique_keys, named)


_ROW_FIELDS = [f.name for f in fields(RowChange)]
_NATIVE_OPS = {WRITE: 0, DELETE: 1, UPDATE: 2}
# the C reader may make RowChanges itself (their __dict__ set, __init__ not run) while __init__ only assigns fields
_NATIVE_CHANGES = not hasattr(RowChange, "__slots__") and not hasattr(RowChange, "__post_init__")


def _change_template(tmap: TableMap, op: str, columns: list[ColumnInfo], pk: list[str], named: bool
                     ) -> dict[str, Any] | None:
    """The fields of this table's RowChanges of `op`, in field order (before/after None), for the C reader."""
    if not _NATIVE_CHANGES:
        return None
    key = ("template", op)
    template = tmap.cache.get(key)
    if template is None:
        values = {"op": op, "schema": tmap.schema, "table": tmap.table, "columns": columns, "primary_key": pk,
                  "before": None, "after": None, "unique_keys": tmap.unique_keys, "names_from_metadata": named}
        template = tmap.cache[key] = {name: values[name] for name in _ROW_FIELDS}
    return template


def _changes(images: list[dict[str, Any]], op: str, schema: str, table: str, columns: list[ColumnInfo],
             pk: list[str], uniques: list[list[str]], named: bool) -> list[RowChange]:
    """RowChanges of the images the C plan read (UPDATE: before and after images alternate)."""
    if op == UPDATE:
        pairs = iter(images)
        return [RowChange(op, schema, table, columns, pk, before, after, uniques, named)
                for before, after in zip(pairs, pairs, strict=True)]
    if op == WRITE:
        return [RowChange(op, schema, table, columns, pk, None, image, uniques, named) for image in images]
    return [RowChange(op, schema, table, columns, pk, image, None, uniques, named) for image in images]


def _partial_updates(data: bytes, pos: int, header: RowsHeader, plan: RowPlan, tmap: TableMap,
                     columns: list[ColumnInfo], pk: list[str]) -> list[RowChange]:
    """PARTIAL_UPDATE_ROWS: after images whose JSON columns may hold diff vectors against the before image."""
    json_columns = tuple(c.index for c in tmap.columns if c.type == T.JSON)
    out: list[RowChange] = []
    end = len(data)
    make = _row_factory(UPDATE, tmap, columns, pk)
    while pos < end:
        before, pos = read_image(plan, header.before_bitmap, data, pos)
        diffs, pos = _value_options(data, pos, json_columns)
        after, pos = read_image(plan, header.after_bitmap, data, pos, diffs)
        for i in diffs:
            name = plan.names[i]
            value = after[name]
            if isinstance(value, PartialJson):
                after[name] = apply_diffs(before[name], value.raw)
        out.append(make(before, after))
    return out


def _value_options(data: bytes, pos: int, json_columns: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    """The partial after image's prefix: value_options, then one bit per JSON column of the table (set: the
    column holds a diff vector). (indexes of those columns, position after the prefix)."""
    options, pos = packed_int(data, pos)
    if not options & PARTIAL_JSON:
        return (), pos
    bits = data[pos : pos + (len(json_columns) + 7) // 8]
    diffs = tuple(c for k, c in enumerate(json_columns) if bits[k >> 3] >> (k & 7) & 1)
    return diffs, pos + len(bits)


def _row_factory(op: str, tmap: TableMap, columns: list[ColumnInfo], pk: list[str]
                 ) -> Callable[[dict[str, Any] | None, dict[str, Any] | None], RowChange]:
    schema, table, uniques = tmap.schema, tmap.table, tmap.unique_keys
    named = tmap.has_names and tmap.names_from_metadata

    def make(before: dict[str, Any] | None, after: dict[str, Any] | None) -> RowChange:
        return RowChange(op, schema, table, columns, pk, before, after, uniques, named)

    return make


def names_logged(tmap: TableMap) -> bool:
    """TableMap.has_names, kept with the plans (the names are settled before the first rows event is read)."""
    named = tmap.cache.get("named")
    if named is None:
        named = tmap.cache["named"] = tmap.has_names
    return bool(named)


def column_infos(tmap: TableMap, mariadb: bool) -> tuple[list[ColumnInfo], list[str]]:
    cached = tmap.cache.get("columns")
    if cached is None:
        plan = plan_for(tmap, mariadb)
        infos = [_column_info(c, name, mariadb) for c, name in zip(tmap.columns, plan.names, strict=True)]
        pk = [plan.names[i] for i in tmap.primary_key if i < len(plan.names)]
        cached = tmap.cache["columns"] = (infos, pk)
    return cached


def _column_info(col: ColumnDef, name: str, mariadb: bool) -> ColumnInfo:
    t = col.real_type
    character = t in T.CHARACTER or t in (T.ENUM, T.SET)
    charset = encoding_of(col, mariadb) if character else None
    tname = "vector" if t == T.VECTOR else type_name(t, charset)
    precision: int | None = None
    scale: int | None = None
    if t == T.NEWDECIMAL:
        precision, scale = col.meta >> 8, col.meta & 0xFF
    elif t in (T.DATETIME2, T.TIMESTAMP2, T.TIME2):
        precision = col.meta
    elif t in (T.DATETIME, T.TIMESTAMP, T.TIME):
        precision = 0
    elif t == T.BIT:
        precision = (col.meta & 0xFF) * 8 + (col.meta >> 8)
    return ColumnInfo(name=name, type_name=tname, unsigned=col.unsigned, nullable=col.nullable,
                      charset=None if charset == "binary" else charset, precision=precision, scale=scale,
                      enum_values=col.enum_values, set_values=col.set_values,
                      length=col.max_length if tname == "binary" else None)
