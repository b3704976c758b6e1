"""The durability report: the crash-safety settings together, and what each failure can lose or break.

The conclusions come from the pure rules in durability_rules.py; `collect_durability_report()` reads the settings
from a live server and adds what only a live server can tell (prepared XA transactions, start-up messages).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pymysql

from mysqlinspect.collectors.doublewrite import normalise_mode
from mysqlinspect.collectors.durability_rules import (
    Consequence,
    DurabilityInputs,
    Scenario,
    assess,
    overall_verdict,
    scenario_of,
)
from mysqlinspect.collectors.sources import SRC_STATUS, SRC_VARIABLES, LiveSources, is_on
from mysqlinspect.connection.query import as_int
from mysqlinspect.connection.server import ServerInfo
from mysqlinspect.errors import MysqlInspectError

P_S_ERROR_LOG = "performance_schema.error_log"


@dataclass(frozen=True)
class DurabilitySetting:
    name: str
    value: str | None
    source: str
    meaning: str


@dataclass
class DurabilityReport:
    settings: list[DurabilitySetting]
    binlog_enabled: bool
    binlog_format: str | None
    sync_binlog: int | None
    flush_log_at_trx_commit: int | None
    doublewrite_mode: str | None
    log_checksums: bool | None
    binlog_checksum: str | None
    gtid_mode: str | None
    two_phase_commit: str
    prepared_xa_transactions: int | None
    startup_recovery_messages: list[str]
    scenarios: list[Scenario]
    verdict: str
    notes: list[str] = field(default_factory=list)
    missing_grants: list[str] = field(default_factory=list)


SETTING_MEANINGS = {
    "log_bin": "binary log on: replication, point-in-time recovery, and the redo/binlog two-phase commit",
    "binlog_format": "ROW logs row images; STATEMENT/MIXED replay statements",
    "sync_binlog": "1 = fsync the binlog at every commit group; 0 = the OS decides; N = every N groups",
    "innodb_flush_log_at_trx_commit": "1 = flush redo at commit; 2 = write at commit, flush ~1/s; 0 = ~1/s",
    "innodb_flush_log_at_timeout": "seconds between redo flushes when the setting above is 0 or 2",
    "innodb_doublewrite": "protects data pages against torn (partial) writes",
    "innodb_use_atomic_writes": "MariaDB: use the storage's atomic writes instead of doublewrite where possible",
    "innodb_log_checksums": "checksums on redo blocks, verified by crash recovery",
    "binlog_checksum": "checksums on binlog events, verified by replicas and mysqlbinlog",
    "gtid_mode": "global transaction ids: replicas find their position after a failover",
    "enforce_gtid_consistency": "refuses statements that cannot be logged safely with GTIDs",
    "gtid_strict_mode": "MariaDB: refuse out-of-order GTIDs in the binlog",
}


def read_settings(src: LiveSources) -> list[DurabilitySetting]:
    out = []
    for name, meaning in SETTING_MEANINGS.items():
        value = src.variable(name)
        if value is not None:
            out.append(DurabilitySetting(name, value, f"{SRC_VARIABLES} {name}", meaning))
    return out


def two_phase_commit(src: LiveSources, binlog_on: bool) -> str:
    if not binlog_on:
        tc = src.status_int("Tc_log_page_size")
        return ("off: binary log disabled, so there is no redo/binlog two-phase commit"
                + ("; MariaDB uses the memory-mapped tc.log for XA" if src.info.is_mariadb and tc else ""))
    return ("on: each InnoDB transaction is prepared in the redo log, written to the binary log, then committed; "
            "crash recovery commits prepared transactions found in the binlog and rolls back the others")


def prepared_xa(src: LiveSources) -> int | None:
    """Prepared XA transactions now. MySQL 8.0+ answers XAER_RMERR (1401) without XA_RECOVER_ADMIN."""
    try:
        rows = src.rows("XA RECOVER", "XA RECOVER", "XA_RECOVER_ADMIN privilege")
    except MysqlInspectError:
        src.unavailable("XA RECOVER", "XA_RECOVER_ADMIN privilege")
        return None
    return None if rows is None else len(rows)


def startup_recovery_messages(src: LiveSources) -> list[str]:
    """Error-log lines about prepared transactions and crash recovery (MySQL 8.0.22+ performance_schema.error_log)."""
    if not src.info.is_mysql or not src.info.features.get("performance_schema"):
        return []
    rows = src.rows(
        f"SELECT LOGGED, ERROR_CODE, DATA FROM {P_S_ERROR_LOG} WHERE DATA LIKE '%prepared%' "
        "OR DATA LIKE '%crash recovery%' OR DATA LIKE '%XA%recover%' ORDER BY LOGGED DESC LIMIT 10",
        P_S_ERROR_LOG, "SELECT on performance_schema.error_log")
    return [f"{r['LOGGED']} {r['ERROR_CODE']} {r['DATA']}" for r in rows or []]


def inputs_from(src: LiveSources) -> DurabilityInputs:
    return DurabilityInputs(
        binlog_enabled=bool(is_on(src.variable("log_bin"))),
        sync_binlog=as_int(src.variable("sync_binlog")),
        flush_log_at_trx_commit=as_int(src.variable("innodb_flush_log_at_trx_commit")),
        flush_log_at_timeout=as_int(src.variable("innodb_flush_log_at_timeout")),
        doublewrite_mode=normalise_mode(src.variable("innodb_doublewrite")),
        atomic_writes=is_on(src.variable("innodb_use_atomic_writes")),
        log_checksums=is_on(src.variable("innodb_log_checksums")),
        binlog_checksum=src.variable("binlog_checksum"),
        binlog_format=src.variable("binlog_format"),
        gtid_mode=src.variable("gtid_mode"),
        is_mariadb=src.info.is_mariadb,
    )


def collect_durability_report(
    conn: pymysql.connections.Connection, info: ServerInfo, sources: LiveSources | None = None
) -> DurabilityReport:
    src = sources or LiveSources(conn, info)
    inputs = inputs_from(src)
    scenarios = assess(inputs)
    report = DurabilityReport(
        settings=read_settings(src),
        binlog_enabled=inputs.binlog_enabled,
        binlog_format=inputs.binlog_format if inputs.binlog_enabled else None,
        sync_binlog=inputs.sync_binlog,
        flush_log_at_trx_commit=inputs.flush_log_at_trx_commit,
        doublewrite_mode=inputs.doublewrite_mode,
        log_checksums=inputs.log_checksums,
        binlog_checksum=inputs.binlog_checksum,
        gtid_mode=inputs.gtid_mode or (src.variable("gtid_strict_mode") and "MariaDB GTID (always on)"),
        two_phase_commit=two_phase_commit(src, inputs.binlog_enabled),
        prepared_xa_transactions=prepared_xa(src),
        startup_recovery_messages=startup_recovery_messages(src),
        scenarios=scenarios,
        verdict=overall_verdict(scenarios),
    )
    if is_on(src.status_text("Innodb_redo_log_enabled")) is False:
        report.scenarios.insert(0, scenario_of("redo_disabled", "redo logging disabled", [Consequence(
            "loss", "ALTER INSTANCE DISABLE INNODB REDO_LOG is in effect: after any crash the server refuses "
            "to start and the data directory must be restored", "Innodb_redo_log_enabled=OFF")]))
        report.verdict = "loss"
        report.notes.append(f"{SRC_STATUS} Innodb_redo_log_enabled = OFF")
    report.notes.extend(n for n in src.notes if n not in report.notes)
    report.missing_grants = sorted(src.missing_grants)
    return report
