"""Parse the text of SHOW ENGINE INNODB STATUS (LOG and TRANSACTIONS sections) into numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class InnodbLogSection:
    """LSNs as the LOG section prints them (MySQL 5.7-9.x and MariaDB 10.x-11.x spell them differently)."""

    current_lsn: int | None = None
    flushed_lsn: int | None = None
    pages_flushed_lsn: int | None = None
    checkpoint_lsn: int | None = None


_PATTERNS = {
    "current_lsn": r"Log sequence number\s+(\d+)",
    "flushed_lsn": r"Log flushed up to\s+(\d+)",
    "pages_flushed_lsn": r"Pages flushed up to\s+(\d+)",
    "checkpoint_lsn": r"Last checkpoint at\s+(\d+)",
}


def parse_log_section(text: str) -> InnodbLogSection:
    values: dict[str, int] = {}
    for name, pattern in _PATTERNS.items():
        match = re.search(pattern, text)
        if match:
            values[name] = int(match.group(1))
    return InnodbLogSection(**values)


def parse_history_list_length(text: str) -> int | None:
    match = re.search(r"History list length\s+(\d+)", text)
    return int(match.group(1)) if match else None
