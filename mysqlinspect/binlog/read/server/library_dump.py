"""EventRecords from a server through mysql-replication's BinLogStreamReader (`--decoder library`).

One BinLogStreamReader per `records(start)` call: a dump by file/position (resume_stream, never the library's
GTID auto-position), a *copy* of the connection settings, compressed transaction payloads decoded through the
library's own event classes, and a dump connection the library may not reopen by itself (BinlogStream
reconnects after the last complete transaction instead).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pymysql
from pymysql.protocol import MysqlPacket
from pymysqlreplication import BinLogStreamReader
from pymysqlreplication import event as lib_event
from pymysqlreplication import row_event as lib_rows
from pymysqlreplication.packet import BinLogPacketWrapper

from mysqlinspect.binlog.decode.library import fastrows, jsonnull
from mysqlinspect.binlog.decode.library.events import TaggedGtidEvent, TransactionPayloadEvent, register_library_events
from mysqlinspect.binlog.decode.library.records import EventAdapter, SchemaLookup, TableShapes
from mysqlinspect.binlog.decode.payload import payload_events
from mysqlinspect.binlog.model import EventRecord
from mysqlinspect.binlog.position import FIRST_EVENT_POS, BinlogPosition
from mysqlinspect.binlog.source.dump_connection import dump_connection_kwargs
from mysqlinspect.connection.settings import ConnectionSettings

register_library_events()
jsonnull.install()  # JSON `null` documents stay distinct from SQL NULL; fresh none-sources per row image
fastrows.install()  # faster row decoding; partly-zero dates kept exactly
logging.getLogger("pymysqlreplication").setLevel(logging.ERROR)

# PreviousGtidsEvent is left out on purpose: the library cannot parse the tagged format of MySQL 8.3+ (and
# mysqlinspect reads Previous_gtids itself, in rawdump/tagged_gtid).
EVENT_CLASSES: frozenset[type] = frozenset({
    lib_event.QueryEvent, lib_event.RotateEvent, lib_event.StopEvent, lib_event.FormatDescriptionEvent,
    lib_event.XAPrepareEvent, lib_event.XidEvent, lib_event.GtidEvent, lib_event.BeginLoadQueryEvent,
    lib_event.ExecuteLoadQueryEvent, lib_rows.UpdateRowsEvent, lib_rows.WriteRowsEvent, lib_rows.DeleteRowsEvent,
    lib_rows.TableMapEvent, lib_event.HeartbeatLogEvent, lib_event.NotImplementedEvent, lib_event.MariadbGtidEvent,
    lib_event.RowsQueryLogEvent, lib_event.MariadbAnnotateRowsEvent, lib_event.RandEvent,
    lib_event.MariadbStartEncryptionEvent, lib_event.MariadbGtidListEvent, lib_event.MariadbBinLogCheckPointEvent,
    lib_event.UserVarEvent, lib_rows.PartialUpdateRowsEvent, lib_event.IntvarEvent,
    TransactionPayloadEvent, TaggedGtidEvent,
})


class LibraryDumpRecords:
    """records(start) -> the real events from `start` as EventRecords, on one library stream."""

    def __init__(self, settings: ConnectionSettings, server_id: int, *, blocking: bool, heartbeat: float,
                 read_timeout: float | None, lookup: SchemaLookup | None, warn: Callable[[str], None]) -> None:
        self.settings = settings
        self.server_id = server_id
        self.blocking = blocking
        self.heartbeat = heartbeat
        self.read_timeout = read_timeout
        self.adapter = EventAdapter(shapes=TableShapes(lookup=lookup, warn=warn))
        self._reader: BinLogStreamReader | None = None

    def close(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            try:
                reader.close()
            except Exception:
                pass

    def _open(self, at: BinlogPosition) -> BinLogStreamReader:
        self.close()
        conn = dump_connection_kwargs(self.settings)
        if self.read_timeout:
            conn["read_timeout"] = self.read_timeout
        self.adapter.file = at.file
        self._reader = BinLogStreamReader(
            pymysql_wrapper=_single_dump_connection(),
            connection_settings=dict(conn),
            ctl_connection_settings=dict(conn),
            server_id=self.server_id,
            resume_stream=True,
            blocking=self.blocking,
            log_file=at.file,
            log_pos=max(at.pos, FIRST_EVENT_POS),
            only_events=list(EVENT_CLASSES),
            filter_non_implemented_events=False,
            slave_heartbeat=self.heartbeat if self.blocking else None,
            enable_logging=False,
        )
        return self._reader

    def records(self, start: BinlogPosition) -> Iterator[EventRecord]:
        reader = self._open(start)
        for event in reader:
            if isinstance(event, TransactionPayloadEvent):
                yield from self._payload_records(reader, event)
                continue
            record = self.adapter.observe(event)
            if record is not None:
                yield record

    def _payload_records(self, reader: BinLogStreamReader, event: TransactionPayloadEvent) -> Iterator[EventRecord]:
        packet = event.packet
        outer = (packet.log_pos - packet.event_size, packet.log_pos)
        for inner in payload_events(event.body):
            wrapped = BinLogPacketWrapper(
                MysqlPacket(b"\x00" + inner, "utf8"), reader.table_map, reader._ctl_connection,
                reader.mysql_version, False, EVENT_CLASSES, None, None, None, None, False, False, False,
                reader._BinLogStreamReader__optional_meta_data, False, False,
                reader._BinLogStreamReader__post_header_lengths,
            )
            inner_event = wrapped.event
            if inner_event is None:
                continue
            if isinstance(inner_event, lib_rows.TableMapEvent):
                reader.table_map[inner_event.table_id] = inner_event.get_table()
            record = self.adapter.convert(inner_event, compressed_at=outer)
            record.timestamp = record.timestamp or event.timestamp
            yield record


def _single_dump_connection() -> Callable[..., Any]:
    """A pymysql.connect for the library that refuses to reopen the dump connection: the library would
    silently reconnect from its own mid-transaction position; BinlogStream reconnects after the last complete
    transaction instead, and says so."""
    opened = False

    def connect(**kwargs: Any) -> Any:
        nonlocal opened
        if "db" in kwargs:  # the library's control connection (information_schema)
            return pymysql.connect(**kwargs)
        if opened:
            raise pymysql.err.OperationalError(2013, "Lost connection to the server during the binlog dump")
        opened = True
        return pymysql.connect(**kwargs)

    return connect

