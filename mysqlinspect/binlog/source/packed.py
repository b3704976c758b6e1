"""Length-encoded ("packed") integers of the client protocol, also in Table_map, Rows, payload and MariaDB
compressed events: one byte below 251, else 0xFC/0xFD/0xFE followed by 2, 3 or 8 little-endian bytes."""

from __future__ import annotations

from mysqlinspect.errors import DataError

_SIZES = {252: 2, 253: 3, 254: 8}


class PackedIntError(DataError, ValueError):
    """A first byte that starts no length-encoded integer (0xFB, 0xFF)."""


def packed_int(data: bytes, pos: int) -> tuple[int, int]:
    """(value, position after it)."""
    first = data[pos]
    if first < 251:
        return first, pos + 1
    size = _SIZES.get(first)
    if size is None:
        raise PackedIntError(f"bad length-encoded integer (first byte 0x{first:02x}) at offset {pos}")
    return int.from_bytes(data[pos + 1 : pos + 1 + size], "little"), pos + 1 + size
