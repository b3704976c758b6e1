"""Classify the files of a data directory by name (and the binlog magic), as innodb-pages.md §7 lists them.

A tablespace's final kind (file-per-table or general) is settled later from its FSP flags; here `.ibd` files
are "file_per_table" and system/undo/temporary files are told apart by their names.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

BINLOG_MAGIC = b"\xfebin"

TABLESPACE_KINDS = frozenset({"system", "file_per_table", "general", "dictionary", "undo", "temporary",
                              "session_temporary"})

_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), kind) for p, kind in (
    (r"^ibdata\d+$", "system"),
    (r"^ibtmp\d+$", "temporary"),
    (r"^mysql\.ibd$", "dictionary"),
    (r"^undo_?\d{3}$", "undo"),
    (r"\.ibu$", "undo"),
    (r"\.ibt$", "session_temporary"),
    (r"\.ibd$", "file_per_table"),
    (r"\.isl$", "tablespace_link"),
    (r"^#ib_\d+_\d+\.dblwr$", "doublewrite"),
    (r"^#ib_\d+_\d+\.bdblwr$", "doublewrite_reduced"),
    (r"^ib_logfile\d+$", "redo"),
    (r"^#ib_redo\d+$", "redo"),
    (r"^#ib_redo\d+_tmp$", "redo_spare"),
    (r"^undo_\d+_trunc\.log$", "undo_truncate_log"),
    (r"^auto\.cnf$", "auto_cnf"),
    (r"\.frm$", "frm"),
    (r"\.sdi$", "sdi"),
    (r"\.MYD$", "myisam_data"),
    (r"\.MYI$", "myisam_index"),
    (r"\.MAD$", "aria_data"),
    (r"\.MAI$", "aria_index"),
    (r"^aria_log\.\d+$", "aria_log"),
    (r"^aria_log_control$", "aria_control"),
    (r"\.CS[VM]$", "csv_table"),
    (r"\.cfg$", "export_metadata"),
    (r"\.cfp$", "export_key"),
    (r"^ib_buffer_pool$", "buffer_pool_dump"),
    (r"^ddl_recovery(-backup)?\.log$", "ddl_recovery_log"),
    (r"^tc\.log$", "tc_log"),
    (r"^db\.opt$", "db_options"),
    (r"\.pem$", "tls_key_or_certificate"),
    (r"-relay-bin\.index$", "relay_log_index"),
    (r"-relay-bin\.\d+$", "relay_log"),
    (r"\.index$", "binlog_index"),
    (r"\.state$", "binlog_gtid_state"),
    (r"^(multi-)?master\.info$|^relay-log\.info$", "replication_info"),
    (r"^mysql_upgrade_(info|history)$", "upgrade_marker"),
    (r"\.err$", "error_log"),
    (r"\.pid$", "pid_file"),
))


def kind_by_name(name: str) -> str | None:
    for pattern, kind in _RULES:
        if pattern.search(name):
            return kind
    return None


def has_binlog_magic(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == BINLOG_MAGIC
    except OSError:
        return False


def classify_file(path: Path) -> str:
    """The kind of one file: by name, then binlog magic for `<base>.NNNNNN`, else "other"."""
    kind = kind_by_name(path.name)
    if kind is not None:
        return kind
    if re.search(r"\.\d{6,}$", path.name) and has_binlog_magic(path):
        return "binlog"
    return "other"


def walk_files(root: Path) -> Iterator[Path]:
    """Every regular file under `root`, sorted, without following symbolic links to directories."""
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            if path.is_file():
                yield path


def tablespace_files(root: Path) -> list[Path]:
    """The tablespace files of a data directory (what `pages verify DIR` checks)."""
    return [p for p in walk_files(root) if classify_file(p) in TABLESPACE_KINDS]
