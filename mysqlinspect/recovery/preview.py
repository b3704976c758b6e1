"""`recovery DATADIR`: the whole crash-recovery preview from the files alone.

In the server's order: (1) torn pages restored from the doublewrite buffer, (2) redo applied from the
checkpoint to the end of the log, (3) transactions left in the undo logs: active ones rolled back, prepared ones
decided by the transaction coordinator from the binary log, which is cut after its last complete transaction.
Each step that would stop the server is a failure with the reason the server would give.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mysqlinspect.errors import InputNotFoundError, MysqlInspectError
from mysqlinspect.innodb.files.doublewrite import DoublewriteReport, analyse_doublewrite
from mysqlinspect.innodb.undo.segments import UndoReport, read_undo
from mysqlinspect.recovery.coordinator import BinlogRecovery, PreparedFate, decide, read_binlogs
from mysqlinspect.recovery.settings import DurabilitySettings, read_durability_settings
from mysqlinspect.redo.recovery import RecoveryPreview, preview_recovery


@dataclass
class CrashRecoveryPreview:
    root: Path
    redo: RecoveryPreview | None = None
    doublewrite: DoublewriteReport | None = None
    undo: UndoReport | None = None
    binlog: BinlogRecovery | None = None
    prepared: list[PreparedFate] = field(default_factory=list)
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
            "binlog": self.binlog.to_dict() if self.binlog else None,
            "settings": self.settings.to_dict() if self.settings else None,
        }


def preview_crash_recovery(datadir: str | Path, defaults_file: str | None = None) -> CrashRecoveryPreview:
    root = Path(datadir)
    if not root.is_dir():
        raise InputNotFoundError(f"{root}: no such directory (recovery takes a data directory)")
    out = CrashRecoveryPreview(root)
    _doublewrite(out)
    _redo(out)
    _undo(out)
    server = out.undo.server if out.undo else "unknown"
    try:
        out.binlog = read_binlogs(root, server)
    except MysqlInspectError as exc:
        out.notes.append(f"binary log: {exc}")
    _coordinator(out, server)
    out.settings = read_durability_settings(root, defaults_file, out.binlog is not None)
    return out


def _doublewrite(out: CrashRecoveryPreview) -> None:
    try:
        out.doublewrite = analyse_doublewrite([out.root])
    except MysqlInspectError as exc:
        out.notes.append(f"doublewrite buffer: {exc}")
        return
    for page in out.doublewrite.unrecoverable:
        out.failures.append(f"Database page corruption of page [page id: space={page.space_id}, page number="
                            f"{page.page_no}] ({page.path}: {page.reason}) and no valid copy in the doublewrite"
                            f" buffer")


def _redo(out: CrashRecoveryPreview) -> None:
    try:
        out.redo = preview_recovery(out.root)
    except InputNotFoundError as exc:
        out.failures.append(f"no redo log: {exc}")
        return
    except MysqlInspectError as exc:
        out.failures.append(f"redo log: {exc}")
        return
    if not out.redo.ok:
        out.failures += [f"redo log: {p}" for p in out.redo.problems] or [f"redo log: {out.redo.status}"]


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
    out.prepared = [decide(t, out.binlog, server) for t in out.undo.prepared]
    binlog = out.binlog
    last = binlog.last if binlog else None
    if binlog is None or last is None or not binlog.crashed or not last.partial_bytes:
        return
    if binlog.truncate_to is not None:
        out.notes.append(f"{last.path.name}: {last.partial_bytes:,} bytes after the last complete transaction are"
                         f" cut: the file is trimmed to {binlog.truncate_to:,} bytes")
    else:
        out.notes.append(f"{last.path.name}: {last.partial_bytes:,} bytes after the last complete transaction (ends"
                         f" at {last.last_complete_end:,}) stay in the file and are ignored")
