"""The engine entry point for `tail`, `stats` and `replay`: a resolved range, read as filtered transactions.

    rng = resolve_range(conn, settings, spec, flavor, warn)
    reader = RangeReader(settings, rng, EventFilter.build(...), checkpoint_path=..., warn=...)
    with reader:
        for txn in reader.transactions():
            ...emit txn...
            reader.done(txn)       # after the output is written: records the checkpoint

`done()` is what makes resume exact: the checkpoint moves past a transaction only once it has been emitted.
Transactions that the range gate or the filters drop are recorded by the reader itself. `rendered(render, jobs)`
gives the rendered transactions instead, decoded by several processes where that keeps the output the same
(read/server/parallel.py: a bounded range without a checkpoint).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from mysqlinspect.binlog.read.server.parallel import DumpChunks, ServerSelection


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
        self.lookup = lookup
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

    def rendered(self, render: Callable[[Transaction], Iterable[bytes]], jobs: int = 1,
                 chunk_bytes: int | None = None) -> Iterator[bytes]:
        """render(txn) of each transaction, in order (blocks of bytes), each one done() once rendered; with
        jobs > 1 and a range that allows it (`parallel_safe`), decoded by that many processes."""
        if jobs <= 1 or not self.parallel_safe:
            for txn in self.transactions():
                yield from render(txn)
                self.done(txn)
            return
        if self.empty:
            return
        from mysqlinspect.binlog.read.server.parallel import server_outputs

        selection, receiver = self._parallel_parts(jobs, chunk_bytes)
        yield from server_outputs(selection, receiver, render, jobs)

    @property
    def parallel_safe(self) -> bool:
        """Whether transactions may be decoded and selected in several processes: a bounded range read by the own
        decoder, without a checkpoint (it moves with each transaction's output), a --gtid start still to pass or an
        --include-gtids set to see whole (the gate's state must be kept in order)."""
        from mysqlinspect.innodb.pages import workers

        options = self.stream.options
        return (workers.AVAILABLE and self.checkpoint is None and not self.range.follow and options.decoder == "own"
                and (self.gate.start_gtid is None or self.gate.started) and self.gate.expected is None)

    def _parallel_parts(self, jobs: int, chunk_bytes: int | None) -> tuple[ServerSelection, DumpChunks]:
        from mysqlinspect.binlog.decode.schema_fallback import SchemaFallback
        from mysqlinspect.binlog.read.local.chunks import chunk_size
        from mysqlinspect.binlog.read.server.parallel import DumpChunks, ServerSelection

        schema = SchemaFallback(self.lookup, self.warn) if self.lookup is not None else None
        stream, options = self.stream, self.stream.options
        selection = ServerSelection(stream.stop, self.gate, self.filter, self.warn, schema)
        receiver = DumpChunks(self.settings, self.start, server_id=stream.server_id,
                              target=chunk_size(self._range_bytes(), jobs, chunk_bytes), stop=stream.stop.position,
                              verify_checksum=options.verify_checksum, retry=options.retry, schema=schema,
                              warn=self.warn)
        return selection, receiver

    def _range_bytes(self) -> int:
        """About how many bytes of binlog the range holds (the server's file sizes from its start)."""
        names = [f.name for f in self.range.files]
        first = names.index(self.start.file) if self.start.file in names else 0
        return max(sum(f.size for f in self.range.files[first:]) - self.start.pos, 0)

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
