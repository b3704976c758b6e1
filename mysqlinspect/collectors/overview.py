"""The `status` overview: server, binlog position, redo capacity and checkpoint age, doublewrite, undo, durability."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pymysql

from mysqlinspect.collectors.doublewrite import normalise_mode
from mysqlinspect.collectors.redo import collect_redo_status
from mysqlinspect.connection.query import as_int, global_status, query_rows, query_scalar
from mysqlinspect.connection.server import ServerInfo, detect_server
from mysqlinspect.errors import MysqlInspectError, PrivilegeError


@dataclass(frozen=True)
class BinlogPosition:
    file: str | None
    position: int | None
    gtid_executed: str | None = None


@dataclass
class StatusOverview:
    server: ServerInfo
    binlog_enabled: bool
    binlog_format: str | None
    binlog_position: BinlogPosition | None
    redo_capacity_bytes: int | None
    current_lsn: int | None
    checkpoint_lsn: int | None
    checkpoint_age_bytes: int | None
    checkpoint_age_pct: float | None
    doublewrite_mode: str | None
    undo_tablespace_count: int | None
    flush_log_at_trx_commit: int | None
    sync_binlog: int | None
    notes: list[str] = field(default_factory=list)
    missing_grants: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        pos = self.binlog_position
        return {
            "server": self.server.to_dict(),
            "binlog": {
                "enabled": self.binlog_enabled,
                "format": self.binlog_format,
                "file": pos.file if pos else None,
                "position": pos.position if pos else None,
                "gtid_executed": pos.gtid_executed if pos else None,
            },
            "redo": {
                "capacity_bytes": self.redo_capacity_bytes,
                "current_lsn": self.current_lsn,
                "checkpoint_lsn": self.checkpoint_lsn,
                "checkpoint_age_bytes": self.checkpoint_age_bytes,
                "checkpoint_age_pct": self.checkpoint_age_pct,
            },
            "doublewrite": {"mode": self.doublewrite_mode},
            "undo": {"tablespace_count": self.undo_tablespace_count},
            "durability": {
                "innodb_flush_log_at_trx_commit": self.flush_log_at_trx_commit,
                "sync_binlog": self.sync_binlog,
            },
            "notes": self.notes,
            "missing_grants": self.missing_grants,
        }


def binlog_position(conn: pymysql.connections.Connection, info: ServerInfo) -> BinlogPosition | None:
    statement = info.features.get("binlog_status_statement")
    if not statement:
        return None
    rows = query_rows(conn, statement, grant_hint="REPLICATION CLIENT (MariaDB: BINLOG MONITOR) privilege")
    if not rows:
        return None
    row = rows[0]
    gtid = row.get("Executed_Gtid_Set") or info.variable("gtid_binlog_pos")
    return BinlogPosition(file=row.get("File"), position=as_int(row.get("Position")), gtid_executed=gtid or None)


def doublewrite_mode(info: ServerInfo) -> str | None:
    mode = normalise_mode(info.variable("innodb_doublewrite"))
    if info.is_mariadb and mode == "ON" and (info.variable("innodb_use_atomic_writes") or "").upper() == "ON":
        return "ON (atomic writes may bypass it)"
    return mode


def undo_tablespace_count(conn: pymysql.connections.Connection, info: ServerInfo) -> int | None:
    """INFORMATION_SCHEMA.INNODB_TABLESPACES (MySQL, needs PROCESS), else the status counter
    Innodb_undo_tablespaces_total (MySQL 8.0.14+, no privilege), else the variable innodb_undo_tablespaces
    (MariaDB, older MySQL)."""
    try:
        count = query_scalar(
            conn, "SELECT COUNT(*) FROM information_schema.INNODB_TABLESPACES WHERE SPACE_TYPE = 'Undo'"
        )
        if count:
            return int(count)
    except MysqlInspectError:
        pass
    try:
        total = as_int(global_status(conn, "Innodb_undo_tablespaces_total").get("innodb_undo_tablespaces_total"))
    except MysqlInspectError:
        total = None
    return total if total else as_int(info.variable("innodb_undo_tablespaces"))


def collect_overview(conn: pymysql.connections.Connection) -> StatusOverview:
    """What the account can read; a section it may not read becomes a note naming the grant. Raises
    PrivilegeError only when none of the privileged sections (binlog position, redo LSNs) could be read."""
    info = detect_server(conn)
    notes: list[str] = []
    missing: list[str] = []
    readable = 0
    binlog_on = (info.variable("log_bin") or "OFF").upper() in ("ON", "1")
    position = None
    if binlog_on:
        try:
            position = binlog_position(conn, info)
            readable += 1
        except PrivilegeError as exc:
            notes.append(f"binary log position unavailable: needs {exc.grant or 'a privilege'}")
            missing.append(exc.grant or "")
    redo = collect_redo_status(conn, info)
    if redo.checkpoint_age_bytes is None and redo.missing_grants:
        notes.append(f"redo LSNs unavailable: needs {' or '.join(redo.missing_grants)}")
        missing.append(redo.missing_grants[0])
    else:
        readable += 1
    if missing and not readable:
        raise PrivilegeError("; ".join(notes), grant=missing[0])
    return StatusOverview(
        server=info,
        binlog_enabled=binlog_on,
        binlog_format=info.variable("binlog_format"),
        binlog_position=position,
        redo_capacity_bytes=redo.capacity_bytes,
        current_lsn=redo.current_lsn,
        checkpoint_lsn=redo.checkpoint_lsn,
        checkpoint_age_bytes=redo.checkpoint_age_bytes,
        checkpoint_age_pct=redo.checkpoint_age_pct,
        doublewrite_mode=doublewrite_mode(info),
        undo_tablespace_count=undo_tablespace_count(conn, info),
        flush_log_at_trx_commit=as_int(info.variable("innodb_flush_log_at_trx_commit")),
        sync_binlog=as_int(info.variable("sync_binlog")),
        notes=notes,
        missing_grants=[grant for grant in missing if grant],
    )
