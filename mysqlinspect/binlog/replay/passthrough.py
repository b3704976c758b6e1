"""Events-mode apply: forward `--execute` that sends the source's own row events to the target, the way
`mysqlbinlog | mysql` does, instead of decoding them and writing SQL.

Per target session: `BINLOG '<Format_description>'` once (which also proves the privilege BINLOG needs).
Per source transaction, one target transaction: START TRANSACTION; `BINLOG '<Table_map + Rows events>'`; the
checkpoint row; COMMIT - so exactly-once resuming works as on the SQL path. GTID events are never sent (the
target assigns its own GTID, as on the SQL path). A transaction that is anything else than Table_map + Rows
events (DDL, statements, compressed payloads, partial JSON updates, XA, a table filter splitting a statement,
a row that cannot be counted) is read again through the decoded path and applied as SQL.

A transaction's raw events are held in memory up to read.spill.RAW_HOLD bytes, then kept on an unnamed
temporary file (a SpillList) and sent from there in BINLOG statements of at most MAX_STATEMENT_BYTES of events
each, inside the one target transaction: a transaction of any size is applied with bounded memory, and no
statement comes near the target's max_allowed_packet.
"""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import pymysql

from mysqlinspect.binlog.decode.rowsizes import TableShape, count_rows
from mysqlinspect.binlog.model import Transaction
from mysqlinspect.binlog.position import BinlogPosition
from mysqlinspect.binlog.read.filters import EventFilter
from mysqlinspect.binlog.read.range import ResolvedRange
from mysqlinspect.binlog.read.spill import RAW_FRAME, RAW_HOLD, SpillList
from mysqlinspect.binlog.replay.apply import Applier, SourcePoint, _where
from mysqlinspect.binlog.source import rawdump
from mysqlinspect.connection.settings import ConnectionSettings
from mysqlinspect.errors import DataError, PrivilegeError

MYSQL_GTID_CODES = frozenset({rawdump.GTID_EVENT, rawdump.ANONYMOUS_GTID_EVENT, rawdump.GTID_TAGGED_EVENT})
ROWS_CODES = frozenset({rawdump.WRITE_ROWS_V1, rawdump.UPDATE_ROWS_V1, rawdump.DELETE_ROWS_V1,
                        rawdump.WRITE_ROWS_V2, rawdump.UPDATE_ROWS_V2, rawdump.DELETE_ROWS_V2})
ANNOTATIONS = frozenset({29, rawdump.MARIADB_ANNOTATE_ROWS})  # Rows_query, Annotate_rows: comments only
OUTSIDE_IGNORED = frozenset({rawdump.FORMAT_DESCRIPTION_EVENT, rawdump.PREVIOUS_GTIDS_EVENT, rawdump.STOP_EVENT,
                             rawdump.MARIADB_BINLOG_CHECKPOINT, rawdump.MARIADB_GTID_LIST, 164})
STMT_END_F = 0x0001
MARIADB_FL_STANDALONE = 0x01
MAX_STATEMENT_BYTES = 4 << 20  # raw event bytes per BINLOG statement (base64 makes it 4/3 larger)
PRIVILEGE_ERRORS = frozenset({1227, 1142, 1044, 1045, 1370})
APPLY_MODES = ("auto", "sql", "events")


class RowEventsRefused(DataError):
    """The target refused a transaction's row events (rolled back): the caller applies it as SQL instead, which
    either succeeds or reports the conflict row by row as the SQL path does."""


def raw_events() -> SpillList[bytes]:
    """Raw events of a transaction: in memory up to RAW_HOLD bytes, then on disk."""
    return SpillList(weigh=len, hold=RAW_HOLD, frame=RAW_FRAME)


@dataclass
class RawTransaction:
    """A source transaction as raw events: Table_map and Rows events (header, body and checksum as in the log)."""

    model: Transaction  # identity only (no events): positions, GTID, number
    chunks: SpillList[bytes] = field(default_factory=raw_events)
    row_count: int = 0
    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    simple: bool = True  # False: apply it through the decoded path
    in_begin: bool = False
    standalone: bool = False
    _group: SpillList[bytes] = field(default_factory=raw_events)  # the statement being read (until STMT_END_F)
    _group_rows: list[tuple[str, str, int]] = field(default_factory=list)
    _group_tables: set[bool] = field(default_factory=set)


def events_mode_blockers(flashback: bool, verify_current: bool, event_filter: EventFilter,
                         rng: ResolvedRange) -> list[str]:
    """Why the events path cannot reproduce exactly what the SQL path would (empty: it can)."""
    reasons = []
    if verify_current and not flashback:  # a flashback verifies every row up front (precheck) instead
        reasons.append("--verify-current")
    if event_filter.ops or event_filter.event_types or event_filter.min_rows or event_filter.server_ids:
        reasons.append("row-level filters (--op, --event-type, --min-rows, --server-id)")
    if rng.uses_gate:
        reasons.append("a GTID or --start-datetime range")
    if rng.follow:
        reasons.append("--follow")
    return reasons


class RawTransactions:
    """Raw transactions of a positional range, read over COM_BINLOG_DUMP; `fde` holds the raw
    Format_description event once the first transaction has been yielded."""

    def __init__(self, settings: ConnectionSettings, rng: ResolvedRange, event_filter: EventFilter,
                 server_id: int | None = None, rename: Callable[[str], str] = str) -> None:
        self.dump = rawdump.RawDump(settings, rng.start, server_id=server_id)
        self.rename = rename  # --rewrite-db: the Table_map events name the target database
        self.rng = rng
        self.filter = event_filter
        self.fde: bytes | None = None
        self.tables: dict[int, TableShape] = {}
        self.number = 0

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
        txn: RawTransaction | None = None
        for data in packets:
            timestamp, code, server_id, size, log_pos, flags = unpack(data, 1)
            if code == rawdump.ROTATE_EVENT:
                current = bytes(data[1 + rawdump.HEADER_LEN + 8 : len(data) - csum]).decode()
                continue
            if code == rawdump.FORMAT_DESCRIPTION_EVENT:
                self.fde = bytes(data[1:])
            if log_pos == 0 or code in (rawdump.HEARTBEAT_EVENT, rawdump.HEARTBEAT_V2_EVENT):
                continue
            start = log_pos - size
            body = bytes(data[1 + rawdump.HEADER_LEN : len(data) - csum]) if csum else bytes(
                data[1 + rawdump.HEADER_LEN :])
            if txn is not None and (code in MYSQL_GTID_CODES or code == rawdump.MARIADB_GTID_EVENT):
                txn = None  # a transaction cut short (as the decoded path's assembler drops it)
            if txn is None:
                if code in OUTSIDE_IGNORED:
                    continue
                txn = self._open(current, start, timestamp, server_id)
                if self.rng.stop.reached(txn.model):
                    return
            if self._add(txn, code, body, bytes(data[1:]), server_id, flags):
                txn.model.end_file, txn.model.end_pos = current, log_pos
                txn.model.end_timestamp = timestamp
                if txn.chunks or not txn.simple:
                    yield txn
                txn = None

    def _open(self, file: str, start: int, timestamp: int, server_id: int) -> RawTransaction:
        self.number += 1
        model = Transaction(number=self.number, file=file, start_pos=start, end_pos=start, end_file=file,
                            timestamp=timestamp, server_id=server_id, gtid=None, xid=None)
        return RawTransaction(model)

    def _add(self, txn: RawTransaction, code: int, body: bytes, raw: bytes, server_id: int, flags: int) -> bool:
        """Take one event into `txn`; True when it ends the transaction."""
        if code in MYSQL_GTID_CODES or code == rawdump.MARIADB_GTID_EVENT:
            self._gtid(txn, code, body, server_id)
            return False
        if code == rawdump.QUERY_EVENT:
            return self._query(txn, body)
        if code == rawdump.TABLE_MAP_EVENT:
            shape = TableShape.parse(body)
            self.tables[shape.table_id] = shape
            target = self.rename(shape.schema)
            txn._group.append(raw if target == shape.schema else renamed_table_map(raw, target, self.dump.checksum_len))
            txn._group_tables.add(self.filter.table_matches(shape.schema, shape.table))
            return False
        if code in ROWS_CODES:
            self._rows(txn, code, body, raw)
            return False
        if code == rawdump.XID_EVENT:
            self._flush_group(txn)
            return True
        if code == rawdump.XA_PREPARE_EVENT:
            txn.simple = False
            return True
        if code not in ANNOTATIONS:
            txn.simple = False  # payload, partial update, XA, intvar/rand/user var, compressed rows...
        return False

    def _gtid(self, txn: RawTransaction, code: int, body: bytes, server_id: int) -> None:
        if code == rawdump.MARIADB_GTID_EVENT:
            txn.model.gtid, gtid_flags = rawdump.mariadb_gtid(body, server_id)
            txn.in_begin = not gtid_flags & MARIADB_FL_STANDALONE
            txn.standalone = not txn.in_begin
        elif code == rawdump.GTID_EVENT:
            txn.model.gtid = rawdump.mysql_gtid(body)
        elif code == rawdump.GTID_TAGGED_EVENT:
            txn.simple = False  # the decoded path renders tagged GTIDs

    def _query(self, txn: RawTransaction, body: bytes) -> bool:
        _, query = rawdump.query_text(body)
        word = query.strip().upper()
        if word == "BEGIN":
            txn.in_begin = True
            return False
        if word == "COMMIT":
            self._flush_group(txn)
            return True
        txn.simple = False  # DDL, statement-logged DML, ROLLBACK, XA...
        return not txn.in_begin or word == "ROLLBACK"

    def _rows(self, txn: RawTransaction, code: int, body: bytes, raw: bytes) -> None:
        shape = self.tables.get(rawdump.rows_table_id(body))
        count = count_rows(body, shape, code) if shape else None
        if shape is None or count is None:
            txn.simple = False
            return
        txn._group.append(raw)
        txn._group_rows.append((f"{shape.schema}.{shape.table}", rawdump.ROW_EVENT_OPS[code], count))
        if int.from_bytes(body[6:8], "little") & STMT_END_F:
            self._flush_group(txn)

    def _flush_group(self, txn: RawTransaction) -> None:
        """A whole statement's events are kept when all its tables match the filter, dropped when none does;
        a statement mixing both is left to the decoded path (which filters row by row)."""
        if len(txn._group_tables) > 1:
            txn.simple = False
        elif txn._group_tables == {True} or (txn._group and not txn._group_tables):
            txn.chunks.extend_list(txn._group)
            for table, op, count in txn._group_rows:
                txn.row_count += count
                txn.counts[(table, op)] = txn.counts.get((table, op), 0) + count
        txn._group.close()
        txn._group, txn._group_rows, txn._group_tables = raw_events(), [], set()


def renamed_table_map(raw: bytes, schema: str, checksum_len: int) -> bytes:
    """A Table_map event naming database `schema` (what mysqlbinlog --rewrite-db does), size and CRC32 redone."""
    header, body = raw[: rawdump.HEADER_LEN], raw[rawdump.HEADER_LEN : len(raw) - checksum_len]
    old_len = body[8]
    name = schema.encode()
    if len(name) > 64:
        raise DataError(f"--rewrite-db target {schema!r} is too long for a Table_map event")
    body = body[:8] + bytes([len(name)]) + name + body[9 + old_len :]
    size = rawdump.HEADER_LEN + len(body) + checksum_len
    header = header[:9] + struct.pack("<I", size) + header[13:]
    event = header + body
    return event + struct.pack("<I", zlib.crc32(event)) if checksum_len else event


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
