"""The redo log's part in the offline undo view: the undo and system pages as recovery leaves them.

MariaDB 10.8+ logs (redo.page_apply) and MySQL 8.0.30+ logs (redo.mysql_apply) are applied to those pages in
memory; for other formats the bytes still to apply are only measured, and the view reads the pages as they are
on disk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from mysqlinspect.errors import MysqlInspectError
from mysqlinspect.innodb.files.dblwr_sources import SpaceIndex
from mysqlinspect.innodb.files.filekinds import classify_file
from mysqlinspect.innodb.pages.reader import TablespaceFile
from mysqlinspect.innodb.pages.structs import FspFlags, FspHeader
from mysqlinspect.redo import layout as RL
from mysqlinspect.redo.files import RedoFileReport
from mysqlinspect.redo.mariadb.apply import PageOverlay, apply_mariadb_redo
from mysqlinspect.redo.mysql.apply import apply_mysql_redo
from mysqlinspect.redo.mysql.stream import StreamReadError
from mysqlinspect.redo.recovery import RecoveryPreview, block_layout_for, preview_recovery

ReadPage = Callable[[int, int], "bytes | None"]


class PageSource(Protocol):
    """What the undo walk reads pages from: a tablespace file, or one with the log's pages in front."""

    path: Path
    physical_page_size: int
    page_count: int

    @property
    def fsp_header(self) -> FspHeader | None: ...

    @property
    def flags(self) -> FspFlags | None: ...

    def page(self, page_no: int) -> memoryview: ...


@dataclass
class RedoView:
    bytes_to_apply: int
    applied: bool  # the log was applied to the undo and system pages
    overlay: PageOverlay | None
    note: str | None

    def to_dict(self) -> dict[str, Any]:
        ov = self.overlay
        return {"bytes_to_apply": self.bytes_to_apply, "applied": self.applied,
                "records_applied": ov.records_applied if ov else 0, "pages_rebuilt": ov.pages_rebuilt if ov else 0,
                "note": self.note}


def _undo_space_ids(spaces: SpaceIndex) -> set[int]:
    return {0} | {sid for sid, path in spaces.paths.items() if classify_file(path) == "undo"}


def redo_view(root: Path, spaces: SpaceIndex) -> RedoView | None:
    try:
        preview = preview_recovery(root)
    except MysqlInspectError:
        return None
    if not preview.ok or not preview.bytes_to_apply or preview.checkpoint is None or preview.end_lsn is None:
        return None
    holder = next((f for f in preview.file_set.files if f.path == preview.checkpoint.path), None)
    fmt = preview.format
    if holder is None or holder.header is None or fmt is None:
        return None
    mysql = fmt.base == RL.FORMAT_8_0_30
    if fmt.layout is not RL.Layout.MTR and not mysql:
        return RedoView(preview.bytes_to_apply, False, None,
                        f"{preview.bytes_to_apply:,} bytes of redo are not applied (only MariaDB 10.8+ and MySQL"
                        " 8.0.30+ logs are): undo pages changed after the last page flush are read as they are on"
                        " disk")
    if holder.header.encryption.encrypted:
        return RedoView(preview.bytes_to_apply, False, None, "the redo log is encrypted: it is not applied")
    wanted = _undo_space_ids(spaces)
    page_size = next((ts.physical_page_size for sid in sorted(wanted) if (ts := spaces.get(sid))), 16384)

    def read_page(space_id: int, page_no: int) -> bytes | None:
        ts = spaces.get(space_id)
        if ts is None or page_no >= ts.page_count:
            return None
        return bytes(ts.page(page_no))

    if mysql:
        return _mysql_view(preview, holder, page_size, wanted.__contains__, read_page)
    overlay = apply_mariadb_redo(holder.path, holder.header.start_lsn, False, preview.checkpoint.lsn,
                                 preview.end_lsn, page_size, wanted.__contains__, read_page)
    return RedoView(preview.bytes_to_apply, True, overlay, None)


def _mysql_view(preview: RecoveryPreview, holder: RedoFileReport, page_size: int, wanted: Callable[[int], bool],
                read_page: ReadPage) -> RedoView:
    """MySQL 8.0.30+: the whole mini-transactions up to the end of the log; a record not read here stops the
    walk, and the pages are those of the last mini-transaction before it (a note says so)."""
    assert preview.checkpoint is not None and preview.end_lsn is not None and preview.bytes_to_apply is not None
    layout = block_layout_for(preview.file_set, holder, preview.checkpoint)
    try:
        result = apply_mysql_redo(layout, preview.checkpoint.lsn, preview.end_lsn, page_size, wanted, read_page)
    except StreamReadError as exc:
        return RedoView(preview.bytes_to_apply, False, None, f"the redo log could not be read ({exc}): it is not"
                                                            " applied")
    walk = result.walk
    if walk.complete:
        return RedoView(preview.bytes_to_apply, True, result.overlay, None)
    return RedoView(preview.bytes_to_apply, False, result.overlay,
                    f"redo applied only up to LSN {walk.recovered_lsn:,} of {preview.end_lsn:,}: {walk.note}; undo"
                    " pages changed after it are read as they were then")


class OverlaidTablespace:
    """A tablespace file whose pages changed by the log come from the overlay."""

    def __init__(self, ts: TablespaceFile, space_id: int, overlay: PageOverlay) -> None:
        self.ts, self.space_id, self.overlay = ts, space_id, overlay
        self.path = ts.path
        self.physical_page_size = ts.physical_page_size
        extra = [p for (s, p) in overlay.pages if s == space_id]
        self.page_count = max([ts.page_count, *[p + 1 for p in extra]])

    @property
    def fsp_header(self) -> FspHeader | None:
        return self.ts.fsp_header

    @property
    def flags(self) -> FspFlags | None:
        return self.ts.flags

    def page(self, page_no: int) -> memoryview:
        image = self.overlay.image(self.space_id, page_no)
        if image is not None:
            return memoryview(image)
        return self.ts.page(page_no)


class OverlaidSpaces:
    """SpaceIndex with the overlay in front (the same `get`, `relative`, `paths`)."""

    def __init__(self, spaces: SpaceIndex, overlay: PageOverlay | None) -> None:
        self.spaces, self.overlay = spaces, overlay
        self.paths = spaces.paths

    def get(self, space_id: int) -> PageSource | None:
        ts = self.spaces.get(space_id)
        if ts is None or self.overlay is None:
            return ts
        return OverlaidTablespace(ts, space_id, self.overlay)

    def relative(self, space_id: int) -> str:
        return self.spaces.relative(space_id)
