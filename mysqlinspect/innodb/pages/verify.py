"""`pages verify`: check every page of tablespace files as the server would on read.

Per page: checksum under the accepted algorithms, torn write (header/trailer LSN), page number and space id
against the position, all-zero pages. Per file: counts per status and algorithm, and each bad page.
"""

from __future__ import annotations

import os
import struct
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mysqlinspect.errors import DataError, InputNotFoundError, MysqlInspectError
from mysqlinspect.innodb.files.filekinds import classify_file, tablespace_files
from mysqlinspect.innodb.pages import fastcheck, workers
from mysqlinspect.innodb.pages import layout as L
from mysqlinspect.innodb.pages.checksum import (
    BAD_STATUSES,
    VALID_FULL_CRC32_COMPRESSED,
    PageCheck,
    PageStatus,
    check_classic,
    check_full_crc32,
    check_zip,
)
from mysqlinspect.innodb.pages.reader import TablespaceFile, missing_input
from mysqlinspect.innodb.pages.structs import DoublewriteHeader, FilHeader, FspFlags

if TYPE_CHECKING:
    from concurrent.futures import Executor, Future

_IDS = struct.Struct(">I26xI")  # page number @4, space id @34 (relative to 4)
PARALLEL_MIN_BYTES = 256 << 20  # below this (one file, or all files together) one process does everything
PageChecker = Callable[[memoryview], PageCheck]


@dataclass(frozen=True)
class BadPage:
    page_no: int
    status: str
    page_type: str
    lsn: int
    reason: str


@dataclass
class FileVerification:
    path: Path
    kind: str
    space_id: int | None = None
    page_size: int | None = None
    physical_page_size: int | None = None
    format: str | None = None  # "classic", "full_crc32" or "compressed" (ROW_FORMAT=COMPRESSED)
    pages: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    algorithms: Counter[str] = field(default_factory=Counter)
    bad_pages: list[BadPage] = field(default_factory=list)
    error: str | None = None
    error_status: str = "error"  # the status when `error` is set: empty_file, not_a_tablespace or unreadable
    trailing_bytes: int = 0

    @property
    def ok(self) -> bool:
        """No bad page, no error, and no partial page at the end (a truncated copy)."""
        return self.error is None and not self.bad_pages and not self.trailing_bytes

    @property
    def status(self) -> str:
        """ok, bad_pages, truncated (a partial page at the end), or the error's status."""
        if self.error is not None:
            return self.error_status
        if self.bad_pages:
            return "bad_pages"
        return "truncated" if self.trailing_bytes else "ok"

    @property
    def problem(self) -> str | None:
        """What is wrong with the file, in one line (None when it is ok)."""
        if self.error is not None:
            return self.error
        if self.bad_pages:
            first = self.bad_pages[0]
            more = f" ({len(self.bad_pages)} bad pages)" if len(self.bad_pages) > 1 else ""
            return f"{self.path}: page {first.page_no} {first.status}: {first.reason}{more}"
        if self.trailing_bytes and not self.pages:
            return (f"{self.path}: truncated: {self.trailing_bytes} bytes, shorter than one "
                    f"{self.physical_page_size}-byte page")
        if self.trailing_bytes:
            return (f"{self.path}: truncated: {self.trailing_bytes} bytes after the last whole "
                    f"{self.physical_page_size}-byte page ({self.pages} whole pages)")
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path), "kind": self.kind, "ok": self.ok, "status": self.status, "error": self.error,
            "space_id": self.space_id,
            "page_size": self.page_size, "physical_page_size": self.physical_page_size, "format": self.format,
            "pages": self.pages, "trailing_bytes": self.trailing_bytes,
            "counts": {status.value: self.counts.get(status.value, 0) for status in PageStatus},
            "algorithms": {name: n for name, n in sorted(self.algorithms.items()) if n},
            "bad_pages": [vars(b) for b in self.bad_pages],
        }


@dataclass
class Verification:
    files: list[FileVerification]
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.files)

    @property
    def problems(self) -> list[str]:
        return [f.problem for f in self.files if f.problem is not None]

    def totals(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for f in self.files:
            total.update(f.counts)
        return {status.value: total.get(status.value, 0) for status in PageStatus}

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "files_checked": len(self.files), "files_bad": sum(not f.ok for f in self.files),
                "pages": sum(f.pages for f in self.files), "totals": self.totals(), "notes": self.notes,
                "files": [f.to_dict() for f in self.files]}


def page_checker(flags: FspFlags) -> PageChecker:
    """The check function for a tablespace's pages, chosen from its flags."""
    if flags.full_crc32:
        return partial(check_full_crc32, ps=flags.page_size)
    if flags.zip_size:
        return partial(check_zip, zip_size=flags.zip_size)
    return partial(check_classic, ps=flags.page_size, page_compression=flags.page_compression)


def skipped_pages(ts: TablespaceFile) -> list[range]:
    """The legacy doublewrite area of a system tablespace (innochecksum does not check it either)."""
    fsp = ts.fsp_header
    if fsp is None or fsp.space_id != 0 or ts.page_count <= L.FSP_TRX_SYS_PAGE_NO or ts.flags is None:
        return []
    header = DoublewriteHeader.from_page(ts.page(L.FSP_TRX_SYS_PAGE_NO), ts.physical_page_size)
    if header.present:
        return header.page_ranges(ts.physical_page_size)
    extent = L.extent_pages(ts.physical_page_size)
    return [range(extent, 3 * extent)]


def _bad(page_no: int, page: memoryview, check: PageCheck) -> BadPage:
    header = FilHeader.from_bytes(page)
    return BadPage(page_no, check.status.value, header.type_name, header.lsn, check.reason or check.status.value)


def _position_problem(page: memoryview, page_no: int, space_id: int, check: PageCheck) -> str | None:
    stored_no, stored_space = _IDS.unpack_from(page, 4)
    if stored_no != page_no:
        return f"page number {stored_no} stored at position {page_no}"
    if stored_space != space_id and check is not VALID_FULL_CRC32_COMPRESSED:  # payload starts at 26 there
        return f"space id {stored_space} on a page of space {space_id}"
    return None


def fast_check(flags: FspFlags) -> tuple[fastcheck.Suspects, str] | None:
    """The chunk-level pre-check for uncompressed pages (None: every page goes through the per-page checks)."""
    if not fastcheck.AVAILABLE or flags.zip_size:
        return None
    algorithm = "full_crc32" if flags.full_crc32 else "crc32"
    return fastcheck.SUSPECTS[algorithm], algorithm


def scan_pages(ts: TablespaceFile, result: FileVerification, start: int = 0, stop: int | None = None) -> None:
    """Check the pages [start, stop) (default: all) of an open tablespace file into `result`."""
    assert ts.flags is not None
    checker = page_checker(ts.flags)
    fast = fast_check(ts.flags)
    fsp = ts.fsp_header
    space_id = fsp.space_id if fsp is not None else None
    skip = {n for r in skipped_pages(ts) for n in r}
    ps = ts.physical_page_size
    for first, count, view in ts.iter_chunks(start, stop):
        indices: Iterable[int] = range(count)
        if fast is not None and not any(first <= n < first + count for n in skip):
            indices = fast[0](view, count, ps, first, space_id)
            result.counts["valid"] += count - len(indices)
            result.algorithms[fast[1]] += count - len(indices)
        for i in indices:
            page_no = first + i
            if page_no in skip:
                result.counts["skipped"] += 1
            else:
                _check_one(view[i * ps:(i + 1) * ps], page_no, space_id, checker, result)


def _check_one(page: memoryview, page_no: int, space_id: int | None, checker: PageChecker,
               result: FileVerification) -> None:
    check = checker(page)
    if check.status is PageStatus.VALID and space_id is not None:
        problem = _position_problem(page, page_no, space_id, check)
        if problem is not None:
            check = PageCheck(PageStatus.MISPLACED, check.algorithm, problem)
    result.counts[check.status.value] += 1
    if check.algorithm is not None and check.status is PageStatus.VALID:
        result.algorithms[check.algorithm] += 1
    if check.status in BAD_STATUSES:
        result.bad_pages.append(_bad(page_no, page, check))


def _scan_range(path: Path, page_size: int | None, start: int, stop: int) -> FileVerification:
    """One worker's share of a large file (runs in a forked process)."""
    part = FileVerification(path=path, kind="")
    with TablespaceFile(path, page_size=page_size) as ts:
        scan_pages(ts, part, start, stop)
    return part


def _scan_parallel(ts: TablespaceFile, result: FileVerification, page_size: int | None, jobs: int) -> None:
    """Split the pages into `jobs` ranges: forked children take all but the first, this process the first."""
    step = -(-ts.page_count // jobs)
    ranges = [(ts.path, page_size, n, min(n + step, ts.page_count)) for n in range(step, ts.page_count, step)]
    parts = workers.run_split(partial(scan_pages, ts, result, 0, step), _scan_range, ranges)
    for part in parts:
        result.counts.update(part.counts)
        result.algorithms.update(part.algorithms)
        result.bad_pages.extend(part.bad_pages)


def default_jobs() -> int:
    """The CPUs this process may run on (`--jobs 0`)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def process_pool(jobs: int) -> Executor:
    """Forked worker processes (the engine's modules are already imported in the parent)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork"))


def verify_file(path: Path, kind: str | None = None, page_size: int | None = None, jobs: int = 1) -> FileVerification:
    """Verify one tablespace file; unreadable or unrecognisable files come back with `error` set. With `jobs` > 1
    a file of at least PARALLEL_MIN_BYTES is split between this process and `jobs` - 1 forked ones."""
    result = FileVerification(path=path, kind=kind or classify_file(path))
    try:
        if path.is_file() and path.stat().st_size == 0:  # innochecksum: "Was not able to read the minimum page size"
            result.error, result.error_status = f"{path}: empty file (0 bytes): no page 0", "empty_file"
            return result
        with TablespaceFile(path, page_size=page_size) as ts:
            assert ts.flags is not None
            fsp = ts.fsp_header
            result.space_id = fsp.space_id if fsp else None
            result.page_size, result.physical_page_size = ts.flags.page_size, ts.physical_page_size
            result.format = "full_crc32" if ts.flags.full_crc32 else ("compressed" if ts.flags.zip_size else "classic")
            result.pages, result.trailing_bytes = ts.page_count, ts.trailing_bytes
            if jobs > 1 and ts.size >= PARALLEL_MIN_BYTES and workers.AVAILABLE:
                _scan_parallel(ts, result, page_size, jobs)
            else:
                scan_pages(ts, result)
    except DataError as exc:
        result.error, result.error_status = str(exc), "not_a_tablespace"
    except MysqlInspectError as exc:
        result.error, result.error_status = str(exc), "unreadable"
    return result


def _expand(paths: Sequence[str | Path]) -> tuple[list[Path], list[str]]:
    files: list[Path] = []
    notes: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = tablespace_files(path)
            if not found:
                notes.append(f"{path}: no tablespace files")
            files.extend(found)
        elif (missing := missing_input(path)) is None:
            files.append(path)
        else:
            raise missing
    return files, notes


def verify_paths(paths: Sequence[str | Path], jobs: int = 1) -> Verification:
    """Verify files and every tablespace file of the directories among `paths`. With `jobs` > 1 (0: one per
    CPU), each file of at least PARALLEL_MIN_BYTES is split into `jobs` page ranges checked in parallel (forked
    processes), and smaller files adding up to that much are checked by a pool of `jobs` processes, one per task."""
    files, notes = _expand(paths)
    if not files:
        raise InputNotFoundError("no tablespace files found in " + ", ".join(str(p) for p in paths))
    jobs = default_jobs() if jobs == 0 else jobs
    system_page_size = _system_page_size(files)
    sizes = {path: system_page_size if _is_continuation_ibdata(path) else None for path in files}
    small = [path for path in files if _file_bytes(path) < PARALLEL_MIN_BYTES]
    if jobs > 1 and len(small) > 1 and _total_bytes(small) >= PARALLEL_MIN_BYTES:
        with process_pool(jobs) as pool:
            return Verification(_verify_in_pool(files, sizes, jobs, pool), notes)
    return Verification([verify_file(path, page_size=sizes[path], jobs=jobs) for path in files], notes)


def _verify_in_pool(files: list[Path], sizes: dict[Path, int | None], jobs: int,
                    pool: Executor) -> list[FileVerification]:
    """Large files are split between this process and forked children first (before the pool has threads);
    then the smaller ones go to the pool, one per task."""
    large = {path: verify_file(path, page_size=sizes[path], jobs=jobs)
             for path in files if _file_bytes(path) >= PARALLEL_MIN_BYTES}
    small: dict[Path, Future[FileVerification]] = {
        path: pool.submit(verify_file, path, None, sizes[path]) for path in files if path not in large}
    return [large[path] if path in large else small[path].result() for path in files]


def _file_bytes(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _total_bytes(files: list[Path]) -> int:
    return sum(_file_bytes(path) for path in files)


def _is_continuation_ibdata(path: Path) -> bool:
    return path.name.startswith("ibdata") and path.name != "ibdata1"


def _system_page_size(files: list[Path]) -> int | None:
    for path in files:
        if path.name == "ibdata1":
            try:
                with TablespaceFile(path) as ts:
                    return ts.physical_page_size
            except MysqlInspectError:
                return None
    return None
