"""Counting the rows of a raw rows event without decoding them: each row's length from the Table_map's column
types and metadata (the events-mode apply needs row counts for its summary, checkpoint and --rate).

`TableShape.parse(body)` reads a Table_map body; `count_rows(body, shape, code)` walks a rows event body and
returns its number of rows, or None when a column type is not known here (the caller then uses the decoded path)
or the lengths do not add up to the body exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from mysqlinspect.binlog.source.packed import packed_int

# Column type codes (mysql_com.h enum_field_types).
FIXED = {1: 1, 2: 2, 3: 4, 4: 4, 5: 8, 6: 0, 7: 4, 8: 8, 9: 3, 10: 3, 11: 3, 12: 8, 13: 1}
VARCHAR, VAR_STRING, STRING, BIT, NEWDECIMAL, ENUM, SET = 15, 253, 254, 16, 246, 247, 248
TIMESTAMP2, DATETIME2, TIME2 = 17, 18, 19
LENGTH_PREFIXED = {252, 255, 245, 242}  # BLOB, GEOMETRY, JSON, VECTOR: metadata = bytes of the length
ONE_BYTE_META = {4, 5, 17, 18, 19, *LENGTH_PREFIXED}
TWO_BYTE_META = {VARCHAR, VAR_STRING, STRING, BIT, NEWDECIMAL, ENUM, SET}
DIG2BYTES = (0, 1, 1, 2, 2, 3, 3, 4, 4, 4)
UPDATE_CODES = frozenset({24, 31})
V2_CODES = frozenset({30, 31, 32})

# A column's size rule: (fixed size, 0) or (0, length-prefix bytes).
Rule = tuple[int, int]


def _decimal_size(precision: int, scale: int) -> int:
    whole = precision - scale
    return whole // 9 * 4 + DIG2BYTES[whole % 9] + scale // 9 * 4 + DIG2BYTES[scale % 9]


def _string_rule(meta0: int, meta1: int) -> Rule:
    real_type, length = meta0, meta1
    if real_type & 0x30 != 0x30:
        length |= ((real_type & 0x30) ^ 0x30) << 4
        real_type |= 0x30
    if real_type in (ENUM, SET):
        return length, 0
    return 0, 1 if length < 256 else 2


def column_rule(type_code: int, meta: bytes) -> Rule | None:
    if type_code in FIXED:
        return FIXED[type_code], 0
    if type_code in (VARCHAR, VAR_STRING):
        return 0, 1 if int.from_bytes(meta, "little") < 256 else 2
    if type_code == STRING:
        return _string_rule(meta[0], meta[1])
    if type_code == BIT:
        return meta[1] + (1 if meta[0] else 0), 0
    if type_code == NEWDECIMAL:
        return _decimal_size(meta[0], meta[1]), 0
    if type_code in (TIMESTAMP2, DATETIME2, TIME2):
        return {TIMESTAMP2: 4, DATETIME2: 5, TIME2: 3}[type_code] + (meta[0] + 1) // 2, 0
    if type_code in LENGTH_PREFIXED:
        return 0, meta[0]
    return None


@dataclass(frozen=True)
class TableShape:
    table_id: int
    schema: str
    table: str
    rules: tuple[Rule | None, ...]

    @classmethod
    def parse(cls, body: bytes) -> TableShape:
        table_id = int.from_bytes(body[0:6], "little")
        pos = 8
        schema_len = body[pos]
        schema = body[pos + 1 : pos + 1 + schema_len].decode("utf-8", "replace")
        pos += schema_len + 2
        table_len = body[pos]
        table = body[pos + 1 : pos + 1 + table_len].decode("utf-8", "replace")
        pos += table_len + 2
        count, pos = packed_int(body, pos)
        types = body[pos : pos + count]
        pos += count
        _, pos = packed_int(body, pos)
        rules: list[Rule | None] = []
        for code in types:
            size = 1 if code in ONE_BYTE_META else 2 if code in TWO_BYTE_META else 0
            rules.append(column_rule(code, body[pos : pos + size]))
            pos += size
        return cls(table_id, schema, table, tuple(rules))


def _present(bitmap: bytes, count: int) -> list[int]:
    return [i for i in range(count) if bitmap[i >> 3] >> (i & 7) & 1]


def count_rows(body: bytes, shape: TableShape, type_code: int) -> int | None:
    """Rows in a rows event body (without header and checksum), or None when it cannot be counted exactly."""
    try:
        return _count(body, shape, type_code)
    except (IndexError, ValueError):
        return None


def _count(body: bytes, shape: TableShape, type_code: int) -> int | None:
    pos = 8
    if type_code in V2_CODES:
        pos += int.from_bytes(body[8:10], "little")
    count, pos = packed_int(body, pos)
    if count != len(shape.rules):
        return None
    width = (count + 7) // 8
    images = [_present(body[pos : pos + width], count)]
    pos += width
    if type_code in UPDATE_CODES:
        images.append(_present(body[pos : pos + width], count))
        pos += width
    plans: list[list[Rule]] = []
    for present in images:
        rules = [rule for i in present if (rule := shape.rules[i]) is not None]
        if len(rules) != len(present):
            return None
        plans.append(rules)
    end = len(body)
    rows = 0
    while pos < end:
        for plan in plans:
            pos = _skip_image(body, pos, plan)
        rows += 1
    return rows if pos == end else None


def _skip_image(body: bytes, pos: int, rules: list[Rule]) -> int:
    nulls = body[pos : pos + (len(rules) + 7) // 8]
    pos += (len(rules) + 7) // 8
    for i, (fixed, prefix) in enumerate(rules):
        if nulls[i >> 3] >> (i & 7) & 1:
            continue
        if prefix:
            pos += prefix + int.from_bytes(body[pos : pos + prefix], "little")
        else:
            pos += fixed
    if pos > len(body):
        raise ValueError("row past the end of the event")
    return pos
