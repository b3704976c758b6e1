"""Complete transactions (or raw EventRecords) of a server's binlog, surviving dropped connections.

`BinlogStream(settings, start, ...)` yields EventRecords (`events()`) or complete Transactions (`transactions()`).
The records come from one of two decoders (StreamOptions.decoder): `own` (default: read/server/own_dump.py, our
source and decoder) or `library` (read/server/library_dump.py, mysql-replication). Either way it always dumps by
file/position (COM_BINLOG_DUMP, never GTID auto-position, which re-sends the original set on reconnect and
duplicates events), uses a unique replica server id, decodes compressed transaction payloads, and - in
`transactions()` - survives dropped connections: it reopens the dump after the last complete transaction with
exponential backoff, so no transaction is lost or yielded twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

from mysqlinspect.binlog.decode.schema_fallback import SchemaLookup
from mysqlinspect.binlog.model import EventRecord, Transaction
from mysqlinspect.binlog.position import FIRST_EVENT_POS, BinlogPosition
from mysqlinspect.binlog.read.gtid import GtidSet
from mysqlinspect.binlog.read.transactions import TransactionAssembler
from mysqlinspect.binlog.source.dump_connection import (
    DumpEnded,
    is_transient,
    random_replica_id,
    translate_stream_error,
)
from mysqlinspect.connection.settings import ConnectionSettings
from mysqlinspect.errors import ConnectError, MysqlInspectError

Decoder = Literal["own", "library"]
DECODERS: tuple[Decoder, ...] = ("own", "library")


@dataclass
class RetryPolicy:
    """Reconnect with exponential backoff; give up after `give_up_after` seconds without progress."""

    first_delay: float = 0.2
    max_delay: float = 10.0
    give_up_after: float = 120.0
    enabled: bool = True

    def failure(self, exc: Exception, resume_at: BinlogPosition, last_progress: float) -> MysqlInspectError | None:
        """The error to raise for `exc`, or None for a dropped connection to reopen at `resume_at` (transient,
        retries on, and progress within `give_up_after`)."""
        if not (self.enabled and is_transient(exc)):
            return translate_stream_error(exc, resume_at)
        if time.monotonic() - last_progress > self.give_up_after:
            return ConnectError(f"binlog stream lost and not recovered within {self.give_up_after:.0f}s: {exc}")
        return None

    def wait(self, exc: Exception, resume_at: BinlogPosition, delay: float, warn: Callable[[str], None]) -> float:
        """Say the connection was lost and sleep `delay` before reconnecting; the next delay (doubled, capped)."""
        warn(f"binlog connection lost ({_describe(exc)}); resuming at {resume_at} in {delay:.1f}s")
        time.sleep(delay)
        return min(delay * 2, self.max_delay)


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
    decoder: Decoder = "own"  # own: source/server + decode/events; library: mysql-replication
    verify_checksum: bool = True  # own decoder: verify each event's CRC32 (a mismatch is a DataError)


class DumpRecords(Protocol):
    """Where a BinlogStream's records come from: one dump from `start` per records() call."""

    def records(self, start: BinlogPosition) -> Iterator[EventRecord]: ...

    def close(self) -> None: ...


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
        self.assembler = TransactionAssembler(next_number=first_transaction_number)
        self.resume_at = start  # after the last complete transaction (or outside event)
        self.seen_gtids = seen_gtids
        self.reconnects = 0
        self.dump = _dump_records(settings, self.server_id, self.options, lookup, self.warn)

    # lifecycle -----------------------------------------------------------------------------------
    def __enter__(self) -> BinlogStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.dump.close()

    # events ----------------------------------------------------------------------------------------
    def events(self) -> Iterator[EventRecord]:
        """Every real event from the start position, on one connection (no retries)."""
        try:
            yield from self.dump.records(self.resume_at)
        except MysqlInspectError:
            raise
        except Exception as exc:
            if is_transient(exc):
                raise
            raise translate_stream_error(exc, self.resume_at) from exc
        finally:
            self.close()

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
                    if item is None:  # a transaction starts past the stop: not read
                        return
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
                failure = policy.failure(exc, self.resume_at, last_progress)
                if failure is not None:
                    raise failure from exc
                self.assembler.reset()
                self.reconnects += 1
                delay = policy.wait(exc, self.resume_at, delay, self.warn)

    def _assembled(self) -> Iterator[Transaction | EventRecord | None]:
        """What the assembler completes, then None as soon as a transaction opens past the StopBound (it is not
        read: it may be large)."""
        opened: Transaction | None = None
        for record in self.events():
            yield from self.assembler.feed(record)
            current = self.assembler.current
            if current is not None and current is not opened:
                opened = current
                if self.stop.reached(current):
                    yield None
                    return
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


def _dump_records(settings: ConnectionSettings, server_id: int, options: StreamOptions,
                  lookup: SchemaLookup | None, warn: Callable[[str], None]) -> DumpRecords:
    """The decoder's record source (imported on demand: the own path never loads mysql-replication)."""
    if options.decoder == "library":
        from mysqlinspect.binlog.read.server.library_dump import LibraryDumpRecords

        return LibraryDumpRecords(settings, server_id, blocking=options.blocking, heartbeat=options.heartbeat,
                                  read_timeout=options.read_timeout, lookup=lookup, warn=warn)
    from mysqlinspect.binlog.read.server.own_dump import OwnDumpRecords

    return OwnDumpRecords(settings, server_id, blocking=options.blocking, heartbeat=options.heartbeat,
                          read_timeout=options.read_timeout, lookup=lookup, warn=warn,
                          verify_checksum=options.verify_checksum)


def _describe(exc: BaseException) -> str:
    if exc.args and isinstance(exc.args[0], int) and len(exc.args) > 1:
        return f"{exc.args[0]}: {exc.args[1]}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
