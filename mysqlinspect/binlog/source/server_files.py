"""What the server says about its binary logs: the file list, the write position, per-file probes.

Probes use the header-only RawDump: a file's head gives its creation time (Format_description), the GTID state
before it (MySQL Previous_gtids, MariaDB Gtid_list) and its first event time; a closed file's tail (its closing
Rotate or Stop event, whose size is known) gives its last event time.
"""

from __future__ import annotations

from dataclasses import dataclass

import pymysql

from mysqlinspect.binlog.position import FIRST_EVENT_POS, BinlogPosition
from mysqlinspect.binlog.source import rawdump
from mysqlinspect.connection.query import FeatureMissing, query_rows
from mysqlinspect.connection.server import BINLOG_STATUS_STATEMENTS
from mysqlinspect.connection.settings import ConnectionSettings
from mysqlinspect.errors import BinlogNotEnabledError, InputNotFoundError, MysqlInspectError, PrivilegeError

BOOKKEEPING_TYPES = frozenset({
    rawdump.FORMAT_DESCRIPTION_EVENT, rawdump.PREVIOUS_GTIDS_EVENT, rawdump.MARIADB_GTID_LIST,
    rawdump.MARIADB_BINLOG_CHECKPOINT, rawdump.ROTATE_EVENT, rawdump.STOP_EVENT, 164,
})


@dataclass(frozen=True)
class ServerBinlogFile:
    name: str
    size: int
    encrypted: bool | None = None


@dataclass(frozen=True)
class WritePosition:
    file: str
    pos: int
    gtid_executed: str | None
    statement: str

    @property
    def position(self) -> BinlogPosition:
        return BinlogPosition(self.file, self.pos)


@dataclass
class FileHead:
    created: int | None = None  # Format_description timestamp (file creation)
    first_event_time: int | None = None
    previous_gtids: str | None = None  # MySQL Previous_gtids / MariaDB Gtid_list (the state before this file)
    server_version: str | None = None


def binlog_files(conn: pymysql.connections.Connection) -> list[ServerBinlogFile]:
    """SHOW BINARY LOGS; a clear error when binary logging is off."""
    try:
        rows = query_rows(conn, "SHOW BINARY LOGS", grant_hint="REPLICATION CLIENT (or BINLOG MONITOR) privilege")
    except FeatureMissing as exc:
        raise BinlogNotEnabledError("binary logging is not enabled on this server (log_bin=OFF)") from exc
    except MysqlInspectError as exc:
        if "not using binary logging" in str(exc).lower():
            raise BinlogNotEnabledError("binary logging is not enabled on this server (log_bin=OFF)") from exc
        raise
    out = []
    for row in rows:
        values = list(row.values())
        encrypted = row.get("Encrypted")
        out.append(ServerBinlogFile(name=str(values[0]), size=int(values[1]),
                                    encrypted=None if encrypted is None else str(encrypted).lower() == "yes"))
    if not out:
        raise BinlogNotEnabledError("the server lists no binary log files (is log_bin on?)")
    return out


def write_position(conn: pymysql.connections.Connection) -> WritePosition:
    """The current write position, probing SHOW BINARY LOG STATUS / SHOW BINLOG STATUS / SHOW MASTER STATUS."""
    last_error: MysqlInspectError | None = None
    for statement in BINLOG_STATUS_STATEMENTS:
        try:
            rows = query_rows(conn, statement, grant_hint="REPLICATION CLIENT (or BINLOG MONITOR) privilege")
        except FeatureMissing as exc:
            last_error = exc
            continue
        except PrivilegeError:
            raise
        if not rows:
            raise BinlogNotEnabledError("binary logging is not enabled on this server (log_bin=OFF)")
        row = rows[0]
        gtid = row.get("Executed_Gtid_Set")
        return WritePosition(file=str(row["File"]), pos=int(row["Position"]),
                             gtid_executed=str(gtid).replace("\n", "") if gtid is not None else None,
                             statement=statement)
    raise BinlogNotEnabledError(f"no binlog status statement works on this server: {last_error}")


def check_file_available(files: list[ServerBinlogFile], name: str) -> None:
    """A named file must be on the server; purged ones get an error naming the first available file."""
    if any(f.name == name for f in files):
        return
    first, last = files[0].name, files[-1].name
    raise InputNotFoundError(f"binlog file {name} is not on the server (purged or never existed); "
                             f"available: {first} .. {last} (the first available file is {first})")


def probe_head(settings: ConnectionSettings, name: str, flavor: str) -> FileHead:
    """Read the first events of a file: creation time, GTID state before it, first real event time."""
    head = FileHead()
    with rawdump.RawDump(settings, BinlogPosition(name, FIRST_EVENT_POS)) as dump:
        for ev in dump:
            if ev.file != name:
                break
            if ev.type_code == rawdump.FORMAT_DESCRIPTION_EVENT:
                head.created = ev.timestamp
                head.server_version = bytes(ev.body[2:52]).split(b"\0")[0].decode("ascii", "replace")
            elif ev.type_code == rawdump.PREVIOUS_GTIDS_EVENT:
                head.previous_gtids = _safe_previous_gtids(bytes(ev.body))
            elif ev.type_code == rawdump.MARIADB_GTID_LIST:
                head.previous_gtids = rawdump.mariadb_gtid_list(bytes(ev.body))
            elif ev.type_code not in BOOKKEEPING_TYPES:
                head.first_event_time = ev.timestamp
                break
    return head


def _safe_previous_gtids(body: bytes) -> str | None:
    try:
        return rawdump.previous_gtids(body)
    except (IndexError, ValueError, MysqlInspectError):
        return None


def probe_last_event_time(settings: ConnectionSettings, file: ServerBinlogFile, next_name: str | None) -> int | None:
    """The timestamp of a closed file's last event (its Rotate or Stop), read at its known size."""
    candidates = []
    if next_name is not None:
        candidates += [19 + 8 + len(next_name) + 4, 19 + 8 + len(next_name)]
    candidates += [19 + 4, 19]
    for size in candidates:
        pos = file.size - size
        if pos < FIRST_EVENT_POS:
            continue
        try:
            with rawdump.RawDump(settings, BinlogPosition(file.name, pos)) as dump:
                for ev in dump:
                    if ev.file == file.name and ev.start_pos == pos and ev.end_pos == file.size:
                        return ev.timestamp
                    break
        except MysqlInspectError:
            continue
    return None


def scan_last_event_time(settings: ConnectionSettings, name: str, end: int) -> int | None:
    """Header-only scan of a file up to `end` (for the active file, whose last event start is unknown)."""
    last: int | None = None
    with rawdump.RawDump(settings, BinlogPosition(name, FIRST_EVENT_POS)) as dump:
        for ev in dump:
            if ev.file != name or ev.start_pos >= end:
                break
            if ev.type_code not in BOOKKEEPING_TYPES:
                last = ev.timestamp
    return last
