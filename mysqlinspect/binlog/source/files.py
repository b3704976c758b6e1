"""Which local binlog files to read, in which order, and their bytes (gzip/zstd copies read transparently).

A directory is ordered by its `.index` file (one path per line, oldest first, as the server wrote it); without
one, by the sequence number of `<basename>.NNNNNN` files. Compressed copies (`binlog.000042.gz`, `.zst`, made by
backup tools) are recognised by their magic bytes and decompressed to an anonymous temporary file, so a large
binlog never has to fit in memory. Files are opened read-only: a byte read is never modified.
"""

from __future__ import annotations

import gzip
import mmap
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from mysqlinspect.errors import DataError, FileAccessError, InputNotFoundError, UsageError

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
COMPRESSED_SUFFIXES = (".gz", ".zst")
_SEQUENCE_RE = re.compile(r"^(?P<base>.+)\.(?P<seq>\d{6,})(?:\.gz|\.zst)?$")


def display_name(path: Path) -> str:
    """The binlog file name as the server knows it: `binlog.000042` for `/backups/binlog.000042.zst`."""
    name = path.name
    for suffix in COMPRESSED_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def resolve_inputs(paths: list[str]) -> list[Path]:
    """The files to read, in order: files as given, directories expanded by their index or sequence numbers."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise InputNotFoundError(f"{raw}: no such file or directory")
        out.extend(directory_files(path) if path.is_dir() else [path])
    return out


def directory_files(directory: Path) -> list[Path]:
    indexes = sorted(directory.glob("*.index"))
    if len(indexes) > 1:
        names = ", ".join(p.name for p in indexes)
        raise UsageError(f"{directory}: several index files ({names}); name the files or the index's binlogs")
    if indexes:
        return indexed_files(indexes[0])
    return numbered_files(directory)


def indexed_files(index: Path) -> list[Path]:
    """Files named by an index, found next to it (the index may hold the server's own absolute or ./ paths)."""
    files: list[Path] = []
    for line in index.read_text(errors="replace").splitlines():
        name = Path(line.strip()).name
        if not name:
            continue
        found = _existing_copy(index.parent / name)
        if found is None:
            raise InputNotFoundError(f"{index}: lists {name}, which is not in {index.parent}")
        files.append(found)
    if not files:
        raise InputNotFoundError(f"{index}: the index names no binlog files")
    return files


def _existing_copy(path: Path) -> Path | None:
    for candidate in (path, *(path.with_name(path.name + s) for s in COMPRESSED_SUFFIXES)):
        if candidate.is_file():
            return candidate
    return None


def numbered_files(directory: Path) -> list[Path]:
    groups: dict[str, list[tuple[int, Path]]] = {}
    for path in directory.iterdir():
        match = _SEQUENCE_RE.match(path.name)
        if match and path.is_file():
            groups.setdefault(match["base"], []).append((int(match["seq"]), path))
    if not groups:
        raise InputNotFoundError(f"{directory}: no binlog files (<basename>.NNNNNN) and no .index file")
    if len(groups) > 1:
        raise UsageError(f"{directory}: binlogs of several basenames ({', '.join(sorted(groups))}); name the files")
    return [p for _, p in sorted(next(iter(groups.values())))]


def sequence_gaps(files: list[Path]) -> list[str]:
    """The file names missing from a run of `<basename>.NNNNNN` files read in order (a file not copied, or
    purged in between): reading on past a gap would silently skip its transactions."""
    missing: list[str] = []
    previous: tuple[str, int, int] | None = None
    for path in files:
        match = _SEQUENCE_RE.match(path.name)
        if match is None:
            previous = None
            continue
        base, seq, width = match["base"], int(match["seq"]), len(match["seq"])
        if previous is not None and previous[0] == base and seq > previous[1] + 1:
            missing += [f"{base}.{n:0{width}d}" for n in range(previous[1] + 1, min(seq, previous[1] + 11))]
            if seq - previous[1] - 1 > 10:
                missing.append(f"... ({seq - previous[1] - 1} files in all)")
        previous = (base, seq, width)
    return missing


def head_bytes(path: Path, size: int) -> bytes:
    """The first `size` bytes of a file's uncompressed content (fewer when it is shorter or its copy is cut),
    without decompressing the rest: for a file's first events (Format_description, Previous_gtids)."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise InputNotFoundError(f"{path}: cannot open: {exc.strerror}") from exc
    with fh:
        magic = fh.read(4)
        fh.seek(0)
        if magic == ZSTD_MAGIC:
            import zstandard

            with zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True) as reader:
                return _read_up_to(reader.read, size, path)
        if magic.startswith(GZIP_MAGIC):
            with gzip.GzipFile(fileobj=fh) as gz:
                return _read_up_to(gz.read, size, path)
        return fh.read(size)


def _read_up_to(read: Callable[[int], bytes], size: int, path: Path) -> bytes:
    """Up to `size` decompressed bytes; a copy cut short gives what decompressed, as open_bytes does."""
    parts: list[bytes] = []
    left = size
    while left > 0:
        try:
            chunk = read(min(left, 1 << 13))
        except Exception as exc:  # OSError, EOFError, zstandard.ZstdError: a damaged or cut copy
            if not parts:
                raise DataError(f"{path}: cannot decompress: {exc}") from exc
            break
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


@contextmanager
def open_bytes(path: Path) -> Iterator[mmap.mmap | bytes]:
    """The uncompressed bytes of one file, memory-mapped read-only."""
    try:
        fh = path.open("rb")
    except PermissionError as exc:
        raise FileAccessError(f"{path}: cannot open: {exc.strerror}") from exc
    with fh:
        magic = fh.read(4)
        fh.seek(0)
        if magic.startswith(GZIP_MAGIC) or magic == ZSTD_MAGIC:
            with _decompressed(fh, path, magic) as data:
                yield data
            return
        if not magic:
            yield b""
            return
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            yield data


@contextmanager
def _decompressed(fh: IO[bytes], path: Path, magic: bytes) -> Iterator[mmap.mmap | bytes]:
    with tempfile.TemporaryFile() as tmp:
        try:
            if magic == ZSTD_MAGIC:
                import zstandard

                with zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True) as reader:
                    shutil.copyfileobj(reader, tmp, 1 << 20)
            else:
                with gzip.GzipFile(fileobj=fh) as reader:
                    shutil.copyfileobj(reader, tmp, 1 << 20)
        except (OSError, EOFError, ValueError) as exc:
            # a copy cut short: keep what decompressed; the event walk reports where valid data ends
            if tmp.tell() == 0:
                raise DataError(f"{path}: cannot decompress: {exc}") from exc
        except Exception as exc:  # zstandard.ZstdError
            if tmp.tell() == 0:
                raise DataError(f"{path}: cannot decompress: {exc}") from exc
        tmp.flush()
        if tmp.tell() == 0:
            yield b""
            return
        with mmap.mmap(tmp.fileno(), 0, access=mmap.ACCESS_READ) as data:
            yield data
