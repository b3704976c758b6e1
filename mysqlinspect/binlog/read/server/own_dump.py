"""EventRecords from a server through our own source and decoder (`--decoder own`, the default).

source/server.ServerBinlogSource (raw events of a COM_BINLOG_DUMP) -> decode/events.EventDecoder, with column
names and keys the binlog lacks from the server's current definitions (SchemaFallback over the SchemaLookup).
The decoder lives as long as the reader: its compiled row plans survive reconnects. The Format_description
re-sent at the start of a dump (end_pos 0) updates the decoder but is no record, as on the library path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from mysqlinspect.binlog.decode.events import EventDecoder
from mysqlinspect.binlog.decode.schema_fallback import SchemaFallback, SchemaLookup
from mysqlinspect.binlog.model import EventRecord
from mysqlinspect.binlog.position import BinlogPosition
from mysqlinspect.binlog.source.server import ServerBinlogSource
from mysqlinspect.connection.settings import ConnectionSettings


class OwnDumpRecords:
    """records(start) -> the real events from `start` as EventRecords, on one dump connection."""

    def __init__(self, settings: ConnectionSettings, server_id: int, *, blocking: bool, heartbeat: float,
                 read_timeout: float | None, lookup: SchemaLookup | None, warn: Callable[[str], None],
                 verify_checksum: bool = True) -> None:
        self.settings = settings
        self.server_id = server_id
        self.blocking = blocking
        self.heartbeat = heartbeat
        self.read_timeout = read_timeout
        self.verify_checksum = verify_checksum
        self.decoder = EventDecoder(warn=warn, schema=SchemaFallback(lookup, warn) if lookup is not None else None)
        self._source: ServerBinlogSource | None = None
        self.heartbeats = 0  # of closed sources; see `heartbeats_seen`

    @property
    def heartbeats_seen(self) -> int:
        """Heartbeats received over all connections (an idle --follow dump kept alive)."""
        return self.heartbeats + (self._source.heartbeats if self._source is not None else 0)

    def close(self) -> None:
        source, self._source = self._source, None
        if source is not None:
            source.close()
            self.heartbeats += source.heartbeats

    def records(self, start: BinlogPosition) -> Iterator[EventRecord]:
        self.close()
        self._source = ServerBinlogSource(self.settings, start, server_id=self.server_id, blocking=self.blocking,
                                          heartbeat=self.heartbeat, read_timeout=self.read_timeout,
                                          verify_checksum=self.verify_checksum)
        decode = self.decoder.decode
        for raw in self._source:
            if not raw.end_pos:
                decode(raw)
                continue
            yield from decode(raw)
