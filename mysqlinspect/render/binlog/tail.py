"""The human view of `binlog tail`: one block per transaction, rows with column names and SQL-ish values."""

from __future__ import annotations

import datetime as dt

from rich.console import Group, RenderableType
from rich.text import Text

from mysqlinspect.binlog.decode.values.convert import display_value
from mysqlinspect.binlog.model import EventRecord, RowChange, Transaction
from mysqlinspect.binlog.read.filters import ddl_table
from mysqlinspect.render.console import human_bytes

OP_STYLES = {"insert": "green", "update": "yellow", "delete": "red", "ddl": "magenta", "other": "cyan"}


def _utc(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def transaction_header(txn: Transaction) -> Text:
    text = Text()
    text.append(f"#{txn.number} ", style="bold")
    text.append(f"{txn.gtid or 'no GTID'} ", style="bold cyan")
    text.append(f"{txn.file}:{txn.start_pos}-{txn.end_pos}  {_utc(txn.timestamp)}  server {txn.server_id}  ")
    rows = txn.row_count
    text.append(f"{human_bytes(txn.size_bytes)}, {rows} row{'s' if rows != 1 else ''}")
    if txn.tables:
        text.append(f"  {', '.join(txn.tables)}", style="dim")
    if txn.compressed:
        text.append("  [compressed]", style="magenta")
    undecoded = txn.undecoded_types
    if undecoded:
        text.append(f"  [not decoded: {', '.join(undecoded)}]", style="bold red")
    return text


def _row(row: RowChange, ev: EventRecord) -> list[Text]:
    types = {c.name: c.type_name for c in row.columns}
    head = Text("  ")
    head.append(row.op.upper(), style=OP_STYLES.get(row.op, ""))
    head.append(f" {row.schema}.{row.table}")
    image = row.before if row.before is not None else row.after
    if row.primary_key and image is not None:
        key = ", ".join(f"{c}={display_value(image.get(c), types.get(c, ''))}" for c in row.primary_key)
        head.append(f"  ({key})", style="dim")
    head.append(f"  @{ev.start_pos}", style="dim")
    if not row.names_from_metadata:
        head.append("  [column names from the current definition]", style="yellow")
    lines = [head]
    if row.op == "update" and row.before is not None and row.after is not None:
        for name, old in row.before.items():
            new = row.after.get(name)
            if new != old or type(new) is not type(old):
                lines.append(Text(f"      {name}: {display_value(old, types.get(name, ''))} -> "
                                  f"{display_value(new, types.get(name, ''))}"))
        return lines
    for name, value in (image or {}).items():
        lines.append(Text(f"      {name}: {display_value(value, types.get(name, ''))}"))
    return lines


def render_transaction(txn: Transaction, all_events: bool = False) -> RenderableType:
    parts: list[RenderableType] = [transaction_header(txn)]
    for ev in txn.events:
        if ev.rows:
            for row in ev.rows:
                parts.extend(_row(row, ev))
        elif ev.event_type == "QueryEvent" and ev.op in ("ddl", "other"):
            line = Text("  ")
            line.append("DDL" if ev.op == "ddl" else "STATEMENT", style=OP_STYLES.get(ev.op or "", ""))
            schema = ddl_table(ev.query or "", ev.schema)[0]  # the schema the JSON line names, too
            line.append(f" [{schema or '-'}] {ev.query}")
            parts.append(line)
        elif all_events or not ev.decoded:
            parts.append(Text(f"  {ev.event_type} @{ev.start_pos}-{ev.end_pos}", style="dim"))
    return Group(*parts)
