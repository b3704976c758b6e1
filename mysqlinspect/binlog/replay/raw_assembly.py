"""Raw transactions for the events mode, assembled from the raw events of either source (a server's dump or local
files): the Table_map and Rows events of each transaction, which the target receives as BINLOG statements, or the
mark that the transaction needs the decoded (SQL) path instead.

Compressed events are expanded as the servers' own tools print them, so that the target gets plain events: the
inner events of a MySQL TRANSACTION_PAYLOAD (binlog_transaction_compression, zstd) each get the CRC32 trailer the
Format_description announces (mysqlbinlog does the same), a MariaDB compressed Rows event (log_bin_compress, zlib)
becomes the plain Rows event it stands for (as mariadb-binlog prints it), and a MariaDB compressed Query event is
read like a plain one. (Before, a payload's transaction never ended - its XID is inside the payload - and was
dropped without a word, as was a compressed DDL statement.)

A transaction is cut short (dropped, as the decoded path's assembler drops it) by a GTID event or an event that
only appears between transactions (Format_description, Stop...). Transactions that start before the range's
start (a file read from its beginning) are followed for their boundaries only.

A transaction's raw events are held in memory up to read.spill.RAW_HOLD bytes, then kept on an unnamed temporary
file (a SpillList), and a payload is decompressed as its inner events are read: a transaction of any size is
assembled with bounded memory.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from mysqlinspect.binlog.decode.payload import payload_events
from mysqlinspect.binlog.decode.rowsizes import TableShape, count_rows
from mysqlinspect.binlog.model import Transaction
from mysqlinspect.binlog.read.filters import EventFilter
from mysqlinspect.binlog.read.range import RangeGate
from mysqlinspect.binlog.read.spill import RAW_FRAME, RAW_HOLD, SpillList
from mysqlinspect.binlog.source import rawdump
from mysqlinspect.binlog.source.compressed import COMPRESSED_QUERY, PLAIN_ROWS, plain_rows_event
from mysqlinspect.binlog.source.tagged_gtid import parse_tagged_gtid
from mysqlinspect.errors import DataError

HEADER_LEN = rawdump.HEADER_LEN
MYSQL_GTID_CODES = frozenset({rawdump.GTID_EVENT, rawdump.ANONYMOUS_GTID_EVENT, rawdump.GTID_TAGGED_EVENT})
GTID_CODES = MYSQL_GTID_CODES | {rawdump.MARIADB_GTID_EVENT}
ROWS_CODES = frozenset({rawdump.WRITE_ROWS_V1, rawdump.UPDATE_ROWS_V1, rawdump.DELETE_ROWS_V1,
                        rawdump.WRITE_ROWS_V2, rawdump.UPDATE_ROWS_V2, rawdump.DELETE_ROWS_V2})
ANNOTATIONS = frozenset({29, rawdump.MARIADB_ANNOTATE_ROWS})  # Rows_query, Annotate_rows: comments only
OUTSIDE = frozenset({rawdump.FORMAT_DESCRIPTION_EVENT, rawdump.PREVIOUS_GTIDS_EVENT, rawdump.STOP_EVENT,
                     rawdump.MARIADB_BINLOG_CHECKPOINT, rawdump.MARIADB_GTID_LIST, 164})
BEGINS = ("BEGIN", "START TRANSACTION", "XA START", "XA BEGIN")
STMT_END_F = 0x0001
MARIADB_FL_STANDALONE = 0x01


def raw_events() -> SpillList[bytes]:
    """Raw events of a transaction: in memory up to RAW_HOLD bytes, then on disk."""
    return SpillList(weigh=len, hold=RAW_HOLD, frame=RAW_FRAME)


@dataclass
class RawTransaction:
    """A source transaction as raw events: Table_map and Rows events (header, body and checksum as in the log, or
    as expanded from a compressed event), with the Format_description they need."""

    model: Transaction  # identity only (no events): positions, GTID, number
    chunks: SpillList[bytes] = field(default_factory=raw_events)
    row_count: int = 0
    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    simple: bool = True  # False: apply it through the decoded path
    in_begin: bool = False
    standalone: bool = False
    fde: bytes | None = None  # the raw Format_description event in force for these events
    checksum_len: int = 0  # the CRC32 trailer of every chunk (0 or 4)
    decoded: list[Transaction] | None = None  # the decoded path's transactions, when the reader has them already
    skipping: bool = False  # starts before the range's start: only its end is looked for
    _group: SpillList[bytes] = field(default_factory=raw_events)  # the statement being read (until STMT_END_F)
    _group_rows: list[tuple[str, str, int]] = field(default_factory=list)
    _group_tables: set[bool] = field(default_factory=set)


class RawAssembler:
    """feed() the events in log order (Rotate events left out); it returns each transaction of the range that the
    gate admits and that has something to apply. `stopped` is set at the first transaction at or past `stop`."""

    def __init__(self, event_filter: EventFilter, rename: Callable[[str], str] = str, gate: RangeGate | None = None,
                 stop: Callable[[Transaction], bool] = lambda txn: False,
                 before_start: Callable[[str, int], bool] = lambda file, pos: False) -> None:
        self.filter = event_filter
        self.rename = rename  # --rewrite-db: the Table_map events name the target database
        self.gate = gate
        self.stop = stop
        self.before_start = before_start
        self.tables: dict[int, TableShape] = {}
        self.number = 0
        self.stopped = False
        self.fde: bytes | None = None
        self.checksum_len = 0
        self._txn: RawTransaction | None = None

    def format_description(self, event: bytes, checksum_len: int) -> None:
        """A Format_description event (header, body, CRC32): it describes the events after it."""
        self.fde, self.checksum_len = event, checksum_len
        self._txn = None

    def feed(self, file: str, start: int, end: int, timestamp: int, code: int, server_id: int, flags: int,
             event: bytes) -> RawTransaction | None:
        """One whole event (header, body, checksum); the transaction it completes, if it is to be applied."""
        txn = self._txn
        if code in OUTSIDE or (txn is not None and code in GTID_CODES):
            self._txn = None  # between transactions; or a transaction cut short
            if code in OUTSIDE:
                return None
            txn = None
        if txn is None:
            txn = self._txn = self._open(file, start, timestamp, server_id)
            if self.stop(txn.model):
                self.stopped = True
                self._txn = None
                return None
        body = event[HEADER_LEN : len(event) - self.checksum_len] if self.checksum_len else event[HEADER_LEN:]
        if not self._add(txn, code, body, event, server_id, flags):
            return None
        self._txn = None
        txn.model.end_file, txn.model.end_pos, txn.model.end_timestamp = file, end, timestamp
        if txn.skipping or (self.gate is not None and not self.gate.admit(txn.model)):
            return None
        return txn if txn.chunks or not txn.simple else None

    def _open(self, file: str, start: int, timestamp: int, server_id: int) -> RawTransaction:
        self.number += 1
        model = Transaction(number=self.number, file=file, start_pos=start, end_pos=start, end_file=file,
                            timestamp=timestamp, server_id=server_id, gtid=None, xid=None, end_timestamp=timestamp)
        return RawTransaction(model, fde=self.fde, checksum_len=self.checksum_len,
                              skipping=self.before_start(file, start))

    def _add(self, txn: RawTransaction, code: int, body: bytes, event: bytes, server_id: int, flags: int) -> bool:
        """Take one event into `txn`; True when it ends the transaction."""
        if code in GTID_CODES:
            self._gtid(txn, code, body, server_id)
            return False
        if code == rawdump.QUERY_EVENT or code == COMPRESSED_QUERY:
            return self._query(txn, rawdump.query_text(body, compressed=code == COMPRESSED_QUERY)[1])
        if code == rawdump.XID_EVENT:
            self._flush_group(txn)
            return True
        if code == rawdump.XA_PREPARE_EVENT:
            txn.simple = False
            return True
        if code == rawdump.TRANSACTION_PAYLOAD_EVENT:
            if not txn.skipping:
                self._payload(txn, body, server_id)
            return True
        if txn.skipping or code in ANNOTATIONS:
            return False
        if code == rawdump.TABLE_MAP_EVENT:
            self._table_map(txn, body, event)
        elif code in ROWS_CODES:
            self._rows(txn, code, body, event)
        elif code in PLAIN_ROWS:
            plain = plain_rows_event(event, self.checksum_len)
            self._rows(txn, plain[4], plain[HEADER_LEN : len(plain) - self.checksum_len], plain)
        else:
            txn.simple = False  # partial update, intvar/rand/user var, incident...
        return False

    def _payload(self, txn: RawTransaction, body: bytes, server_id: int) -> None:
        """A TRANSACTION_PAYLOAD holds the whole transaction after its GTID event: BEGIN, Table_map, Rows, XID.
        Its inner events carry no checksum; each gets the CRC32 the Format_description announces."""
        ended = False
        for inner in payload_events(body):
            event = bytes(inner)
            code = event[4]
            if self.checksum_len:
                size = len(event) + self.checksum_len
                event = event[:9] + struct.pack("<I", size) + event[13:]
                event += struct.pack("<I", zlib.crc32(event))
            ended = self._add(txn, code, bytes(inner[HEADER_LEN:]), event, server_id, 0)
        if not ended:
            txn.simple = False

    def _table_map(self, txn: RawTransaction, body: bytes, event: bytes) -> None:
        shape = TableShape.parse(body)
        self.tables[shape.table_id] = shape
        target = self.rename(shape.schema)
        txn._group.append(event if target == shape.schema else renamed_table_map(event, target, self.checksum_len))
        txn._group_tables.add(self.filter.table_matches(shape.schema, shape.table))

    def _gtid(self, txn: RawTransaction, code: int, body: bytes, server_id: int) -> None:
        if code == rawdump.MARIADB_GTID_EVENT:
            txn.model.gtid, gtid_flags = rawdump.mariadb_gtid(body, server_id)
            txn.in_begin = not gtid_flags & MARIADB_FL_STANDALONE
            txn.standalone = not txn.in_begin
        elif code == rawdump.GTID_EVENT:
            txn.model.gtid = rawdump.mysql_gtid(body)
        elif code == rawdump.GTID_TAGGED_EVENT:
            txn.model.gtid = parse_tagged_gtid(body)[0]

    def _query(self, txn: RawTransaction, query: str) -> bool:
        word = " ".join(query.split()[:2]).upper()
        if word.startswith(BEGINS):
            txn.in_begin = True
            if word.startswith("XA"):
                txn.simple = False
            return False
        if word.startswith("COMMIT"):
            self._flush_group(txn)
            return True
        txn.simple = False  # DDL, statement-logged DML, ROLLBACK, XA...
        return not txn.in_begin or (word.startswith("ROLLBACK") and not word.startswith("ROLLBACK TO"))

    def _rows(self, txn: RawTransaction, code: int, body: bytes, event: bytes) -> None:
        shape = self.tables.get(rawdump.rows_table_id(body))
        count = count_rows(body, shape, code) if shape else None
        if shape is None or count is None:
            txn.simple = False
            return
        txn._group.append(event)
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
    header, body = raw[:HEADER_LEN], raw[HEADER_LEN : len(raw) - checksum_len]
    old_len = body[8]
    name = schema.encode()
    if len(name) > 64:
        raise DataError(f"--rewrite-db target {schema!r} is too long for a Table_map event")
    body = body[:8] + bytes([len(name)]) + name + body[9 + old_len :]
    size = HEADER_LEN + len(body) + checksum_len
    header = header[:9] + struct.pack("<I", size) + header[13:]
    event = header + body
    return event + struct.pack("<I", zlib.crc32(event)) if checksum_len else event
