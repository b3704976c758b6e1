"""Reference harness for the replay exactness tests: the servers' own tools (`mysqlbinlog | mysql` of the MySQL 9.7
tree, `mariadb-binlog | mariadb`) applied to a fresh target, and full dumps of a database to compare targets:
ordered rows of every table (invisible columns selected by name) plus the definitions of the database, tables,
views, triggers, routines and events."""

from __future__ import annotations

import difflib
import re
import subprocess
from dataclasses import dataclass, field
from typing import Any

from tests.live.replay_support import binlog_files_between

SPATIAL_TYPES = frozenset({"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
                           "multipolygon", "geometrycollection", "geomcollection"})
AUTO_INCREMENT_COUNTER = re.compile(r" AUTO_INCREMENT=\d+")


@dataclass
class Dump:
    """rows: table -> sorted rows (each value as the server returns it); definitions: kind:name -> text."""

    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    definitions: dict[str, str] = field(default_factory=dict)

    def without(self, tables: frozenset[str] = frozenset(), definitions: frozenset[str] = frozenset()) -> Dump:
        return Dump({t: r for t, r in self.rows.items() if t not in tables},
                    {k: v for k, v in self.definitions.items() if k not in definitions})


def _column_expression(name: str, data_type: str) -> str:
    if data_type in SPATIAL_TYPES:
        return f"HEX(`{name}`)"  # internal format: the SRID and the WKB
    if data_type in ("float", "double"):
        return f"CAST(`{name}` AS CHAR)"
    return f"`{name}`"


def table_rows(cur: Any, db: str, table: str) -> list[tuple[Any, ...]]:
    """Every column by name (INVISIBLE ones and a generated invisible primary key included), sorted in Python so
    that case-insensitive collations cannot make the order ambiguous."""
    cur.execute("SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
                "AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION", (db, table))
    columns = cur.fetchall()
    select = ", ".join(_column_expression(str(c), str(t).lower()) for c, t in columns)
    cur.execute(f"SELECT {select} FROM `{db}`.`{table}`")
    return sorted((tuple(row) for row in cur.fetchall()), key=repr)


def _show(cur: Any, statement: str) -> tuple[Any, ...]:
    cur.execute(statement)
    row = cur.fetchone()
    assert row is not None, statement
    return tuple(row)


def definitions(cur: Any, db: str) -> dict[str, str]:
    """SHOW CREATE of the database and of every object in it, AUTO_INCREMENT counters and creation times left out;
    sql_mode, character_set_client and collation_connection kept (they are part of what a routine means)."""
    out: dict[str, str] = {"database": str(_show(cur, f"SHOW CREATE DATABASE `{db}`")[1])}
    cur.execute("SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s", (db,))
    for name, kind in cur.fetchall():
        if kind == "VIEW":
            row = _show(cur, f"SHOW CREATE VIEW `{db}`.`{name}`")
            out[f"view:{name}"] = " | ".join(str(v) for v in row[1:])
        else:
            text = str(_show(cur, f"SHOW CREATE TABLE `{db}`.`{name}`")[1])
            out[f"table:{name}"] = AUTO_INCREMENT_COUNTER.sub("", text)
    cur.execute("SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = %s", (db,))
    for (name,) in cur.fetchall():
        row = _show(cur, f"SHOW CREATE TRIGGER `{db}`.`{name}`")  # Trigger, sql_mode, statement, cs, coll, db coll
        out[f"trigger:{name}"] = " | ".join(str(v) for v in row[1:6])
    cur.execute("SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = %s", (db,))
    for name, kind in cur.fetchall():
        row = _show(cur, f"SHOW CREATE {kind} `{db}`.`{name}`")  # name, sql_mode, statement, cs, coll, db coll
        out[f"{str(kind).lower()}:{name}"] = " | ".join(str(v) for v in row[1:])
    out.update(spatial_srids(cur, db))
    cur.execute("SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = %s", (db,))
    for (name,) in cur.fetchall():
        row = _show(cur, f"SHOW CREATE EVENT `{db}`.`{name}`")  # name, sql_mode, time_zone, statement, cs, coll, db
        out[f"event:{name}"] = " | ".join(str(v) for v in row[1:])
    return out


def spatial_srids(cur: Any, db: str) -> dict[str, str]:
    """The SRID of each spatial column: MariaDB's SHOW CREATE TABLE leaves REF_SYSTEM_ID out, GEOMETRY_COLUMNS has
    it (MySQL's SHOW CREATE TABLE shows `SRID n`; ST_GEOMETRY_COLUMNS is read too)."""
    cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'information_schema' "
                "AND TABLE_NAME IN ('GEOMETRY_COLUMNS', 'ST_GEOMETRY_COLUMNS')")
    views = {str(r[0]) for r in cur.fetchall()}
    if "ST_GEOMETRY_COLUMNS" in views:
        cur.execute("SELECT TABLE_NAME, COLUMN_NAME, SRS_ID FROM information_schema.ST_GEOMETRY_COLUMNS "
                    "WHERE TABLE_SCHEMA = %s", (db,))
    elif "GEOMETRY_COLUMNS" in views:
        cur.execute("SELECT G_TABLE_NAME, G_GEOMETRY_COLUMN, SRID FROM information_schema.GEOMETRY_COLUMNS "
                    "WHERE G_TABLE_SCHEMA = %s", (db,))
    else:
        return {}
    return {f"srid:{table}.{column}": str(srid) for table, column, srid in cur.fetchall()}


def full_dump(conn: Any, db: str) -> Dump:
    """Rows (UTC session: TIMESTAMPs as stored) and definitions of `db`; an empty Dump when it does not exist."""
    with conn.cursor() as cur:
        cur.execute("SET SESSION time_zone = '+00:00'")
        cur.execute("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (db,))
        if cur.fetchone()[0] == 0:
            return Dump()
        cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
                    "AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1", (db,))
        tables = [str(r[0]) for r in cur.fetchall()]
        rows = {t: table_rows(cur, db, t) for t in tables}
        return Dump(rows, definitions(cur, db))


def dump_differences(expected: Dump, actual: Dump, limit: int = 6) -> list[str]:
    """Readable differences, table by table: rows only in one side (first `limit` each), then definitions."""
    lines: list[str] = []
    for table in sorted(set(expected.rows) | set(actual.rows)):
        if table not in actual.rows:
            lines.append(f"rows: table {table} missing on the target")
            continue
        if table not in expected.rows:
            lines.append(f"rows: table {table} not expected on the target")
            continue
        want, got = expected.rows[table], actual.rows[table]
        if want == got:
            continue
        missing = [r for r in want if r not in got]
        extra = [r for r in got if r not in want]
        lines.append(f"rows: {table}: {len(want)} expected, {len(got)} on the target, {len(missing)} missing, "
                     f"{len(extra)} unexpected")
        for row in missing[:limit]:
            lines.append(f"  - {row!r}")
        for row in extra[:limit]:
            lines.append(f"  + {row!r}")
    for key in sorted(set(expected.definitions) | set(actual.definitions)):
        want_text, got_text = expected.definitions.get(key), actual.definitions.get(key)
        if want_text == got_text:
            continue
        if got_text is None:
            lines.append(f"definition: {key} missing on the target")
        elif want_text is None:
            lines.append(f"definition: {key} not expected on the target")
        else:
            lines.append(f"definition: {key} differs:")
            diff = difflib.unified_diff(want_text.splitlines(), got_text.splitlines(), "expected", "target",
                                        lineterm="", n=0)
            lines += [f"  {line}" for line in list(diff)[2:][:limit * 2]]
    return lines


def assert_same(expected: Dump, actual: Dump, what: str) -> None:
    differences = dump_differences(expected, actual)
    assert not differences, f"{what}: {len(differences)} difference lines\n" + "\n".join(differences[:60])


# ---------------------------------------------------------------------------------------------------------------
# the servers' own tools


def binlog_tool(source: Any) -> list[str]:
    return ["mariadb-binlog"] if source.flavor == "mariadb" else source.program("mysqlbinlog")


def client(target: Any) -> list[str]:
    program = ["mariadb"] if target.flavor == "mariadb" else target.program("mysql")
    return [*program, "--no-defaults", "--host=127.0.0.1", f"--port={target.port}", "--user=root", "--binary-mode"]


def pipe_into_client(target: Any, sql: bytes) -> subprocess.CompletedProcess[bytes]:
    """The SQL through the target server's own command-line client (stops at the first error, as a user's would)."""
    return subprocess.run(client(target), input=sql, capture_output=True, timeout=300, check=False)


def binlog_text(source: Any, conn: Any, start: tuple[str, int], stop: tuple[str, int],
                flashback: bool = False) -> bytes:
    """`mysqlbinlog` / `mariadb-binlog` of the range, read from the source server; GTIDs left out on MySQL so the
    same range can be applied to one target more than once (the target gives its own, as mysqlinspect does)."""
    files = binlog_files_between(conn, start[0], stop[0])
    options = ["--no-defaults", "--read-from-remote-server", "--host=127.0.0.1", f"--port={source.port}",
               "--user=root", f"--start-position={start[1]}", f"--stop-position={stop[1]}"]
    if source.flavor == "mysql":
        options.append("--skip-gtids")
    if flashback:
        options.append("--flashback")  # mariadb-binlog only: inverted row events as BINLOG statements
    proc = subprocess.run([*binlog_tool(source), *options, *files], capture_output=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc.stdout


def decoded_rows_text(source: Any, conn: Any, start: tuple[str, int], stop: tuple[str, int]) -> str:
    """The range's row events as the tool's pseudo-SQL (`### DELETE FROM ...`), to see what the binlog holds."""
    files = binlog_files_between(conn, start[0], stop[0])
    proc = subprocess.run([*binlog_tool(source), "--no-defaults", "--read-from-remote-server", "--host=127.0.0.1",
                           f"--port={source.port}", "--user=root", f"--start-position={start[1]}",
                           f"--stop-position={stop[1]}", "--base64-output=DECODE-ROWS", "--verbose", *files],
                          capture_output=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc.stdout.decode(errors="replace")


def reference_apply(source: Any, conn: Any, target: Any, start: tuple[str, int], stop: tuple[str, int],
                    flashback: bool = False) -> None:
    proc = pipe_into_client(target, binlog_text(source, conn, start, stop, flashback))
    assert proc.returncode == 0, "the reference failed: " + proc.stderr.decode(errors="replace")


def reset(target: Any, db: str) -> None:
    """A fresh target: the range's database dropped (the range creates it)."""
    conn = target.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
    finally:
        conn.close()
