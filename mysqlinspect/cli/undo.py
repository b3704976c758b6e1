"""`mysqlinspect undo`: undo tablespaces, purge settings and lag, history list length, oldest transactions."""

from __future__ import annotations

import click

from mysqlinspect.cli.context import AppContext, pass_app
from mysqlinspect.cli.live_common import open_sources, require
from mysqlinspect.cli.options import connection_options, output_options
from mysqlinspect.collectors.undo import OLDEST_LIMIT, collect_undo_status
from mysqlinspect.connection.settings import CommandLineOptions
from mysqlinspect.render.undo import render_undo


@click.command()
@connection_options
@output_options("table", "json")
@click.option("--limit", type=click.IntRange(1, 1000), default=OLDEST_LIMIT, show_default=True,
              help="How many of the oldest active transactions to list.")
@pass_app
def undo(app: AppContext, conn_opts: CommandLineOptions, output_format: str, limit: int) -> None:
    """Undo tablespaces, truncation and purge settings, history list length, purge lag and the oldest active
    transactions (age, thread, rows modified, undo records, statement)."""
    src = open_sources(app, conn_opts)
    status = collect_undo_status(src.conn, src.info, src, limit=limit)
    require(status.history_list_length, "history list length", status.missing_grants)
    app.emit_result(output_format, status, render_undo)
