"""`binlog stats`: per table/op counts, transaction size and duration distributions, largest transactions, DDL
timeline, events per server id. Works on decoded transactions, header scans with rows counted from the
Table_map's column types (no value decoding), or header-only ones (rows None)."""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mysqlinspect.binlog.model import Transaction
from mysqlinspect.binlog.read.filters import ddl_table

ROW_OPS = ("insert", "update", "delete")


@dataclass
class TableOpStats:
    schema: str
    table: str
    op: str
    rows: int | None
    events: int
    bytes: int


@dataclass
class TransactionBrief:
    number: int
    file: str
    start_pos: int
    end_pos: int
    gtid: str | None
    timestamp: int
    duration_seconds: int
    rows: int | None
    size_bytes: int
    tables: list[str]


@dataclass
class DdlEntry:
    file: str
    start_pos: int
    timestamp: int
    gtid: str | None
    schema: str | None
    table: str | None
    query: str


@dataclass
class Distribution:
    p50: float | None
    p95: float | None
    max: float | None
    mean: float | None

    @classmethod
    def of(cls, values: list[int]) -> Distribution:
        if not values:
            return cls(None, None, None, None)
        ordered = sorted(values)
        return cls(p50=percentile(ordered, 50), p95=percentile(ordered, 95), max=float(ordered[-1]),
                   mean=sum(ordered) / len(ordered))


def percentile(ordered: list[int], pct: float) -> float:
    """Nearest-rank percentile of sorted values."""
    if not ordered:
        return 0.0
    rank = max(1, -(-len(ordered) * pct // 100))
    return float(ordered[int(rank) - 1])


@dataclass
class BinlogStats:
    fast_path: bool
    range: dict[str, Any]
    transactions: int = 0
    events: int = 0
    bytes: int = 0
    rows: int | None = 0
    first_timestamp: int | None = None
    last_timestamp: int | None = None
    tables: list[TableOpStats] = field(default_factory=list)
    size_bytes: Distribution | None = None
    duration_seconds: Distribution | None = None
    rows_per_transaction: Distribution | None = None
    largest: list[TransactionBrief] = field(default_factory=list)
    longest: list[TransactionBrief] = field(default_factory=list)
    ddl: list[DdlEntry] = field(default_factory=list)
    servers: dict[int, dict[str, int]] = field(default_factory=dict)
    event_types: dict[str, int] = field(default_factory=dict)
    compressed_transactions: int = 0
    undecoded_transactions: int = 0
    rows_counted: bool = True  # False on the header-only path (--headers-only): every row count is null
    uncounted_row_events: int = 0  # row events whose rows the header scan could not count (compressed, unknown type)


class StatsAccumulator:
    """Feed transactions with add(); build() gives BinlogStats."""

    def __init__(self, fast_path: bool, top: int = 10, rows_counted: bool | None = None) -> None:
        self.fast_path = fast_path
        self.rows_counted = not fast_path if rows_counted is None else rows_counted
        self.top = top
        self.stats = BinlogStats(fast_path=fast_path, range={}, rows=0 if self.rows_counted else None,
                                 rows_counted=self.rows_counted)
        self._per_table: dict[tuple[str, str, str], list[int]] = {}
        self._sizes: list[int] = []
        self._durations: list[int] = []
        self._rows: list[int] = []
        self._largest: list[tuple[int, int, TransactionBrief]] = []
        self._longest: list[tuple[int, int, TransactionBrief]] = []

    def add_all(self, txns: Iterable[Transaction]) -> None:
        for txn in txns:
            self.add(txn)

    def add(self, txn: Transaction) -> None:
        s = self.stats
        rows = txn.row_count if self.rows_counted else None
        self.add_totals(txn.number, txn.file, txn.start_pos, txn.end_pos, txn.gtid, txn.timestamp,
                        txn.end_timestamp, txn.size_bytes, len(txn.events), rows, txn.tables, txn.compressed)
        types = s.event_types
        per_table = self._per_table
        main_server = txn.server_id
        other_servers = False
        undecoded = False
        for ev in txn.events:
            name = ev.event_type
            types[name] = types.get(name, 0) + 1
            if ev.server_id != main_server:
                other_servers = True
            if not ev.decoded:
                undecoded = True
            op = ev.op
            if op in ROW_OPS:
                if self.rows_counted and self.fast_path and ev.counted_rows is None:
                    s.uncounted_row_events += 1
                key = (ev.schema or "?", ev.table or "?", op)
                acc = per_table.get(key)
                if acc is None:
                    acc = per_table[key] = [0, 0, 0]
                acc[0] += ev.row_total
                acc[1] += 1
                acc[2] += ev.size
            elif op == "ddl" and ev.query:
                schema, table = ddl_table(ev.query, ev.schema)
                s.ddl.append(DdlEntry(file=ev.file, start_pos=ev.start_pos, timestamp=ev.timestamp,
                                      gtid=txn.gtid, schema=schema, table=table, query=ev.query))
        s.undecoded_transactions += undecoded
        self._count_servers(txn, other_servers)

    def add_totals(self, number: int, file: str, start_pos: int, end_pos: int, gtid: str | None, timestamp: int,
                   end_timestamp: int, size: int, events: int, rows: int | None, tables: list[str],
                   compressed: bool) -> None:
        """The per-transaction part of add() (the header-only scanner calls it directly)."""
        s = self.stats
        s.transactions += 1
        s.bytes += size
        s.events += events
        if s.first_timestamp is None or timestamp < s.first_timestamp:
            s.first_timestamp = timestamp
        if s.last_timestamp is None or end_timestamp > s.last_timestamp:
            s.last_timestamp = end_timestamp
        if rows is not None and s.rows is not None:
            s.rows += rows
            self._rows.append(rows)
        duration = end_timestamp - timestamp if end_timestamp > timestamp else 0
        self._sizes.append(size)
        self._durations.append(duration)
        s.compressed_transactions += compressed
        top = self.top
        if len(self._largest) >= top and size <= self._largest[0][0] and \
                len(self._longest) >= top and duration <= self._longest[0][0]:
            return
        brief = TransactionBrief(number=number, file=file, start_pos=start_pos, end_pos=end_pos, gtid=gtid,
                                 timestamp=timestamp, duration_seconds=duration, rows=rows, size_bytes=size,
                                 tables=list(tables))
        for heap, value in ((self._largest, size), (self._longest, duration)):
            item = (value, -number, brief)
            if len(heap) < top:
                heapq.heappush(heap, item)
            elif value > heap[0][0]:
                heapq.heapreplace(heap, item)

    def _count_servers(self, txn: Transaction, mixed: bool) -> None:
        servers = self.stats.servers
        main = servers.get(txn.server_id)
        if main is None:
            main = servers[txn.server_id] = {"events": 0, "bytes": 0, "transactions": 0}
        main["transactions"] += 1
        if not mixed:
            main["events"] += len(txn.events)
            main["bytes"] += sum(e.size for e in txn.events)
            return
        for ev in txn.events:
            server = servers.setdefault(ev.server_id, {"events": 0, "bytes": 0, "transactions": 0})
            server["events"] += 1
            server["bytes"] += ev.size

    def build(self, range_info: dict[str, Any]) -> BinlogStats:
        s = self.stats
        s.range = range_info
        s.tables = [TableOpStats(schema=k[0], table=k[1], op=k[2], rows=v[0] if self.rows_counted else None,
                                 events=v[1], bytes=v[2])
                    for k, v in sorted(self._per_table.items(), key=lambda kv: (-kv[1][2], kv[0]))]
        s.size_bytes = Distribution.of(self._sizes)
        s.duration_seconds = Distribution.of(self._durations)
        s.rows_per_transaction = Distribution.of(self._rows) if self.rows_counted else None
        s.largest = [b for _, _, b in sorted(self._largest, key=lambda t: (-t[0], -t[1]))]
        s.longest = [b for v, _, b in sorted(self._longest, key=lambda t: (-t[0], -t[1])) if v > 0]
        return s
