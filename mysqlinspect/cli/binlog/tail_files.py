"""`mysqlinspect binlog tail FILE|DIR...`: the same output as from a server, read from local binlog files."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path

from mysqlinspect.binlog.model import Transaction
from mysqlinspect.binlog.read.filters import EventFilter
from mysqlinspect.binlog.read.local.checkpoint import FileCheckpoint
from mysqlinspect.binlog.read.local.chunks import ChunkRender, Cut
from mysqlinspect.binlog.read.local.transactions import FileTransactions, check_file_range
from mysqlinspect.binlog.read.range import RangeSpec
from mysqlinspect.binlog.replay.schema_lookup import InformationSchemaLookup
from mysqlinspect.binlog.source.files import sequence_gaps
from mysqlinspect.binlog.source.local import FileEnd
from mysqlinspect.cli.context import AppContext
from mysqlinspect.cli.interrupts import deferred_interrupts
from mysqlinspect.connection.settings import ConnectionSettings
from mysqlinspect.render.binlog.json import transaction_document
from mysqlinspect.render.binlog.jsonl import transaction_jsonl_parts


def tail_files(app: AppContext, files: tuple[str, ...], range_spec: RangeSpec, event_filter: EventFilter,
               fmt: str, all_events: bool, rows_only: bool, verify_checksum: bool, checkpoint: str | None,
               parallel: tuple[int, int | None] = (1, None), schema: ConnectionSettings | None = None) -> None:
    """`parallel`: (--jobs, bytes per chunk or None): --format jsonl without --checkpoint decodes in several
    processes (a checkpoint moves with each transaction's output, in this process). `schema`: the --schema-from
    server, for the names of tables logged without FULL row metadata."""
    check_file_range(range_spec)
    lookup = InformationSchemaLookup(schema) if schema is not None else None
    try:
        _tail(app, FileTransactions(files, range_spec, event_filter, verify_checksum=verify_checksum, warn=app.warn,
                                    lookup=lookup), fmt, all_events, rows_only, checkpoint, parallel)
    finally:
        if lookup is not None:
            lookup.close()


def _tail(app: AppContext, reader: FileTransactions, fmt: str, all_events: bool, rows_only: bool,
          checkpoint: str | None, parallel: tuple[int, int | None]) -> None:
    saved = FileCheckpoint(checkpoint, reader) if checkpoint else None
    if saved is not None and saved.resumed_from is not None:
        done = saved.resumed_from
        app.warn(f"resuming from checkpoint {checkpoint}: {done.file}:{done.pos} after {done.transactions} "
                 "transactions")
    if fmt == "json":
        _emit_document(app, reader, saved, all_events)
    elif fmt == "jsonl" and saved is None:
        _emit_jsonl(reader, all_events, rows_only, parallel)
    elif fmt == "jsonl" and saved is not None and parallel[0] > 1 and reader.parallel_safe:
        _emit_jsonl_checkpointed(reader, saved, all_events, rows_only, parallel)
    else:
        _emit_stream(app, reader, saved, fmt, all_events, rows_only)
    if saved is not None:
        saved.close()
    unmet = reader.unmet_start()
    if unmet:
        app.warn(unmet)
    warn_file_ends(app, reader.ends)


def _emit_document(app: AppContext, reader: FileTransactions, saved: FileCheckpoint | None, all_events: bool) -> None:
    """One JSON document: the checkpoint moves only once it is out."""
    read: list[tuple[Transaction, bool]] = []  # identities only (a large transaction's events stay on disk)
    reader.skipped = lambda txn: read.append((replace(txn, events=[]), False))
    docs = []
    for txn in reader:
        docs.append(transaction_document(txn, all_events))
        read.append((replace(txn, events=[]), True))
    app.emit_json({"files": [e.to_dict() for e in reader.ends], "transactions": docs,
                   "summary": {"transactions": len(docs), "rows": sum(d["rows"] for d in docs),
                               "size_bytes": sum(d["size_bytes"] for d in docs)}})
    if saved is not None:
        for txn, _ in read:
            saved.record(txn, flush=False)


def _emit_jsonl(reader: FileTransactions, all_events: bool, rows_only: bool, parallel: tuple[int, int | None]
                ) -> None:
    from mysqlinspect.cli.binlog.tail import write_jsonl_blocks

    render = partial(transaction_jsonl_parts, all_events=all_events, with_summary=not rows_only)
    jobs, chunk_bytes = parallel
    write_jsonl_blocks(sys.stdout, reader.rendered(render, jobs, chunk_bytes))


Mark = tuple[int, str, int, str | None, bool]  # output bytes up to its end, end file, end pos, GTID, written


class _MarkedJsonl(ChunkRender):
    """transaction_jsonl in a chunk, noting where each transaction read (skipped ones too) ends in the output."""

    def __init__(self, all_events: bool, rows_only: bool) -> None:
        self.all_events, self.rows_only = all_events, rows_only
        self.marks: list[Mark] = []
        self.written = 0

    def begin(self) -> None:
        self.marks, self.written = [], 0

    def state(self) -> list[Mark]:
        return self.marks

    def skipped(self, txn: Transaction) -> None:
        self.marks.append((self.written, txn.end_file, txn.end_pos, txn.gtid, False))

    def __call__(self, txn: Transaction) -> Iterator[bytes]:
        for part in transaction_jsonl_parts(txn, all_events=self.all_events, with_summary=not self.rows_only):
            self.written += len(part)
            yield part
        self.marks.append((self.written, txn.end_file, txn.end_pos, txn.gtid, True))


def _emit_jsonl_checkpointed(reader: FileTransactions, saved: FileCheckpoint, all_events: bool, rows_only: bool,
                             parallel: tuple[int, int | None]) -> None:
    """--jobs with --checkpoint: chunks decoded in several processes; each transaction's output is written and
    flushed, then the checkpoint moves past it, as in one process (Ctrl-C waits for the transaction's end)."""
    from mysqlinspect.cli.binlog.tail import write_jsonl_bytes

    out = sys.stdout

    def moved(mark: Mark) -> None:
        _, end_file, end_pos, gtid, written = mark
        if written:
            out.flush()
        saved.record_end(end_file, end_pos, gtid, flush=written)
        guard.between()

    def cuts(state: object) -> list[Cut]:
        assert isinstance(state, list)
        return [(mark[0], b"", partial(moved, mark)) for mark in state]

    jobs, chunk_bytes = parallel
    with deferred_interrupts() as guard:
        guard.in_critical = True
        try:
            for data in reader.rendered_in_chunks(_MarkedJsonl(all_events, rows_only), cuts, jobs, chunk_bytes):
                write_jsonl_bytes(out, data)
        finally:
            guard.in_critical = False
        guard.raise_pending()
    out.flush()


def _emit_stream(app: AppContext, reader: FileTransactions, saved: FileCheckpoint | None, fmt: str,
                 all_events: bool, rows_only: bool) -> None:
    from mysqlinspect.cli.binlog.tail import _write_jsonl
    from mysqlinspect.render.binlog.tail import render_transaction  # here: rich's tables take 30 ms to import

    if saved is not None:
        reader.skipped = lambda txn: saved.record(txn, flush=False)
    out = sys.stdout
    count = 0
    with deferred_interrupts() as guard:
        for txn in reader:
            count += 1
            with guard.critical():  # output and checkpoint move together, even on Ctrl-C
                if fmt == "jsonl":
                    _write_jsonl(out, txn, all_events, rows_only)
                    if saved is not None:
                        out.flush()
                else:
                    app.emit(render_transaction(txn, all_events))
                if saved is not None:
                    saved.record(txn)
    out.flush()
    if fmt == "table":
        app.err.print(f"{count} transaction{'s' if count != 1 else ''}", style="dim", highlight=False)


def warn_file_ends(app: AppContext, ends: list[FileEnd]) -> None:
    """Files missing from a numbered sequence, and files whose valid data ends before their end."""
    for name in sequence_gaps([Path(e.path) for e in ends]):
        app.warn(f"{name} is missing from the sequence of files read: its transactions are not included")
    for end in ends:
        if not end.complete:
            app.warn(end.describe())
