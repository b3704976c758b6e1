"""Render `binlog stats`: totals, per table/op, transaction distributions, largest, DDL timeline, servers."""

from __future__ import annotations

import datetime as dt

from rich.console import Group, RenderableType
from rich.table import Table

from mysqlinspect.binlog.read.stats import BinlogStats, Distribution, TransactionBrief
from mysqlinspect.render.console import clip, human_bytes, show


def _when(ts: int | None) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M:%S") if ts else "-"


def _dist(d: Distribution | None, unit: str) -> str:
    if d is None or d.max is None:
        return "-"
    if unit == "bytes":
        return f"p50 {human_bytes(d.p50)}  p95 {human_bytes(d.p95)}  max {human_bytes(d.max)}"
    return f"p50 {show(d.p50)}  p95 {show(d.p95)}  max {show(d.max)}"


def _briefs(title: str, briefs: list[TransactionBrief]) -> Table:
    table = Table(title=title, title_justify="left")
    for col in ("#", "position", "GTID", "time (UTC)", "duration", "rows", "size", "tables"):
        table.add_column(col, justify="right" if col in ("#", "duration", "rows", "size") else "left")
    for b in briefs:
        table.add_row(str(b.number), f"{b.file}:{b.start_pos}", b.gtid or "-", _when(b.timestamp),
                      f"{b.duration_seconds}s", show(b.rows), human_bytes(b.size_bytes), ", ".join(b.tables))
    return table


def _mode(stats: BinlogStats) -> str:
    if not stats.fast_path:
        return "full decode"
    if not stats.rows_counted:
        return "headers only (no row counts)"
    return "header scan, rows counted from the table maps"


def render_binlog_stats(stats: BinlogStats) -> RenderableType:
    summary = Table(show_header=False, box=None, pad_edge=False, title="Binlog statistics", title_justify="left")
    summary.add_column("key", style="bold", no_wrap=True)
    summary.add_column("value")
    summary.add_row("mode", _mode(stats))
    summary.add_row("period (UTC)", f"{_when(stats.first_timestamp)} .. {_when(stats.last_timestamp)}")
    summary.add_row("transactions", show(stats.transactions))
    summary.add_row("events", show(stats.events))
    summary.add_row("bytes", human_bytes(stats.bytes))
    summary.add_row("rows", show(stats.rows) + (f" (+ {stats.uncounted_row_events:,} row events not countable "
                                                 "without decoding: --decode)" if stats.uncounted_row_events else ""))
    summary.add_row("transaction size", _dist(stats.size_bytes, "bytes"))
    summary.add_row("transaction duration (s)", _dist(stats.duration_seconds, "s"))
    if stats.rows_per_transaction is not None:
        summary.add_row("rows per transaction", _dist(stats.rows_per_transaction, ""))
    if stats.compressed_transactions:
        summary.add_row("compressed transactions", show(stats.compressed_transactions))
    if stats.undecoded_transactions:
        summary.add_row("transactions with undecoded events", show(stats.undecoded_transactions))
    tables = Table(title="Per table and operation", title_justify="left")
    for col in ("table", "op", "rows", "events", "bytes"):
        tables.add_column(col, justify="right" if col in ("rows", "events", "bytes") else "left")
    for t in stats.tables:
        tables.add_row(f"{t.schema}.{t.table}", t.op, show(t.rows), show(t.events), human_bytes(t.bytes))
    parts: list[RenderableType] = [summary, tables, _briefs("Largest transactions", stats.largest)]
    if stats.longest:
        parts.append(_briefs("Longest transactions", stats.longest))
    ddl = Table(title="DDL timeline", title_justify="left")
    for col in ("time (UTC)", "position", "GTID", "statement"):
        ddl.add_column(col)
    for d in stats.ddl:
        ddl.add_row(_when(d.timestamp), f"{d.file}:{d.start_pos}", d.gtid or "-", clip(" ".join(d.query.split())))
    servers = Table(title="Per server id", title_justify="left")
    for col in ("server id", "transactions", "events", "bytes"):
        servers.add_column(col, justify="right")
    for sid, v in sorted(stats.servers.items()):
        servers.add_row(str(sid), show(v["transactions"]), show(v["events"]), human_bytes(v["bytes"]))
    parts += [ddl, servers]
    return Group(*parts)
