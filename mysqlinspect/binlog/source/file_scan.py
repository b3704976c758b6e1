"""Offline binary log files, for crash recovery: the XIDs they commit, the XA state they record, where the last
complete transaction ends, and MariaDB's binlog checkpoint (binlog-format.md §1, §3).

Only headers and a few small bodies are read: FORMAT_DESCRIPTION (checksum algorithm, in-use flag), XID,
QUERY (BEGIN/COMMIT/ROLLBACK/XA COMMIT/XA ROLLBACK/DDL text, and the XID of a DDL logged with one), XA_PREPARE,
GTID events (group starts; MariaDB flags) and BINLOG_CHECKPOINT. A file is read up to its first incomplete or
checksum-failing event.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mysqlinspect.binlog.source.status_vars import Q_DDL_LOGGED_WITH_XID, Q_XID, status_variables
from mysqlinspect.errors import DataError, InputNotFoundError

BINLOG_MAGIC = b"\xfebin"
HEADER = struct.Struct("<IBIIIH")
HEADER_LEN = 19
LOG_EVENT_BINLOG_IN_USE_F = 0x1
CHECKSUM_LEN = 4

QUERY_EVENT = 2
STOP_EVENT = 3
ROTATE_EVENT = 4
FORMAT_DESCRIPTION_EVENT = 15
XID_EVENT = 16
GTID_EVENTS = frozenset({33, 34, 42})  # MySQL GTID, ANONYMOUS_GTID, GTID_TAGGED
XA_PREPARE_LOG_EVENT = 38
MARIADB_BINLOG_CHECKPOINT = 161
MARIADB_GTID = 162
MARIADB_FL_STANDALONE = 1
QUERY_HEADER_LEN = 13
_XA_TEXT = re.compile(r"^\s*XA\s+(COMMIT|ROLLBACK)\s+(.*?)\s*(ONE\s+PHASE)?\s*$", re.I | re.S)
_XA_PART = re.compile(r"X'([0-9a-fA-F]*)'|'((?:[^'\\]|\\.)*)'|(\d+)")


@dataclass(frozen=True)
class XaKey:
    format_id: int
    gtrid: bytes
    bqual: bytes


def parse_xa_ids(text: str) -> XaKey | None:
    """The XID of an `XA COMMIT|ROLLBACK X'..',X'..',N` text as the server logs it ('..' literals also)."""
    parts: list[bytes | int] = []
    for m in _XA_PART.finditer(text):
        if m.group(1) is not None:
            parts.append(bytes.fromhex(m.group(1)))
        elif m.group(2) is not None:
            parts.append(m.group(2).encode())
        else:
            parts.append(int(m.group(3)))
    gtrid = parts[0] if parts and isinstance(parts[0], bytes) else None
    if gtrid is None:
        return None
    bqual = parts[1] if len(parts) > 1 and isinstance(parts[1], bytes) else b""
    fmt = next((p for p in parts[1:] if isinstance(p, int)), 1)
    assert isinstance(fmt, int)
    return XaKey(fmt, gtrid, bqual)


@dataclass
class BinlogFileScan:
    """What one binlog file holds for recovery."""

    path: Path
    size: int
    server_version: str = ""
    in_use: bool = False  # LOG_EVENT_BINLOG_IN_USE_F still set: not closed cleanly (a crash, or still open)
    valid_end: int = 4  # end of the last whole, checksum-valid event
    last_complete_end: int = 4  # end of the last complete transaction (or bookkeeping event)
    stop_reason: str = "end_of_file"  # end_of_file, partial_event, checksum_mismatch, bad_event
    xids: list[int] = field(default_factory=list)
    xa_prepared: list[tuple[XaKey, bool]] = field(default_factory=list)  # (xid, one_phase)
    xa_completed: list[tuple[XaKey, str]] = field(default_factory=list)  # (xid, "commit"|"rollback")
    # every XA step in file order: (xid, "prepared" | "one_phase" | "commit" | "rollback"); the last one counts
    xa_events: list[tuple[XaKey, str]] = field(default_factory=list)
    checkpoint_names: list[str] = field(default_factory=list)  # MariaDB BINLOG_CHECKPOINT file names
    closed_by: str | None = None  # rotate or stop
    events: int = 0

    @property
    def partial_bytes(self) -> int:
        """Bytes after the last complete transaction (a partly written transaction, or a torn event)."""
        return self.size - self.last_complete_end

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.path.name, "size": self.size, "server_version": self.server_version,
                "in_use": self.in_use, "valid_end": self.valid_end, "last_complete_end": self.last_complete_end,
                "partial_bytes": self.partial_bytes, "stop_reason": self.stop_reason, "events": self.events,
                "xids": len(self.xids), "xa_prepared": len(self.xa_prepared), "closed_by": self.closed_by,
                "binlog_checkpoints": self.checkpoint_names}


class _Groups:
    """Transaction boundaries (binlog-format.md §3.1)."""

    def __init__(self, mariadb: bool) -> None:
        self.mariadb = mariadb
        self.open = False
        self.after_gtid = False
        self.standalone = False

    def event(self, type_code: int, body: bytes, query: str | None) -> bool:
        """Feed one event; True when it ends a group (or stands outside any)."""
        if type_code in GTID_EVENTS or type_code == MARIADB_GTID:
            self.open, self.after_gtid = True, True
            self.standalone = type_code == MARIADB_GTID and len(body) > 12 and bool(body[12] & MARIADB_FL_STANDALONE)
            return False
        after_gtid, self.after_gtid = self.after_gtid, False
        if type_code in (XID_EVENT, XA_PREPARE_LOG_EVENT):
            self.open = False
            return True
        if type_code == QUERY_EVENT and query is not None:
            word = query.lstrip()[:16].upper()
            if word.startswith(("BEGIN", "XA START")):
                self.open = True
                return False
            if (word.startswith(("COMMIT", "ROLLBACK", "XA COMMIT", "XA ROLLBACK")) or self.standalone
                    or (after_gtid and not self.mariadb) or not self.open):
                self.open = self.standalone = False
                return True
            return False
        return not self.open


def _query_text(body: bytes) -> str:
    db_len = body[8]
    status_len = struct.unpack_from("<H", body, 11)[0]
    start = QUERY_HEADER_LEN + status_len + db_len + 1
    return body[start:].decode("utf-8", errors="replace")


def query_status_xid(body: bytes) -> int | None:
    """The XID a Query event carries in its status variables (a DDL logged with its XID), else None."""
    status_len = struct.unpack_from("<H", body, 11)[0]
    values = status_variables(body[QUERY_HEADER_LEN:QUERY_HEADER_LEN + status_len])
    xid = values.get(Q_DDL_LOGGED_WITH_XID) or values.get(Q_XID)
    return int.from_bytes(xid, "little") if xid is not None and len(xid) == 8 else None


def _xa_prepare(body: bytes) -> tuple[XaKey, bool]:
    one_phase = bool(body[0])
    fmt, glen, blen = struct.unpack_from("<iII", body, 1)
    data = body[13:13 + glen + blen]
    return XaKey(fmt, data[:glen], data[glen:]), one_phase


def scan_binlog_file(path: Path) -> BinlogFileScan:
    """Read one binlog file offline (headers and the small bodies recovery needs)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise InputNotFoundError(f"{path}: no such file") from exc
    if not data.startswith(BINLOG_MAGIC):
        raise DataError(f"{path}: not a binary log (no \\xfebin magic)")
    scan = BinlogFileScan(path, len(data))
    checksum = False
    groups: _Groups | None = None
    pos = 4
    while pos < len(data):
        if len(data) - pos < HEADER_LEN:
            scan.stop_reason = "partial_event"
            break
        _ts, type_code, _sid, size, _log_pos, flags = HEADER.unpack_from(data, pos)
        if size < HEADER_LEN:
            scan.stop_reason = "bad_event"
            break
        if pos + size > len(data):
            scan.stop_reason = "partial_event"
            break
        event = data[pos:pos + size]
        if type_code == FORMAT_DESCRIPTION_EVENT:
            checksum = _fde(scan, event, flags)
            groups = _Groups("MariaDB" in scan.server_version)
        elif checksum and zlib.crc32(event[:-CHECKSUM_LEN]) != struct.unpack_from("<I", event, size - 4)[0]:
            scan.stop_reason = "checksum_mismatch"
            break
        body = event[HEADER_LEN:size - CHECKSUM_LEN if checksum else size]
        query = _event(scan, type_code, body)
        pos += size
        scan.valid_end = pos
        scan.events += 1
        if groups is None or groups.event(type_code, body, query):
            scan.last_complete_end = pos
    return scan


def _fde(scan: BinlogFileScan, event: bytes, flags: int) -> bool:
    scan.in_use = bool(flags & LOG_EVENT_BINLOG_IN_USE_F)
    scan.server_version = event[HEADER_LEN + 2:HEADER_LEN + 52].split(b"\0", 1)[0].decode("latin-1")
    return event[-5] == 1  # checksum algorithm byte before the FDE's own CRC: 1 = CRC32


def _event(scan: BinlogFileScan, type_code: int, body: bytes) -> str | None:
    if type_code == XID_EVENT and len(body) >= 8:
        scan.xids.append(struct.unpack_from("<Q", body)[0])
    elif type_code == XA_PREPARE_LOG_EVENT and len(body) >= 13:
        prepared, one_phase = _xa_prepare(body)
        scan.xa_prepared.append((prepared, one_phase))
        scan.xa_events.append((prepared, "one_phase" if one_phase else "prepared"))
    elif type_code == MARIADB_BINLOG_CHECKPOINT and len(body) >= 4:
        n = struct.unpack_from("<I", body)[0]
        scan.checkpoint_names.append(body[4:4 + n].decode("utf-8", errors="replace"))
    elif type_code in (ROTATE_EVENT, STOP_EVENT):
        scan.closed_by = "rotate" if type_code == ROTATE_EVENT else "stop"
    elif type_code == QUERY_EVENT and len(body) >= QUERY_HEADER_LEN:
        text = _query_text(body)
        ddl_xid = query_status_xid(body)
        if ddl_xid is not None:
            scan.xids.append(ddl_xid)
        match = _XA_TEXT.match(text)
        if match:
            key = parse_xa_ids(match.group(2))
            if key is not None:
                scan.xa_completed.append((key, match.group(1).lower()))
                scan.xa_events.append((key, match.group(1).lower()))
        return text
    return None


def binlog_index_files(directory: Path) -> list[Path]:
    """The binlog index files of a directory (`<base>.index`, relay-log indexes left out)."""
    return [p for p in sorted(directory.glob("*.index")) if "relay" not in p.name]


def binlog_files_in_order(datadir: Path, indexes: list[Path] | None = None) -> list[Path]:
    """The binary logs of a data directory, oldest first: from its `<base>.index` files (or the `indexes` given;
    names in them relative to `datadir`), else by name."""
    found: list[Path] = []
    for index in binlog_index_files(datadir) if indexes is None else indexes:
        for line in index.read_text(errors="replace").splitlines():
            name = line.strip()
            if not name:
                continue
            candidate = (datadir / name) if not Path(name).is_absolute() else Path(name)
            if not candidate.exists():
                candidate = index.parent / Path(name).name
            if candidate.exists() and candidate not in found:
                found.append(candidate)
    if found or indexes:
        return found
    named = [p for p in datadir.iterdir() if re.search(r"\.\d{6,}$", p.name) and "relay" not in p.name]
    return sorted((p for p in named if _has_magic(p)), key=lambda p: p.name)


def _has_magic(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(4) == BINLOG_MAGIC
