"""`binlog list`: the server's binary log files with sizes, event times, GTIDs, write position and expiry settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pymysql

from mysqlinspect.binlog.read.gtid import GtidSet
from mysqlinspect.binlog.source.server_files import (
    FileHead,
    ServerBinlogFile,
    WritePosition,
    binlog_files,
    probe_head,
    probe_last_event_time,
    scan_last_event_time,
    write_position,
)
from mysqlinspect.connection.query import global_variables
from mysqlinspect.connection.server import ServerInfo
from mysqlinspect.connection.settings import ConnectionSettings
from mysqlinspect.errors import BinlogNotEnabledError, MysqlInspectError

ACTIVE_SCAN_LIMIT = 64 * 1024 * 1024  # scan the active file for its last event time only up to this size
SETTINGS = ("log_bin", "log_bin_basename", "binlog_format", "binlog_row_image", "binlog_row_metadata",
            "binlog_checksum", "binlog_expire_logs_seconds", "binlog_expire_logs_auto_purge", "expire_logs_days",
            "max_binlog_size", "binlog_space_limit", "max_binlog_total_size", "slave_connections_needed_for_purge",
            "sync_binlog", "gtid_mode", "gtid_purged", "gtid_binlog_pos", "binlog_transaction_compression",
            "log_bin_compress", "encrypt_binlog", "binlog_encryption")


@dataclass
class BinlogFileInfo:
    name: str
    size_bytes: int
    encrypted: bool | None
    created: int | None  # Format_description timestamp (UTC seconds)
    first_event_time: int | None
    last_event_time: int | None
    previous_gtids: str | None  # MySQL Previous_gtids / MariaDB Gtid_list: the GTID state before the file
    gtids: str | None  # GTIDs written in this file (from consecutive GTID states)
    first_gtid: str | None
    last_gtid: str | None
    active: bool


@dataclass
class BinlogListing:
    flavor: str
    files: list[BinlogFileInfo]
    total_bytes: int
    write_position: WritePosition | None  # None: local files (collectors/binlog_files.py), no server
    settings: dict[str, str | None]
    purge: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    source: str = "server"  # or "files"
    gtid_state: str | None = None  # files: the GTID state after the last file (its Previous_gtids + its GTIDs)

    def to_dict(self) -> dict[str, Any]:
        pos = self.write_position
        current = None if pos is None else {"file": pos.file, "pos": pos.pos, "gtid_executed": pos.gtid_executed,
                                            "statement": pos.statement}
        return {
            "source": self.source,
            "flavor": self.flavor,
            "files": [vars(f) for f in self.files],
            "file_count": len(self.files),
            "total_bytes": self.total_bytes,
            "current": current,
            "gtid_state": self.gtid_state,
            "purge": self.purge,
            "settings": self.settings,
            "notes": self.notes,
        }


def collect_binlog_listing(conn: pymysql.connections.Connection, settings: ConnectionSettings, info: ServerInfo,
                           probe: bool = True) -> BinlogListing:
    """List the files; with `probe`, read each file's head (and tail) over a dump connection."""
    if str(info.variable("log_bin", "ON")).upper() in ("OFF", "0"):
        raise BinlogNotEnabledError("binary logging is not enabled on this server (log_bin=OFF)")
    files = binlog_files(conn)
    pos = write_position(conn)
    variables = global_variables(conn)
    chosen = {name: variables.get(name) for name in SETTINGS if name in variables}
    gtid_state = variables.get("gtid_binlog_pos") if info.is_mariadb else pos.gtid_executed
    listing = BinlogListing(flavor=info.flavor, files=[], total_bytes=sum(f.size for f in files),
                            write_position=pos, settings=chosen, purge=purge_settings(variables, info),
                            gtid_state=gtid_state)
    heads: list[FileHead] = []
    if probe:
        try:
            heads = [probe_head(settings, f.name, info.flavor) for f in files]
        except MysqlInspectError as exc:
            listing.notes.append(f"event times and GTIDs not read: {exc}")
            heads = []
    for i, f in enumerate(files):
        head = heads[i] if heads else FileHead()
        after = heads[i + 1].previous_gtids if heads and i + 1 < len(files) else gtid_state
        gtids = _gtids_in_file(info.flavor, head.previous_gtids, after) if heads else None
        first, last = gtids.first_and_last() if gtids is not None else (None, None)
        listing.files.append(BinlogFileInfo(
            name=f.name, size_bytes=f.size, encrypted=f.encrypted, created=head.created,
            first_event_time=head.first_event_time,
            last_event_time=_last_time(settings, f, files, i, pos, listing) if heads else None,
            previous_gtids=head.previous_gtids, gtids=str(gtids) if gtids is not None else None,
            first_gtid=first, last_gtid=last, active=f.name == pos.file))
    return listing


def _last_time(settings: ConnectionSettings, f: ServerBinlogFile, files: list[ServerBinlogFile], i: int,
               pos: WritePosition, listing: BinlogListing) -> int | None:
    try:
        if f.name != pos.file:
            next_name = files[i + 1].name if i + 1 < len(files) else None
            return probe_last_event_time(settings, f, next_name)
        if pos.pos <= ACTIVE_SCAN_LIMIT:
            return scan_last_event_time(settings, f.name, pos.pos)
        listing.notes.append(f"last event time of the active file {f.name} not read (larger than "
                             f"{ACTIVE_SCAN_LIMIT // (1024 * 1024)} MiB)")
    except MysqlInspectError as exc:
        listing.notes.append(f"{f.name}: last event time not read: {exc}")
    return None


def _gtids_in_file(flavor: str, before: str | None, after: str | None) -> GtidSet | None:
    if before is None and after is None:
        return None
    try:
        if flavor == "mariadb":
            return GtidSet.from_mariadb_position(after).difference(GtidSet.from_mariadb_position(before))
        return GtidSet.parse(after or "", "mysql").difference(GtidSet.parse(before or "", "mysql"))
    except MysqlInspectError:
        return None


def purge_settings(variables: dict[str, str], info: ServerInfo) -> dict[str, Any]:
    """Expiry and size limits, normalised to seconds/bytes (None when the server has no such setting)."""

    def as_int(name: str) -> int | None:
        value = variables.get(name)
        try:
            return int(float(value)) if value not in (None, "") else None
        except ValueError:
            return None

    seconds = as_int("binlog_expire_logs_seconds")
    days = as_int("expire_logs_days")
    effective = seconds if seconds else (days * 86400 if days else None)
    auto = variables.get("binlog_expire_logs_auto_purge")
    return {
        "expire_seconds": effective,
        "binlog_expire_logs_seconds": seconds,
        "expire_logs_days": days,
        "auto_purge": None if auto is None else auto.upper() == "ON",
        "max_binlog_size": as_int("max_binlog_size"),
        "space_limit_bytes": as_int("binlog_space_limit") or as_int("max_binlog_total_size"),
        "gtid_purged": (variables.get("gtid_purged") or "").replace("\n", "") or None,
    }
