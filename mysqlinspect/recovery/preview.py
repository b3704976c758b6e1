"""`recovery DATADIR`: the whole crash-recovery preview from the files alone.

In the server's order: (1) torn pages restored from the doublewrite buffer, (2) redo applied from the
checkpoint to the end of the log, (3) transactions left in the undo logs: active ones rolled back, prepared ones
decided by the transaction coordinator from the binary log (by the rules of the server version that crashed),
which is cut after its last complete transaction. Each step that would stop the server is a failure with the
reason the server would give.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mysqlinspect.errors import InputNotFoundError, MysqlInspectError
from mysqlinspect.innodb.files.doublewrite import DamagedPage, DoublewriteReport, analyse_doublewrite
from mysqlinspect.innodb.files.filekinds import classify_file
from mysqlinspect.innodb.undo.segments import UndoReport, read_undo
from mysqlinspect.recovery.coordinator import (
    BinlogRecovery,
    PreparedFate,
    coordinator_rules,
    decide,
    read_binlogs,
    refusal,
    server_messages,
)
from mysqlinspect.recovery.settings import (
    BinlogLocation,
    DurabilitySettings,
    read_binlog_location,
    read_durability_settings,
)
from mysqlinspect.redo import layout as RL
from mysqlinspect.redo.recovery import RecoveryPreview, preview_recovery


@dataclass
class CrashRecoveryPreview:
    root: Path
    redo: RecoveryPreview | None = None
    doublewrite: DoublewriteReport | None = None
    undo: UndoReport | None = None
    binlog: BinlogRecovery | None = None
    prepared: list[PreparedFate] = field(default_factory=list)
    coordinator: str | None = None  # whose rules decide the prepared transactions (MySQL 8.0.30+, ..., MariaDB)
    coordinator_messages: list[str] = field(default_factory=list)  # what the server's coordinator will print
    settings: DurabilitySettings | None = None
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def outcome(self) -> str:
        if self.failures:
            return "fails"
        if self.redo is not None and self.redo.clean_shutdown and not (self.undo and self.undo.transactions):
            return "clean"
        return "recovers"

    def to_dict(self) -> dict[str, Any]:
        undo = self.undo
        return {
            "path": str(self.root), "outcome": self.outcome, "ok": self.ok, "failures": self.failures,
            "notes": self.notes,
            "redo": self.redo.to_dict() if self.redo else None,
            "doublewrite": {"layout": self.doublewrite.layout, "slots": self.doublewrite.slots,
                            "restored": [d.to_dict() for d in self.doublewrite.restored],
                            "unrecoverable": [d.to_dict() for d in self.doublewrite.unrecoverable]}
            if self.doublewrite else None,
            "undo": {"server": undo.server, "files": undo.files,
                     "transactions_resurrected": undo.resurrected_count,
                     "row_operations_to_undo": undo.row_operations, "server_message": undo.server_message(),
                     "problems": undo.problems, "redo": undo.redo.to_dict() if undo.redo else None} if undo else None,
            "roll_back": [t.to_dict() for t in undo.to_roll_back] if undo else [],
            "prepared": [p.to_dict() for p in self.prepared],
            "coordinator": {"rules": self.coordinator, "server_messages": self.coordinator_messages}
            if self.coordinator else None,
            "binlog": self.binlog.to_dict() if self.binlog else None,
            "settings": self.settings.to_dict() if self.settings else None,
        }


def preview_crash_recovery(datadir: str | Path, defaults_file: str | None = None) -> CrashRecoveryPreview:
    root = Path(datadir)
    if not root.is_dir():
        raise InputNotFoundError(f"{root}: no such directory (recovery takes a data directory)")
    out = CrashRecoveryPreview(root)
    _doublewrite(out)
    missing_redo = _redo(out)
    _undo(out)
    server = out.undo.server if out.undo else "unknown"
    if missing_redo is not None:
        out.failures.insert(0, f"{MISSING_REDO.get(server, 'no redo log')} ({missing_redo})")
    _damaged_pages(out, server)
    _binlog(out, server, read_binlog_location(root, defaults_file))
    _coordinator(out, server)
    out.settings = read_durability_settings(root, defaults_file, out.binlog is not None)
    return out


def _binlog(out: CrashRecoveryPreview, server: str, where: BinlogLocation) -> None:
    if where.disabled:
        out.notes.append(f"binary log: disabled ({where.source}): no binlog is read")
        return
    try:
        out.binlog = read_binlogs(out.root, server, where.indexes)
    except MysqlInspectError as exc:
        out.notes.append(f"binary log: {exc}")
        return
    if out.binlog is not None and not out.binlog.indexed:
        out.notes.append("binary log: no index file lists these binlogs: the server does not read them (it starts"
                         " a new binary log)")


def _doublewrite(out: CrashRecoveryPreview) -> None:
    try:
        out.doublewrite = analyse_doublewrite([out.root])
    except MysqlInspectError as exc:
        out.notes.append(f"doublewrite buffer: {exc}")


def _damaged_pages(out: CrashRecoveryPreview, server: str) -> None:
    """A damaged page the doublewrite buffer cannot restore stops recovery when recovery reads it: because the
    buffer names it (an unusable copy, a DETECT_ONLY entry), to apply redo to it, or as a page of the system, undo
    or dictionary tablespaces. Any other one is not read before the server
    is up: it starts, and the table is corrupt when the page is read (by a query, or by the rollback of a
    recovered transaction that changed it)."""
    if out.doublewrite is None:
        return
    read = _pages_recovery_reads(out)
    for page in out.doublewrite.unrecoverable:
        why = f"{page.path}: {page.reason}; no valid copy in the doublewrite buffer"
        if page.in_buffer:
            out.failures.append(f"{_corrupt(page, 'mysql')} ({why}; the buffer names it: recovery reads it first)")
        elif read is None:
            out.failures.append(f"{_corrupt(page, 'mysql')} ({why}; the redo log is not walked here: recovery"
                                f" stops if it has records for the page)")
        elif page.space_id in STARTUP_SPACES or _startup_file(page.path):
            out.failures.append(f"{_corrupt(page, 'mysql')} ({why}; a tablespace recovery reads at startup)")
        elif (page.space_id, page.page_no) in read:
            out.failures.append(f"{_corrupt(page, server)} ({why}; the redo log has records for it)")
        else:
            out.notes.append(f"{_corrupt(page, 'mysql')} ({why}): no redo record to apply names it, so recovery"
                             f" does not read it and the server starts; the table is corrupt when the page is read")


def _corrupt(page: DamagedPage, server: str) -> str:
    """The server's line for a page it cannot read during recovery."""
    if server == "mariadb":
        return f"Unable to apply log to corrupted page {page.page_no} in file ./{page.path}"
    return (f"Database page corruption on disk or a failed file read of page [page id: space={page.space_id},"
            f" page number={page.page_no}]")


STARTUP_SPACES = frozenset({0, 0xFFFFFFFE})  # system tablespace, MySQL's data dictionary (mysql.ibd)


def _startup_file(path: str) -> bool:
    return classify_file(Path(path)) in ("system", "undo", "dictionary")


def _pages_recovery_reads(out: CrashRecoveryPreview) -> set[tuple[int, int]] | None:
    """The pages recovery reads to apply the redo log (none after a clean shutdown), or None when the log was not
    walked to its end here (formats whose records are not read)."""
    if out.redo is not None and out.redo.ok and out.redo.bytes_to_apply == 0:
        return set()
    view = out.undo.redo if out.undo is not None else None
    if view is None or not view.applied or view.overlay is None:
        return None
    return view.overlay.read_by_recovery


# What InnoDB stops with when the data directory has no redo log (MySQL 8.0.30+ ER_IB_MSG_LOG_FILES_NOT_FOUND...;
# MariaDB srv_start()), told once the files say which server it is.
MISSING_REDO = {"mysql": "Neither found #innodb_redo subdirectory, nor ib_logfile* files in ./",
                "mariadb": "File ./ib_logfile0 was not found"}


def _redo(out: CrashRecoveryPreview) -> str | None:
    """The redo preview; returns why there is no redo log at all (its failure is worded once the server is known)."""
    try:
        out.redo = preview_recovery(out.root)
    except InputNotFoundError as exc:
        return str(exc)
    except MysqlInspectError as exc:
        out.failures.append(f"redo log: {exc}")
        return None
    if not out.redo.ok:
        out.failures += [f"redo log: {p}" for p in out.redo.problems] or [f"redo log: {out.redo.status}"]
    return None


def _undo(out: CrashRecoveryPreview) -> None:
    try:
        out.undo = read_undo(out.root)
    except MysqlInspectError as exc:
        out.failures.append(f"undo logs: {exc}")
        return
    out.notes += [f"not an undo page on disk (the redo log, not applied here, may rebuild it): {p}"
                  for p in out.undo.maybe_stale]
    out.failures += [f"corrupt undo log: {p}" for p in out.undo.corruption]
    out.notes += [f"undo logs: {n}" for n in out.undo.notes]
    redo = out.undo.redo
    if redo is not None and redo.note:
        out.notes.append(f"undo logs: {redo.note}")
    elif redo is not None and redo.overlay is not None:
        out.notes.append(f"undo logs: redo applied to {redo.overlay.pages_rebuilt:,} undo and system pages"
                         f" ({redo.overlay.records_applied:,} records) before reading them")


def _coordinator(out: CrashRecoveryPreview, server: str) -> None:
    if out.undo is None:
        return
    redo_format = out.redo.format if out.redo is not None else None
    mysql_redo_8_0_30 = None if redo_format is None else redo_format.base == RL.FORMAT_8_0_30
    out.coordinator = coordinator_rules(server, out.binlog, mysql_redo_8_0_30)
    out.prepared = [decide(t, out.binlog, out.coordinator) for t in out.undo.prepared]
    out.coordinator_messages = server_messages(out.prepared, out.binlog, out.coordinator)
    stop = refusal(out.prepared)
    if stop:
        out.failures.append(stop)
    binlog = out.binlog
    last = binlog.last if binlog else None
    if binlog is None or last is None or not binlog.recovers or not last.partial_bytes:
        return
    if binlog.truncate_to is not None:
        out.notes.append(f"{last.path.name}: {last.partial_bytes:,} bytes after the last complete transaction are"
                         f" cut: the file is trimmed to {binlog.truncate_to:,} bytes")
    else:
        out.notes.append(f"{last.path.name}: {last.partial_bytes:,} bytes after the last complete transaction (ends"
                         f" at {last.last_complete_end:,}) stay in the file and are ignored")
