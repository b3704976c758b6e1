"""The event model shared by `binlog tail`, `stats` and `replay`: the single seam between mysql-replication's
classes and everything mysqlinspect does with events.

Contract (tail owns the adapters that build these; replay consumes them):
- every record carries file, start_pos, end_pos (end_pos = position of the next event, i.e. where to resume),
  timestamp (UTC seconds), server_id, gtid (MySQL "uuid[:tag]:n" or MariaDB "d-s-n") and a transaction number;
- row values are Python values already decoded faithfully (see ColumnInfo.type_name for how to render them);
  NOT_LOGGED marks a column absent from a MINIMAL/NOBLOB image, distinct from None (SQL NULL).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol


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


ROW_OPS = frozenset({"insert", "update", "delete"})


@dataclass
class EventTotals:
    """What Transaction's properties (and the filters) ask about its events, gathered as they are added: a
    transaction whose events are kept on disk answers them without reading its events back."""

    events: int = 0
    rows: int = 0
    row_events: int = 0  # events holding decoded rows
    size: int = 0  # sum of the events' sizes
    tables: dict[str, None] = field(default_factory=dict)  # schema.table of the events, in order of appearance
    counts: dict[tuple[str, str], int] = field(default_factory=dict)  # (schema.table, op) -> decoded rows
    # rows events by (schema, table, op), in order of first appearance: [events, rows (row_total), events with rows]
    row_groups: dict[tuple[str | None, str | None, str | None], list[int]] = field(default_factory=dict)
    other_ops: dict[str | None, int] = field(default_factory=dict)  # the other events by op
    types: set[str] = field(default_factory=set)  # event types
    ddl: bool = False
    logged_statement: bool = False
    undecoded: set[str] = field(default_factory=set)  # event types the decoder did not know

    def add(self, event: EventRecord) -> None:
        self.events += 1
        total = event.row_total
        self.rows += total
        self.size += event.size
        self.types.add(event.event_type)
        if event.schema and event.table:
            self.tables[f"{event.schema}.{event.table}"] = None
        rows = event.rows
        if rows or event.op in ROW_OPS:
            group = self.row_groups.get((event.schema, event.table, event.op))
            if group is None:
                group = self.row_groups[(event.schema, event.table, event.op)] = [0, 0, 0]
            group[0] += 1
            group[1] += total
            group[2] += 1 if rows else 0
        else:
            self.other_ops[event.op] = self.other_ops.get(event.op, 0) + 1
        if rows:
            self.row_events += 1
            counts = self.counts
            for row in rows:
                key = (f"{row.schema}.{row.table}", row.op)
                counts[key] = counts.get(key, 0) + 1
        if event.op == "ddl":
            self.ddl = True
        if is_logged_statement(event):
            self.logged_statement = True
        if not event.decoded:
            self.undecoded.add(event.event_type)

    @classmethod
    def of(cls, events: Iterable[EventRecord]) -> EventTotals:
        totals = cls()
        for event in events:
            totals.add(event)
        return totals


class StoredEvents(Protocol):
    """The events of a transaction too large to hold in memory (read.spill): iterable any number of times, forwards
    or backwards, with their totals known without a read."""

    @property
    def totals(self) -> EventTotals: ...

    def __iter__(self) -> Iterator[EventRecord]: ...

    def __reversed__(self) -> Iterator[EventRecord]: ...

    def __len__(self) -> int: ...

    def append(self, event: EventRecord) -> None: ...


Events = list[EventRecord] | StoredEvents


@dataclass
class Transaction:
    """GTID/BEGIN ... XID/COMMIT, or a single DDL statement (op == "ddl").

    `events` is a list, or - for a transaction too large to hold (read.spill) - StoredEvents read back from disk on
    each iteration; `stored` says which. Code that walks a transaction's events more than once should ask
    `totals` (or the properties) rather than walk them again."""

    number: int
    file: str
    start_pos: int
    end_pos: int
    end_file: str
    timestamp: int
    server_id: int
    gtid: str | None
    xid: int | None
    events: Events = field(default_factory=list)
    size_bytes: int = 0
    end_timestamp: int = 0  # timestamp of the last event (duration = end_timestamp - timestamp, in seconds)
    compressed: bool = False  # the transaction was a TRANSACTION_PAYLOAD event (decoded)
    complete: bool = True  # False only for a trailing transaction cut by the end of the range
    no_foreign_key_checks: bool = False  # a rows event was logged with foreign_key_checks=0 (NO_FOREIGN_KEY_CHECKS_F)

    @property
    def stored(self) -> bool:
        """The events are kept on disk (a large transaction): walk them once, in a stream."""
        return not isinstance(self.events, list)

    @property
    def totals(self) -> EventTotals:
        events = self.events
        return EventTotals.of(events) if isinstance(events, list) else events.totals

    @property
    def row_count(self) -> int:
        events = self.events
        if not isinstance(events, list):
            return events.totals.rows
        total = 0
        for e in events:  # a loop, not sum() of a generator: this runs several times per transaction
            counted = e.counted_rows
            total += len(e.rows) if counted is None else counted
        return total

    @property
    def tables(self) -> list[str]:
        events = self.events
        if not isinstance(events, list):
            return list(events.totals.tables)
        seen: dict[str, None] = {}
        for e in events:
            if e.schema and e.table:
                seen[f"{e.schema}.{e.table}"] = None
        return list(seen)

    @property
    def undecoded_types(self) -> list[str]:
        """Sorted names of the event types the decoder did not know."""
        events = self.events
        if isinstance(events, list):
            return sorted({e.event_type for e in events if not e.decoded})
        return sorted(events.totals.undecoded)

    @property
    def has_logged_statement(self) -> bool:
        events = self.events
        if isinstance(events, list):
            return any(is_logged_statement(e) for e in events)
        return events.totals.logged_statement

    @property
    def is_ddl(self) -> bool:
        """DDL, or another statement logged on its own (FLUSH ...): replay writes it as logged."""
        events = self.events
        if not isinstance(events, list):
            totals = events.totals
            return totals.ddl or (totals.rows == 0 and totals.logged_statement)
        logged_statement = False
        for e in events:  # one pass; row_count only for the rare transaction holding a logged statement
            if e.op == "ddl":
                return True
            if not logged_statement and is_logged_statement(e):
                logged_statement = True
        return logged_statement and self.row_count == 0


def is_logged_statement(event: EventRecord) -> bool:
    """A Query event that is neither transaction control nor XA: DDL or another statement."""
    return event.event_type == "QueryEvent" and event.op in ("ddl", "other")
