"""What a replay range touches, read before anything is written: the tables of its row events (from the Table_map
events, with their column type codes), and the triggers it creates. A raw read of the range (no row decoding),
so the replay can refuse up front what it cannot reproduce: triggers that SQL would fire again, types that do not
exist on a target of the other flavor.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymysql

from mysqlinspect.binlog.decode.payload import payload_events
from mysqlinspect.binlog.decode.tablemap import parse_table_map
from mysqlinspect.binlog.position import BinlogPosition
from mysqlinspect.binlog.read.filters import EventFilter
from mysqlinspect.binlog.read.range import ResolvedRange
from mysqlinspect.binlog.source import rawdump
from mysqlinspect.binlog.source.compressed import COMPRESSED_QUERY
from mysqlinspect.binlog.source.files import display_name
from mysqlinspect.binlog.source.local import LocalBinlogSource
from mysqlinspect.connection.settings import ConnectionSettings

COLLATION = re.compile(r"\bCOLLATE\s*=?\s*['\"`]?(\w+)", re.IGNORECASE)
_DEFINER_PART = r"(?:`(?:[^`]|``)*`|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|[^\s@`'\"]+)"  # quoted names may hold spaces
CREATE_TRIGGER = re.compile(r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?"
                            rf"(?:DEFINER\s*=\s*{_DEFINER_PART}(?:\s*@\s*{_DEFINER_PART})?\s+)?"
                            r"TRIGGER\s+(?:IF\s+NOT\s+EXISTS\s+)?(\S+)", re.IGNORECASE)
VERSION_COMMENT = re.compile(r"/\*!\d*|\*/")
IDENTIFIER = r'(?:`(?:[^`]|``)+`|"(?:[^"]|"")+"|[\w$]+)'
TRIGGER_TABLE = re.compile(rf"\s+(?:BEFORE|AFTER)\s+(?:INSERT|UPDATE|DELETE)\s+ON\s+({IDENTIFIER})"
                           rf"(?:\s*\.\s*({IDENTIFIER}))?", re.IGNORECASE)


def created_trigger(text: str) -> str | None:
    """The trigger a CREATE TRIGGER statement creates (mysqldump's versioned-comment form too), else None."""
    match = CREATE_TRIGGER.match(VERSION_COMMENT.sub(" ", text))
    return match.group(1).replace("`", "") if match else None


def _unquote(name: str) -> str:
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "`\"":
        return name[1:-1].replace(name[0] * 2, name[0])
    return name


def created_trigger_table(text: str, default_schema: str) -> tuple[str, str] | None:
    """(schema, table) a CREATE TRIGGER statement puts its trigger on, or None when it cannot be read."""
    plain = VERSION_COMMENT.sub(" ", text)
    match = CREATE_TRIGGER.match(plain)
    if not match:
        return None
    table = TRIGGER_TABLE.match(plain, match.end())
    if not table:
        return None
    if table.group(2):
        return _unquote(table.group(1)), _unquote(table.group(2))
    return default_schema, _unquote(table.group(1))
VECTOR_TYPE = 242  # MySQL 9 VECTOR: no such type on a MariaDB 10.x/11.x target before 11.7
# MariaDB's own data types (information_schema.COLUMNS.DATA_TYPE), which MySQL does not have; the binlog logs them as
# plain binary strings (BINARY(16), BINARY(4)), so only the source's definitions tell them apart.
MARIADB_ONLY_TYPES = ("uuid", "inet6", "inet4")


@dataclass
class RangeContents:
    tables: dict[tuple[str, str], bytes] = field(default_factory=dict)  # (schema, table) -> column type codes
    created_triggers: list[str] = field(default_factory=list)  # names in CREATE TRIGGER statements of the range
    trigger_tables: dict[str, tuple[str, str] | None] = field(default_factory=dict)  # created trigger -> its table
    collations: set[str] = field(default_factory=set)  # named in COLLATE clauses of the range's statements (DDL)
    unnamed: set[tuple[str, str]] = field(default_factory=set)  # logged without column names (no FULL metadata)

    def refiring_created_triggers(self) -> list[str]:
        """Triggers created in the range on tables its row events change (or on a table that cannot be read from
        the statement): those fire when the range's rows are applied as SQL after their CREATE TRIGGER."""
        return [name for name in self.created_triggers
                if self.trigger_tables.get(name) is None or self.trigger_tables[name] in self.tables]

    def columns_of_type(self, type_code: int) -> list[str]:
        return [f"{schema}.{table}" for (schema, table), types in sorted(self.tables.items()) if type_code in types]


def _table_map(body: bytes) -> tuple[str, str, bytes]:
    _, schema, table = rawdump.table_map_names(body)
    pos = 8 + 1 + body[8] + 1
    pos += 1 + body[pos] + 1
    count = body[pos]  # packed int; a table has at most 4096 columns
    if count >= 251:
        count, pos = int.from_bytes(body[pos + 1 : pos + 3], "little"), pos + 3
    else:
        pos += 1
    return schema, table, bytes(body[pos : pos + count])


def read_range_contents(settings: ConnectionSettings, rng: ResolvedRange, event_filter: EventFilter,
                        server_id: int | None = None) -> RangeContents:
    """One raw pass over the range (to its stop position, or the end of the log), from the server."""
    return range_contents(rawdump.RawDump(settings, rng.start, server_id=server_id), rng, event_filter)


def read_file_range_contents(paths: Sequence[str | Path], rng: ResolvedRange, event_filter: EventFilter,
                             verify_checksum: bool = True) -> RangeContents:
    """The same pass over local binlog files (events before the range's start are skipped)."""
    source = LocalBinlogSource(paths, verify_checksum=verify_checksum)
    order = {display_name(p): i for i, p in enumerate(source.files)}
    first = order.get(rng.start.file, -1)

    def keep_from(name: str) -> int:
        """Where the range starts in this file (a file before its start: nothing)."""
        at = order.get(name, -1)
        return 4 if at > first else rng.start.pos if at == first else 1 << 62

    wanted = frozenset({rawdump.TABLE_MAP_EVENT, rawdump.TRANSACTION_PAYLOAD_EVENT, rawdump.QUERY_EVENT,
                        COMPRESSED_QUERY})
    return range_contents(source.of_types(wanted, keep_from), rng, event_filter)


def range_contents(events: Iterable[rawdump.RawEvent], rng: ResolvedRange, event_filter: EventFilter
                   ) -> RangeContents:
    contents = RangeContents()
    stop = rng.stop.position
    parsed: dict[bytes, _MapNames] = {}  # a table's Table_map body repeats in every transaction: parsed once
    for event in events:
        if stop is not None and BinlogPosition(event.file, event.start_pos) >= stop:
            break
        if event.type_code == rawdump.TABLE_MAP_EVENT:
            _add_table(contents, event.body, event_filter, parsed)
        elif event.type_code == rawdump.TRANSACTION_PAYLOAD_EVENT:
            for inner in payload_events(event.body):
                if inner[4] == rawdump.TABLE_MAP_EVENT:
                    _add_table(contents, bytes(inner[rawdump.HEADER_LEN :]), event_filter, parsed)
        elif event.type_code in (rawdump.QUERY_EVENT, COMPRESSED_QUERY):
            if event.type_code == rawdump.QUERY_EVENT and _is_begin(event.body):
                continue
            schema, text = rawdump.query_text(event.body, compressed=event.type_code == COMPRESSED_QUERY)
            trigger = created_trigger(text)
            if trigger:
                contents.created_triggers.append(trigger)
                contents.trigger_tables[trigger] = created_trigger_table(text, schema)
            contents.collations.update(name.lower() for name in COLLATION.findall(text))
    return contents


def _is_begin(body: bytes) -> bool:
    """A Query event whose text is exactly BEGIN (one per transaction): nothing to note, no text to decode."""
    return body.endswith(b"BEGIN") and len(body) == 13 + int.from_bytes(body[11:13], "little") + body[8] + 1 + 5


_MapNames = tuple[str, str, bytes, bool]  # schema, table, column type codes, logged with column names


def _map_names(body: bytes, parsed: dict[bytes, _MapNames]) -> _MapNames:
    known = parsed.get(body)
    if known is None:
        schema, table, types = _table_map(body)
        known = parsed[body] = (schema, table, types, parse_table_map(body).has_names)
    return known


def _add_table(contents: RangeContents, body: bytes, event_filter: EventFilter, parsed: dict[bytes, _MapNames]
               ) -> None:
    schema, table, types, named = _map_names(body, parsed)
    if not event_filter.table_matches(schema, table):
        return
    contents.tables[(schema, table)] = types
    if not named:
        contents.unnamed.add((schema, table))


def _rows_of_tables(conn: pymysql.connections.Connection, tables: Iterable[tuple[str, str]], query: str,
                   schema_col: str, table_col: str, params: Sequence[str] = ()) -> list[tuple[Any, ...]]:
    """Rows of an information_schema `query` whose `{where}` is put in as "(schema_col, table_col) is one of
    `tables`" (200 tables per statement); `params` are the query's own placeholders before it."""
    wanted = sorted(set(tables))
    rows: list[tuple[Any, ...]] = []
    with conn.cursor() as cur:
        for start in range(0, len(wanted), 200):
            part = wanted[start : start + 200]
            where = " OR ".join([f"({schema_col} = %s AND {table_col} = %s)"] * len(part))
            cur.execute(query.format(where=where), [*params, *(v for pair in part for v in pair)])
            rows += cur.fetchall()
    return rows


def triggers_on(conn: pymysql.connections.Connection, tables: Iterable[tuple[str, str]]) -> list[str]:
    """`schema.table: trigger (timing event)` for every trigger defined on `tables` on this server."""
    rows = _rows_of_tables(conn, tables, "SELECT EVENT_OBJECT_SCHEMA, EVENT_OBJECT_TABLE, TRIGGER_NAME, ACTION_TIMING, "
                           "EVENT_MANIPULATION FROM information_schema.TRIGGERS WHERE {where} ORDER BY 1, 2, 3",
                           "EVENT_OBJECT_SCHEMA", "EVENT_OBJECT_TABLE")
    return [f"{r[0]}.{r[1]}: {r[2]} ({r[3]} {r[4]})" for r in rows]


def missing_collations(conn: pymysql.connections.Connection, names: Iterable[str]) -> list[str]:
    """The collations among `names` this server does not know (the range's DDL would fail on it)."""
    wanted = sorted(set(names))
    if not wanted:
        return []
    with conn.cursor() as cur:
        cur.execute("SELECT LOWER(COLLATION_NAME) FROM information_schema.COLLATIONS WHERE LOWER(COLLATION_NAME) IN ("
                    + ", ".join(["%s"] * len(wanted)) + ")", wanted)
        known = {str(r[0]) for r in cur.fetchall()}
    return [n for n in wanted if n not in known]


def system_versioned(conn: pymysql.connections.Connection, tables: Iterable[tuple[str, str]]) -> list[str]:
    """`schema.table` of the MariaDB system-versioned tables among `tables` on this server (none on MySQL). Their
    row images carry row_start/row_end, which SQL cannot assign, and the history rows the source logged would be
    made again by the target's own versioning: only row events reproduce them."""
    rows = _rows_of_tables(conn, tables, "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE "
                           "TABLE_TYPE = 'SYSTEM VERSIONED' AND ({where}) ORDER BY 1, 2", "TABLE_SCHEMA", "TABLE_NAME")
    return [f"{r[0]}.{r[1]}" for r in rows]


def columns_of_data_types(conn: pymysql.connections.Connection, tables: Iterable[tuple[str, str]],
                          data_types: Iterable[str]) -> list[str]:
    """`schema.table.column TYPE` of the columns of `tables` on this server whose DATA_TYPE is one of
    `data_types`."""
    types = sorted(set(data_types))
    rows = _rows_of_tables(conn, tables, "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, DATA_TYPE FROM "
                           f"information_schema.COLUMNS WHERE LOWER(DATA_TYPE) IN ({', '.join(['%s'] * len(types))}) "
                           "AND ({where}) ORDER BY 1, 2, ORDINAL_POSITION", "TABLE_SCHEMA", "TABLE_NAME", types)
    return [f"{r[0]}.{r[1]}.{r[2]} {str(r[3]).upper()}" for r in rows]
