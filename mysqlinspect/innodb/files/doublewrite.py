"""Offline doublewrite buffer: the page copies it holds and what crash recovery would do with them.

Sources: MySQL 8.0.20+ `#ib_<ps>_<n>.dblwr` files (every page-sized slot is a candidate, identity from the
copy's own FIL header), or the legacy area of `ibdata1` (two extents named on the TRX_SYS page: MariaDB, old
MySQL). Against the tablespace files: damaged pages (corrupt, torn, or all zero) restored from a valid copy,
damaged pages with no valid copy (recovery would fail), stale copies. Rules from innodb-pages.md §4.3 and §5.2:
MySQL takes the copy with the highest LSN; MariaDB the first valid copy in slot order whose LSN is not older than
the checkpoint. With innodb_doublewrite=DETECT_ONLY, MySQL's `.bdblwr` file holds only the id and LSN of pages
written: a damaged page named there cannot be repaired (nor from a full copy older than that entry), and the
server stops with ER_REDUCED_DBLWR_PAGE_FOUND (recv::Pages::reduced_recover, dblwr_recover_page).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mysqlinspect.errors import MysqlInspectError
from mysqlinspect.innodb.files.dblwr_sources import ReducedEntry, Slot, SpaceIndex, read_buffer
from mysqlinspect.innodb.pages.checksum import BAD_STATUSES, PageCheck, PageStatus, check_classic, check_full_crc32
from mysqlinspect.innodb.pages.reader import TablespaceFile, missing_input
from mysqlinspect.innodb.pages.structs import FilHeader, FspFlags
from mysqlinspect.innodb.pages.verify import FileVerification, page_checker, scan_pages
from mysqlinspect.redo.redoset import inspect_redo_files


@dataclass
class DoublewriteCopy:
    source: str  # file name
    slot: int
    space_id: int
    page_no: int
    lsn: int
    page_type: str
    checksum_valid: bool | None  # None: no tablespace to tell the checksum format
    target: str | None = None  # tablespace file (relative to the data directory)
    verdict: str = "unknown"
    # restores | current | stale | newer_than_page | invalid | superseded | no_tablespace | beyond_end
    # | before_checkpoint

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass
class DamagedPage:
    space_id: int
    page_no: int
    path: str
    status: str  # corrupt, torn, misplaced or empty (all zero, with a copy that would restore it)
    lsn: int
    reason: str
    outcome: str  # "restored" or "unrecoverable"
    copy_source: str | None = None
    copy_slot: int | None = None
    copy_lsn: int | None = None
    in_buffer: bool = False  # the buffer names the page (a copy, or a DETECT_ONLY entry): startup reads it

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass
class DoublewriteReport:
    root: Path
    layout: str  # "dblwr_files" (MySQL 8.0.20+) or "system_tablespace" (MariaDB, older MySQL)
    sources: list[str]
    page_size: int
    slots: int
    copies: list[DoublewriteCopy]
    damaged: list[DamagedPage]
    checkpoint_lsn: int | None = None
    notes: list[str] = field(default_factory=list)
    reduced_entries: int = 0  # DETECT_ONLY (.bdblwr) entries: page ids and LSNs, no copies

    @property
    def restored(self) -> list[DamagedPage]:
        return [d for d in self.damaged if d.outcome == "restored"]

    @property
    def unrecoverable(self) -> list[DamagedPage]:
        return [d for d in self.damaged if d.outcome == "unrecoverable"]

    @property
    def stale(self) -> list[DoublewriteCopy]:
        return [c for c in self.copies if c.verdict == "stale"]

    @property
    def ok(self) -> bool:
        return not self.unrecoverable

    @property
    def problems(self) -> list[str]:
        return [f"{d.path} page {d.page_no} (space {d.space_id}) is {d.status} and has no usable doublewrite copy: "
                f"crash recovery fails if it reads the page ({d.reason})" for d in self.unrecoverable]

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.root), "layout": self.layout, "sources": self.sources, "page_size": self.page_size,
                "slots": self.slots, "copies_held": len(self.copies), "reduced_entries": self.reduced_entries,
                "checkpoint_lsn": self.checkpoint_lsn,
                "restored": [d.to_dict() for d in self.restored],
                "unrecoverable": [d.to_dict() for d in self.unrecoverable],
                "stale": [{"space_id": c.space_id, "page_no": c.page_no, "source": c.source, "slot": c.slot,
                           "lsn": c.lsn} for c in self.stale],
                "copies": [c.to_dict() for c in self.copies], "notes": self.notes}


def _check_copy(image: bytes, flags: FspFlags | None) -> PageCheck | None:
    if flags is None:
        return None
    physical = flags.physical_page_size
    return page_checker(flags)(memoryview(image)[:physical])


def _guess_check(image: bytes, page_size: int) -> PageCheck:
    fcrc = check_full_crc32(memoryview(image), page_size)
    return fcrc if fcrc.status is PageStatus.VALID else check_classic(memoryview(image), page_size)


@dataclass
class _Candidate:
    copy: DoublewriteCopy
    image: bytes


def _copies(slots: list[Slot], spaces: SpaceIndex, page_size: int) -> list[_Candidate]:
    out: list[_Candidate] = []
    for slot in slots:
        header = FilHeader.from_bytes(slot.image)
        ts = spaces.get(header.space_id)
        check = _check_copy(slot.image, ts.flags if ts else None) if ts else _guess_check(slot.image, page_size)
        valid = check.status is PageStatus.VALID if check else None
        copy = DoublewriteCopy(slot.source, slot.slot, header.space_id, header.page_no, header.lsn, header.type_name,
                               valid, spaces.relative(header.space_id) if ts else None)
        out.append(_Candidate(copy, slot.image))
    return out


def _data_page_state(ts: TablespaceFile, page_no: int) -> tuple[PageCheck, FilHeader] | None:
    if page_no >= ts.page_count:
        return None
    assert ts.flags is not None
    page = ts.page(page_no)
    return page_checker(ts.flags)(page), FilHeader.from_bytes(page)


def _pick(cands: list[_Candidate], highest_lsn: bool, checkpoint: int | None) -> _Candidate | None:
    """The copy recovery writes back. MySQL (recv::Pages::find) takes the copy with the highest LSN and stops
    with an error if that one is corrupt; MariaDB (find_page) the first valid copy in slot order that is not
    older than the checkpoint."""
    if highest_lsn:
        newest = max(cands, key=lambda c: c.copy.lsn)
        return newest if newest.copy.checksum_valid else None
    usable = [c for c in cands if c.copy.checksum_valid and (checkpoint is None or c.copy.lsn >= checkpoint)]
    return usable[0] if usable else None


def _bad_pages(spaces: SpaceIndex) -> dict[tuple[int, int], tuple[str, str, int]]:
    bad: dict[tuple[int, int], tuple[str, str, int]] = {}
    for space_id in list(spaces.paths):
        ts = spaces.get(space_id)
        if ts is None:
            continue
        result = FileVerification(path=ts.path, kind="")
        scan_pages(ts, result)
        for b in result.bad_pages:
            bad[(space_id, b.page_no)] = (b.status, b.reason, b.lsn)
    return bad


def analyse_doublewrite(paths: list[str | Path], datadir: str | Path | None = None) -> DoublewriteReport:
    """Read the doublewrite copies under `paths` and predict what crash recovery does with them."""
    given = [Path(p) for p in paths]
    for p in given:
        if (missing := missing_input(p)) is not None:
            raise missing
    root = Path(datadir) if datadir else (given[0] if given[0].is_dir() else given[0].parent)
    spaces = SpaceIndex(root)
    try:
        return _analyse(given, root, spaces)
    finally:
        spaces.close()


def _analyse(given: list[Path], root: Path, spaces: SpaceIndex) -> DoublewriteReport:
    found = read_buffer(given, spaces, root)
    report = DoublewriteReport(root, found.layout, found.sources, found.page_size, found.slot_count, [], [],
                               _checkpoint_lsn(root), list(found.notes), len(found.reduced))
    _judge(report, _copies(found.slots, spaces, found.page_size), spaces, highest_lsn=found.layout == "dblwr_files")
    _judge_reduced(report, _newest(found.reduced))
    return report


REDUCED_REASON = ("written in DETECT_ONLY doublewrite mode (LSN {lsn}): the buffer holds its id, not a copy"
                  " (ER_REDUCED_DBLWR_PAGE_FOUND, the server stops)")


def _newest(entries: list[ReducedEntry]) -> dict[tuple[int, int], int]:
    newest: dict[tuple[int, int], int] = {}
    for e in entries:
        newest[(e.space_id, e.page_no)] = max(e.lsn, newest.get((e.space_id, e.page_no), 0))
    return newest


def _judge_reduced(report: DoublewriteReport, reduced: dict[tuple[int, int], int]) -> None:
    """A damaged page with a DETECT_ONLY entry newer than the copy that would restore it (or with no copy) stops
    the server: recovery cannot repair it."""
    for page in report.damaged:
        lsn = reduced.get((page.space_id, page.page_no))
        if lsn is None or (page.copy_lsn is not None and lsn <= page.copy_lsn):
            continue
        page.outcome, page.in_buffer = "unrecoverable", True
        page.reason = f"{page.reason}; {REDUCED_REASON.format(lsn=lsn)}"


def _checkpoint_lsn(root: Path) -> int | None:
    try:
        latest = inspect_redo_files([root]).latest_checkpoint
    except MysqlInspectError:
        return None
    return latest.lsn if latest else None


def _judge(report: DoublewriteReport, cands: list[_Candidate], spaces: SpaceIndex, highest_lsn: bool) -> None:
    by_page: dict[tuple[int, int], list[_Candidate]] = {}
    for cand in cands:
        report.copies.append(cand.copy)
        by_page.setdefault((cand.copy.space_id, cand.copy.page_no), []).append(cand)
    bad = _bad_pages(spaces)
    checkpoint = None if highest_lsn else report.checkpoint_lsn
    for key, group in by_page.items():
        _judge_page(report, key, group, spaces, bad, highest_lsn, checkpoint)
    for (space_id, page_no), (status, reason, lsn) in sorted(bad.items()):
        if (space_id, page_no) not in by_page:
            report.damaged.append(DamagedPage(space_id, page_no, spaces.relative(space_id), status, lsn, reason,
                                              "unrecoverable"))
    report.damaged.sort(key=lambda d: (d.space_id, d.page_no))


def _judge_page(report: DoublewriteReport, key: tuple[int, int], group: list[_Candidate], spaces: SpaceIndex,
                bad: dict[tuple[int, int], tuple[str, str, int]], highest_lsn: bool, checkpoint: int | None) -> None:
    space_id, page_no = key
    ts = spaces.get(space_id)
    if ts is None:
        for c in group:
            c.copy.verdict = "no_tablespace"
        return
    state = _data_page_state(ts, page_no)
    if state is None:
        for c in group:
            c.copy.verdict = "beyond_end"
        return
    check, header = state
    chosen = _pick(group, highest_lsn, checkpoint)
    damaged = check.status in BAD_STATUSES or check.status is PageStatus.EMPTY
    for c in group:
        c.copy.verdict = _copy_verdict(c, chosen, header.lsn, damaged, checkpoint)
    if not damaged:
        return
    if check.status is PageStatus.EMPTY and chosen is None:
        return  # an all-zero page with no usable copy is just a never-written page
    status, reason = (check.status.value, check.reason or check.status.value)
    if key in bad:
        status, reason, _ = bad[key]
    report.damaged.append(DamagedPage(
        space_id, page_no, spaces.relative(space_id), status, header.lsn, reason,
        "restored" if chosen else "unrecoverable", chosen.copy.source if chosen else None,
        chosen.copy.slot if chosen else None, chosen.copy.lsn if chosen else None, in_buffer=True))
    bad.pop(key, None)


def _copy_verdict(cand: _Candidate, chosen: _Candidate | None, page_lsn: int, damaged: bool,
                  checkpoint: int | None) -> str:
    copy = cand.copy
    if not copy.checksum_valid:
        return "invalid"
    if checkpoint is not None and copy.lsn < checkpoint and damaged:
        return "before_checkpoint"
    if damaged:
        return "restores" if cand is chosen else "superseded"
    if copy.lsn < page_lsn:
        return "stale"
    return "current" if copy.lsn == page_lsn else "newer_than_page"
