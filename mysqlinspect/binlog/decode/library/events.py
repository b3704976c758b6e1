"""Additive patches of mysql-replication (process-wide, idempotent), applied when the stream module loads.

- TRANSACTION_PAYLOAD (40) -> TransactionPayloadEvent, which keeps the body for decoding (the library
  maps type 40 to NotImplementedEvent and drops it).
- GTID_TAGGED_LOG_EVENT (42) -> TaggedGtidEvent (the library does not know tagged GTIDs).
- QueryEvent status variables the library does not know (MySQL 9.x adds new ones, e.g. 0x15 on statement-logged
  DML) end the status block instead of failing the whole stream: the block's length is known, so the rest of it
  is skipped and the schema and query are read as usual.
- TableMapEvent parses are cached: a Table_map body identical to one already parsed on the same kind of server
  (same table id, names, column types and metadata) reuses that parse. The library re-parses the Table_map
  before every rows event - the largest single cost of decoding - although it rarely changes. The class stays
  TableMapEvent, so readers that do not know about the cache behave exactly as before; filtered readers
  (only_tables/only_schemas/freeze_schema) bypass it.
"""

from __future__ import annotations

from typing import Any

from pymysqlreplication.event import BinLogEvent, QueryEvent
from pymysqlreplication.exceptions import StatusVariableMismatch
from pymysqlreplication.packet import BinLogPacketWrapper
from pymysqlreplication.row_event import TableMapEvent

from mysqlinspect.binlog.decode.payload import TRANSACTION_PAYLOAD_EVENT
from mysqlinspect.binlog.source.tagged_gtid import parse_tagged_gtid

GTID_TAGGED_LOG_EVENT = 42


class TransactionPayloadEvent(BinLogEvent):
    """Keeps the raw payload body for payload.payload_events."""

    def __init__(self, from_packet: Any, event_size: int, table_map: Any, ctl_connection: Any, **kwargs: Any) -> None:
        super().__init__(from_packet, event_size, table_map, ctl_connection, **kwargs)
        self.body = bytes(self.packet.read(event_size))


CACHE_LIMIT = 4096
_CACHED_FIELDS = ("table_id", "flags", "schema_length", "schema", "table_length", "table", "column_count",
                  "columns", "null_bitmask", "table_obj", "optional_metadata")
_cache: dict[tuple[str, bool, bool, bytes], dict[str, Any]] = {}


def _cached_table_map_init(original: Any) -> Any:
    def init(self: Any, from_packet: Any, event_size: int, table_map: Any, ctl_connection: Any,
             **kwargs: Any) -> None:
        if kwargs.get("only_tables") or kwargs.get("only_schemas") or kwargs.get("freeze_schema") \
                or kwargs.get("ignored_tables") or kwargs.get("ignored_schemas"):
            original(self, from_packet, event_size, table_map, ctl_connection, **kwargs)
            return
        raw = from_packet.packet  # peek: the optional metadata parser measures what is left in this packet
        body = bytes(raw._data[raw._position : raw._position + event_size])
        key = (ctl_connection._get_dbms(), bool(kwargs.get("optional_meta_data")),
               bool(kwargs.get("use_column_name_cache")), body)
        cached = _cache.get(key)
        if cached is None:
            original(self, from_packet, event_size, table_map, ctl_connection, **kwargs)
            if self._processed:
                if len(_cache) >= CACHE_LIMIT:
                    _cache.clear()
                _cache[key] = {name: getattr(self, name) for name in _CACHED_FIELDS if hasattr(self, name)}
            return
        BinLogEvent.__init__(self, from_packet, event_size, table_map, ctl_connection, **kwargs)
        from_packet.advance(event_size)
        self.__dict__.update(cached)
        table_map[self.table_id] = self.table_obj

    init._mysqlinspect_cached = True  # type: ignore[attr-defined]
    return init


class TaggedGtidEvent(BinLogEvent):
    """GTID_TAGGED_LOG_EVENT (MySQL 8.3+, `SET gtid_next = 'AUTOMATIC:tag'`): `gtid` is 'uuid:tag:gno'."""

    def __init__(self, from_packet: Any, event_size: int, table_map: Any, ctl_connection: Any, **kwargs: Any) -> None:
        super().__init__(from_packet, event_size, table_map, ctl_connection, **kwargs)
        self.gtid, self.flags = parse_tagged_gtid(bytes(self.packet.read(event_size)))


def _tolerant_status_vars(original: Any) -> Any:
    def read(self: Any, key: int) -> None:
        if getattr(self, "_mysqlinspect_status_end", None) is None:
            # first call: the key byte has just been read, so the block started one byte earlier
            self._mysqlinspect_status_end = self.packet.read_bytes - 1 + self.status_vars_length
        try:
            original(self, key)
        except StatusVariableMismatch:
            self.unknown_status_var = key
            self.packet.advance(self._mysqlinspect_status_end - self.packet.read_bytes)

    read._mysqlinspect_tolerant = True  # type: ignore[attr-defined]
    return read


def register_library_events() -> None:
    event_map = BinLogPacketWrapper._BinLogPacketWrapper__event_map
    event_map[TRANSACTION_PAYLOAD_EVENT] = TransactionPayloadEvent
    event_map[GTID_TAGGED_LOG_EVENT] = TaggedGtidEvent
    if not getattr(QueryEvent._read_status_vars_value_for_key, "_mysqlinspect_tolerant", False):
        QueryEvent._read_status_vars_value_for_key = _tolerant_status_vars(QueryEvent._read_status_vars_value_for_key)
    if not getattr(TableMapEvent.__init__, "_mysqlinspect_cached", False):
        TableMapEvent.__init__ = _cached_table_map_init(TableMapEvent.__init__)
