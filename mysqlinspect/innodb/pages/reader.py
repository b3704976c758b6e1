"""The one tablespace page reader: read-only mmap, page size from the FSP flags on page 0, pages by number.

Used by `pages verify`, `datadir` and `doublewrite` (and meant for offline undo and the recovery preview).
The file is opened O_RDONLY (O_NOATIME where allowed) and mapped with ACCESS_READ: no byte is ever written.
"""

from __future__ import annotations

import errno
import mmap
import os
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from types import TracebackType

from mysqlinspect.errors import DataError, FileAccessError, InputNotFoundError
from mysqlinspect.innodb.pages import layout as L
from mysqlinspect.innodb.pages.structs import FilHeader, FspFlags, FspHeader

_NOATIME = getattr(os, "O_NOATIME", 0)
READ_CHUNK = 4 << 20


def open_read_only(path: Path) -> int:
    """A read-only descriptor; O_NOATIME when the file is ours (it fails with EPERM otherwise)."""
    try:
        return os.open(path, os.O_RDONLY | _NOATIME)
    except PermissionError:
        if not _NOATIME:
            raise
        return os.open(path, os.O_RDONLY)


def missing_input(path: Path, what: str = "file or directory") -> InputNotFoundError | None:
    """The error for a path that cannot be followed (missing, dangling or looping symbolic link), else None."""
    try:
        os.stat(path)
    except FileNotFoundError:
        dangling = " (dangling symbolic link)" if path.is_symlink() else ""
        return InputNotFoundError(f"{path}: no such {what}{dangling}")
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return InputNotFoundError(f"{path}: symbolic link loop (too many levels of symbolic links)")
        return InputNotFoundError(f"{path}: cannot be read ({exc.strerror})")
    return None


def read_head(path: Path, size: int = L.UNIV_PAGE_SIZE_MAX) -> bytes:
    """The first `size` bytes of a file (fewer if it is shorter)."""
    fd = open_read_only(path)
    try:
        return os.pread(fd, size, 0)
    finally:
        os.close(fd)


def flags_from_head(head: bytes) -> FspFlags | None:
    """FSP flags of page 0 if the head looks like an FSP header page (type 8, space ids agree, flags valid)."""
    if len(head) < L.UNIV_PAGE_SIZE_MIN:
        return None
    header = FilHeader.from_bytes(head)
    fsp = FspHeader.from_bytes(head)
    if (header.page_no != 0 or header.page_type != L.FIL_PAGE_TYPE_FSP_HDR or fsp.space_id != header.space_id
            or not fsp.flags.valid):
        return None
    return fsp.flags


def foreign_hint(head: bytes) -> str:
    """What a file that is not a tablespace looks like, for the error message ("" when nothing obvious)."""
    if head.startswith(b"\xfebin"):
        return "; it is a binary log"
    if len(head) < L.UNIV_PAGE_SIZE_MIN:
        return f"; {len(head)} bytes, shorter than the smallest page ({L.UNIV_PAGE_SIZE_MIN})"
    if not any(head[:L.UNIV_PAGE_SIZE_MIN]):
        return "; the first 4 KiB are all zero"
    sample = head[:512]
    if all(32 <= b < 127 or b in (9, 10, 13) for b in sample):
        return "; it looks like a text file"
    return ""


class TablespaceFile:
    """One tablespace data file. `page_size` overrides detection (continuation ibdata files have no FSP header)."""

    def __init__(self, path: str | Path, page_size: int | None = None, zip_size: int = 0) -> None:
        self.path = Path(path)
        self._fd = -1
        self._map: mmap.mmap | None = None
        try:
            self._fd = open_read_only(self.path)
            self.size = os.fstat(self._fd).st_size
        except FileNotFoundError as exc:
            raise InputNotFoundError(f"{self.path}: no such file") from exc
        except PermissionError as exc:
            raise FileAccessError(f"{self.path}: cannot read ({exc.strerror})") from exc
        except IsADirectoryError as exc:
            raise InputNotFoundError(f"{self.path}: is a directory") from exc
        head = os.pread(self._fd, L.UNIV_PAGE_SIZE_MAX, 0)
        self.head = head
        self.flags = flags_from_head(head)
        if page_size is not None:
            self.flags = FspFlags(raw=0, layout="classic", valid=True, page_size=page_size, zip_size=zip_size)
        if self.flags is None:
            self.close()
            raise DataError(f"{self.path}: not a tablespace file or page 0 is damaged (no valid FSP flags"
                            f"{foreign_hint(head)})")
        self.physical_page_size = self.flags.physical_page_size
        self.page_count = self.size // self.physical_page_size
        if self.size:
            self._map = mmap.mmap(self._fd, 0, access=mmap.ACCESS_READ)

    def __enter__(self) -> TablespaceFile:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self._map is not None:
            try:
                self._map.close()
            except BufferError:  # a caller still holds a page view; the map is unmapped when it is dropped
                pass
            self._map = None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    @cached_property
    def fsp_header(self) -> FspHeader | None:
        """Page 0's FSP header, or None when the page size was given (a continuation file)."""
        return FspHeader.from_bytes(self.head) if flags_from_head(self.head) is not None else None

    @property
    def view(self) -> memoryview:
        """The whole file as a read-only memoryview (empty for an empty file)."""
        return memoryview(self._map) if self._map is not None else memoryview(b"")


    def page(self, page_no: int) -> memoryview:
        if not 0 <= page_no < self.page_count:
            raise DataError(f"{self.path}: page {page_no} is beyond the end of the file ({self.page_count} pages)")
        ps = self.physical_page_size
        return self.view[page_no * ps:(page_no + 1) * ps]

    def header(self, page_no: int) -> FilHeader:
        return FilHeader.from_bytes(self.page(page_no))

    def iter_chunks(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, int, memoryview]]:
        """(first page number, page count, view) over consecutive pages of the map, chunk by chunk. Each chunk
        is dropped from this process's memory once the caller moves on (MADV_DONTNEED on a read-only file map
        only unmaps; the page cache keeps the data), so memory stays small whatever the file size. Zero-copy: a
        view is only valid until the next chunk."""
        if self._map is None:
            return
        end = self.page_count if stop is None else min(stop, self.page_count)
        ps = self.physical_page_size
        per_chunk = max(1, READ_CHUNK // ps)
        whole = memoryview(self._map)
        drop = getattr(mmap, "MADV_DONTNEED", None)
        if hasattr(mmap, "MADV_SEQUENTIAL"):
            self._map.madvise(mmap.MADV_SEQUENTIAL)
        try:
            page_no = start
            while page_no < end:
                count = min(per_chunk, end - page_no)
                chunk = whole[page_no * ps:(page_no + count) * ps]
                try:
                    yield page_no, count, chunk
                finally:
                    chunk.release()
                if drop is not None:
                    self._map.madvise(drop, page_no * ps, count * ps)
                page_no += count
        finally:
            whole.release()

    def iter_pages(self, start: int = 0) -> Iterator[tuple[int, memoryview]]:
        """Every page from `start` (see iter_chunks: copy what you keep)."""
        ps = self.physical_page_size
        for first, count, view in self.iter_chunks(start):
            for i in range(count):
                yield first + i, view[i * ps:(i + 1) * ps]

    @property
    def trailing_bytes(self) -> int:
        """Bytes after the last whole page (a truncated copy)."""
        return self.size - self.page_count * self.physical_page_size
