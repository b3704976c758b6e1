"""Foreign-key cascades a MariaDB binlog does not hold: a flashback cannot undo them, so it is refused up front.

MariaDB (like MySQL before 9.7) cascades inside InnoDB and logs only the rows the statement itself changed. A
DELETE of a parent row whose key is referenced ON DELETE CASCADE / SET NULL, or an UPDATE that changes such a key
referenced ON UPDATE CASCADE / SET NULL, changed child rows that are not in the binlog: undoing the logged rows
cannot bring those children back (`mariadb-binlog --flashback` stops with error 1032 on them, or leaves them as
the cascade did). The constraints come from information_schema (REFERENTIAL_CONSTRAINTS, KEY_COLUMN_USAGE).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import pymysql

from mysqlinspect.binlog.model import RowChange, Transaction
from mysqlinspect.errors import DataError

CASCADING_RULES = frozenset({"CASCADE", "SET NULL"})


@dataclass(frozen=True)
class CascadingKey:
    """A foreign key whose parent changes reach its child rows (a rule of CASCADE or SET NULL)."""

    constraint: str  # schema.constraint_name
    child: str  # schema.table
    parent: tuple[str, str]  # (schema, table) as named in the binlog
    parent_columns: tuple[str, ...]
    on_delete: bool  # DELETE_RULE cascades
    on_update: bool  # UPDATE_RULE cascades

    def describe(self, op: str) -> str:
        rule = "ON DELETE" if op == "delete" else "ON UPDATE"
        return f"{self.constraint} ({self.child} -> {self.parent[0]}.{self.parent[1]}, {rule})"


def cascading_keys(conn: pymysql.connections.Connection, tables: Iterable[tuple[str, str]],
                   rename: Callable[[str], str] = str) -> list[CascadingKey]:
    """The cascading foreign keys whose parent is one of `tables` (binlog names; `rename` maps a schema to the
    server's name for it, as --rewrite-db does on a target)."""
    wanted = {(rename(schema), table): (schema, table) for schema, table in set(tables)}
    if not wanted:
        return []
    keys: dict[tuple[str, str], CascadingKey] = {}
    pairs = sorted(wanted)
    with conn.cursor() as cur:
        for start in range(0, len(pairs), 200):
            part = pairs[start : start + 200]
            where = " OR ".join(["(k.REFERENCED_TABLE_SCHEMA = %s AND k.REFERENCED_TABLE_NAME = %s)"] * len(part))
            cur.execute(
                "SELECT r.CONSTRAINT_SCHEMA, r.CONSTRAINT_NAME, r.TABLE_NAME, k.REFERENCED_TABLE_SCHEMA, "
                "k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.DELETE_RULE, r.UPDATE_RULE "
                "FROM information_schema.REFERENTIAL_CONSTRAINTS r JOIN information_schema.KEY_COLUMN_USAGE k "
                "ON k.CONSTRAINT_SCHEMA = r.CONSTRAINT_SCHEMA AND k.CONSTRAINT_NAME = r.CONSTRAINT_NAME "
                "AND k.TABLE_NAME = r.TABLE_NAME "
                f"WHERE ({where}) AND (r.DELETE_RULE IN ('CASCADE', 'SET NULL') "
                "OR r.UPDATE_RULE IN ('CASCADE', 'SET NULL')) ORDER BY 1, 2, k.POSITION_IN_UNIQUE_CONSTRAINT",
                [v for pair in part for v in pair])
            for schema, name, child, ref_schema, ref_table, column, on_delete, on_update in cur.fetchall():
                ident = (str(schema), str(name))
                parent = wanted[(str(ref_schema), str(ref_table))]
                known = keys.get(ident)
                columns = (known.parent_columns if known else ()) + (str(column),)
                keys[ident] = CascadingKey(f"{schema}.{name}", f"{schema}.{child}", parent, columns,
                                           str(on_delete) in CASCADING_RULES, str(on_update) in CASCADING_RULES)
    return list(keys.values())


def _key_changed(row: RowChange, key: CascadingKey) -> bool:
    before, after = row.before or {}, row.after or {}
    return any(c not in before or c not in after or before[c] != after[c] for c in key.parent_columns)


def unlogged_cascades(row: RowChange, keys: dict[tuple[str, str], list[CascadingKey]]) -> list[CascadingKey]:
    """The keys through which this logged parent change cascaded to child rows the binlog does not hold."""
    def cascaded(key: CascadingKey) -> bool:
        if row.op == "delete":
            return key.on_delete
        return row.op == "update" and key.on_update and _key_changed(row, key)

    return [key for key in keys.get((row.schema, row.table), ()) if cascaded(key)]


def refusing_unlogged_cascades(transactions: Iterable[Transaction],
                               keys: list[CascadingKey]) -> Iterator[Transaction]:
    """Pass the (forward) transactions through; a row change that cascaded without its child rows in the binlog
    stops the flashback (DataError) before anything of it is written."""
    by_parent: dict[tuple[str, str], list[CascadingKey]] = {}
    for key in keys:
        by_parent.setdefault(key.parent, []).append(key)
    for txn in transactions:
        if by_parent:
            for event in txn.events:
                for row in event.rows:
                    hits = unlogged_cascades(row, by_parent)
                    if hits:
                        raise DataError(unlogged_cascade_message(txn, row, hits))
        yield txn


def unlogged_cascade_message(txn: Transaction, row: RowChange, hits: list[CascadingKey]) -> str:
    named = "; ".join(key.describe(row.op) for key in hits)
    return (f"the {row.op} of a {row.schema}.{row.table} row at {txn.file}:{txn.start_pos} cascaded through "
            f"foreign key {named}; MariaDB does not log cascaded changes, so the child rows it changed are not in "
            "the binlog and no flashback can restore them (mariadb-binlog --flashback cannot either). Nothing was "
            "written; flash back a range without such changes, or restore the child tables from a backup")
