"""What each failure can lose with a set of crash-safety settings: pure rules (settings in, scenarios out).

Shared by the live durability report (collectors/durability.py) and the offline recovery preview's settings story
(recovery/settings.py), and unit-tested for every combination.
"""

from __future__ import annotations

from dataclasses import dataclass

SEVERITY_ORDER = {"safe": 0, "info": 1, "risk": 2, "loss": 3}

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


def scenario_of(name: str, title: str, items: list[Consequence]) -> Scenario:
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
    return scenario_of("mysqld_crash", "mysqld crash (the OS keeps running)", items)


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
    return scenario_of("os_crash", "OS crash or power loss", items)


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
    return scenario_of("torn_page", "torn page write (partial write of a page)", items)


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
        scenarios.append(scenario_of("replication", "replication and failover", extra))
    return scenarios


def overall_verdict(scenarios: list[Scenario]) -> str:
    return max((s.verdict for s in scenarios), key=SEVERITY_ORDER.__getitem__, default="safe")
