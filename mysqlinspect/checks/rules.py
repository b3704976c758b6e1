"""The health rules R1-R20 (see the README, `check` section): one small pure function per rule over a Snapshot.

A numeric rule compares its value with `op` against the warn and crit thresholds; a match rule compares a setting
against value sets (`!1` = anything but 1). Defaults follow the anchors in health-rules.md §2.9.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mysqlinspect.checks.inputs import NotApplicable, Snapshot, Sourced, Unavailable, UndoFacts
from mysqlinspect.checks.model import Finding, Limits, Status
from mysqlinspect.collectors.redo import RedoStatus
from mysqlinspect.collectors.sources import SRC_STATUS, SRC_VARIABLES
from mysqlinspect.collectors.tablespace_model import FILE_PER_TABLE, TablespaceReport
from mysqlinspect.connection.query import as_int

NUMERIC = "numeric"
MATCH = "match"
SEVEN_DAYS = 7 * 86400
RECLAIMABLE_MIN_BYTES = 32 << 20  # R20b ignores tablespaces with less free space (normal extent preallocation)
MIN_UPTIME_FOR_AVERAGE = 3600  # R2 sizes for an hour of writes: a shorter average since start-up says nothing


@dataclass(frozen=True)
class Rule:
    """A rule's identity, default thresholds and evaluation function."""

    rule_id: str
    name: str
    title: str
    kind: str  # NUMERIC or MATCH
    unit: str
    op: str | None
    warn: str
    crit: str
    hint: str
    evaluate: Callable[[Rule, Snapshot, Limits], Finding]


# ---- finding builders -------------------------------------------------------------------------------------------
def _finding(rule: Rule, limits: Limits, status: Status, value: Any, message: str, source: str | None = None,
             applicable: bool = True, grant: str | None = None, evidence: dict[str, Any] | None = None) -> Finding:
    return Finding(
        rule_id=rule.rule_id, name=rule.name, status=status, value=value, unit=rule.unit, op=rule.op,
        warn=limits.warn.to_json(), crit=limits.crit.to_json(), message=message, hint=rule.hint,
        applicable=applicable, grant=grant, source=source, evidence=evidence or {},
    )


def numeric(rule: Rule, limits: Limits, value: float, message: str, source: str | None = None,
            evidence: dict[str, Any] | None = None) -> Finding:
    assert rule.op is not None
    return _finding(rule, limits, limits.classify_numeric(value, rule.op), value, message, source, evidence=evidence)


def match(rule: Rule, limits: Limits, value: str | int, message: str, source: str | None = None,
          evidence: dict[str, Any] | None = None) -> Finding:
    """Compare a setting with value sets; numeric settings stay numbers in the finding."""
    return _finding(rule, limits, limits.classify_match(str(value)), value, message, source, evidence=evidence)


def setting_value(text: str) -> str | int:
    number = as_int(text) if text.strip().lstrip("-").isdigit() else None
    return text if number is None else number


def unknown(rule: Rule, limits: Limits, missing: Unavailable) -> Finding:
    message = f"cannot evaluate: {missing.reason}"
    if missing.grant and missing.grant not in message:
        message += f"; grant {missing.grant} to evaluate this rule"
    return _finding(rule, limits, Status.UNKNOWN, None, message, grant=missing.grant)


def not_applicable(rule: Rule, limits: Limits, reason: str) -> Finding:
    return _finding(rule, limits, Status.OK, None, f"not applicable: {reason}", applicable=False)


def ok_note(rule: Rule, limits: Limits, value: Any, message: str, source: str | None = None) -> Finding:
    return _finding(rule, limits, Status.OK, value, message, source)


# ---- shared readers ---------------------------------------------------------------------------------------------
def switch(value: str | None) -> str | None:
    """ON/OFF for boolean settings, whatever the server spells (1/0, ON/OFF, TRUE/FALSE)."""
    if value is None:
        return None
    text = value.strip().upper()
    return {"1": "ON", "0": "OFF", "TRUE": "ON", "FALSE": "OFF", "YES": "ON", "NO": "OFF"}.get(text, text)


def binlog_on(snap: Snapshot) -> bool:
    return switch(snap.variable("log_bin")) == "ON"


def _redo(rule: Rule, snap: Snapshot, limits: Limits) -> RedoStatus | Finding:
    if isinstance(snap.redo, Unavailable):
        return unknown(rule, limits, snap.redo)
    return snap.redo


def _redo_missing(redo: RedoStatus, what: str) -> Unavailable:
    if redo.missing_grants:
        grants = " or ".join(redo.missing_grants)
        grant = grants if grants.endswith("privilege") else f"{grants} privilege"
        return Unavailable(f"{what}: the LSN sources need {grant}", grant=grant)
    return Unavailable(f"{what}: no LSN source on this server")


def _mib(value: int | float | None) -> str:
    """A byte count for messages: B, KiB, MiB or GiB."""
    if value is None:
        return "-"
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(value) >= size:
            return f"{value / size:.1f} {unit}"
    return f"{value:.0f} B"


# ---- R1-R6: redo ------------------------------------------------------------------------------------------------
def checkpoint_age(rule: Rule, snap: Snapshot, limits: Limits) -> Finding:
    redo = _redo(rule, snap, limits)
    if isinstance(redo, Finding):
        return redo
    if redo.checkpoint_age_pct is None:
        return unknown(rule, limits, _redo_missing(redo, "checkpoint age"))
    return numeric(rule, limits, redo.checkpoint_age_pct,
                   f"checkpoint age {_mib(redo.checkpoint_age_bytes)} is {redo.checkpoint_age_pct:.1f}% of the "
                   f"redo capacity {_mib(redo.capacity_bytes)}",
                   redo.sources.get("checkpoint_age_bytes"),
                   {"checkpoint_age_bytes": redo.checkpoint_age_bytes, "capacity_bytes": redo.capacity_bytes})


def checkpoint_age_sync(rule: Rule, snap: Snapshot, limits: Limits) -> Finding:
    redo = _redo(rule, snap, limits)
    if isinstance(redo, Finding):
        return redo
    if redo.checkpoint_age_bytes is None:
        return unknown(rule, limits, _redo_missing(redo, "checkpoint age"))
    if redo.checkpoint_age_pct_of_sync is None:
        return unknown(rule, limits, Unavailable("the sync flush point is unknown for this server"))
    return numeric(rule, limits, redo.checkpoint_age_pct_of_sync,
                   f"checkpoint age {_mib(redo.checkpoint_age_bytes)} is {redo.checkpoint_age_pct_of_sync:.1f}% of "
                   f"the sync flush point {_mib(redo.sync_flush_point_bytes)}",
                   redo.sources.get("sync_flush_point_bytes"),
                   {"checkpoint_age_bytes": redo.checkpoint_age_bytes,
                    "sync_flush_point_bytes": redo.sync_flush_point_bytes})


def redo_capacity_minutes(rule: Rule, snap: Snapshot, limits: Limits) -> Finding:
    redo = _redo(rule, snap, limits)
    if isinstance(redo, Finding):
        return redo
    rate = snap.counter_delta("Innodb_os_log_written")
    if rate is None or rate.per_second is None:
        return unknown(rule, limits, Unavailable("Innodb_os_log_written is not reported"))
    if not redo.capacity_bytes:
        return unknown(rule, limits, Unavailable("the redo capacity is unknown"))
    per_second = rate.per_second
    evidence = {"capacity_bytes": redo.capacity_bytes, "redo_bytes_per_second": round(per_second, 1)}
    if snap.elapsed_seconds <= 0 and rate.seconds < MIN_UPTIME_FOR_AVERAGE:
        return ok_note(rule, limits, None, f"up {rate.seconds:.0f}s only: the average since start-up is no measure "
                       "of an hour of peak writes; use --interval to measure the current rate", rate.source)
    if per_second <= 0:
        return ok_note(rule, limits, None, "no redo was written while sampling", rate.source)
    minutes = round(redo.capacity_bytes / per_second / 60.0, 1)
    return numeric(rule, limits, minutes,
                   f"the redo capacity {_mib(redo.capacity_bytes)} holds {minutes:g} min of writes at "
                   f"{per_second / 1024:.1f} KiB/s", rate.source, evidence)


def log_waits(rule: Rule, snap: Snapshot, limits: Limits) -> Finding:
    rate = snap.counter_delta("Innodb_log_waits")
    if rate is None or rate.per_second is None:
        return unknown(rule, limits, Unavailable("Innodb_log_waits is not reported"))
    per_second = round(rate.per_second, 4)
    return numeric(rule, limits, per_second,
                   f"{rate.delta:g} waits for log buffer space in {rate.seconds:.0f}s ({per_second:g}/s)",
                   rate.source, {"waits": rate.delta, "seconds": round(rate.seconds, 1),
                                 "innodb_log_buffer_size": as_int(snap.variable("innodb_log_buffer_size"))})


def redo_log_enabled(rule: Rule, snap: Snapshot, limits: Limits) -> Finding:
    value = switch(snap.status("Innodb_redo_log_enabled"))
    if value is None:
        return not_applicable(rule, limits, "this server cannot disable redo logging (MySQL 8.0.21+ feature)")
    state = "enabled" if value == "ON" else "DISABLED: a crash loses the whole instance"
    return match(rule, limits, value, f"redo logging is {state}", f"{SRC_STATUS} Innodb_redo_log_enabled")


def redo_resize(rule: Rule, snap: Snapshot, limits: Limits) -> Finding:
    value = snap.status("Innodb_redo_log_resize_status")
    if value is None:
        return not_applicable(rule, limits, "no online redo resize on this server (MySQL 8.0.30+ feature)")
    message = "no redo resize pending" if value.upper() == "OK" else f"redo resize in progress: {value}"
    return match(rule, limits, value, message, f"{SRC_STATUS} Innodb_redo_log_resize_status")


def redo_stalls(rule: Rule, snap: Snapshot, limits: Limits) -> Finding:
    stalls = snap.redo_stalls
    if isinstance(stalls, NotApplicable):
        return not_applicable(rule, limits, stalls.reason)
    if isinstance(stalls, Unavailable):
        return unknown(rule, limits, stalls)
    count = sum(stalls.values())
    codes = ", ".join(f"{code} x{n}" for code, n in sorted(stalls.items()))
    message = (f"{count} redo-space waits logged in the last hour ({codes})" if count
               else "no redo-space waits logged in the last hour")
    return numeric(rule, limits, count, message, "performance_schema.error_log", dict(stalls))


# ---- R7-R13: durability settings ---------------------------------------------------------------------------------
FLUSH_MEANING = {
    "0": "0: redo written and flushed about once a second; a mysqld crash can lose ~1s of commits",
    "1": "1: redo flushed at every commit (durable)",
    "2": "2: redo flushed about once a second; an OS crash or power loss can lose ~1s of commits",
    "3": "3: redo flushed at every commit (MariaDB)",
}


def flush_log_at_trx_commit(rule: Rule, snap: Snapshot, limits: Limits) -> Finding:
    value = snap.variable("innodb_flush_log_at_trx_commit")
    if value is None:
        return unknown(rule, limits, Unavailable("innodb_flush_log_at_trx_commit is not reported"))
    return match(rule, limits, setting_value(value),
                 f"innodb_flush_log_at_trx_commit={FLUSH_MEANING.get(value, value)}",
                 f"{SRC_VARIABLES} innodb_flush_log_at_trx_commit")


def sync_binlog(rule: Rule, snap: Snapshot, limits: Limits) -> Finding:
    if not binlog_on(snap):
        return not_applicable(rule, limits, "binary logging is off")
    value = snap.variable("sync_binlog") or "?"
    meaning = {"0": "the OS decides when the binary log reaches the disk",
               "1": "the binary log is synced at every commit"}.get(value, f"synced every {value} commit groups")
    return match(rule, limits, setting_value(value), f"sync_binlog={value}: {meaning}", f"{SRC_VARIABLES} sync_binlog")


def doublewrite(rule: Rule, snap: Snapshot, limits: Limits) -> Finding:
    value = switch(snap.variable("innodb_doublewrite"))
    if value is None:
        return unknown(rule, limits, Unavailable("innodb_doublewrite is not reported"))
    meaning = {"OFF": "a torn page write after a crash cannot be repaired",
               "DETECT_ONLY": "torn pages are detected but cannot be repaired"}.get(value, "torn pages are repaired")
    if value == "OFF" and switch(snap.variable("innodb_use_atomic_writes")) == "ON":
        meaning += " (unless the storage does atomic writes: innodb_use_atomic_writes=ON)"
    return match(rule, limits, value, f"doublewrite {value}: {meaning}", f"{SRC_VARIABLES} innodb_doublewrite")


def binlog_enabled(rule: Rule, snap: Snapshot, limits: Limits) -> Finding:
    value = switch(snap.variable("log_bin")) or "OFF"
    message = ("binary logging is on" if value == "ON"
               else "binary logging is off: no point-in-time recovery, cannot be a replication source")
    return match(rule, limits, value, message, f"{SRC_VARIABLES} log_bin")


def binlog_format(rule: Rule, snap: Snapshot, limits: Limits) -> Finding:
    if not binlog_on(snap):
        return not_applicable(rule, limits, "binary logging is off")
    value = (snap.variable("binlog_format") or "?").upper()
    return match(rule, limits, value, f"binlog_format={value}", f"{SRC_VARIABLES} binlog_format")


def binlog_row_image(rule: Rule, snap: Snapshot, limits: Limits) -> Finding:
    if not binlog_on(snap):
        return not_applicable(rule, limits, "binary logging is off")
    value = (snap.variable("binlog_row_image") or "?").upper()
    extra = ": row events omit unchanged columns (no full before/after images)" if value == "MINIMAL" else ""
    return match(rule, limits, value, f"binlog_row_image={value}{extra}", f"{SRC_VARIABLES} binlog_row_image")


def binlog_retention_seconds(snap: Snapshot) -> tuple[int, str]:
    seconds = as_int(snap.variable("binlog_expire_logs_seconds"))
    if seconds:
        return seconds, f"{SRC_VARIABLES} binlog_expire_logs_seconds"
    days = snap.variable("expire_logs_days")
    if days is not None and float(days) > 0:
        return int(float(days) * 86400), f"{SRC_VARIABLES} expire_logs_days"
    return 0, f"{SRC_VARIABLES} binlog_expire_logs_seconds / expire_logs_days"


def binlog_retention(rule: Rule, snap: Snapshot, limits: Limits) -> Finding:
    if not binlog_on(snap):
        return not_applicable(rule, limits, "binary logging is off")
    seconds, source = binlog_retention_seconds(snap)
    if switch(snap.variable("binlog_expire_logs_auto_purge")) == "OFF":
        return ok_note(rule, limits, seconds, "binlog_expire_logs_auto_purge=OFF: binary logs are never purged "
                                              "automatically (watch the disk)", source)
    if seconds == 0:
        return ok_note(rule, limits, 0, "binary logs never expire automatically (watch the disk)", source)
    return numeric(rule, limits, seconds, f"binary logs are kept {seconds / 86400:.2f} days", source)


def binlog_checksum(rule: Rule, snap: Snapshot, limits: Limits) -> Finding:
    if not binlog_on(snap):
        return not_applicable(rule, limits, "binary logging is off")
    value = (snap.variable("binlog_checksum") or "?").upper()
    extra = ": binary log events carry no checksum" if value == "NONE" else ""
    return match(rule, limits, value, f"binlog_checksum={value}{extra}", f"{SRC_VARIABLES} binlog_checksum")


def innodb_log_checksums(rule: Rule, snap: Snapshot, limits: Limits) -> Finding:
    value = switch(snap.variable("innodb_log_checksums"))
    if value is None:
        return not_applicable(rule, limits, "redo log blocks are always checksummed on this server")
    extra = ": redo blocks are written without checksums" if value == "OFF" else ""
    return match(rule, limits, value, f"innodb_log_checksums={value}{extra}", f"{SRC_VARIABLES} innodb_log_checksums")


def binlog_cache_spills(rule: Rule, snap: Snapshot, limits: Limits) -> Finding:
    if not binlog_on(snap):
        return not_applicable(rule, limits, "binary logging is off")
    use, disk = snap.counter_delta("Binlog_cache_use"), snap.counter_delta("Binlog_cache_disk_use")
    if use is None or disk is None:
        return unknown(rule, limits, Unavailable("Binlog_cache_use / Binlog_cache_disk_use are not reported"))
    evidence = {"binlog_cache_use": use.delta, "binlog_cache_disk_use": disk.delta,
                "binlog_cache_size": as_int(snap.variable("binlog_cache_size"))}
    if use.delta <= 0:
        return ok_note(rule, limits, None, "no transaction used the binary log cache", use.source)
    spilled = round(100.0 * disk.delta / use.delta, 2)
    return numeric(rule, limits, spilled,
                   f"{disk.delta:g} of {use.delta:g} transactions ({spilled:g}%) spilled the binlog cache to disk",
                   use.source.replace("Binlog_cache_use", "Binlog_cache_disk_use / Binlog_cache_use"), evidence)


# ---- R15-R19: undo, GTID, leftovers ---------------------------------------------------------------------------
def history_list_length(rule: Rule, snap: Snapshot, limits: Limits) -> Finding:
    hll = snap.history_list_length
    if isinstance(hll, Unavailable):
        return unknown(rule, limits, hll)
    assert isinstance(hll, Sourced)
    return numeric(rule, limits, hll.value, f"history list length {hll.value:,} (undo records not yet purged)",
                   hll.source)


def oldest_transaction(rule: Rule, snap: Snapshot, limits: Limits) -> Finding:
    oldest = snap.oldest_transaction
    if isinstance(oldest, Unavailable):
        return unknown(rule, limits, oldest)
    source = "information_schema.INNODB_TRX"
    if oldest is None:
        return numeric(rule, limits, 0, "no open InnoDB transaction", source)
    return numeric(rule, limits, oldest.age_seconds,
                   f"the oldest transaction ({oldest.trx_id}, thread {oldest.thread_id}, {oldest.state}) has been "
                   f"open {oldest.age_seconds}s", source,
                   {"trx_id": oldest.trx_id, "thread_id": oldest.thread_id, "rows_modified": oldest.rows_modified})


def undo_tablespaces(rule: Rule, snap: Snapshot, limits: Limits) -> Finding:
    undo = snap.undo
    if isinstance(undo, NotApplicable):
        return not_applicable(rule, limits, undo.reason)
    if isinstance(undo, Unavailable):
        return unknown(rule, limits, undo)
    assert isinstance(undo, UndoFacts)
    message = f"{undo.active} active undo tablespace(s)"
    if undo.active < 2:
        message += ": undo truncation needs at least 2"
    others = {name: state for name, state in undo.states.items() if state.lower() != "active"}
    if others:
        message += "; not active: " + ", ".join(f"{n} ({s})" for n, s in others.items())
    return numeric(rule, limits, undo.active, message, undo.source, {"states": undo.states} if undo.states else None)


def gtid(rule: Rule, snap: Snapshot, limits: Limits) -> Finding:
    mode = snap.variable("gtid_mode")
    if mode is None:
        if snap.server.is_mariadb:
            return not_applicable(rule, limits, "MariaDB always assigns GTIDs (gtid_domain_id / gtid_binlog_pos)")
        return not_applicable(rule, limits, "this server has no gtid_mode")
    mode = mode.upper()
    enforce = (snap.variable("enforce_gtid_consistency") or "-").upper()
    return match(rule, limits, mode, f"gtid_mode={mode}, enforce_gtid_consistency={enforce}",
                 f"{SRC_VARIABLES} gtid_mode", {"enforce_gtid_consistency": enforce})


def deprecated_settings(rule: Rule, snap: Snapshot, limits: Limits) -> Finding:
    found = snap.deprecated
    if isinstance(found, Unavailable):
        return unknown(rule, limits, found)
    names = [d.name for d in found]
    message = (f"deprecated settings in use: {', '.join(names)} (setting them is deprecated, whatever the value: "
               "leave them out of the configuration)") if names else "no deprecated settings in use"
    source = ("information_schema.SYSTEM_VARIABLES (origin config/command line)" if snap.server.is_mariadb
              else "performance_schema.error_log (start-up deprecation warnings)")
    return numeric(rule, limits, len(names), message, source, {d.name: d.detail for d in found})


# ---- R20: tablespaces ------------------------------------------------------------------------------------------
def _tablespaces(rule: Rule, snap: Snapshot, limits: Limits) -> TablespaceReport | Finding:
    if snap.tablespaces is None:
        return unknown(rule, limits, Unavailable("tablespaces were not read"))
    if isinstance(snap.tablespaces, Unavailable):
        return unknown(rule, limits, snap.tablespaces)
    return snap.tablespaces


def tablespace_size_limit(rule: Rule, snap: Snapshot, limits: Limits) -> Finding:
    report = _tablespaces(rule, snap, limits)
    if isinstance(report, Finding):
        return report
    limited = [t for t in report.tablespaces if t.used_pct_of_max is not None]
    if not limited:
        return ok_note(rule, limits, None, "no tablespace has a maximum size (every one autoextends without max)")
    top = max(limited, key=lambda t: t.used_pct_of_max or 0.0)
    assert top.used_pct_of_max is not None
    grow = "cannot grow" if top.autoextend is False else "autoextends"
    used = top.used_bytes if top.used_bytes is not None else top.size_bytes
    return numeric(rule, limits, top.used_pct_of_max,
                   f"{top.name} ({top.kind}) uses {_mib(used)} of its maximum {_mib(top.max_size_bytes)} "
                   f"({top.used_pct_of_max:g}%; it {grow} up to that size)",
                   top.sources.get("max_size_bytes"),
                   {t.name: {"used_pct_of_max": t.used_pct_of_max, "max_size_bytes": t.max_size_bytes,
                             "size_bytes": t.size_bytes, "free_bytes": t.free_bytes} for t in limited})


def tablespace_reclaimable(rule: Rule, snap: Snapshot, limits: Limits) -> Finding:
    report = _tablespaces(rule, snap, limits)
    if isinstance(report, Finding):
        return report
    known = [t for t in report.tablespaces if t.kind == FILE_PER_TABLE and t.free_bytes is not None]
    if not known and any(t.kind == FILE_PER_TABLE for t in report.tablespaces):
        return unknown(rule, limits, Unavailable("the free space of file-per-table tablespaces is not reported"))
    large = [t for t in known if (t.free_bytes or 0) >= RECLAIMABLE_MIN_BYTES and t.size_bytes]
    evidence: dict[str, Any] = {"min_free_bytes": RECLAIMABLE_MIN_BYTES,
                "reclaimable_total_bytes": report.reclaimable_total_bytes}
    if not large:
        return numeric(rule, limits, 0, f"no file-per-table tablespace has {_mib(RECLAIMABLE_MIN_BYTES)} or more free "
                       f"(reclaimable in total: {_mib(report.reclaimable_total_bytes)})", None, evidence)
    top = max(large, key=lambda t: ((t.free_bytes or 0) / (t.size_bytes or 1), t.free_bytes or 0))
    share = round(100.0 * (top.free_bytes or 0) / (top.size_bytes or 1), 2)
    evidence.update(tablespace=top.name, free_bytes=top.free_bytes, size_bytes=top.size_bytes)
    return numeric(rule, limits, share,
                   f"{top.name}: {_mib(top.free_bytes)} of {_mib(top.size_bytes)} ({share:g}%) is free; OPTIMIZE "
                   "TABLE (a rebuild) would return it to the file system", top.sources.get("free_bytes"), evidence)


# ---- the table ---------------------------------------------------------------------------------------------------
def _rule(rule_id: str, name: str, title: str, kind: str, unit: str, op: str | None, warn: str, crit: str,
          hint: str, evaluate: Callable[[Rule, Snapshot, Limits], Finding]) -> Rule:
    return Rule(rule_id, name, title, kind, unit, op, warn, crit, hint, evaluate)


RULES: tuple[Rule, ...] = (
    _rule("R1", "checkpoint_age", "checkpoint age % of redo capacity", NUMERIC, "%", ">=", "75", "85",
          "Sustained high checkpoint age means page flushing cannot keep up: raise innodb_redo_log_capacity "
          "(innodb_log_file_size on MariaDB/older MySQL) or innodb_io_capacity.", checkpoint_age),
    _rule("R1b", "checkpoint_age_sync", "checkpoint age % of the sync flush point", NUMERIC, "%", ">=", "80", "100",
          "At 100% user threads flush pages synchronously (a stall): give the redo log more capacity.",
          checkpoint_age_sync),
    _rule("R2", "redo_capacity_minutes", "minutes of writes the redo capacity holds", NUMERIC, "min", "<", "60", "15",
          "Size the redo log for at least an hour of peak writes (MySQL manual); use --interval to measure the "
          "current rate instead of the average since start-up.", redo_capacity_minutes),
    _rule("R3", "log_waits", "waits for log buffer space per second", NUMERIC, "/s", ">", "0", "10",
          "Innodb_log_waits grows when the log buffer is too small: raise innodb_log_buffer_size.", log_waits),
    _rule("R4", "redo_log_enabled", "redo logging enabled", MATCH, "", None, "", "OFF",
          "Run ALTER INSTANCE ENABLE INNODB REDO_LOG; never disable redo logging on a production server.",
          redo_log_enabled),
    _rule("R5", "redo_resize", "redo resize status", MATCH, "", None, "!OK", "",
          "A resize down finishes when the checkpoint moves past the new limit; check again later.", redo_resize),
    _rule("R6", "redo_stalls", "redo-space waits logged in the last hour", NUMERIC, "", ">", "0", "5",
          "The redo writer waited for free redo space: raise innodb_redo_log_capacity.", redo_stalls),
    _rule("R7", "flush_log_at_trx_commit", "innodb_flush_log_at_trx_commit", MATCH, "", None, "0,2", "",
          "Set innodb_flush_log_at_trx_commit=1 for full durability (use --crit flush_log_at_trx_commit=0,2 to make "
          "it critical).", flush_log_at_trx_commit),
    _rule("R8", "sync_binlog", "sync_binlog", MATCH, "", None, "!1", "",
          "Set sync_binlog=1 so that the binary log never misses transactions InnoDB committed.", sync_binlog),
    _rule("R9", "doublewrite", "innodb_doublewrite", MATCH, "", None, "DETECT_ONLY", "OFF",
          "Enable the doublewrite buffer (innodb_doublewrite=ON) unless the storage guarantees atomic page writes "
          "(then use --crit doublewrite=never --warn doublewrite=DETECT_ONLY).", doublewrite),
    _rule("R10", "binlog", "binary logging", MATCH, "", None, "OFF", "",
          "Enable the binary log (log_bin) for point-in-time recovery and replication.", binlog_enabled),
    _rule("R11a", "binlog_format", "binlog_format", MATCH, "", None, "!ROW", "",
          "Use binlog_format=ROW for deterministic replication and point-in-time recovery.", binlog_format),
    _rule("R11b", "binlog_row_image", "binlog_row_image", MATCH, "", None, "MINIMAL", "",
          "Use binlog_row_image=FULL so that row events can be inspected and reverted.", binlog_row_image),
    _rule("R12", "binlog_retention", "binary log retention", NUMERIC, "s", "<", str(SEVEN_DAYS), "",
          "Keep binary logs at least as long as the backup interval (binlog_expire_logs_seconds >= 604800).",
          binlog_retention),
    _rule("R13a", "binlog_checksum", "binlog_checksum", MATCH, "", None, "NONE", "",
          "Set binlog_checksum=CRC32 so that corrupted events are detected.", binlog_checksum),
    _rule("R13b", "innodb_log_checksums", "innodb_log_checksums", MATCH, "", None, "OFF", "",
          "Set innodb_log_checksums=ON so that corrupted redo blocks are detected at recovery.",
          innodb_log_checksums),
    _rule("R14", "binlog_cache_spills", "% of transactions spilling the binlog cache", NUMERIC, "%", ">", "5", "10",
          "Raise binlog_cache_size so that typical transactions fit in memory.", binlog_cache_spills),
    _rule("R15", "history_list_length", "history list length", NUMERIC, "", ">", "100000", "1000000",
          "Purge is lagging: find long-running transactions or open read views (R16), check innodb_purge_threads.",
          history_list_length),
    _rule("R16", "oldest_transaction", "age of the oldest open transaction", NUMERIC, "s", ">", "60", "600",
          "Long transactions hold read views and block purge: commit or kill them (see `mysqlinspect undo`).",
          oldest_transaction),
    _rule("R17", "undo_tablespaces", "active undo tablespaces", NUMERIC, "", "<", "2", "",
          "Undo truncation needs at least 2 active undo tablespaces (MariaDB: innodb_undo_tablespaces >= 2, set "
          "when the instance is created).", undo_tablespaces),
    _rule("R18", "gtid", "GTID mode", MATCH, "", None, "!ON", "",
          "Enable GTIDs (gtid_mode=ON, enforce_gtid_consistency=ON) for safe fail-over and consistent backups.", gtid),
    _rule("R19", "deprecated_settings", "deprecated settings in use", NUMERIC, "", ">", "0", "",
          "Remove deprecated settings from the configuration before the next upgrade.", deprecated_settings),
    _rule("R20a", "tablespace_size_limit", "% of its maximum size the fullest tablespace uses", NUMERIC, "%", ">=",
          "80", "90",
          "Raise the max of innodb_data_file_path / innodb_temp_data_file_path (restart), add a data file, or free "
          "space; a full tablespace fails writes with 'The table is full' (see `mysqlinspect tablespaces`).",
          tablespace_size_limit),
    _rule("R20b", "tablespace_reclaimable", "largest free share of a file-per-table tablespace", NUMERIC, "%", ">=",
          "50", "",
          "Rebuild the table (OPTIMIZE TABLE, or ALTER TABLE ... FORCE / pt-online-schema-change on a busy "
          "server) to return the free space to the file system (see `mysqlinspect tablespaces`).",
          tablespace_reclaimable),
)

RULES_BY_KEY: dict[str, Rule] = {**{r.name: r for r in RULES}, **{r.rule_id.lower(): r for r in RULES}}


def find_rule(key: str) -> Rule | None:
    """A rule by name (`checkpoint_age`) or id (`R1`), case-insensitive; dashes count as underscores."""
    return RULES_BY_KEY.get(key.strip().lower().replace("-", "_"))
