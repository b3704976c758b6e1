"""A damaged JSON document (MySQL binary JSON in a row image) whose container count is huge fails as a short
buffer does, without building a layout of that many entries (2**32 - 1 entries asked for about 60 GB); one whose
entries share or loop back to one child fails before its values multiply (2**60 of them from 600 bytes)."""

from __future__ import annotations

import struct
import tracemalloc

import pytest

from mysqlinspect.binlog.decode import native
from mysqlinspect.binlog.decode import types as T
from mysqlinspect.binlog.decode.tablemap import ColumnDef
from mysqlinspect.binlog.decode.values.columns import codec_for
from mysqlinspect.binlog.decode.values.jsonb import parse_document

LARGE_ARRAY, SMALL_OBJECT = 0x03, 0x00


@pytest.mark.parametrize("document", [
    bytes([LARGE_ARRAY]) + struct.pack("<II", 0xFFFFFFFF, 64) + bytes(32),
    bytes([SMALL_OBJECT]) + struct.pack("<HH", 0xFFFF, 64) + bytes(32),
])
def test_huge_container_count_fails_without_building_it(document: bytes) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(struct.error):
            parse_document(document)
        assert tracemalloc.get_traced_memory()[1] < 1 << 20
    finally:
        tracemalloc.stop()


SMALL_ARRAY = 0x02


def _shared_children(levels: int) -> bytes:
    """Binary JSON whose every array holds two entries pointing at one child array: 2**levels leaves from
    about 10 * levels bytes (a crafted or damaged document; the server never shares a value's bytes)."""
    body = struct.pack("<HH", 1, 7) + bytes([0x04]) + struct.pack("<H", 0)  # the innermost array: [null]
    for _ in range(levels):  # count, size, two entries (type, offset) both pointing just past this header
        child = body
        body = struct.pack("<HH", 2, 10 + len(child)) + bytes([SMALL_ARRAY]) + struct.pack("<H", 10) \
            + bytes([SMALL_ARRAY]) + struct.pack("<H", 10) + child
    return bytes([SMALL_ARRAY]) + body


def _looping() -> bytes:
    """An array whose entry points back at itself."""
    return bytes([SMALL_ARRAY]) + struct.pack("<HH", 1, 7) + bytes([SMALL_ARRAY]) + struct.pack("<H", 0)


def test_documents_within_the_budget_read_as_before() -> None:
    assert parse_document(_shared_children(0)) == [None]
    assert parse_document(_shared_children(2)) == [[[None], [None]], [[None], [None]]]


@pytest.mark.parametrize("document", [_shared_children(60), _looping()])
def test_shared_or_looping_entries_fail_before_their_values_multiply(document: bytes) -> None:
    with pytest.raises(ValueError, match="more values than it can hold"):
        parse_document(document)


@pytest.mark.skipif(not native.ENABLED, reason="needs the C row reader")
@pytest.mark.parametrize("document", [_shared_children(60), _looping()])
def test_the_c_reader_hands_such_documents_back(document: bytes) -> None:
    """The C reader stops at the same budget and gives the event back (None): the Python plan then reads it and
    raises as above (rows.decode_rows)."""
    col = ColumnDef(index=0, type=T.JSON, meta=4, real_type=T.JSON, max_length=4)
    plan = native.compile_plan([col], ["j"], [codec_for(col, mariadb=False)], mariadb=False)
    assert plan is not None
    read = native.rowimage.images  # type: ignore[union-attr]
    assert read(plan, b"\x00" + struct.pack("<I", len(document)) + document, 0, b"\x01", None) is None
    good = _shared_children(2)
    assert read(plan, b"\x00" + struct.pack("<I", len(good)) + good, 0, b"\x01", None) == [{"j": parse_document(good)}]


def _shared_string(entries: int, length: int) -> bytes:
    """An array whose entries all point at one string of `length` bytes: entries * length characters."""
    header = 4 + 3 * entries
    text = bytes([0x80 | (length & 0x7F), length >> 7]) + b"x" * length
    return bytes([SMALL_ARRAY]) + struct.pack("<HH", entries, header + len(text)) \
        + (bytes([0x0C]) + struct.pack("<H", header)) * entries + text


def test_shared_strings_and_deep_loops_fail_as_damaged() -> None:
    assert parse_document(_shared_string(1, 200)) == ["x" * 200]  # a genuine document: its own bytes
    with pytest.raises(ValueError, match="more values than it can hold"):
        parse_document(_shared_string(10000, 16000))  # 160 MB of text from 46 kB
    looping = _looping()[:-2] + struct.pack("<H", 0) + bytes(5000)  # a loop the budget would let recurse 5000 deep
    looping = looping[:3] + struct.pack("<H", len(looping) - 1) + looping[5:]
    with pytest.raises(ValueError, match="nests too deeply"):
        parse_document(looping)


def _decimals(count: int) -> bytes:
    """A large array of `count` opaque DECIMAL(4,2) values 12.34 (field type 246, length 3, precision, scale,
    the packed digits)."""
    opaque = bytes([246, 4, 4, 2, 0x80 | 12, 34])
    entries_end = 1 + 8 + count * 5
    entries = b"".join(bytes([0x0F]) + struct.pack("<I", entries_end - 1 + i * len(opaque)) for i in range(count))
    body = struct.pack("<II", count, entries_end - 1 + count * len(opaque)) + entries + opaque * count
    return bytes([LARGE_ARRAY]) + body


def test_opaque_values_read_only_their_own_bytes() -> None:
    """Each opaque value is handed to the library parser as its own bytes: 20,000 DECIMALs read in linear time
    (the rest of a 200 kB document was copied for each)."""
    values = parse_document(_decimals(20000))
    assert len(values) == 20000 and {str(v) for v in values} == {"12.34"}
