"""Small typed query helpers over a PyMySQL connection; server errors become domain errors."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pymysql
import pymysql.cursors

from mysqlinspect.errors import ConnectError, MysqlInspectError, PrivilegeError

Row = dict[str, Any]

# Error codes that mean "this does not exist here" (unknown table, variable, column, syntax of a newer server).
MISSING_CODES = {1054, 1064, 1109, 1146, 1193, 1049, 1051, 3167, 1289, 1231}
PRIVILEGE_CODES = {1044, 1142, 1143, 1227, 1045, 1370, 3530}


class QueryError(MysqlInspectError):
    """A statement the tool needed failed for a reason other than privileges or connectivity."""


class FeatureMissing(QueryError):
    """The server does not know the table, variable or statement (an older or other flavor)."""


def _translate(exc: pymysql.err.MySQLError, sql: str, grant_hint: str | None) -> MysqlInspectError:
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
    message = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    if code in PRIVILEGE_CODES:
        grant = _grant_from_message(message) or grant_hint
        suffix = f" (needs {grant})" if grant and "you need" not in message.lower() else ""
        return PrivilegeError(f"{_statement_head(sql)}: {message}{suffix}", grant=grant)
    if code in MISSING_CODES:
        return FeatureMissing(f"{message} [{sql.split()[0].upper()} ...]")
    if isinstance(exc, pymysql.err.OperationalError) and code in (2006, 2013, 2003, 2002, 0):
        return ConnectError(f"lost connection to the server: {message}")
    return QueryError(message)


def _statement_head(sql: str) -> str:
    words = sql.split()
    return " ".join(words[:4]) if words and words[0].upper() == "SHOW" else " ".join(words[:2])


def _grant_from_message(message: str) -> str | None:
    lowered = message.lower()
    marker = "you need (at least one of) the "
    if marker in lowered:
        start = lowered.index(marker) + len(marker)
        end = lowered.find(" privilege", start)
        if end > start:
            return message[start:end].replace(", ", " or ") + " privilege"
    if "command denied" in lowered and "for table" in lowered:
        return "SELECT on the table named"
    return None


def query_rows(
    conn: pymysql.connections.Connection, sql: str, args: Sequence[Any] | None = None, grant_hint: str | None = None
) -> list[Row]:
    """Run a statement and return its rows as dicts (column names as the server spells them)."""
    try:
        with conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())
    except pymysql.err.MySQLError as exc:
        raise _translate(exc, sql, grant_hint) from exc


def query_scalar(conn: pymysql.connections.Connection, sql: str, args: Sequence[Any] | None = None) -> Any:
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            row = cur.fetchone()
    except pymysql.err.MySQLError as exc:
        raise _translate(exc, sql, None) from exc
    return None if row is None else row[0]


def _name_value_rows(conn: pymysql.connections.Connection, sql: str) -> dict[str, str]:
    rows = query_rows(conn, sql)
    out: dict[str, str] = {}
    for row in rows:
        values = list(row.values())
        out[str(values[0]).lower()] = "" if values[1] is None else str(values[1])
    return out


def global_variables(conn: pymysql.connections.Connection, like: Iterable[str] | None = None) -> dict[str, str]:
    """SHOW GLOBAL VARIABLES as a lower-cased dict (optionally only names matching LIKE patterns)."""
    if like is None:
        return _name_value_rows(conn, "SHOW GLOBAL VARIABLES")
    out: dict[str, str] = {}
    for pattern in like:
        out.update(_name_value_rows(conn, f"SHOW GLOBAL VARIABLES LIKE '{pattern}'"))
    return out


def global_status(conn: pymysql.connections.Connection, like: str | None = None) -> dict[str, str]:
    """SHOW GLOBAL STATUS as a lower-cased dict (optionally only the names matching a LIKE pattern)."""
    return _name_value_rows(conn, "SHOW GLOBAL STATUS" + (f" LIKE '{like}'" if like else ""))


def innodb_metrics(conn: pymysql.connections.Connection) -> dict[str, tuple[int, str]]:
    """INFORMATION_SCHEMA.INNODB_METRICS: name -> (count, status). Empty when unreadable."""
    try:
        rows = query_rows(conn, "SELECT * FROM information_schema.INNODB_METRICS")
    except MysqlInspectError:
        return {}
    out: dict[str, tuple[int, str]] = {}
    for r in rows:
        row = {str(k).upper(): v for k, v in r.items()}
        state = row.get("STATUS", row.get("ENABLED"))  # MariaDB names the column ENABLED (1/0)
        state = {1: "enabled", 0: "disabled"}.get(state, state) if isinstance(state, int) else state
        out[str(row["NAME"]).lower()] = (int(row.get("COUNT") or 0), str(state))
    return out


def engine_innodb_status(conn: pymysql.connections.Connection) -> str:
    """The text of SHOW ENGINE INNODB STATUS (needs PROCESS)."""
    rows = query_rows(conn, "SHOW ENGINE INNODB STATUS", grant_hint="PROCESS privilege")
    return str(rows[0].get("Status", "")) if rows else ""


def as_int(value: Any, default: int | None = None) -> int | None:
    """Parse a server value ("123", "ON", None) as an int when it is one."""
    if value is None:
        return default
    try:
        return int(str(value).strip())
    except ValueError:
        try:
            return int(float(str(value)))
        except ValueError:
            return default
