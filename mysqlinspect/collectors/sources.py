"""Where live values come from: status variables, INNODB_METRICS and SHOW ENGINE INNODB STATUS, read once and cached.

Collectors never fail on a missing privilege: an unreadable source is recorded in `notes` and `missing_grants`
and the values it would have given stay None. The CLI decides whether a command's core data is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pymysql

from mysqlinspect.connection.query import FeatureMissing, as_int, engine_innodb_status, global_status, query_rows
from mysqlinspect.connection.server import ServerInfo
from mysqlinspect.errors import MysqlInspectError, PrivilegeError

PROCESS = "PROCESS"

# Labels used in every `sources` map (JSON values of "sources": {...}).
SRC_STATUS = "SHOW GLOBAL STATUS"
SRC_VARIABLES = "SHOW GLOBAL VARIABLES"
SRC_METRICS = "INFORMATION_SCHEMA.INNODB_METRICS"
SRC_SEIS = "SHOW ENGINE INNODB STATUS"
SRC_COMPUTED = "computed"


@dataclass(frozen=True)
class Metric:
    """One INNODB_METRICS counter: its count and whether the counter is enabled (a disabled one reads 0)."""

    count: int
    enabled: bool


@dataclass
class LiveSources:
    """Cached readers over one connection. `refresh()` drops the cached samples (for `watch`)."""

    conn: pymysql.connections.Connection
    info: ServerInfo
    notes: list[str] = field(default_factory=list)
    missing_grants: set[str] = field(default_factory=set)
    _status: dict[str, str] | None = None
    _metrics: dict[str, Metric] | None = None
    _seis: str | None = None
    _seis_read: bool = False

    def refresh(self) -> None:
        self._status = None
        self._metrics = None
        self._seis = None
        self._seis_read = False

    # ---- readers ------------------------------------------------------------------------------
    def status(self) -> dict[str, str]:
        if self._status is None:
            self._status = global_status(self.conn)
        return self._status

    def status_int(self, name: str) -> int | None:
        return as_int(self.status().get(name.lower()))

    def status_text(self, name: str) -> str | None:
        return self.status().get(name.lower())

    def variable(self, name: str) -> str | None:
        return self.info.variable(name)

    def variable_int(self, name: str) -> int | None:
        return as_int(self.info.variable(name))

    def metrics(self) -> dict[str, Metric]:
        if self._metrics is None:
            self._metrics = self._read_metrics()
        return self._metrics

    def metric(self, name: str) -> int | None:
        """The count of an enabled INNODB_METRICS counter, else None."""
        found = self.metrics().get(name)
        return found.count if found is not None and found.enabled else None

    def seis(self) -> str | None:
        """SHOW ENGINE INNODB STATUS text, or None (with a note) when the account lacks PROCESS."""
        if not self._seis_read:
            self._seis_read = True
            try:
                self._seis = engine_innodb_status(self.conn)
            except PrivilegeError:
                self.unavailable(SRC_SEIS, PROCESS)
                self._seis = None
        return self._seis

    def rows(self, sql: str, what: str, grant: str | None = None, args: Any = None) -> list[dict[str, Any]] | None:
        """Rows of a probe query; None when the table does not exist here or the account may not read it."""
        try:
            return query_rows(self.conn, sql, args)
        except PrivilegeError as exc:
            self.unavailable(what, grant or exc.grant or "the privilege named by the server")
            return None
        except FeatureMissing:
            return None

    def unavailable(self, what: str, grant: str) -> None:
        note = f"{what} unavailable: needs {grant}"
        if note not in self.notes:
            self.notes.append(note)
        self.missing_grants.add(grant)

    # ---- internals ------------------------------------------------------------------------------
    def _read_metrics(self) -> dict[str, Metric]:
        # MySQL 8.0+ has a STATUS column ('enabled'/'disabled'); MariaDB and 5.6 an ENABLED column (1/0).
        for column, is_on in (("STATUS", lambda v: str(v).lower() == "enabled"), ("ENABLED", lambda v: str(v) == "1")):
            try:
                sql = f"SELECT NAME, `COUNT` AS cnt, `{column}` AS state FROM information_schema.INNODB_METRICS"
                rows = query_rows(self.conn, sql)
            except PrivilegeError:
                self.unavailable(SRC_METRICS, PROCESS)
                return {}
            except FeatureMissing:
                continue
            except MysqlInspectError:
                return {}
            return {str(r["NAME"]).lower(): Metric(int(r["cnt"] or 0), is_on(r["state"])) for r in rows}
        return {}


def sourced(sources: dict[str, str], key: str, value: Any, source: str) -> Any:
    """Record where `key` came from when it has a value, and return the value."""
    if value is not None:
        sources[key] = source
    return value


def first_available(sources: dict[str, str], key: str, *candidates: tuple[Any, str]) -> Any:
    """The first (value, source) pair whose value is not None; records its source under `key`."""
    for value, source in candidates:
        if value is not None:
            sources[key] = source
            return value
    return None


def pct(part: int | float | None, whole: int | float | None, digits: int = 2) -> float | None:
    if part is None or not whole:
        return None
    return round(100.0 * part / whole, digits)


def is_on(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.strip().upper() in ("ON", "1", "YES", "TRUE")
