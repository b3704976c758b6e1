"""Read a redo set: every file, the latest checkpoint, and the checks across files (missing files, LSN gaps,
checkpoints past the data, files of different servers).

InnoDB refuses to start when a file of the set is missing (MySQL 8.0.30+: `[MY-013882] Missing redo log file
./#innodb_redo/#ib_redoN (with start_lsn = L)`), and a checkpoint whose data lies past the end of a file (a
truncated copy) or in a file that is not there cannot be recovered from. These findings are what `redo files`
notes and what makes `redo recovery` refuse to report an end of log.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from mysqlinspect.redo import layout as L
from mysqlinspect.redo.discover import discover_redo_files
from mysqlinspect.redo.files import (
    LatestCheckpoint,
    RedoFileReport,
    RedoFileSet,
    find_latest_checkpoint,
    plural,
    read_redo_file,
)

MAX_GROUP_FILES = 100  # ib_logfile0..99
MIN_RING_FILE_BYTES = 1 << 20  # no server accepts a smaller innodb_log_file_size
ONLY_ONE_FILE = "Only one log file found."  # srv0start.cc (5.x) when a group has ib_logfile0 alone


@dataclass
class SetCheck:
    missing: list[str] = field(default_factory=list)  # a file of the set is not there: recovery impossible
    gaps: list[str] = field(default_factory=list)  # consecutive files whose LSN ranges do not join
    warnings: list[str] = field(default_factory=list)  # e.g. files of different servers given together


def inspect_redo_files(paths: Sequence[str | Path]) -> RedoFileSet:
    """Discover and read every file under `paths`, then check them as a set; InputNotFoundError when nothing is
    found."""
    found, notes = discover_redo_files(paths)
    reports = [read_redo_file(f) for f in found]
    latest = find_latest_checkpoint(reports)
    if latest is not None:
        for report in reports:
            report.holds_latest_checkpoint = report.path == latest.path
    checked = check_redo_set(reports, latest)
    return RedoFileSet(reports, latest, notes, checked.missing, checked.gaps, checked.warnings)


def check_redo_set(reports: list[RedoFileReport], latest: LatestCheckpoint | None) -> SetCheck:
    """Findings across files; marks a file `truncated` when the latest checkpoint lies past its data."""
    found = SetCheck()
    for files in _by_directory(reports, lambda r: r.header is not None
                               and r.header.format.base == L.FORMAT_8_0_30).values():
        _check_mysql_file_set(files, latest, found)
    for files in _by_directory(reports, lambda r: r.path.name.startswith(L.LEGACY_FILE_PREFIX)
                               and r.file_id is not None).values():
        _check_ring_ids(files, found)
    if latest is not None:
        holder = next((r for r in reports if r.path == latest.path), None)
        if holder is not None and holder.header is not None and holder.header.format.base not in (
                L.FORMAT_8_0_30, L.FORMAT_MDB_10_8):
            _check_ring_checkpoint(holder, reports, latest, found)
    return found


def _by_directory(reports: list[RedoFileReport],
                  wanted: Callable[[RedoFileReport], bool]) -> dict[Path, list[RedoFileReport]]:
    groups: dict[Path, list[RedoFileReport]] = defaultdict(list)
    for report in reports:
        if report.role == "log" and wanted(report):
            groups[report.path.parent].append(report)
    return groups


def _display(path: Path, name: str) -> str:
    return f"./{L.REDO_DIR_NAME}/{name}" if path.parent.name == L.REDO_DIR_NAME else name


def _check_mysql_file_set(files: list[RedoFileReport], latest: LatestCheckpoint | None, found: SetCheck) -> None:
    by_uuid: dict[int | None, list[RedoFileReport]] = defaultdict(list)
    for report in files:
        assert report.header is not None
        by_uuid[report.header.log_uuid].append(report)
    if len(by_uuid) > 1:
        parts = ", ".join(f"0x{uuid or 0:08x} ({', '.join(r.name for r in group)})" for uuid, group in by_uuid.items())
        found.warnings.append(f"files of different servers (log UUIDs differ) are read together: {parts}"
                              + ("; their LSN ranges overlap" if _overlap(files) else ""))
        main = _main_uuid(by_uuid, latest)
        files = by_uuid[main]
    files = sorted(files, key=lambda r: r.file_id or 0)
    for before, after in pairwise(files):
        assert before.file_id is not None and after.file_id is not None
        if after.file_id != before.file_id + 1:
            first = before.file_id + 1
            more = after.file_id - first - 1
            extra = f" (and {plural(more, 'more file')} up to #ib_redo{after.file_id - 1})" if more else ""
            found.missing.append(f"Missing redo log file {_display(before.path, f'#ib_redo{first}')} "
                                 f"(with start_lsn = {before.end_lsn}){extra}")
        elif before.ok and after.ok and after.header is not None and after.header.start_lsn != before.end_lsn:
            found.gaps.append(f"{after.name} starts at LSN {after.header.start_lsn}, but {before.name} ends at "
                              f"LSN {before.end_lsn}: the LSN ranges of consecutive files do not join")


def _main_uuid(by_uuid: dict[int | None, list[RedoFileReport]], latest: LatestCheckpoint | None) -> int | None:
    for uuid, group in by_uuid.items():
        if latest is not None and any(r.path == latest.path for r in group):
            return uuid
    return max(by_uuid, key=lambda uuid: len(by_uuid[uuid]))


def _overlap(files: list[RedoFileReport]) -> bool:
    ranges = sorted((r.header.start_lsn, r.end_lsn) for r in files if r.header is not None and r.end_lsn is not None)
    return any(later[0] < earlier[1] for earlier, later in pairwise(ranges))


def _check_ring_ids(files: list[RedoFileReport], found: SetCheck) -> None:
    """ib_logfile0..N-1 without a hole; ib_logfile101 (the servers' temporary file while they create or resize
    the log) is not part of the group."""
    ids = {r.file_id for r in files if r.file_id is not None and r.file_id < MAX_GROUP_FILES}
    if not ids:
        return
    highest = max(ids)
    absent = [i for i in range(highest) if i not in ids]
    if absent:
        names = ", ".join(f"ib_logfile{i}" for i in absent)
        found.missing.append(f"Missing redo log file {names}: the group has files up to ib_logfile{highest}")
    elif ids == {0} and _needs_two_files(next(r for r in files if r.file_id == 0)):
        found.missing.append(f"Missing redo log file ib_logfile1: this server keeps at least 2 files in a group "
                             f"(innodb_log_files_in_group >= 2); it stops with \"InnoDB: {ONLY_ONE_FILE}\"")


def _needs_two_files(head: RedoFileReport) -> bool:
    """A group of MySQL 5.5 to 8.0.29 (or MariaDB up to 10.1: the legacy format): innodb_log_files_in_group is at
    least 2 there. MariaDB 10.2-10.4 accept one file. A head smaller than any log file size is a cut copy."""
    header = head.header
    if header is None or (head.size or 0) < MIN_RING_FILE_BYTES:
        return False
    if header.format.base == L.FORMAT_LEGACY:
        return True
    return L.FORMAT_5_7_9 <= header.format.base <= L.FORMAT_8_0_28 and not header.creator.startswith(
        ("MariaDB", "Backup"))


def _check_ring_checkpoint(holder: RedoFileReport, reports: list[RedoFileReport], latest: LatestCheckpoint,
                           found: SetCheck) -> None:
    """Block rings: the latest checkpoint's group offset must lie in a file of the group that is all there."""
    size, offset = holder.size or 0, latest.group_offset
    if offset is None or size <= L.FILE_HDR_SIZE:
        return
    needed = offset - offset % L.BLOCK_SIZE + L.BLOCK_SIZE
    where = f"the latest checkpoint (LSN {latest.lsn}) is at offset {offset}"
    alone = holder.file_id != 0 or (holder.header is not None and holder.header.format.base == L.FORMAT_MDB_10_5)
    index = offset // size
    siblings = {r.file_id: r for r in reports if r.path.parent == holder.path.parent
                and r.path.name.startswith(L.LEGACY_FILE_PREFIX)}
    # Small files (smaller than any innodb_log_file_size a server accepts) whose checkpoint lies in a file that is
    # not there are a cut copy (a lone ib_logfile0, or every file of the group cut alike), not a group missing files.
    cut_copy = size < MIN_RING_FILE_BYTES and index not in siblings
    if alone or index >= MAX_GROUP_FILES or cut_copy:
        if needed > size:
            _truncate(holder, f"{where}, which needs at least {needed} bytes; the file has {plural(size, 'byte')}")
        return
    for file_id in range(1, index + 1):
        sibling = siblings.get(file_id)
        name = f"ib_logfile{file_id}"
        if sibling is None:
            message = (f"Missing redo log file {name}: {where} of the group, in ib_logfile{index} "
                       f"(files of {plural(size, 'byte')})")
            found.missing[:] = [m for m in found.missing if ONLY_ONE_FILE not in m]  # this one says more
            if not any(name in m for m in found.missing):
                found.missing.append(message)
            return
        if sibling.size != size:
            _truncate(sibling, f"{plural(sibling.size or 0, 'byte')}, but the other files of the group have "
                               f"{size}; {where} of the group, in ib_logfile{index}")
            return


def _truncate(report: RedoFileReport, message: str) -> None:
    report.status, report.message = "truncated", message
