"""A damaged JSON document (MySQL binary JSON in a row image) whose container count is huge fails as a short
buffer does, without building a layout of that many entries (2**32 - 1 entries asked for about 60 GB)."""

from __future__ import annotations

import struct
import tracemalloc

import pytest

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
