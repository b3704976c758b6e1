"""Live doublewrite status: mode, files, pages and batch settings, pages written and writes."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field

import pymysql

from mysqlinspect.collectors.sources import (
    SRC_COMPUTED,
    SRC_STATUS,
    SRC_VARIABLES,
    LiveSources,
    is_on,
    sourced,
)
from mysqlinspect.connection.server import ServerInfo

P_S_FILES = "performance_schema.file_instances"

MODE_MEANINGS = {
    "ON": "pages are written to the doublewrite buffer first: a torn page is repaired at recovery",
    "DETECT_AND_RECOVER": "same as ON: torn pages are detected and repaired from the doublewrite buffer",
    "DETECT_ONLY": "only page metadata is written: a torn page is detected but cannot be repaired",
    "OFF": "no doublewrite: a torn page write cannot be repaired (only safe on atomic-write storage)",
    "FAST": "MariaDB: like ON, without fsync of the data files before the doublewrite area is reused",
}


@dataclass(frozen=True)
class DoublewriteFile:
    name: str
    path: str
    size_bytes: int | None
    source: str


@dataclass
class DoublewriteStatus:
    mode: str | None = None
    enabled: bool | None = None
    repairs_torn_pages: bool | None = None
    meaning: str | None = None
    atomic_writes: bool | None = None
    directory: str | None = None
    files_setting: int | None = None
    pages_setting: int | None = None
    batch_size: int | None = None
    location: str | None = None
    files: list[DoublewriteFile] = field(default_factory=list)
    pages_written: int | None = None
    writes: int | None = None
    pages_per_write: float | None = None
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    missing_grants: list[str] = field(default_factory=list)


def normalise_mode(value: str | None) -> str | None:
    if value is None:
        return None
    mode = {"1": "ON", "0": "OFF"}.get(value.strip(), value.strip().upper())
    return mode


def runs_on_this_host(server_hostname: str) -> bool:
    """Whether the server's files are this machine's files (@@hostname is this host's name): a remote server's
    datadir path may exist here too, holding another server's files."""
    mine, theirs = socket.gethostname().lower(), server_hostname.lower()
    return bool(theirs) and (theirs == mine or theirs.split(".")[0] == mine.split(".")[0])


def read_files(src: LiveSources, directory: str | None) -> list[DoublewriteFile]:
    """Doublewrite files the server has open (performance_schema), with sizes when the path is readable here."""
    if not src.info.features.get("performance_schema"):
        return []
    rows = src.rows(f"SELECT FILE_NAME FROM {P_S_FILES} WHERE EVENT_NAME LIKE '%dblwr%' ORDER BY FILE_NAME",
                    P_S_FILES, "SELECT on performance_schema.file_instances")
    out = []
    local = runs_on_this_host(src.info.hostname)
    for row in rows or []:
        path = str(row["FILE_NAME"])
        size = None
        full = path if os.path.isabs(path) else os.path.join(directory or src.info.datadir, path)
        try:
            size = os.stat(full).st_size if local else None
        except OSError:
            pass
        out.append(DoublewriteFile(os.path.basename(path), path, size,
                                   P_S_FILES + (" + file size on this host" if size is not None else "")))
    return out


def collect_doublewrite_status(
    conn: pymysql.connections.Connection, info: ServerInfo, sources: LiveSources | None = None
) -> DoublewriteStatus:
    src = sources or LiveSources(conn, info)
    st = DoublewriteStatus()
    s = st.sources
    mode = normalise_mode(src.variable("innodb_doublewrite"))
    st.mode = sourced(s, "mode", mode, f"{SRC_VARIABLES} innodb_doublewrite")
    st.enabled = None if st.mode is None else st.mode != "OFF"
    st.repairs_torn_pages = None if st.mode is None else st.mode in ("ON", "DETECT_AND_RECOVER", "FAST")
    st.meaning = MODE_MEANINGS.get(st.mode or "")
    st.atomic_writes = sourced(s, "atomic_writes", is_on(src.variable("innodb_use_atomic_writes")),
                               f"{SRC_VARIABLES} innodb_use_atomic_writes")
    if st.atomic_writes and st.enabled:
        st.notes.append("innodb_use_atomic_writes=ON: on storage with atomic writes (e.g. FusionIO, some NVMe) "
                        "MariaDB skips the doublewrite buffer; elsewhere doublewrite stays in use")
    dblwr_dir = src.variable("innodb_doublewrite_dir")
    st.directory = sourced(s, "directory", dblwr_dir or src.info.datadir or None,
                           f"{SRC_VARIABLES} innodb_doublewrite_dir" if dblwr_dir else f"{SRC_VARIABLES} datadir")
    for attr, name in (("files_setting", "innodb_doublewrite_files"), ("pages_setting", "innodb_doublewrite_pages"),
                       ("batch_size", "innodb_doublewrite_batch_size")):
        setattr(st, attr, sourced(s, attr, src.variable_int(name), f"{SRC_VARIABLES} {name}"))
    if "innodb_doublewrite_files" in src.info.variables:
        st.location = "separate #ib_<page size>_<n>.dblwr files (MySQL 8.0.20+)"
        st.files = read_files(src, st.directory)
    else:
        st.location = "inside the system tablespace (ibdata1): two blocks of 64 pages"
    st.pages_written = sourced(s, "pages_written", src.status_int("Innodb_dblwr_pages_written"),
                               f"{SRC_STATUS} Innodb_dblwr_pages_written")
    st.writes = sourced(s, "writes", src.status_int("Innodb_dblwr_writes"), f"{SRC_STATUS} Innodb_dblwr_writes")
    if st.pages_written is not None and st.writes:
        st.pages_per_write = round(st.pages_written / st.writes, 2)
        s["pages_per_write"] = f"{SRC_COMPUTED}: pages_written / writes"
    st.notes.extend(n for n in src.notes if n not in st.notes)
    st.missing_grants = sorted(src.missing_grants)
    return st
