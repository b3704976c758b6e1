"""The resume checkpoint: after each complete transaction, the position after it and the GTIDs read so far.

Written atomically: a temp file in the same directory, fsync, rename over the old one, fsync of the directory.
Order of operations in `tail`: the transaction's output is written and flushed, *then* the checkpoint, so a
process killed between the two re-emits at most that one transaction on restart (consumers can drop it by its
GTID); connection failures inside one run never re-emit anything (the stream resumes from memory).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mysqlinspect.binlog.position import BinlogPosition
from mysqlinspect.binlog.read.gtid import GtidSet
from mysqlinspect.errors import DataError, UsageError

CHECKPOINT_VERSION = 1


@dataclass
class Checkpoint:
    file: str
    pos: int
    gtid_set: str  # GTIDs of the transactions read (MySQL set / MariaDB domain-server-seq list)
    flavor: str
    transactions: int  # how many transactions were read (the next transaction number is this + 1)
    last_gtid: str | None = None
    server_uuid: str | None = None
    updated_at: float = 0.0

    @property
    def position(self) -> BinlogPosition:
        return BinlogPosition(self.file, self.pos)

    def gtids(self) -> GtidSet:
        return GtidSet.parse(self.gtid_set, self.flavor)

    def to_dict(self) -> dict[str, Any]:
        return {"version": CHECKPOINT_VERSION, "file": self.file, "pos": self.pos, "gtid_set": self.gtid_set,
                "flavor": self.flavor, "transactions": self.transactions, "last_gtid": self.last_gtid,
                "server_uuid": self.server_uuid, "updated_at": self.updated_at}

    @classmethod
    def from_dict(cls, data: dict[str, Any], path: str) -> Checkpoint:
        try:
            return cls(file=str(data["file"]), pos=int(data["pos"]), gtid_set=str(data.get("gtid_set") or ""),
                       flavor=str(data.get("flavor") or "mysql"), transactions=int(data.get("transactions") or 0),
                       last_gtid=data.get("last_gtid"), server_uuid=data.get("server_uuid"),
                       updated_at=float(data.get("updated_at") or 0.0))
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{path}: not a mysqlinspect binlog checkpoint ({exc})") from exc


def read_checkpoint(path: str | Path) -> Checkpoint | None:
    """The saved checkpoint, or None when the file does not exist yet."""
    p = Path(path)
    try:
        text = p.read_text()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise DataError(f"{p}: cannot read the checkpoint: {exc.strerror}") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise DataError(f"{p}: the checkpoint is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise DataError(f"{p}: not a mysqlinspect binlog checkpoint")
    return Checkpoint.from_dict(data, str(p))


def write_checkpoint(path: str | Path, checkpoint: Checkpoint) -> None:
    """Atomically replace the checkpoint file (temp + fsync + rename + directory fsync)."""
    checkpoint.updated_at = time.time()
    write_json_atomic(Path(path), checkpoint.to_dict())


def write_json_atomic(path: Path, payload: dict[str, Any]) -> None:
    """Replace `path` with `payload` as JSON: a temp sibling, fsync, rename over, fsync of the directory.
    A path that cannot be written (missing directory, permissions, full disk) is a UsageError naming it."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise UsageError(f"cannot write {path}: {exc.strerror}") from exc
        raise
    fsync_directory(directory)


def fsync_directory(directory: str | Path) -> None:
    """Make a rename in `directory` durable (best effort: some filesystems refuse a directory fsync)."""
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


class CheckpointWriter:
    """Keeps the running state and rewrites the file after each transaction (every `every` transactions)."""

    def __init__(self, path: str | Path, state: Checkpoint, every: int = 1) -> None:
        self.path = Path(path)
        self.state = state
        self.every = max(every, 1)
        self.gtids = state.gtids()
        self._pending = 0

    def record(self, end: BinlogPosition, gtid: str | None, number: int, flush: bool = True) -> None:
        self.state.file, self.state.pos = end.file, end.pos
        self.state.transactions = number
        if gtid:
            self.gtids.add_gtid(gtid)
            self.state.last_gtid = gtid
        self._pending += 1
        if flush and self._pending >= self.every:
            self.flush()

    def advance(self, end: BinlogPosition) -> None:
        """Move the position without a transaction (rotation, skipped transactions)."""
        self.state.file, self.state.pos = end.file, end.pos

    def flush(self) -> None:
        if self._pending or self.state.updated_at == 0.0:
            self.state.gtid_set = str(self.gtids)
            write_checkpoint(self.path, self.state)
            self._pending = 0
