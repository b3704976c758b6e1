"""The header scan behind `binlog stats` (no value decoding, no column metadata from the server).

Raw events become EventRecords with positions, sizes, GTIDs, table names (from Table_map bodies), operations
and query text, but no rows; they are grouped with the same TransactionAssembler as the full reader. With
`count_rows` each rows event's rows are counted from the Table_map's column types (rowsizes), still without
decoding a value. A compressed transaction (TRANSACTION_PAYLOAD) is decompressed and its inner events are read
the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from mysqlinspect.binlog.decode.payload import payload_events
from mysqlinspect.binlog.decode.rowsizes import TableShape, count_rows
from mysqlinspect.binlog.decode.statement_text import classify_query
from mysqlinspect.binlog.model import EventRecord, Transaction
from mysqlinspect.binlog.position import BinlogPosition
from mysqlinspect.binlog.read.filters import EventFilter, ddl_table
from mysqlinspect.binlog.read.range import ResolvedRange
from mysqlinspect.binlog.read.server.stream import StopBound
from mysqlinspect.binlog.read.stats import DdlEntry, StatsAccumulator
from mysqlinspect.binlog.read.transactions import TransactionAssembler
from mysqlinspect.binlog.source import rawdump
from mysqlinspect.binlog.source.tagged_gtid import parse_tagged_gtid
from mysqlinspect.connection.settings import ConnectionSettings

_NO_ROWS: list[Any] = []  # shared by every header-only record: fast records never carry rows
_BODY = 1 + rawdump.HEADER_LEN


class RawRecordAdapter:
    """Header-only EventRecords from dump frames; only small bodies (Table_map, Query, GTID, XID) are sliced."""

    def __init__(self, checksum_len: int = 4, count_rows: bool = False, body_offset: int = _BODY) -> None:
        """`body_offset`: where the event body starts in a frame's data (after the dump's OK byte and the
        header; 0 for local files, whose frames carry bodies without header and checksum)."""
        self.tables: dict[int, tuple[str, str]] = {}
        self.csum = checksum_len
        self.off = body_offset
        self.shapes = ShapeCache() if count_rows else None

    def records(self, frame: rawdump.Frame) -> list[EventRecord]:
        """One record per event; a compressed transaction gives its inner events at the outer position."""
        file, start, end, ts, code, server_id, size, _, data = frame
        if code != rawdump.TRANSACTION_PAYLOAD_EVENT:
            return [self.convert(file, start, end, ts, code, server_id, size, data, self.off, self.csum)]
        out = []
        body = bytes(data[self.off : len(data) - self.csum])
        for raw in payload_events(body):
            its, icode, isid, _, _, _ = rawdump.HEADER.unpack_from(raw, 0)
            rec = self.convert(file, start, end, its or ts, icode, isid, 0, raw, rawdump.HEADER_LEN, 0)
            rec.compressed = True
            out.append(rec)
        if out:
            out[0].size = size
        return out

    def convert(self, file: str, start: int, end: int, ts: int, code: int, server_id: int, size: int,
                data: bytes, off: int, csum: int) -> EventRecord:
        op = rawdump.ROW_EVENT_OPS.get(code)
        if op is not None:
            table_id = int.from_bytes(data[off : off + 6], "little")
            schema, table = self.tables.get(table_id, (None, None))
            rec = EventRecord(file, start, end, ts, server_id, rawdump.EVENT_NAMES[code], None, None, None, schema,
                              table, op, None, _NO_ROWS, size, False, code < 160)
            if self.shapes is not None:
                rec.counted_rows = self.shapes.count(table_id, code, data[off : len(data) - csum])
            return rec
        rec = EventRecord(file, start, end, ts, server_id, rawdump.EVENT_NAMES.get(code, f"UnknownEvent{code}"),
                          None, None, None, None, None, "other", None, _NO_ROWS, size)
        if code == rawdump.TABLE_MAP_EVENT:
            body = bytes(data[off : len(data) - csum])
            table_id, rec.schema, rec.table = rawdump.table_map_names(body)
            self.tables[table_id] = (rec.schema, rec.table)
            if self.shapes is not None:
                self.shapes.remember(table_id, body)
            rec.op = "table_map"
        elif code == rawdump.QUERY_EVENT:
            rec.schema, rec.query = rawdump.query_text(bytes(data[off : len(data) - csum]))
            rec.op = classify_query(rec.query)
        elif code == rawdump.GTID_EVENT:
            rec.gtid, rec.op = rawdump.mysql_gtid(bytes(data[off : off + 25])), "gtid"
        elif code == rawdump.GTID_TAGGED_EVENT:
            rec.gtid, _ = parse_tagged_gtid(bytes(data[off : len(data) - csum]))
            rec.op = "gtid"
        elif code == rawdump.ANONYMOUS_GTID_EVENT:
            rec.op = "gtid"
        elif code == rawdump.MARIADB_GTID_EVENT:
            rec.gtid, rec.gtid_flags = rawdump.mariadb_gtid(bytes(data[off : off + 13]), server_id)
            rec.op = "gtid"
        elif code == rawdump.XID_EVENT:
            rec.xid, rec.op = int.from_bytes(data[off : off + 8], "little"), "commit"
        elif code == rawdump.XA_PREPARE_EVENT:
            rec.op = "xa_prepare"
        elif code == rawdump.ROTATE_EVENT:
            rec.query = bytes(data[off + 8 : len(data) - csum]).decode()
        elif code == 165:  # MariaDB compressed query
            rec.decoded = False
        return rec


class ShapeCache:
    """Table_map shapes by table id (parsed again only when the map's bytes change) and the rows counter."""

    def __init__(self) -> None:
        self.bodies: dict[int, bytes] = {}
        self.shapes: dict[int, TableShape | None] = {}

    def remember(self, table_id: int, body: bytes) -> None:
        if self.bodies.get(table_id) == body:
            return
        self.bodies[table_id] = body
        try:
            self.shapes[table_id] = TableShape.parse(body)
        except (IndexError, ValueError):
            self.shapes[table_id] = None

    def count(self, table_id: int, code: int, body: bytes | memoryview) -> int | None:
        """Rows of a rows event body, or None (a MariaDB compressed rows event, an unknown column type)."""
        shape = self.shapes.get(table_id)
        if shape is None or code >= 160:
            return None
        return count_rows(bytes(body), shape, code)


def scan_transactions(settings: ConnectionSettings, rng: ResolvedRange, event_filter: EventFilter | None = None,
                      server_id: int | None = None, count_rows: bool = False) -> Iterator[Transaction]:
    """Complete transactions of the range from a header scan (row_count is 0 unless `count_rows`)."""
    if rng.empty:
        return
    gate = rng.gate()
    flt = event_filter or EventFilter()
    assembler = TransactionAssembler()
    with rawdump.RawDump(settings, rng.start, server_id=server_id, blocking=False, read_timeout=None) as dump:
        adapter: RawRecordAdapter | None = None
        for frame in dump.frames():
            if adapter is None:
                adapter = RawRecordAdapter(dump.checksum_len, count_rows)
            for rec in adapter.records(frame):
                for item in assembler.feed(rec):
                    if not isinstance(item, Transaction) or not item.complete:
                        continue
                    if rng.stop.reached(item):
                        return
                    if not gate.admit(item):
                        continue
                    kept = flt.filter_transaction(item)
                    if kept is not None:
                        yield kept
                    if gate.exhausted():
                        return


# --- the tight loop for `stats` without filters -------------------------------------------------------------

_K_ROWS, _K_MAP, _K_QUERY, _K_GTID, _K_XID, _K_XA, _K_OTHER, _K_OUTSIDE = range(8)
_KINDS: dict[int, int] = dict.fromkeys(rawdump.ROW_EVENT_OPS, _K_ROWS)
_KINDS.update({rawdump.TABLE_MAP_EVENT: _K_MAP, rawdump.QUERY_EVENT: _K_QUERY, rawdump.GTID_EVENT: _K_GTID,
               rawdump.ANONYMOUS_GTID_EVENT: _K_GTID, rawdump.GTID_TAGGED_EVENT: _K_GTID,
               rawdump.MARIADB_GTID_EVENT: _K_GTID, rawdump.XID_EVENT: _K_XID, rawdump.XA_PREPARE_EVENT: _K_XA,
               rawdump.FORMAT_DESCRIPTION_EVENT: _K_OUTSIDE, rawdump.ROTATE_EVENT: _K_OUTSIDE,
               rawdump.STOP_EVENT: _K_OUTSIDE, rawdump.PREVIOUS_GTIDS_EVENT: _K_OUTSIDE,
               rawdump.MARIADB_GTID_LIST: _K_OUTSIDE, rawdump.MARIADB_BINLOG_CHECKPOINT: _K_OUTSIDE,
               164: _K_OUTSIDE})


class _Txn:
    __slots__ = (
        "compressed",
        "end",
        "end_file",
        "end_ts",
        "events",
        "file",
        "gtid",
        "in_begin",
        "number",
        "rows",
        "server_id",
        "servers",
        "sizes",
        "start",
        "tables",
        "ts",
        "undecoded",
    )

    def __init__(self, number: int, file: str, start: int, ts: int, server_id: int, gtid: str | None) -> None:
        self.number, self.file, self.start, self.end, self.end_file = number, file, start, start, file
        self.gtid, self.ts, self.end_ts, self.server_id = gtid, ts, ts, server_id
        self.events = self.sizes = self.rows = 0
        self.tables: dict[str, None] = {}
        self.compressed = self.undecoded = self.in_begin = False
        self.servers: dict[int, list[int]] | None = None


def header_stats(settings: ConnectionSettings, rng: ResolvedRange, acc: StatsAccumulator,
                 server_id: int | None = None) -> None:
    """Header-only statistics of a range without filters or GTID/time gates, straight from dump frames."""
    with rawdump.RawDump(settings, rng.start, server_id=server_id, blocking=False, read_timeout=None) as dump:
        frame_stats(dump.frames(), rng.stop, acc, _BODY, lambda: dump.checksum_len)


def frame_stats(frames: Iterable[rawdump.Frame], stop: StopBound, acc: StatsAccumulator, body_offset: int,
                checksum_len: Callable[[], int]) -> None:
    """Header-only statistics of frames (from a dump, or local files with `body_offset` 0 and no checksum).

    Mirrors TransactionAssembler's grouping without building records (the same numbers as
    `acc.add_all(scan_transactions(...))`, several times faster); a transaction cut by the end of the log is
    still counted in the event totals."""
    stats = acc.stats
    code_counts: dict[int, int] = {}
    per_table = acc._per_table
    tables: dict[int, tuple[str, str]] = {}
    map_heads: dict[int, bytes] = {}
    state: dict[str, Any] = {"txn": None, "number": 0}
    off = body_offset
    shapes = ShapeCache() if acc.rows_counted else None

    def close(txn: _Txn) -> None:
        size = txn.end - txn.start if txn.end_file == txn.file else txn.sizes
        acc.add_totals(txn.number, txn.file, txn.start, txn.end, txn.gtid, txn.ts, txn.end_ts, size, txn.events,
                       txn.rows if shapes is not None else None, list(txn.tables), txn.compressed)
        stats.undecoded_transactions += txn.undecoded
        server = stats.servers.setdefault(txn.server_id, {"events": 0, "bytes": 0, "transactions": 0})
        server["transactions"] += 1
        if txn.servers is None:
            server["events"] += txn.events
            server["bytes"] += txn.sizes
        else:
            for sid, (events, size_) in txn.servers.items():
                other = stats.servers.setdefault(sid, {"events": 0, "bytes": 0, "transactions": 0})
                other["events"] += events
                other["bytes"] += size_
        state["txn"] = None

    def open_txn(file: str, start: int, ts: int, sid: int, gtid: str | None) -> _Txn | None:
        if (stop.position is not None and BinlogPosition(file, start) >= stop.position) or \
                (stop.timestamp is not None and ts >= stop.timestamp):
            return None
        state["number"] += 1
        txn = _Txn(state["number"], file, start, ts, sid, gtid)
        state["txn"] = txn
        return txn

    def step(file: str, start: int, end: int, ts: int, code: int, sid: int, size: int, data: bytes, off: int,
             csum: int, compressed: bool) -> bool:
        """One event; False when the stop bound is reached."""
        kind = _KINDS.get(code, _K_OTHER)
        txn: _Txn | None = state["txn"]
        if kind == _K_OUTSIDE:
            if txn is not None and code != rawdump.ROTATE_EVENT:
                state["txn"] = None  # an unterminated transaction (crash): dropped like the assembler does
            return True
        if kind == _K_GTID:
            gtid = None
            flags = 0
            if code == rawdump.GTID_EVENT:
                gtid = rawdump.mysql_gtid(bytes(data[off : off + 25]))
            elif code == rawdump.GTID_TAGGED_EVENT:
                gtid, _ = parse_tagged_gtid(bytes(data[off : len(data) - csum]))
            elif code == rawdump.MARIADB_GTID_EVENT:
                gtid, flags = rawdump.mariadb_gtid(bytes(data[off : off + 13]), sid)
            txn = open_txn(file, start, ts, sid, gtid)
            if txn is None:
                return False
            txn.in_begin = code == rawdump.MARIADB_GTID_EVENT and not flags & 0x01
        elif txn is None:
            txn = open_txn(file, start, ts, sid, None)
            if txn is None:
                return False
        code_counts[code] = code_counts.get(code, 0) + 1
        txn.events += 1
        txn.sizes += size
        txn.end, txn.end_file = end, file
        if ts > txn.end_ts:
            txn.end_ts = ts
        if compressed:
            txn.compressed = True
        if sid != txn.server_id or txn.servers is not None:
            if txn.servers is None:
                txn.servers = {txn.server_id: [txn.events - 1, txn.sizes - size]}
            entry = txn.servers.setdefault(sid, [0, 0])
            entry[0] += 1
            entry[1] += size
        if kind == _K_ROWS:
            table_id = int.from_bytes(data[off : off + 6], "little")
            schema, table = tables.get(table_id, ("?", "?"))
            key = (schema, table, rawdump.ROW_EVENT_OPS[code])
            counters = per_table.get(key)
            if counters is None:
                counters = per_table[key] = [0, 0, 0]
            if shapes is not None:
                rows = shapes.count(table_id, code, data[off : len(data) - csum])
                if rows is None:
                    stats.uncounted_row_events += 1
                else:
                    counters[0] += rows
                    txn.rows += rows
            counters[1] += 1
            counters[2] += size
            txn.tables[f"{schema}.{table}"] = None
            if code >= 160:
                txn.undecoded = True
        elif kind == _K_MAP:
            table_id = int.from_bytes(data[off : off + 6], "little")
            # id, flags and both names (at most 6+2+1+64+1+1+64+1 bytes); never the checksum (it covers log_pos)
            head = data[off : min(off + 140, len(data) - csum)]
            if map_heads.get(table_id) != head:
                map_heads[table_id] = head
                tables[table_id] = rawdump.table_map_names(bytes(data[off : len(data) - csum]))[1:]
            if shapes is not None:
                shapes.remember(table_id, bytes(data[off : len(data) - csum]))
        elif kind == _K_QUERY:
            schema, query = rawdump.query_text(bytes(data[off : len(data) - csum]))
            op = classify_query(query)
            if op == "begin":
                txn.in_begin = True
            elif op in ("commit", "rollback"):
                close(txn)
            elif op in ("ddl", "other", "xa"):
                if op == "ddl":
                    ddl_schema, ddl_tbl = ddl_table(query, schema)
                    stats.ddl.append(DdlEntry(file=file, start_pos=start, timestamp=ts, gtid=txn.gtid,
                                              schema=ddl_schema, table=ddl_tbl, query=query))
                if not txn.in_begin:
                    close(txn)
        elif kind in (_K_XID, _K_XA):
            close(txn)
        elif code == 165:
            txn.undecoded = True
        return True

    for file, start, end, ts, code, sid, size, _, data in frames:
        csum = checksum_len()
        if code != rawdump.TRANSACTION_PAYLOAD_EVENT:
            if not step(file, start, end, ts, code, sid, size, data, off, csum, False):
                break
            continue
        for i, raw in enumerate(payload_events(bytes(data[off : len(data) - csum]))):
            its, icode, isid, _, _, _ = rawdump.HEADER.unpack_from(raw, 0)
            if not step(file, start, end, its or ts, icode, isid, size if i == 0 else 0, raw,
                        rawdump.HEADER_LEN, 0, True):
                break
    names = rawdump.EVENT_NAMES
    for code, count in code_counts.items():
        name = names.get(code, f"UnknownEvent{code}")
        stats.event_types[name] = stats.event_types.get(name, 0) + count
