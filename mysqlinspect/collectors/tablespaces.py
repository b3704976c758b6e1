"""Live tablespace view: every InnoDB tablespace with kind, files, sizes, free space, limits, format and tables.

MySQL 8.0+: INNODB_TABLESPACES (+ _BRIEF for the system tablespace), INNODB_DATAFILES, FILES (extents, free space,
maximum and autoextend sizes), INNODB_TABLES, INNODB_SESSION_TEMP_TABLESPACES, INNODB_TEMP_TABLE_INFO.
MariaDB and MySQL 5.7: INNODB_SYS_TABLESPACES (+ INNODB_SYS_DATAFILES), INNODB_SYS_TABLES, TABLES.DATA_FREE,
MariaDB's INNODB_TABLESPACES_ENCRYPTION. The INNODB_* tables and FILES need PROCESS; TABLES needs none.
"""

from __future__ import annotations

from typing import Any

import pymysql

from mysqlinspect.collectors.sources import PROCESS, SRC_VARIABLES, LiveSources, is_on, pct, sourced
from mysqlinspect.collectors.tablespace_model import (
    DICTIONARY,
    FILE_PER_TABLE,
    GENERAL,
    SYSTEM,
    TEMPORARY,
    UNDO,
    Reclaimable,
    SessionTempTablespace,
    Tablespace,
    TablespaceReport,
    TemporaryTable,
    UndoSettings,
    classify_mariadb,
    classify_mysql,
    compression_of,
    decode_filename,
    finish_sizes,
    kind_totals,
    limit_of_data_files,
    parse_data_file_path,
)
from mysqlinspect.connection.query import as_int as _as_int
from mysqlinspect.connection.server import ServerInfo

I_S = "INFORMATION_SCHEMA."
TS = I_S + "INNODB_TABLESPACES"
TS_BRIEF = I_S + "INNODB_TABLESPACES_BRIEF"
DATAFILES = I_S + "INNODB_DATAFILES"
FILES = I_S + "FILES"
INNODB_TABLES = I_S + "INNODB_TABLES"
SESSION_TEMP = I_S + "INNODB_SESSION_TEMP_TABLESPACES"
TEMP_INFO = I_S + "INNODB_TEMP_TABLE_INFO"
SYS_TS = I_S + "INNODB_SYS_TABLESPACES"
SYS_DATAFILES = I_S + "INNODB_SYS_DATAFILES"
SYS_TABLES = I_S + "INNODB_SYS_TABLES"
ENCRYPTION = I_S + "INNODB_TABLESPACES_ENCRYPTION"
TABLES = I_S + "TABLES"
RECLAIMABLE_LIMIT = 10
MYSQL_FSP_ENCRYPTION = 1 << 13  # FSP_FLAGS_POS_ENCRYPTION in MySQL 5.7/8.0+ tablespace flags
SHARED_KINDS = (SYSTEM, GENERAL, DICTIONARY)
MARIADB_NO_GENERAL = ("MariaDB has no general tablespaces (CREATE TABLESPACE is not supported for InnoDB): tables "
                      "live in their own .ibd file or, with innodb_file_per_table=OFF, in the system tablespace")


# ---- MySQL 8.0+ -------------------------------------------------------------------------------------------------
def read_mysql(src: LiveSources) -> dict[str, Tablespace] | None:
    rows = src.rows(f"SELECT * FROM {TS} ORDER BY SPACE", TS, PROCESS)
    if rows is None:
        return None
    spaces: dict[str, Tablespace] = {}
    for r in rows:
        name = str(r["NAME"])
        ts = Tablespace(name=name, kind=classify_mysql(name, r.get("SPACE_TYPE")), space_id=as_int(r["SPACE"]))
        s = ts.sources
        s["kind"] = f"{TS}.SPACE_TYPE"
        sourced(s, "space_id", ts.space_id, f"{TS}.SPACE")
        ts.size_bytes = sourced(s, "size_bytes", as_int(r.get("FILE_SIZE")), f"{TS}.FILE_SIZE")
        ts.allocated_bytes = sourced(s, "allocated_bytes", as_int(r.get("ALLOCATED_SIZE")), f"{TS}.ALLOCATED_SIZE")
        ts.page_size = sourced(s, "page_size", as_int(r.get("PAGE_SIZE")), f"{TS}.PAGE_SIZE")
        ts.zip_page_size = sourced(s, "zip_page_size", as_int(r.get("ZIP_PAGE_SIZE")) or None,
                                   f"{TS}.ZIP_PAGE_SIZE")
        ts.row_format = sourced(s, "row_format", r.get("ROW_FORMAT"), f"{TS}.ROW_FORMAT")
        ts.encrypted = sourced(s, "encrypted", _yes(r.get("ENCRYPTION")), f"{TS}.ENCRYPTION")
        ts.state = sourced(s, "state", r.get("STATE"), f"{TS}.STATE")
        ts.server_version = sourced(s, "server_version", r.get("SERVER_VERSION"), f"{TS}.SERVER_VERSION")
        if ts.kind in (FILE_PER_TABLE, GENERAL, DICTIONARY):
            ts.autoextend = sourced(s, "autoextend", True, f"{TS}: file-per-table and general tablespaces grow")
            ts.autoextend_size_bytes = sourced(s, "autoextend_size_bytes", as_int(r.get("AUTOEXTEND_SIZE")) or None,
                                               f"{TS}.AUTOEXTEND_SIZE")
        spaces[name] = ts
    _add_brief(src, spaces)
    _add_datafiles(src, spaces, f"SELECT SPACE, PATH FROM {DATAFILES} ORDER BY SPACE, PATH", DATAFILES)
    _add_files(src, spaces)
    _add_tables(src, spaces, f"SELECT NAME, SPACE FROM {INNODB_TABLES}", INNODB_TABLES)
    return spaces


def as_int(value: Any) -> int | None:
    """as_int that also reads the binary strings some I_S tables return (INNODB_TABLESPACES_BRIEF.SPACE)."""
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("ascii", "replace")
    return _as_int(value)


def _yes(value: Any) -> bool | None:
    return None if value is None else str(value).strip().upper() in ("Y", "YES", "1")


def _add_brief(src: LiveSources, spaces: dict[str, Tablespace]) -> None:
    """INNODB_TABLESPACES_BRIEF lists the system tablespace, which INNODB_TABLESPACES may leave out."""
    rows = src.rows(f"SELECT SPACE, NAME, PATH, FLAG, SPACE_TYPE FROM {TS_BRIEF}", TS_BRIEF, PROCESS) or []
    for r in rows:
        name = str(r["NAME"])
        if name not in spaces:
            ts = Tablespace(name=name, kind=classify_mysql(name, r.get("SPACE_TYPE")), space_id=as_int(r["SPACE"]))
            ts.sources["kind"] = f"{TS_BRIEF}.SPACE_TYPE"
            sourced(ts.sources, "space_id", ts.space_id, f"{TS_BRIEF}.SPACE")
            spaces[name] = ts
        flag = as_int(r.get("FLAG"))
        if spaces[name].encrypted is None and flag is not None:
            spaces[name].encrypted = sourced(spaces[name].sources, "encrypted", bool(flag & MYSQL_FSP_ENCRYPTION),
                                             f"{TS_BRIEF}.FLAG (FSP encryption bit 13)")


def _space(value: Any) -> int:
    found = as_int(value)
    return -1 if found is None else found


def _by_space(spaces: dict[str, Tablespace]) -> dict[int, Tablespace]:
    return {ts.space_id: ts for ts in spaces.values() if ts.space_id is not None}


def _add_datafiles(src: LiveSources, spaces: dict[str, Tablespace], sql: str, what: str) -> None:
    by_id = _by_space(spaces)
    for r in src.rows(sql, what, PROCESS) or []:
        ts = by_id.get(_space(r["SPACE"]))
        path = str(r["PATH"])
        if ts is not None and path not in ts.files:
            ts.files.append(path)
            ts.sources["files"] = f"{what}.PATH"


def _add_files(src: LiveSources, spaces: dict[str, Tablespace]) -> None:
    """FILES: one row per data file; extents, free space (DATA_FREE), initial/maximum/autoextend sizes."""
    rows = src.rows(
        f"SELECT FILE_NAME, FILE_TYPE, TABLESPACE_NAME, FREE_EXTENTS, TOTAL_EXTENTS, EXTENT_SIZE, INITIAL_SIZE, "
        f"MAXIMUM_SIZE, AUTOEXTEND_SIZE, DATA_FREE FROM {FILES} WHERE ENGINE = 'InnoDB' ORDER BY FILE_ID, FILE_NAME",
        FILES, PROCESS) or []
    grouped: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        grouped.setdefault(str(r["TABLESPACE_NAME"]), []).append(r)
    for name, group in grouped.items():
        ts = spaces.get(name)
        if ts is None:
            continue
        s = ts.sources
        for r in group:
            if r["FILE_NAME"] and not any(_same_file(str(r["FILE_NAME"]), f) for f in ts.files):
                ts.files.append(str(r["FILE_NAME"]))
                s.setdefault("files", f"{FILES}.FILE_NAME")
        ts.total_extents = sourced(s, "total_extents", _sum(group, "TOTAL_EXTENTS"), f"{FILES}.TOTAL_EXTENTS")
        ts.free_extents = sourced(s, "free_extents", _sum(group, "FREE_EXTENTS"), f"{FILES}.FREE_EXTENTS")
        ts.extent_size_bytes = sourced(s, "extent_size_bytes", as_int(group[0]["EXTENT_SIZE"]), f"{FILES}.EXTENT_SIZE")
        ts.free_bytes = sourced(s, "free_bytes", _sum(group, "DATA_FREE"), f"{FILES}.DATA_FREE")
        if ts.size_bytes is None and ts.total_extents is not None and ts.extent_size_bytes:
            ts.size_bytes = sourced(s, "size_bytes", ts.total_extents * ts.extent_size_bytes,
                                    f"{FILES}.TOTAL_EXTENTS x EXTENT_SIZE")
        maximum = as_int(group[-1]["MAXIMUM_SIZE"])
        if maximum:
            ts.max_size_bytes = sourced(s, "max_size_bytes", maximum, f"{FILES}.MAXIMUM_SIZE")
        if ts.kind in (UNDO, TEMPORARY, SYSTEM) and ts.autoextend_size_bytes is None:
            ts.autoextend_size_bytes = sourced(s, "autoextend_size_bytes", as_int(group[-1]["AUTOEXTEND_SIZE"]),
                                               f"{FILES}.AUTOEXTEND_SIZE")


def _same_file(a: str, b: str) -> bool:
    return a.removeprefix("./") == b.removeprefix("./")


def _sum(rows: list[dict[str, Any]], column: str) -> int | None:
    values = [as_int(r[column]) for r in rows]
    return None if any(v is None for v in values) else sum(v or 0 for v in values)


def _add_tables(src: LiveSources, spaces: dict[str, Tablespace], sql: str, what: str) -> None:
    """Table names per tablespace (shared tablespaces list them; every tablespace gets a count)."""
    by_id = _by_space(spaces)
    rows = src.rows(sql, what, PROCESS)
    if rows is None:
        return
    for r in rows:
        ts = by_id.get(_space(r["SPACE"]))
        if ts is None:
            continue
        ts.table_count = (ts.table_count or 0) + 1
        ts.sources["table_count"] = f"{what}.SPACE"
        if ts.kind in SHARED_KINDS:
            ts.tables.append(str(r["NAME"]))
            ts.sources["tables"] = f"{what}.NAME"
    for ts in spaces.values():
        ts.tables.sort()
        if ts.table_count is None and ts.kind in (FILE_PER_TABLE, GENERAL, SYSTEM, DICTIONARY):
            ts.table_count = 0
            ts.sources["table_count"] = f"{what}.SPACE"


def read_session_temp(src: LiveSources) -> list[SessionTempTablespace]:
    rows = src.rows(f"SELECT ID, SPACE, PATH, SIZE, STATE, PURPOSE FROM {SESSION_TEMP} ORDER BY SPACE",
                    SESSION_TEMP, PROCESS) or []
    return [SessionTempTablespace(int(r["SPACE"]), int(r["ID"]), str(r["PATH"]), as_int(r["SIZE"]), str(r["STATE"]),
                                  str(r["PURPOSE"])) for r in rows]


def read_temp_tables(src: LiveSources) -> list[TemporaryTable] | None:
    rows = src.rows(f"SELECT TABLE_ID, NAME, N_COLS, SPACE FROM {TEMP_INFO} ORDER BY TABLE_ID", TEMP_INFO, PROCESS)
    if rows is None:
        return None
    return [TemporaryTable(int(r["TABLE_ID"]), str(r["NAME"]), as_int(r["SPACE"]), as_int(r["N_COLS"]))
            for r in rows]


# ---- MariaDB and MySQL 5.7 ---------------------------------------------------------------------------------------
def read_sys_tables(src: LiveSources) -> dict[str, Tablespace] | None:
    rows = src.rows(f"SELECT * FROM {SYS_TS} ORDER BY SPACE", SYS_TS, PROCESS)
    if rows is None:
        return None
    spaces: dict[str, Tablespace] = {}
    for r in rows:
        name = str(r["NAME"])
        ts = Tablespace(name=name, kind=classify_mariadb(name), space_id=as_int(r["SPACE"]))
        s = ts.sources
        s["kind"] = f"{SYS_TS}.NAME"
        sourced(s, "space_id", ts.space_id, f"{SYS_TS}.SPACE")
        ts.size_bytes = sourced(s, "size_bytes", as_int(r.get("FILE_SIZE")), f"{SYS_TS}.FILE_SIZE")
        ts.allocated_bytes = sourced(s, "allocated_bytes", as_int(r.get("ALLOCATED_SIZE")),
                                     f"{SYS_TS}.ALLOCATED_SIZE")
        ts.page_size = sourced(s, "page_size", as_int(r.get("PAGE_SIZE")), f"{SYS_TS}.PAGE_SIZE")
        ts.zip_page_size = sourced(s, "zip_page_size", as_int(r.get("ZIP_PAGE_SIZE")) or None,
                                   f"{SYS_TS}.ZIP_PAGE_SIZE")
        ts.row_format = sourced(s, "row_format", r.get("ROW_FORMAT"), f"{SYS_TS}.ROW_FORMAT")
        if r.get("FILENAME"):
            ts.files.append(str(r["FILENAME"]))
            s["files"] = f"{SYS_TS}.FILENAME"
        if ts.kind in (FILE_PER_TABLE, GENERAL):
            ts.autoextend = sourced(s, "autoextend", True, f"{SYS_TS}: file-per-table tablespaces grow")
        spaces[name] = ts
    if not any(ts.files for ts in spaces.values()):
        _add_datafiles(src, spaces, f"SELECT SPACE, PATH FROM {SYS_DATAFILES} ORDER BY SPACE", SYS_DATAFILES)
    _add_files(src, spaces)  # MySQL 5.7 fills FILES for InnoDB; MariaDB returns no InnoDB rows
    _add_sys_table_formats(src, spaces)
    _add_encryption(src, spaces)
    for ts in spaces.values():
        if ts.zip_page_size and ts.page_size == ts.zip_page_size:
            # MariaDB's PAGE_SIZE is the physical size, the zip size of a compressed tablespace: its (logical) page
            # size is the server's innodb_page_size, filled in by collect_tablespaces
            ts.page_size = None
            ts.sources.pop("page_size", None)
    return spaces


def _add_sys_table_formats(src: LiveSources, spaces: dict[str, Tablespace]) -> None:
    """INNODB_SYS_TABLES: tables per space, and the row format / zip size of file-per-table tablespaces."""
    by_id = _by_space(spaces)
    rows = src.rows(f"SELECT * FROM {SYS_TABLES}", SYS_TABLES, PROCESS)
    if rows is None:
        return
    _add_tables(src, spaces, f"SELECT NAME, SPACE FROM {SYS_TABLES}", SYS_TABLES)
    for r in rows:
        ts = by_id.get(_space(r["SPACE"]))
        if ts is None or ts.kind != FILE_PER_TABLE:
            continue
        s = ts.sources
        if ts.row_format is None and r.get("ROW_FORMAT"):
            ts.row_format = sourced(s, "row_format", r["ROW_FORMAT"], f"{SYS_TABLES}.ROW_FORMAT")
        if ts.zip_page_size is None and as_int(r.get("ZIP_PAGE_SIZE")):
            ts.zip_page_size = sourced(s, "zip_page_size", as_int(r["ZIP_PAGE_SIZE"]), f"{SYS_TABLES}.ZIP_PAGE_SIZE")


def _add_encryption(src: LiveSources, spaces: dict[str, Tablespace]) -> None:
    """MariaDB lists tablespaces that carry encryption metadata; a readable table without a row means not
    encrypted."""
    rows = src.rows(f"SELECT SPACE, ENCRYPTION_SCHEME FROM {ENCRYPTION}", ENCRYPTION, PROCESS)
    if rows is None:
        return
    schemes = {as_int(r["SPACE"]): as_int(r["ENCRYPTION_SCHEME"]) or 0 for r in rows}
    for ts in spaces.values():
        if ts.encrypted is None:
            ts.encrypted = bool(schemes.get(ts.space_id, 0))
            ts.sources["encrypted"] = f"{ENCRYPTION}.ENCRYPTION_SCHEME" + (
                "" if ts.space_id in schemes else " (no row: no encryption metadata)")


# ---- shared: TABLES, settings, limits, reclaimable -----------------------------------------------------------------
def read_table_options(src: LiveSources) -> list[dict[str, Any]]:
    return src.rows(
        f"SELECT TABLE_SCHEMA, TABLE_NAME, DATA_FREE, DATA_LENGTH, INDEX_LENGTH, CREATE_OPTIONS FROM {TABLES} "
        "WHERE ENGINE = 'InnoDB' AND TABLE_TYPE = 'BASE TABLE'", TABLES) or []


def apply_table_options(spaces: dict[str, Tablespace], tables: list[dict[str, Any]], mariadb: bool) -> None:
    """Compression and encryption options; on MariaDB also free space (TABLES.DATA_FREE is the tablespace's free
    space, for file-per-table and shared tablespaces alike). MySQL caches TABLES statistics, so FILES wins."""
    by_table = {decode_filename(t): ts for ts in spaces.values() for t in ts.tables}
    by_table.update({decode_filename(name): ts for name, ts in spaces.items()})
    for row in tables:
        ts = by_table.get(f"{row['TABLE_SCHEMA']}/{row['TABLE_NAME']}")
        if ts is None:
            continue
        s = ts.sources
        options = str(row.get("CREATE_OPTIONS") or "")
        compression = compression_of(ts.zip_page_size, options)
        if compression and ts.compression is None:
            ts.compression = sourced(s, "compression", compression,
                                     f"{TABLES}.CREATE_OPTIONS" if "compress" in options.lower()
                                     else s.get("zip_page_size", TABLES))
        if ts.encrypted is None and "encrypt" in options.lower():
            ts.encrypted = sourced(s, "encrypted", True, f"{TABLES}.CREATE_OPTIONS")
        if ts.free_bytes is None and (mariadb or ts.kind == FILE_PER_TABLE):
            ts.free_bytes = sourced(s, "free_bytes", as_int(row.get("DATA_FREE")), f"{TABLES}.DATA_FREE")
    for ts in spaces.values():
        if ts.compression is None and ts.zip_page_size:
            ts.compression = sourced(ts.sources, "compression", compression_of(ts.zip_page_size, None),
                                     ts.sources.get("zip_page_size", "zip page size"))


def apply_data_file_limits(src: LiveSources, spaces: dict[str, Tablespace]) -> None:
    """autoextend and the maximum size of the system and global temporary tablespaces from their file paths."""
    for kind, variable in ((SYSTEM, "innodb_data_file_path"), (TEMPORARY, "innodb_temp_data_file_path")):
        value = src.variable(variable)
        ts = next((t for t in spaces.values() if t.kind == kind), None)
        if value is None or ts is None:
            continue
        autoextend, maximum = limit_of_data_files(parse_data_file_path(value))
        source = f"{SRC_VARIABLES} {variable}"
        ts.autoextend = sourced(ts.sources, "autoextend", autoextend, source)
        if maximum is not None:
            ts.max_size_bytes = sourced(ts.sources, "max_size_bytes", maximum, source)
        if autoextend and ts.autoextend_size_bytes is None:
            increment = src.variable_int("innodb_autoextend_increment")
            ts.autoextend_size_bytes = sourced(ts.sources, "autoextend_size_bytes",
                                               increment * (1 << 20) if increment else None,
                                               f"{SRC_VARIABLES} innodb_autoextend_increment (MiB)")
        encrypt = {SYSTEM: "innodb_sys_tablespace_encrypt", TEMPORARY: "innodb_temp_tablespace_encrypt"}[kind]
        if ts.encrypted is None and src.variable(encrypt) is not None:
            ts.encrypted = sourced(ts.sources, "encrypted", is_on(src.variable(encrypt)), f"{SRC_VARIABLES} {encrypt}")
    for ts in spaces.values():
        if ts.kind == UNDO and ts.autoextend is None:
            ts.autoextend = sourced(ts.sources, "autoextend", True, "undo tablespaces grow; truncation shrinks them")


def reclaimable_of(spaces: dict[str, Tablespace]) -> list[Reclaimable]:
    """File-per-table tablespaces by free bytes: a rebuild (OPTIMIZE TABLE) returns that space to the file
    system. Free space in shared tablespaces is reused inside them but never returned by OPTIMIZE."""
    out = []
    for ts in spaces.values():
        if ts.kind != FILE_PER_TABLE or not ts.free_bytes:
            continue
        out.append(Reclaimable(ts.name, decode_filename(ts.name).replace("/", ".", 1), ts.free_bytes, ts.size_bytes,
                               pct(ts.free_bytes, ts.size_bytes), ts.sources.get("free_bytes", "-")))
    return sorted(out, key=lambda r: (-r.free_bytes, r.tablespace))


def read_undo_settings(src: LiveSources, report: TablespaceReport) -> UndoSettings:
    s = report.sources
    return UndoSettings(
        truncate=sourced(s, "undo.truncate", is_on(src.variable("innodb_undo_log_truncate")),
                         f"{SRC_VARIABLES} innodb_undo_log_truncate"),
        max_undo_log_size=sourced(s, "undo.max_undo_log_size", src.variable_int("innodb_max_undo_log_size"),
                                  f"{SRC_VARIABLES} innodb_max_undo_log_size"),
        purge_rseg_truncate_frequency=sourced(
            s, "undo.purge_rseg_truncate_frequency", src.variable_int("innodb_purge_rseg_truncate_frequency"),
            f"{SRC_VARIABLES} innodb_purge_rseg_truncate_frequency"),
        directory=sourced(s, "undo.directory", src.variable("innodb_undo_directory"),
                          f"{SRC_VARIABLES} innodb_undo_directory"),
    )


def _order(spaces: dict[str, Tablespace]) -> list[Tablespace]:
    rank = {SYSTEM: 0, DICTIONARY: 1, UNDO: 2, TEMPORARY: 3, GENERAL: 4, FILE_PER_TABLE: 5}
    return sorted(spaces.values(), key=lambda t: (rank.get(t.kind, 9), t.name))


def collect_tablespaces(conn: pymysql.connections.Connection, info: ServerInfo,
                        sources: LiveSources | None = None) -> TablespaceReport:
    src = sources or LiveSources(conn, info)
    report = TablespaceReport()
    spaces = read_mysql(src) if not info.is_mariadb else None
    if spaces is None:
        spaces = read_sys_tables(src)
    if spaces is None:
        spaces = {}
    if info.is_mariadb:
        report.general_tablespaces_supported = False
        report.notes.append(MARIADB_NO_GENERAL)
        report.notes.append("MariaDB has no data dictionary tablespace (its SYS_* tables live in the system "
                            "tablespace) and lists no session temporary tablespaces or InnoDB temporary tables")
    apply_table_options(spaces, read_table_options(src), info.is_mariadb)
    if info.is_mariadb and not any(t.kind == UNDO for t in spaces.values()) and spaces:
        report.notes.append("undo logs live in the system tablespace (innodb_undo_tablespaces=0; MariaDB creates "
                            "undo tablespaces only when the server starts with innodb_undo_tablespaces > 0)")
    system = next((t for t in spaces.values() if t.kind == SYSTEM), None)
    if system is not None and system.free_bytes is None and info.is_mariadb:
        report.notes.append("free space of the system tablespace is unknown: MariaDB reports it only through "
                            "TABLES.DATA_FREE of a table stored in it (innodb_file_per_table=OFF)")
    apply_data_file_limits(src, spaces)
    page_size = src.variable_int("innodb_page_size")
    for ts in spaces.values():
        if ts.page_size is None and page_size:
            ts.page_size = sourced(ts.sources, "page_size", page_size, f"{SRC_VARIABLES} innodb_page_size")
        finish_sizes(ts)
    report.tablespaces = _order(spaces)
    if not info.is_mariadb:
        report.session_temporary = read_session_temp(src)
        report.temporary_tables = read_temp_tables(src) or []
        report.sources["session_temporary"] = SESSION_TEMP
        report.sources["temporary_tables"] = TEMP_INFO
    report.totals = kind_totals(report.tablespaces, report.session_temporary)
    report.reclaimable = reclaimable_of(spaces)[:RECLAIMABLE_LIMIT]
    report.reclaimable_total_bytes = sum(r.free_bytes for r in reclaimable_of(spaces)) if spaces else None
    if spaces:
        report.sources["reclaimable"] = "computed: free_bytes of file-per-table tablespaces (see each source)"
        report.sources["totals"] = "computed: sums over the tablespaces of each kind"
    report.undo = read_undo_settings(src, report)
    report.page_size = sourced(report.sources, "page_size", src.variable_int("innodb_page_size"),
                               f"{SRC_VARIABLES} innodb_page_size")
    report.file_per_table = sourced(report.sources, "file_per_table", is_on(src.variable("innodb_file_per_table")),
                                    f"{SRC_VARIABLES} innodb_file_per_table")
    report.notes.extend(n for n in src.notes if n not in report.notes)
    report.missing_grants = sorted(src.missing_grants)
    return report
