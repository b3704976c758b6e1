"""The flashback pre-check: before anything is applied, every row the undo will touch must be in the state the
range left it in, so a row changed after the range stops the flashback before it changes anything.

Walking the undo (newest first), the first statement that names a key decides what the target must hold now:
the statement's expected image (the key it changes) or no row at all (a key it creates: an undone DELETE, or the
old key of an undone key change). Keys seen are kept in a private temporary SQLite database, so memory stays
flat; it spills to a file SQLite unlinks as soon as it opens it, so nothing is left behind, not even by kill -9.
Tables without a primary or unique key are left to the per-statement check.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pymysql

from mysqlinspect.binlog.model import RowChange, Transaction
from mysqlinspect.binlog.replay.apply import ReplayConflictError, describe_conflict
from mysqlinspect.binlog.replay.sqlgen import SqlOptions, choose_key
from mysqlinspect.binlog.replay.sqlliteral import exact_condition, qualified_name, render_literal

BATCH = 500


@dataclass
class Expectation:
    txn: Transaction
    change: RowChange
    image: dict[str, Any]  # the row image whose key is checked
    present: bool  # True: the row must equal `image`; False: no row with its key may exist
    sql: str = ""


class SeenKeys:
    """A set of strings in a private temporary SQLite database (in memory up to CACHE_KIB, then an unlinked file
    in `directory`, default the system temporary directory)."""

    CACHE_KIB = 8192

    def __init__(self, directory: str | None = None) -> None:
        self._db = sqlite3.connect("")  # "": private, on disk only when the cache spills, deleted on open
        spill_to = (directory or tempfile.gettempdir()).replace("'", "''")
        self._db.execute(f"PRAGMA temp_store_directory = '{spill_to}'")
        self._db.execute(f"PRAGMA cache_size = -{self.CACHE_KIB}")
        self._db.execute("PRAGMA journal_mode = OFF")
        self._db.execute("PRAGMA synchronous = OFF")
        self._db.execute("CREATE TABLE seen (k TEXT PRIMARY KEY) WITHOUT ROWID")

    def add(self, key: str) -> bool:
        """True when the key was not there yet."""
        return self._db.execute("INSERT OR IGNORE INTO seen VALUES (?)", (key,)).rowcount == 1

    def close(self) -> None:
        self._db.close()


def _key_text(change: RowChange, image: dict[str, Any], options: SqlOptions) -> str | None:
    key = choose_key(change, image)
    if not key.complete:
        return None
    cols = {c.name: c for c in change.columns}
    values = "\x00".join(render_literal(image.get(k), cols[k], options.flavor, exact_float=True) for k in key.columns)
    return f"{options.target_schema(change.schema)}\x00{change.table}\x00{values}"


def expectations(undo: Iterable[Transaction], options: SqlOptions, seen: SeenKeys) -> Iterator[Expectation]:
    """What the target must hold now, per key, from the undo transactions (newest first)."""
    for txn in undo:
        for event in txn.events:
            for change in event.rows:
                before_key = _key_text(change, change.before, options) if change.before is not None else None
                if before_key is not None and seen.add(before_key):
                    yield _expect(txn, change, change.before or {}, True, options)
                if change.after is None:
                    continue
                after_key = _key_text(change, change.after, options)
                if after_key is not None and after_key != before_key and seen.add(after_key):
                    yield _expect(txn, change, change.after, False, options)


def _expect(txn: Transaction, change: RowChange, image: dict[str, Any], present: bool,
            options: SqlOptions) -> Expectation:
    cols = {c.name: c for c in change.columns}
    key = choose_key(change, image)
    names = [c.name for c in change.columns] if present else list(key.columns)
    where = " AND ".join(exact_condition(cols[n], image.get(n), options.flavor, null_safe=n not in key.columns)
                         for n in names)
    sql = f"SELECT 1 FROM {qualified_name(options.target_schema(change.schema), change.table)} WHERE {where} LIMIT 1"
    return Expectation(txn, change, image, present, sql)


def check_batch(conn: pymysql.connections.Connection, batch: list[Expectation]) -> Expectation | None:
    """The first expectation the target does not meet, or None (one multi-statement round trip)."""
    with conn.cursor() as cur:
        cur.execute(";\n".join(e.sql for e in batch))
        index = 0
        first_bad: Expectation | None = None
        while True:
            found = len(cur.fetchall()) > 0
            if first_bad is None and found != batch[index].present:
                first_bad = batch[index]
            index += 1
            if not cur.nextset():
                break
    return first_bad


def precheck(conn: pymysql.connections.Connection, undo: Iterable[Transaction], options: SqlOptions,
             target_schema: Callable[[str], str], spill_dir: str | None = None) -> int:
    """Raise ReplayConflictError naming the first row not in its expected state; return the keys checked."""
    seen = SeenKeys(spill_dir)
    checked = 0
    try:
        batch: list[Expectation] = []
        for expectation in expectations(undo, options, seen):
            batch.append(expectation)
            if len(batch) >= BATCH:
                _raise_on_mismatch(conn, batch, options, target_schema)
                checked += len(batch)
                batch = []
        if batch:
            _raise_on_mismatch(conn, batch, options, target_schema)
            checked += len(batch)
    finally:
        seen.close()
    return checked


def _raise_on_mismatch(conn: pymysql.connections.Connection, batch: list[Expectation], options: SqlOptions,
                       target_schema: Callable[[str], str]) -> None:
    bad = check_batch(conn, batch)
    if bad is None:
        return
    txn = bad.txn
    gtid = f" gtid {txn.gtid}" if txn.gtid else ""
    if bad.present:
        detail = describe_conflict(conn, bad.change, options.flavor, target_schema)
        reason = "the row differs from the image the range left"
    else:
        probe = RowChange(op="delete", schema=bad.change.schema, table=bad.change.table, columns=bad.change.columns,
                          primary_key=bad.change.primary_key, before=None, after=bad.image,
                          unique_keys=bad.change.unique_keys)
        detail = describe_conflict(conn, probe, options.flavor, target_schema)
        reason = "a row with this key exists, but the undo has to create it"
    raise ReplayConflictError(
        f"pre-check of the flashback: {detail}: {reason} (changed after the range?); it is undone by source "
        f"transaction {txn.number} at {txn.file}:{txn.start_pos}{gtid}. Nothing was applied")
