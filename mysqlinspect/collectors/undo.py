"""Live undo and purge status: undo tablespaces, settings, history list length, oldest transactions, purge lag."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pymysql

from mysqlinspect.collectors.innodb_status import parse_history_list_length
from mysqlinspect.collectors.sources import (
    PROCESS,
    SRC_COMPUTED,
    SRC_METRICS,
    SRC_SEIS,
    SRC_STATUS,
    SRC_VARIABLES,
    LiveSources,
    first_available,
    is_on,
    sourced,
)
from mysqlinspect.connection.query import as_int
from mysqlinspect.connection.server import ServerInfo

OLDEST_LIMIT = 10


@dataclass(frozen=True)
class UndoTablespace:
    name: str
    file: str | None
    state: str | None
    size_bytes: int | None
    source: str


@dataclass(frozen=True)
class ActiveTransaction:
    trx_id: str
    state: str
    started: str
    age_seconds: int
    thread_id: int | None
    user: str | None
    host: str | None
    rows_modified: int | None
    rows_locked: int | None
    undo_records: int | None
    isolation_level: str | None
    statement: str | None


@dataclass
class UndoStatus:
    history_list_length: int | None = None
    tablespaces: list[UndoTablespace] = field(default_factory=list)
    undo_tablespaces_active: int | None = None
    undo_tablespaces_total: int | None = None
    undo_log_truncate: bool | None = None
    max_undo_log_size: int | None = None
    undo_directory: str | None = None
    undo_tablespaces_setting: int | None = None
    rollback_segments: int | None = None
    available_undo_logs: int | None = None
    purge_threads: int | None = None
    purge_batch_size: int | None = None
    purge_rseg_truncate_frequency: int | None = None
    max_purge_lag: int | None = None
    max_purge_lag_delay: int | None = None
    purge_dml_delay_usec: int | None = None
    trx_id_counter: int | None = None
    purged_up_to_trx_id: int | None = None
    purge_lag_trx_ids: int | None = None
    purge_state: str | None = None
    active_transaction_count: int | None = None
    oldest_transactions: list[ActiveTransaction] = field(default_factory=list)
    oldest_transaction_age_seconds: int | None = None
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    missing_grants: list[str] = field(default_factory=list)


def read_settings(src: LiveSources, status: UndoStatus) -> None:
    s = status.sources
    for attr, name in (
        ("max_undo_log_size", "innodb_max_undo_log_size"),
        ("undo_tablespaces_setting", "innodb_undo_tablespaces"),
        ("rollback_segments", "innodb_rollback_segments"),
        ("purge_threads", "innodb_purge_threads"),
        ("purge_batch_size", "innodb_purge_batch_size"),
        ("purge_rseg_truncate_frequency", "innodb_purge_rseg_truncate_frequency"),
        ("max_purge_lag", "innodb_max_purge_lag"),
        ("max_purge_lag_delay", "innodb_max_purge_lag_delay"),
    ):
        setattr(status, attr, sourced(s, attr, src.variable_int(name), f"{SRC_VARIABLES} {name}"))
    status.undo_log_truncate = sourced(s, "undo_log_truncate", is_on(src.variable("innodb_undo_log_truncate")),
                                       f"{SRC_VARIABLES} innodb_undo_log_truncate")
    status.undo_directory = sourced(s, "undo_directory", src.variable("innodb_undo_directory"),
                                    f"{SRC_VARIABLES} innodb_undo_directory")
    for attr, name in (
        ("undo_tablespaces_active", "Innodb_undo_tablespaces_active"),
        ("undo_tablespaces_total", "Innodb_undo_tablespaces_total"),
        ("available_undo_logs", "Innodb_available_undo_logs"),
    ):
        setattr(status, attr, sourced(s, attr, src.status_int(name), f"{SRC_STATUS} {name}"))
    status.purge_dml_delay_usec = sourced(s, "purge_dml_delay_usec", src.metric("purge_dml_delay_usec"),
                                          f"{SRC_METRICS} purge_dml_delay_usec")


def read_history_list_length(src: LiveSources, status: UndoStatus) -> None:
    text = None
    if src.metric("trx_rseg_history_len") is None and src.status_int("Innodb_history_list_length") is None:
        text = src.seis()
    status.history_list_length = first_available(
        status.sources, "history_list_length",
        (src.metric("trx_rseg_history_len"), f"{SRC_METRICS} trx_rseg_history_len"),
        (src.status_int("Innodb_history_list_length"), f"{SRC_STATUS} Innodb_history_list_length"),
        (parse_history_list_length(text) if text else None, f"{SRC_SEIS} History list length"),
    )


def read_tablespaces(src: LiveSources) -> list[UndoTablespace]:
    """INNODB_TABLESPACES (8.0+) with I_S.FILES for the file name; 5.7 and MariaDB: I_S.FILES / SYS_TABLESPACES."""
    rows = src.rows(
        "SELECT t.NAME, t.STATE, t.FILE_SIZE, f.FILE_NAME FROM information_schema.INNODB_TABLESPACES t "
        "LEFT JOIN information_schema.FILES f ON f.TABLESPACE_NAME = t.NAME AND f.FILE_TYPE = 'UNDO LOG' "
        "WHERE t.SPACE_TYPE = 'Undo' ORDER BY t.NAME", "INFORMATION_SCHEMA.INNODB_TABLESPACES", PROCESS)
    if rows:
        return [UndoTablespace(str(r["NAME"]), r["FILE_NAME"], r["STATE"], as_int(r["FILE_SIZE"]),
                               "INFORMATION_SCHEMA.INNODB_TABLESPACES") for r in rows]
    rows = src.rows(
        "SELECT NAME, FILENAME, FILE_SIZE FROM information_schema.INNODB_SYS_TABLESPACES "
        "WHERE NAME LIKE 'innodb_undo%' ORDER BY NAME", "INFORMATION_SCHEMA.INNODB_SYS_TABLESPACES", PROCESS)
    if rows:
        return [UndoTablespace(str(r["NAME"]), r["FILENAME"], "active", as_int(r["FILE_SIZE"]),
                               "INFORMATION_SCHEMA.INNODB_SYS_TABLESPACES") for r in rows]
    rows = src.rows(
        "SELECT TABLESPACE_NAME, FILE_NAME, TOTAL_EXTENTS * EXTENT_SIZE AS size FROM information_schema.FILES "
        "WHERE FILE_TYPE = 'UNDO LOG' ORDER BY TABLESPACE_NAME", "INFORMATION_SCHEMA.FILES", PROCESS)
    if rows:
        return [UndoTablespace(str(r["TABLESPACE_NAME"]), r["FILE_NAME"], None, as_int(r["size"]),
                               "INFORMATION_SCHEMA.FILES") for r in rows]
    if (src.variable_int("innodb_undo_tablespaces") or 0) == 0 and src.info.is_mariadb:
        return [UndoTablespace("innodb_system", "ibdata1", "undo logs in the system tablespace", None,
                               f"{SRC_VARIABLES} innodb_undo_tablespaces = 0")]
    return []


_TRX_HEADER = re.compile(r"^---TRANSACTION (?:\(0x)?([0-9a-fx]+)\)?, ACTIVE", re.MULTILINE)
_UNDO_ENTRIES = re.compile(r"undo log entries (\d+)")
_THREAD_ID = re.compile(r"(?:MySQL|MariaDB) thread id (\d+)")


def parse_undo_entries(text: str) -> dict[int, int]:
    """Per active transaction in SEIS: thread id -> undo log entries."""
    out: dict[int, int] = {}
    starts = [m.start() for m in _TRX_HEADER.finditer(text)]
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else text.find("\n--------\n", start)
        block = text[start:end if end > 0 else None]
        thread, undo = _THREAD_ID.search(block), _UNDO_ENTRIES.search(block)
        if thread:
            out[int(thread.group(1))] = int(undo.group(1)) if undo else 0
    return out


def parse_purge_progress(text: str) -> tuple[int | None, int | None, str | None]:
    """Trx id counter, 'Purge done for trx's n:o < N' and the purge state."""
    counter = re.search(r"Trx id counter\s+(\d+)", text)
    done = re.search(r"Purge done for trx's n:o < (\d+)[^\n]*?state: ([^\n]+)", text)
    return (int(counter.group(1)) if counter else None, int(done.group(1)) if done else None,
            done.group(2).strip() if done else None)


def read_transactions(src: LiveSources, limit: int = OLDEST_LIMIT) -> tuple[list[dict[str, Any]] | None, int | None]:
    rows = src.rows(
        "SELECT t.trx_id, t.trx_state, t.trx_started, GREATEST(0, TIMESTAMPDIFF(SECOND, t.trx_started, NOW())) AS age,"
        " t.trx_mysql_thread_id, t.trx_rows_modified, t.trx_rows_locked, t.trx_isolation_level, t.trx_query,"
        " p.USER, p.HOST, p.INFO FROM information_schema.INNODB_TRX t"
        " LEFT JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id"
        " WHERE t.trx_mysql_thread_id <> CONNECTION_ID() ORDER BY t.trx_started, t.trx_id",
        "INFORMATION_SCHEMA.INNODB_TRX", PROCESS)
    if rows is None:
        return None, None
    return rows[:limit], len(rows)


def build_transactions(rows: list[dict[str, Any]], undo: dict[int, int]) -> list[ActiveTransaction]:
    out = []
    for r in rows:
        thread = as_int(r["trx_mysql_thread_id"])
        out.append(ActiveTransaction(
            trx_id=str(r["trx_id"]), state=str(r["trx_state"]), started=str(r["trx_started"]),
            age_seconds=int(r["age"] or 0), thread_id=thread, user=r.get("USER"), host=r.get("HOST"),
            rows_modified=as_int(r["trx_rows_modified"]), rows_locked=as_int(r["trx_rows_locked"]),
            undo_records=undo.get(thread) if thread is not None else None,
            isolation_level=r.get("trx_isolation_level"), statement=r.get("trx_query") or r.get("INFO"),
        ))
    return out


def collect_undo_status(
    conn: pymysql.connections.Connection, info: ServerInfo, sources: LiveSources | None = None,
    limit: int = OLDEST_LIMIT,
) -> UndoStatus:
    src = sources or LiveSources(conn, info)
    status = UndoStatus()
    read_settings(src, status)
    read_history_list_length(src, status)
    status.tablespaces = read_tablespaces(src)
    rows, count = read_transactions(src, limit)
    text = src.seis()
    if text:
        counter, done, state = parse_purge_progress(text)
        s = status.sources
        status.trx_id_counter = sourced(s, "trx_id_counter", counter, f"{SRC_SEIS} Trx id counter")
        status.purged_up_to_trx_id = sourced(s, "purged_up_to_trx_id", done, f"{SRC_SEIS} Purge done for trx's n:o")
        status.purge_state = sourced(s, "purge_state", state, f"{SRC_SEIS} Purge done ... state")
        if counter is not None and done is not None:
            status.purge_lag_trx_ids = sourced(s, "purge_lag_trx_ids", max(0, counter - done),
                                               f"{SRC_COMPUTED}: Trx id counter - purged up to")
    if rows is not None:
        status.oldest_transactions = build_transactions(rows, parse_undo_entries(text) if text else {})
        status.active_transaction_count = count
        status.sources["oldest_transactions"] = "INFORMATION_SCHEMA.INNODB_TRX + PROCESSLIST" + (
            f", undo records from {SRC_SEIS}" if text else "")
        status.oldest_transaction_age_seconds = max((t.age_seconds for t in status.oldest_transactions), default=0)
    status.notes.extend(n for n in src.notes if n not in status.notes)
    status.missing_grants = sorted(src.missing_grants)
    return status
