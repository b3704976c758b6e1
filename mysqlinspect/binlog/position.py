"""Binlog coordinates: (file, position) ordered across files by the file's sequence number."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_SEQ = re.compile(r"\.(\d+)$")


@functools.lru_cache(maxsize=1024)  # positions compare per event: a range names a few files
def file_sequence(name: str) -> int:
    """binlog.000123 -> 123 (0 when the name has no numeric extension)."""
    match = _SEQ.search(name)
    return int(match.group(1)) if match else 0


@dataclass(frozen=True, order=False)
class BinlogPosition:
    """A point in the binary log: the start of the event at `pos` in `file`."""

    file: str
    pos: int

    @property
    def key(self) -> tuple[int, int]:
        return file_sequence(self.file), self.pos

    def __lt__(self, other: BinlogPosition) -> bool:
        return self.key < other.key

    def __le__(self, other: BinlogPosition) -> bool:
        return self.key <= other.key

    def __gt__(self, other: BinlogPosition) -> bool:
        return self.key > other.key

    def __ge__(self, other: BinlogPosition) -> bool:
        return self.key >= other.key

    def __str__(self) -> str:
        return f"{self.file}:{self.pos}"

    def to_dict(self) -> dict[str, object]:
        return {"file": self.file, "pos": self.pos}


FIRST_EVENT_POS = 4
