"""The durability report: the crash-safety settings together, and what each failure can lose or break.

`assess()` is pure (settings in, scenarios out) so that its conclusions are unit-tested for every combination;
`collect_durability_report()` reads the settings from a live server.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pymysql

from mysqlinspect.collectors.doublewrite import normalise_mode
from mysqlinspect.collectors.sources import SRC_STATUS, SRC_VARIABLES, LiveSources, is_on
from mysqlinspect.connection.query import as_int
from mysqlinspect.connection.server import ServerInfo
from mysqlinspect.errors import MysqlInspectError

SEVERITY_ORDER = {"safe": 0, "info": 1, "risk": 2, "loss": 3}
P_S_ERROR_LOG = "performance_schema.error_log"


@dataclass(frozen=True)
class DurabilityInputs:
    """The settings the conclusions depend on (None = unknown on this server)."""

    binlog_enabled: bool
    sync_binlog: int | None
    flush_log_at_trx_commit: int | None
    flush_log_at_timeout: int | None = 1
    doublewrite_mode: str | None = "ON"
    atomic_writes: bool | None = None
    log_checksums: bool | None = True
    binlog_checksum: str | None = "CRC32"
    binlog_format: str | None = "ROW"
    gtid_mode: str | None = None
    is_mariadb: bool = False


@dataclass(frozen=True)
class Consequence:
    severity: str  # "safe", "info", "risk", "loss"
    what: str
    setting: str | None  # the setting responsible, as name=value


@dataclass(frozen=True)
class Scenario:
    name: str  # "mysqld_crash", "os_crash", "torn_page"
    title: str
    verdict: str
    consequences: list[Consequence]


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


def _scenario(name: str, title: str, items: list[Consequence]) -> Scenario:
    verdict = max((c.severity for c in items), key=SEVERITY_ORDER.__getitem__, default="safe")
    return Scenario(name, title, verdict, items)


def _flush(i: DurabilityInputs) -> str:
    return f"innodb_flush_log_at_trx_commit={i.flush_log_at_trx_commit}"


def mysqld_crash(i: DurabilityInputs) -> Scenario:
    t = i.flush_log_at_timeout or 1
    items: list[Consequence] = []
    if i.flush_log_at_trx_commit == 0:
        items.append(Consequence("loss", f"up to ~{t}s of committed transactions: the log buffer dies with the process",
                                 _flush(i)))
        if i.binlog_enabled:
            items.append(Consequence(
                "loss", "the binary log keeps transactions the engine lost: replicas and point-in-time recovery "
                "have transactions this server no longer has (a replica diverges)", _flush(i)))
    elif i.flush_log_at_trx_commit is None:
        items.append(Consequence("risk", "innodb_flush_log_at_trx_commit is unknown", None))
    else:
        items.append(Consequence("safe", "no committed transaction is lost: the redo log was written to the OS "
                                 "at commit", _flush(i)))
    if i.binlog_enabled:
        items.append(Consequence("safe", "binary log and engine agree after recovery: two-phase commit commits "
                                 "prepared transactions found in the binlog and rolls back the others", "log_bin=ON"))
    else:
        items.append(Consequence("info", "no binary log: nothing to replicate and no point-in-time recovery past "
                                 "the last backup", "log_bin=OFF"))
    return _scenario("mysqld_crash", "mysqld crash (the OS keeps running)", items)


def os_crash(i: DurabilityInputs) -> Scenario:
    t = i.flush_log_at_timeout or 1
    items: list[Consequence] = []
    engine_durable = i.flush_log_at_trx_commit in (1, 3)
    if i.flush_log_at_trx_commit in (0, 2):
        items.append(Consequence("loss", f"up to ~{t}s of committed transactions (redo not yet flushed to disk)",
                                 _flush(i)))
    elif engine_durable:
        items.append(Consequence("safe", "no committed transaction is lost: the redo log is flushed at commit",
                                 _flush(i)))
    if i.binlog_enabled:
        binlog_durable = i.sync_binlog == 1
        sync = f"sync_binlog={i.sync_binlog}"
        if binlog_durable:
            items.append(Consequence("safe", "the binary log is flushed at every commit group", sync))
        else:
            bound = ("whatever the OS had not written (no bound)" if i.sync_binlog in (0, None)
                     else f"up to {i.sync_binlog - 1} commit groups")
            items.append(Consequence("loss", f"the binary log can lose its last transactions: {bound}", sync))
            if engine_durable:
                items.append(Consequence(
                    "loss", "the engine keeps committed transactions that the binary log lost: replicas and "
                    "point-in-time recovery miss them (a replica diverges)", sync))
        if binlog_durable and not engine_durable and i.flush_log_at_trx_commit is not None:
            items.append(Consequence(
                "loss", "the binary log keeps transactions the engine lost: replicas are ahead of this server "
                "after restart (a replica diverges)", _flush(i)))
    if i.log_checksums is False:
        items.append(Consequence("risk", "redo blocks damaged on disk are not detected by crash recovery",
                                 "innodb_log_checksums=OFF"))
    return _scenario("os_crash", "OS crash or power loss", items)


def torn_page(i: DurabilityInputs) -> Scenario:
    mode = (i.doublewrite_mode or "").upper()
    items: list[Consequence] = []
    setting = f"innodb_doublewrite={i.doublewrite_mode}"
    if mode in ("ON", "DETECT_AND_RECOVER", "FAST"):
        items.append(Consequence("safe", "a partially written page is repaired from the doublewrite buffer", setting))
    elif mode == "DETECT_ONLY":
        items.append(Consequence("loss", "a torn page is detected but cannot be repaired: the tablespace must be "
                                 "restored from a backup", setting))
    elif mode == "OFF":
        if i.atomic_writes:
            items.append(Consequence("risk", "no doublewrite: safe only if the storage writes whole pages "
                                     "atomically (innodb_use_atomic_writes=ON)", setting))
        else:
            items.append(Consequence("loss", "a torn page cannot be repaired (page checksums at best detect it "
                                     "on read): the tablespace must be restored from a backup", setting))
    else:
        items.append(Consequence("risk", "doublewrite mode unknown", None))
    if i.binlog_enabled and (i.binlog_checksum or "").upper() == "NONE":
        items.append(Consequence("risk", "a damaged binary log event is not detected by replicas or mysqlbinlog",
                                 "binlog_checksum=NONE"))
    return _scenario("torn_page", "torn page write (partial write of a page)", items)


def replication_notes(i: DurabilityInputs) -> list[Consequence]:
    out = []
    if i.binlog_enabled and (i.binlog_format or "ROW").upper() != "ROW":
        out.append(Consequence("risk", "statement-based events can apply differently on a replica",
                               f"binlog_format={i.binlog_format}"))
    if i.binlog_enabled and not i.is_mariadb and (i.gtid_mode or "OFF").upper() != "ON":
        out.append(Consequence("info", "without GTIDs a replica is repositioned by file and offset after a "
                               "failover, which is where transactions get skipped or applied twice",
                               f"gtid_mode={i.gtid_mode}"))
    return out


def assess(i: DurabilityInputs) -> list[Scenario]:
    scenarios = [mysqld_crash(i), os_crash(i), torn_page(i)]
    extra = replication_notes(i)
    if extra:
        scenarios.append(_scenario("replication", "replication and failover", extra))
    return scenarios


def overall_verdict(scenarios: list[Scenario]) -> str:
    return max((s.verdict for s in scenarios), key=SEVERITY_ORDER.__getitem__, default="safe")


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
        report.scenarios.insert(0, _scenario("redo_disabled", "redo logging disabled", [Consequence(
            "loss", "ALTER INSTANCE DISABLE INNODB REDO_LOG is in effect: after any crash the server refuses "
            "to start and the data directory must be restored", "Innodb_redo_log_enabled=OFF")]))
        report.verdict = "loss"
        report.notes.append(f"{SRC_STATUS} Innodb_redo_log_enabled = OFF")
    report.notes.extend(n for n in src.notes if n not in report.notes)
    report.missing_grants = sorted(src.missing_grants)
    return report
