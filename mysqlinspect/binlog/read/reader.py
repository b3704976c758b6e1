"""The engine entry point for `tail`, `stats` and `replay`: a resolved range, read as filtered transactions.

    rng = resolve_range(conn, settings, spec, flavor, warn)
    reader = RangeReader(settings, rng, EventFilter.build(...), checkpoint_path=..., warn=...)
    with reader:
        for txn in reader.transactions():
            ...emit txn...
            reader.done(txn)       # after the output is written: records the checkpoint

`done()` is what makes resume exact: the checkpoint moves past a transaction only once it has been emitted.
Transactions that the range gate or the filters drop are recorded by the reader itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from mysqlinspect.binlog.decode.schema_fallback import SchemaLookup
from mysqlinspect.binlog.model import Transaction
from mysqlinspect.binlog.position import BinlogPosition
from mysqlinspect.binlog.read.checkpoint import Checkpoint, CheckpointWriter, read_checkpoint
from mysqlinspect.binlog.read.filters import EventFilter
from mysqlinspect.binlog.read.range import ResolvedRange
from mysqlinspect.binlog.read.server.stream import BinlogStream, StreamOptions
from mysqlinspect.binlog.source.server_files import check_file_available
from mysqlinspect.connection.settings import ConnectionSettings
from mysqlinspect.errors import DataError, MysqlInspectError


class RangeReader:
    """Reads a ResolvedRange as transactions: stream + range gate + filters + optional checkpoint."""

    def __init__(self, settings: ConnectionSettings, rng: ResolvedRange, event_filter: EventFilter | None = None, *,
                 options: StreamOptions | None = None, lookup: SchemaLookup | None = None,
                 warn: Callable[[str], None] | None = None, checkpoint_path: str | Path | None = None,
                 server_uuid: str | None = None) -> None:
        self.settings = settings
        self.range = rng
        self.filter = event_filter or EventFilter()
        self.warn = warn or (lambda message: None)
        self.gate = rng.gate()
        self.checkpoint: CheckpointWriter | None = None
        self.resumed_from: Checkpoint | None = None
        start, first_number, seen = rng.start, 1, None
        if checkpoint_path is not None:
            saved = read_checkpoint(checkpoint_path)
            if saved is not None:
                check_checkpoint_source(saved, str(checkpoint_path), rng, server_uuid)
                self.resumed_from = saved
                start, first_number, seen = saved.position, saved.transactions + 1, saved.gtids()
                self.gate.started = True  # a --gtid start was passed before the checkpoint was written
            state = saved or Checkpoint(file=start.file, pos=start.pos, gtid_set="", flavor=rng.flavor,
                                        transactions=0, server_uuid=server_uuid)
            self.checkpoint = CheckpointWriter(checkpoint_path, state)
            self.checkpoint.flush()
        self._held: list[tuple[BinlogPosition, str | None, int]] | None = None
        self.start = start
        self.stream = BinlogStream(settings, start, options=options or StreamOptions(blocking=rng.follow,
                                                                         read_timeout=60.0 if rng.follow else None),
                                   stop=rng.stop, lookup=lookup, warn=self.warn, seen_gtids=seen,
                                   first_transaction_number=first_number)

    def __enter__(self) -> RangeReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.stream.close()
        if self.checkpoint is not None:
            self.checkpoint.flush()

    @property
    def empty(self) -> bool:
        return self.resumed_from is None and self.range.empty

    def transactions(self) -> Iterator[Transaction]:
        """Admitted, filtered transactions; call done(txn) after emitting each."""
        if self.empty:
            return
        for txn in self.stream.transactions():
            if not txn.complete:
                continue
            admitted = self.gate.admit(txn)
            kept = self.filter.filter_transaction(txn) if admitted else None
            if kept is None:
                self._record(txn, flush=False)
            else:
                yield kept
            if self.gate.exhausted():
                return

    def done(self, txn: Transaction) -> None:
        """The transaction has been emitted: move the checkpoint past it."""
        self._record(txn)

    def hold_checkpoint(self) -> None:
        """Keep what done() records in memory (not even written on close) until release_checkpoint():
        for output that is only complete at the end (one JSON document)."""
        self._held = []

    def release_checkpoint(self) -> None:
        held, self._held = self._held or [], None
        if self.checkpoint is not None:
            for end, gtid, number in held:
                self.checkpoint.record(end, gtid, number, flush=False)
            self.checkpoint.flush()

    def _record(self, txn: Transaction, flush: bool = True) -> None:
        if self._held is not None:
            self._held.append((BinlogPosition(txn.end_file, txn.end_pos), txn.gtid, txn.number))
            return
        if self.checkpoint is not None:
            self.checkpoint.record(BinlogPosition(txn.end_file, txn.end_pos), txn.gtid, txn.number, flush=flush)


def check_checkpoint_source(saved: Checkpoint, path: str, rng: ResolvedRange, server_uuid: str | None) -> None:
    """Refuse a checkpoint written for another server: other flavor, other @@server_uuid (MySQL), or a position
    the server's files do not have. Resuming from it would skip or repeat transactions silently."""
    if saved.flavor != rng.flavor:
        raise DataError(f"{path}: the checkpoint was written for a {saved.flavor} server, this one is {rng.flavor}")
    if saved.server_uuid and server_uuid and saved.server_uuid != server_uuid:
        raise DataError(f"{path}: the checkpoint was written for the server {saved.server_uuid}, this one is "
                        f"{server_uuid}; use another --checkpoint file")
    check_file_available(rng.files, saved.file)
    size = next((f.size for f in rng.files if f.name == saved.file), None)
    if size is not None and saved.pos > size:
        raise DataError(f"{path}: the checkpoint position {saved.file}:{saved.pos} is past the end of that file "
                        f"({size} bytes): it was not written for this server")
    try:
        saved.gtids()
    except MysqlInspectError as exc:
        raise DataError(f"{path}: the checkpoint's GTID set is not valid: {exc}") from exc
