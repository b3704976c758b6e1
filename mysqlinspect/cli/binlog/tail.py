"""`mysqlinspect binlog tail`: stream binlog events as transactions (live view, JSON Lines or JSON)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from functools import partial
from typing import Any

import click

from mysqlinspect.binlog.model import Transaction
from mysqlinspect.binlog.read.filters import EventFilter
from mysqlinspect.binlog.read.preflight import PreflightIssue, preflight_issues
from mysqlinspect.binlog.read.range import RangeSpec, resolve_range
from mysqlinspect.binlog.read.reader import RangeReader
from mysqlinspect.binlog.read.server.stream import Decoder, RetryPolicy, StreamOptions
from mysqlinspect.binlog.replay.schema_lookup import InformationSchemaLookup
from mysqlinspect.cli.binlog.options import (
    binlog_decoder_option,
    binlog_file_arguments,
    binlog_filter_options,
    binlog_jobs_options,
    binlog_range_options,
    binlog_stream_options,
    refuse_taken_server_id,
)
from mysqlinspect.cli.context import AppContext, pass_app
from mysqlinspect.cli.interrupts import deferred_interrupts
from mysqlinspect.cli.options import connection_options
from mysqlinspect.connection.server import detect_server
from mysqlinspect.connection.settings import CommandLineOptions
from mysqlinspect.errors import UnsupportedServerError, UsageError
from mysqlinspect.render.binlog.json import transaction_document
from mysqlinspect.render.binlog.jsonl import transaction_jsonl_parts


def check_preflight(app: AppContext, issues: list[PreflightIssue], strict: bool) -> None:
    """Warn about every issue; with --strict, refuse when any of them makes the output incomplete."""
    for issue in issues:
        app.warn(issue.message)
    blocking = [i for i in issues if i.blocking]
    if strict and blocking:
        names = ", ".join(sorted({i.name for i in blocking}))
        raise UnsupportedServerError(f"refusing to read (--strict): {names} would make the output incomplete")


@click.command()
@binlog_file_arguments
@connection_options
@binlog_range_options(follow=True)
@binlog_filter_options
@binlog_stream_options
@binlog_decoder_option
@click.option("--format", "output_format", type=click.Choice(["auto", "table", "jsonl", "json"]), default="auto",
              show_default=True, help="table: live view; jsonl: one JSON object per line; json: one document "
                                      "(bounded ranges only). auto: table on a terminal, else jsonl.")
@click.option("--checkpoint", type=click.Path(dir_okay=False), metavar="FILE",
              help="Resume from FILE if it exists and record the position after each transaction in it.")
@click.option("--strict", is_flag=True, help="Refuse to read when settings make the output incomplete.")
@click.option("--all-events", is_flag=True, help="Also show structural events (GTID, BEGIN, Table_map, XID).")
@click.option("--rows-only", is_flag=True, help="jsonl: no per-transaction summary lines.")
@click.option("--retry-timeout", type=click.FloatRange(min=0), default=120.0, show_default=True,
              help="Seconds to keep reconnecting after the connection drops (0: fail at once).")
@binlog_jobs_options("--format jsonl, from local files or a bounded range of a server without --checkpoint")
@click.option("--schema-from", metavar="DSN",
              help="FILE|DIR: column names and keys of tables logged without binlog_row_metadata=FULL from this "
                   "server's current definitions (otherwise @1..@n, as mysqlbinlog shows them).")
@pass_app
def tail(app: AppContext, files: tuple[str, ...], conn_opts: CommandLineOptions, range_spec: RangeSpec,
         event_filter: EventFilter, replica_server_id: int | None, decoder: Decoder, output_format: str,
         checkpoint: str | None, strict: bool, all_events: bool, rows_only: bool, retry_timeout: float,
         verify_checksum: bool, jobs: int, chunk_bytes: int | None, schema_from: str | None) -> None:
    """Stream binlog events, grouped into transactions, with decoded rows.

    Starts at the current end of the log unless a --start-* option, --gtid or a GTID set is given; without
    --follow it stops at the end of the log as it was when it started. With FILE or DIR arguments it reads
    local binlog/relay-log files (.gz/.zst copies too; a directory in its .index order) with no server.
    """
    fmt = output_format if output_format != "auto" else ("table" if sys.stdout.isatty() else "jsonl")
    if fmt == "json" and range_spec.follow:
        raise UsageError("--format json needs a bounded range; use --format jsonl with --follow")
    if schema_from and not files:
        raise UsageError("--schema-from is for FILE|DIR arguments (a server has its own definitions)")
    if files:
        from mysqlinspect.cli.binlog.tail_files import tail_files

        if decoder == "library":
            raise UsageError("--decoder library needs a server; local files are read with the own decoder")
        from mysqlinspect.binlog.replay.apply import target_settings  # here: replay's modules take 45 ms to import

        schema = target_settings(schema_from, app.settings(conn_opts)) if schema_from else None
        tail_files(app, files, range_spec, event_filter, fmt, all_events, rows_only, verify_checksum, checkpoint,
                   (jobs, chunk_bytes), schema)
        return
    all_events = all_events or event_filter.event_types is not None
    settings = app.settings(conn_opts)
    conn = app.connect(settings)
    info = detect_server(conn)
    refuse_taken_server_id(conn, replica_server_id)
    check_preflight(app, preflight_issues(info, decoder=decoder), strict)
    rng = resolve_range(conn, settings, range_spec, info.flavor, warn=app.warn)
    if not (range_spec.start.given or range_spec.uses_gtids or range_spec.follow or checkpoint):
        app.warn("starting at the current end of the binary log without --follow: nothing to show "
                 "(add --follow, or a --start-file/--start-datetime/--gtid option)")
    lookup = InformationSchemaLookup(settings)
    options = StreamOptions(server_id=replica_server_id, blocking=range_spec.follow,
                            read_timeout=60.0 if range_spec.follow else None,
                            retry=RetryPolicy(give_up_after=retry_timeout, enabled=retry_timeout > 0),
                            decoder=decoder, verify_checksum=verify_checksum)
    with RangeReader(settings, rng, event_filter, options=options, lookup=lookup, warn=app.warn,
                     checkpoint_path=checkpoint, server_uuid=info.variable("server_uuid")) as reader:
        if reader.resumed_from is not None:
            saved = reader.resumed_from
            app.warn(f"resuming from checkpoint {checkpoint}: {saved.file}:{saved.pos} "
                     f"after {saved.transactions} transactions")
        try:
            _emit_all(app, reader, fmt, all_events, rows_only, (jobs, chunk_bytes))
        finally:
            lookup.close()


def _emit_all(app: AppContext, reader: RangeReader, fmt: str, all_events: bool, rows_only: bool,
              parallel: tuple[int, int | None]) -> None:
    out = sys.stdout
    follow = reader.range.follow
    if fmt == "jsonl" and parallel[0] > 1 and reader.parallel_safe:  # a bounded range without a checkpoint
        render = partial(transaction_jsonl_parts, all_events=all_events, with_summary=not rows_only)
        write_jsonl_blocks(out, reader.rendered(render, *parallel))
        return
    if fmt == "json":
        docs: list[dict[str, Any]] = []
        reader.hold_checkpoint()  # one document: the checkpoint moves only once it is out
        for txn in reader.transactions():
            docs.append(transaction_document(txn, all_events))
            reader.done(txn)
        app.emit_json({"range": reader.range.to_dict(), "transactions": docs,
                       "summary": {"transactions": len(docs), "rows": sum(d["rows"] for d in docs),
                                   "size_bytes": sum(d["size_bytes"] for d in docs),
                                   "reconnects": reader.stream.reconnects}})
        reader.release_checkpoint()
        return
    from mysqlinspect.render.binlog.tail import render_transaction  # here: rich's tables take 30 ms to import

    count = 0
    with deferred_interrupts() as guard:
        for txn in reader.transactions():
            count += 1
            with guard.critical():  # output and checkpoint move together, even on Ctrl-C
                if fmt == "jsonl":
                    _write_jsonl(out, txn, all_events, rows_only)
                    if follow or reader.checkpoint is not None:
                        out.flush()
                else:
                    app.emit(render_transaction(txn, all_events))
                reader.done(txn)
    out.flush()
    if fmt == "table":
        app.err.print(f"{count} transaction{'s' if count != 1 else ''}", style="dim", highlight=False)


def _write_jsonl(out: Any, txn: Transaction, all_events: bool, rows_only: bool) -> None:
    """One transaction's lines, written block by block as they are rendered (a large transaction is never held
    whole, as text or as events)."""
    for block in transaction_jsonl_parts(txn, all_events, with_summary=not rows_only):
        write_jsonl_bytes(out, block)


def write_jsonl_blocks(out: Any, blocks: Iterator[bytes]) -> None:
    """Blocks of JSON Lines (several transactions' lines, cut anywhere: the --jobs outputs) written as they come.
    Ctrl-C acts at once between lines; one that comes while a line is half written is taken at that line's end
    (the next block is written up to its first line end), so no line is left torn. The readers' children and files
    are released without a second Ctrl-C breaking in."""
    with deferred_interrupts() as guard:
        at_line_end = True
        try:
            while True:
                guard.in_critical = not at_line_end
                if at_line_end:
                    guard.raise_pending()  # one that came while a line was being written
                data = next(blocks, None)
                guard.in_critical = True
                if data is None:
                    break
                if guard.pending:  # came while waiting in the middle of a line
                    write_jsonl_bytes(out, data[: data.find(b"\n") + 1] if b"\n" in data else data)
                    if b"\n" in data:
                        break
                    continue
                write_jsonl_bytes(out, data)
                at_line_end = data.endswith(b"\n")
        finally:
            guard.in_critical = True
            close = getattr(blocks, "close", None)
            if close is not None:
                close()
            guard.in_critical = False
        out.flush()
        guard.raise_pending()


def write_jsonl_bytes(out: Any, data: bytes) -> None:
    """JSON Lines bytes to a text stream: straight to its binary buffer when it has one (nothing else writes text
    to it in jsonl mode, so there is no pending text to keep in order)."""
    if not data:
        return
    buffer = getattr(out, "buffer", None)
    if buffer is not None:
        buffer.write(data)
    else:
        out.write(data.decode("utf-8", "surrogateescape"))
