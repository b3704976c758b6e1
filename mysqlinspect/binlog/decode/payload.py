"""TRANSACTION_PAYLOAD_EVENT (type 40, binlog_transaction_compression=ON): decodes the zstd payload into the inner
events (each a full event header + body, without checksum), for the own decoder and for mysql-replication's
(which has no class for the event: library/events.py gives it one that keeps the body).

Body layout (libbinlogevents Transaction_payload codec): fields `type, length, value` with type and length as
MySQL length-encoded integers; type 0 ends the header, then the compressed bytes follow.
1 = compressed size, 2 = compression type (0 ZSTD, 255 NONE), 3 = uncompressed size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from mysqlinspect.binlog.source.packed import packed_int
from mysqlinspect.errors import DataError

TRANSACTION_PAYLOAD_EVENT = 40
COMPRESSION_ZSTD = 0
COMPRESSION_NONE = 255
HEADER_LEN = 19
PAYLOAD_BLOCK = 1 << 20  # decompressed bytes read at a time


@dataclass(frozen=True)
class PayloadHeader:
    compression: int
    compressed_size: int
    uncompressed_size: int
    data_offset: int


def parse_payload_header(body: bytes) -> PayloadHeader:
    pos = 0
    fields: dict[int, int] = {}
    while pos < len(body):
        ftype, pos = packed_int(body, pos)
        if ftype == 0:
            break
        length, pos = packed_int(body, pos)
        raw = body[pos : pos + length]
        value, _ = packed_int(raw, 0) if length else (0, 0)
        fields[ftype] = value
        pos += length
    return PayloadHeader(compression=fields.get(2, COMPRESSION_ZSTD), compressed_size=fields.get(1, len(body) - pos),
                         uncompressed_size=fields.get(3, 0), data_offset=pos)


def decompress_payload(body: bytes) -> bytes:
    header = parse_payload_header(body)
    data = body[header.data_offset : header.data_offset + header.compressed_size]
    if header.compression == COMPRESSION_NONE:
        return data
    if header.compression != COMPRESSION_ZSTD:
        raise DataError(f"transaction payload with unknown compression type {header.compression}")
    import zstandard

    try:
        return zstandard.ZstdDecompressor().decompress(data, max_output_size=max(header.uncompressed_size, 1 << 20))
    except zstandard.ZstdError as exc:
        raise DataError(f"cannot decompress a transaction payload: {exc}") from exc


def payload_events(body: bytes) -> Iterator[bytes]:
    """The inner events of a payload body (split_events of decompress_payload), decompressed as they are read: a
    large compressed transaction is never held whole uncompressed."""
    header = parse_payload_header(body)
    data = body[header.data_offset : header.data_offset + header.compressed_size]
    if header.compression == COMPRESSION_NONE:
        yield from split_events(data)
        return
    if header.compression != COMPRESSION_ZSTD:
        raise DataError(f"transaction payload with unknown compression type {header.compression}")
    import zstandard

    buffer = bytearray()
    pos = 0
    try:
        with zstandard.ZstdDecompressor().stream_reader(data, read_across_frames=True) as reader:
            while True:
                while len(buffer) - pos >= HEADER_LEN:
                    size = int.from_bytes(buffer[pos + 9 : pos + 13], "little")
                    if size < HEADER_LEN:
                        raise DataError("truncated event inside a transaction payload")
                    if len(buffer) - pos < size:
                        break
                    yield bytes(buffer[pos : pos + size])
                    pos += size
                block = reader.read(PAYLOAD_BLOCK)
                if not block:
                    break
                del buffer[:pos]
                pos = 0
                buffer += block
    except zstandard.ZstdError as exc:
        raise DataError(f"cannot decompress a transaction payload: {exc}") from exc
    if len(buffer) - pos >= HEADER_LEN:
        raise DataError("truncated event inside a transaction payload")


def split_events(raw: bytes) -> Iterator[bytes]:
    """Inner events: 19-byte header (event_size at offset 9) + body, back to back."""
    pos = 0
    while pos + HEADER_LEN <= len(raw):
        size = int.from_bytes(raw[pos + 9 : pos + 13], "little")
        if size < HEADER_LEN or pos + size > len(raw):
            raise DataError("truncated event inside a transaction payload")
        yield raw[pos : pos + size]
        pos += size
