"""MariaDB `log_bin_compress` records (QUERY_COMPRESSED 165, ROWS_COMPRESSED 166-171), and the plain Rows event a
compressed one stands for (what mariadb-binlog prints, and the events mode sends).

A record is one header byte `0x80 | alg << 4 | lenlen` (alg 0 = zlib), `lenlen` bytes of the uncompressed length
(big-endian), then a zlib stream (sql/log_event.cc binlog_buf_compress / binlog_buf_uncompress).
"""

from __future__ import annotations

import zlib

from mysqlinspect.binlog.source.packed import packed_int
from mysqlinspect.errors import DataError


def uncompress_record(record: bytes | memoryview) -> bytes:
    if not record:
        raise DataError("empty MariaDB compressed record")
    head = record[0]
    if not head & 0x80 or (head >> 4) & 0x07 != 0:
        raise DataError(f"MariaDB compressed record with unknown header 0x{head:02x}")
    lenlen = head & 0x07
    if not 1 <= lenlen <= 4:
        raise DataError(f"MariaDB compressed record with a {lenlen}-byte length")
    expected = int.from_bytes(record[1 : 1 + lenlen], "big")
    try:
        data = zlib.decompress(bytes(record[1 + lenlen :]))
    except zlib.error as exc:
        raise DataError(f"cannot uncompress a MariaDB compressed event: {exc}") from exc
    if len(data) != expected:
        raise DataError(f"MariaDB compressed event: {len(data)} bytes uncompressed, {expected} announced")
    return data


COMPRESSED_QUERY = 165
PLAIN_ROWS = {166: 23, 167: 24, 168: 25, 169: 30, 170: 31, 171: 32}  # compressed Rows event -> its plain type
HEADER_LEN = 19


def plain_rows_event(event: bytes, checksum_len: int) -> bytes:
    """The plain Rows event (header, body [+ CRC32]) a compressed one stands for, as mariadb-binlog prints it: the
    same post-header, width and column bitmaps, then the row images uncompressed; type, size and CRC32 redone."""
    code = event[4]
    body = event[HEADER_LEN : len(event) - checksum_len]
    pos = 8  # table id (6 bytes), flags
    if code >= 169:  # v2: the extra row info's length counts itself
        pos += int.from_bytes(body[8:10], "little")
    width, pos = packed_int(body, pos)
    pos += (width + 7) // 8 * (2 if code in (167, 170) else 1)
    new_body = body[:pos] + uncompress_record(body[pos:])
    size = HEADER_LEN + len(new_body) + checksum_len
    out = (event[:4] + bytes([PLAIN_ROWS[code]]) + event[5:9] + size.to_bytes(4, "little") + event[13:HEADER_LEN]
           + new_body)
    return out + zlib.crc32(out).to_bytes(4, "little") if checksum_len else out
