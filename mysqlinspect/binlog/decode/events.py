"""RawEvents -> EventRecords with our own decoder (no mysql-replication event classes).

Same records as the library path (records.EventAdapter): event type names, ops, positions, GTIDs, xids, row
changes with model values. Tables logged without FULL row metadata get their column names and keys from
`schema` (a server with the same schema, through SchemaFallback) when one is given, else @1..@n. It follows
FORMAT_DESCRIPTION events (post-header lengths, flavor), keeps Table_maps by table id, expands TRANSACTION_PAYLOAD
events (zstd; inner events carry the outer event's positions, as `mysqlbinlog` prints them) and MariaDB compressed
Query/Rows events (zlib).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from mysqlinspect.binlog.decode.payload import payload_events
from mysqlinspect.binlog.decode.query_status import parse_session
from mysqlinspect.binlog.decode.rows import EVENT_NAMES, ROW_OPS, decode_rows, names_logged
from mysqlinspect.binlog.decode.schema_fallback import SchemaFallback
from mysqlinspect.binlog.decode.statement_text import classify_query
from mysqlinspect.binlog.decode.tablemap import TableMap, parse_table_map
from mysqlinspect.binlog.model import EventRecord
from mysqlinspect.binlog.source import rawdump
from mysqlinspect.binlog.source.compressed import uncompress_record
from mysqlinspect.binlog.source.fde import FormatDescription, without_checksum
from mysqlinspect.binlog.source.rawdump import RawEvent
from mysqlinspect.binlog.source.tagged_gtid import parse_tagged_gtid
from mysqlinspect.errors import DataError

QUERY, STOP, ROTATE, FDE, XID, TABLE_MAP, ROWS_QUERY = 2, 3, 4, 15, 16, 19, 29
GTID, ANONYMOUS_GTID, PREVIOUS_GTIDS, XA_PREPARE, PAYLOAD, TAGGED_GTID = 33, 34, 35, 38, 40, 42
ANNOTATE_ROWS, MARIADB_GTID, QUERY_COMPRESSED = 160, 162, 165
SUPPRESS_USE_FLAG = 0x08  # LOG_EVENT_SUPPRESS_USE_F: CREATE/DROP DATABASE run without a default database
HEADER_LEN = 19
MAX_CACHED_MAPS = 10_000
DEFAULT_FDE = FormatDescription(4, "", 0, b"", 0)  # until the first FDE: fallback post-header lengths


@dataclass
class EventDecoder:
    """decode(raw) -> the records of one raw event (several for a transaction payload). With a `schema`
    fallback (a server's current definitions), Table_maps without column names or keys get them from it."""

    warn: Callable[[str], None] = lambda message: None
    schema: SchemaFallback | None = None
    missing_table: Callable[[int], None] = lambda table_id: None  # may decode a Table_map read elsewhere
    fde: FormatDescription = DEFAULT_FDE
    tables: dict[int, TableMap] = field(default_factory=dict)
    _warned: set[str] = field(default_factory=set)
    _maps: dict[bytes, TableMap] = field(default_factory=dict)
    _uuids: dict[bytes, str] = field(default_factory=dict)

    @property
    def mariadb(self) -> bool:
        return self.fde.is_mariadb

    def decode(self, raw: RawEvent) -> Iterable[EventRecord]:
        """The records of one event: a list, or for a TRANSACTION_PAYLOAD a stream (decompressed and decoded as
        it is read; read it to its end before decoding the next event)."""
        if raw.type_code == PAYLOAD:
            return self._payload(raw)
        return [self._record(raw, raw.type_code, raw.body, (raw.start_pos, raw.end_pos), raw.size, False)]

    def _payload(self, raw: RawEvent) -> Iterator[EventRecord]:
        outer, inner_fde = self.fde, without_checksum(self.fde)
        try:
            self.fde = inner_fde
            for event in payload_events(raw.body):
                timestamp, code, server_id, _, _, flags = rawdump.HEADER.unpack_from(event, 0)
                inner = RawEvent(raw.file, raw.start_pos, raw.end_pos, timestamp or raw.timestamp, code,
                                 server_id, 0, flags, bytes(event[HEADER_LEN:]))
                record = self._record(inner, code, inner.body, (raw.start_pos, raw.end_pos), 0, True)
                self.fde = outer  # while the record is used: the decoder is the outer one's
                yield record
                self.fde = inner_fde
        finally:
            self.fde = outer

    def _record(self, raw: RawEvent, code: int, body: bytes, at: tuple[int, int], size: int,
                compressed: bool) -> EventRecord:
        rec = EventRecord(file=raw.file, start_pos=at[0], end_pos=at[1], timestamp=raw.timestamp,
                          server_id=raw.server_id, event_type=raw.name, op="other", size=size, compressed=compressed)
        if code in ROW_OPS:
            self._rows(rec, code, body)
        elif code in (QUERY, QUERY_COMPRESSED):
            self._query(rec, body, code == QUERY_COMPRESSED, raw.flags)
        elif code == TABLE_MAP:
            tmap = self._table_map(body)
            self.tables[tmap.table_id] = tmap
            rec.schema, rec.table, rec.op = tmap.schema, tmap.table, "table_map"
        else:
            self._control(rec, code, body)
        return rec

    def _table_map(self, body: bytes) -> TableMap:
        """Parsed once per distinct Table_map body: the compiled row plans live on it across transactions."""
        tmap = self._maps.get(body)
        if tmap is None:
            if len(self._maps) > MAX_CACHED_MAPS:
                self._maps.clear()
            tmap = self._maps[body] = parse_table_map(body, self.fde.post_header(TABLE_MAP))
            if self.schema is not None:
                complete_table_map(tmap, self.schema)
        return tmap

    def _control(self, rec: EventRecord, code: int, body: bytes) -> None:
        if code == FDE:
            self.fde = FormatDescription.from_body(body)
        elif code == XID:
            rec.xid, rec.op = int.from_bytes(body[0:8], "little"), "commit"
        elif code == GTID:
            rec.gtid, rec.op = self._gtid(body), "gtid"
        elif code == ANONYMOUS_GTID:
            rec.op = "gtid"
        elif code == TAGGED_GTID:
            rec.event_type, rec.op = "TaggedGtidEvent", "gtid"
            rec.gtid = parse_tagged_gtid(body)[0]
        elif code == MARIADB_GTID:
            rec.gtid, rec.gtid_flags = rawdump.mariadb_gtid(body, rec.server_id)
            rec.op = "gtid"
        elif code == ROTATE:
            rec.op, rec.query = "rotate", body[8:].decode("utf-8", "replace")
        elif code == XA_PREPARE:
            rec.op = "xa_prepare"
        elif code in (ROWS_QUERY, ANNOTATE_ROWS):
            rec.query = body[1 if code == ROWS_QUERY else 0 :].decode("utf-8", "backslashreplace")
        elif code == PREVIOUS_GTIDS:
            rec.query = rawdump.previous_gtids(body)
        elif code == rawdump.MARIADB_GTID_LIST:
            rec.query = rawdump.mariadb_gtid_list(body)
        elif code not in rawdump.EVENT_NAMES:
            rec.decoded = False

    def _gtid(self, body: bytes) -> str:
        """rawdump.mysql_gtid, with the formatted source uuid kept per uuid (the same for most transactions)."""
        sid = body[1:17]
        uuid = self._uuids.get(sid)
        if uuid is None:
            if len(self._uuids) > MAX_CACHED_MAPS:
                self._uuids.clear()
            uuid = self._uuids[sid] = rawdump.mysql_gtid(body).rpartition(":")[0]
        return f"{uuid}:{int.from_bytes(body[17:25], 'little', signed=True)}"

    def _query(self, rec: EventRecord, body: bytes, compressed: bool, raw_flags: int) -> None:
        post = self.fde.post_header(QUERY_COMPRESSED if compressed else QUERY) or 13
        db_len = body[8]
        status_len = int.from_bytes(body[11:13], "little")
        start = post + status_len
        text = body[start + db_len + 1 :]
        if compressed:
            text = uncompress_record(text)
            rec.event_type = "QueryEvent"
        rec.schema = body[start : start + db_len].decode("utf-8", "backslashreplace")
        rec.session = parse_session(body[post : post + status_len], self.mariadb)
        rec.suppress_use = bool(raw_flags & SUPPRESS_USE_FLAG)
        if text == b"BEGIN":  # most Query events: skip the classification
            rec.query, rec.op = "BEGIN", "begin"
            return
        rec.query = text.decode("utf-8", "backslashreplace")
        rec.op = classify_query(rec.query)

    def _rows(self, rec: EventRecord, code: int, body: bytes) -> None:
        post = self.fde.post_header(code) or (10 if 30 <= code <= 32 or code in (39, 169, 170, 171) else 8)
        table_id = int.from_bytes(body[0 : 4 if post == 6 else 6], "little")
        tmap = self.tables.get(table_id)
        if tmap is None:
            self.missing_table(table_id)
            tmap = self.tables.get(table_id)
        op = ROW_OPS[code]
        rec.event_type, rec.op = EVENT_NAMES[op], op
        if tmap is None:
            raise DataError(f"{rec.file}: rows event at {rec.start_pos} for table id {table_id} without a "
                            "Table_map event (reading must start at a transaction boundary)")
        rec.schema, rec.table = tmap.schema, tmap.table
        id_len = 4 if post == 6 else 6
        rec.rows_flags = int.from_bytes(body[id_len : id_len + 2], "little")
        if not names_logged(tmap):
            self._warn_unnamed(tmap)
        rec.rows = decode_rows(body, code, post, tmap, self.mariadb)

    def _warn_unnamed(self, tmap: TableMap) -> None:
        """Once per decoder (a file set): as mysqlbinlog, columns are @1..@n without FULL row metadata."""
        if not self._warned:
            self._warned.add(f"{tmap.schema}.{tmap.table}")
            self.warn(f"{tmap.schema}.{tmap.table}: the binlog has no column names (binlog_row_metadata is not "
                      "FULL); columns of this and any other such table are shown as @1..@n")


def complete_table_map(tmap: TableMap, schema: SchemaFallback) -> None:
    """Column names (when the binlog has none) and keys (when it has no primary key) from the current
    definition, set before any row plan is compiled for the map."""
    if not tmap.has_names:
        for column, name in zip(tmap.columns, schema.names(tmap.schema, tmap.table, len(tmap.columns)), strict=True):
            column.name = name
        tmap.names_from_metadata = False
    if not tmap.primary_key:
        pk, tmap.unique_keys = schema.keys(tmap.schema, tmap.table)
        names = [c.name for c in tmap.columns]
        tmap.primary_key = [names.index(n) for n in pk if n in names]
