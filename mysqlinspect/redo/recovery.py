"""Crash-recovery preview: what InnoDB would do if it started on these redo files.

The latest valid checkpoint, the LSN where the valid log ends (block walk for MySQL formats and MariaDB
<= 10.7, mini-transaction walk for MariaDB 10.8+), the bytes to apply, whether the shutdown was clean, and
record counts by type where the records can be read (MariaDB 10.8+).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mysqlinspect.redo import layout as L
from mysqlinspect.redo.blockwalk import BlockLayout, FileSetLayout, RingLayout, walk_blocks
from mysqlinspect.redo.files import LatestCheckpoint, RedoFileReport, RedoFileSet
from mysqlinspect.redo.layout import FormatInfo
from mysqlinspect.redo.mariadb.walk import MtrRing, walk_mtrs
from mysqlinspect.redo.redoset import inspect_redo_files

ProgressCallback = Callable[[int, int], None]
# MariaDB <= 10.7 and MySQL 5.7 write a checkpoint mini-transaction right after the checkpoint LSN: a log that
# holds only that (at most one record of 12 bytes, plus a block boundary) counts as a clean shutdown.
CHECKPOINT_MTR_SLACK = 12 + L.BLOCK_HDR_SIZE + L.BLOCK_TRL_SIZE
NORMAL_ENDS = frozenset({"partial_block", "block_number", "end_of_files", "end_marker", "sequence_bit",
                         "crc_mismatch", "too_long", "bad_length"})


@dataclass
class RecoveryPreview:
    file_set: RedoFileSet
    format: FormatInfo | None = None
    checkpoint: LatestCheckpoint | None = None
    scan_start_lsn: int | None = None
    end_lsn: int | None = None
    bytes_to_apply: int | None = None
    clean_shutdown: bool | None = None
    stop_reason: str | None = None
    stop_message: str | None = None
    stop_file: str | None = None
    blocks_scanned: int | None = None
    mtrs_scanned: int | None = None
    record_counts: dict[str, int] | None = None
    status: str = "ok"
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.file_set.ok

    def to_dict(self) -> dict[str, Any]:
        ckpt = self.checkpoint
        return {
            "status": self.status,
            "format": self.format.value if self.format else None,
            "format_name": self.format.name if self.format else None,
            "checkpoint_lsn": ckpt.lsn if ckpt else None,
            "checkpoint_file": ckpt.file if ckpt else None,
            "checkpoint_path": str(ckpt.path) if ckpt else None,
            "checkpoint_slot": ckpt.slot if ckpt else None,
            "checkpoint_number": ckpt.number if ckpt else None,
            "checkpoint_end_lsn": ckpt.end_lsn if ckpt else None,
            "scan_start_lsn": self.scan_start_lsn,
            "end_lsn": self.end_lsn,
            "bytes_to_apply": self.bytes_to_apply,
            "clean_shutdown": self.clean_shutdown,
            "recovery_needed": None if self.clean_shutdown is None else not self.clean_shutdown,
            "stop_reason": self.stop_reason,
            "stop_file": self.stop_file,
            "stop_message": self.stop_message,
            "blocks_scanned": self.blocks_scanned,
            "mtrs_scanned": self.mtrs_scanned,
            "record_counts": self.record_counts,
            "problems": self.problems,
            "warnings": self.file_set.warnings,
            "files": [{"name": f.name, "path": str(f.path), "status": f.status, "message": f.message}
                      for f in self.file_set.files],
        }


def preview_recovery(path: str | Path, progress: ProgressCallback | None = None) -> RecoveryPreview:
    """Analyse the redo files at `path` (file, #innodb_redo or data directory) the way recovery would."""
    file_set = inspect_redo_files([path])
    preview = RecoveryPreview(file_set, checkpoint=file_set.latest_checkpoint)
    preview.problems = list(file_set.problems)
    ckpt = file_set.latest_checkpoint
    if ckpt is None:
        preview.status = _status_without_checkpoint(file_set)
        preview.problems.append(f"{file_set.why_no_checkpoint}: InnoDB could not start on these files")
        return preview
    holder = next(f for f in file_set.files if f.path == ckpt.path)
    assert holder.header is not None
    preview.format = holder.header.format
    blocked = _why_not_walked(file_set, holder)
    if blocked is not None:
        preview.status = blocked
        preview.problems.append("InnoDB would refuse to start on these files: the end of the log is not computed")
    elif preview.format.layout is L.Layout.MTR:
        _preview_mtr(preview, holder, ckpt, progress)
    else:
        _preview_blocks(preview, holder, ckpt, progress)
    return preview


def _status_without_checkpoint(file_set: RedoFileSet) -> str:
    """`truncated` or `unknown_format` when that is why no checkpoint was found, else `no_checkpoint`."""
    statuses = {f.status for f in file_set.files if f.role != "spare"}
    if "truncated" in statuses:
        return "truncated"
    if statuses == {"unknown_format"}:
        return "unknown_format"
    return "no_checkpoint"


def _why_not_walked(file_set: RedoFileSet, holder: RedoFileReport) -> str | None:
    """A missing file of the set, or a truncated one next to the checkpoint's file: no walk (the server refuses)."""
    if file_set.missing_files:
        return "missing_file"
    if any(f.status == "truncated" and f.role != "spare" and f.path.parent == holder.path.parent
           for f in file_set.files):
        return "truncated"
    return None


def _preview_blocks(preview: RecoveryPreview, holder: RedoFileReport, ckpt: LatestCheckpoint,
                    progress: ProgressCallback | None) -> None:
    fmt = preview.format
    assert fmt is not None
    block_layout = block_layout_for(preview.file_set, holder, ckpt)
    result = walk_blocks(block_layout, ckpt.lsn, legacy=fmt.value == L.FORMAT_LEGACY, progress=progress)
    preview.scan_start_lsn = result.start_lsn
    preview.end_lsn = result.end_lsn
    preview.stop_reason, preview.stop_message, preview.stop_file = result.stop_reason, result.message, result.stop_file
    preview.blocks_scanned = result.blocks_scanned
    if result.end_lsn < ckpt.lsn:
        preview.status = "corrupt"
        preview.problems.append(f"the valid log ends at LSN {result.end_lsn}, before the checkpoint LSN {ckpt.lsn}"
                                f" ({result.message}): InnoDB could not recover from these files")
        return
    preview.clean_shutdown = _clean_block_log(fmt, ckpt, result.end_lsn)
    preview.bytes_to_apply = 0 if preview.clean_shutdown else result.end_lsn - ckpt.lsn
    if result.stop_reason == "unreadable":
        preview.status = "unreadable"
        preview.problems.append(f"{result.message}: the walk could not read on")
    elif result.stop_reason == "checksum_mismatch":
        preview.status = "damaged_block"
        preview.problems.append(f"{result.message}: InnoDB treats it as the end of the log")


def block_layout_for(file_set: RedoFileSet, holder: RedoFileReport, ckpt: LatestCheckpoint) -> BlockLayout:
    assert holder.header is not None
    if holder.header.format.base == L.FORMAT_8_0_30:
        uuid = holder.header.log_uuid
        same = [f for f in file_set.files if f.role == "log" and f.header is not None
                and f.header.format.base == L.FORMAT_8_0_30 and f.header.log_uuid == uuid
                and f.path.parent == holder.path.parent]  # never walk into another server's files
        return FileSetLayout(same or [holder])
    group = _ring_group(file_set, holder)
    return RingLayout(group, ckpt.lsn, ckpt.group_offset)


def _ring_group(file_set: RedoFileSet, holder: RedoFileReport) -> list[RedoFileReport]:
    """ib_logfile0..N-1 in order (stopping at the first gap); a file named otherwise stands alone."""
    if holder.file_id != 0:
        return [holder]
    by_id = {f.file_id: f for f in file_set.files if f.role == "log" and f.path.name.startswith(L.LEGACY_FILE_PREFIX)
             and f.path.parent == holder.path.parent}
    group: list[RedoFileReport] = []
    while len(group) in by_id and by_id[len(group)].size == holder.size:
        group.append(by_id[len(group)])
    if holder.header is not None and holder.header.format.base in (L.FORMAT_MDB_10_5,):
        return [holder]  # MariaDB 10.5-10.7 use exactly one file
    return group


def _clean_block_log(fmt: FormatInfo, ckpt: LatestCheckpoint, end_lsn: int) -> bool:
    if end_lsn <= ckpt.lsn:
        return True
    writes_checkpoint_mtr = fmt.vendor == "mariadb" or fmt.base in (L.FORMAT_5_7_9, L.FORMAT_LEGACY)
    if not writes_checkpoint_mtr:
        return False
    if ckpt.end_lsn not in (None, ckpt.lsn):
        return False
    return end_lsn - ckpt.lsn <= CHECKPOINT_MTR_SLACK


def _preview_mtr(preview: RecoveryPreview, holder: RedoFileReport, ckpt: LatestCheckpoint,
                 progress: ProgressCallback | None) -> None:
    assert holder.header is not None and ckpt.end_lsn is not None
    try:
        with open(holder.path, "rb") as fh:
            ring = MtrRing.from_file(fh, L.MDB_START_OFFSET, holder.header.start_lsn,
                                     holder.header.encryption.encrypted)
    except OSError as exc:
        preview.status = "unreadable"
        preview.problems.append(f"{holder.name}: {exc.strerror or exc}")
        return
    if ring.capacity == 0:
        preview.status = "truncated"
        preview.problems.append(f"{holder.name}: no record area after the {L.MDB_START_OFFSET}-byte header")
        return
    result = walk_mtrs(ring, ckpt.lsn, ckpt.end_lsn, progress)
    preview.scan_start_lsn = result.scan_start_lsn
    preview.end_lsn = result.end_lsn
    preview.stop_reason = result.stop_reason
    preview.stop_file = holder.name
    preview.mtrs_scanned = result.mtrs_scanned
    preview.record_counts = dict(sorted(result.record_counts.items()))
    if result.error is not None:
        preview.status = "corrupt"
        preview.stop_message = result.error
        preview.problems.append(result.error)
        return
    preview.clean_shutdown = ckpt.end_lsn == ckpt.lsn and result.end_lsn == result.file_checkpoint_end
    preview.bytes_to_apply = 0 if preview.clean_shutdown else result.end_lsn - ckpt.lsn
