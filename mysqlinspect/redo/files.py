"""Read redo files: per-file header, checkpoint slots and status, and the latest valid checkpoint of the set.

`read_redo_file()` never raises: unreadable, truncated, foreign or corrupt files come back with a status and a
message so that the other files of a set are still reported.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mysqlinspect.redo import layout as L
from mysqlinspect.redo.checksum import crc32c
from mysqlinspect.redo.discover import FoundFile
from mysqlinspect.redo.structs import CheckpointSlot, FileHeader, decode_checkpoints, decode_header, u32

HEAD_BYTES = 16384
ZERO_CHUNK = 1 << 20
# Statuses that are not a problem; every other status makes the command exit 65.
GOOD_STATUSES = frozenset({"ok", "never_written", "spare"})


@dataclass
class RedoFileReport:
    path: Path
    role: str
    file_id: int | None
    status: str
    message: str | None = None
    size: int | None = None
    header: FileHeader | None = None
    checkpoints: list[CheckpointSlot] = field(default_factory=list)
    holds_latest_checkpoint: bool = False

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def ok(self) -> bool:
        return self.status in GOOD_STATUSES

    @property
    def end_lsn(self) -> int | None:
        """Last LSN + 1 of a MySQL 8.0.30+ file (the other formats are rings without a per-file end)."""
        if self.header is None or self.size is None or self.header.format.base != L.FORMAT_8_0_30:
            return None
        if self.size < L.FILE_HDR_SIZE:
            return None  # shorter than its header: it holds no LSN
        return self.header.start_lsn + self.size - L.FILE_HDR_SIZE

    def contains(self, lsn: int) -> bool:
        end = self.end_lsn
        return self.header is not None and end is not None and self.header.start_lsn <= lsn < end

    def to_dict(self) -> dict[str, Any]:
        hdr = self.header
        fmt = hdr.format if hdr else None
        return {
            "path": str(self.path),
            "name": self.name,
            "role": self.role,
            "file_id": self.file_id,
            "size": self.size,
            "status": self.status,
            "message": self.message,
            "format": fmt.value if fmt else None,
            "format_name": fmt.name if fmt else None,
            "vendor": fmt.vendor if fmt else None,
            "creator": hdr.creator if hdr else None,
            "log_uuid": hdr.log_uuid if hdr else None,
            "subformat": hdr.subformat if hdr else None,
            "start_lsn": hdr.start_lsn if hdr else None,
            "end_lsn": self.end_lsn,
            "flags": hdr.flags.to_dict() if hdr and hdr.flags else None,
            "encryption": _encryption_dict(hdr),
            "header_checksum": hdr.header_checksum if hdr else None,
            "checkpoints": [slot.to_dict() for slot in self.checkpoints],
            "holds_latest_checkpoint": self.holds_latest_checkpoint,
        }


def _encryption_dict(hdr: FileHeader | None) -> dict[str, Any] | None:
    if hdr is None:
        return None
    enc = hdr.encryption
    return {"encrypted": enc.encrypted, "scheme": enc.scheme, "key_id": enc.key_id, "key_version": enc.key_version,
            "server_uuid": enc.server_uuid}


@dataclass(frozen=True)
class LatestCheckpoint:
    path: Path
    slot: int
    slot_offset: int
    lsn: int
    number: int | None
    end_lsn: int | None
    group_offset: int | None

    @property
    def file(self) -> str:
        return self.path.name

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "path": str(self.path), "slot": self.slot, "slot_offset": self.slot_offset,
                "lsn": self.lsn, "number": self.number, "end_lsn": self.end_lsn, "group_offset": self.group_offset}


@dataclass
class RedoFileSet:
    files: list[RedoFileReport]
    latest_checkpoint: LatestCheckpoint | None
    notes: list[str] = field(default_factory=list)  # paths that held no redo file
    missing_files: list[str] = field(default_factory=list)  # files of the set that are not there
    lsn_gaps: list[str] = field(default_factory=list)  # consecutive files whose LSN ranges do not join
    warnings: list[str] = field(default_factory=list)  # do not change the exit code

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.files) and not self.notes and not self.missing_files and not self.lsn_gaps

    @property
    def problems(self) -> list[str]:
        """One line per damaged file and per finding across files."""
        return ([f"{f.name}: {f.status.replace('_', ' ')}: {f.message}" for f in self.files if not f.ok]
                + self.missing_files + self.lsn_gaps + self.notes)

    @property
    def why_no_checkpoint(self) -> str:
        """Why `latest_checkpoint` is None: valid slots past the data of a cut file are not "invalid"."""
        logs = [f for f in self.files if f.role != "spare"]
        if any(f.status == "truncated" and any(s.valid for s in f.checkpoints) for f in logs):
            return "no usable checkpoint: the valid checkpoints lie past the data the files hold (truncated)"
        if not any(f.header is not None for f in logs):
            return "no checkpoint to read: no file has a redo log header"
        return "no valid checkpoint in any file"

    @property
    def log_files(self) -> list[RedoFileReport]:
        return [f for f in self.files if f.role != "spare" and f.header is not None]

    def to_dict(self) -> dict[str, Any]:
        return {"status": "ok" if self.ok else "problems", "files": [f.to_dict() for f in self.files],
                "latest_checkpoint": self.latest_checkpoint.to_dict() if self.latest_checkpoint else None,
                "missing_files": self.missing_files, "lsn_gaps": self.lsn_gaps, "warnings": self.warnings,
                "notes": self.notes}


FIL_PAGE_TYPE_FSP_HDR = 8


def _foreign_kind(head: bytes) -> str | None:
    if head[:4] == b"\xfebin":
        return "a MySQL/MariaDB binary log"
    if _is_tablespace_first_page(head):
        return "an InnoDB tablespace (.ibd / ibdata)"
    return None


def _is_tablespace_first_page(head: bytes) -> bool:
    """Page 0 of a tablespace: page number 0, type FSP_HDR, and the same space id in FIL and FSP headers."""
    if len(head) < 42:
        return False
    page_type = int.from_bytes(head[24:26], "big")
    return u32(head, 4) == 0 and page_type == FIL_PAGE_TYPE_FSP_HDR and u32(head, 34) == u32(head, 38)


def _is_all_zero(fh: Any, size: int) -> bool:
    zero = bytes(ZERO_CHUNK)
    fh.seek(0)
    remaining = size
    while remaining > 0:
        chunk = fh.read(min(ZERO_CHUNK, remaining))
        if not chunk:
            break
        if chunk != zero[:len(chunk)]:
            return False
        remaining -= len(chunk)
    return True


def read_redo_file(found: FoundFile) -> RedoFileReport:
    """Decode one file; the status says what is wrong with it, if anything."""
    report = RedoFileReport(found.path, found.role, found.file_id, "ok")
    try:
        if found.path.exists() and not found.path.is_file():
            return _set(report, "unreadable", "not a regular file")
        with open(found.path, "rb") as fh:
            report.size = os.fstat(fh.fileno()).st_size
            head = fh.read(HEAD_BYTES)
            if head and not any(head[:L.FILE_HDR_SIZE]):
                zero = _is_all_zero(fh, report.size)
                return _all_zero_head(report, zero)
    except FileNotFoundError:
        return _set(report, "not_found", "no such file")
    except IsADirectoryError:
        return _set(report, "unreadable", "is a directory")
    except PermissionError as exc:
        return _set(report, "unreadable", f"permission denied ({exc.strerror})")
    except OSError as exc:
        return _set(report, "unreadable", exc.strerror or str(exc))
    if found.role == "spare":
        return _set(report, "spare", "spare file (#ib_redoN_tmp), not in use")
    return _decode(report, head)


def report_from_bytes(data: bytes, found: FoundFile) -> RedoFileReport:
    """Decode a whole file held in memory (what read_redo_file does for a file on disk)."""
    report = RedoFileReport(found.path, found.role, found.file_id, "ok", size=len(data))
    head = data[:HEAD_BYTES]
    if head and not any(head[:L.FILE_HDR_SIZE]):
        return _all_zero_head(report, not any(data))
    if found.role == "spare":
        return _set(report, "spare", "spare file (#ib_redoN_tmp), not in use")
    return _decode(report, head)


def _all_zero_head(report: RedoFileReport, whole_file_zero: bool) -> RedoFileReport:
    if report.role == "spare":
        return _set(report, "spare", "spare file (#ib_redoN_tmp), not in use")
    if report.size == 0:
        return _set(report, "truncated", "empty file (0 bytes)")
    if whole_file_zero:
        return _set(report, "never_written", "all zero bytes: a later file of the group the log never wrapped into")
    return _set(report, "unknown_format", "the header is all zero but the file holds data")


def _set(report: RedoFileReport, status: str, message: str) -> RedoFileReport:
    report.status, report.message = status, message
    return report


def _decode(report: RedoFileReport, head: bytes) -> RedoFileReport:
    size = report.size or 0
    if size == 0:
        return _set(report, "truncated", "empty file (0 bytes)")
    if len(head) < L.BLOCK_SIZE:
        foreign = _foreign_kind(head)
        return _set(report, "truncated" if not foreign else "unknown_format",
                    f"this is {foreign}, not a redo log" if foreign else
                    f"{plural(len(head), 'byte')}: shorter than a redo file header ({L.BLOCK_SIZE} bytes)")
    foreign = _foreign_kind(head)
    if foreign:
        return _set(report, "unknown_format", f"this is {foreign}, not a redo log")
    header = decode_header(head)
    fmt = header.format
    if not fmt.known or (fmt.value == L.FORMAT_LEGACY and header.start_lsn == 0):
        return _set(report, "unknown_format",
                    f"format value {fmt.value} (0x{fmt.value:08x}) at offset 0 is not a known redo log format")
    report.header = header
    needed = L.MDB_START_OFFSET if fmt.base == L.FORMAT_MDB_10_8 else L.FILE_HDR_SIZE
    if fmt.base == L.FORMAT_MDB_10_5 and header.creator.startswith("Backup"):
        needed = L.FILE_HDR_SIZE
    if size < needed:
        return _set(report, "truncated", f"{plural(size, 'byte')}: shorter than the {needed}-byte header of {fmt.name}")
    if header.header_checksum == "mismatch":
        stored, block = u32(head, L.BLOCK_CHECKSUM_OFFSET), head[:L.BLOCK_CHECKSUM_OFFSET]
        return _set(report, "header_checksum_mismatch",
                    f"header CRC-32C stored 0x{stored:08x}, computed 0x{crc32c(block):08x}")
    if header.problems:
        return _set(report, "invalid_header", "; ".join(header.problems))
    if _checkpoints_meaningful(report):
        report.checkpoints = decode_checkpoints(head, fmt)
        bad = [s for s in report.checkpoints if s.status in ("checksum_mismatch", "invalid")]
        if bad and not any(s.valid for s in report.checkpoints):
            return _set(report, "no_valid_checkpoint", _slot_problem(bad))
        if bad:
            return _set(report, "checkpoint_" + bad[0].status, _slot_problem(bad))
        past = _checkpoint_past_end(report)
        if past is not None:
            return _set(report, "truncated", past)
    if fmt.layout is L.Layout.BLOCKS and size % L.BLOCK_SIZE and not header.creator.startswith("Backup"):
        return _set(report, "truncated", f"{size} bytes is not a whole number of 512-byte blocks")
    return report


def _checkpoint_past_end(report: RedoFileReport) -> str | None:
    """MySQL 8.0.30+ writes a checkpoint only into the file that holds its LSN: one past the end of the file
    means the file was cut short (a copy of its first bytes)."""
    assert report.header is not None
    end, start = report.end_lsn, report.header.start_lsn
    if report.header.format.base != L.FORMAT_8_0_30 or end is None:
        return None
    lsns = [s.lsn for s in report.checkpoints if s.valid and s.lsn is not None and s.lsn > end]
    if not lsns:
        return None
    offset = L.FILE_HDR_SIZE + max(lsns) - start
    needed = offset - offset % L.BLOCK_SIZE + L.BLOCK_SIZE
    return (f"the latest checkpoint (LSN {max(lsns)}) is at offset {offset}, which needs at least {needed} bytes; "
            f"the file has {plural(report.size or 0, 'byte')}")


def plural(count: int, word: str) -> str:
    """`1 byte`, `2 bytes`."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _slot_problem(bad: list[CheckpointSlot]) -> str:
    return "; ".join(f"checkpoint slot {s.slot} (@{s.offset}): {s.status.replace('_', ' ')}: {s.message}"
                     for s in bad)


def _checkpoints_meaningful(report: RedoFileReport) -> bool:
    """Checkpoint slots matter in every 8.0.30+ file, but only in the first file of older groups."""
    assert report.header is not None
    if report.header.format.base in (L.FORMAT_8_0_30, L.FORMAT_MDB_10_8):
        return True
    return report.file_id in (0, None)


def find_latest_checkpoint(reports: list[RedoFileReport]) -> LatestCheckpoint | None:
    """The checkpoint InnoDB would start from, by the rules of the format of the first decoded log file."""
    logs = [r for r in reports if r.role != "spare" and r.header is not None and r.checkpoints]
    if not logs:
        return None
    assert logs[0].header is not None
    base, directory = logs[0].header.format.base, logs[0].path.parent
    best: tuple[RedoFileReport, CheckpointSlot] | None = None
    for report in logs:
        assert report.header is not None
        if report.header.format.base != base or report.path.parent != directory:
            continue
        for slot in report.checkpoints:
            if not slot.valid or slot.lsn is None or not _slot_usable(report, slot):
                continue
            if best is None or _better(base, slot, best[1]):
                best = (report, slot)
    if best is None:
        return None
    report, slot = best
    assert slot.lsn is not None
    return LatestCheckpoint(report.path, slot.slot, slot.offset, slot.lsn, slot.number, slot.end_lsn,
                            slot.group_offset)


def _slot_usable(report: RedoFileReport, slot: CheckpointSlot) -> bool:
    assert report.header is not None and slot.lsn is not None
    base = report.header.format.base
    if base == L.FORMAT_8_0_30:
        return slot.lsn != 0 and report.contains(slot.lsn)
    if base == L.FORMAT_MDB_10_8:
        return slot.lsn >= report.header.start_lsn
    return True


def _better(base: int, slot: CheckpointSlot, best: CheckpointSlot) -> bool:
    assert slot.lsn is not None and best.lsn is not None
    if base == L.FORMAT_8_0_30:
        return slot.lsn > best.lsn  # recv_find_max_checkpoint: the first maximum wins
    if base == L.FORMAT_MDB_10_8:
        return slot.lsn >= best.lsn  # find_checkpoint(): compared with >= in slot order
    return (slot.number or 0) >= (best.number or 0)  # highest checkpoint number; ties go to the later slot
