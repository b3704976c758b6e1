"""The JSON shapes of `binlog tail`: one dict per row change / DDL / selected event, and per transaction.

Row line keys (stable): kind, file, start_pos, end_pos, timestamp, server_id, gtid, xid, transaction_no, schema,
table, op, primary_key, before, after. DDL and statement lines add `query`; transaction lines add end_file,
size_bytes, rows, tables, events, duration_seconds, compressed, undecoded_events.
"""

from __future__ import annotations

from typing import Any

from mysqlinspect.binlog.decode.values.convert import json_row, json_value
from mysqlinspect.binlog.model import EventRecord, RowChange, Transaction
from mysqlinspect.binlog.read.filters import ddl_table

STATEMENT_OPS = ("ddl", "other")  # Query events shown as a line of their own (DDL, a statement)


def line_base(kind: str, ev: EventRecord) -> dict[str, Any]:
    return {"kind": kind, "file": ev.file, "start_pos": ev.start_pos, "end_pos": ev.end_pos,
            "timestamp": ev.timestamp, "server_id": ev.server_id, "gtid": ev.gtid, "xid": ev.xid,
            "transaction_no": ev.transaction_no}


def primary_key_values(row: RowChange) -> dict[str, Any] | None:
    if not row.primary_key:
        return None
    image = row.before if row.before is not None else row.after
    if image is None:
        return None
    return {col: json_value(image.get(col)) for col in row.primary_key}


def row_lines(ev: EventRecord, encode: bool = True) -> list[dict[str, Any]]:
    """Row lines; encode=False leaves model values in place for json.dumps(default=json_default)."""
    out = []
    for row in ev.rows:
        line = line_base("row", ev)
        line.update({"schema": row.schema, "table": row.table, "op": row.op,
                     "primary_key": primary_key_values(row),
                     "before": json_row(row.before) if encode else row.before,
                     "after": json_row(row.after) if encode else row.after})
        if not row.names_from_metadata:
            line["names_from_current_definition"] = True
        out.append(line)
    return out


def event_lines(ev: EventRecord, all_events: bool, encode: bool = True) -> list[dict[str, Any]]:
    """Lines for one event: rows, a DDL/statement, or (when event types were selected) the event itself."""
    if ev.rows:
        return row_lines(ev, encode)
    if ev.event_type == "QueryEvent" and ev.op in STATEMENT_OPS:
        schema, table = ddl_table(ev.query or "", ev.schema)
        line = line_base("ddl" if ev.op == "ddl" else "statement", ev)
        line.update({"schema": schema, "table": table, "op": ev.op, "primary_key": None, "before": None,
                     "after": None, "query": ev.query})
        return [line]
    if all_events:
        line = line_base("event", ev)
        line.update({"schema": ev.schema, "table": ev.table, "op": ev.op, "primary_key": None, "before": None,
                     "after": None, "event_type": ev.event_type, "query": ev.query})
        return [line]
    return []


def transaction_summary(txn: Transaction) -> dict[str, Any]:
    undecoded = txn.undecoded_types
    return {"kind": "transaction", "file": txn.file, "start_pos": txn.start_pos, "end_pos": txn.end_pos,
            "end_file": txn.end_file, "timestamp": txn.timestamp, "server_id": txn.server_id, "gtid": txn.gtid,
            "xid": txn.xid, "transaction_no": txn.number, "size_bytes": txn.size_bytes, "rows": txn.row_count,
            "tables": txn.tables, "events": len(txn.events),
            "duration_seconds": max(txn.end_timestamp - txn.timestamp, 0), "compressed": txn.compressed,
            "ddl": txn.is_ddl, "undecoded_events": undecoded}


def transaction_lines(txn: Transaction, all_events: bool, with_summary: bool = True,
                      encode: bool = True) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for ev in txn.events:
        lines.extend(event_lines(ev, all_events, encode))
    if with_summary:
        lines.append(transaction_summary(txn))
    return lines


def transaction_document(txn: Transaction, all_events: bool) -> dict[str, Any]:
    doc = transaction_summary(txn)
    doc.pop("kind")
    doc["changes"] = transaction_lines(txn, all_events, with_summary=False)
    return doc
