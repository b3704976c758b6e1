"""What `binlog list` shows of one local binlog file: its Format_description (server version and id, creation
time, checksum), the GTID state before it (MySQL Previous_gtids / MariaDB Gtid_list), the GTIDs of its complete
transactions, its first and last event times and how it ends (local.FileEnd: closed, still open, cut).

The file is walked once by local.walk_file (checksums, valid end) and once more over its headers up to the valid
end; only FDE, GTID and GTID-state bodies are read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mysqlinspect.binlog.source import rawdump
from mysqlinspect.binlog.source.fde import (
    CHECKSUM_LEN,
    HEADER_LEN,
    FormatDescription,
    is_checksum_aware,
    server_version,
)
from mysqlinspect.binlog.source.files import display_name, head_bytes, open_bytes
from mysqlinspect.binlog.source.local import BINLOG_MAGIC, HEADER, Buffer, FileEnd, check_magic, walk_file
from mysqlinspect.binlog.source.server_files import BOOKKEEPING_TYPES
from mysqlinspect.binlog.source.tagged_gtid import parse_previous_gtids, parse_tagged_gtid
from mysqlinspect.errors import DataError, EncryptedBinlogError


@dataclass(frozen=True)
class LocalFileHead:
    """The first event of a file, its Format_description."""

    server_version: str
    server_id: int
    created: int
    checksum: str  # "CRC32" or "NONE"

    @property
    def flavor(self) -> str:
        return "mariadb" if "MariaDB" in self.server_version else "mysql"


@dataclass
class LocalFileSummary:
    head: LocalFileHead | None  # None: an encrypted MySQL binlog (not even its Format_description is readable)
    end: FileEnd
    encrypted: str | None = None  # why the file is not readable (it is listed, not read)
    previous_gtids: str | None = None
    first_event_time: int | None = None
    last_event_time: int | None = None
    gtids: list[str] = field(default_factory=list)  # of the complete transactions, in file order


def read_head(path: Path) -> LocalFileHead:
    """The Format_description of a file (its flavor, for a checkpoint), from its first bytes only."""
    name = display_name(path)
    data = _first_events(path, name)
    return _head(data, name)[0]


def gtid_state_before(path: Path) -> str | None:
    """The GTID state before a file (MySQL Previous_gtids / MariaDB Gtid_list), from its first events only;
    None when the file has neither before its first transaction."""
    name = display_name(path)
    data = _first_events(path, name)
    _, fde = _head(data, name)
    pos = 4 + HEADER.unpack_from(data, 4)[3]
    while pos + HEADER_LEN <= len(data):
        _, code, _, size, _, _ = HEADER.unpack_from(data, pos)
        if code not in BOOKKEEPING_TYPES or pos + size > len(data) or size < HEADER_LEN:
            return None
        body = bytes(data[pos + HEADER_LEN : pos + size - fde.checksum_len])
        if code == rawdump.PREVIOUS_GTIDS_EVENT:
            return parse_previous_gtids(body)
        if code == rawdump.MARIADB_GTID_LIST:
            return rawdump.mariadb_gtid_list(body)
        pos += size
    return None


def _first_events(path: Path, name: str, size: int = 1 << 16) -> bytes:
    data = head_bytes(path, size)
    check_magic(data, name)
    if len(data) < 4 + HEADER_LEN:
        raise DataError(f"{name}: no Format_description event (the file is {len(data)} bytes)")
    return data


def summarize_file(path: Path, verify_checksum: bool = True) -> LocalFileSummary:
    name = display_name(path)
    with open_bytes(path) as data:
        try:
            walk = walk_file(data, name, verify_checksum)
        except EncryptedBinlogError as exc:
            return _encrypted(data, name, path, exc)
        head, fde = _head(data, name)
        end = FileEnd(name, str(path), len(data), walk.valid_end, walk.closed, walk.last_event, walk.stop_reason,
                      walk.trailing_events)
        summary = LocalFileSummary(head, end)
        _scan(data, summary, fde)
    return summary


def _encrypted(data: Buffer, name: str, path: Path, exc: EncryptedBinlogError) -> LocalFileSummary:
    """An encrypted file as listed: its Format_description when it is in clear (MariaDB), nothing else."""
    head = None if bytes(data[:4]) != BINLOG_MAGIC else _head(data, name)[0]
    end = FileEnd(name, str(path), len(data), 4, False, "", "encrypted", 0)
    return LocalFileSummary(head, end, encrypted=str(exc))


def _head(data: Buffer, name: str) -> tuple[LocalFileHead, FormatDescription]:
    timestamp, code, server_id, size, _, _ = HEADER.unpack_from(data, 4)
    if code != rawdump.FORMAT_DESCRIPTION_EVENT or size < HEADER_LEN or 4 + size > len(data):
        raise DataError(f"{name}: the first event at position 4 is not a Format_description event")
    body = bytes(data[4 + HEADER_LEN : 4 + size])
    if is_checksum_aware(server_version(body)):
        body = body[:-CHECKSUM_LEN]
    fde = FormatDescription.from_body(body)
    head = LocalFileHead(fde.server_version, server_id, fde.create_timestamp or timestamp,
                    "CRC32" if fde.checksum_len else "NONE")
    return head, fde


def _scan(data: Buffer, summary: LocalFileSummary, fde: FormatDescription) -> None:
    """Headers up to the valid end: event times, the GTID state before the file, the GTIDs in it."""
    unpack = HEADER.unpack_from
    pos, end, csum = 4, summary.end.valid_end, fde.checksum_len
    while pos < end:
        timestamp, code, server_id, size, _, _ = unpack(data, pos)
        body_end = pos + size - (csum if code != rawdump.FORMAT_DESCRIPTION_EVENT else 0)
        if code == rawdump.FORMAT_DESCRIPTION_EVENT and pos > 4:  # a relay log: the master's format follows
            body = bytes(data[pos + HEADER_LEN : pos + size])
            csum = FormatDescription.from_body(body[:-CHECKSUM_LEN] if is_checksum_aware(server_version(body))
                                               else body).checksum_len
        elif code == rawdump.PREVIOUS_GTIDS_EVENT and summary.previous_gtids is None:
            summary.previous_gtids = parse_previous_gtids(bytes(data[pos + HEADER_LEN : body_end]))
        elif code == rawdump.MARIADB_GTID_LIST and summary.previous_gtids is None:
            summary.previous_gtids = rawdump.mariadb_gtid_list(bytes(data[pos + HEADER_LEN : body_end]))
        elif code == rawdump.GTID_EVENT:
            summary.gtids.append(rawdump.mysql_gtid(bytes(data[pos + HEADER_LEN : pos + HEADER_LEN + 25])))
        elif code == rawdump.GTID_TAGGED_EVENT:
            summary.gtids.append(parse_tagged_gtid(bytes(data[pos + HEADER_LEN : body_end]))[0])
        elif code == rawdump.MARIADB_GTID_EVENT:
            summary.gtids.append(rawdump.mariadb_gtid(bytes(data[pos + HEADER_LEN : pos + HEADER_LEN + 13]),
                                                      server_id)[0])
        if code not in BOOKKEEPING_TYPES:
            if summary.first_event_time is None:
                summary.first_event_time = timestamp
            summary.last_event_time = timestamp
        elif code in (rawdump.ROTATE_EVENT, rawdump.STOP_EVENT) and pos + size == summary.end.size:
            summary.last_event_time = timestamp  # a closed file: its closing event, as the server variant says
        pos += size
