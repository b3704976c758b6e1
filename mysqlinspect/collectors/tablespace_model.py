"""The tablespace view's data model and the pure helpers that classify and size tablespaces (no I/O)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SYSTEM = "system"
FILE_PER_TABLE = "file-per-table"
GENERAL = "general"
UNDO = "undo"
TEMPORARY = "temporary"
SESSION_TEMPORARY = "session temporary"
DICTIONARY = "dictionary"
KINDS = (SYSTEM, DICTIONARY, FILE_PER_TABLE, GENERAL, UNDO, TEMPORARY, SESSION_TEMPORARY)

SIZE_UNITS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


@dataclass
class Tablespace:
    """One InnoDB tablespace; `sources` names where each filled value was read."""

    name: str
    kind: str
    space_id: int | None = None
    files: list[str] = field(default_factory=list)
    size_bytes: int | None = None
    allocated_bytes: int | None = None
    free_bytes: int | None = None
    used_bytes: int | None = None
    total_extents: int | None = None
    free_extents: int | None = None
    extent_size_bytes: int | None = None
    autoextend: bool | None = None
    autoextend_size_bytes: int | None = None
    max_size_bytes: int | None = None
    used_pct_of_max: float | None = None
    page_size: int | None = None
    zip_page_size: int | None = None
    row_format: str | None = None
    compression: str | None = None
    encrypted: bool | None = None
    state: str | None = None
    server_version: str | None = None
    table_count: int | None = None
    tables: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SessionTempTablespace:
    """A session temporary tablespace (`#innodb_temp/temp_N.ibt`, MySQL 8.0.13+)."""

    space_id: int
    session_id: int
    path: str
    size_bytes: int | None
    state: str
    purpose: str


@dataclass(frozen=True)
class TemporaryTable:
    """An active user temporary table in InnoDB (INNODB_TEMP_TABLE_INFO)."""

    table_id: int
    name: str
    space_id: int | None
    columns: int | None


@dataclass(frozen=True)
class Reclaimable:
    """Free space inside a file-per-table tablespace: what OPTIMIZE TABLE (a rebuild) would give back."""

    tablespace: str
    table: str
    free_bytes: int
    size_bytes: int | None
    share_pct: float | None
    source: str


@dataclass(frozen=True)
class KindTotal:
    kind: str
    count: int
    size_bytes: int
    allocated_bytes: int
    free_bytes: int | None


@dataclass(frozen=True)
class UndoSettings:
    truncate: bool | None
    max_undo_log_size: int | None
    purge_rseg_truncate_frequency: int | None
    directory: str | None


@dataclass
class TablespaceReport:
    tablespaces: list[Tablespace] = field(default_factory=list)
    session_temporary: list[SessionTempTablespace] = field(default_factory=list)
    temporary_tables: list[TemporaryTable] = field(default_factory=list)
    totals: list[KindTotal] = field(default_factory=list)
    reclaimable: list[Reclaimable] = field(default_factory=list)
    reclaimable_total_bytes: int | None = None
    undo: UndoSettings | None = None
    page_size: int | None = None
    file_per_table: bool | None = None
    general_tablespaces_supported: bool = True
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    missing_grants: list[str] = field(default_factory=list)


def parse_size(text: str) -> int | None:
    """`12M`, `1G`, `512K`, `100000` (bytes) as in innodb_data_file_path; None when not a size."""
    match = re.fullmatch(r"\s*(\d+)\s*([KMGTkmgt]?)\s*", text)
    if not match:
        return None
    return int(match.group(1)) * SIZE_UNITS.get(match.group(2).upper(), 1)


@dataclass(frozen=True)
class DataFileSpec:
    """One file of innodb_data_file_path / innodb_temp_data_file_path."""

    name: str
    size_bytes: int | None
    autoextend: bool
    max_bytes: int | None


def parse_data_file_path(value: str) -> list[DataFileSpec]:
    """`ibdata1:12M;ibdata2:50M:autoextend:max:500M` (raw-device suffixes newraw/raw are ignored)."""
    specs = []
    for part in value.split(";"):
        fields = [f for f in part.strip().split(":") if f]
        if len(fields) < 2:
            continue
        name, size = fields[0], parse_size(re.sub(r"(newraw|raw)$", "", fields[1], flags=re.I))
        rest = [f.lower() for f in fields[2:]]
        autoextend = "autoextend" in rest
        max_bytes = None
        if "max" in rest and rest.index("max") + 1 < len(rest):
            max_bytes = parse_size(fields[2 + rest.index("max") + 1])
        specs.append(DataFileSpec(name, size, autoextend, max_bytes))
    return specs


def limit_of_data_files(specs: list[DataFileSpec]) -> tuple[bool, int | None]:
    """(autoextends, maximum total size) of a multi-file spec: the fixed files plus the last file's max;
    None when the last file autoextends without a max."""
    if not specs:
        return False, None
    fixed = sum(s.size_bytes or 0 for s in specs[:-1])
    last = specs[-1]
    if last.autoextend:
        return True, (fixed + last.max_bytes) if last.max_bytes else None
    return False, fixed + (last.size_bytes or 0)


def classify_mysql(name: str, space_type: str | None) -> str:
    """Kind of a MySQL 8.0+ tablespace from INNODB_TABLESPACES.SPACE_TYPE and its name."""
    kind = (space_type or "").lower()
    if name == "innodb_system":
        return SYSTEM
    if name == "innodb_temporary":
        return TEMPORARY
    if name == "mysql":
        return DICTIONARY
    if kind == "undo":
        return UNDO
    if kind == "general":
        return GENERAL
    if kind == "system":
        return SYSTEM
    return FILE_PER_TABLE


def classify_mariadb(name: str) -> str:
    """Kind of a MariaDB / MySQL 5.7 tablespace from its INNODB_SYS_TABLESPACES name."""
    if name == "innodb_system":
        return SYSTEM
    if name == "innodb_temporary":
        return TEMPORARY
    if name.startswith("innodb_undo"):
        return UNDO
    if "/" not in name:
        return GENERAL  # MySQL 5.7 general tablespaces have plain names; MariaDB has none
    return FILE_PER_TABLE


def decode_filename(name: str) -> str:
    """InnoDB names encode special characters as in file names (`my@002ddb/t` is `my-db/t`)."""
    return re.sub(r"@([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), name)


def compression_of(zip_page_size: int | None, create_options: str | None) -> str | None:
    """ROW_FORMAT=COMPRESSED (zlib with KEY_BLOCK_SIZE), MySQL COMPRESSION=, MariaDB PAGE_COMPRESSED=1."""
    options = (create_options or "").lower().replace("`", "").replace('"', "'")
    parts = []
    if zip_page_size:
        parts.append(f"ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE={zip_page_size // 1024}")
    found = re.search(r"compression='?([a-z0-9]+)", options)
    if found and found.group(1) != "none":
        parts.append(f"page compression {found.group(1)}")
    if re.search(r"page_compressed='?(1|on|yes)", options):
        level = re.search(r"page_compression_level='?(\d+)", options)
        parts.append("page compression" + (f" level {level.group(1)}" if level else ""))
    return ", ".join(parts) if parts else None


def finish_sizes(ts: Tablespace) -> None:
    """used = size - free, and the share of the maximum size (when the tablespace has one)."""
    if ts.size_bytes is not None and ts.free_bytes is not None:
        ts.used_bytes = max(0, ts.size_bytes - ts.free_bytes)
        ts.sources.setdefault("used_bytes", "computed: size_bytes - free_bytes")
    if ts.max_size_bytes and ts.size_bytes is not None:
        used = ts.used_bytes if ts.used_bytes is not None else ts.size_bytes
        ts.used_pct_of_max = round(100.0 * used / ts.max_size_bytes, 2)
        what = "used_bytes" if ts.used_bytes is not None else "size_bytes (free space unknown)"
        ts.sources["used_pct_of_max"] = f"computed: {what} / max_size_bytes"


def kind_totals(tablespaces: list[Tablespace], sessions: list[SessionTempTablespace]) -> list[KindTotal]:
    out = []
    for kind in KINDS:
        if kind == SESSION_TEMPORARY:
            if sessions:
                size = sum(s.size_bytes or 0 for s in sessions)
                out.append(KindTotal(kind, len(sessions), size, size, None))
            continue
        members = [t for t in tablespaces if t.kind == kind]
        if not members:
            continue
        frees = [t.free_bytes for t in members]
        out.append(KindTotal(
            kind, len(members), sum(t.size_bytes or 0 for t in members),
            sum(t.allocated_bytes or t.size_bytes or 0 for t in members),
            None if any(f is None for f in frees) else sum(f or 0 for f in frees)))
    return out
