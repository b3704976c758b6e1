"""Partial JSON updates (PARTIAL_UPDATE_ROWS_EVENT, binlog_row_value_options=PARTIAL_JSON): apply a column's
diff vector to its before-image document.

Each diff: u8 operation (0 REPLACE, 1 INSERT, 2 REMOVE), packed path length + path text (`$.a."b c"[2]`), then
for REPLACE/INSERT a packed value length + a binary JSON value. Diffs are applied in order, all of them (both
reference decoders stop after the first). An INSERT whose path ends in `[n]` inserts into the array
(JSON_ARRAY_INSERT); into an object it adds the key, kept in MySQL's key order (length, then bytes).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

from mysqlinspect.binlog.decode.library.jsonnull import JSON_NULL
from mysqlinspect.binlog.decode.values.jsonb import parse_document
from mysqlinspect.binlog.model import NOT_LOGGED
from mysqlinspect.binlog.source.packed import packed_int
from mysqlinspect.errors import DataError

REPLACE, INSERT, REMOVE = 0, 1, 2
_TOKEN = re.compile(r'\.(?:"((?:[^"\\]|\\.)*)"|([^.\[]+))|\[(\d+)\]')


@dataclass(frozen=True, slots=True)
class PartialJson:
    """The raw diff vector of a JSON column in a partial after image (applied once the row is read)."""

    raw: bytes


def parse_path(path: str) -> list[str | int]:
    if not path.startswith("$"):
        raise DataError(f"partial JSON update with an unsupported path {path!r}")
    tokens: list[str | int] = []
    pos = 1
    while pos < len(path):
        match = _TOKEN.match(path, pos)
        if match is None:
            raise DataError(f"partial JSON update with an unsupported path {path!r}")
        quoted, plain, index = match.groups()
        if index is not None:
            tokens.append(int(index))
        else:
            tokens.append(json.loads(f'"{quoted}"') if quoted is not None else plain)
        pos = match.end()
    return tokens


def apply_diffs(document: Any, raw: bytes) -> Any:
    if document is NOT_LOGGED or document is None:
        raise DataError("a partial JSON update without the column's before image cannot be decoded")
    doc = None if document is JSON_NULL else copy.deepcopy(document)
    pos = 0
    while pos < len(raw):
        op = raw[pos]
        length, pos = packed_int(raw, pos + 1)
        path = parse_path(raw[pos : pos + length].decode("utf-8"))
        pos += length
        value = None
        if op != REMOVE:
            length, pos = packed_int(raw, pos)
            value = parse_document(raw[pos : pos + length])
            pos += length
        doc = _apply(doc, path, op, value)
    return JSON_NULL if doc is None else doc


def _apply(doc: Any, path: list[str | int], op: int, value: Any) -> Any:
    if not path:
        return value
    parent = doc
    for token in path[:-1]:
        parent = parent[token]
    last = path[-1]
    if op == REMOVE:
        del parent[last]
    elif op == INSERT and isinstance(parent, list):
        parent.insert(last, value)  # type: ignore[arg-type]
    else:
        parent[last] = value
        if op == INSERT and isinstance(parent, dict):
            ordered = sorted(parent.items(), key=lambda kv: (len(kv[0].encode()), kv[0].encode()))
            parent.clear()
            parent.update(ordered)
    return doc
