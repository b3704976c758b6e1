"""Gather what the rules judge: one snapshot per server, with two status samples `interval` apart for rates.

Every source that cannot be read becomes `Unavailable(reason, grant)` (the rule then reports UNKNOWN and names
the grant); a source the server does not have at all becomes `NotApplicable(reason)`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import pymysql

from mysqlinspect.collectors.redo import RedoStatus, collect_redo_status
from mysqlinspect.collectors.sources import SRC_METRICS, SRC_SEIS, SRC_STATUS, SRC_VARIABLES, LiveSources
from mysqlinspect.collectors.tablespace_model import TablespaceReport
from mysqlinspect.collectors.tablespaces import collect_tablespaces
from mysqlinspect.collectors.undo import UndoStatus, collect_undo_status
from mysqlinspect.connection.query import FeatureMissing, QueryError, as_int, global_status, query_rows
from mysqlinspect.connection.server import ServerInfo, detect_server
from mysqlinspect.errors import PrivilegeError

PROCESS = "PROCESS privilege"
ERROR_LOG_GRANT = "SELECT on performance_schema.error_log"
STALL_CODES = ("MY-013865", "MY-014089", "MY-014084")
DEPRECATION_CODES = ("MY-011068", "MY-011069", "MY-011070")
STALL_WINDOW_MINUTES = 60
INNODB_TRX = "information_schema.INNODB_TRX"

T = TypeVar("T")


@dataclass(frozen=True)
class Unavailable:
    """The source exists but could not be read (usually a missing privilege, named in `grant`)."""

    reason: str
    grant: str | None = None


@dataclass(frozen=True)
class NotApplicable:
    """The server has no such thing (a MySQL-only feature on MariaDB, binary logging off, ...)."""

    reason: str


@dataclass(frozen=True)
class Sourced:
    """A number and where it was read."""

    value: int
    source: str


@dataclass(frozen=True)
class OldestTransaction:
    trx_id: str
    thread_id: int | None
    age_seconds: int
    rows_modified: int | None
    state: str


@dataclass(frozen=True)
class UndoFacts:
    active: int
    source: str
    states: dict[str, str] = field(default_factory=dict)  # tablespace name -> state (when readable)


@dataclass(frozen=True)
class DeprecatedSetting:
    name: str
    detail: str


@dataclass(frozen=True)
class Rate:
    """A per-second rate (or a ratio of two deltas) and how it was obtained."""

    delta: float
    seconds: float
    source: str

    @property
    def per_second(self) -> float | None:
        return self.delta / self.seconds if self.seconds > 0 else None


@dataclass
class Snapshot:
    """Everything the rules read about one server."""

    server: ServerInfo
    status_start: dict[str, str]
    status_end: dict[str, str]
    elapsed_seconds: float  # 0 when only one sample was taken (rates then use the averages since start-up)
    redo: RedoStatus | Unavailable
    history_list_length: Sourced | Unavailable
    oldest_transaction: OldestTransaction | Unavailable | None
    undo: UndoFacts | Unavailable | NotApplicable
    redo_stalls: dict[str, int] | Unavailable | NotApplicable
    deprecated: list[DeprecatedSetting] | Unavailable
    tablespaces: TablespaceReport | Unavailable | None = None

    def variable(self, name: str) -> str | None:
        return self.server.variable(name)

    def status(self, name: str) -> str | None:
        return self.status_end.get(name.lower())

    @property
    def uptime_seconds(self) -> int:
        return as_int(self.status_end.get("uptime")) or self.server.uptime_seconds

    def counter_delta(self, name: str) -> Rate | None:
        """Δcounter over the interval, or the counter since start-up when only one sample was taken."""
        end = as_int(self.status_end.get(name.lower()))
        if end is None:
            return None
        if self.elapsed_seconds > 0:
            start = as_int(self.status_start.get(name.lower())) or 0
            return Rate(end - start, self.elapsed_seconds, f"{SRC_STATUS} {name}, two samples "
                                                           f"{self.elapsed_seconds:.1f}s apart")
        return Rate(end, float(max(1, self.uptime_seconds)),
                    f"{SRC_STATUS} {name} / Uptime (average since start-up)")


def _guard(read: Callable[[], T], what: str, grant: str | None = None) -> T | Unavailable:
    try:
        return read()
    except PrivilegeError as exc:
        needed = grant or exc.grant or "a privilege the server did not name"
        return Unavailable(f"{what}: access denied (needs {needed})", grant=needed)
    except FeatureMissing as exc:
        return Unavailable(f"{what}: not available on this server ({exc})")
    except QueryError as exc:
        return Unavailable(f"{what}: {exc}")


def history_from(undo: UndoStatus) -> Sourced | Unavailable:
    """History list length as the undo collector found it (status variable, INNODB_METRICS or SEIS)."""
    if undo.history_list_length is not None:
        return Sourced(undo.history_list_length, undo.sources.get("history_list_length", "undo collector"))
    if undo.missing_grants:
        return Unavailable(f"history list length: {SRC_METRICS} and {SRC_SEIS} need PROCESS", grant=PROCESS)
    return Unavailable("history list length: no source on this server")


def oldest_from(undo: UndoStatus) -> OldestTransaction | Unavailable | None:
    """The oldest open transaction other than ours (INFORMATION_SCHEMA.INNODB_TRX, needs PROCESS)."""
    if "oldest_transactions" not in undo.sources:
        if "PROCESS" in undo.missing_grants:
            return Unavailable(f"{INNODB_TRX}: access denied (needs {PROCESS})", grant=PROCESS)
        return Unavailable(f"{INNODB_TRX} is not readable on this server")
    if not undo.oldest_transactions:
        return None
    trx = undo.oldest_transactions[0]
    return OldestTransaction(trx_id=trx.trx_id, thread_id=trx.thread_id, age_seconds=trx.age_seconds,
                             rows_modified=trx.rows_modified, state=trx.state)


def undo_facts_from(undo: UndoStatus) -> UndoFacts | NotApplicable:
    """MySQL 8.0.14+: Innodb_undo_tablespaces_active (+ states with PROCESS); else innodb_undo_tablespaces."""
    states = {t.name: str(t.state) for t in undo.tablespaces
              if t.state is not None and t.source == "INFORMATION_SCHEMA.INNODB_TABLESPACES"}
    if undo.undo_tablespaces_active is not None:
        return UndoFacts(undo.undo_tablespaces_active, f"{SRC_STATUS} Innodb_undo_tablespaces_active", states)
    if undo.undo_tablespaces_setting is not None:
        return UndoFacts(undo.undo_tablespaces_setting, f"{SRC_VARIABLES} innodb_undo_tablespaces", states)
    return NotApplicable("the server reports no undo tablespace count")


def tablespaces_from(report: TablespaceReport) -> TablespaceReport | Unavailable:
    """The tablespace view, or why it is missing (INNODB_TABLESPACES / INNODB_SYS_TABLESPACES need PROCESS)."""
    if report.tablespaces:
        return report
    if report.missing_grants:
        return Unavailable("tablespaces: INNODB_TABLESPACES / INNODB_SYS_TABLESPACES need PROCESS", grant=PROCESS)
    return Unavailable("tablespaces: the server lists no InnoDB tablespace")


def read_redo_stalls(conn: pymysql.connections.Connection,
                     info: ServerInfo) -> dict[str, int] | Unavailable | NotApplicable:
    """Redo-space waits logged in the last hour (performance_schema.error_log, MySQL 8.0.22+)."""
    if info.is_mariadb:
        return NotApplicable("MariaDB has no performance_schema.error_log; look for redo waits in the error log file")
    placeholders = ", ".join(["%s"] * len(STALL_CODES))

    def read() -> dict[str, int]:
        rows = query_rows(
            conn,
            f"SELECT ERROR_CODE AS code, COUNT(*) AS n FROM performance_schema.error_log WHERE ERROR_CODE IN "
            f"({placeholders}) AND LOGGED >= NOW(6) - INTERVAL {STALL_WINDOW_MINUTES} MINUTE GROUP BY ERROR_CODE",
            STALL_CODES, grant_hint=ERROR_LOG_GRANT,
        )
        return {str(r["code"]): int(r["n"]) for r in rows}

    result = _guard(read, "performance_schema.error_log", ERROR_LOG_GRANT)
    if isinstance(result, Unavailable) and result.grant is None:
        return NotApplicable("this server has no performance_schema.error_log (MySQL 8.0.22+)")
    return result


_DEPRECATED_NAME = re.compile(r"'([^']+)' is deprecated|syntax '([^']+)' is deprecated", re.I)


def read_deprecated(conn: pymysql.connections.Connection, info: ServerInfo,
                    redo: RedoStatus | Unavailable) -> list[DeprecatedSetting] | Unavailable:
    """Settings the server itself reports as deprecated: MySQL's start-up warnings, MariaDB's variable comments."""
    if info.is_mariadb:
        return _guard(lambda: _mariadb_deprecated(conn), "information_schema.SYSTEM_VARIABLES")
    found = _guard(lambda: _mysql_deprecated(conn), "performance_schema.error_log", ERROR_LOG_GRANT)
    if isinstance(found, Unavailable):
        if found.grant is not None:
            return found
        found = []  # before 8.0.22 there is no error_log table: only the redo sizing check remains
    if isinstance(redo, RedoStatus) and redo.configured_capacity_bytes and redo.capacity_bytes and \
            redo.resize_status in (None, "OK") and redo.capacity_bytes != redo.configured_capacity_bytes:
        found.append(DeprecatedSetting(
            "innodb_log_file_size", f"the effective redo capacity ({redo.capacity_bytes}) differs from "
            f"innodb_redo_log_capacity ({redo.configured_capacity_bytes}): innodb_log_file_size / "
            "innodb_log_files_in_group size the redo log instead"))
    return found


def _mysql_deprecated(conn: pymysql.connections.Connection) -> list[DeprecatedSetting]:
    placeholders = ", ".join(["%s"] * len(DEPRECATION_CODES))
    rows = query_rows(conn, f"SELECT DATA FROM performance_schema.error_log WHERE ERROR_CODE IN ({placeholders}) "
                            "ORDER BY LOGGED", DEPRECATION_CODES, grant_hint=ERROR_LOG_GRANT)
    found: dict[str, str] = {}
    for row in rows:
        text = str(row["DATA"])
        match = _DEPRECATED_NAME.search(text)
        name = (match.group(1) or match.group(2)) if match else text
        found.setdefault(name.strip("-@ ").replace("-", "_"), text)
    return [DeprecatedSetting(name, detail) for name, detail in found.items()]


def _mariadb_deprecated(conn: pymysql.connections.Connection) -> list[DeprecatedSetting]:
    rows = query_rows(
        conn,
        "SELECT VARIABLE_NAME AS name, GLOBAL_VALUE_ORIGIN AS origin, VARIABLE_COMMENT AS comment "
        "FROM information_schema.SYSTEM_VARIABLES WHERE GLOBAL_VALUE_ORIGIN IN ('CONFIG', 'COMMAND-LINE') "
        "AND VARIABLE_COMMENT LIKE '%deprecated%' ORDER BY VARIABLE_NAME",
    )
    return [DeprecatedSetting(str(r["name"]).lower(), f"set in {str(r['origin']).lower()}: {r['comment']}")
            for r in rows]


def gather_snapshot(conn: pymysql.connections.Connection, interval: float = 0.0,
                    info: ServerInfo | None = None) -> Snapshot:
    """Read one server. With `interval` > 0, SHOW GLOBAL STATUS is sampled twice, `interval` seconds apart."""
    info = info or detect_server(conn)
    started = time.monotonic()
    first = global_status(conn)
    src = LiveSources(conn, info)
    redo: RedoStatus | Unavailable = _guard(lambda: collect_redo_status(conn, info, src), "redo status")
    undo = _guard(lambda: collect_undo_status(conn, info, src), "undo status")
    hll = undo if isinstance(undo, Unavailable) else history_from(undo)
    oldest = undo if isinstance(undo, Unavailable) else oldest_from(undo)
    undo_facts = undo if isinstance(undo, Unavailable) else undo_facts_from(undo)
    spaces = _guard(lambda: collect_tablespaces(conn, info, LiveSources(conn, info)), "tablespaces")
    tablespaces = spaces if isinstance(spaces, Unavailable) else tablespaces_from(spaces)
    stalls = read_redo_stalls(conn, info)
    deprecated = read_deprecated(conn, info, redo)
    last = first
    elapsed = 0.0
    if interval > 0:
        time.sleep(max(0.0, interval - (time.monotonic() - started)))
        last = global_status(conn)
        elapsed = time.monotonic() - started
    return Snapshot(
        server=info, status_start=first, status_end=last, elapsed_seconds=elapsed, redo=redo,
        history_list_length=hll, oldest_transaction=oldest, undo=undo_facts, redo_stalls=stalls,
        deprecated=deprecated, tablespaces=tablespaces,
    )


