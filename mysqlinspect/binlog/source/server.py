"""Raw events from a server for our own decoder: COM_BINLOG_DUMP by file/position over RawDump.

Always by file/position, never GTID auto-position (see read/server/stream.py). What a dump sends besides the log's
events, and what this source does with it:
- a fake Rotate first, and again when the server moves on to the next file (log_pos 0 or
  LOG_EVENT_ARTIFICIAL_F): it names the file the following events come from; not yielded.
- the file's Format_description, re-sent with log_pos 0 when the dump starts past position 4: yielded with
  start_pos = end_pos = 0 (a decoder needs it: post-header lengths, checksums, flavor; it is no position).
- other artificial events (log_pos 0, e.g. MariaDB's Gtid_list at the start): not yielded.
- heartbeats on an idle blocking dump (asked for with @master/@source_heartbeat_period so that an idle
  --follow connection is not dropped): they advance nothing; not yielded.
The dump declares itself checksum-aware, so events arrive as the file holds them and each file's FDE says
whether they end in a CRC32: real events' CRCs are verified (a mismatch is a DataError naming the file and
position) and stripped. MariaDB: @mariadb_slave_capability=4 (GTID events) and Annotate_rows events asked for.
TLS as the connection settings ask (dump_connection_kwargs). Connection errors are raised as PyMySQL raises
them: the reader decides what is transient and reconnects.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from mysqlinspect.binlog.position import BinlogPosition
from mysqlinspect.binlog.source.fde import (
    CHECKSUM_CRC32,
    CHECKSUM_LEN,
    FormatDescription,
    crc_ok,
    is_checksum_aware,
    server_version,
)
from mysqlinspect.binlog.source.rawdump import (
    FORMAT_DESCRIPTION_EVENT,
    HEADER,
    HEADER_LEN,
    HEARTBEAT_EVENT,
    HEARTBEAT_V2_EVENT,
    ROTATE_EVENT,
    RawDump,
    RawEvent,
    packets,
)
from mysqlinspect.connection.settings import ConnectionSettings
from mysqlinspect.errors import DataError

ARTIFICIAL_FLAG = 0x20  # LOG_EVENT_ARTIFICIAL_F
IN_USE_FLAG = 0x01  # LOG_EVENT_BINLOG_IN_USE_F, in the FDE of a file still open
FLAGS_AT = 17  # the header's flags field, in an event
HEARTBEATS = frozenset({HEARTBEAT_EVENT, HEARTBEAT_V2_EVENT})
ROTATE_POST_HEADER = 8


class ServerBinlogSource:
    """Iterate RawEvents of a server's binlog from `start` (see module doc); one connection per iteration."""

    def __init__(self, settings: ConnectionSettings, start: BinlogPosition, *, server_id: int | None = None,
                 blocking: bool = False, heartbeat: float | None = None, read_timeout: float | None = 60.0,
                 verify_checksum: bool = True) -> None:
        self.dump = RawDump(settings, start, server_id=server_id, blocking=blocking, read_timeout=read_timeout,
                            heartbeat=heartbeat if blocking else None, annotate=True)
        self.verify_checksum = verify_checksum
        self.heartbeats = 0  # received on this source (an idle blocking dump)

    def close(self) -> None:
        self.dump.close()

    def __iter__(self) -> Iterator[RawEvent]:
        try:
            conn = self.dump.open()
            yield from self.events(packets(conn, self.dump.read_timeout))
        finally:
            self.close()

    def events(self, payloads: Iterable[bytes]) -> Iterator[RawEvent]:
        """RawEvents of the dump's OK-packet payloads (a 0x00 byte, then the event)."""
        current = self.dump.start.file
        csum = self.dump.checksum_len  # until the first FDE says what this file holds
        unpack = HEADER.unpack_from
        verify = self.verify_checksum
        for data in payloads:
            timestamp, code, server_id, size, log_pos, flags = unpack(data, 1)
            if code in HEARTBEATS:
                self.heartbeats += 1
                continue
            event = memoryview(data)[1:]
            if code == ROTATE_EVENT and (log_pos == 0 or flags & ARTIFICIAL_FLAG):
                current = rotate_target(event, CHECKSUM_LEN if crc_ok(event) else 0)
                continue
            if code == FORMAT_DESCRIPTION_EVENT:
                body, fde = read_fde(event, verify and log_pos != 0, current, log_pos - size)
                csum = fde.checksum_len
            elif log_pos == 0:
                continue
            elif csum:
                if verify and not crc_ok(event):
                    raise DataError(f"{current}: event at position {log_pos - size} (type {code}, {size} bytes) "
                                    "fails its CRC32 checksum as the server sent it (--no-verify-checksum reads on)")
                body = bytes(event[HEADER_LEN:-csum])
            else:
                body = bytes(event[HEADER_LEN:])
            start = log_pos - size if log_pos else 0
            yield RawEvent(current, start, log_pos, timestamp, code, server_id, size, flags, body)
            if code == ROTATE_EVENT:
                current = rotate_target(event, csum)


def rotate_target(event: memoryview, csum: int) -> str:
    return bytes(event[HEADER_LEN + ROTATE_POST_HEADER : len(event) - csum]).decode("utf-8", "replace")


def read_fde(event: memoryview, verify: bool, file: str, pos: int) -> tuple[bytes, FormatDescription]:
    """(body without its CRC, keeping the checksum_alg byte; the format it describes). The server may have
    cleared the in-use flag of a file still open, so either CRC is accepted."""
    body = bytes(event[HEADER_LEN:])
    if is_checksum_aware(server_version(body)):
        body = body[:-CHECKSUM_LEN]
    fde = FormatDescription.from_body(body)
    if verify and fde.checksum_alg == CHECKSUM_CRC32 and not crc_ok(event):
        cleared = bytearray(event)
        cleared[FLAGS_AT] &= ~IN_USE_FLAG & 0xFF
        if not crc_ok(bytes(cleared)):
            raise DataError(f"{file}: the Format_description event at position {pos} fails its CRC32 checksum")
    return body, fde
