"""`mysqlinspect binlog list`: binary log files, event times, GTIDs, write position and expiry."""

from __future__ import annotations

import click

from mysqlinspect.cli.binlog.options import binlog_file_arguments
from mysqlinspect.cli.context import AppContext, pass_app
from mysqlinspect.cli.options import connection_options, output_options
from mysqlinspect.connection.settings import CommandLineOptions
from mysqlinspect.render.binlog.list_files import render_binlog_listing


@click.command(name="list")
@binlog_file_arguments
@connection_options
@output_options("table", "json")
@click.option("--no-probe", is_flag=True,
              help="Only SHOW BINARY LOGS: skip reading each file's head and tail (event times, GTIDs).")
@pass_app
def list_binlogs(app: AppContext, files: tuple[str, ...], verify_checksum: bool, conn_opts: CommandLineOptions,
                 output_format: str, no_probe: bool) -> None:
    """Binary log files with sizes, first/last event times, GTIDs, the write position and expiry settings.

    With FILE or DIR arguments it lists local binlog/relay-log files (.gz/.zst copies too; a directory in its
    .index order) with no server: also each file's server id and version, checksum, and whether it was closed,
    is still open or was cut (where valid data ends and what follows).
    """
    if files:
        from mysqlinspect.collectors.binlog_files import collect_file_listing

        listing = collect_file_listing(files, verify_checksum)
        app.emit_result(output_format, listing, render_binlog_listing)
        return
    from mysqlinspect.collectors.binlog import collect_binlog_listing
    from mysqlinspect.connection.server import detect_server

    settings = app.settings(conn_opts)
    conn = app.connect(settings)
    listing = collect_binlog_listing(conn, settings, detect_server(conn), probe=not no_probe)
    app.emit_result(output_format, listing, render_binlog_listing)
