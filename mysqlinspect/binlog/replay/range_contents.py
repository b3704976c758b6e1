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

import pymysql

from mysqlinspect.binlog.decode.payload import payload_events
from mysqlinspect.binlog.decode.tablemap import parse_table_map
from mysqlinspect.binlog.position import BinlogPosition
from mysqlinspect.binlog.read.filters import EventFilter
from mysqlinspect.binlog.read.range import ResolvedRange
from mysqlinspect.binlog.source import rawdump
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


@dataclass
class RangeContents:
    tables: dict[tuple[str, str], bytes] = field(default_factory=dict)  # (schema, table) -> column type codes
    created_triggers: list[str] = field(default_factory=list)  # names in CREATE TRIGGER statements of the range
    trigger_tables: dict[str, tuple[str, str] | None] = field(default_factory=dict)  # created trigger -> its table
    sql_tables: set[tuple[str, str]] = field(default_factory=set)  # tables changed inside compressed payloads:
    # the events mode applies those transactions as SQL
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
    start = order.get(rng.start.file, -1), rng.start.pos
    events = (e for e in source if (order.get(e.file, -1), e.start_pos) >= start)
    return range_contents(events, rng, event_filter)


def range_contents(events: Iterable[rawdump.RawEvent], rng: ResolvedRange, event_filter: EventFilter
                   ) -> RangeContents:
    contents = RangeContents()
    stop = rng.stop.position
    for event in events:
        if stop is not None and BinlogPosition(event.file, event.start_pos) >= stop:
            break
        if event.type_code == rawdump.TABLE_MAP_EVENT:
            _add_table(contents, event.body, event_filter, False)
        elif event.type_code == rawdump.TRANSACTION_PAYLOAD_EVENT:
            for inner in payload_events(event.body):
                if inner[4] == rawdump.TABLE_MAP_EVENT:
                    _add_table(contents, bytes(inner[rawdump.HEADER_LEN :]), event_filter, True)
        elif event.type_code == rawdump.QUERY_EVENT:
            schema, text = rawdump.query_text(event.body)
            trigger = created_trigger(text)
            if trigger:
                contents.created_triggers.append(trigger)
                contents.trigger_tables[trigger] = created_trigger_table(text, schema)
            contents.collations.update(name.lower() for name in COLLATION.findall(text))
    return contents


def _add_table(contents: RangeContents, body: bytes, event_filter: EventFilter, compressed: bool) -> None:
    schema, table, types = _table_map(body)
    if not event_filter.table_matches(schema, table):
        return
    contents.tables[(schema, table)] = types
    if compressed:
        contents.sql_tables.add((schema, table))
    if (schema, table) not in contents.unnamed and not parse_table_map(body).has_names:
        contents.unnamed.add((schema, table))


def triggers_on(conn: pymysql.connections.Connection, tables: Iterable[tuple[str, str]]) -> list[str]:
    """`schema.table: trigger (timing event)` for every trigger defined on `tables` on this server."""
    wanted = sorted(set(tables))
    if not wanted:
        return []
    found: list[str] = []
    with conn.cursor() as cur:
        for start in range(0, len(wanted), 200):
            part = wanted[start : start + 200]
            where = " OR ".join(["(EVENT_OBJECT_SCHEMA = %s AND EVENT_OBJECT_TABLE = %s)"] * len(part))
            cur.execute("SELECT EVENT_OBJECT_SCHEMA, EVENT_OBJECT_TABLE, TRIGGER_NAME, ACTION_TIMING, "
                        f"EVENT_MANIPULATION FROM information_schema.TRIGGERS WHERE {where} ORDER BY 1, 2, 3",
                        [v for pair in part for v in pair])
            found += [f"{r[0]}.{r[1]}: {r[2]} ({r[3]} {r[4]})" for r in cur.fetchall()]
    return found


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
    wanted = sorted(set(tables))
    found: list[str] = []
    with conn.cursor() as cur:
        for start in range(0, len(wanted), 200):
            part = wanted[start : start + 200]
            where = " OR ".join(["(TABLE_SCHEMA = %s AND TABLE_NAME = %s)"] * len(part))
            cur.execute(f"SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = "
                        f"'SYSTEM VERSIONED' AND ({where}) ORDER BY 1, 2", [v for pair in part for v in pair])
            found += [f"{r[0]}.{r[1]}" for r in cur.fetchall()]
    return found
