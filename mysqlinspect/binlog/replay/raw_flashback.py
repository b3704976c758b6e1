"""Flashback through row events, as `mariadb-binlog --flashback` does it: each Rows event is inverted at the byte
level (WRITE <-> DELETE, the before and after images of an UPDATE swapped, its rows in reverse order), the events
of a transaction are played in reverse order, and the transactions newest first. The target applies them as
BINLOG statements, so no trigger fires again and the foreign-key flags of the source session apply, exactly as
when the source applied them forwards.

Each inverted Rows event is sent after the Table_map it refers to and ends its own statement (STMT_END_F), so
the order of statements can be reversed freely. Size and CRC32 of every rewritten event are recomputed.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

from mysqlinspect.binlog.decode.rowsizes import TableShape, _present, _skip_image
from mysqlinspect.binlog.read.spill import SpillList
from mysqlinspect.binlog.source import rawdump
from mysqlinspect.binlog.source.packed import packed_int
from mysqlinspect.errors import DataError

INVERSE_CODE = {
    rawdump.WRITE_ROWS_V1: rawdump.DELETE_ROWS_V1, rawdump.DELETE_ROWS_V1: rawdump.WRITE_ROWS_V1,
    rawdump.UPDATE_ROWS_V1: rawdump.UPDATE_ROWS_V1,
    rawdump.WRITE_ROWS_V2: rawdump.DELETE_ROWS_V2, rawdump.DELETE_ROWS_V2: rawdump.WRITE_ROWS_V2,
    rawdump.UPDATE_ROWS_V2: rawdump.UPDATE_ROWS_V2,
}
UPDATE_CODES = frozenset({rawdump.UPDATE_ROWS_V1, rawdump.UPDATE_ROWS_V2})
V2_CODES = frozenset({rawdump.WRITE_ROWS_V2, rawdump.UPDATE_ROWS_V2, rawdump.DELETE_ROWS_V2})
STMT_END_F = 0x0001
EXTRA_PART = 1  # v2 extra row info: partition ids (UPDATE: target, then source partition)
HEADER_LEN = rawdump.HEADER_LEN


def _swap_partitions(body: bytearray, code: int) -> None:
    """An UPDATE's extra row info names the target and the source partition: inverted, they trade places."""
    if code not in V2_CODES or code not in UPDATE_CODES:
        return
    end = 8 + int.from_bytes(body[8:10], "little")
    pos = 10
    while pos < end:
        kind = body[pos]
        if kind == EXTRA_PART:
            body[pos + 1 : pos + 5] = body[pos + 3 : pos + 5] + body[pos + 1 : pos + 3]
            return
        if kind == 0:  # NDB: u8 length (including the length and format bytes), format, data
            pos += 1 + body[pos + 1]
            continue
        return


def invert_rows_event(raw: bytes, shape: TableShape, checksum_len: int) -> bytes:
    """The Rows event (header + body [+ CRC32]) that undoes `raw`, ending its statement."""
    code = raw[4]
    body = bytearray(raw[HEADER_LEN : len(raw) - checksum_len])
    update = code in UPDATE_CODES
    pos = 8 + (int.from_bytes(body[8:10], "little") if code in V2_CODES else 0)
    count, pos = packed_int(bytes(body), pos)
    if count != len(shape.rules):
        raise DataError(f"rows event of {shape.schema}.{shape.table} does not match its Table_map")
    width = (count + 7) // 8
    bitmaps = [bytes(body[pos : pos + width])]
    if update:
        bitmaps.append(bytes(body[pos + width : pos + 2 * width]))
    rows_start = pos + width * len(bitmaps)
    plans = [[rule for i in _present(b, count) if (rule := shape.rules[i]) is not None] for b in bitmaps]
    rows: list[tuple[int, int, int]] = []
    pos = rows_start
    data = bytes(body)
    while pos < len(data):
        start = pos
        pos = _skip_image(data, pos, plans[0])
        middle = pos
        if update:
            pos = _skip_image(data, pos, plans[1])
        rows.append((start, middle, pos))
    if pos != len(data):
        raise DataError(f"rows event of {shape.schema}.{shape.table} could not be split into rows")
    flags = int.from_bytes(body[6:8], "little") | STMT_END_F
    body[6:8] = flags.to_bytes(2, "little")
    _swap_partitions(body, code)
    head = bytes(body[: rows_start - width * len(bitmaps)]) + b"".join(reversed(bitmaps))
    parts = [data[mid:end] + data[start:mid] if update else data[start:end] for start, mid, end in reversed(rows)]
    new_body = head + b"".join(parts)
    header = (raw[:4] + bytes([INVERSE_CODE[code]]) + raw[5:9]
              + struct.pack("<I", HEADER_LEN + len(new_body) + checksum_len) + raw[13:HEADER_LEN])
    event = header + new_body
    return event + struct.pack("<I", zlib.crc32(event)) if checksum_len else event


def invert_chunks(chunks: list[bytes], checksum_len: int) -> list[bytes]:
    """The events of one transaction (Table_map and Rows events in log order) that undo it: every Rows event
    inverted, after its Table_map, in reverse order."""
    return list(iter_inverted_chunks(chunks, checksum_len))


def iter_inverted_chunks(chunks: list[bytes] | SpillList[bytes], checksum_len: int) -> Iterator[bytes]:
    """invert_chunks as a stream: one pass forwards finds the Table_maps (by position, so each Rows event gets the
    latest one before it), then the events are read backwards; a large transaction's events (a SpillList on
    disk) are never held whole."""
    maps: dict[int, list[tuple[int, bytes, TableShape]]] = {}
    count = 0
    for chunk in chunks:
        code = chunk[4]
        if code == rawdump.TABLE_MAP_EVENT:
            shape = TableShape.parse(chunk[HEADER_LEN : len(chunk) - checksum_len])
            known = maps.setdefault(shape.table_id, [])
            if not known or known[-1][1] != chunk:
                known.append((count, chunk, shape))
        elif code not in INVERSE_CODE:
            raise DataError(f"event type {code} cannot be inverted")
        count += 1
    index = count
    for chunk in reversed(chunks):
        index -= 1
        if chunk[4] not in INVERSE_CODE:
            continue
        table_id = rawdump.rows_table_id(chunk[HEADER_LEN : len(chunk) - checksum_len])
        _, table_map, shape = next(entry for entry in reversed(maps[table_id]) if entry[0] < index)
        yield table_map
        yield invert_rows_event(chunk, shape, checksum_len)
