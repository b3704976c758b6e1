"""`binlog tail --format jsonl` as bytes, fast: the lines of binlog_json encoded with orjson (C).

Same lines, keys and key order as render.binlog_json, same value rendering as decode.values.json_value: orjson
writes str/int/float/bool/None/dict/list and naive datetimes and dates (ISO 8601, as isoformat) natively, UTC
timestamps with "Z" (OPT_UTC_Z); Decimal, bytes, time, sets, NOT_LOGGED and JSON_NULL go through json_default. The
part of a row line that does not change within a rows event (kind ... op) is encoded once per event. A line
orjson cannot encode (an integer beyond 64 bits, a str with lone surrogates) is encoded by the standard library.
"""

from __future__ import annotations

import decimal
import json
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from mysqlinspect.binlog.decode.values.convert import json_default
from mysqlinspect.binlog.model import EventRecord, RowChange, Transaction
from mysqlinspect.render.binlog.json import STATEMENT_OPS, event_lines, line_base, row_lines, transaction_summary

_OPTIONS = orjson.OPT_UTC_Z
_STDLIB = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=json_default)
_dumps = orjson.dumps
_DECIMAL = decimal.Decimal
_BY_TYPE: dict[type, Callable[[Any], Any]] = {decimal.Decimal: lambda v: format(v, "f"),
                                             bytes: lambda v: "0x" + v.hex()}


def _default(value: Any) -> Any:
    """orjson's default: the usual non-native model values by their type (DECIMAL first, the usual one), then
    values.json_default (same text)."""
    if type(value) is _DECIMAL:
        return format(value, "f")
    convert = _BY_TYPE.get(type(value))
    return convert(value) if convert is not None else json_default(value)


def encode_line(line: dict[str, Any]) -> bytes:
    """One JSON line (no newline) of model values."""
    try:
        return _dumps(line, default=_default, option=_OPTIONS)
    except (orjson.JSONEncodeError, TypeError):
        return _STDLIB.encode(line).encode("utf-8", "surrogateescape")


def transaction_jsonl(txn: Transaction, all_events: bool, with_summary: bool = True) -> bytes:
    """All lines of one transaction, each ending in a newline (b"" when it has none)."""
    return b"".join(transaction_jsonl_parts(txn, all_events, with_summary))


def transaction_jsonl_parts(txn: Transaction, all_events: bool, with_summary: bool = True,
                            block: int = 1 << 18) -> Iterator[bytes]:
    """transaction_jsonl in blocks of about `block` bytes (whole lines), so a large transaction (its events read
    back from disk) is written as it is rendered; a small one is one block."""
    parts: list[bytes] = []
    size = 0
    for ev in txn.events:
        if ev.rows:
            lines = _row_lines(ev)
        elif all_events or (ev.event_type == "QueryEvent" and ev.op in STATEMENT_OPS):  # else event_lines is []
            lines = [encode_line(line) for line in event_lines(ev, all_events, encode=False)]
        else:
            continue
        if not lines:
            continue
        lines.append(b"")
        joined = b"\n".join(lines)
        parts.append(joined)
        size += len(joined)
        if size >= block:
            yield b"".join(parts)
            parts, size = [], 0
    if with_summary:
        parts.append(encode_line(transaction_summary(txn)) + b"\n")
    if parts:
        yield b"".join(parts)


def _row_lines(ev: EventRecord) -> list[bytes]:
    first = ev.rows[0]
    if len(ev.rows) == 1:  # one encoding of the whole line (the same bytes as the shared head + the row's part)
        return [encode_line({**line_base("row", ev), "schema": first.schema, "table": first.table, "op": first.op,
                             **_row_part(first)})]
    head = encode_line({**line_base("row", ev), "schema": first.schema, "table": first.table, "op": first.op})
    if head[-1:] != b"}":
        return [encode_line(line) for line in row_lines(ev, encode=False)]
    head = head[:-1] + b","
    out = []
    dumps, default, options = _dumps, _default, _OPTIONS
    for row in ev.rows:
        tail = _row_part(row)
        try:
            if row.schema != first.schema or row.table != first.table or row.op != first.op:
                raise TypeError("a row of another table or operation")
            out.append(head + dumps(tail, default=default, option=options)[1:])
        except (orjson.JSONEncodeError, TypeError):
            line = {**line_base("row", ev), "schema": row.schema, "table": row.table, "op": row.op, **tail}
            out.append(encode_line(line))
    return out


def _row_part(row: RowChange) -> dict[str, Any]:
    """The keys of a row line after `op`, model values left for the encoder."""
    image = row.before if row.before is not None else row.after
    pk = row.primary_key
    if image is None or not pk:
        key = None
    elif len(pk) == 1:  # the usual key
        key = {pk[0]: image.get(pk[0])}
    else:
        key = {col: image.get(col) for col in pk}
    part: dict[str, Any] = {"primary_key": key, "before": row.before, "after": row.after}
    if not row.names_from_metadata:
        part["names_from_current_definition"] = True
    return part
