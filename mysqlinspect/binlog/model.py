"""The event model shared by `binlog tail`, `stats` and `replay`: the single seam between mysql-replication's
classes and everything mysqlinspect does with events.

Contract (tail owns the adapters that build these; replay consumes them):
- every record carries file, start_pos, end_pos (end_pos = position of the next event, i.e. where to resume),
  timestamp (UTC seconds), server_id, gtid (MySQL "uuid[:tag]:n" or MariaDB "d-s-n") and a transaction number;
- row values are Python values already decoded faithfully (see ColumnInfo.type_name for how to render them);
  NOT_LOGGED marks a column absent from a MINIMAL/NOBLOB image, distinct from None (SQL NULL).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class _NotLogged:
    """Sentinel: the column was not in the logged row image (distinct from NULL)."""

    _instance: _NotLogged | None = None

    def __new__(cls) -> _NotLogged:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOT_LOGGED"


NOT_LOGGED = _NotLogged()


@dataclass(frozen=True)
class ColumnInfo:
    """One column of a row event's table."""

    name: str
    type_name: str  # lower-case SQL type: int, bigint, decimal, float, double, bit, json, timestamp, datetime, ...
    unsigned: bool = False
    nullable: bool = True
    charset: str | None = None  # None for binary columns
    precision: int | None = None  # DECIMAL precision / fractional-second digits
    scale: int | None = None
    enum_values: tuple[str, ...] = ()
    set_values: tuple[str, ...] = ()
    length: int | None = None  # BINARY(n): n bytes (the binlog drops trailing 0x00 padding; replay pads it back)


@dataclass
class RowChange:
    """One row of a WRITE/UPDATE/DELETE rows event."""

    op: str  # "insert" | "update" | "delete"
    schema: str
    table: str
    columns: list[ColumnInfo]
    primary_key: list[str]
    before: dict[str, Any] | None  # None for insert
    after: dict[str, Any] | None  # None for delete
    unique_keys: list[list[str]] = field(default_factory=list)
    names_from_metadata: bool = True  # False: names taken from the current table definition (may be stale)


@dataclass(frozen=True)
class QuerySession:
    """Session state a Query event was logged under (its status variables; None: not logged)."""

    sql_mode: int | None = None  # the source flavor's sql_mode bitmask
    charset: tuple[int, int, int] | None = None  # collation ids: character_set_client, collation_connection, server
    time_zone: str | None = None
    explicit_defaults_for_timestamp: bool | None = None


@dataclass
class EventRecord:
    """One binlog event with its position and context; `rows` for row events, `query` for statements/DDL."""

    file: str
    start_pos: int
    end_pos: int
    timestamp: int
    server_id: int
    event_type: str  # e.g. "WriteRowsEvent", "QueryEvent", "GtidEvent", "XidEvent"
    gtid: str | None = None
    transaction_no: int | None = None
    xid: int | None = None
    schema: str | None = None
    table: str | None = None
    op: str | None = None  # insert/update/delete/ddl/begin/commit/other
    query: str | None = None
    rows: list[RowChange] = field(default_factory=list)
    size: int = 0  # bytes of the event in the file (header + body + checksum); 0 for events inside a payload
    compressed: bool = False  # decoded from inside a TRANSACTION_PAYLOAD (binlog_transaction_compression)
    decoded: bool = True  # False: an event type the decoder does not know (its content is not shown)
    gtid_flags: int = 0  # MariaDB GTID event flags (0x01 FL_STANDALONE: a statement outside BEGIN/COMMIT)
    session: QuerySession | None = None  # QueryEvent: sql_mode, character set and time zone of the source session
    suppress_use: bool = False  # QueryEvent flag LOG_EVENT_SUPPRESS_USE_F: run it without USE of `schema`
    rows_flags: int = 0  # Rows event flags (0x02 NO_FOREIGN_KEY_CHECKS_F: the source session had them off)
    counted_rows: int | None = None  # rows counted without decoding them (header scan); None: len(rows)

    @property
    def row_total(self) -> int:
        """Rows of the event: the decoded ones, or the count of the undecoded scan."""
        return self.counted_rows if self.counted_rows is not None else len(self.rows)


@dataclass
class Transaction:
    """GTID/BEGIN ... XID/COMMIT, or a single DDL statement (op == "ddl")."""

    number: int
    file: str
    start_pos: int
    end_pos: int
    end_file: str
    timestamp: int
    server_id: int
    gtid: str | None
    xid: int | None
    events: list[EventRecord] = field(default_factory=list)
    size_bytes: int = 0
    end_timestamp: int = 0  # timestamp of the last event (duration = end_timestamp - timestamp, in seconds)
    compressed: bool = False  # the transaction was a TRANSACTION_PAYLOAD event (decoded)
    complete: bool = True  # False only for a trailing transaction cut by the end of the range
    no_foreign_key_checks: bool = False  # a rows event was logged with foreign_key_checks=0 (NO_FOREIGN_KEY_CHECKS_F)

    @property
    def row_count(self) -> int:
        return sum(len(e.rows) if e.counted_rows is None else e.counted_rows for e in self.events)

    @property
    def tables(self) -> list[str]:
        seen: dict[str, None] = {}
        for e in self.events:
            if e.schema and e.table:
                seen[f"{e.schema}.{e.table}"] = None
        return list(seen)

    @property
    def is_ddl(self) -> bool:
        """DDL, or another statement logged on its own (FLUSH ...): replay writes it as logged."""
        if any(e.op == "ddl" for e in self.events):
            return True
        return self.row_count == 0 and any(is_logged_statement(e) for e in self.events)


def is_logged_statement(event: EventRecord) -> bool:
    """A Query event that is neither transaction control nor XA: DDL or another statement."""
    return event.event_type == "QueryEvent" and event.op in ("ddl", "other")
