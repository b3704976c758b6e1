"""Adapters from mysql-replication events to EventRecord / RowChange (the only module that reads event objects).

Positions: start = packet.log_pos - packet.event_size, end = packet.log_pos. The library has no per-event file
name, so the adapter tracks it: artificial events (the fake Rotate at the start of every dump, log_pos 0) set
the current file without being records; a real Rotate belongs to the file it ends, then switches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pymysqlreplication import event as lib_event
from pymysqlreplication import row_event as lib_rows

from mysqlinspect.binlog.decode.library.events import TaggedGtidEvent
from mysqlinspect.binlog.decode.query_status import build_session
from mysqlinspect.binlog.decode.schema_fallback import SchemaFallback, SchemaLookup
from mysqlinspect.binlog.decode.statement_text import classify_query
from mysqlinspect.binlog.decode.values.convert import converter_for, none_value, type_name
from mysqlinspect.binlog.model import ColumnInfo, EventRecord, QuerySession, RowChange

ARTIFICIAL_FLAG = 0x20  # LOG_EVENT_ARTIFICIAL_F
SUPPRESS_USE_FLAG = 0x08  # LOG_EVENT_SUPPRESS_USE_F: CREATE/DROP DATABASE run without a default database
ANONYMOUS_GTID_EVENT = 34
MARIADB_FL_STANDALONE = 0x01

ROW_OPS: dict[type, str] = {
    lib_rows.WriteRowsEvent: "insert",
    lib_rows.UpdateRowsEvent: "update",
    lib_rows.PartialUpdateRowsEvent: "update",
    lib_rows.DeleteRowsEvent: "delete",
}


@dataclass
class TableShape:
    """How to turn one table's library rows into model rows."""

    schema: str
    table: str
    columns: list[ColumnInfo]
    value_keys: list[str]  # keys of the library's value dicts, column order
    converters: list[Callable[[Any], Any] | None]
    primary_key: list[str]
    unique_keys: list[list[str]]
    names_from_metadata: bool

    def convert(self, values: dict[str, Any], none_sources: dict[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for col, key, conv in zip(self.columns, self.value_keys, self.converters, strict=True):
            value = values.get(key)
            if value is None:
                out[col.name] = none_value(col.type_name, none_sources.get(key)) if none_sources else None
            elif conv is None:
                out[col.name] = value
            else:
                out[col.name] = conv(value)
        return out


@dataclass
class TableShapes:
    """Cache of TableShape per table definition seen in Table_map events; fallbacks go through `lookup`."""

    lookup: SchemaLookup | None = None
    warn: Callable[[str], None] = lambda message: None
    _cache: dict[tuple[Any, ...], TableShape] = field(default_factory=dict)
    _fallback: SchemaFallback | None = None

    @property
    def fallback(self) -> SchemaFallback:
        if self._fallback is None:
            self._fallback = SchemaFallback(self.lookup, self.warn)
        return self._fallback

    def shape_for(self, event: Any) -> TableShape:
        cols = event.columns
        key = (event.schema, event.table, tuple((c.type, c.name) for c in cols), event.primary_key)
        shape = self._cache.get(key)
        if shape is None:
            shape = self._build(event)
            self._cache[key] = shape
        return shape

    def _build(self, event: Any) -> TableShape:
        schema, table, cols = event.schema, event.table, event.columns
        names = [c.name for c in cols]
        value_keys = [c.name if c.name else f"UNKNOWN_COL{i}" for i, c in enumerate(cols)]
        from_metadata = all(names)
        if not from_metadata:
            names = self.fallback.names(schema, table, len(cols))
        columns = [self._column_info(c, n) for c, n in zip(cols, names, strict=True)]
        pk = _library_primary_key(event, cols, names)
        uniques: list[list[str]] = []
        if not pk:
            pk, uniques = self.fallback.keys(schema, table)
        converters = [converter_for(c.type_name, c.set_values, c.length) for c in columns]
        return TableShape(schema, table, columns, value_keys, converters, pk, uniques, from_metadata)

    @staticmethod
    def _column_info(col: Any, name: str) -> ColumnInfo:
        charset = getattr(col, "character_set_name", None)
        tname = type_name(col.type, charset)
        precision = getattr(col, "precision", None)
        scale = getattr(col, "decimals", None)
        if tname in ("datetime", "timestamp", "time"):
            precision, scale = getattr(col, "fsp", None), None
        if tname == "bit":
            precision = getattr(col, "bits", None)
        enum_values = tuple(v for v in (getattr(col, "enum_values", None) or ()) if v != "")
        return ColumnInfo(
            name=name,
            type_name=tname,
            unsigned=bool(getattr(col, "unsigned", False)),
            nullable=True,
            charset=None if charset == "binary" else charset,
            precision=precision,
            scale=scale,
            enum_values=enum_values,
            set_values=tuple(getattr(col, "set_values", None) or ()),
            length=getattr(col, "max_length", None) if tname == "binary" else None,
        )


def _library_primary_key(event: Any, cols: list[Any], names: list[str]) -> list[str]:
    flagged = [names[i] for i, c in enumerate(cols) if getattr(c, "is_primary", False)]
    if flagged:
        return flagged
    pk = event.primary_key
    if isinstance(pk, tuple):
        return list(pk)
    return [pk] if pk else []


def is_artificial(event: Any) -> bool:
    packet = event.packet
    return packet.log_pos == 0 or bool(packet.flags & ARTIFICIAL_FLAG)


def query_session(event: Any, flavor: str) -> QuerySession:
    """The Query event's status variables that shape how its statement runs."""
    charset = None
    if getattr(event, "character_set_client", None) is not None:
        charset = (int(event.character_set_client), int(event.collation_connection), int(event.collation_server))
    return build_session(getattr(event, "sql_mode", None), charset, getattr(event, "time_zone", None),
                         getattr(event, "explicit_defaults_ts", None), getattr(event, "flags2", None),
                         flavor == "mariadb")


@dataclass
class EventAdapter:
    """Turns library events into EventRecords, tracking the current file across rotations."""

    shapes: TableShapes
    file: str = ""
    server_flavor: str = "mysql"  # "mariadb" once a MariaDB GTID event has been seen

    def position(self, event: Any) -> tuple[int, int, int]:
        packet = event.packet
        end = packet.log_pos
        size = packet.event_size
        return end - size, end, size

    def observe(self, event: Any) -> EventRecord | None:
        """The record of a real event; None for artificial ones (fake Rotate, heartbeats, resent FDE)."""
        if isinstance(event, lib_event.RotateEvent):
            if is_artificial(event):
                self.file = event.next_binlog
                return None
            record = self._base(event, "RotateEvent", op="rotate")
            record.query = event.next_binlog
            self.file = event.next_binlog
            return record
        if isinstance(event, lib_event.HeartbeatLogEvent) or event.packet.log_pos == 0:
            return None
        return self.convert(event)

    def convert(self, event: Any, compressed_at: tuple[int, int] | None = None) -> EventRecord:
        name = type(event).__name__
        record = self._base(event, name, compressed_at=compressed_at)
        if isinstance(event, lib_rows.RowsEvent):
            self._fill_rows(record, event)
        elif isinstance(event, lib_event.QueryEvent):
            record.query = event.query
            schema = event.schema
            record.schema = schema.decode("utf-8", "backslashreplace") if isinstance(schema, bytes) else schema
            record.op = classify_query(event.query)
            record.session = query_session(event, self.server_flavor)
            record.suppress_use = bool(event.packet.flags & SUPPRESS_USE_FLAG)
        elif isinstance(event, (lib_event.GtidEvent, lib_event.MariadbGtidEvent, TaggedGtidEvent)):
            record.gtid = event.gtid
            record.op = "gtid"
            record.gtid_flags = int(getattr(event, "flags", 0) or 0) if name == "MariadbGtidEvent" else 0
            if name == "MariadbGtidEvent":
                self.server_flavor = "mariadb"  # every MariaDB statement follows one (Q_FLAGS2 bits differ)
        elif isinstance(event, lib_event.NotImplementedEvent):
            code = event.packet.event_type
            if code == ANONYMOUS_GTID_EVENT:
                record.event_type, record.op = "AnonymousGtidEvent", "gtid"
            else:
                record.event_type, record.op, record.decoded = f"UnknownEvent{code}", "other", False
        elif isinstance(event, lib_event.XidEvent):
            record.xid = event.xid
            record.op = "commit"
        elif isinstance(event, lib_event.XAPrepareEvent):
            record.op = "xa_prepare"
        elif isinstance(event, lib_rows.TableMapEvent):
            record.schema, record.table, record.op = event.schema, event.table, "table_map"
        else:
            record.op = "other"
        return record

    def _base(self, event: Any, name: str, op: str | None = None,
              compressed_at: tuple[int, int] | None = None) -> EventRecord:
        packet = event.packet
        if compressed_at is not None:
            start, end = compressed_at
            size = 0
        else:
            end = packet.log_pos
            size = packet.event_size
            start = end - size
        return EventRecord(file=self.file, start_pos=start, end_pos=end, timestamp=event.timestamp,
                           server_id=packet.server_id, event_type=name, op=op, size=size,
                           compressed=compressed_at is not None)

    def _fill_rows(self, record: EventRecord, event: Any) -> None:
        op = ROW_OPS.get(type(event), "other")
        record.schema, record.table, record.op = event.schema, event.table, op
        record.rows_flags = int(getattr(event, "flags", 0) or 0)
        shape = self.shapes.shape_for(event)
        rows: list[RowChange] = []
        for raw in event.rows:
            if op == "update":
                before = shape.convert(raw["before_values"], raw.get("before_none_sources", {}))
                after = shape.convert(raw["after_values"], raw.get("after_none_sources", {}))
            elif op == "insert":
                before, after = None, shape.convert(raw["values"], raw.get("none_sources", {}))
            else:
                before, after = shape.convert(raw["values"], raw.get("none_sources", {})), None
            rows.append(RowChange(op=op, schema=shape.schema, table=shape.table, columns=shape.columns,
                                  primary_key=shape.primary_key, before=before, after=after,
                                  unique_keys=shape.unique_keys, names_from_metadata=shape.names_from_metadata))
        record.rows = rows
