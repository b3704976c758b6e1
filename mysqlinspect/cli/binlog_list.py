"""`mysqlinspect binlog list`: binary log files, event times, GTIDs, write position and expiry."""

from __future__ import annotations

import click

from mysqlinspect.cli.context import AppContext, pass_app
from mysqlinspect.cli.options import connection_options, output_options
from mysqlinspect.collectors.binlog import collect_binlog_listing
from mysqlinspect.connection.server import detect_server
from mysqlinspect.connection.settings import CommandLineOptions
from mysqlinspect.render.binlog_list import render_binlog_listing


@click.command(name="list")
@connection_options
@output_options("table", "json")
@click.option("--no-probe", is_flag=True,
              help="Only SHOW BINARY LOGS: skip reading each file's head and tail (event times, GTIDs).")
@pass_app
def list_binlogs(app: AppContext, conn_opts: CommandLineOptions, output_format: str, no_probe: bool) -> None:
    """Binary log files with sizes, first/last event times, GTIDs, the write position and expiry settings."""
    settings = app.settings(conn_opts)
    conn = app.connect(settings)
    listing = collect_binlog_listing(conn, settings, detect_server(conn), probe=not no_probe)
    app.emit_result(output_format, listing, render_binlog_listing)
