"""MariaDB `log_bin_compress` records (QUERY_COMPRESSED 165, ROWS_COMPRESSED 166-171).

A record is one header byte `0x80 | alg << 4 | lenlen` (alg 0 = zlib), `lenlen` bytes of the uncompressed length
(big-endian), then a zlib stream (sql/log_event.cc binlog_buf_compress / binlog_buf_uncompress).
"""

from __future__ import annotations

import zlib

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
