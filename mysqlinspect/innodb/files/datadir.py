"""`datadir`: a read-only map of a data directory: every file classified, every tablespace's page 0 decoded.

Redo files are summarised through the redo engine; binary and relay logs by their format description event
(server version, first event time). The server version comes from where the files say it: MySQL 8 page 0
(FIL_PAGE_SRV_VERSION), the redo header's creator, the binlog's format description event, mysql_upgrade_info.
"""

from __future__ import annotations

import struct
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mysqlinspect.errors import InputNotFoundError
from mysqlinspect.innodb.files.filekinds import BINLOG_MAGIC, TABLESPACE_KINDS, classify_file, walk_files
from mysqlinspect.innodb.pages import layout as L
from mysqlinspect.innodb.pages.reader import flags_from_head, missing_input, read_head
from mysqlinspect.innodb.pages.structs import FilHeader, FspHeader
from mysqlinspect.redo.discover import classify as classify_redo_name
from mysqlinspect.redo.files import RedoFileSet, read_redo_file
from mysqlinspect.redo.redoset import inspect_redo_files

# Kinds only a server's data directory (or a copy or backup of one) holds: one of them makes PATH a data directory.
DATADIR_KINDS = TABLESPACE_KINDS | {
    "redo", "redo_spare", "doublewrite", "doublewrite_reduced", "binlog", "relay_log", "auto_cnf", "frm", "sdi",
    "myisam_data", "myisam_index", "aria_data", "aria_index", "aria_log", "aria_control", "upgrade_marker",
    "ddl_recovery_log", "tc_log", "undo_truncate_log", "tablespace_link"}
_BINLOG_HEADER = struct.Struct("<IBIIIH")
_FDE_BODY = struct.Struct("<H50s")


@dataclass(frozen=True)
class TablespaceInfo:
    """Page 0 of a tablespace file: FSP header, flags, version and encryption markers."""

    fsp: FspHeader
    page_lsn: int
    flush_lsn: int
    server_version: str | None  # MySQL 8+: FIL_PAGE_SRV_VERSION on page 0
    space_version: int | None
    encryption_info: str | None  # "MySQL keyring v3 (lCC)", "MariaDB crypt data", or None
    file_pages: int

    def to_dict(self) -> dict[str, Any]:
        return {**self.fsp.to_dict(), "file_pages": self.file_pages, "page0_lsn": self.page_lsn,
                "flush_lsn": self.flush_lsn, "server_version": self.server_version,
                "space_version": self.space_version, "encryption_info": self.encryption_info}


@dataclass(frozen=True)
class LogFileInfo:
    """A binary or relay log: format description event (when readable)."""

    server_version: str | None
    binlog_version: int | None
    first_event_time: int | None


@dataclass
class DataFile:
    path: Path
    relative: str
    kind: str
    size: int
    tablespace: TablespaceInfo | None = None
    log: LogFileInfo | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.relative, "kind": self.kind, "size": self.size,
                "tablespace": self.tablespace.to_dict() if self.tablespace else None,
                "log": vars(self.log) if self.log else None, "note": self.note}


@dataclass
class DatadirMap:
    root: Path
    files: list[DataFile]
    redo: RedoFileSet | None
    server_uuid: str | None = None
    server_versions: dict[str, str] = field(default_factory=dict)  # source -> version

    def kinds(self) -> dict[str, dict[str, int]]:
        count: Counter[str] = Counter()
        size: Counter[str] = Counter()
        for f in self.files:
            count[f.kind] += 1
            size[f.kind] += f.size
        return {kind: {"files": count[kind], "bytes": size[kind]} for kind in sorted(count)}

    def tablespaces(self) -> list[DataFile]:
        return [f for f in self.files if f.kind in TABLESPACE_KINDS]

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.root), "server_uuid": self.server_uuid, "server_versions": self.server_versions,
                "total_bytes": sum(f.size for f in self.files), "kinds": self.kinds(),
                "files": [f.to_dict() for f in self.files],
                "redo": self.redo.to_dict() if self.redo is not None else None}


def mysql_server_version(value: int) -> str | None:
    """FIL_PAGE_SRV_VERSION (MYSQL_VERSION_ID, e.g. 80030 or 90700) as text."""
    if not 50000 <= value <= 999999:
        return None
    return f"{value // 10000}.{value // 100 % 100}.{value % 100}"


def _encryption_info(head: bytes, page_size: int) -> str | None:
    mysql_at = L.encryption_offset(page_size)
    magic = head[mysql_at:mysql_at + 3]
    if magic in L.MYSQL_ENCRYPTION_MAGICS:
        return f"MySQL keyring v{L.MYSQL_ENCRYPTION_MAGICS[magic]} ({magic.decode()})"
    maria_at = L.FSP_HEADER_OFFSET + mysql_at
    if head[maria_at:maria_at + 6] == L.MARIADB_CRYPT_MAGIC:
        scheme = head[maria_at + 6] if len(head) > maria_at + 6 else 0
        return "MariaDB crypt data (encrypted)" if scheme == 1 else "MariaDB crypt data (not encrypted)"
    return None


def read_tablespace_info(path: Path, size: int) -> TablespaceInfo | None:
    head = read_head(path)
    flags = flags_from_head(head)
    if flags is None:
        return None
    header, fsp = FilHeader.from_bytes(head), FspHeader.from_bytes(head)
    mysql_like = not flags.full_crc32 and header.prev not in (0, L.FIL_NULL)
    return TablespaceInfo(
        fsp=fsp, page_lsn=header.lsn, flush_lsn=header.flush_lsn,
        server_version=mysql_server_version(header.prev) if mysql_like else None,
        space_version=header.next if mysql_like else None,
        encryption_info=_encryption_info(head, flags.physical_page_size),
        file_pages=size // flags.physical_page_size)


def read_log_info(path: Path) -> LogFileInfo | None:
    head = read_head(path, 4 + _BINLOG_HEADER.size + _FDE_BODY.size)
    if not head.startswith(BINLOG_MAGIC) or len(head) < 4 + _BINLOG_HEADER.size + _FDE_BODY.size:
        return None
    timestamp, type_code, *_ = _BINLOG_HEADER.unpack_from(head, 4)
    if type_code != 15:  # FORMAT_DESCRIPTION_EVENT
        return LogFileInfo(None, None, timestamp or None)
    binlog_version, raw = _FDE_BODY.unpack_from(head, 4 + _BINLOG_HEADER.size)
    version = raw.split(b"\0", 1)[0].decode("latin-1") or None
    return LogFileInfo(version, binlog_version, timestamp or None)


def sniff_kind(path: Path, size: int) -> str | None:
    """The kind of a file whose name says nothing, from its content: a tablespace page 0 or a redo header."""
    if size < 2048:
        return None
    if flags_from_head(read_head(path)) is not None:
        return "file_per_table"
    report = read_redo_file(classify_redo_name(path))
    if report.header is not None or (report.status == "never_written" and "ib_logfile" in path.name):
        return "redo"
    return None


def _describe(path: Path, root: Path) -> DataFile:
    """One file; a file that cannot be read is listed with a note (the others are still mapped)."""
    try:
        return _describe_readable(path, root)
    except OSError as exc:
        size = path.stat().st_size if path.exists() else 0
        return DataFile(path=path, relative=path.relative_to(root).as_posix(), kind=classify_file(path), size=size,
                        note=f"cannot be read ({exc.strerror})")


def _describe_readable(path: Path, root: Path) -> DataFile:
    kind = classify_file(path)
    size = path.stat().st_size
    item = DataFile(path=path, relative=path.relative_to(root).as_posix(), kind=kind, size=size)
    if kind == "other":
        sniffed = sniff_kind(path, size)
        if sniffed is not None:
            item.kind = kind = sniffed
            item.note = f"recognised as {sniffed} by its content (the name is not a server file name)"
    if kind in TABLESPACE_KINDS:
        item.tablespace = read_tablespace_info(path, size) if size else None
        if item.tablespace is None:
            item.note = "page 0 is not a valid FSP header page (empty, damaged or a continuation file)"
        elif kind == "file_per_table" and item.tablespace.fsp.flags.shared:
            item.kind = "general"
    elif kind in ("binlog", "relay_log"):
        item.log = read_log_info(path)
    elif kind == "tablespace_link":
        item.note = f"the tablespace is {read_head(path, 4096).decode('utf-8', 'replace').strip()} (DATA DIRECTORY)"
    return item


def _server_uuid(root: Path) -> str | None:
    try:
        text = (root / "auto.cnf").read_text(errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.strip().startswith("server-uuid"):
            return line.split("=", 1)[1].strip()
    return None


def _versions(files: list[DataFile], redo: RedoFileSet | None, root: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for f in files:
        if f.tablespace and f.tablespace.server_version and "tablespace page 0" not in found:
            found["tablespace page 0"] = f.tablespace.server_version
        if f.log and f.log.server_version and "binlog" not in found:
            found["binlog"] = f.log.server_version
    creators = [r.header.creator for r in (redo.files if redo else []) if r.header is not None and r.header.creator]
    if creators:
        found["redo header"] = creators[0]
    try:
        found["mysql_upgrade_info"] = (root / "mysql_upgrade_info").read_text(errors="replace").strip("\0\n ")
    except OSError:
        pass
    return found


def map_datadir(path: str | Path) -> DatadirMap:
    """Classify every file under `path` and decode its tablespaces' page 0, its redo and binlog headers."""
    root = Path(path)
    if (missing := missing_input(root, "directory")) is not None:
        raise missing
    if not root.is_dir():
        raise InputNotFoundError(f"{root}: not a directory (datadir takes a data directory)")
    files = [_describe(p, root) for p in walk_files(root)]
    if not any(f.kind in DATADIR_KINDS for f in files):
        raise InputNotFoundError(f"{root}: not a data directory (no tablespace, redo, doublewrite, binary log or "
                                 "table file in it)")
    redo_paths = [f.path for f in files if f.kind in ("redo", "redo_spare")]
    redo = inspect_redo_files(redo_paths) if redo_paths else None
    return DatadirMap(root=root, files=files, redo=redo, server_uuid=_server_uuid(root),
                      server_versions=_versions(files, redo, root))
