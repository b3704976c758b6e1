"""Find redo files: a file, an `#innodb_redo` directory or a data directory (ib_logfile*, #innodb_redo/#ib_redoN).

Files come back in log order: `ib_logfile0..99`, then `#ib_redoN` by N, then the `#ib_redoN_tmp` spares.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mysqlinspect.errors import FileAccessError, InputNotFoundError
from mysqlinspect.redo.layout import REDO_DIR_NAME

_LEGACY_RE = re.compile(r"^ib_logfile(\d+)$")
_REDO_RE = re.compile(r"^#ib_redo(\d+)(_tmp)?$")


@dataclass(frozen=True)
class FoundFile:
    path: Path
    role: str  # "log", "spare" (#ib_redoN_tmp) or "given" (named explicitly, not a recognised name)
    file_id: int | None
    ruleset: str  # "ib_logfile", "ib_redo" or "other"

    @property
    def name(self) -> str:
        return self.path.name


def classify(path: Path) -> FoundFile:
    name = path.name
    if match := _LEGACY_RE.match(name):
        return FoundFile(path, "log", int(match.group(1)), "ib_logfile")
    if match := _REDO_RE.match(name):
        return FoundFile(path, "spare" if match.group(2) else "log", int(match.group(1)), "ib_redo")
    return FoundFile(path, "given", None, "other")


def _sort_key(found: FoundFile) -> tuple[int, int, int, str]:
    order = {"ib_logfile": 0, "ib_redo": 1, "other": 2}[found.ruleset]
    return (order, 1 if found.role == "spare" else 0, found.file_id if found.file_id is not None else -1,
            str(found.path))


def files_in_directory(directory: Path) -> list[FoundFile]:
    """Redo files directly in `directory` and in its `#innodb_redo` subdirectory."""
    found: list[FoundFile] = []
    for folder in (directory, directory / REDO_DIR_NAME):
        try:
            entries = sorted(os.listdir(folder))
        except FileNotFoundError:
            continue
        except PermissionError as exc:
            raise FileAccessError(f"{folder}: cannot list the directory ({exc.strerror})") from exc
        except NotADirectoryError:
            continue
        for entry in entries:
            candidate = classify(folder / entry)
            if candidate.ruleset != "other" and (folder / entry).is_file():
                found.append(candidate)
    return sorted(found, key=_sort_key)


def discover_redo_files(paths: Sequence[str | Path]) -> tuple[list[FoundFile], list[str]]:
    """Every redo file named by `paths` plus a note per path that holds none.

    A named file that does not exist is kept (the reader reports it as not found) unless nothing else was
    found: InputNotFoundError (exit 66) is raised only when no path yields anything to read.
    """
    found: list[FoundFile] = []
    missing: list[FoundFile] = []
    notes: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            in_dir = files_in_directory(path)
            if not in_dir:
                notes.append(f"{path}: no redo log files (ib_logfile*, #innodb_redo/#ib_redo*) found")
            found.extend(in_dir)
        elif path.exists():
            found.append(classify(path))
        else:
            missing.append(classify(path))
            dangling = " (dangling symbolic link)" if path.is_symlink() else ""
            notes.append(f"{path}: no such file or directory{dangling}")
    if not found:
        raise InputNotFoundError("; ".join(notes) if notes else "no redo log files given")
    unique = {f.path.resolve(): f for f in found}
    return sorted(unique.values(), key=_sort_key) + missing, notes
