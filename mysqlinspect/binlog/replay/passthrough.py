"""Events-mode apply: forward `--execute` that sends the source's own row events to the target, the way
`mysqlbinlog | mysql` does, instead of decoding them and writing SQL.

Per target session: `BINLOG '<Format_description>'` once (which also proves the privilege BINLOG needs).
Per source transaction, one target transaction: START TRANSACTION; `BINLOG '<Table_map + Rows events>'`; the
checkpoint row; COMMIT - so exactly-once resuming works as on the SQL path. GTID events are never sent (the
target assigns its own GTID, as on the SQL path). A transaction that is anything else than Table_map + Rows
events (DDL, statements, partial JSON updates, XA, a table filter splitting a statement, a row that cannot be
counted) is applied as SQL through the decoded path. Compressed events are expanded into plain ones
(raw_assembly); local files give the same transactions (raw_files).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator

import pymysql

from mysqlinspect.binlog.position import BinlogPosition
from mysqlinspect.binlog.read.filters import EventFilter
from mysqlinspect.binlog.read.range import ResolvedRange
from mysqlinspect.binlog.replay.apply import Applier, SourcePoint, _where
from mysqlinspect.binlog.replay.raw_assembly import RawAssembler, RawTransaction
from mysqlinspect.binlog.source import rawdump
from mysqlinspect.connection.settings import ConnectionSettings
from mysqlinspect.errors import DataError, PrivilegeError

MAX_STATEMENT_BYTES = 4 << 20  # raw event bytes per BINLOG statement (base64 makes it 4/3 larger)
PRIVILEGE_ERRORS = frozenset({1227, 1142, 1044, 1045, 1370})
APPLY_MODES = ("auto", "sql", "events")


class RowEventsRefused(DataError):
    """The target refused a transaction's row events (rolled back): the caller applies it as SQL instead, which
    either succeeds or reports the conflict row by row as the SQL path does."""


def events_mode_blockers(flashback: bool, verify_current: bool, event_filter: EventFilter,
                         rng: ResolvedRange) -> list[str]:
    """Why the events path cannot reproduce exactly what the SQL path would (empty: it can)."""
    reasons = []
    if verify_current and not flashback:  # a flashback verifies every row up front (precheck) instead
        reasons.append("--verify-current")
    if event_filter.ops or event_filter.event_types or event_filter.min_rows or event_filter.server_ids:
        reasons.append("row-level filters (--op, --event-type, --min-rows, --server-id)")
    if rng.follow:
        reasons.append("--follow")
    return reasons


class RawTransactions:
    """Raw transactions of a range read over COM_BINLOG_DUMP (raw_assembly); `gtid_started`: a --gtid start was
    passed before a resume point."""

    def __init__(self, settings: ConnectionSettings, rng: ResolvedRange, event_filter: EventFilter,
                 server_id: int | None = None, rename: Callable[[str], str] = str,
                 gtid_started: bool = False) -> None:
        self.dump = rawdump.RawDump(settings, rng.start, server_id=server_id)
        self.rng = rng
        gate = rng.gate() if rng.uses_gate else None
        if gate is not None:
            gate.started = gtid_started
        self.assembler = RawAssembler(event_filter, rename, gate, stop=rng.stop.reached)

    def close(self) -> None:
        self.dump.close()

    def __iter__(self) -> Iterator[RawTransaction]:
        try:
            self.dump._conn = self.dump._connect()
            yield from self._transactions(rawdump.packets(self.dump._conn, self.dump.read_timeout))
        except pymysql.err.MySQLError as exc:
            raise rawdump.translate_stream_error(exc, self.rng.start) from exc
        finally:
            self.close()

    def _transactions(self, packets: Iterator[bytes]) -> Iterator[RawTransaction]:
        current = self.rng.start.file
        csum = self.dump.checksum_len
        unpack = rawdump.HEADER.unpack_from
        assembler = self.assembler
        for data in packets:
            timestamp, code, server_id, size, log_pos, flags = unpack(data, 1)
            if code == rawdump.ROTATE_EVENT:
                current = bytes(data[1 + rawdump.HEADER_LEN + 8 : len(data) - csum]).decode()
                continue
            if code == rawdump.FORMAT_DESCRIPTION_EVENT:
                assembler.format_description(bytes(data[1:]), csum)
                continue
            if log_pos == 0 or code in (rawdump.HEARTBEAT_EVENT, rawdump.HEARTBEAT_V2_EVENT):
                continue
            txn = assembler.feed(current, log_pos - size, log_pos, timestamp, code, server_id, flags, bytes(data[1:]))
            if assembler.stopped:
                return
            if txn is not None:
                yield txn


def binlog_statements(chunks: list[bytes]) -> Iterator[str]:
    """BINLOG statements carrying `chunks` (whole events, in order), each at most MAX_STATEMENT_BYTES of events."""
    batch: list[bytes] = []
    size = 0
    for chunk in chunks:
        if batch and size + len(chunk) > MAX_STATEMENT_BYTES:
            yield "BINLOG '" + base64.b64encode(b"".join(batch)).decode() + "'"
            batch, size = [], 0
        batch.append(chunk)
        size += len(chunk)
    if batch:
        yield "BINLOG '" + base64.b64encode(b"".join(batch)).decode() + "'"


def start_events_session(applier: Applier, fde: bytes) -> None:
    """Send the Format_description event; afterwards let the target assign GTIDs itself (MySQL sets gtid_next to
    NOT_YET_DETERMINED on a BINLOG'd FDE, which would make the next transaction anonymous). Raises
    PrivilegeError when the account may not run BINLOG."""
    try:
        with applier.conn.cursor() as cur:
            cur.execute("BINLOG '" + base64.b64encode(fde).decode() + "'")
            if applier.flavor != "mariadb":
                cur.execute("SET @@SESSION.gtid_next = 'AUTOMATIC'")
    except pymysql.err.MySQLError as exc:
        code = exc.args[0] if exc.args else None
        if code in PRIVILEGE_ERRORS:
            raise PrivilegeError(f"the target account may not run BINLOG statements: {exc.args[-1]}") from exc
        raise DataError(f"the target refused the source's Format_description event: {exc.args[-1]}") from exc


def apply_raw(applier: Applier, txn: RawTransaction, point: SourcePoint) -> None:
    """One source transaction as one target transaction, with the checkpoint row, or nothing of it."""
    with applier.conn.cursor() as cur:
        try:
            for packet in raw_packets(txn, applier.checkpoint.update_sql(point) if applier.checkpoint else None):
                cur.execute(packet)
                while cur.nextset():
                    pass
        except pymysql.err.MySQLError as exc:
            Applier._drain(cur)
            applier._rollback()
            raise RowEventsRefused(f"{_where(txn.model)}: the target refused its row events: {exc.args[-1]}; the "
                            "transaction was rolled back and nothing of it was applied") from exc
        except BaseException:
            applier._rollback()
            raise
    applier.stats.transactions += 1
    applier.stats.row_changes += txn.row_count
    applier.stats.statements += len(txn.chunks)
    applier._throttle()


def raw_packets(txn: RawTransaction, checkpoint_sql: str | None) -> list[str]:
    """Multi-statement packets: a BINLOG statement always ends its packet (the server's reply to BINLOG does not
    announce further results, so nothing may follow it in the same packet); COMMIT rides with the checkpoint."""
    statements = list(binlog_statements(txn.chunks))
    packets = ["START TRANSACTION;\n" + statements[0], *statements[1:]] if statements else ["START TRANSACTION"]
    packets.append(f"{checkpoint_sql};\nCOMMIT" if checkpoint_sql else "COMMIT")
    return packets


def read_fde(settings: ConnectionSettings, start: BinlogPosition, server_id: int | None = None) -> bytes:
    """The raw Format_description event the dump sends first for `start` (to probe the target before applying)."""
    dump = rawdump.RawDump(settings, start, server_id=server_id)
    try:
        dump._conn = dump._connect()
        for data in rawdump.packets(dump._conn, dump.read_timeout):
            if data[5] == rawdump.FORMAT_DESCRIPTION_EVENT:
                return bytes(data[1:])
    except pymysql.err.MySQLError as exc:
        raise rawdump.translate_stream_error(exc, start) from exc
    finally:
        dump.close()
    raise DataError(f"the source sent no Format_description event for {start}")
