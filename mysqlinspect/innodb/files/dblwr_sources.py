"""Where doublewrite copies are read from: `#ib_<ps>_<n>.dblwr` files or the ibdata1 area, and the tablespace
files of a data directory by space id (to check each copy in its tablespace's format and compare it)."""

from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

from mysqlinspect.crc import crc32c
from mysqlinspect.errors import DataError, InputNotFoundError
from mysqlinspect.innodb.files.filekinds import tablespace_files
from mysqlinspect.innodb.pages import layout as L
from mysqlinspect.innodb.pages.checksum import zeros
from mysqlinspect.innodb.pages.reader import TablespaceFile, flags_from_head, open_read_only, read_head
from mysqlinspect.innodb.pages.structs import DoublewriteHeader, FspHeader

DBLWR_NAME = re.compile(r"^#ib_(\d+)_(\d+)\.dblwr$")
BDBLWR_NAME = re.compile(r"^#ib_(\d+)_(\d+)\.bdblwr$")
# The reduced file of innodb_doublewrite=DETECT_ONLY (buf0dblwr.h): 8 KiB pages, a 20-byte header (batch id,
# CRC-32C of the data area, data length, batch type, 9 unused bytes), then 16-byte entries (space id, page no, LSN).
REDUCED_BATCH_PAGE_SIZE = 8192
REDUCED_HEADER = struct.Struct(">IIHB")
REDUCED_HEADER_SIZE = 20
REDUCED_ENTRY = struct.Struct(">IIQ")


@dataclass
class Slot:
    source: str
    slot: int
    image: bytes


class SpaceIndex:
    """Tablespace files of the data directory by space id, opened on first use."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.paths: dict[int, Path] = {}
        self.open: dict[int, TablespaceFile] = {}
        for path in tablespace_files(root):
            if path.name.startswith("ibdata") and path.name != "ibdata1":
                continue
            try:
                head = read_head(path, L.UNIV_PAGE_SIZE_MIN)
            except OSError:
                continue
            if flags_from_head(head) is not None:
                self.paths.setdefault(FspHeader.from_bytes(head).space_id, path)

    def get(self, space_id: int) -> TablespaceFile | None:
        if space_id not in self.paths:
            return None
        if space_id not in self.open:
            self.open[space_id] = TablespaceFile(self.paths[space_id])
        return self.open[space_id]

    def relative(self, space_id: int) -> str:
        return self.paths[space_id].relative_to(self.root).as_posix()

    def close(self) -> None:
        for ts in self.open.values():
            ts.close()


def read_dblwr_file(path: Path, page_size: int) -> list[Slot]:
    fd = open_read_only(path)
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 22):
            chunks.append(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    zero = zeros(page_size)
    return [Slot(path.name, n, data[n * page_size:(n + 1) * page_size])
            for n in range(len(data) // page_size) if data[n * page_size:(n + 1) * page_size] != zero]


def dblwr_files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted((p for p in path.iterdir() if DBLWR_NAME.match(p.name)),
                            key=lambda p: int(DBLWR_NAME.match(p.name).group(2)))  # type: ignore[union-attr]
        elif DBLWR_NAME.match(path.name):
            found.append(path)
    return found


def system_area(system: TablespaceFile) -> tuple[list[Slot], int]:
    header = DoublewriteHeader.from_page(system.page(L.FSP_TRX_SYS_PAGE_NO), system.physical_page_size)
    if not header.present:
        return [], 0
    slots: list[Slot] = []
    count = 0
    zero = zeros(system.physical_page_size)
    for block in header.page_ranges(system.physical_page_size):
        for page_no in block:
            if page_no >= system.page_count:
                continue
            image = bytes(system.page(page_no))
            if image != zero:
                slots.append(Slot(system.path.name, count, image))
            count += 1
    return slots, count


@dataclass(frozen=True)
class ReducedEntry:
    """A page written in DETECT_ONLY mode: only its id and LSN are in the doublewrite buffer, not a copy."""

    source: str
    batch_page: int
    space_id: int
    page_no: int
    lsn: int


def read_reduced_file(path: Path) -> tuple[list[ReducedEntry], list[str]]:
    """The entries of a `.bdblwr` file; pages whose checksum fails are left out with a note."""
    with open(path, "rb") as fh:
        data = fh.read()
    entries: list[ReducedEntry] = []
    notes: list[str] = []
    for n in range(len(data) // REDUCED_BATCH_PAGE_SIZE):
        page = data[n * REDUCED_BATCH_PAGE_SIZE:(n + 1) * REDUCED_BATCH_PAGE_SIZE]
        _batch, checksum, length, _kind = REDUCED_HEADER.unpack_from(page)
        if not any(page):
            continue
        body = page[REDUCED_HEADER_SIZE:REDUCED_HEADER_SIZE + length]
        if length > len(page) - REDUCED_HEADER_SIZE or crc32c(body) != checksum:
            notes.append(f"{path.name}: reduced page {n} fails its checksum: its entries are not read")
            continue
        entries += [ReducedEntry(path.name, n, *REDUCED_ENTRY.unpack_from(body, at))
                    for at in range(0, length - length % REDUCED_ENTRY.size, REDUCED_ENTRY.size)]
    return entries, notes


def reduced_files(paths: list[Path]) -> list[Path]:
    folders = {p if p.is_dir() else p.parent for p in paths}
    return sorted(p for folder in folders for p in folder.iterdir() if BDBLWR_NAME.match(p.name))


@dataclass
class BufferContents:
    layout: str  # "dblwr_files" or "system_tablespace"
    sources: list[str]
    page_size: int
    slot_count: int
    slots: list[Slot]  # the slots that are not all zero
    notes: list[str] = field(default_factory=list)
    reduced: list[ReducedEntry] = field(default_factory=list)  # DETECT_ONLY entries (MySQL 8.0.30+ .bdblwr)


def _nothing_to_read(given: list[Path], root: Path) -> str:
    """The error naming what the user gave (not the directory derived from it, "." for a bare file name)."""
    files = [p for p in given if not p.is_dir()]
    if not files:
        return f"{', '.join(map(str, given))}: no .dblwr files and no system tablespace (ibdata1) to read"
    where = f"in {root}" if root not in (p.parent for p in files) else "beside it"
    return f"{files[0]}: not a doublewrite file (#ib_<page size>_<n>.dblwr) and no system tablespace (ibdata1) {where}"


def read_buffer(given: list[Path], spaces: SpaceIndex, root: Path) -> BufferContents:
    """The .dblwr files among (or in) `given`, else the doublewrite area of the system tablespace."""
    files = dblwr_files(given)
    if files:
        page_size = int(DBLWR_NAME.match(files[0].name).group(1))  # type: ignore[union-attr]
        if page_size not in L.PAGE_SIZES:
            raise DataError(f"{files[0]}: {page_size} (from the file name) is not an InnoDB page size")
        slots = [slot for path in files for slot in read_dblwr_file(path, page_size)]
        sizes = {path: path.stat().st_size for path in files}
        notes = [f"{path.name}: {size % page_size} bytes after the last whole {page_size}-byte slot (a truncated "
                 "copy?); they are not read" for path, size in sizes.items() if size % page_size]
        found = BufferContents("dblwr_files", [p.name for p in files], page_size,
                               sum(size // page_size for size in sizes.values()), slots, notes)
        for path in reduced_files(files):
            entries, bad = read_reduced_file(path)
            found.sources.append(path.name)
            found.reduced += entries
            found.notes += bad
        return found
    system = spaces.get(0)
    if system is None:
        raise InputNotFoundError(_nothing_to_read(given, root))
    slots, total = system_area(system)
    if not total:
        raise DataError(f"{system.path}: no doublewrite buffer (no magic on the TRX_SYS page)")
    return BufferContents("system_tablespace", [system.path.name], system.physical_page_size, total, slots)
