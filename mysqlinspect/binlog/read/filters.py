"""Event filters, applied in mysqlinspect (the library's own table/schema filters are not schema-qualified).

- tables / exclude_tables: `schema.table` globs (fnmatch, case-sensitive like table names on Linux); a pattern
  without a dot matches the table name in any schema. DDL matches on the table it names when that can be read
  from the statement (CREATE/ALTER/DROP/TRUNCATE/RENAME TABLE), otherwise on its default schema.
- ops: insert, update, delete, ddl (and "other" for non-DDL statements).
- event_types: library class names with or without "Event", case-insensitive (WriteRows, query, gtid...).
- min_rows: keep transactions with at least this many matching rows.
- server_ids: keep transactions whose events come from these server ids.

`filter_transaction` returns the transaction with only the matching row/DDL events (structural events kept),
or None when nothing in it matches.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from mysqlinspect.binlog.decode.statement_text import statement_head
from mysqlinspect.binlog.model import ROW_OPS, EventRecord, EventTotals, StoredEvents, Transaction
from mysqlinspect.binlog.read.spill import EventsView, collect_events
from mysqlinspect.errors import UsageError

OPS = ("insert", "update", "delete", "ddl", "other")
STRUCTURAL_OPS = frozenset({"gtid", "begin", "commit", "rollback", "xa_prepare"})
_DDL_TABLE = re.compile(
    r"^\s*(?:CREATE|ALTER|DROP|TRUNCATE|RENAME)\s+(?:TEMPORARY\s+)?(?:ONLINE\s+)?(?:IGNORE\s+)?TABLE\s+"
    r"(?:IF\s+(?:NOT\s+)?EXISTS\s+)?((?:`[^`]+`|\w+)(?:\s*\.\s*(?:`[^`]+`|\w+))?)",
    re.IGNORECASE,
)


def _normalise_event_type(name: str) -> str:
    key = name.strip().lower().replace("_", "")
    return key[:-5] if key.endswith("event") else key


def ddl_table(query: str, default_schema: str | None) -> tuple[str | None, str | None]:
    """(schema, table) named by a table DDL statement, or (default_schema, None)."""
    match = _DDL_TABLE.match(statement_head(query))
    if not match:
        return default_schema, None
    parts = [p.strip().strip("`") for p in match.group(1).split(".")]
    if len(parts) == 2:
        return parts[0], parts[1]
    return default_schema, parts[0]


def known_event_types() -> frozenset[str]:
    """Normalised names of every event type a record can carry (the decoder's and the header scan's)."""
    from mysqlinspect.binlog.source.rawdump import EVENT_NAMES

    names = {*EVENT_NAMES.values(), "TaggedGtidEvent", "NotImplementedEvent"}
    return frozenset(_normalise_event_type(n) for n in names)


@dataclass
class EventFilter:
    tables: list[str] = field(default_factory=list)
    exclude_tables: list[str] = field(default_factory=list)
    ops: frozenset[str] | None = None
    event_types: frozenset[str] | None = None
    min_rows: int = 0
    server_ids: frozenset[int] | None = None

    @classmethod
    def build(cls, tables: tuple[str, ...] | list[str] = (), exclude_tables: tuple[str, ...] | list[str] = (),
              ops: str | None = None, event_types: tuple[str, ...] | list[str] = (), min_rows: int = 0,
              server_ids: tuple[int, ...] | list[int] = ()) -> EventFilter:
        op_set = None
        if ops:
            op_set = frozenset(o.strip().lower() for part in ops.split(",") for o in [part] if o.strip())
            unknown = op_set - set(OPS)
            if unknown:
                raise UsageError(f"unknown --op value(s) {', '.join(sorted(unknown))} (use {', '.join(OPS)})")
        types = frozenset(_normalise_event_type(t) for part in event_types for t in part.split(",") if t.strip())
        unknown_types = sorted(t for t in types if t not in known_event_types() and not t.startswith("unknown"))
        if unknown_types:
            raise UsageError(f"unknown --event-type value(s) {', '.join(unknown_types)} (e.g. WriteRows, UpdateRows, "
                             "DeleteRows, Query, Gtid, MariadbGtid, Xid, TableMap, Rotate)")
        return cls(tables=list(tables), exclude_tables=list(exclude_tables), ops=op_set,
                   event_types=types or None, min_rows=min_rows, server_ids=frozenset(server_ids) or None)

    @property
    def active(self) -> bool:
        return bool(self.tables or self.exclude_tables or self.ops or self.event_types or self.min_rows
                    or self.server_ids)

    def table_matches(self, schema: str | None, table: str | None) -> bool:
        name = f"{schema or ''}.{table or ''}"
        if self.tables and not any(_glob(p, schema, table, name) for p in self.tables):
            return False
        return not any(_glob(p, schema, table, name) for p in self.exclude_tables)

    def event_matches(self, rec: EventRecord) -> bool:
        if self.event_types is not None and _normalise_event_type(rec.event_type) not in self.event_types:
            return False
        if rec.rows or rec.op in ROW_OPS:
            if self.ops is not None and rec.op not in self.ops:
                return False
            return self.table_matches(rec.schema, rec.table)
        if rec.event_type == "QueryEvent" and rec.op in ("ddl", "other"):
            if self.ops is not None and rec.op not in self.ops:
                return False
            schema, table = ddl_table(rec.query or "", rec.schema)
            if table is None:
                return self._schema_matches(schema)
            return self.table_matches(schema, table)
        return self.event_types is not None  # structural events only when asked for by type

    def _schema_matches(self, schema: str | None) -> bool:
        if not self.tables and not self.exclude_tables:
            return True
        if self.tables and not any(fnmatch.fnmatchcase(schema or "", p.split(".", 1)[0])
                                   for p in self.tables if "." in p):
            return False
        return not any(p.endswith(".*") and fnmatch.fnmatchcase(schema or "", p[:-2]) for p in self.exclude_tables)

    def filter_transaction(self, txn: Transaction) -> Transaction | None:
        if not self.active:
            return txn
        if self.server_ids is not None and txn.server_id not in self.server_ids:
            return None
        if txn.stored:
            return self._filter_stored(txn)
        matching = [e for e in txn.events if self.event_matches(e)]
        if not matching:
            return None
        rows = sum(e.row_total for e in matching)
        if self.min_rows and rows < self.min_rows:
            return None
        kept_ids = {id(e) for e in matching}
        events = [e for e in txn.events
                  if id(e) in kept_ids or (self.event_types is None and e.op in STRUCTURAL_OPS)]
        return replace(txn, events=events) if len(events) != len(txn.events) else txn

    def _filter_stored(self, txn: Transaction) -> Transaction | None:
        """filter_transaction of events kept on disk: decided from their totals when they hold only rows events
        and structural ones (the result a view that leaves the others out as they are read back), else in one pass
        (the kept events collected, spilling again)."""
        events = txn.events
        if self.event_types is None and not isinstance(events, list) and not events.totals.logged_statement:
            return self._filter_by_totals(txn, events)
        matched = rows = dropped = 0

        def kept() -> Iterator[EventRecord]:
            nonlocal matched, rows, dropped
            for event in events:
                if self.event_matches(event):
                    matched += 1
                    rows += event.row_total
                    yield event
                elif self.event_types is None and event.op in STRUCTURAL_OPS:
                    yield event
                else:
                    dropped += 1

        collected = collect_events(kept())
        if not matched or (self.min_rows and rows < self.min_rows):
            return None
        return replace(txn, events=collected) if dropped else txn

    def _filter_by_totals(self, txn: Transaction, events: StoredEvents) -> Transaction | None:
        """Rows events match by (schema, table, op), the others only when structural (no --event-type, no
        statement in the transaction): what filter_transaction keeps, known from the totals."""
        totals = events.totals
        kept = {key: group for key, group in totals.row_groups.items()
                if (self.ops is None or key[2] in self.ops) and self.table_matches(key[0], key[1])}
        matched = sum(group[0] for group in kept.values())
        rows = sum(group[1] for group in kept.values())
        if not matched or (self.min_rows and rows < self.min_rows):
            return None
        structural = sum(n for op, n in totals.other_ops.items() if op in STRUCTURAL_OPS)
        if len(kept) == len(totals.row_groups) and structural == sum(totals.other_ops.values()):
            return txn
        names = {(f"{schema}.{table}", op) for schema, table, op in kept}
        view = EventTotals(events=matched + structural, rows=rows, row_events=sum(g[2] for g in kept.values()),
                           size=totals.size, counts={k: n for k, n in totals.counts.items() if k in names},
                           row_groups=kept, other_ops={op: n for op, n in totals.other_ops.items()
                                                       if op in STRUCTURAL_OPS},
                           types=set(totals.types),
                           tables=dict.fromkeys(f"{s}.{t}" for s, t, _ in kept if s and t))

        def keep(event: EventRecord) -> EventRecord | None:
            if event.rows or event.op in ROW_OPS:
                return event if (event.schema, event.table, event.op) in kept else None
            return event if event.op in STRUCTURAL_OPS else None

        return replace(txn, events=EventsView(events, keep, totals=view))


def _glob(pattern: str, schema: str | None, table: str | None, qualified: str) -> bool:
    if "." in pattern:
        return fnmatch.fnmatchcase(qualified, pattern)
    return fnmatch.fnmatchcase(table or "", pattern)
