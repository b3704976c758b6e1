"""Events-mode apply: forward `--execute` that sends the source's own row events to the target, the way
`mysqlbinlog | mysql` does, instead of decoding them and writing SQL.

Per target session: `BINLOG '<Format_description>'` once (which also proves the privilege BINLOG needs).
Per source transaction, one target transaction: START TRANSACTION; `BINLOG '<Table_map + Rows events>'`; the
checkpoint row; COMMIT - so exactly-once resuming works as on the SQL path. GTID events are never sent (the
target assigns its own GTID, as on the SQL path). A transaction that is anything else than Table_map + Rows
events (DDL, statements, partial JSON updates, XA, a table filter splitting a statement, a row that cannot be
counted) is applied as SQL through the decoded path. Compressed events are expanded into plain ones
(raw_assembly); local files give the same transactions (raw_files).

A transaction's raw events are held in memory up to read.spill.RAW_HOLD bytes, then kept on an unnamed
temporary file (raw_assembly: a SpillList) and sent from there in BINLOG statements of at most
MAX_STATEMENT_BYTES of events each, inside the one target transaction: a transaction of any size is applied with
bounded memory, and no statement comes near the target's max_allowed_packet.
"""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator

import pymysql

from mysqlinspect.binlog.position import BinlogPosition
from mysqlinspect.binlog.read.filters import EventFilter
from mysqlinspect.binlog.read.range import ResolvedRange
from mysqlinspect.binlog.replay.apply import Applier, SourcePoint, _where
from mysqlinspect.binlog.replay.raw_assembly import ROWS_CODES, STMT_END_F, RawAssembler, RawTransaction
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


def binlog_statements(chunks: Iterable[bytes], checksum_len: int = 0, one_statement: bool = False
                      ) -> Iterator[str]:
    """BINLOG statements carrying `chunks` (whole events, in order), each of about MAX_STATEMENT_BYTES of events
    at most. A BINLOG statement always holds whole statements' events, Table_maps first: the target closes the
    tables a BINLOG statement opened when it ends, and MySQL crashes on a Rows event whose Table_map came in an
    earlier BINLOG statement. So a cut inside a statement (one larger than MAX_STATEMENT_BYTES) ends the first
    part with its last Rows event flagged STMT_END_F, and the next part starts with the statement's Table_maps
    again: the statement is applied as two, the same rows in the same order. `one_statement`: a BINLOG statement
    per statement (a MariaDB target annotates every statement it applies with the whole BINLOG statement's text
    when binlog_annotate_row_events is on: n statements in one BINLOG statement would log its text n times)."""
    batch: list[bytes] = []
    size = 0
    maps: list[bytes] = []  # the Table_maps of the statement being read
    inside = False  # a statement's events were read, its last Rows event (STMT_END_F) not yet

    def statement(events: list[bytes]) -> str:
        return "BINLOG '" + base64.b64encode(b"".join(events)).decode() + "'"

    for chunk in chunks:
        code = chunk[4]
        if batch and size + len(chunk) > MAX_STATEMENT_BYTES and batch[-1][4] != rawdump.TABLE_MAP_EVENT:
            if inside:
                batch[-1] = with_statement_end(batch[-1], checksum_len)
                yield statement(batch)
                batch, size = list(maps), sum(len(m) for m in maps)
            else:
                yield statement(batch)
                batch, size = [], 0
        if code == rawdump.TABLE_MAP_EVENT:
            if not inside:
                maps = []
            maps.append(chunk)
            inside = True
        elif code in ROWS_CODES:
            inside = not _statement_end(chunk)
            if not inside:
                maps = []
        batch.append(chunk)
        size += len(chunk)
        if one_statement and not inside and code in ROWS_CODES:
            yield statement(batch)
            batch, size = [], 0
    if batch:
        yield statement(batch)


def _statement_end(event: bytes) -> bool:
    flags = int.from_bytes(event[rawdump.HEADER_LEN + 6 : rawdump.HEADER_LEN + 8], "little")
    return bool(flags & STMT_END_F)


def with_statement_end(event: bytes, checksum_len: int) -> bytes:
    """A Rows event (header, body [, CRC32]) with STMT_END_F set in its flags, its CRC32 redone."""
    at = rawdump.HEADER_LEN + 6
    flags = int.from_bytes(event[at : at + 2], "little") | STMT_END_F
    changed = event[:at] + flags.to_bytes(2, "little") + event[at + 2 : len(event) - checksum_len]
    return changed + struct.pack("<I", zlib.crc32(changed)) if checksum_len else changed


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


def apply_raw(applier: Applier, txn: RawTransaction, point: SourcePoint, chunks: Iterable[bytes] | None = None,
              checksum_len: int = 0) -> None:
    """One source transaction as one target transaction, with the checkpoint row, or nothing of it; `chunks`:
    the events to send instead of the transaction's own (its undo); `checksum_len`: of the events (4: CRC32).
    A MariaDB target gets one BINLOG statement per statement (binlog_statements)."""
    sent = [0]

    def counted(events: Iterable[bytes]) -> Iterator[bytes]:
        for event in events:
            sent[0] += 1
            yield event

    events = counted(txn.chunks if chunks is None else chunks)
    with applier.conn.cursor() as cur:
        try:
            for packet in raw_packets(events, applier.checkpoint.update_sql(point) if applier.checkpoint else None,
                                      checksum_len, one_statement=applier.flavor == "mariadb"):
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
    applier.stats.statements += sent[0]
    applier._throttle()


def raw_packets(chunks: Iterable[bytes], checkpoint_sql: str | None, checksum_len: int = 0,
                one_statement: bool = False) -> Iterator[str]:
    """Multi-statement packets, made as they are sent: a BINLOG statement always ends its packet (the server's
    reply to BINLOG does not announce further results, so nothing may follow it in the same packet); COMMIT rides
    with the checkpoint."""
    statements = binlog_statements(chunks, checksum_len, one_statement)
    first = next(statements, None)
    if first is None:
        yield "START TRANSACTION"
    else:
        yield "START TRANSACTION;\n" + first
        yield from statements
    yield f"{checkpoint_sql};\nCOMMIT" if checkpoint_sql else "COMMIT"


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
