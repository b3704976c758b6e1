"""Byte-level inversion of Rows events (the events-mode flashback): types swapped, rows reversed, UPDATE images
swapped, flags, size and CRC32 redone; inverting twice gives the original back (with the end-of-statement flag)."""

from __future__ import annotations

import struct
import zlib

import pytest

from mysqlinspect.binlog.decode.rowsizes import TableShape
from mysqlinspect.binlog.replay.raw_flashback import invert_chunks, invert_rows_event

TABLE_ID = 77


def table_map_body() -> bytes:
    """db.t (id INT, v VARCHAR(40))."""
    body = TABLE_ID.to_bytes(6, "little") + b"\x01\x00" + b"\x02db\x00" + b"\x01t\x00"
    return body + b"\x02" + bytes([3, 15]) + b"\x02" + (40).to_bytes(2, "little") + b"\x03"


def image(row_id: int, text: bytes) -> bytes:
    return b"\x00" + struct.pack("<i", row_id) + bytes([len(text)]) + text


def event(code: int, body: bytes, checksum: bool = True) -> bytes:
    size = 19 + len(body) + (4 if checksum else 0)
    header = struct.pack("<IBIIIH", 1700000000, code, 1, size, 1234, 0)
    raw = header + body
    return raw + struct.pack("<I", zlib.crc32(raw)) if checksum else raw


def rows_body(code: int, rows: list[bytes], flags: int = 1) -> bytes:
    head = TABLE_ID.to_bytes(6, "little") + flags.to_bytes(2, "little")
    if code >= 30:
        head += (2).to_bytes(2, "little")
    bitmaps = b"\x03\x03" if code in (24, 31) else b"\x03"
    return head + b"\x02" + bitmaps + b"".join(rows)


SHAPE = TableShape.parse(table_map_body())


@pytest.mark.parametrize(("code", "inverse"), [(30, 32), (32, 30), (23, 25), (25, 23)])
def test_write_and_delete_swap_and_reverse_their_rows(code: int, inverse: int) -> None:
    rows = [image(1, b"one"), image(2, b"two"), image(3, b"")]
    original = event(code, rows_body(code, rows))
    inverted = invert_rows_event(original, SHAPE, 4)
    assert inverted[4] == inverse
    assert inverted[19:-4] == rows_body(inverse, list(reversed(rows)))
    assert struct.unpack_from("<I", inverted, 9)[0] == len(inverted)
    assert struct.unpack("<I", inverted[-4:])[0] == zlib.crc32(inverted[:-4])
    assert invert_rows_event(inverted, SHAPE, 4) == original


@pytest.mark.parametrize("code", [24, 31])
def test_update_swaps_before_and_after_images(code: int) -> None:
    rows = [image(1, b"a") + image(1, b"bb"), image(2, b"ccc") + image(5, b"")]
    original = event(code, rows_body(code, rows, flags=0), checksum=False)
    inverted = invert_rows_event(original, SHAPE, 0)
    swapped = [image(5, b"") + image(2, b"ccc"), image(1, b"bb") + image(1, b"a")]
    assert inverted[19:] == rows_body(code, swapped, flags=1)
    assert invert_rows_event(inverted, SHAPE, 0) == event(code, rows_body(code, rows, flags=1), checksum=False)


def test_a_transaction_is_undone_in_reverse_order_each_event_after_its_table_map() -> None:
    table_map = event(19, table_map_body())
    first = event(30, rows_body(30, [image(1, b"x")], flags=0))
    second = event(31, rows_body(31, [image(1, b"x") + image(1, b"y")]))
    undo = invert_chunks([table_map, first, second], 4)
    assert undo == [table_map, invert_rows_event(second, SHAPE, 4), table_map, invert_rows_event(first, SHAPE, 4)]
