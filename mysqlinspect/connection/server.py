"""Server detection: flavor, version and features, found by probing what exists rather than by version alone."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pymysql

from mysqlinspect.connection.query import FeatureMissing, query_rows, query_scalar
from mysqlinspect.errors import MysqlInspectError, PrivilegeError

BINLOG_STATUS_STATEMENTS = ("SHOW BINARY LOG STATUS", "SHOW BINLOG STATUS", "SHOW MASTER STATUS")


@dataclass(frozen=True)
class ServerInfo:
    """What the connected server is and what it offers."""

    flavor: str  # "mysql", "mariadb" or "percona"
    version: tuple[int, int, int]
    version_string: str
    version_comment: str
    server_id: int
    uptime_seconds: int
    hostname: str
    datadir: str
    variables: dict[str, str] = field(repr=False)
    features: dict[str, Any] = field(default_factory=dict)
    privileges: frozenset[str] = frozenset()

    @property
    def is_mariadb(self) -> bool:
        return self.flavor == "mariadb"

    @property
    def is_mysql(self) -> bool:
        return not self.is_mariadb

    def at_least(self, major: int, minor: int = 0, patch: int = 0) -> bool:
        return self.version >= (major, minor, patch)

    def variable(self, name: str, default: str | None = None) -> str | None:
        return self.variables.get(name.lower(), default)

    def has_privilege(self, privilege: str) -> bool:
        privs = self.privileges
        return "ALL PRIVILEGES" in privs or ("SUPER" in privs and privilege in _SUPER_COVERS) or privilege in privs

    def to_dict(self) -> dict[str, Any]:
        return {
            "flavor": self.flavor,
            "version": ".".join(map(str, self.version)),
            "version_string": self.version_string,
            "version_comment": self.version_comment,
            "server_id": self.server_id,
            "uptime_seconds": self.uptime_seconds,
            "hostname": self.hostname,
            "datadir": self.datadir,
            "features": self.features,
            "privileges": sorted(self.privileges),
        }


_SUPER_COVERS = {"REPLICATION CLIENT", "BINLOG MONITOR", "PROCESS", "REPLICATION SLAVE"}


def parse_version(text: str) -> tuple[int, int, int]:
    match = re.match(r"(\d+)\.(\d+)\.(\d+)", text)
    if not match:
        return (0, 0, 0)
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def detect_flavor(version: str, comment: str) -> str:
    text = f"{version} {comment}".lower()
    if "mariadb" in text:
        return "mariadb"
    if "percona" in text:
        return "percona"
    return "mysql"


def detect_server(conn: pymysql.connections.Connection) -> ServerInfo:
    """Read version, variables and probe the features the commands need."""
    from mysqlinspect.connection.query import global_variables

    variables = global_variables(conn)
    version_string = variables.get("version", "") or str(query_scalar(conn, "SELECT VERSION()"))
    comment = variables.get("version_comment", "")
    flavor = detect_flavor(version_string, comment)
    uptime = query_rows(conn, "SHOW GLOBAL STATUS LIKE 'Uptime'")
    privileges = current_privileges(conn)
    info = ServerInfo(
        flavor=flavor,
        version=parse_version(version_string),
        version_string=version_string,
        version_comment=comment,
        server_id=int(variables.get("server_id", "0") or 0),
        uptime_seconds=int(list(uptime[0].values())[1]) if uptime else 0,
        hostname=variables.get("hostname", ""),
        datadir=variables.get("datadir", ""),
        variables=variables,
        privileges=privileges,
    )
    info.features.update(probe_features(conn, info))
    return info


def current_privileges(conn: pymysql.connections.Connection) -> frozenset[str]:
    """Global privileges of the current account (roles included where SHOW GRANTS expands them)."""
    privs: set[str] = set()
    try:
        for row in query_rows(conn, "SHOW GRANTS"):
            grant = str(next(iter(row.values())))
            match = re.match(r"GRANT (.+?) ON \*\.\* TO", grant, flags=re.I)
            if match:
                privs.update(p.strip().upper() for p in match.group(1).split(","))
    except MysqlInspectError:
        pass
    return frozenset(privs)


def probe_features(conn: pymysql.connections.Connection, info: ServerInfo) -> dict[str, Any]:
    """Probe statements, tables and variables that differ between versions and flavors."""
    features: dict[str, Any] = {
        "binlog_status_statement": probe_binlog_status_statement(conn),
        "redo_log_files_table": table_exists(conn, "performance_schema", "innodb_redo_log_files"),
        "redo_log_capacity": "innodb_redo_log_capacity" in info.variables,
        "performance_schema": info.variables.get("performance_schema", "OFF").upper() == "ON",
        "gtid": "gtid_mode" in info.variables and "domain" not in info.variables.get("gtid_mode", ""),
        "mariadb_gtid": "gtid_domain_id" in info.variables,
        "innodb_metrics": table_exists(conn, "information_schema", "INNODB_METRICS"),
        "binlog_transaction_compression": "binlog_transaction_compression" in info.variables,
        "innodb_doublewrite_files": "innodb_doublewrite_files" in info.variables,
    }
    return features


def probe_binlog_status_statement(conn: pymysql.connections.Connection) -> str | None:
    """The first of SHOW BINARY LOG STATUS / SHOW BINLOG STATUS / SHOW MASTER STATUS that the server knows."""
    for statement in BINLOG_STATUS_STATEMENTS:
        try:
            query_rows(conn, statement)
            return statement
        except FeatureMissing:
            continue
        except PrivilegeError:
            return statement  # it exists; the account just may not run it
    return None


def table_exists(conn: pymysql.connections.Connection, schema: str, table: str) -> bool:
    try:
        rows = query_rows(
            conn,
            "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
            (schema, table),
        )
    except MysqlInspectError:
        return False
    return bool(rows)
