"""`mysqlinspect binlog stats`: statistics over a binlog range (a header scan counting rows by default)."""

from __future__ import annotations

from typing import Any

import click

from mysqlinspect.binlog.position import FIRST_EVENT_POS
from mysqlinspect.binlog.read.fastscan import header_stats, scan_transactions
from mysqlinspect.binlog.read.filters import EventFilter
from mysqlinspect.binlog.read.local.stats import file_range_dict, file_stats
from mysqlinspect.binlog.read.local.transactions import check_file_range
from mysqlinspect.binlog.read.range import RangeSpec, StartSpec, resolve_range
from mysqlinspect.binlog.read.reader import RangeReader
from mysqlinspect.binlog.read.server.stream import Decoder, StreamOptions
from mysqlinspect.binlog.read.stats import StatsAccumulator
from mysqlinspect.binlog.replay.schema_lookup import InformationSchemaLookup
from mysqlinspect.binlog.source.server_files import binlog_files
from mysqlinspect.cli.binlog.options import (
    binlog_decoder_option,
    binlog_file_arguments,
    binlog_filter_options,
    binlog_range_options,
    binlog_stream_options,
    refuse_taken_server_id,
)
from mysqlinspect.cli.binlog.tail_files import warn_file_ends
from mysqlinspect.cli.context import AppContext, pass_app
from mysqlinspect.cli.options import connection_options, output_options
from mysqlinspect.connection.server import detect_server
from mysqlinspect.connection.settings import CommandLineOptions
from mysqlinspect.errors import UsageError
from mysqlinspect.render.binlog.stats import render_binlog_stats


@click.command()
@binlog_file_arguments
@connection_options
@binlog_range_options(follow=False)
@binlog_filter_options
@binlog_stream_options
@binlog_decoder_option
@output_options("table", "json")
@click.option("--headers-only", is_flag=True,
              help="Fastest: event headers only, no row counts (rows are null).")
@click.option("--decode", "--rows", "decode", is_flag=True,
              help="Decode every row event with the full decoder (slowest; by default rows are counted from the "
                   "Table_map's column types without decoding values).")
@click.option("--top", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="How many of the largest/longest transactions to list.")
@pass_app
def stats(app: AppContext, files: tuple[str, ...], verify_checksum: bool, conn_opts: CommandLineOptions,
          range_spec: RangeSpec, event_filter: EventFilter, replica_server_id: int | None, decoder: Decoder,
          output_format: str, headers_only: bool, decode: bool, top: int) -> None:
    """Per table/op counts, transaction sizes and durations, largest transactions, DDL timeline, server ids.

    Covers the whole log on the server unless a range is given. With FILE or DIR arguments it reads local
    binlog/relay-log files (.gz/.zst copies too; a directory in its .index order) with no server.
    """
    if headers_only and decode:
        raise UsageError("--headers-only and --decode exclude each other")
    if files:
        _stats_files(app, files, verify_checksum, range_spec, event_filter, output_format, headers_only, decode, top)
        return
    settings = app.settings(conn_opts)
    conn = app.connect(settings)
    info = detect_server(conn)
    refuse_taken_server_id(conn, replica_server_id)
    if not range_spec.start.given and not range_spec.include_gtids and not range_spec.exclude_gtids:
        range_spec.start = StartSpec(file=_first_file(conn), pos=FIRST_EVENT_POS)
    rng = resolve_range(conn, settings, range_spec, info.flavor, warn=app.warn)
    acc = StatsAccumulator(fast_path=not decode, top=top, rows_counted=not headers_only)
    if decode:
        lookup = InformationSchemaLookup(settings)
        try:
            options = StreamOptions(server_id=replica_server_id, read_timeout=None, decoder=decoder)
            with RangeReader(settings, rng, event_filter, options=options, lookup=lookup, warn=app.warn) as reader:
                acc.add_all(reader.transactions())
        finally:
            lookup.close()
    elif event_filter.active or rng.uses_gate:
        acc.add_all(scan_transactions(settings, rng, event_filter, server_id=replica_server_id,
                                      count_rows=not headers_only))
    elif not rng.empty:
        header_stats(settings, rng, acc, server_id=replica_server_id)
    result = acc.build(rng.to_dict())
    app.emit_result(output_format, result, render_binlog_stats)


def _stats_files(app: AppContext, files: tuple[str, ...], verify_checksum: bool, range_spec: RangeSpec,
                 event_filter: EventFilter, output_format: str, headers_only: bool, decode: bool, top: int) -> None:
    check_file_range(range_spec)
    acc = StatsAccumulator(fast_path=not decode, top=top, rows_counted=not headers_only)
    ends = file_stats(files, range_spec, event_filter, acc, decode=decode, verify_checksum=verify_checksum,
                      warn=app.warn)
    warn_file_ends(app, ends)
    app.emit_result(output_format, acc.build(file_range_dict(range_spec, ends)), render_binlog_stats)


def _first_file(conn: Any) -> str:
    return binlog_files(conn)[0].name
