"""Live redo status: capacity, LSNs, checkpoint age against the flush points, files, counters and flush triggers.

Every value is taken from whichever source the server has (status variables, INNODB_METRICS when enabled, the LOG
section of SHOW ENGINE INNODB STATUS) and `sources[field]` says which one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pymysql

from mysqlinspect.collectors import redo_limits
from mysqlinspect.collectors.innodb_status import parse_log_section
from mysqlinspect.collectors.redo_limits import FlushPoints
from mysqlinspect.collectors.sources import (
    SRC_COMPUTED,
    SRC_METRICS,
    SRC_SEIS,
    SRC_STATUS,
    SRC_VARIABLES,
    LiveSources,
    first_available,
    is_on,
    pct,
    sourced,
)
from mysqlinspect.connection.server import ServerInfo

P_S_REDO_FILES = "performance_schema.innodb_redo_log_files"
P_S_ERROR_LOG = "performance_schema.error_log"


@dataclass(frozen=True)
class RedoFile:
    """One row of performance_schema.innodb_redo_log_files (8.0.30+)."""

    file_id: int
    name: str
    start_lsn: int
    end_lsn: int
    size_bytes: int
    is_full: bool
    consumer_level: int


@dataclass(frozen=True)
class FlushPolicy:
    """innodb_flush_log_at_trx_commit explained: what a mysqld crash and an OS crash can lose."""

    value: int | None
    timeout_seconds: int | None
    summary: str
    mysqld_crash_loss: str
    os_crash_loss: str


@dataclass(frozen=True)
class FlushTrigger:
    """A reason for InnoDB to flush dirty pages, with how close the server is to it."""

    name: str
    value: float | None
    threshold: float | None
    unit: str
    state: str  # "idle", "active", "near", "stalling", "unknown"
    detail: str
    source: str


@dataclass
class RedoStatus:
    capacity_bytes: int | None = None
    configured_capacity_bytes: int | None = None
    log_file_size: int | None = None
    log_files_in_group: int | None = None
    current_lsn: int | None = None
    flushed_lsn: int | None = None
    checkpoint_lsn: int | None = None
    checkpoint_age_bytes: int | None = None
    checkpoint_age_pct: float | None = None
    logical_size_bytes: int | None = None
    physical_size_bytes: int | None = None
    async_flush_point_bytes: int | None = None
    sync_flush_point_bytes: int | None = None
    hard_limit_bytes: int | None = None
    async_flush_point_pct: float | None = None
    sync_flush_point_pct: float | None = None
    checkpoint_age_pct_of_async: float | None = None
    checkpoint_age_pct_of_sync: float | None = None
    flush_points_formula: str | None = None
    log_buffer_size: int | None = None
    log_waits: int | None = None
    log_write_requests: int | None = None
    log_writes: int | None = None
    os_log_fsyncs: int | None = None
    os_log_pending_fsyncs: int | None = None
    os_log_pending_writes: int | None = None
    bytes_written: int | None = None
    avg_bytes_written_per_second: float | None = None
    redo_enabled: bool | None = None
    resize_status: str | None = None
    read_only: bool | None = None
    flush_log_at_trx_commit: int | None = None
    flush_log_at_timeout: int | None = None
    flush_policy: FlushPolicy | None = None
    log_checksums: bool | None = None
    page_cleaner_overruns: int | None = None
    last_page_cleaner_overrun: str | None = None
    files: list[RedoFile] = field(default_factory=list)
    flush_triggers: list[FlushTrigger] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    missing_grants: list[str] = field(default_factory=list)


FLUSH_POLICIES = {
    0: ("write and flush about once a second, nothing at commit",
        "up to ~{t}s of committed transactions (the log buffer is lost with the process)",
        "up to ~{t}s of committed transactions"),
    1: ("write and flush (fsync) the redo log at every commit: full durability",
        "nothing", "nothing (unless the disk or OS lies about fsync)"),
    2: ("write to the OS at every commit, flush about once a second",
        "nothing (the OS still holds the written redo)",
        "up to ~{t}s of committed transactions (not yet flushed from the OS cache)"),
    3: ("MariaDB: like 1, write and flush at commit (with binlog group commit)",
        "nothing", "nothing (unless the disk or OS lies about fsync)"),
}


def explain_flush_policy(value: int | None, timeout: int | None) -> FlushPolicy:
    t = timeout if timeout is not None else 1
    if value not in FLUSH_POLICIES:
        return FlushPolicy(value, timeout, "unknown setting", "unknown", "unknown")
    summary, mysqld, os_crash = FLUSH_POLICIES[value]
    return FlushPolicy(value, timeout, summary, mysqld.format(t=t), os_crash.format(t=t))


def effective_capacity(src: LiveSources, sources: dict[str, str]) -> int | None:
    """8.0.30+: Innodb_redo_log_capacity_resized; before: file size x files; MariaDB: innodb_log_file_size."""
    resized = src.status_int("Innodb_redo_log_capacity_resized")
    if resized:
        sources["capacity_bytes"] = f"{SRC_STATUS} Innodb_redo_log_capacity_resized"
        return resized
    size = src.variable_int("innodb_log_file_size")
    if size is None:
        configured = src.variable_int("innodb_redo_log_capacity")
        return sourced(sources, "capacity_bytes", configured, f"{SRC_VARIABLES} innodb_redo_log_capacity")
    if src.info.is_mariadb and src.info.at_least(10, 5):
        sources["capacity_bytes"] = f"{SRC_VARIABLES} innodb_log_file_size (MariaDB 10.5+: one file, total size)"
        return size
    files = src.variable_int("innodb_log_files_in_group") or 2
    sources["capacity_bytes"] = f"{SRC_VARIABLES} innodb_log_file_size x innodb_log_files_in_group"
    return size * files


# Each LSN from the first source the server has: status variables (8.0.30+, then MariaDB), INNODB_METRICS, and the
# LOG section of SHOW ENGINE INNODB STATUS.
LSN_SOURCES = (
    ("current_lsn", ("Innodb_redo_log_current_lsn", "Innodb_lsn_current"), "log_lsn_current", "Log sequence number"),
    ("flushed_lsn", ("Innodb_redo_log_flushed_to_disk_lsn", "Innodb_lsn_flushed"), "log_lsn_last_flush",
     "Log flushed up to"),
    ("checkpoint_lsn", ("Innodb_redo_log_checkpoint_lsn", "Innodb_lsn_last_checkpoint"), "log_lsn_last_checkpoint",
     "Last checkpoint at"),
)


def read_lsns(src: LiveSources, status: RedoStatus) -> None:
    s = status.sources
    log = None
    from_status = src.status_int("Innodb_redo_log_current_lsn") or src.status_int("Innodb_lsn_current")
    if from_status is None and src.metric("log_lsn_current") is None:
        text = src.seis()
        log = parse_log_section(text) if text else None
    for attr, status_names, metric, seis_line in LSN_SOURCES:
        candidates = [(src.status_int(name), f"{SRC_STATUS} {name}") for name in status_names]
        candidates.append((src.metric(metric), f"{SRC_METRICS} {metric}"))
        candidates.append((getattr(log, attr) if log else None, f"{SRC_SEIS} {seis_line}"))
        setattr(status, attr, first_available(s, attr, *candidates))


def checkpoint_age(status: RedoStatus) -> None:
    s = status.sources
    if status.current_lsn is not None and status.checkpoint_lsn is not None:
        status.checkpoint_age_bytes = max(0, status.current_lsn - status.checkpoint_lsn)
        s["checkpoint_age_bytes"] = f"{SRC_COMPUTED}: current_lsn - checkpoint_lsn"
    status.checkpoint_age_pct = pct(status.checkpoint_age_bytes, status.capacity_bytes)
    if status.checkpoint_age_pct is not None:
        s["checkpoint_age_pct"] = f"{SRC_COMPUTED}: checkpoint_age_bytes / capacity_bytes"


def flush_points(src: LiveSources, status: RedoStatus) -> FlushPoints | None:
    """The server's own figures when INNODB_METRICS has them enabled, else the version's formula."""
    page_size = src.variable_int("innodb_page_size") or 16384
    metric_async, metric_sync = src.metric("log_max_modified_age_async"), src.metric("log_max_modified_age_sync")
    if metric_async and metric_sync:
        return FlushPoints(metric_async, metric_sync, None,
                           f"{SRC_METRICS} log_max_modified_age_async / log_max_modified_age_sync")
    max_age = src.status_int("Innodb_checkpoint_max_age")
    if src.info.is_mariadb:
        if max_age:
            return redo_limits.mariadb_points(max_age)
        if status.log_file_size:
            return redo_limits.mariadb_points(redo_limits.mariadb_max_checkpoint_age(status.log_file_size, page_size))
        return None
    if src.status_int("Innodb_redo_log_capacity_resized") and status.capacity_bytes:
        return redo_limits.mysql_8030_points(status.capacity_bytes, page_size)
    if status.log_file_size and status.log_files_in_group:
        if src.info.at_least(8, 0, 0):
            return redo_limits.mysql_80_points(status.log_file_size, status.log_files_in_group, page_size)
        concurrency = src.variable_int("innodb_thread_concurrency") or 0
        return redo_limits.mysql_57_points(status.log_file_size, status.log_files_in_group, page_size, concurrency)
    return None


def apply_flush_points(src: LiveSources, status: RedoStatus) -> None:
    points = flush_points(src, status)
    if points is None:
        return
    status.async_flush_point_bytes = points.async_bytes
    status.sync_flush_point_bytes = points.sync_bytes
    status.hard_limit_bytes = points.hard_limit_bytes
    status.flush_points_formula = points.formula
    source = points.formula if points.formula.startswith(SRC_METRICS) else f"{SRC_COMPUTED}: {points.formula}"
    for key in ("async_flush_point_bytes", "sync_flush_point_bytes"):
        status.sources[key] = source
    status.async_flush_point_pct = pct(points.async_bytes, status.capacity_bytes)
    status.sync_flush_point_pct = pct(points.sync_bytes, status.capacity_bytes)
    status.checkpoint_age_pct_of_async = pct(status.checkpoint_age_bytes, points.async_bytes)
    status.checkpoint_age_pct_of_sync = pct(status.checkpoint_age_bytes, points.sync_bytes)


def read_counters(src: LiveSources, status: RedoStatus) -> None:
    s = status.sources
    for attr, name in (
        ("log_waits", "Innodb_log_waits"),
        ("log_write_requests", "Innodb_log_write_requests"),
        ("log_writes", "Innodb_log_writes"),
        ("os_log_fsyncs", "Innodb_os_log_fsyncs"),
        ("os_log_pending_fsyncs", "Innodb_os_log_pending_fsyncs"),
        ("os_log_pending_writes", "Innodb_os_log_pending_writes"),
        ("bytes_written", "Innodb_os_log_written"),
        ("logical_size_bytes", "Innodb_redo_log_logical_size"),
        ("physical_size_bytes", "Innodb_redo_log_physical_size"),
    ):
        setattr(status, attr, sourced(s, attr, src.status_int(name), f"{SRC_STATUS} {name}"))
    if status.log_waits is None:
        status.log_waits = sourced(s, "log_waits", src.metric("log_waits"), f"{SRC_METRICS} log_waits")
    uptime = src.status_int("Uptime") or src.info.uptime_seconds
    if status.bytes_written is not None and uptime:
        status.avg_bytes_written_per_second = round(status.bytes_written / uptime, 1)
        s["avg_bytes_written_per_second"] = f"{SRC_COMPUTED}: Innodb_os_log_written / Uptime"
    enabled = src.status_text("Innodb_redo_log_enabled")
    status.redo_enabled = sourced(s, "redo_enabled", is_on(enabled), f"{SRC_STATUS} Innodb_redo_log_enabled")
    status.resize_status = sourced(s, "resize_status", src.status_text("Innodb_redo_log_resize_status"),
                                   f"{SRC_STATUS} Innodb_redo_log_resize_status")
    status.read_only = sourced(s, "read_only", is_on(src.status_text("Innodb_redo_log_read_only")),
                               f"{SRC_STATUS} Innodb_redo_log_read_only")


def read_settings(src: LiveSources, status: RedoStatus) -> None:
    s = status.sources
    for attr, name in (
        ("configured_capacity_bytes", "innodb_redo_log_capacity"),
        ("log_file_size", "innodb_log_file_size"),
        ("log_files_in_group", "innodb_log_files_in_group"),
        ("log_buffer_size", "innodb_log_buffer_size"),
        ("flush_log_at_trx_commit", "innodb_flush_log_at_trx_commit"),
        ("flush_log_at_timeout", "innodb_flush_log_at_timeout"),
    ):
        setattr(status, attr, sourced(s, attr, src.variable_int(name), f"{SRC_VARIABLES} {name}"))
    status.log_checksums = sourced(s, "log_checksums", is_on(src.variable("innodb_log_checksums")),
                                   f"{SRC_VARIABLES} innodb_log_checksums")
    status.flush_policy = explain_flush_policy(status.flush_log_at_trx_commit, status.flush_log_at_timeout)


def read_redo_files(src: LiveSources) -> list[RedoFile]:
    if not src.info.features.get("redo_log_files_table"):
        return []
    rows = src.rows(
        f"SELECT FILE_ID, FILE_NAME, START_LSN, END_LSN, SIZE_IN_BYTES, IS_FULL, CONSUMER_LEVEL FROM {P_S_REDO_FILES} "
        "ORDER BY FILE_ID", P_S_REDO_FILES, "SELECT on performance_schema.innodb_redo_log_files")
    return [
        RedoFile(
            file_id=int(r["FILE_ID"]), name=str(r["FILE_NAME"]), start_lsn=int(r["START_LSN"]),
            end_lsn=int(r["END_LSN"]), size_bytes=int(r["SIZE_IN_BYTES"]), is_full=bool(int(r["IS_FULL"] or 0)),
            consumer_level=int(r["CONSUMER_LEVEL"] or 0),
        )
        for r in rows or []
    ]


def _trigger_state(value: float | None, low: float | None, high: float | None) -> str:
    if value is None:
        return "unknown"
    if high is not None and value >= high:
        return "stalling"
    if low is not None and value >= low:
        return "active"
    if high is not None and value >= 0.8 * high:
        return "near"
    return "idle"


def redo_age_trigger(status: RedoStatus) -> FlushTrigger:
    age, a, sync = status.checkpoint_age_bytes, status.async_flush_point_bytes, status.sync_flush_point_bytes
    state = _trigger_state(age, a, sync)
    detail = {
        "stalling": "checkpoint age is past the sync flush point: user threads wait for page flushing",
        "active": "checkpoint age is past the async point: adaptive flushing is speeding up",
        "near": "checkpoint age is approaching the sync flush point",
        "idle": "checkpoint age is well below the flush points",
        "unknown": "checkpoint age or flush points unavailable",
    }[state]
    return FlushTrigger("redo checkpoint age", age, sync, "bytes", state, detail,
                        status.sources.get("checkpoint_age_bytes", "unavailable"))


def dirty_pages_trigger(src: LiveSources) -> FlushTrigger:
    dirty = src.status_int("Innodb_buffer_pool_pages_dirty")
    total = src.status_int("Innodb_buffer_pool_pages_total")
    dirty_pct = pct(dirty, total)
    high = float(src.variable("innodb_max_dirty_pages_pct") or 90)
    lwm = float(src.variable("innodb_max_dirty_pages_pct_lwm") or 0)
    state = _trigger_state(dirty_pct, lwm if lwm > 0 else None, high)
    detail = (f"{dirty} of {total} pages dirty; pre-flushing from innodb_max_dirty_pages_pct_lwm={lwm:g}%, "
              f"flushing at full io capacity from innodb_max_dirty_pages_pct={high:g}%")
    return FlushTrigger("dirty pages % of buffer pool", dirty_pct, high, "%", state, detail,
                        f"{SRC_STATUS} Innodb_buffer_pool_pages_dirty / Innodb_buffer_pool_pages_total")


def lru_trigger(src: LiveSources) -> FlushTrigger:
    wait_free = src.status_int("Innodb_buffer_pool_wait_free")
    lru_flushed = src.status_int("Innodb_buffer_pool_pages_lru_flushed")
    source = f"{SRC_STATUS} Innodb_buffer_pool_wait_free"
    if lru_flushed is None:
        lru_flushed = src.metric("buffer_lru_batch_flush_total_pages")
        if lru_flushed is not None:
            source += f", {SRC_METRICS} buffer_LRU_batch_flush_total_pages"
    else:
        source += ", Innodb_buffer_pool_pages_LRU_flushed"
    state = "unknown" if wait_free is None else ("active" if wait_free > 0 else "idle")
    extra = f"; {lru_flushed} pages flushed from the LRU tail" if lru_flushed is not None else ""
    detail = f"{wait_free} waits for a free page since startup (user threads flushing the LRU tail){extra}"
    return FlushTrigger("LRU flushing (free pages)", wait_free, 0, "waits", state, detail, source)


def read_page_cleaner_overruns(src: LiveSources, status: RedoStatus) -> None:
    """MySQL 8.0.22+: error-log lines where the page cleaner could not keep its one-second loop."""
    if not src.info.is_mysql or not src.info.features.get("performance_schema"):
        return
    rows = src.rows(
        f"SELECT LOGGED, DATA FROM {P_S_ERROR_LOG} WHERE DATA LIKE '%intended loop took%' "
        "OR DATA LIKE 'Page cleaner took%' ORDER BY LOGGED DESC", P_S_ERROR_LOG,
        f"SELECT on {P_S_ERROR_LOG}")
    if rows is None:
        return
    status.page_cleaner_overruns = len(rows)
    status.last_page_cleaner_overrun = f"{rows[0]['LOGGED']} {rows[0]['DATA']}" if rows else None
    status.sources["page_cleaner_overruns"] = P_S_ERROR_LOG


def page_cleaner_trigger(src: LiveSources, status: RedoStatus) -> FlushTrigger:
    overruns = status.page_cleaner_overruns
    overrun_text = (f"; {overruns} page-cleaner overruns in the error log (last: {status.last_page_cleaner_overrun})"
                    if overruns else "")
    sync_waits = src.metric("buffer_flush_sync_waits")
    text = src.seis() if sync_waits is None else None
    lag = None
    if text:
        match = re.search(r"Pages flushed up to\s+(\d+)", text)
        cur = re.search(r"Log sequence number\s+(\d+)", text)
        if match and cur:
            lag = int(cur.group(1)) - int(match.group(1))
    if sync_waits is not None:
        state = "active" if sync_waits or overruns else "idle"
        return FlushTrigger("page cleaner (sync flush waits)", sync_waits, 0, "waits", state,
                            f"{sync_waits} waits of user threads for a sync flush since the counter was enabled"
                            + overrun_text, f"{SRC_METRICS} buffer_flush_sync_waits")
    if lag is not None:
        return FlushTrigger("page cleaner lag", lag, None, "bytes", "active" if lag or overruns else "idle",
                            f"the oldest unflushed change is {lag} bytes of LSN behind the current LSN" + overrun_text,
                            f"{SRC_SEIS} Log sequence number - Pages flushed up to")
    return FlushTrigger("page cleaner", overruns, None, "overruns", "active" if overruns else "unknown",
                        "enable INNODB_METRICS buffer_flush_sync_waits or grant PROCESS to see the lag" + overrun_text,
                        P_S_ERROR_LOG if overruns is not None else "unavailable")


def collect_redo_status(
    conn: pymysql.connections.Connection, info: ServerInfo, sources: LiveSources | None = None
) -> RedoStatus:
    src = sources or LiveSources(conn, info)
    status = RedoStatus()
    read_settings(src, status)
    status.capacity_bytes = effective_capacity(src, status.sources)
    read_lsns(src, status)
    checkpoint_age(status)
    apply_flush_points(src, status)
    read_counters(src, status)
    status.files = read_redo_files(src)
    read_page_cleaner_overruns(src, status)
    status.flush_triggers = [redo_age_trigger(status), dirty_pages_trigger(src), lru_trigger(src),
                             page_cleaner_trigger(src, status)]
    if status.configured_capacity_bytes and status.capacity_bytes and "resized" in status.sources.get(
            "capacity_bytes", "") and status.capacity_bytes != status.configured_capacity_bytes:
        status.notes.append(
            f"innodb_redo_log_capacity says {status.configured_capacity_bytes} but the effective capacity is "
            f"{status.capacity_bytes} (deprecated innodb_log_file_size/innodb_log_files_in_group in use, or a "
            "resize in progress)")
    status.notes.extend(n for n in src.notes if n not in status.notes)
    status.missing_grants = sorted(src.missing_grants)
    return status
