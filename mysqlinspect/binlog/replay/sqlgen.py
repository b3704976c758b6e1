"""Row changes and transactions -> SQL statements: key-only WHERE, changed columns in SET, exact literals.

Each Statement carries the number of rows the target must report as matched (the connection uses FOUND_ROWS),
so the applier can assert that a statement touched exactly the rows it was written for.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from mysqlinspect.binlog.decode.statement_text import is_database_statement, names_database
from mysqlinspect.binlog.model import ColumnInfo, EventRecord, RowChange, Transaction, is_logged_statement
from mysqlinspect.binlog.replay.session_vars import Namer, restoring_statements, session_statements
from mysqlinspect.binlog.replay.sqlliteral import (
    column_renderers,
    exact_condition,
    per_column_list,
    qualified_name,
    quote_identifier,
    row_tuple_renderer,
)

SESSION_SETTINGS = (
    "SET NAMES utf8mb4",
    "SET SESSION time_zone = '+00:00'",
    "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'",
    "SET SESSION foreign_key_checks = 0",
)
_START_TRANSACTION = re.compile(r"\s+START\s+TRANSACTION\s*$", re.IGNORECASE)
RESTORED_SETTINGS = SESSION_SETTINGS[:3]  # after a statement run in the source's session
DDL_DELIMITER = "/*!*/;"
NO_KEY_WARNING = "{table} has neither a primary nor a usable unique key: WHERE compares every column, with LIMIT 1"


@dataclass(frozen=True)
class SqlOptions:
    """How statements are written."""

    flavor: str = "mysql"  # literal dialect of the source (JSON differs)
    full_columns: bool = False  # UPDATE SET every column instead of the changed ones
    rewrite_db: tuple[tuple[str, str], ...] = ()
    verify_current: bool = False  # UPDATE/DELETE also require every column to equal the expected current image
    batch_rows: int = 1  # rows per statement for consecutive changes of one shape (see row_statements)
    generated: Callable[[str, str], frozenset[str]] | None = None  # (source schema, table) -> generated columns
    unique_columns: Callable[[str, str], frozenset[str]] | None = None  # -> columns of secondary unique keys
    on_update: Callable[[str, str], frozenset[str]] | None = None  # -> ON UPDATE CURRENT_TIMESTAMP columns
    session_names: Namer | None = None  # the source's names for sql_mode bits and collation ids
    definitions_changed: Callable[[], None] | None = None  # called after DDL: cached definitions are stale

    def target_schema(self, schema: str) -> str:
        for old, new in self.rewrite_db:
            if schema == old:
                return new
        return schema

    def not_assignable(self, change: RowChange) -> frozenset[str]:
        """Columns a statement must not assign (generated columns of the target table)."""
        if self.generated is None:
            return frozenset()
        return self.generated(change.schema, change.table)

    def always_assigned(self, change: RowChange) -> list[str]:
        """Columns UPDATE SET must write even when unchanged (ON UPDATE CURRENT_TIMESTAMP), in column order."""
        if self.on_update is None:
            return []
        names = self.on_update(change.schema, change.table)
        return [c.name for c in change.columns if c.name in names] if names else []

    def assigned_columns(self, change: RowChange) -> list[str]:
        """What UPDATE SET writes: every column (--full-columns) or the changed ones plus the ON UPDATE columns,
        never a generated column; every assignable column when that leaves nothing."""
        skip = self.not_assignable(change)
        if self.full_columns:
            names = [c.name for c in change.columns]
        else:
            names = changed_columns(change)
            extra = [n for n in self.always_assigned(change) if n not in names]
            if extra:
                wanted = {*names, *extra}
                names = [c.name for c in change.columns if c.name in wanted]
        return [n for n in names if n not in skip] or [c.name for c in change.columns if c.name not in skip]


@dataclass
class Statement:
    """One statement and what applying it must do."""

    sql: str
    kind: str  # insert | update | delete | ddl
    expected_rows: int | None  # matched rows the target must report; None: not checked (DDL)
    rows: list[RowChange] = field(default_factory=list)
    warning: str | None = None


class RowKey(NamedTuple):  # a tuple: made for every UPDATE and DELETE row (a frozen dataclass is 3x slower)
    columns: tuple[str, ...]
    complete: bool  # False: no usable key, every column is compared and LIMIT 1 added


def choose_key(change: RowChange, image: dict[str, Any]) -> RowKey:
    """Primary key; else the first unique key whose values are all non-NULL; else every column."""
    if change.primary_key:
        return RowKey(tuple(change.primary_key), True)
    for key in change.unique_keys:
        if key and all(image.get(col) is not None for col in key):
            return RowKey(tuple(key), True)
    return RowKey(tuple(c.name for c in change.columns), False)


def changed_columns(change: RowChange) -> list[str]:
    """Names of the columns whose value differs between the images: another type, another value, a float of
    another repr (-0.0 against 0.0)."""
    before, after = change.before or {}, change.after or {}
    changed = []
    for name in _column_names(change.columns):
        a, b = before.get(name), after.get(name)
        if type(a) is not type(b) or not (repr(a) == repr(b) if isinstance(a, float) else a == b):
            changed.append(name)
    return changed


def _where(change: RowChange, image: dict[str, Any], opts: SqlOptions) -> tuple[str, str | None]:
    """WHERE clause text (with LIMIT 1 when no key) and a warning when there is no key."""
    key = choose_key(change, image)
    quoted = _quoted_names(change.columns)
    render = column_renderers(change.columns, opts.flavor, exact_float=True)  # render_literal(exact_float=True)
    null_safe = not key.complete
    parts = [_condition(quoted[name], render[name], image.get(name), null_safe) for name in key.columns]
    if opts.verify_current:  # every column, text compared as bytes (a case-only change is a difference)
        parts = [exact_condition(c, image.get(c.name), opts.flavor, null_safe=c.name not in key.columns)
                 for c in change.columns]
    clause = " AND ".join(parts)
    if key.complete:
        return clause, None
    table = f"{change.schema}.{change.table}"
    return clause + " LIMIT 1", NO_KEY_WARNING.format(table=table)


def _condition(quoted: str, render: Callable[[Any], str], value: Any, null_safe: bool) -> str:
    op = "<=>" if null_safe or value is None else "="
    return f"{quoted} {op} {render(value)}"


_QUOTED_NAMES: dict[int, tuple[list[ColumnInfo], dict[str, str]]] = {}


def _quoted_names(columns: list[ColumnInfo]) -> dict[str, str]:
    """quote_identifier of each column's name, by name, per column list."""
    return per_column_list(_QUOTED_NAMES, id(columns), columns,
                           lambda: {c.name: quote_identifier(c.name) for c in columns})


def _table(change: RowChange, opts: SqlOptions) -> str:
    return qualified_name(opts.target_schema(change.schema), change.table)


_InsertKey = tuple[int, str, str, frozenset[str], tuple[tuple[str, str], ...], str]
_InsertPlan = tuple[tuple[str, ...], str, tuple[Callable[[Any], str], ...], Callable[[dict[str, Any]], str] | None]
_INSERT_PLANS: dict[_InsertKey, tuple[list[ColumnInfo], _InsertPlan]] = {}


def _insert_plan(first: RowChange, opts: SqlOptions) -> _InsertPlan:
    """The assigned column names, `INSERT INTO t (cols) VALUES ` and the literal renderers of those columns in
    that order, cached per column list, table, skipped columns, database rewrites and flavor."""
    skip = opts.not_assignable(first)
    columns = first.columns
    key = (id(columns), first.schema, first.table, skip, opts.rewrite_db, opts.flavor)
    return per_column_list(_INSERT_PLANS, key, columns, lambda: _new_insert_plan(first, skip, opts))


def _new_insert_plan(first: RowChange, skip: frozenset[str], opts: SqlOptions) -> _InsertPlan:
    columns = first.columns
    names = tuple(c.name for c in columns if c.name not in skip)
    head = f"INSERT INTO {_table(first, opts)} ({', '.join(quote_identifier(n) for n in names)}) VALUES "
    render = column_renderers(columns, opts.flavor)
    return names, head, tuple(render[n] for n in names), row_tuple_renderer(columns, names, opts.flavor)


def insert_statement(changes: list[RowChange], opts: SqlOptions) -> Statement:
    first = changes[0]
    names, head, renderers, row = _insert_plan(first, opts)
    tuples = []
    for change in changes:
        image = change.after or {}
        if change.columns is first.columns:
            if row is not None:
                tuples.append(row(image))
                continue
            literals = [r(v) for r, v in zip(renderers, map(image.get, names), strict=True)]
        else:  # same names, another column list (its types may differ)
            render = column_renderers(change.columns, opts.flavor)
            literals = [render[n](image.get(n)) for n in names]
        tuples.append("(" + ", ".join(literals) + ")")
    return Statement(head + ", ".join(tuples), "insert", len(changes), list(changes))


def update_statement(change: RowChange, opts: SqlOptions) -> Statement:
    before, after = change.before or {}, change.after or {}
    names = opts.assigned_columns(change)
    render, quoted = column_renderers(change.columns, opts.flavor), _quoted_names(change.columns)
    assignments = ", ".join([f"{quoted[n]} = {render[n](after.get(n))}" for n in names])
    where, warning = _where(change, before, opts)
    sql = f"UPDATE {_table(change, opts)} SET {assignments} WHERE {where}"
    return Statement(sql, "update", 1, [change], warning)


def delete_statement(change: RowChange, opts: SqlOptions) -> Statement:
    where, warning = _where(change, change.before or {}, opts)
    return Statement(f"DELETE FROM {_table(change, opts)} WHERE {where}", "delete", 1, [change], warning)


def _same_insert_shape(a: RowChange, b: RowChange) -> bool:
    return a.schema == b.schema and a.table == b.table and [c.name for c in a.columns] == [
        c.name for c in b.columns]


INTEGER_TYPES = frozenset({"tinyint", "smallint", "mediumint", "int", "bigint", "year"})


_INTEGER_COLUMNS: dict[int, tuple[list[ColumnInfo], frozenset[str]]] = {}


_COLUMN_NAMES: dict[int, tuple[list[ColumnInfo], tuple[str, ...]]] = {}


def _column_names(columns: list[ColumnInfo]) -> tuple[str, ...]:
    return per_column_list(_COLUMN_NAMES, id(columns), columns, lambda: tuple(c.name for c in columns))


def _integer_columns(columns: list[ColumnInfo]) -> frozenset[str]:
    """Names of the integer columns."""
    return per_column_list(_INTEGER_COLUMNS, id(columns), columns,
                           lambda: frozenset(c.name for c in columns if c.type_name in INTEGER_TYPES))


def _integer_key(change: RowChange, key: RowKey) -> bool:
    """Keys that can be matched through a derived table or IN list without collation or conversion questions."""
    return key.complete and _integer_columns(change.columns).issuperset(key.columns)


def _batch_shape(change: RowChange, opts: SqlOptions) -> tuple[Any, ...] | None:
    """Changes with equal shapes may share one statement; None: this change stands alone."""
    if change.op == "insert":
        return ("insert", change.schema, change.table, _column_names(change.columns))
    if opts.verify_current or opts.batch_rows < 2:
        return None
    image = change.before or {}
    key = choose_key(change, image)
    if not _integer_key(change, key):
        return None
    if change.op == "delete":
        return ("delete", change.schema, change.table, key.columns)
    if not changed_columns(change) and not opts.full_columns:
        return None  # nothing changed: the statement assigns every column and stands alone
    assigned = tuple(opts.assigned_columns(change))
    if not assigned or any(k in assigned for k in key.columns):
        return None  # a key change stands alone (it could collide with another row's key in the batch)
    if opts.unique_columns is not None and not opts.unique_columns(change.schema, change.table).isdisjoint(assigned):
        return None  # so does a unique key change: rows of one UPDATE are checked in no guaranteed order
    return ("update", change.schema, change.table, key.columns, assigned)


def _row_key_values(change: RowChange, columns: tuple[str, ...]) -> tuple[Any, ...]:
    image = change.before if change.before is not None else (change.after or {})
    return tuple(image.get(c) for c in columns)


def row_statements(changes: Iterable[RowChange], opts: SqlOptions) -> Iterator[Statement]:
    """Statements for row changes in order. Consecutive changes of one shape share a statement (batch_rows):
    INSERT of several rows, DELETE ... WHERE key IN (...), UPDATE joined with a derived table of new values;
    UPDATE/DELETE only for integer keys and without --verify-current."""
    if opts.batch_rows < 2:  # a statement per row
        yield from single_statements(changes, opts)
        return
    pending: list[RowChange] = []
    shape: tuple[Any, ...] | None = None
    keys: set[tuple[Any, ...]] = set()
    for change in changes:
        new_shape = _batch_shape(change, opts)
        key = _row_key_values(change, new_shape[3]) if new_shape and new_shape[0] != "insert" else None
        if pending and (new_shape != shape or len(pending) >= opts.batch_rows or key in keys):
            yield batch_statement(pending, shape, opts)
            pending, keys = [], set()
        if new_shape is None:
            yield single_statement(change, opts)
            shape = None
            continue
        pending.append(change)
        shape = new_shape
        if key is not None:
            keys.add(key)
    if pending:
        yield batch_statement(pending, shape, opts)


def single_statements(changes: Iterable[RowChange], opts: SqlOptions) -> Iterator[Statement]:
    """single_statement of each change; consecutive INSERTs into one table (one column list) share their plan."""
    columns: list[ColumnInfo] | None = None
    table = schema = ""
    plan: _InsertPlan | None = None
    for change in changes:
        if change.op != "insert":
            yield single_statement(change, opts)
            continue
        if plan is None or change.columns is not columns or change.table != table or change.schema != schema:
            columns, table, schema = change.columns, change.table, change.schema
            plan = _insert_plan(change, opts)
        yield _single_insert(change, plan)


def single_statement(change: RowChange, opts: SqlOptions) -> Statement:
    if change.op == "insert":  # insert_statement([change], opts) without its loop: the commonest statement
        return _single_insert(change, _insert_plan(change, opts))
    return update_statement(change, opts) if change.op == "update" else delete_statement(change, opts)


def _single_insert(change: RowChange, plan: _InsertPlan) -> Statement:
    names, head, renderers, row = plan
    image = change.after or {}
    if row is not None:
        return Statement(head + row(image), "insert", 1, [change])
    literals = [r(v) for r, v in zip(renderers, map(image.get, names), strict=True)]
    return Statement(head + "(" + ", ".join(literals) + ")", "insert", 1, [change])


def batch_statement(changes: list[RowChange], shape: tuple[Any, ...] | None, opts: SqlOptions) -> Statement:
    if shape is None or len(changes) == 1:
        return single_statement(changes[0], opts) if shape is None or shape[0] != "insert" else insert_statement(
            changes, opts)
    if shape[0] == "insert":
        return insert_statement(changes, opts)
    if shape[0] == "delete":
        return delete_batch_statement(changes, shape[3], opts)
    return update_batch_statement(changes, shape[3], shape[4], opts)


def delete_batch_statement(changes: list[RowChange], key: tuple[str, ...], opts: SqlOptions) -> Statement:
    first = changes[0]
    tuples = []
    for change in changes:
        image = change.before or {}
        render = column_renderers(change.columns, opts.flavor)
        literals = [render[k](image.get(k)) for k in key]
        tuples.append(literals[0] if len(key) == 1 else "(" + ", ".join(literals) + ")")
    target = quote_identifier(key[0]) if len(key) == 1 else "(" + ", ".join(quote_identifier(k) for k in key) + ")"
    sql = f"DELETE FROM {_table(first, opts)} WHERE {target} IN ({', '.join(tuples)})"
    return Statement(sql, "delete", len(changes), list(changes))


def update_batch_statement(changes: list[RowChange], key: tuple[str, ...], assigned: tuple[str, ...],
                           opts: SqlOptions) -> Statement:
    """UPDATE t JOIN (SELECT key, new values UNION ALL ...) v ON key SET columns = v.values."""
    first = changes[0]
    selects = []
    for n, change in enumerate(changes):
        before, after = change.before or {}, change.after or {}
        render = column_renderers(change.columns, opts.flavor)
        parts = [render[k](before.get(k)) for k in key]
        parts += [render[a](after.get(a)) for a in assigned]
        if n == 0:
            names = [f"_mi_k{i}" for i in range(len(key))] + [f"_mi_v{i}" for i in range(len(assigned))]
            parts = [f"{p} AS `{name}`" for p, name in zip(parts, names, strict=True)]
        selects.append("SELECT " + ", ".join(parts))
    on = " AND ".join(f"_mi_t.{quote_identifier(k)} = _mi_v.`_mi_k{i}`" for i, k in enumerate(key))
    sets = ", ".join(f"_mi_t.{quote_identifier(a)} = _mi_v.`_mi_v{i}`" for i, a in enumerate(assigned))
    sql = (f"UPDATE {_table(first, opts)} AS _mi_t JOIN ({' UNION ALL '.join(selects)}) AS _mi_v ON {on} "
           f"SET {sets}")
    return Statement(sql, "update", len(changes), list(changes))


def ddl_statements(event: EventRecord, opts: SqlOptions) -> list[Statement]:
    """The logged statement as logged, in the source's session (sql_mode, character set, time zone: as mysqlbinlog
    writes them), preceded by USE of its default database (rewritten with --rewrite-db) - not for statements the
    server logged to run without one (CREATE/DROP DATABASE: the database may not exist); the tool's own session
    settings are restored after it."""
    query = (event.query or "").strip().rstrip(";").strip()
    session = [Statement(sql, "session", None) for sql in session_statements(event.session, opts.session_names)]
    # the source's statement time (mysqlbinlog's SET TIMESTAMP): CURRENT_TIMESTAMP defaults an ALTER fills in
    clock = [f"SET @@session.timestamp = {int(event.timestamp)}"] if event.timestamp else []
    out: list[Statement] = [*session, *(Statement(sql, "session", None) for sql in clock)]
    if event.schema and not event.suppress_use and not is_database_statement(query):
        out.append(Statement(f"USE {quote_identifier(opts.target_schema(event.schema))}", "use", None))
    out.append(Statement(query, "ddl", None, warning=_unrewritten_names(query, opts)))
    restore = [*RESTORED_SETTINGS, *restoring_statements(event.session)] if session else []
    if clock:
        restore.append("SET @@session.timestamp = DEFAULT")
    out += [Statement(sql, "session", None) for sql in restore]
    return out


def _unrewritten_names(query: str, opts: SqlOptions) -> str | None:
    named = [old for old, _ in opts.rewrite_db if names_database(query, old)]
    if not named:
        return None
    short = " ".join(query.split())[:80]
    return (f"'{short}' names database {', '.join(named)} in its text, which --rewrite-db does not rewrite (it "
            "changes the default database only, as mysqlbinlog does): the statement acts on that database")


def transaction_rows(txn: Transaction) -> Iterator[RowChange]:
    for event in txn.events:
        yield from event.rows


def transaction_statements(txn: Transaction, opts: SqlOptions) -> list[Statement]:
    """The statements of one transaction, without BEGIN/COMMIT."""
    return list(iter_statements(txn, opts))


def iter_statements(txn: Transaction, opts: SqlOptions) -> Iterator[Statement]:
    """transaction_statements as they are written: a large transaction (its events read back from disk) is never
    held whole as statements either."""
    if txn.is_ddl:
        out: list[Statement] = []
        for event in txn.events:
            if is_logged_statement(event):
                out += ddl_statements(event, opts)
        if txn.row_count:
            yield from rows_after_ddl(out, txn, opts)
        else:
            yield from out
        if opts.definitions_changed is not None:
            opts.definitions_changed()
        return
    if not txn.has_logged_statement:
        yield from row_statements(transaction_rows(txn), opts)
        return
    yield from interleaved_statements(txn, opts)


def rows_after_ddl(ddl: list[Statement], txn: Transaction, opts: SqlOptions) -> Iterator[Statement]:
    """The DDL, then the rows logged with it (CREATE TABLE ... SELECT) in one transaction of their own. MySQL logs
    the statement as `CREATE TABLE ... START TRANSACTION`, after which the server accepts only BINLOG statements:
    the clause is dropped (the CREATE commits on its own, as on MariaDB) and the rows get their own transaction."""
    for st in ddl:
        match = _START_TRANSACTION.search(st.sql) if st.kind == "ddl" else None
        if match:
            st.sql = st.sql[: match.start()]
    yield from ddl
    yield Statement("BEGIN", "control", None)
    yield from row_statements(transaction_rows(txn), opts)
    yield Statement("COMMIT", "control", None)


def interleaved_statements(txn: Transaction, opts: SqlOptions) -> Iterator[Statement]:
    """Row changes with the statements logged between them (SAVEPOINT, ROLLBACK TO SAVEPOINT) in their place:
    nothing logged is left out."""
    events = iter(txn.events)
    statement: list[EventRecord] = []

    def rows_until_statement() -> Iterator[RowChange]:
        for event in events:
            if is_logged_statement(event):
                statement.append(event)
                return
            yield from event.rows

    while True:
        yield from row_statements(rows_until_statement(), opts)
        if not statement:
            return
        event = statement.pop()
        yield Statement((event.query or "").strip().rstrip(";").strip(), "statement", None)


class WarningTap:
    """Statements passed through, their warnings remembered in order (once each) for what is written after them."""

    def __init__(self, statements: Iterable[Statement]) -> None:
        self.statements = statements
        self.warnings: dict[str, None] = {}

    def __iter__(self) -> Iterator[Statement]:
        warnings = self.warnings
        for st in self.statements:
            if st.warning:
                warnings[st.warning] = None
            yield st


_LAST_TIME: list[tuple[int, str]] = [(-1, "")]  # the last timestamp's text: consecutive transactions share seconds


def _utc_text(timestamp: int) -> str:
    last = _LAST_TIME[0]
    if last[0] == timestamp:
        return last[1]
    text = dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    _LAST_TIME[0] = (timestamp, text)
    return text


def transaction_comment(txn: Transaction, label: str = "txn") -> str:
    when = _utc_text(txn.timestamp)
    end = f"{txn.end_file}:{txn.end_pos}" if txn.end_file != txn.file else str(txn.end_pos)
    parts = [f"-- {label} {txn.number}", f"{txn.file}:{txn.start_pos}-{end}"]
    if txn.gtid:
        parts.append(f"gtid={txn.gtid}")
    if txn.xid is not None:
        parts.append(f"xid={txn.xid}")
    parts += [f"time={when}", f"server_id={txn.server_id}", f"rows={txn.row_count}"]
    return " ".join(parts)


def render_transaction(txn: Transaction, statements: list[Statement], label: str = "txn") -> str:
    """SQL text of one transaction: a comment, then BEGIN ... COMMIT (DDL stands alone)."""
    lines = [transaction_comment(txn, label)]
    lines += [f"-- warning: {w}" for w in dict.fromkeys(st.warning for st in statements if st.warning)]
    body = [framed(st) for st in statements]
    if txn.is_ddl:
        return "\n".join(lines + body) + "\n"
    return "\n".join([*lines, "BEGIN;", *body, "COMMIT;"]) + "\n"


def render_transaction_parts(txn: Transaction, statements: Iterable[Statement], label: str = "txn",
                             spool_dir: str | None = None, block: int = 1 << 20) -> Iterator[str]:
    """render_transaction's text in parts. A stored (large) transaction's statements are written to a spool file
    first - its warnings head the text - and read back in blocks; any other is rendered at once."""
    if not txn.stored:
        yield render_transaction(txn, list(statements), label)
        return
    tap = WarningTap(statements)
    with tempfile.SpooledTemporaryFile(max_size=block, mode="w+", encoding="utf-8", errors="surrogateescape",
                                       newline="\n", prefix="mysqlinspect-sql-", dir=spool_dir) as body:
        for st in tap:
            body.write(framed(st))
            body.write("\n")
        head = [transaction_comment(txn, label), *(f"-- warning: {w}" for w in tap.warnings)]
        ddl = txn.is_ddl
        yield "\n".join(head) + ("\n" if ddl else "\nBEGIN;\n")
        body.seek(0)
        while part := body.read(block):
            yield part
        if not ddl:
            yield "COMMIT;\n"


def framed(st: Statement) -> str:
    """Statement text for the client: DDL holding `;` (routine, trigger and event bodies) is written between
    DELIMITER lines with mysqlbinlog's delimiter `/*!*/;`; a logged statement whose last line may end in a
    comment gets its delimiter on a line of its own."""
    if st.kind == "ddl" and ";" in st.sql:
        return f"DELIMITER {DDL_DELIMITER}\n{st.sql}\n{DDL_DELIMITER}\nDELIMITER ;"
    if st.kind in ("ddl", "statement"):  # row statements end in a literal or a name, never in a comment
        last_line = st.sql.rsplit("\n", 1)[-1]
        if "--" in last_line or "#" in last_line:
            return st.sql + "\n;"  # a trailing comment would swallow the delimiter
    return st.sql + ";"


def session_preamble() -> str:
    return "".join(s + ";\n" for s in SESSION_SETTINGS)
