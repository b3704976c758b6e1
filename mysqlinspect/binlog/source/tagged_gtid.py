"""MySQL 8.3+ tagged GTIDs in the binlog: GTID_TAGGED_LOG_EVENT (type 42) and the tagged Previous_gtids set.

Both use the MySQL serialization library's variable-length integers: the number of trailing one-bits of the
first byte, plus one, is the length in bytes (0xFF: nine bytes, the value in the last eight); the value is the
little-endian number shifted right by that length. Signed values are zig-zag encoded.

GTID_TAGGED_LOG_EVENT body: a version byte, then `payload_size`, `last_non_ignorable_field_id`, then
`field_id value` pairs: 0 flags, 1 sid (16 varlen bytes), 2 gno (signed), 3 tag (length + bytes), ...
"""

from __future__ import annotations

from mysqlinspect.errors import DataError

FIELD_FLAGS, FIELD_SID, FIELD_GNO, FIELD_TAG = 0, 1, 2, 3
FIELD_LAST_COMMITTED, FIELD_SEQUENCE_NUMBER = 4, 5
_UNSIGNED_FIELDS = frozenset({0, 6, 7, 8, 9, 10, 11})
_SIGNED_FIELDS = frozenset({2, 4, 5})


def read_varlen(data: bytes, pos: int) -> tuple[int, int]:
    """(value, next position) of an unsigned serialization-library varlen integer."""
    if pos >= len(data):
        raise DataError("truncated variable-length integer in a tagged GTID")
    first = data[pos]
    if first == 0xFF:
        return int.from_bytes(data[pos + 1 : pos + 9], "little"), pos + 9
    size = 1
    while first & 1:
        size += 1
        first >>= 1
    return int.from_bytes(data[pos : pos + size], "little") >> size, pos + size


def read_varlen_signed(data: bytes, pos: int) -> tuple[int, int]:
    value, pos = read_varlen(data, pos)
    return (-(value >> 1) - 1 if value & 1 else value >> 1), pos


def _uuid(raw: bytes) -> str:
    h = raw.hex()
    return f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def parse_tagged_gtid(body: bytes) -> tuple[str, int]:
    """('uuid:tag:gno', flags) from a GTID_TAGGED_LOG_EVENT body (without header and checksum)."""
    pos = 1  # serialization format version
    _, pos = read_varlen(body, pos)  # payload_size
    _, pos = read_varlen(body, pos)  # last_non_ignorable_field_id
    sid = b""
    gno = 0
    tag = ""
    flags = 0
    while pos < len(body):
        field, pos = read_varlen(body, pos)
        if field == FIELD_SID:
            raw = bytearray()
            for _ in range(16):
                byte, pos = read_varlen(body, pos)
                raw.append(byte & 0xFF)
            sid = bytes(raw)
        elif field == FIELD_TAG:
            length, pos = read_varlen(body, pos)
            tag = body[pos : pos + length].decode("ascii", "replace")
            pos += length
        elif field in _SIGNED_FIELDS:
            value, pos = read_varlen_signed(body, pos)
            if field == FIELD_GNO:
                gno = value
        elif field in _UNSIGNED_FIELDS:
            value, pos = read_varlen(body, pos)
            if field == FIELD_FLAGS:
                flags = value
        else:
            break  # an unknown field: its length is unknown, and the GTID fields come first
        if field >= FIELD_TAG:
            break  # fields come in ascending id order: nothing after the tag is needed
    if not sid or not gno:
        raise DataError("a tagged GTID event without uuid or number")
    gtid = f"{_uuid(sid)}:{tag.lower()}:{gno}" if tag else f"{_uuid(sid)}:{gno}"
    return gtid, flags


def parse_previous_gtids(body: bytes) -> str:
    """The GTID set text of a Previous_gtids body, untagged or tagged (format byte 1 in the top 8 bits)."""
    header = int.from_bytes(body[0:8], "little")
    tagged = header >> 56 == 1
    n_sids = (header >> 8) & ((1 << 48) - 1) if tagged else header & ((1 << 56) - 1)
    pos = 8
    parts: list[str] = []
    for _ in range(n_sids):
        uuid = _uuid(body[pos : pos + 16])
        pos += 16
        tag = ""
        if tagged:
            length, pos = read_varlen(body, pos)
            tag = body[pos : pos + length].decode("ascii", "replace").lower()
            pos += length
        n_intervals = int.from_bytes(body[pos : pos + 8], "little")
        pos += 8
        ranges = []
        for _ in range(n_intervals):
            lo = int.from_bytes(body[pos : pos + 8], "little")
            hi = int.from_bytes(body[pos + 8 : pos + 16], "little") - 1
            pos += 16
            ranges.append(f"{lo}" if lo == hi else f"{lo}-{hi}")
        if pos > len(body):
            raise DataError("truncated Previous_gtids event")
        parts.append(f"{uuid}:{tag}:" + ":".join(ranges) if tag else f"{uuid}:" + ":".join(ranges))
    return ",".join(parts)
