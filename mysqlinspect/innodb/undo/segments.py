"""Offline undo logs: rollback segments -> undo segments -> the transactions InnoDB would resurrect at startup.

Rollback segments come from the TRX_SYS page of the system tablespace (MariaDB, MySQL before 8.0, and any slot
MySQL 8 still uses) and from page 3 (RSEG array) of each MySQL 8 undo tablespace. Every used undo segment slot
is read (undo_walk). Transactions are the server's `trx_resurrect()` view (innodb-pages.md §6.5): undo logs of
the same transaction id merged; ACTIVE ones are rolled back, PREPARED ones wait for the transaction coordinator,
TO_FREE/TO_PURGE ones are cleaned up (MySQL resurrects them as committed; MariaDB ignores them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mysqlinspect.errors import DataError, InputNotFoundError, MysqlInspectError
from mysqlinspect.innodb.dictionary.sdi import table_names
from mysqlinspect.innodb.dictionary.sys_tables import table_ids_from_dictionary
from mysqlinspect.innodb.files.datadir import mysql_server_version
from mysqlinspect.innodb.files.dblwr_sources import SpaceIndex
from mysqlinspect.innodb.pages.layout import FSP_TRX_SYS_PAGE_NO
from mysqlinspect.innodb.pages.reader import TablespaceFile
from mysqlinspect.innodb.pages.structs import FilHeader
from mysqlinspect.innodb.undo import layout as U
from mysqlinspect.innodb.undo.redo import OverlaidSpaces, RedoView, redo_view
from mysqlinspect.innodb.undo.structs import RsegArrayHeader, RsegHeader, RsegSlot, Xid, trx_sys_rseg_slots
from mysqlinspect.innodb.undo.walk import UndoSegment, read_segment
from mysqlinspect.redo.redoset import inspect_redo_files

ROW_OPS_SCALE_LIMIT = 1_000_000_000  # MySQL prints M / 10^6 with unit "M" above this


@dataclass
class RollbackSegment:
    source: str  # trx_sys or rseg_array
    slot: int
    space_id: int
    page_no: int
    file: str | None
    history_size: int = 0
    history_length: int = 0
    undo_slots_used: int = 0
    max_trx_no_or_id: int = 0
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass
class RecoveredTransaction:
    """One transaction the server resurrects from the undo logs, and what startup does with it."""

    trx_id: int
    state: str  # active, prepared, committed (to_free / to_purge undo left behind)
    row_operations: int
    undo_records: int
    table_ids: list[int]
    xid: Xid | None
    prepared_in_tc: bool  # MySQL undo state 7 (or 5 from before 8.0.29)
    segments: list[str]  # "space:page" of its undo segments
    tables: list[str] = field(default_factory=list)  # names of table_ids where the dictionary says (MySQL SDI)

    @property
    def action(self) -> str:
        return {"active": "roll back", "prepared": "coordinator decides"}.get(self.state, "clean up")

    def to_dict(self) -> dict[str, Any]:
        return {"trx_id": self.trx_id, "state": self.state, "action": self.action,
                "row_operations": self.row_operations, "undo_records": self.undo_records,
                "table_ids": self.table_ids, "tables": self.tables, "xid": self.xid.to_dict() if self.xid else None,
                "prepared_in_tc": self.prepared_in_tc, "undo_segments": self.segments}


@dataclass
class UndoReport:
    root: Path
    server: str  # mysql, mariadb or unknown (from the files)
    page_size: int
    files: list[str]
    rollback_segments: list[RollbackSegment]
    segments: list[UndoSegment]
    transactions: list[RecoveredTransaction]
    problems: list[str] = field(default_factory=list)
    redo: RedoView | None = None
    notes: list[str] = field(default_factory=list)  # what was left unnamed and why (not a problem of the undo)

    @property
    def to_roll_back(self) -> list[RecoveredTransaction]:
        return [t for t in self.transactions if t.state == "active"]

    @property
    def prepared(self) -> list[RecoveredTransaction]:
        return [t for t in self.transactions if t.state == "prepared"]

    @property
    def resurrected_count(self) -> int:
        """N of the server's "N transaction(s) which must be rolled back or cleaned up" line."""
        return len(self.transactions)

    @property
    def row_operations(self) -> int:
        """M of that line: the row operations of the ACTIVE transactions."""
        return sum(t.row_operations for t in self.to_roll_back)

    @property
    def stale_possible(self) -> bool:
        """Redo is still to be applied and was not: a page that is not an undo page may just be older than the log."""
        return self.redo is not None and not self.redo.applied and self.redo.bytes_to_apply > 0

    @property
    def maybe_stale(self) -> list[str]:
        """Problems of segments whose pages are not undo pages on disk, while unapplied redo may rebuild them."""
        if not self.stale_possible:
            return []
        return [f"undo segment {s.space_id}:{s.page_no}: {p}" for s in self.segments if s.not_undo_page
                for p in s.problems]

    @property
    def corruption(self) -> list[str]:
        stale = set(self.maybe_stale)
        return [p for p in self.problems if p not in stale]

    @property
    def ok(self) -> bool:
        return not self.corruption

    def server_message(self) -> str | None:
        """The startup line the server prints for these undo logs (None when it prints none)."""
        n, m = self.resurrected_count, self.row_operations
        if n == 0:
            return None
        unit = ""
        if self.server == "mysql" and m > ROW_OPS_SCALE_LIMIT:
            m, unit = m // 1_000_000, " M"
        return f"{n} transaction(s) which must be rolled back or cleaned up in total {m}{unit} row operations to undo"

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.root), "server": self.server, "page_size": self.page_size, "files": self.files,
                "transactions_resurrected": self.resurrected_count, "row_operations_to_undo": self.row_operations,
                "server_message": self.server_message(),
                "transactions": [t.to_dict() for t in self.transactions],
                "rollback_segments": [r.to_dict() for r in self.rollback_segments],
                "undo_segments": [s.to_dict() for s in self.segments], "problems": self.problems, "ok": self.ok,
                "redo": self.redo.to_dict() if self.redo else None, "notes": self.notes}


def _redo_creator(root: Path) -> str:
    try:
        files = inspect_redo_files([root]).files
    except MysqlInspectError:
        return ""
    return next((f.header.creator for f in files if f.header is not None and f.header.creator), "")


def _server_kind(spaces: OverlaidSpaces, rseg_array_seen: bool, root: Path) -> str:
    """mysql or mariadb, from the files: an RSEG array or a version on page 0 (MySQL 8), full_crc32 flags
    (MariaDB 10.4+), else the creator named in the redo log header (MySQL 5.7 / MariaDB)."""
    if rseg_array_seen:
        return "mysql"
    system = spaces.get(0)
    if system is not None and system.flags is not None and system.flags.full_crc32:
        return "mariadb"
    if system is not None and mysql_server_version(FilHeader.from_bytes(system.page(0)).prev):
        return "mysql"
    creator = _redo_creator(root)
    if creator.startswith("MySQL"):
        return "mysql"
    return "mariadb" if creator.startswith(("MariaDB", "Backup")) or system is not None else "unknown"


def _rseg_slots(spaces: OverlaidSpaces, only: int | None, problems: list[str]) -> tuple[list[RsegSlot], bool]:
    slots: list[RsegSlot] = []
    system = spaces.get(0)
    if system is not None and system.page_count > FSP_TRX_SYS_PAGE_NO:
        page = system.page(FSP_TRX_SYS_PAGE_NO)
        if FilHeader.from_bytes(page).page_type != U.FIL_PAGE_TYPE_TRX_SYS:
            problems.append(f"{system.path.name}: page 5 is not the TRX_SYS page")
        else:
            slots += [s for s in trx_sys_rseg_slots(page) if only is None or s.space_id == only]
    seen_array = False
    for space_id in sorted(spaces.paths):
        if space_id == 0 or (only is not None and space_id != only):
            continue
        ts = spaces.get(space_id)
        if ts is None or ts.page_count <= U.FSP_RSEG_ARRAY_PAGE_NO:
            continue
        page = ts.page(U.FSP_RSEG_ARRAY_PAGE_NO)
        if FilHeader.from_bytes(page).page_type != U.FIL_PAGE_TYPE_RSEG_ARRAY:
            continue
        array = RsegArrayHeader.from_page(page)
        seen_array = True
        if not array.valid:
            problems.append(f"{ts.path.name}: RSEG array version 0x{array.version:x} is not 0x"
                            f"{U.RSEG_ARRAY_VERSION:x}")
            continue
        slots += [RsegSlot("rseg_array", n, space_id, p) for n, p in enumerate(array.pages)]
    return slots, seen_array


def _read_rseg(spaces: OverlaidSpaces, slot: RsegSlot) -> tuple[RollbackSegment, list[UndoSegment]]:
    ts = spaces.get(slot.space_id)
    rseg = RollbackSegment(slot.source, slot.slot, slot.space_id, slot.page_no,
                           spaces.relative(slot.space_id) if ts else None)
    if ts is None:
        rseg.problems.append(f"no tablespace file with space id {slot.space_id} (rollback segment"
                             f" {slot.space_id}:{slot.page_no})")
        return rseg, []
    try:
        header = RsegHeader.from_page(ts.page(slot.page_no), ts.physical_page_size)
    except DataError as exc:
        rseg.problems.append(str(exc))
        return rseg, []
    rseg.history_size, rseg.history_length = header.history_size, header.history.length
    rseg.undo_slots_used, rseg.max_trx_no_or_id = len(header.undo_slots), header.max_trx_no_or_id
    name = f"{slot.space_id}:{slot.page_no}"
    segments = []
    for n, page_no in header.undo_slots:
        try:
            segments.append(read_segment(ts, page_no, name, n))
        except DataError as exc:
            rseg.problems.append(f"undo slot {n}: {exc}")
    return rseg, segments


def _transactions(segments: list[UndoSegment], server: str) -> list[RecoveredTransaction]:
    by_trx: dict[int, list[UndoSegment]] = {}
    for seg in segments:
        if seg.header is None or seg.state == U.TRX_UNDO_CACHED:
            continue
        if server == "mariadb" and seg.state not in (U.TRX_UNDO_ACTIVE, *U.PREPARED_STATES):
            continue
        by_trx.setdefault(seg.header.trx_id, []).append(seg)
    out = []
    for trx_id, group in sorted(by_trx.items()):
        states = {s.state for s in group}
        state = ("active" if U.TRX_UNDO_ACTIVE in states
                 else "prepared" if states & U.PREPARED_STATES else "committed")
        xid = next((s.header.xid for s in group if s.header and s.header.xid), None)
        tables: dict[int, None] = {}
        for s in group:
            tables.update(dict.fromkeys(s.table_ids))
        out.append(RecoveredTransaction(
            trx_id, state, max(s.row_operations for s in group), sum(s.records for s in group), list(tables), xid,
            bool(states & {U.TRX_UNDO_PREPARED_IN_TC, U.TRX_UNDO_PREPARED_80028}) and server == "mysql",
            [f"{s.space_id}:{s.page_no}" for s in group]))
    return out


def read_undo(path: str | Path, apply_redo: bool = True) -> UndoReport:
    """The rollback segments, undo segments and resurrected transactions of a data directory or one file.

    For a data directory with a MariaDB 10.8+ or MySQL 8.0.30+ redo log, the log from the checkpoint is applied to
    the undo and system pages in memory first (as recovery does before it reads them); other logs are only
    measured."""
    given = Path(path)
    if not given.exists():
        raise InputNotFoundError(f"{given}: no such file or directory")
    root = given if given.is_dir() else given.parent
    only = None
    if given.is_file():
        with TablespaceFile(given) as ts:
            only = ts.fsp_header.space_id if ts.fsp_header else None
    spaces = SpaceIndex(root)
    try:
        view = redo_view(root, spaces) if apply_redo and given.is_dir() and spaces.paths else None
        source = OverlaidSpaces(spaces, view.overlay if view else None)
        report = _read(root, source, only)
        report.redo = view
        name_tables(report)
        return report
    finally:
        spaces.close()


def _read(root: Path, spaces: OverlaidSpaces, only: int | None) -> UndoReport:
    problems: list[str] = []
    if not spaces.paths:
        raise InputNotFoundError(f"{root}: no tablespace files (ibdata1, undo tablespaces) to read")
    slots, seen_array = _rseg_slots(spaces, only, problems)
    if not slots and not problems:
        where = "this file" if only is not None else str(root)
        raise DataError(f"{where}: no rollback segments found (no TRX_SYS page and no undo tablespace)")
    server = _server_kind(spaces, seen_array, root)
    rsegs, segments = [], []
    for slot in slots:
        rseg, found = _read_rseg(spaces, slot)
        rsegs.append(rseg)
        segments += found
        problems += rseg.problems
    problems += [f"undo segment {s.space_id}:{s.page_no}: {p}" for s in segments for p in s.problems
                 if s.state != U.TRX_UNDO_CACHED]
    used = sorted({r.space_id for r in rsegs if r.file})
    files = [spaces.relative(sid) for sid in used]
    first = spaces.get(used[0]) if used else None
    page_size = first.physical_page_size if first else 0
    return UndoReport(root, server, page_size, files, rsegs, segments, _transactions(segments, server), problems)


def name_tables(report: UndoReport) -> None:
    """The names of the tables the transactions changed: from the SDI of MySQL's .ibd files, or from the InnoDB
    dictionary (SYS_TABLES) in MariaDB's system tablespace."""
    wanted = {i for t in report.transactions for i in t.table_ids}
    if not wanted:
        return
    if report.server == "mysql":
        names, notes = table_names(sorted(report.root.rglob("*.ibd")), wanted)
    else:
        names, notes = _dictionary_names(report.root / "ibdata1")
    report.notes += notes
    for trx in report.transactions:
        trx.tables = [names.get(i, f"table id {i}") for i in trx.table_ids]


def _dictionary_names(system: Path) -> tuple[dict[int, str], list[str]]:
    try:
        with TablespaceFile(system) as ts:
            return table_ids_from_dictionary(ts), []
    except MysqlInspectError as exc:
        return {}, [f"table names: {exc}"]
