"""A closed-on-exit wrapper around mysql-replication's BinLogStreamReader.

`BinlogStream(settings, start, ...)` yields EventRecords (`events()`) or complete Transactions
(`transactions()`). It always dumps by file/position (COM_BINLOG_DUMP with resume_stream, never the library's
GTID auto-position, which re-sends the original set on reconnect and duplicates events), passes a *copy* of the
connection settings, uses a unique replica server id, decodes compressed transaction payloads, and - in
`transactions()` - survives dropped connections: it reopens the dump after the last complete transaction with
exponential backoff, so no transaction is lost or yielded twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pymysql
from pymysql.protocol import MysqlPacket
from pymysqlreplication import BinLogStreamReader
from pymysqlreplication import event as lib_event
from pymysqlreplication import row_event as lib_rows
from pymysqlreplication.packet import BinLogPacketWrapper

from mysqlinspect.binlog.decode import fastrows, jsonnull
from mysqlinspect.binlog.decode.library_events import TaggedGtidEvent, register_library_events
from mysqlinspect.binlog.decode.payload import TransactionPayloadEvent, decompress_payload, split_events
from mysqlinspect.binlog.decode.records import EventAdapter, SchemaLookup, TableShapes
from mysqlinspect.binlog.model import EventRecord, Transaction
from mysqlinspect.binlog.position import FIRST_EVENT_POS, BinlogPosition
from mysqlinspect.binlog.read.gtid import GtidSet
from mysqlinspect.binlog.read.transactions import TransactionAssembler
from mysqlinspect.binlog.source.dump_connection import (
    DumpEnded,
    dump_connection_kwargs,
    is_transient,
    random_replica_id,
    translate_stream_error,
)
from mysqlinspect.connection.settings import ConnectionSettings
from mysqlinspect.errors import ConnectError, MysqlInspectError

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


@dataclass
class RetryPolicy:
    """Reconnect with exponential backoff; give up after `give_up_after` seconds without progress."""

    first_delay: float = 0.2
    max_delay: float = 10.0
    give_up_after: float = 120.0
    enabled: bool = True


@dataclass
class StopBound:
    """Where a bounded read ends: transactions starting at/after `position`, or stamped at/after `timestamp`."""

    position: BinlogPosition | None = None
    timestamp: int | None = None

    def reached(self, txn: Transaction) -> bool:
        if self.position is not None and BinlogPosition(txn.file, txn.start_pos) >= self.position:
            return True
        return self.timestamp is not None and txn.timestamp >= self.timestamp


@dataclass
class StreamOptions:
    server_id: int | None = None
    blocking: bool = False  # True: --follow (wait for new events); False: stop at the end of the log
    heartbeat: float = 5.0
    read_timeout: float | None = 60.0  # None: no socket timeout (faster reads; use for bounded ranges)
    retry: RetryPolicy = field(default_factory=RetryPolicy)


class BinlogStream:
    """Context manager over one binlog range; iterate `events()` or `transactions()` once."""

    def __init__(self, settings: ConnectionSettings, start: BinlogPosition, *, options: StreamOptions | None = None,
                 stop: StopBound | None = None, lookup: SchemaLookup | None = None,
                 warn: Callable[[str], None] | None = None, seen_gtids: GtidSet | None = None,
                 first_transaction_number: int = 1) -> None:
        self.settings = settings
        self.options = options or StreamOptions()
        self.server_id = self.options.server_id or random_replica_id()
        self.stop = stop or StopBound()
        self.warn = warn or (lambda message: None)
        self.shapes = TableShapes(lookup=lookup, warn=self.warn)
        self.adapter = EventAdapter(shapes=self.shapes, file=start.file)
        self.assembler = TransactionAssembler(next_number=first_transaction_number)
        self.resume_at = start  # after the last complete transaction (or outside event)
        self.seen_gtids = seen_gtids
        self.reconnects = 0
        self._reader: BinLogStreamReader | None = None

    # lifecycle -----------------------------------------------------------------------------------
    def __enter__(self) -> BinlogStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
        if self.options.read_timeout:
            conn["read_timeout"] = self.options.read_timeout
        self.adapter.file = at.file
        self._reader = BinLogStreamReader(
            pymysql_wrapper=_single_dump_connection(),
            connection_settings=dict(conn),
            ctl_connection_settings=dict(conn),
            server_id=self.server_id,
            resume_stream=True,
            blocking=self.options.blocking,
            log_file=at.file,
            log_pos=max(at.pos, FIRST_EVENT_POS),
            only_events=list(EVENT_CLASSES),
            filter_non_implemented_events=False,
            slave_heartbeat=self.options.heartbeat if self.options.blocking else None,
            enable_logging=False,
        )
        return self._reader

    # events ----------------------------------------------------------------------------------------
    def events(self) -> Iterator[EventRecord]:
        """Every real event from the start position, on one connection (no retries)."""
        try:
            reader = self._open(self.resume_at)
            for event in reader:
                if isinstance(event, TransactionPayloadEvent):
                    yield from self._payload_records(reader, event)
                    continue
                record = self.adapter.observe(event)
                if record is not None:
                    yield record
        except MysqlInspectError:
            raise
        except Exception as exc:
            if is_transient(exc):
                raise
            raise translate_stream_error(exc, self.resume_at) from exc
        finally:
            self.close()

    def _payload_records(self, reader: BinLogStreamReader, event: TransactionPayloadEvent) -> Iterator[EventRecord]:
        packet = event.packet
        outer = (packet.log_pos - packet.event_size, packet.log_pos)
        raw = decompress_payload(event.body)
        for inner in split_events(raw):
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

    # transactions ----------------------------------------------------------------------------------
    def transactions(self) -> Iterator[Transaction]:
        """Complete transactions in order, reconnecting after failures; stops at the StopBound or log end."""
        policy = self.options.retry
        delay = policy.first_delay
        last_progress = time.monotonic()
        while True:
            try:
                for item in self._assembled():
                    last_progress = time.monotonic()
                    delay = policy.first_delay
                    if isinstance(item, EventRecord):
                        self._advance_outside(item)
                        continue
                    if self.stop.reached(item):
                        return
                    self.resume_at = BinlogPosition(item.end_file, item.end_pos)
                    if self._already_seen(item):
                        continue
                    yield item
                if not self.options.blocking:
                    return
                raise DumpEnded("the server ended the dump (shutdown?)")
            except Exception as exc:
                if not (policy.enabled and is_transient(exc)):
                    raise translate_stream_error(exc, self.resume_at) from exc
                if time.monotonic() - last_progress > policy.give_up_after:
                    raise ConnectError(f"binlog stream lost and not recovered within {policy.give_up_after:.0f}s: "
                                       f"{exc}") from exc
                self.assembler.reset()
                self.reconnects += 1
                self.warn(f"binlog connection lost ({_describe(exc)}); resuming at {self.resume_at} in {delay:.1f}s")
                time.sleep(delay)
                delay = min(delay * 2, policy.max_delay)

    def _assembled(self) -> Iterator[Transaction | EventRecord]:
        for record in self.events():
            yield from self.assembler.feed(record)
        tail = self.assembler.flush()
        if tail is not None and not tail.complete and not self.options.blocking:
            # The log ended inside a transaction (a crashed server's last file): nothing to resume after it.
            self.warn(f"transaction at {tail.file}:{tail.start_pos} is incomplete at the end of the log; not shown")

    def _advance_outside(self, record: EventRecord) -> None:
        if record.event_type == "RotateEvent" and record.query:
            self.resume_at = BinlogPosition(record.query, FIRST_EVENT_POS)
        elif record.end_pos > 0 and record.file:
            self.resume_at = BinlogPosition(record.file, record.end_pos)

    def _already_seen(self, txn: Transaction) -> bool:
        if self.seen_gtids is None or not txn.gtid:
            return False
        if self.seen_gtids.contains(txn.gtid):
            return True
        self.seen_gtids.add_gtid(txn.gtid)
        return False


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


def _describe(exc: BaseException) -> str:
    if exc.args and isinstance(exc.args[0], int) and len(exc.args) > 1:
        return f"{exc.args[0]}: {exc.args[1]}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
