"""`--checkpoint` on local files: the server path's checkpoint file (read/checkpoint.py), resumed on files.

The checkpoint holds the position after the last transaction read (file + position), the GTIDs read and how many
transactions; a run resumes after it with nothing lost or repeated (tail writes the output first, then the
checkpoint, as from a server). A checkpoint of another flavor, or naming a file not among those read, is refused.
"""

from __future__ import annotations

from pathlib import Path

from mysqlinspect.binlog.model import Transaction
from mysqlinspect.binlog.position import BinlogPosition
from mysqlinspect.binlog.read.checkpoint import Checkpoint, CheckpointWriter, read_checkpoint
from mysqlinspect.binlog.read.local.transactions import FileTransactions
from mysqlinspect.binlog.source.files import display_name
from mysqlinspect.binlog.source.local_summary import read_head
from mysqlinspect.errors import DataError, MysqlInspectError


class FileCheckpoint:
    """Resume `reader` from the checkpoint at `path` (if it exists) and record transactions into it."""

    def __init__(self, path: str | Path, reader: FileTransactions) -> None:
        self.path = str(path)
        flavor = read_head(reader.all_files[0]).flavor
        self.resumed_from = read_checkpoint(path)
        if self.resumed_from is not None:
            _check(self.resumed_from, self.path, flavor, reader)
            reader.resume_from(self.resumed_from.position)
        first = reader.source.files[0] if reader.source.files else reader.all_files[0]
        pos = reader.range.start.pos
        state = self.resumed_from or Checkpoint(file=display_name(first), pos=pos, gtid_set="", flavor=flavor,
                                                transactions=0)
        self.writer = CheckpointWriter(path, state)
        self.writer.flush()

    def record(self, txn: Transaction, flush: bool = True) -> None:
        """Move past `txn` (after its output is written; `flush=False` for a dropped one: saved with the next)."""
        self.record_end(txn.end_file, txn.end_pos, txn.gtid, flush)

    def record_end(self, end_file: str, end_pos: int, gtid: str | None, flush: bool = True) -> None:
        """record() of a transaction known by its end and GTID (read in another process)."""
        writer = self.writer
        writer.record(BinlogPosition(end_file, end_pos), gtid, writer.state.transactions + 1, flush)

    def close(self) -> None:
        self.writer.flush()


def _check(saved: Checkpoint, path: str, flavor: str, reader: FileTransactions) -> None:
    if saved.flavor != flavor:
        raise DataError(f"{path}: the checkpoint was written for {saved.flavor} binlogs, these are {flavor}")
    names = [display_name(p) for p in reader.all_files]
    if saved.file not in names:
        raise DataError(f"{path}: the checkpoint is at {saved.file}:{saved.pos}, which is not among the files "
                        f"read ({', '.join(names)}); use another --checkpoint file")
    try:
        saved.gtids()
    except MysqlInspectError as exc:
        raise DataError(f"{path}: the checkpoint's GTID set is not valid: {exc}") from exc
